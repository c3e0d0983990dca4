import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Initializers against the formulas of torch.nn.init. The gains are the values PyTorch 2.15
// prints, checked with:
//   python3 -c "import torch.nn.init as I; print(repr(I.calculate_gain('tanh')), ...)"

/// Population mean and standard deviation, accumulated in Double.
private func statistics<S: TensorScalar>(_ tensor: Tensor<S>) -> (mean: Double, std: Double) {
    let values = tensor.scalars.map { Double($0) }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return (mean, variance.squareRoot())
}

/// The standard deviation of N(μ, σ²) truncated to [a, b].
private func truncatedNormalStd(mean: Double, std: Double, a: Double, b: Double) -> Double {
    func phi(_ x: Double) -> Double { Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    func cdf(_ x: Double) -> Double { 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    let alpha = (a - mean) / std, beta = (b - mean) / std
    let z = cdf(beta) - cdf(alpha)
    let first = (alpha * phi(alpha) - beta * phi(beta)) / z
    let second = (phi(alpha) - phi(beta)) / z
    return std * (1 + first - second * second).squareRoot()
}

/// The mean of N(μ, σ²) truncated to [a, b].
private func truncatedNormalMean(mean: Double, std: Double, a: Double, b: Double) -> Double {
    func phi(_ x: Double) -> Double { Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    func cdf(_ x: Double) -> Double { 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    let alpha = (a - mean) / std, beta = (b - mean) / std
    return mean + std * (phi(alpha) - phi(beta)) / (cdf(beta) - cdf(alpha))
}

/// One initializer run on a fresh parameter, with the mean and std its formula predicts.
struct DistributionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shape: [Int]
    let mean: Double
    let std: Double
    let fill: @Sendable (Parameter<Float>, RandomGenerator) throws -> Void
    var testDescription: String { name }
}

private let gainRelu = 2.0.squareRoot()

private let distributionCases: [DistributionCase] = [
    DistributionCase(name: "uniform(-0.3, 0.7)", shape: [512, 512], mean: 0.2, std: 1 / 12.0.squareRoot()) {
        try Init.uniform($0, low: -0.3, high: 0.7, generator: $1)
    },
    DistributionCase(name: "normal(0.5, 2)", shape: [512, 512], mean: 0.5, std: 2) {
        try Init.normal($0, mean: 0.5, std: 2, generator: $1)
    },
    DistributionCase(name: "truncatedNormal() default ±2", shape: [512, 512], mean: 0,
                     std: truncatedNormalStd(mean: 0, std: 1, a: -2, b: 2)) {
        try Init.truncatedNormal($0, generator: $1)
    },
    DistributionCase(name: "truncatedNormal(0.1, 0.5, -0.2, 1.5)", shape: [512, 512],
                     mean: truncatedNormalMean(mean: 0.1, std: 0.5, a: -0.2, b: 1.5),
                     std: truncatedNormalStd(mean: 0.1, std: 0.5, a: -0.2, b: 1.5)) {
        try Init.truncatedNormal($0, mean: 0.1, std: 0.5, a: -0.2, b: 1.5, generator: $1)
    },
    DistributionCase(name: "xavierUniform(gain √2)", shape: [512, 512], mean: 0,
                     std: gainRelu * (2.0 / 1024).squareRoot()) {
        try Init.xavierUniform($0, gain: gainRelu, generator: $1)
    },
    DistributionCase(name: "xavierNormal(gain 5/3) on 512×256", shape: [512, 256], mean: 0,
                     std: 5.0 / 3 * (2.0 / 768).squareRoot()) {
        try Init.xavierNormal($0, gain: 5.0 / 3, generator: $1)
    },
    DistributionCase(name: "kaimingUniform() default leaky_relu a=0", shape: [512, 512], mean: 0,
                     std: gainRelu / 512.0.squareRoot()) {
        try Init.kaimingUniform($0, generator: $1)
    },
    DistributionCase(name: "kaimingUniform(a √5) = Linear default", shape: [512, 512], mean: 0,
                     std: 1 / (3 * 512.0).squareRoot()) {
        try Init.kaimingUniform($0, a: 5.0.squareRoot(), generator: $1)
    },
    DistributionCase(name: "kaimingUniform(fan_out, relu) on 256×512", shape: [256, 512], mean: 0,
                     std: gainRelu / 256.0.squareRoot()) {
        try Init.kaimingUniform($0, mode: .fanOut, nonlinearity: "relu", generator: $1)
    },
    DistributionCase(name: "kaimingNormal(fan_in, tanh) on 512×256", shape: [512, 256], mean: 0,
                     std: 5.0 / 3 / 256.0.squareRoot()) {
        try Init.kaimingNormal($0, nonlinearity: "tanh", generator: $1)
    },
    DistributionCase(name: "kaimingNormal(fan_out, leaky_relu 0.2) on 512×256", shape: [512, 256], mean: 0,
                     std: (2 / 1.04).squareRoot() / 512.0.squareRoot()) {
        try Init.kaimingNormal($0, a: 0.2, mode: .fanOut, generator: $1)
    },
    DistributionCase(name: "orthogonal(gain 2)", shape: [512, 512], mean: 0, std: 2 / 512.0.squareRoot()) {
        try Init.orthogonal($0, gain: 2, generator: $1)
    },
    DistributionCase(name: "sparse(0.25, std 0.5)", shape: [512, 512], mean: 0,
                     std: 0.5 * (1 - 128.0 / 512).squareRoot()) {
        try Init.sparse($0, sparsity: 0.25, std: 0.5, generator: $1)
    },
    DistributionCase(name: "eye", shape: [512, 512], mean: 1.0 / 512,
                     std: (1.0 / 512 - 1.0 / (512 * 512)).squareRoot()) { p, _ in
        try Init.eye(p)
    },
    DistributionCase(name: "Initializer.default (U ±1/√fan_in)", shape: [512, 512], mean: 0,
                     std: 1 / 512.0.squareRoot() / 3.0.squareRoot()) {
        try Initializer.default.apply(to: $0, generator: $1)
    },
]

@Suite struct InitializerTests {
    // MARK: calculate_gain

    @Test func gainsMatchPyTorchExactly() throws {
        let table: [(String, Double?, Double)] = [
            ("linear", nil, 1), ("conv1d", nil, 1), ("conv2d", nil, 1), ("conv3d", nil, 1),
            ("conv_transpose1d", nil, 1), ("conv_transpose2d", nil, 1), ("conv_transpose3d", nil, 1),
            ("sigmoid", nil, 1),
            ("tanh", nil, 1.6666666666666667),
            ("relu", nil, 1.4142135623730951),
            ("leaky_relu", nil, 1.4141428569978354),
            ("selu", nil, 0.75),
            ("leaky_relu", 0, 1.4142135623730951),
            ("leaky_relu", 0.01, 1.4141428569978354),
            ("leaky_relu", 0.1, 1.4071950894605838),
            ("leaky_relu", 0.2, 1.3867504905630728),
            ("leaky_relu", 0.3, 1.3545709229571927),
            ("leaky_relu", 0.5, 1.2649110640673518),
            ("leaky_relu", 1, 1.0),
            ("leaky_relu", 2.5, 0.5252257314388902),
            ("leaky_relu", 5.0.squareRoot(), 0.5773502691896257),
            ("relu", 0.7, 1.4142135623730951),  // the parameter only matters for leaky_relu
        ]
        for (name, param, expected) in table {
            let gain = try calculateGain(nonlinearity: name, param: param)
            #expect(gain == expected, "calculate_gain('\(name)', \(String(describing: param))) = \(gain), PyTorch \(expected)")
        }
    }

    @Test func unknownNonlinearitiesThrow() {
        for name in ["identity", "gelu", "Relu", "", "softplus"] {
            #expect(throws: InitializerError.unsupportedNonlinearity(name)) {
                try calculateGain(nonlinearity: name)
            }
        }
        let message = InitializerError.unsupportedNonlinearity("gelu").description
        #expect(message.contains("'gelu'") && message.contains("leaky_relu"), "\(message)")
    }

    @Test func fans() throws {
        #expect(try fanInAndFanOut([3, 5]) == (5, 3))
        #expect(try fanInAndFanOut([64, 32, 3, 3]) == (288, 576))
        #expect(try fanInAndFanOut([4, 0]) == (0, 4))
        #expect(throws: InitializerError.self) { try fanInAndFanOut([5]) }
        #expect(throws: InitializerError.self) { try fanInAndFanOut([]) }
        let w = Parameter(Tensor<Float>.zeros([7]))
        #expect(throws: InitializerError.self) { try Init.xavierUniform(w, generator: RandomGenerator(seed: 0)) }
        #expect(throws: InitializerError.self) { try Init.kaimingNormal(w, generator: RandomGenerator(seed: 0)) }
        #expect(throws: InitializerError.self) { try Init.orthogonal(w, generator: RandomGenerator(seed: 0)) }
    }

    // MARK: Distributions

    @Test(arguments: distributionCases)
    func sampleMomentsMatchFormula(_ c: DistributionCase) throws {
        let parameter = Parameter(Tensor<Float>.full(c.shape, 123))
        try c.fill(parameter, RandomGenerator(seed: 42))
        let (mean, std) = statistics(parameter.value)
        #expect(abs(mean - c.mean) <= 0.02 * c.std, "\(c.name): mean \(mean), formula \(c.mean) (std \(c.std))")
        #expect(abs(std - c.std) <= 0.02 * c.std, "\(c.name): std \(std), formula \(c.std)")
    }

    @Test func uniformBoundsAreRespected() throws {
        let p = Parameter(Tensor<Float>.zeros([512, 512]))
        try Init.xavierUniform(p, gain: 1, generator: RandomGenerator(seed: 1))
        let bound = (6.0 / 1024).squareRoot()
        let extreme = p.value.scalars.map { abs(Double($0)) }.max()!
        #expect(extreme <= bound * (1 + 1e-6) && extreme > 0.99 * bound, "max |w| \(extreme), bound \(bound)")
        try Init.kaimingUniform(p, a: 5.0.squareRoot(), generator: RandomGenerator(seed: 2))
        let linearBound = 1 / 512.0.squareRoot()
        let extreme2 = p.value.scalars.map { abs(Double($0)) }.max()!
        #expect(extreme2 <= linearBound * (1 + 1e-6) && extreme2 > 0.99 * linearBound)
    }

    @Test func constantsAreExact() throws {
        let p = Parameter(Tensor<Double>.zeros([4, 6]))
        Init.constant(p, value: 0.3)
        #expect(p.value.scalars.allSatisfy { $0 == 0.3 })
        Init.ones(p)
        #expect(p.value.scalars.allSatisfy { $0 == 1 })
        Init.zeros(p)
        #expect(p.value.scalars.allSatisfy { $0 == 0 })
        let pure: Tensor<Float> = Init.constant(shape: [2, 3], value: -1.5)
        #expect(pure.shape == [2, 3] && pure.scalars == Array(repeating: -1.5, count: 6))
    }

    @Test func invalidParametersThrow() {
        let g = RandomGenerator(seed: 0)
        let p = Parameter(Tensor<Float>.zeros([4, 4]))
        #expect(throws: InitializerError.self) { try Init.normal(p, std: -1, generator: g) }
        #expect(throws: InitializerError.self) { try Init.uniform(p, low: 1, high: 0, generator: g) }
        #expect(throws: InitializerError.self) { try Init.truncatedNormal(p, a: 1, b: -1, generator: g) }
        #expect(throws: InitializerError.self) { try Init.sparse(p, sparsity: 1.5, generator: g) }
        #expect(throws: InitializerError.self) { try Init.kaimingUniform(p, nonlinearity: "gelu", generator: g) }
        #expect(p.value.scalars.allSatisfy { $0 == 0 }, "a failed initializer must not write")
    }

    // MARK: Truncated normal

    @Test func truncatedNormalRespectsBounds() throws {
        let cases: [(mean: Double, std: Double, a: Double, b: Double)] = [
            (0, 1, -2, 2), (0, 1, -0.5, 0.25), (3, 1, 2.5, 3.1), (0, 0.02, -0.04, 0.04), (0, 1, 1.5, 4),
        ]
        for c in cases {
            let t: Tensor<Float> = try Init.truncatedNormal(shape: [256, 256], mean: c.mean, std: c.std,
                                                            a: c.a, b: c.b, generator: RandomGenerator(seed: 5))
            let values = t.scalars
            #expect(values.allSatisfy { Double($0) >= Double(Float(c.a)) && Double($0) <= Double(Float(c.b)) },
                    "trunc_normal(\(c)) left [a, b]: min \(values.min()!), max \(values.max()!)")
            let (mean, std) = statistics(t)
            let expectedStd = truncatedNormalStd(mean: c.mean, std: c.std, a: c.a, b: c.b)
            let expectedMean = truncatedNormalMean(mean: c.mean, std: c.std, a: c.a, b: c.b)
            #expect(abs(mean - expectedMean) <= 0.02 * expectedStd, "trunc_normal(\(c)): mean \(mean) vs \(expectedMean)")
            #expect(abs(std - expectedStd) <= 0.02 * expectedStd, "trunc_normal(\(c)): std \(std) vs \(expectedStd)")
        }
    }

    // MARK: Orthogonal

    /// WᵀW (tall) or WWᵀ (wide) of the `rows × cols` view, in Double.
    private func gram(_ w: Tensor<Float>) -> (matrix: [Double], size: Int) {
        let rows = w.shape[0], cols = w.count / rows
        let x = w.scalars.map { Double($0) }
        let tall = rows >= cols
        let n = tall ? cols : rows
        var g = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                if tall { for k in 0..<rows { s += x[k * cols + i] * x[k * cols + j] } }
                else { for k in 0..<cols { s += x[i * cols + k] * x[j * cols + k] } }
                g[i * n + j] = s
            }
        }
        return (g, n)
    }

    @Test(arguments: [[64, 64], [40, 24], [24, 40], [1, 9], [9, 1], [6, 4, 3, 3], [36, 2, 3]])
    func orthogonalGivesScaledIdentityGram(_ shape: [Int]) throws {
        let gain = 1.5
        let w: Tensor<Float> = try Init.orthogonal(shape: shape, gain: gain, generator: RandomGenerator(seed: 9))
        #expect(w.shape == shape)
        let (g, n) = gram(w)
        var worst = 0.0
        for i in 0..<n { for j in 0..<n { worst = max(worst, abs(g[i * n + j] - (i == j ? gain * gain : 0))) } }
        #expect(worst <= 1e-4, "shape \(shape): max |WᵀW − gain²·I| = \(worst)")
    }

    /// PyTorch's convention: W = Q·diag(sign(diag R)) for the QR of the normal draw A (its
    /// transpose when wide), so WᵀA (W·Aᵀ when wide) is upper triangular with a positive diagonal.
    @Test(arguments: [[12, 7], [7, 12], [8, 8]])
    func orthogonalFollowsPyTorchSignConvention(_ shape: [Int]) throws {
        let rows = shape[0], cols = shape[1]
        let w: Tensor<Double> = try Init.orthogonal(shape: shape, generator: RandomGenerator(seed: 11))
        let replay = RandomGenerator(seed: 11)
        let a = (0..<(rows * cols)).map { _ in replay.nextNormal() }  // row-major rows × cols, as drawn
        let x = w.scalars
        let tall = rows >= cols
        let n = tall ? cols : rows, m = tall ? rows : cols
        // R[i][j] = Σ_k Q[k][i] · A'[k][j], with Q and A' the m × n tall views.
        func q(_ k: Int, _ i: Int) -> Double { tall ? x[k * cols + i] : x[i * cols + k] }
        func aTall(_ k: Int, _ j: Int) -> Double { tall ? a[k * cols + j] : a[j * cols + k] }
        for i in 0..<n {
            for j in 0..<n {
                var r = 0.0
                for k in 0..<m { r += q(k, i) * aTall(k, j) }
                if i > j { #expect(abs(r) < 1e-9, "R[\(i)][\(j)] = \(r) below the diagonal") }
                if i == j { #expect(r > 0, "R[\(i)][\(i)] = \(r) must be positive") }
            }
        }
    }

    // MARK: Eye and sparse

    @Test func eyeIsIdentity() throws {
        let wide: Tensor<Float> = try Init.eye(shape: [3, 5])
        #expect(wide.scalars == [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0])
        let p = Parameter(Tensor<Double>.full([4, 2], 7))
        try Init.eye(p)
        #expect(p.value.scalars == [1, 0, 0, 1, 0, 0, 0, 0])
        #expect(throws: InitializerError.self) { try Init.eye(Parameter(Tensor<Float>.zeros([2, 2, 2]))) }
        #expect(throws: InitializerError.self) { let _: Tensor<Float> = try Init.eye(shape: [4]) }
    }

    @Test(arguments: [(100, 30, 0.1, 10), (7, 5, 0.5, 4), (64, 3, 0.0, 0), (10, 4, 1.0, 10), (512, 16, 0.9, 461)])
    func sparseZeroesEachColumn(rows: Int, cols: Int, sparsity: Double, zeros: Int) throws {
        let w: Tensor<Double> = try Init.sparse(shape: [rows, cols], sparsity: sparsity, std: 0.3,
                                                generator: RandomGenerator(seed: 3))
        let x = w.scalars
        for column in 0..<cols {
            let count = (0..<rows).filter { x[$0 * cols + column] == 0 }.count
            #expect(count == zeros, "column \(column): \(count) zeros, expected ⌈\(sparsity)·\(rows)⌉ = \(zeros)")
        }
        #expect(throws: InitializerError.self) { let _: Tensor<Float> = try Init.sparse(shape: [2, 2, 2], sparsity: 0.5, generator: RandomGenerator(seed: 0)) }
    }

    // MARK: Linear's default and the Initializer enum

    @Test func linearDefaultBounds() {
        let layer = Linear<Float>(256, 64, generator: RandomGenerator(seed: 4))
        let bound = 1.0 / 16
        let w = layer.weight.value.scalars.map { abs(Double($0)) }
        let b = layer.bias!.value.scalars.map { abs(Double($0)) }
        #expect(w.max()! <= bound && w.max()! > 0.99 * bound, "weight max \(w.max()!), bound \(bound)")
        #expect(b.max()! <= bound && b.max()! > 0.8 * bound, "bias max \(b.max()!), bound \(bound)")
    }

    @Test func defaultInitializerReproducesLinear() throws {
        let fresh = Sequential<Float>(Linear(20, 30, generator: RandomGenerator(seed: 8)), ReLU(),
                                      Linear(30, 5, generator: RandomGenerator(seed: 8)))
        let model = Sequential<Float>(Linear(20, 30, generator: RandomGenerator(seed: 99)), ReLU(),
                                      Linear(30, 5, generator: RandomGenerator(seed: 99)))
        // One generator in the state a fresh one has, used layer after layer as the constructors did.
        let first = RandomGenerator(seed: 8)
        let firstModel = Sequential<Float>(model.layers[0])
        try initializeLinearLayers(in: firstModel, weight: .default, bias: .default, generator: first)
        let second = Sequential<Float>(model.layers[2])
        try initializeLinearLayers(in: second, weight: .default, bias: .default, generator: RandomGenerator(seed: 8))
        for ((name, a), (_, b)) in zip(fresh.namedParameters, model.namedParameters) {
            #expect(a.value.scalars == b.value.scalars, "\(name) differs from a freshly built Linear")
        }
    }

    @Test func linearLayersGetDerivedGains() throws {
        let model = Sequential<Float>(Linear(400, 300, generator: RandomGenerator(seed: 1)), ReLU(),
                                      Linear(300, 200, generator: RandomGenerator(seed: 2)), ReLU())
        try initializeLinearLayers(in: model, weight: .kaimingNormal(), bias: .zeros, activation: "relu",
                                   generator: RandomGenerator(seed: 3))
        let params = model.namedParameters
        #expect(params.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        for (name, fanIn) in [("0.weight", 400.0), ("2.weight", 300.0)] {
            let (_, std) = statistics(params.first { $0.0 == name }!.1.value)
            let expected = gainRelu / fanIn.squareRoot()
            #expect(abs(std - expected) <= 0.02 * expected, "\(name): std \(std), He formula \(expected)")
        }
        #expect(params[1].1.value.scalars.allSatisfy { $0 == 0 } && params[3].1.value.scalars.allSatisfy { $0 == 0 })

        try initializeLinearLayers(in: model, weight: .xavierUniform(), bias: .constant(value: 0.1),
                                   activation: "tanh", generator: RandomGenerator(seed: 4))
        let bound = 5.0 / 3 * (6.0 / 700).squareRoot()
        let extreme = params[0].1.value.scalars.map { abs(Double($0)) }.max()!
        #expect(extreme <= bound * (1 + 1e-6) && extreme > 0.99 * bound, "xavier with tanh gain: max \(extreme), bound \(bound)")
        #expect(params[1].1.value.scalars.allSatisfy { $0 == Float(0.1) })

        try initializeLinearLayers(in: model, weight: .kaimingUniform(), activation: "leaky_relu",
                                   activationParameter: 0.2, generator: RandomGenerator(seed: 5))
        let (_, std) = statistics(params[2].1.value)
        let expected = (2 / 1.04).squareRoot() / 300.0.squareRoot()
        #expect(abs(std - expected) <= 0.02 * expected, "kaiming with leaky_relu(0.2): std \(std), expected \(expected)")
    }

    @Test func failedTreeInitializationLeavesModuleUnchanged() throws {
        let model = Sequential<Float>(Linear(4, 3, generator: RandomGenerator(seed: 1)), Tanh(),
                                      Linear(3, 2, generator: RandomGenerator(seed: 2)))
        let before = model.parameters.map(\.value.scalars)
        #expect(throws: InitializerError.self) {
            try initializeLinearLayers(in: model, weight: .zeros, bias: .xavierUniform(), generator: RandomGenerator(seed: 0))
        }
        #expect(throws: InitializerError.unsupportedNonlinearity("gelu")) {
            try initializeLinearLayers(in: model, weight: .orthogonal(), activation: "gelu", generator: RandomGenerator(seed: 0))
        }
        #expect(model.parameters.map(\.value.scalars) == before)
    }

    @Test func initializerNamesDecodeAndRoundTrip() throws {
        let decoder = JSONDecoder()
        func decode(_ json: String) throws -> Initializer {
            try decoder.decode(Initializer.self, from: Data(json.utf8))
        }
        #expect(try decode(#""xavier_uniform""#) == .xavierUniform())
        #expect(try decode(#""default""#) == .default)
        #expect(try decode(#"{"type": "normal", "std": 0.02}"#) == .normal(mean: 0, std: 0.02))
        #expect(try decode(#"{"type": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"}"#)
                == .kaimingNormal(a: nil, mode: .fanOut, nonlinearity: "relu"))
        #expect(try decode(#"{"type": "sparse", "sparsity": 0.9}"#) == .sparse(sparsity: 0.9, std: 0.01))
        #expect(try decode(#"{"type": "truncated_normal", "std": 0.02, "a": -0.04, "b": 0.04}"#)
                == .truncatedNormal(mean: 0, std: 0.02, a: -0.04, b: 0.04))
        #expect(throws: DecodingError.self) { try decode(#""glorot""#) }
        #expect(throws: DecodingError.self) { try decode(#""constant""#) }
        #expect(throws: DecodingError.self) { try decode(#"{"type": "normal", "gain": 1}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"type": "kaiming_uniform", "mode": "fan_avg"}"#) }

        let all: [Initializer] = [
            .default, .xavierUniform(), .xavierUniform(gain: 2), .xavierNormal(gain: 0.5),
            .kaimingUniform(), .kaimingUniform(a: 0.1, mode: .fanOut, nonlinearity: "leaky_relu"),
            .kaimingNormal(nonlinearity: "relu"), .orthogonal(), .orthogonal(gain: 1.2), .normal(),
            .normal(mean: 1, std: 0.1), .uniform(low: -1, high: 1), .zeros, .ones, .constant(value: 0.25),
            .truncatedNormal(), .truncatedNormal(mean: 0.5, std: 2, a: -1, b: 3), .sparse(sparsity: 0.3),
            .sparse(sparsity: 0.3, std: 0.2), .eye,
        ]
        #expect(Set(all.map(\.name)) == Set(Initializer.names))
        for initializer in all {
            let data = try JSONEncoder().encode(initializer)
            #expect(try decoder.decode(Initializer.self, from: data) == initializer,
                    "\(initializer) → \(String(decoding: data, as: UTF8.self))")
        }
        #expect(String(decoding: try JSONEncoder().encode(Initializer.xavierNormal()), as: UTF8.self) == #""xavier_normal""#)
        for name in Initializer.names where name != "constant" && name != "sparse" {
            #expect(try Initializer(name: name).name == name)
        }
        #expect(throws: InitializerError.unknownInitializer("he")) { try Initializer(name: "he") }
    }

    @Test func emptyTensorsAreLeftAlone() throws {
        let g = RandomGenerator(seed: 0)
        let empty: Tensor<Float> = try Init.kaimingUniform(shape: [0, 5], generator: g)
        #expect(empty.shape == [0, 5] && empty.count == 0)
        let orthogonal: Tensor<Float> = try Init.orthogonal(shape: [3, 0], generator: g)
        #expect(orthogonal.count == 0)
        let normal: Tensor<Double> = try Init.normal(shape: [0], generator: g)
        #expect(normal.count == 0)
    }
}

