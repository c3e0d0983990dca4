import Foundation
import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

/// `Tests/Fixtures/optim_golden.json`, written by `Tests/Fixtures/make_optim_golden.py` from
/// PyTorch in float64: two parameters, three fixed gradients (the second parameter has none
/// at the second step), the parameters after each step for each optimizer, clipping results
/// and scheduler learning rates.
struct OptimGolden: Decodable {
    struct OptimizerCase: Decodable {
        let name: String
        let kind: String
        let settings: [String: Double]
        let flags: [String: Bool]
        /// steps[step][parameter] = flattened values after that step.
        let steps: [[[Double]]]
    }
    struct ClipCase: Decodable {
        let name: String
        let kind: String
        let normType: Double?
        let maxNorm: Double?
        let clipValue: Double?
        let gradients: [[Double]]
        let totalNorm: Double?
        let clipped: [[Double]]
    }
    struct ScheduleCase: Decodable {
        let kind: String
        let arguments: [String: Double]
        let learningRates: [Double]
    }
    let torchVersion: String
    let shapes: [[Int]]
    let initial: [[Double]]
    /// gradients[step][parameter], nil where PyTorch's `grad` was None.
    let gradients: [[[Double]?]]
    let optimizers: [OptimizerCase]
    let clipping: [ClipCase]
    let schedules: [ScheduleCase]

    static func load() throws -> OptimGolden {
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("optim_golden.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(OptimGolden.self, from: data)
    }
}

/// The optimizer PyTorch ran, built with the same settings; settings PyTorch was not given
/// are left to GradOptim's defaults, which must therefore equal PyTorch's.
func makeOptimizer<T: TensorScalar>(
    _ golden: OptimGolden.OptimizerCase, _ parameters: [Parameter<T>]
) throws -> any Optimizer<T> {
    let s = golden.settings.mapValues { T($0) }
    let flag = { (name: String) in golden.flags[name] ?? false }
    switch golden.kind {
    case "sgd":
        return try SGD(parameters: parameters, learningRate: s["lr"]!, momentum: s["momentum"] ?? 0,
                       dampening: s["dampening"] ?? 0, weightDecay: s["weight_decay"] ?? 0,
                       nesterov: flag("nesterov"))
    case "adam" where s.isEmpty:
        return try Adam(parameters: parameters)
    case "adam":
        return try Adam(parameters: parameters, learningRate: s["lr"]!, beta1: s["beta1"] ?? 0.9,
                        beta2: s["beta2"] ?? 0.999, epsilon: s["eps"] ?? 1e-8,
                        weightDecay: s["weight_decay"] ?? 0, amsgrad: flag("amsgrad"))
    case "adamw" where s.isEmpty:
        return try AdamW(parameters: parameters)
    case "adamw":
        return try AdamW(parameters: parameters, learningRate: s["lr"]!, beta1: s["beta1"] ?? 0.9,
                         beta2: s["beta2"] ?? 0.999, epsilon: s["eps"] ?? 1e-8,
                         weightDecay: s["weight_decay"] ?? 1e-2, amsgrad: flag("amsgrad"))
    case "rmsprop" where Set(s.keys) == ["lr"]:
        return try RMSprop(parameters: parameters, learningRate: s["lr"]!)
    case "rmsprop":
        return try RMSprop(parameters: parameters, learningRate: s["lr"]!, alpha: s["alpha"] ?? 0.99,
                           epsilon: s["eps"] ?? 1e-8, weightDecay: s["weight_decay"] ?? 0,
                           momentum: s["momentum"] ?? 0, centered: flag("centered"))
    case "adagrad" where s.isEmpty:
        return try Adagrad(parameters: parameters)
    case "adagrad":
        return try Adagrad(parameters: parameters, learningRate: s["lr"]!,
                           learningRateDecay: s["lr_decay"] ?? 0, weightDecay: s["weight_decay"] ?? 0,
                           initialAccumulatorValue: s["initial_accumulator_value"] ?? 0,
                           epsilon: s["eps"] ?? 1e-10)
    default:
        throw GoldenError.unknownKind(golden.kind)
    }
}

enum GoldenError: Error { case unknownKind(String) }

/// Tolerances: 1e-10 relative in Double; 1e-5 relative in Float (plus a tiny absolute term
/// for values that pass near zero).
func goldenTolerance<T: TensorScalar>(_: T.Type) -> (rtol: Double, atol: Double) {
    T.self == Float.self ? (1e-5, 1e-6) : (1e-10, 1e-13)
}

@Suite("PyTorch golden values")
struct PyTorchGoldenTests {
    @Test func fixtureCoversEveryOptimizer() throws {
        let golden = try OptimGolden.load()
        #expect(Set(golden.optimizers.map(\.kind)) == ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
        #expect(golden.gradients.count == 3 && golden.gradients[1][1] == nil)
        #expect(golden.clipping.count >= 4 && golden.schedules.count == 4)
    }

    @Test(arguments: bothPrecisions)
    func optimizersMatchPyTorch(_ type: any TensorScalar.Type) throws {
        try checkOptimizers(type)
    }
    func checkOptimizers<T: TensorScalar>(_: T.Type) throws {
        let fixture = try OptimGolden.load()
        let (rtol, atol) = goldenTolerance(T.self)
        for testCase in fixture.optimizers {
            let parameters = zip(fixture.shapes, fixture.initial).map { shape, values in
                Parameter(Tensor<T>(shape: shape, scalars: values.map { T($0) }))
            }
            let optimizer = try makeOptimizer(testCase, parameters)
            for (step, gradients) in fixture.gradients.enumerated() {
                for (parameter, gradient) in zip(parameters, gradients) { setGradient(parameter, gradient) }
                optimizer.step()
                for (index, parameter) in parameters.enumerated() {
                    expectClose(valuesOf(parameter), testCase.steps[step][index], rtol: rtol, atol: atol,
                                "\(T.self) \(testCase.name) step \(step + 1) parameter \(index):")
                }
            }
        }
    }

    @Test(arguments: bothPrecisions)
    func clippingMatchesPyTorch(_ type: any TensorScalar.Type) throws {
        try checkClipping(type)
    }
    func checkClipping<T: TensorScalar>(_: T.Type) throws {
        let golden = try OptimGolden.load()
        let (rtol, atol) = goldenTolerance(T.self)
        for clip in golden.clipping {
            let parameters = clip.gradients.map { g -> Parameter<T> in
                let p = makeParameter(Array(repeating: 0, count: g.count), as: T.self)
                setGradient(p, g)
                return p
            }
            if clip.kind == "norm" {
                let total = try clipGradNorm(parameters, maxNorm: T(clip.maxNorm!), normType: T(clip.normType!))
                #expect(isClose(Double(total), clip.totalNorm!, rtol: rtol), "\(T.self) \(clip.name): norm \(total)")
            } else {
                clipGradValue(parameters, clipValue: T(clip.clipValue!))
            }
            for (index, parameter) in parameters.enumerated() {
                expectClose(gradientOf(parameter)!, clip.clipped[index], rtol: rtol, atol: atol,
                            "\(T.self) \(clip.name) parameter \(index):")
            }
        }
    }

    @Test func schedulesMatchPyTorch() throws {
        let golden = try OptimGolden.load()
        for case_ in golden.schedules {
            let a = case_.arguments
            let schedule: any LearningRateSchedule
            switch case_.kind {
            case "step": schedule = try StepLR(initial: a["initial"]!, stepSize: Int(a["step_size"]!), gamma: a["gamma"]!)
            case "exponential": schedule = try ExponentialLR(initial: a["initial"]!, gamma: a["gamma"]!)
            case "cosine": schedule = try CosineAnnealingLR(initial: a["initial"]!, tMax: Int(a["t_max"]!), etaMin: a["eta_min"]!)
            case "linear":
                schedule = try LinearWarmup(initial: a["initial"]!, warmupEpochs: Int(a["warmup_epochs"]!),
                                            startFactor: a["start_factor"]!, endFactor: a["end_factor"]!)
            default: throw GoldenError.unknownKind(case_.kind)
            }
            expectClose(schedule.learningRates(epochs: case_.learningRates.count), case_.learningRates,
                        rtol: 1e-10, atol: 1e-15, "\(case_.kind):")
        }
    }
}
