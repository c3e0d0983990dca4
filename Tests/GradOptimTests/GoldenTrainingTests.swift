import Foundation
import Testing
import GradTensor
import GradNN
import GradOptim
import GradTestSupport

// Golden training steps from PyTorch (`Tests/Fixtures/make_golden_mlp.py` writes
// `Tests/Fixtures/golden_mlp_training.json`): the 4-layer MLP 3 → 5 → 4 → 6 → 3 of the
// golden MLP tests trained for 3 steps on one batch with SGD (plain, momentum, dampening,
// Nesterov with weight decay) and Adam (plain, AMSGrad with weight decay), with
// `clip_grad_norm_` or `clip_grad_value_` before the step in some cases. The loss before each
// step, the norm `clipGradNorm` returns and every parameter after each step must agree:
// - Double against PyTorch float64: |got − expected| ≤ 1e-12 + 1e-10·|expected|;
// - Float against PyTorch float32 (same weights rounded to Float): ≤ 1e-6 + 1e-5·|expected|,
//   and against PyTorch float64 with the same Float tolerance.
// The script checks that PyTorch's float32 values are within a quarter of that Float
// tolerance of its float64 ones, so the Float comparison measures GradLab, not noise, and
// that no gradient lies within 1e-4 of the clip value ±c nor any ReLU input within 1e-4 of 0.

// MARK: - Fixture format

private struct FixtureLayer: Decodable, Sendable {
    let type: String
    let approximate: String?
}

private struct FixtureOptimizer: Decodable, Sendable {
    let type: String
    let lr: Double
    let momentum: Double?
    let dampening: Double?
    let weightDecay: Double
    let nesterov: Bool?
    let beta1: Double?
    let beta2: Double?
    let eps: Double?
    let amsgrad: Bool?

    enum CodingKeys: String, CodingKey {
        case type, lr, momentum, dampening, nesterov, beta1, beta2, eps, amsgrad
        case weightDecay = "weight_decay"
    }
}

private struct FixtureClip: Decodable, Sendable {
    let type: String
    let maxNorm: Double?
    let normType: Double?
    let clipValue: Double?

    enum CodingKeys: String, CodingKey {
        case type
        case maxNorm = "max_norm", normType = "norm_type", clipValue = "clip_value"
    }
}

/// What PyTorch computed over the steps of one case in one precision.
private struct FixtureTrajectory: Decodable, Sendable {
    let losses: [Double]
    let parametersAfterStep: [[String: FixtureTensor]]
    let clipNorms: [Double]?

    enum CodingKeys: String, CodingKey {
        case losses
        case parametersAfterStep = "parameters_after_step", clipNorms = "clip_norms"
    }
}

private struct FixtureTrainingCase: Decodable, Sendable {
    let name: String
    let activation: String
    let layer: FixtureLayer
    let loss: String
    let optimizer: FixtureOptimizer
    let clip: FixtureClip?
    let steps: Int
    let float64: FixtureTrajectory
    let float32: FixtureTrajectory
}

private struct TrainingFixture: Decodable, Sendable {
    let widths: [Int]
    let input: FixtureTensor
    let targets: FixtureTensor
    let labels: [Int]
    let huberDelta: Double
    let baseParameters: [String: FixtureTensor]
    let training: [FixtureTrainingCase]

    enum CodingKeys: String, CodingKey {
        case widths, input, targets, labels, training
        case baseParameters = "base_parameters", huberDelta = "huber_delta"
    }

    static let shared = Result<TrainingFixture, any Error> {
        let url = fixturesDirectory.appendingPathComponent("golden_mlp_training.json")
        return try JSONDecoder().decode(TrainingFixture.self, from: Data(contentsOf: url))
    }
}

private enum FixtureError: Error { case unsupported(String) }

// MARK: - Tests

@Suite("GoldenTrainingTests")
struct GoldenTrainingTests {
    enum Precision: String, CaseIterable, Sendable { case float64, float32 }

    /// Every training case the fixture holds (checked against the fixture below).
    static let cases = [
        "sgd", "sgd_momentum", "sgd_momentum_dampening", "sgd_nesterov_weight_decay", "adam",
        "adam_amsgrad_weight_decay", "adam_clip_norm", "adam_clip_value", "sgd_momentum_clip_norm",
    ]

    @Test("the fixture holds exactly the cases tested here")
    func fixtureCoversEveryCase() throws {
        let fixture = try TrainingFixture.shared.get()
        #expect(fixture.training.map(\.name) == Self.cases)
        for c in fixture.training {
            #expect(c.float64.parametersAfterStep.count == c.steps && c.float32.parametersAfterStep.count == c.steps)
        }
    }

    @Test("losses, clip norms and every parameter after each of 3 optimizer steps match PyTorch",
          arguments: cases, Precision.allCases)
    func training(_ name: String, _ precision: Precision) throws {
        let fixture = try TrainingFixture.shared.get()
        let golden = try #require(fixture.training.first { $0.name == name })
        let label = "\(name), \(precision)"
        switch precision {
        case .float64:
            try run(Double.self, fixture, golden, golden.float64, label: label, rtol: 1e-10, atol: 1e-12)
        case .float32:
            try run(Float.self, fixture, golden, golden.float32, label: label, rtol: 1e-5, atol: 1e-6)
            try run(Float.self, fixture, golden, golden.float64, label: label + " against float64", rtol: 1e-5, atol: 1e-6)
        }
    }

    /// Trains the GradNN MLP in `S` for the case's steps, comparing with `expected` after each.
    private func run<S: TensorScalar>(
        _: S.Type, _ fixture: TrainingFixture, _ golden: FixtureTrainingCase, _ expected: FixtureTrajectory,
        label: String, rtol: S, atol: S
    ) throws {
        let model = try makeMLP(S.self, widths: fixture.widths, layer: golden.layer, parameters: fixture.baseParameters)
        let optimizer = try makeOptimizer(golden.optimizer, model.parameters)
        let input = fixture.input.tensor(S.self)
        #expect(expected.losses.count == golden.steps && expected.parametersAfterStep.count == golden.steps)

        for step in 0..<golden.steps {
            optimizer.zeroGrad()
            let output = model(input)
            let loss = try lossValue(golden.loss, output: output, fixture: fixture)
            #expect(isClose(loss.scalar, S(expected.losses[step]), rtol: rtol, atol: atol),
                    "\(label), step \(step + 1): loss \(loss.scalar) ≠ PyTorch's \(expected.losses[step])")
            loss.backward()

            if let clip = golden.clip {
                switch clip.type {
                case "norm":
                    let norm = try clipGradNorm(model.parameters, maxNorm: S(try #require(clip.maxNorm)),
                                                normType: S(try #require(clip.normType)))
                    let want = try #require(expected.clipNorms?[step])
                    #expect(isClose(norm, S(want), rtol: rtol, atol: atol),
                            "\(label), step \(step + 1): clipGradNorm returned \(norm), PyTorch's norm is \(want)")
                case "value":
                    clipGradValue(model.parameters, clipValue: S(try #require(clip.clipValue)))
                default:
                    Issue.record("unknown clip type '\(clip.type)' in the fixture")
                    throw FixtureError.unsupported(clip.type)
                }
            }
            optimizer.step()

            let want = expected.parametersAfterStep[step]
            #expect(Set(want.keys) == Set(model.namedParameters.map { $0.0 }))
            for (parameterName, parameter) in model.namedParameters {
                let value = try #require(want[parameterName])
                let problem = mismatch(parameter.value.detached(), value.tensor(S.self), rtol: rtol, atol: atol)
                #expect(problem == nil, "\(label), after step \(step + 1): \(parameterName): \(problem ?? "")")
            }
        }
    }

    private func makeOptimizer<S: TensorScalar>(_ spec: FixtureOptimizer, _ parameters: [Parameter<S>]) throws -> any Optimizer<S> {
        switch spec.type {
        case "sgd":
            return try SGD(parameters: parameters, learningRate: S(spec.lr), momentum: S(try #require(spec.momentum)),
                           dampening: S(try #require(spec.dampening)), weightDecay: S(spec.weightDecay),
                           nesterov: try #require(spec.nesterov as Bool?))
        case "adam":
            return try Adam(parameters: parameters, learningRate: S(spec.lr), beta1: S(try #require(spec.beta1)),
                            beta2: S(try #require(spec.beta2)), epsilon: S(try #require(spec.eps)),
                            weightDecay: S(spec.weightDecay), amsgrad: try #require(spec.amsgrad as Bool?))
        default:
            Issue.record("unknown optimizer '\(spec.type)' in the fixture")
            throw FixtureError.unsupported(spec.type)
        }
    }

    /// `Linear, activation, ..., Linear` with the fixture's widths and parameter values by name.
    private func makeMLP<S: TensorScalar>(
        _: S.Type, widths: [Int], layer: FixtureLayer, parameters: [String: FixtureTensor]
    ) throws -> Sequential<S> {
        let generator = RandomGenerator(seed: 0)
        var layers: [any Module<S>] = []
        for i in 0..<(widths.count - 1) {
            layers.append(Linear<S>(widths[i], widths[i + 1], generator: generator))
            if i < widths.count - 2 {
                switch layer.type {
                case "sigmoid": layers.append(Sigmoid<S>())
                case "tanh": layers.append(Tanh<S>())
                case "relu": layers.append(ReLU<S>())
                case "gelu": layers.append(GELU<S>(approximateTanh: layer.approximate == "tanh"))
                default:
                    Issue.record("activation '\(layer.type)' is not built by this test")
                    throw FixtureError.unsupported(layer.type)
                }
            }
        }
        let model = Sequential<S>(layers)
        #expect(Set(model.namedParameters.map { $0.0 }) == Set(parameters.keys))
        for (name, parameter) in model.namedParameters {
            parameter.assign(try #require(parameters[name]).tensor(S.self))
        }
        return model
    }

    /// The loss the case names, with mean reduction.
    private func lossValue<S: TensorScalar>(_ kind: String, output: Tensor<S>, fixture: TrainingFixture) throws -> Tensor<S> {
        switch kind {
        case "mse": return meanSquaredError(predictions: output, targets: fixture.targets.tensor())
        case "huber": return huberLoss(predictions: output, targets: fixture.targets.tensor(), delta: S(fixture.huberDelta))
        case "cross_entropy": return crossEntropy(logits: output, labels: fixture.labels)
        default:
            Issue.record("loss '\(kind)' is not built by this test")
            throw FixtureError.unsupported(kind)
        }
    }
}
