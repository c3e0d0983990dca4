import Foundation
import GradDoctor
import GradNN
import GradTensor
import GradTestSupport
import Testing

/// `y = x ⊙ scale` (scale broadcast over the batch) whose pullback for `scale` is corrupted
/// elementwise by `corrupt`, to see the gradient check catch a wrong derivative.
private final class FaultyScale: Module {
    typealias Scalar = Double
    let scale: Parameter<Double>
    let corrupt: @Sendable (Double) -> Double
    var isTraining = true
    let hooks = ModuleHooks<Double>()

    init(_ values: [Double], corrupt: @escaping @Sendable (Double) -> Double) {
        scale = Parameter(Tensor(values))
        self.corrupt = corrupt
    }

    func forward(_ input: Tensor<Double>) -> Tensor<Double> {
        let s = scale.value
        var out = input.detached() * s.detached()
        if Tensor.needsRecording([input, s]) {
            let x = input.detached(), saved = s.detached(), corrupt = corrupt
            out.record("faultyScale", inputs: [input, s]) { g in
                let right = (g * x).sum(toShape: saved.shape)
                return [g * saved, Tensor(shape: saved.shape, scalars: right.scalars.map(corrupt))]
            }
        }
        return out
    }

    var namedParameters: [(String, Parameter<Double>)] { [("scale", scale)] }
}

@Suite struct ModelGradientCheckTests {
    static func data(seed: UInt64) -> (Tensor<Double>, Tensor<Double>) {
        let generator = RandomGenerator(seed: seed)
        return (.normal([6, 3], generator: generator), .normal([6, 2], generator: generator))
    }

    @Test func aCorrectModelPasses() throws {
        let generator = RandomGenerator(seed: 1)
        let model = Sequential<Double>.mlp(inputSize: 3, hiddenSizes: [5, 4], outputSize: 2, activation: .tanh, generator: generator)
        let (x, y) = Self.data(seed: 2)
        let report = try ModelGradientCheck().run(on: model) { meanSquaredError(predictions: $0(x), targets: y) }
        #expect(report.passed, "\(report)")
        #expect(report.lossIsDeterministic)
        #expect(Set(report.parameters.map(\.name)) == Set(model.namedParameters.map(\.0)))
        #expect(report.parameters.count == 6)
        #expect(zip(report.parameters, report.parameters.dropFirst()).allSatisfy { $0.worstRatio >= $1.worstRatio },
                "not sorted worst first")
        for entry in report.parameters {
            #expect(entry.checkedElementCount == entry.elementCount)
            #expect(entry.passed)
            #expect(entry.maxAbsoluteError < 1e-8, "\(entry)")
            #expect(entry.maxNumericMagnitude > 0, "\(entry.name) has an all-zero gradient")
            #expect(entry.hasAnalyticGradient)
        }
        #expect(report["0.weight"]?.shape == [5, 3])
        #expect(isClose(report.loss, withoutGradient { meanSquaredError(predictions: model(x), targets: y).scalar }, rtol: 1e-15))
    }

    @Test func aWrongPullbackIsReportedWorstAndLocated() throws {
        let generator = RandomGenerator(seed: 3)
        let faulty = FaultyScale([0.5, -1.2, 0.8, 1.5], corrupt: { $0 })
        let model = Sequential<Double>(Linear(3, 4, generator: generator), Tanh(), faulty, Linear(4, 2, generator: generator))
        let (x, y) = Self.data(seed: 4)
        let loss: (Sequential<Double>) -> Tensor<Double> = { meanSquaredError(predictions: $0(x), targets: y) }
        #expect(try ModelGradientCheck().run(on: model, loss: loss).passed, "the uncorrupted model must pass")

        // Every element of the scale's gradient 50% too large.
        let broken = Sequential<Double>(
            Linear(3, 4, generator: generator), Tanh(), FaultyScale([0.5, -1.2, 0.8, 1.5], corrupt: { $0 * 1.5 }),
            Linear(4, 2, generator: generator))
        let report = try ModelGradientCheck().run(on: broken, loss: loss)
        #expect(!report.passed)
        let worst = try #require(report.worst)
        #expect(worst.name == "2.scale")
        #expect(!worst.passed)
        #expect(isClose(worst.worstAnalytic, 1.5 * worst.worstNumeric, rtol: 1e-6), "\(worst)")
        #expect(isClose(worst.maxRelativeError, 1 / 3, rtol: 1e-5))
        // The layers around it are still right: their gradients do not go through the corruption.
        for entry in report.parameters where entry.name != "2.scale" { #expect(entry.passed, "\(entry)") }
        #expect(report.description.contains("FAILED"))
    }

    @Test func anInfiniteGradientIsWorstAndSurvivesJSON() throws {
        let generator = RandomGenerator(seed: 5)
        let model = Sequential<Double>(Linear(3, 2, generator: generator), FaultyScale([1, 2], corrupt: { _ in .infinity }))
        let (x, _) = Self.data(seed: 6)
        let report = try ModelGradientCheck().run(on: model) { $0(x).squared().sum() }
        let worst = try #require(report.worst)
        #expect(worst.name == "1.scale")
        #expect(worst.worstRatio == .infinity)
        #expect(worst.maxAbsoluteError == .infinity)
        let data = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let first = try #require((object["parameters"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "1.scale")
        #expect(first["worst_ratio"] as? String == "inf")
        #expect(first["passed"] as? Bool == false)
        #expect(object["passed"] as? Bool == false)
        #expect(try JSONDecoder().decode(ModelGradientCheckReport.self, from: data) == report)
    }

    @Test func anyModuleAndNamedParametersCanBeChecked() throws {
        let generator = RandomGenerator(seed: 13)
        let model: any Module<Double> = Sequential<Double>.mlp(
            inputSize: 2, hiddenSizes: [3], outputSize: 1, activation: .sigmoid, generator: generator)
        let x = Tensor<Double>.normal([4, 2], generator: generator)
        let report = try ModelGradientCheck().run(parameters: model.namedParameters) { model(x).squared().sum() }
        #expect(report.passed, "\(report)")
        #expect(report.parameters.map(\.name).sorted() == ["0.bias", "0.weight", "2.bias", "2.weight"])
    }

    @Test func largeParametersCanBeSampled() throws {
        let generator = RandomGenerator(seed: 7)
        let model = Sequential<Double>(Linear(10, 8, generator: generator), Sigmoid(), Linear(8, 1, generator: generator))
        let x = Tensor<Double>.normal([4, 10], generator: generator)
        let check = try ModelGradientCheck(maximumElementsPerParameter: 3, seed: 11)
        let report = try check.run(on: model) { $0(x).sum() }
        #expect(report.passed, "\(report)")
        #expect(report["0.weight"]?.checkedElementCount == 3)
        #expect(report["0.weight"]?.elementCount == 80)
        #expect(report["2.bias"]?.checkedElementCount == 1)
        #expect(report["0.weight"]?.description.contains("3 of 80 elements") == true)
    }

    @Test func parametersAndGradientsAreRestored() throws {
        let generator = RandomGenerator(seed: 8)
        let model = Sequential<Double>(Linear(3, 3, generator: generator), ReLU(), Linear(3, 1, generator: generator))
        let x = Tensor<Double>.normal([5, 3], generator: generator)
        model(x).sum().backward()
        let valuesBefore = model.parameters.map(\.value.scalars)
        let gradientsBefore = model.parameters.map { $0.grad?.scalars }
        _ = try ModelGradientCheck().run(on: model) { $0(x).squared().mean() }
        #expect(model.parameters.map(\.value.scalars) == valuesBefore)
        #expect(model.parameters.map { $0.grad?.scalars } == gradientsBefore)
    }

    @Test func aRandomLossIsFlaggedAsNotDeterministic() throws {
        let generator = RandomGenerator(seed: 9)
        let model = Sequential<Double>(Linear(2, 2, generator: generator))
        let x = Tensor<Double>.normal([3, 2], generator: generator)
        let noise = RandomGenerator(seed: 10)
        let report = try ModelGradientCheck().run(on: model) { $0(x).sum() + Tensor(noise.nextNormal()) }
        #expect(!report.lossIsDeterministic)
        #expect(!report.passed)
        #expect(report.description.contains("not deterministic"))
    }

    @Test func badSettingsAndLossesAreTypedErrors() throws {
        #expect(throws: ModelGradientCheckError.invalidStep(0)) { try ModelGradientCheck(step: 0) }
        #expect(throws: ModelGradientCheckError.invalidTolerance(name: "relative tolerance", value: -1)) {
            try ModelGradientCheck(relativeTolerance: -1)
        }
        #expect(throws: ModelGradientCheckError.invalidSampleSize(0)) { try ModelGradientCheck(maximumElementsPerParameter: 0) }
        let generator = RandomGenerator(seed: 12)
        let model = Sequential<Double>(Linear(2, 2, generator: generator))
        let x = Tensor<Double>.normal([3, 2], generator: generator)
        #expect(throws: ModelGradientCheckError.lossNotScalar(shape: [3, 2])) { try ModelGradientCheck().run(on: model) { $0(x) } }
        #expect(throws: ModelGradientCheckError.noParameters) {
            try ModelGradientCheck().run(on: Sequential<Double>(Tanh())) { $0(x).sum() }
        }
    }
}
