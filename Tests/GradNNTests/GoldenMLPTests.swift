import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Golden values from PyTorch (`Tests/Fixtures/make_golden_mlp.py` writes
// `Tests/Fixtures/golden_mlp.json`): a 4-layer MLP 3 → 5 → 4 → 6 → 3 on a batch of 7 rows,
// once per activation (MSE loss) and once per loss (tanh MLP). For each case the forward
// output, the loss and every parameter gradient must agree with PyTorch:
// - Double against PyTorch float64: |got − expected| ≤ 1e-12 + 1e-10·|expected|;
// - Float against PyTorch float32 (same weights rounded to Float): ≤ 1e-6 + 1e-5·|expected|,
//   and against PyTorch float64 with the same Float tolerance (GradLab's Float results must
//   be that accurate, whatever rounding PyTorch's float32 run happened to make).
// The absolute terms only matter for values near zero (the values here are of order 0.001–40).
// The script checks that PyTorch's float32 results lie within a quarter of the Float tolerance
// of its float64 ones (inputs where float32 is mere rounding noise, such as the derivative of a
// deeply saturated tanh, would make the Float comparison meaningless), and that no input of a
// kinked function (ReLU at 0, Hardtanh at its bounds, L1 at 0, Huber at δ, clipping at ±c)
// lies within 1e-4 of the kink.

// MARK: - Fixture format

/// An activation layer as the fixture describes it (PyTorch's argument names).
private struct GoldenLayer: Decodable, Sendable {
    let type: String
    let negativeSlope: Double?
    let alpha: Double?
    let approximate: String?
    let beta: Double?
    let threshold: Double?
    let minValue: Double?
    let maxValue: Double?

    enum CodingKeys: String, CodingKey {
        case type, alpha, approximate, beta, threshold
        case negativeSlope = "negative_slope", minValue = "min_val", maxValue = "max_val"
    }
}

/// What PyTorch computed for one case in one precision.
private struct GoldenResult: Decodable, Sendable {
    let output: FixtureTensor
    let loss: Double
    let grads: [String: FixtureTensor]
}

private struct GoldenActivationCase: Decodable, Sendable {
    let name: String
    let layer: GoldenLayer
    let loss: String
    let reduction: String
    let parameters: [String: FixtureTensor]
    let float64: GoldenResult
    let float32: GoldenResult
}

private struct GoldenLossCase: Decodable, Sendable {
    let name: String
    let loss: String
    let reduction: String
    let activation: String
    let delta: Double?
    let float64: GoldenResult
    let float32: GoldenResult
}

private struct GoldenNumberProbe: Decodable, Sendable {
    let values: [Double]
    let bits: [String]
}

private struct GoldenMLPFixture: Decodable, Sendable {
    let widths: [Int]
    let input: FixtureTensor
    let targets: FixtureTensor
    let binaryTargets: FixtureTensor
    let labels: [Int]
    let numberProbe: GoldenNumberProbe
    let baseParameters: [String: FixtureTensor]
    let activations: [GoldenActivationCase]
    let losses: [GoldenLossCase]

    enum CodingKeys: String, CodingKey {
        case widths, input, targets, labels, activations, losses
        case binaryTargets = "binary_targets", numberProbe = "number_probe", baseParameters = "base_parameters"
    }

    static let shared = Result<GoldenMLPFixture, any Error> {
        let url = fixturesDirectory.appendingPathComponent("golden_mlp.json")
        return try JSONDecoder().decode(GoldenMLPFixture.self, from: Data(contentsOf: url))
    }
}

// MARK: - Building the GradNN equivalent

/// The activation layer the fixture describes; `parameterCount` is the PReLU slope count.
private func goldenActivationLayer<S: TensorScalar>(_ layer: GoldenLayer, parameterCount: Int) throws -> any Module<S> {
    switch layer.type {
    case "sigmoid": return Sigmoid<S>()
    case "tanh": return Tanh<S>()
    case "relu": return ReLU<S>()
    case "leaky_relu": return LeakyReLU<S>(negativeSlope: S(try #require(layer.negativeSlope)))
    case "prelu": return PReLU<S>(parameterCount: parameterCount)
    case "elu": return ELU<S>(alpha: S(try #require(layer.alpha)))
    case "selu": return SELU<S>()
    case "gelu": return GELU<S>(approximateTanh: try #require(layer.approximate) == "tanh")
    case "softplus": return Softplus<S>(beta: S(try #require(layer.beta)), threshold: S(try #require(layer.threshold)))
    case "silu": return SiLU<S>()
    case "hardtanh": return Hardtanh<S>(minValue: S(try #require(layer.minValue)), maxValue: S(try #require(layer.maxValue)))
    case "softsign": return Softsign<S>()
    case "identity": return Identity<S>()
    default:
        Issue.record("unknown activation type '\(layer.type)' in the fixture")
        throw GoldenError.unknown(layer.type)
    }
}

private enum GoldenError: Error { case unknown(String) }

/// `Linear, activation, Linear, activation, Linear, activation, Linear` with the widths of the
/// fixture and its parameter values assigned by `state_dict` name; checks that the names match.
private func goldenMLP<S: TensorScalar>(
    _: S.Type, widths: [Int], layer: GoldenLayer, parameters: [String: FixtureTensor]
) throws -> Sequential<S> {
    let generator = RandomGenerator(seed: 0)
    var layers: [any Module<S>] = []
    for i in 0..<(widths.count - 1) {
        layers.append(Linear<S>(widths[i], widths[i + 1], generator: generator))
        if i < widths.count - 2 {
            let slopes = parameters["\(layers.count).weight"]?.data.count ?? 1
            layers.append(try goldenActivationLayer(layer, parameterCount: slopes))
        }
    }
    let model = Sequential<S>(layers)
    let names = model.namedParameters.map { $0.0 }
    #expect(Set(names) == Set(parameters.keys), "GradNN parameter names \(names) ≠ PyTorch's \(parameters.keys.sorted())")
    for (name, parameter) in model.namedParameters {
        let value = try #require(parameters[name], "no value for parameter \(name) in the fixture")
        parameter.assign(value.tensor(S.self))
    }
    return model
}

/// The loss the fixture names, on the MLP's output.
private func goldenLoss<S: TensorScalar>(
    _ kind: String, reduction: String, delta: Double?, output: Tensor<S>, fixture: GoldenMLPFixture
) throws -> Tensor<S> {
    let r = try #require(Reduction(rawValue: reduction))
    switch kind {
    case "mse": return meanSquaredError(predictions: output, targets: fixture.targets.tensor(), reduction: r)
    case "l1": return l1Loss(predictions: output, targets: fixture.targets.tensor(), reduction: r)
    case "huber":
        return huberLoss(predictions: output, targets: fixture.targets.tensor(), delta: S(try #require(delta)), reduction: r)
    case "bce":
        return binaryCrossEntropy(predictions: sigmoid(output), targets: fixture.binaryTargets.tensor(), reduction: r)
    case "bce_with_logits":
        return binaryCrossEntropyWithLogits(logits: output, targets: fixture.binaryTargets.tensor(), reduction: r)
    case "cross_entropy": return crossEntropy(logits: output, labels: fixture.labels, reduction: r)
    default:
        Issue.record("unknown loss '\(kind)' in the fixture")
        throw GoldenError.unknown(kind)
    }
}

// MARK: - Tests

@Suite("GoldenTests")
struct GoldenTests {
    /// The two precisions each case is checked in.
    enum Precision: String, CaseIterable, Sendable { case float64, float32 }

    /// Every activation case the fixture holds (checked against the fixture below).
    static let activationCases = [
        "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "prelu_channels", "elu", "elu_alpha_0.5", "selu",
        "gelu", "gelu_tanh", "softplus", "softplus_beta2_threshold1", "silu", "hardtanh", "hardtanh_-0.5_2",
        "softsign", "linear",
    ]
    /// Every loss case: each loss with mean and with sum reduction.
    static let lossCases = ["mse", "l1", "huber", "bce", "bce_with_logits", "cross_entropy"]
        .flatMap { ["\($0)_mean", "\($0)_sum"] }

    @Test("the fixture holds exactly the cases tested here, and every activation GradNN has")
    func fixtureCoversEveryCase() throws {
        let fixture = try GoldenMLPFixture.shared.get()
        #expect(fixture.activations.map(\.name) == Self.activationCases)
        #expect(fixture.losses.map(\.name) == Self.lossCases)
        let types = Set(fixture.activations.map(\.layer.type))
        for activation in Activation.allCases {
            let type = activation == .linear ? "identity" : activation.rawValue
            #expect(types.contains(type), "no golden case for activation \(activation)")
        }
    }

    @Test("Foundation's JSON reader gives the exact doubles Python wrote")
    func jsonNumbersAreExact() throws {
        let probe = try GoldenMLPFixture.shared.get().numberProbe
        #expect(probe.values.count == probe.bits.count)
        for (value, bits) in zip(probe.values, probe.bits) {
            #expect(String(value.bitPattern, radix: 16).leftPadded(to: 16) == bits, "\(value) parsed with other bits than \(bits)")
        }
    }

    @Test("forward output, loss and every gradient of an MLP per activation match PyTorch",
          arguments: activationCases, Precision.allCases)
    func activation(_ name: String, _ precision: Precision) throws {
        let fixture = try GoldenMLPFixture.shared.get()
        let golden = try #require(fixture.activations.first { $0.name == name })
        let expected = precision == .float64 ? golden.float64 : golden.float32
        let label = "activation \(name), \(precision)"
        switch precision {
        case .float64:
            try check(Double.self, fixture, golden.layer, golden.parameters, golden.loss, golden.reduction, nil,
                      expected, label: label, rtol: 1e-10, atol: 1e-12)
        case .float32:
            try check(Float.self, fixture, golden.layer, golden.parameters, golden.loss, golden.reduction, nil,
                      expected, label: label, rtol: 1e-5, atol: 1e-6)
            try check(Float.self, fixture, golden.layer, golden.parameters, golden.loss, golden.reduction, nil,
                      golden.float64, label: label + " against float64", rtol: 1e-5, atol: 1e-6)
        }
    }

    @Test("loss and every gradient of a tanh MLP per loss and reduction match PyTorch",
          arguments: lossCases, Precision.allCases)
    func loss(_ name: String, _ precision: Precision) throws {
        let fixture = try GoldenMLPFixture.shared.get()
        let golden = try #require(fixture.losses.first { $0.name == name })
        let layer = try #require(fixture.activations.first { $0.name == golden.activation }).layer
        let expected = precision == .float64 ? golden.float64 : golden.float32
        let label = "loss \(name), \(precision)"
        switch precision {
        case .float64:
            try check(Double.self, fixture, layer, fixture.baseParameters, golden.loss, golden.reduction, golden.delta,
                      expected, label: label, rtol: 1e-10, atol: 1e-12)
        case .float32:
            try check(Float.self, fixture, layer, fixture.baseParameters, golden.loss, golden.reduction, golden.delta,
                      expected, label: label, rtol: 1e-5, atol: 1e-6)
            try check(Float.self, fixture, layer, fixture.baseParameters, golden.loss, golden.reduction, golden.delta,
                      golden.float64, label: label + " against float64", rtol: 1e-5, atol: 1e-6)
        }
    }

    /// Builds the MLP in `S`, runs forward and backward, and compares with `expected`.
    private func check<S: TensorScalar>(
        _: S.Type, _ fixture: GoldenMLPFixture, _ layer: GoldenLayer, _ parameters: [String: FixtureTensor],
        _ lossKind: String, _ reduction: String, _ delta: Double?, _ expected: GoldenResult,
        label: String, rtol: S, atol: S
    ) throws {
        let model = try goldenMLP(S.self, widths: fixture.widths, layer: layer, parameters: parameters)
        let output = model(fixture.input.tensor(S.self))
        let problem = mismatch(output.detached(), expected.output.tensor(S.self), rtol: rtol, atol: atol)
        #expect(problem == nil, "\(label): forward output: \(problem ?? "")")

        let loss = try goldenLoss(lossKind, reduction: reduction, delta: delta, output: output, fixture: fixture)
        #expect(loss.shape == [])
        #expect(isClose(loss.scalar, S(expected.loss), rtol: rtol, atol: atol),
                "\(label): loss \(loss.scalar) ≠ PyTorch's \(expected.loss)")

        loss.backward()
        #expect(Set(expected.grads.keys) == Set(model.namedParameters.map { $0.0 }))
        for (name, parameter) in model.namedParameters {
            let grad = try #require(parameter.grad, "\(label): no gradient for \(name)")
            let want = try #require(expected.grads[name])
            let problem = mismatch(grad, want.tensor(S.self), rtol: rtol, atol: atol)
            #expect(problem == nil, "\(label): gradient of \(name): \(problem ?? "")")
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: Swift.max(0, length - count)) + self
    }
}
