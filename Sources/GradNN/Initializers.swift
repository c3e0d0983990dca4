import Foundation
import GradTensor

// Weight initializers with the formulas, argument names and defaults of `torch.nn.init`.
// Initializers run once per layer, so they are plain generic code drawing from a
// `RandomGenerator`; the random streams differ from PyTorch's, the distributions do not.

/// Why an initializer could not run: a name, a parameter or a shape it cannot accept.
public enum InitializerError: Error, Equatable, CustomStringConvertible {
    /// `calculateGain` was given a name outside PyTorch's table.
    case unsupportedNonlinearity(String)
    /// An initializer name (from a spec file or a flag) that does not exist.
    case unknownInitializer(String)
    /// The initializer needs more axes than the tensor has (fans need 2, `eye` and `sparse` exactly 2).
    case unsupportedShape(initializer: String, shape: [Int], requirement: String)
    /// A parameter outside its allowed range (a negative std, `low > high`, a sparsity above 1).
    case invalidParameter(initializer: String, name: String, value: Double, requirement: String)
    /// An initializer that cannot be used without a parameter (`constant` needs `value`).
    case missingParameter(initializer: String, name: String)

    public var description: String {
        switch self {
        case .unsupportedNonlinearity(let name):
            return "unsupported nonlinearity '\(name)' (known: \(knownNonlinearities.joined(separator: ", ")))"
        case .unknownInitializer(let name):
            return "unknown initializer '\(name)' (known: \(Initializer.names.joined(separator: ", ")))"
        case .unsupportedShape(let initializer, let shape, let requirement):
            return "\(initializer): tensor of shape \(shape) is not supported; \(requirement)"
        case .invalidParameter(let initializer, let name, let value, let requirement):
            return "\(initializer): \(name) = \(value) is invalid; \(requirement)"
        case .missingParameter(let initializer, let name):
            return "\(initializer): parameter '\(name)' is required"
        }
    }
}

/// The nonlinearity names `calculateGain` accepts (PyTorch's `nn.functional` names).
public let knownNonlinearities = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]

/// The recommended gain for a nonlinearity, exactly as `torch.nn.init.calculate_gain`.
///
/// linear, conv*, conv_transpose*, sigmoid → 1; tanh → 5/3; relu → √2;
/// leaky_relu → √(2 / (1 + slope²)) with slope = `param` ?? 0.01; selu → 3/4.
/// - Parameters:
///   - nonlinearity: the `nn.functional` name, lower case (`"relu"`, `"leaky_relu"`).
///   - param: the negative slope for `leaky_relu`; ignored by the others.
/// - Throws: `InitializerError.unsupportedNonlinearity` for any other name.
public func calculateGain(nonlinearity: String, param: Double? = nil) throws -> Double {
    switch nonlinearity {
    case "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
         "sigmoid":
        return 1
    case "tanh":
        return 5.0 / 3
    case "relu":
        return 2.0.squareRoot()
    case "leaky_relu":
        let slope = param ?? 0.01
        // `pow` as Python's `negative_slope**2`, so the result is bit-identical.
        return (2.0 / (1 + pow(slope, 2))).squareRoot()
    case "selu":
        return 3.0 / 4
    default:
        throw InitializerError.unsupportedNonlinearity(nonlinearity)
    }
}

/// The fan-in and fan-out of a weight of `shape`, as PyTorch's `_calculate_fan_in_and_fan_out`.
///
/// fan_in = shape[1] · r, fan_out = shape[0] · r, with r = ∏ shape[2...] (the receptive field).
/// - Throws: `InitializerError.unsupportedShape` for fewer than 2 axes.
public func fanInAndFanOut(_ shape: [Int]) throws -> (fanIn: Int, fanOut: Int) {
    guard shape.count >= 2 else {
        throw InitializerError.unsupportedShape(
            initializer: "fan computation", shape: shape,
            requirement: "fan in and fan out need a tensor with at least 2 dimensions")
    }
    let receptiveField = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * receptiveField, shape[0] * receptiveField)
}

/// Which fan Kaiming initialization preserves: the forward pass (`fanIn`) or the backward pass (`fanOut`).
public enum FanMode: String, Codable, Sendable, CaseIterable {
    case fanIn = "fan_in"
    case fanOut = "fan_out"
}

/// The initializers of `torch.nn.init`, each in place on a `Parameter` and as a pure function
/// of a shape returning a new `Tensor`.
///
/// Names, arguments and defaults follow PyTorch (`Init.kaimingUniform(w, a: 0, mode: .fanIn,
/// nonlinearity: "leaky_relu")` is `nn.init.kaiming_uniform_(w)`). Every function draws from
/// `generator`; tensors with no elements are left as they are.
public enum Init {
    // MARK: - Plain distributions

    /// Fills with samples of U(low, high), as `torch.nn.init.uniform_`.
    ///
    /// Mean (low + high)/2, standard deviation (high − low)/√12.
    /// - Parameters:
    ///   - low: the lower bound (inclusive).
    ///   - high: the upper bound; `low ≤ high`.
    public static func uniform<Scalar: TensorScalar>(
        shape: [Int], low: Double = 0, high: Double = 1, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        try require(low.isFinite && high.isFinite && low <= high, "uniform", "high", high,
                    "needs finite bounds with low (\(low)) ≤ high")
        if shape.contains(0) { return .zeros(shape) }
        return .uniform(shape, low: Scalar(low), high: Scalar(high), generator: generator)
    }

    /// Fills `parameter` with samples of U(low, high), as `torch.nn.init.uniform_`.
    public static func uniform<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, low: Double = 0, high: Double = 1, generator: RandomGenerator
    ) throws {
        parameter.assign(try uniform(shape: parameter.shape, low: low, high: high, generator: generator))
    }

    /// Samples of N(mean, std²), as `torch.nn.init.normal_`.
    ///
    /// - Parameters:
    ///   - mean: the mean.
    ///   - std: the standard deviation, ≥ 0.
    public static func normal<Scalar: TensorScalar>(
        shape: [Int], mean: Double = 0, std: Double = 1, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        try require(mean.isFinite, "normal", "mean", mean, "must be finite")
        try require(std.isFinite && std >= 0, "normal", "std", std, "must be finite and ≥ 0")
        if shape.contains(0) { return .zeros(shape) }
        return .normal(shape, mean: Scalar(mean), std: Scalar(std), generator: generator)
    }

    /// Fills `parameter` with samples of N(mean, std²), as `torch.nn.init.normal_`.
    public static func normal<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, mean: Double = 0, std: Double = 1, generator: RandomGenerator
    ) throws {
        parameter.assign(try normal(shape: parameter.shape, mean: mean, std: std, generator: generator))
    }

    /// Samples of N(mean, std²) restricted to [a, b], as `torch.nn.init.trunc_normal_`.
    ///
    /// `a` and `b` are absolute bounds, not multiples of `std`. With α = (a − μ)/σ, β = (b − μ)/σ
    /// and Z = Φ(β) − Φ(α), the variance is σ²·[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²].
    /// - Parameters:
    ///   - mean: the mean of the untruncated normal.
    ///   - std: its standard deviation, > 0.
    ///   - a: the lower bound.
    ///   - b: the upper bound, > a.
    public static func truncatedNormal<Scalar: TensorScalar>(
        shape: [Int], mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2,
        generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        try require(mean.isFinite, "truncated_normal", "mean", mean, "must be finite")
        try require(std.isFinite && std > 0, "truncated_normal", "std", std, "must be finite and > 0")
        try require(a.isFinite && b.isFinite && a < b, "truncated_normal", "b", b,
                    "needs finite bounds with a (\(a)) < b")
        if shape.contains(0) { return .zeros(shape) }
        return .truncatedNormal(shape, mean: Scalar(mean), std: Scalar(std), low: Scalar(a), high: Scalar(b),
                                generator: generator)
    }

    /// Fills `parameter` with samples of N(mean, std²) restricted to [a, b], as `torch.nn.init.trunc_normal_`.
    public static func truncatedNormal<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2,
        generator: RandomGenerator
    ) throws {
        parameter.assign(try truncatedNormal(shape: parameter.shape, mean: mean, std: std, a: a, b: b,
                                             generator: generator))
    }

    // MARK: - Constants

    /// `value` everywhere, as `torch.nn.init.constant_`.
    public static func constant<Scalar: TensorScalar>(shape: [Int], value: Double) -> Tensor<Scalar> {
        .full(shape, Scalar(value))
    }

    /// Fills `parameter` with `value`, as `torch.nn.init.constant_`.
    public static func constant<Scalar: TensorScalar>(_ parameter: Parameter<Scalar>, value: Double) {
        parameter.assign(constant(shape: parameter.shape, value: value))
    }

    /// Zeros, as `torch.nn.init.zeros_`.
    public static func zeros<Scalar: TensorScalar>(shape: [Int]) -> Tensor<Scalar> { .zeros(shape) }

    /// Fills `parameter` with zeros, as `torch.nn.init.zeros_`.
    public static func zeros<Scalar: TensorScalar>(_ parameter: Parameter<Scalar>) {
        parameter.assign(.zeros(parameter.shape))
    }

    /// Ones, as `torch.nn.init.ones_`.
    public static func ones<Scalar: TensorScalar>(shape: [Int]) -> Tensor<Scalar> { .ones(shape) }

    /// Fills `parameter` with ones, as `torch.nn.init.ones_`.
    public static func ones<Scalar: TensorScalar>(_ parameter: Parameter<Scalar>) {
        parameter.assign(.ones(parameter.shape))
    }

    /// The identity matrix of a 2-D shape (ones on the main diagonal), as `torch.nn.init.eye_`.
    ///
    /// - Throws: `InitializerError.unsupportedShape` unless the shape has exactly 2 axes.
    public static func eye<Scalar: TensorScalar>(shape: [Int]) throws -> Tensor<Scalar> {
        guard shape.count == 2 else {
            throw InitializerError.unsupportedShape(initializer: "eye", shape: shape,
                                                    requirement: "only tensors with 2 dimensions are supported")
        }
        return .eye(shape[0], shape[1])
    }

    /// Fills a 2-D `parameter` with the identity matrix, as `torch.nn.init.eye_`.
    public static func eye<Scalar: TensorScalar>(_ parameter: Parameter<Scalar>) throws {
        parameter.assign(try eye(shape: parameter.shape))
    }

    // MARK: - Fan-scaled (Glorot, He)

    /// Glorot uniform samples, as `torch.nn.init.xavier_uniform_` (Glorot & Bengio, 2010).
    ///
    /// U(−a, a) with a = gain · √(6 / (fan_in + fan_out)), so std = gain · √(2 / (fan_in + fan_out)).
    /// - Parameters:
    ///   - gain: the scaling factor (`calculateGain` of the following nonlinearity).
    /// - Throws: `InitializerError.unsupportedShape` for fewer than 2 axes.
    public static func xavierUniform<Scalar: TensorScalar>(
        shape: [Int], gain: Double = 1, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        try require(gain.isFinite, "xavier_uniform", "gain", gain, "must be finite")
        let (fanIn, fanOut) = try fans(shape, "xavier_uniform")
        if shape.contains(0) { return .zeros(shape) }
        let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
        let bound = 3.0.squareRoot() * std
        return .uniform(shape, low: Scalar(-bound), high: Scalar(bound), generator: generator)
    }

    /// Fills `parameter` with Glorot uniform samples, as `torch.nn.init.xavier_uniform_`.
    public static func xavierUniform<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, gain: Double = 1, generator: RandomGenerator
    ) throws {
        parameter.assign(try xavierUniform(shape: parameter.shape, gain: gain, generator: generator))
    }

    /// Glorot normal samples, as `torch.nn.init.xavier_normal_` (Glorot & Bengio, 2010).
    ///
    /// N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).
    /// - Parameters:
    ///   - gain: the scaling factor.
    /// - Throws: `InitializerError.unsupportedShape` for fewer than 2 axes.
    public static func xavierNormal<Scalar: TensorScalar>(
        shape: [Int], gain: Double = 1, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        try require(gain.isFinite, "xavier_normal", "gain", gain, "must be finite")
        let (fanIn, fanOut) = try fans(shape, "xavier_normal")
        if shape.contains(0) { return .zeros(shape) }
        let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
        return .normal(shape, mean: 0, std: Scalar(std), generator: generator)
    }

    /// Fills `parameter` with Glorot normal samples, as `torch.nn.init.xavier_normal_`.
    public static func xavierNormal<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, gain: Double = 1, generator: RandomGenerator
    ) throws {
        parameter.assign(try xavierNormal(shape: parameter.shape, gain: gain, generator: generator))
    }

    /// He uniform samples, as `torch.nn.init.kaiming_uniform_` (He et al., 2015).
    ///
    /// U(−bound, bound) with bound = gain · √(3 / fan), gain = `calculateGain(nonlinearity, a)`,
    /// fan = fan_in or fan_out by `mode`; so std = gain / √fan.
    /// - Parameters:
    ///   - a: the negative slope of the rectifier after this layer (used with `"leaky_relu"` only).
    ///   - mode: `.fanIn` preserves the forward variance, `.fanOut` the backward one.
    ///   - nonlinearity: the `nn.functional` name; PyTorch's default `"leaky_relu"` with a = 0 gives √2.
    /// - Throws: for fewer than 2 axes or an unknown nonlinearity.
    public static func kaimingUniform<Scalar: TensorScalar>(
        shape: [Int], a: Double = 0, mode: FanMode = .fanIn, nonlinearity: String = "leaky_relu",
        generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        guard let std = try kaimingStd(shape, a: a, mode: mode, nonlinearity: nonlinearity, "kaiming_uniform")
        else { return .zeros(shape) }
        let bound = 3.0.squareRoot() * std
        return .uniform(shape, low: Scalar(-bound), high: Scalar(bound), generator: generator)
    }

    /// Fills `parameter` with He uniform samples, as `torch.nn.init.kaiming_uniform_`.
    public static func kaimingUniform<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: String = "leaky_relu",
        generator: RandomGenerator
    ) throws {
        parameter.assign(try kaimingUniform(shape: parameter.shape, a: a, mode: mode, nonlinearity: nonlinearity,
                                            generator: generator))
    }

    /// He normal samples, as `torch.nn.init.kaiming_normal_` (He et al., 2015).
    ///
    /// N(0, std²) with std = gain / √fan, gain = `calculateGain(nonlinearity, a)`.
    /// - Parameters:
    ///   - a: the negative slope of the rectifier after this layer (used with `"leaky_relu"` only).
    ///   - mode: `.fanIn` or `.fanOut`.
    ///   - nonlinearity: the `nn.functional` name (default `"leaky_relu"`).
    /// - Throws: for fewer than 2 axes or an unknown nonlinearity.
    public static func kaimingNormal<Scalar: TensorScalar>(
        shape: [Int], a: Double = 0, mode: FanMode = .fanIn, nonlinearity: String = "leaky_relu",
        generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        guard let std = try kaimingStd(shape, a: a, mode: mode, nonlinearity: nonlinearity, "kaiming_normal")
        else { return .zeros(shape) }
        return .normal(shape, mean: 0, std: Scalar(std), generator: generator)
    }

    /// Fills `parameter` with He normal samples, as `torch.nn.init.kaiming_normal_`.
    public static func kaimingNormal<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: String = "leaky_relu",
        generator: RandomGenerator
    ) throws {
        parameter.assign(try kaimingNormal(shape: parameter.shape, a: a, mode: mode, nonlinearity: nonlinearity,
                                           generator: generator))
    }

    // MARK: - Structured

    /// A (semi-)orthogonal matrix times `gain`, as `torch.nn.init.orthogonal_` (Saxe et al., 2013).
    ///
    /// The shape is viewed as `rows × cols` with cols = ∏ shape[1...]. A `rows × cols` standard
    /// normal matrix (transposed when rows < cols) is factored A = QR by Householder reflections,
    /// and Q's columns are multiplied by d = sign(diag R), which makes Q Haar-distributed. Then
    /// WᵀW = gain²·I when rows ≥ cols, WWᵀ = gain²·I otherwise.
    /// - Parameters:
    ///   - gain: the scaling factor.
    /// - Throws: `InitializerError.unsupportedShape` for fewer than 2 axes.
    public static func orthogonal<Scalar: TensorScalar>(
        shape: [Int], gain: Double = 1, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        guard shape.count >= 2 else {
            throw InitializerError.unsupportedShape(initializer: "orthogonal", shape: shape,
                                                    requirement: "only tensors with 2 or more dimensions are supported")
        }
        try require(gain.isFinite, "orthogonal", "gain", gain, "must be finite")
        let count = shape.reduce(1, *)
        if count == 0 { return .zeros(shape) }
        let rows = shape[0], cols = count / rows
        // Draw row-major `rows × cols` as PyTorch does, then factor the tall orientation.
        let drawn = (0..<count).map { _ in generator.nextNormal() }
        let tall = rows >= cols
        let m = tall ? rows : cols, n = tall ? cols : rows
        var a = [Double](repeating: 0, count: m * n)  // row-major m × n
        for i in 0..<rows {
            for j in 0..<cols {
                if tall { a[i * n + j] = drawn[i * cols + j] } else { a[j * n + i] = drawn[i * cols + j] }
            }
        }
        let q = householderQ(a, rows: m, columns: n)  // m × n, row-major, sign-corrected
        var out = [Scalar](repeating: 0, count: count)
        for i in 0..<rows {
            for j in 0..<cols {
                out[i * cols + j] = Scalar(gain * (tall ? q[i * n + j] : q[j * n + i]))
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// Fills `parameter` with a (semi-)orthogonal matrix times `gain`, as `torch.nn.init.orthogonal_`.
    public static func orthogonal<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, gain: Double = 1, generator: RandomGenerator
    ) throws {
        parameter.assign(try orthogonal(shape: parameter.shape, gain: gain, generator: generator))
    }

    /// A sparse 2-D matrix, as `torch.nn.init.sparse_` (Martens, 2010).
    ///
    /// Every element is drawn from N(0, std²), then in each column ⌈sparsity · rows⌉ elements,
    /// chosen at random, are set to zero.
    /// - Parameters:
    ///   - sparsity: the fraction of each column set to zero, in [0, 1].
    ///   - std: the standard deviation of the non-zero elements.
    /// - Throws: `InitializerError.unsupportedShape` unless the shape has exactly 2 axes.
    public static func sparse<Scalar: TensorScalar>(
        shape: [Int], sparsity: Double, std: Double = 0.01, generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        guard shape.count == 2 else {
            throw InitializerError.unsupportedShape(initializer: "sparse", shape: shape,
                                                    requirement: "only tensors with 2 dimensions are supported")
        }
        try require(sparsity >= 0 && sparsity <= 1, "sparse", "sparsity", sparsity, "must lie in [0, 1]")
        try require(std.isFinite && std >= 0, "sparse", "std", std, "must be finite and ≥ 0")
        if shape.contains(0) { return .zeros(shape) }
        let rows = shape[0], cols = shape[1]
        let zerosPerColumn = Int((sparsity * Double(rows)).rounded(.up))
        var values = Tensor<Scalar>.normal(shape, mean: 0, std: Scalar(std), generator: generator).scalars
        for column in 0..<cols {
            for row in generator.permutation(rows).prefix(zerosPerColumn) { values[row * cols + column] = 0 }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Fills a 2-D `parameter` as a sparse matrix, as `torch.nn.init.sparse_`.
    public static func sparse<Scalar: TensorScalar>(
        _ parameter: Parameter<Scalar>, sparsity: Double, std: Double = 0.01, generator: RandomGenerator
    ) throws {
        parameter.assign(try sparse(shape: parameter.shape, sparsity: sparsity, std: std, generator: generator))
    }

    // MARK: - Helpers

    static func require(_ condition: Bool, _ initializer: String, _ name: String, _ value: Double,
                        _ requirement: String) throws {
        if !condition {
            throw InitializerError.invalidParameter(initializer: initializer, name: name, value: value,
                                                    requirement: requirement)
        }
    }

    static func fans(_ shape: [Int], _ initializer: String) throws -> (Int, Int) {
        guard shape.count >= 2 else {
            throw InitializerError.unsupportedShape(
                initializer: initializer, shape: shape,
                requirement: "fan in and fan out need a tensor with at least 2 dimensions")
        }
        return try fanInAndFanOut(shape)
    }

    /// gain / √fan, or nil for a tensor with no elements (PyTorch leaves those alone).
    static func kaimingStd(_ shape: [Int], a: Double, mode: FanMode, nonlinearity: String,
                           _ initializer: String) throws -> Double? {
        let (fanIn, fanOut) = try fans(shape, initializer)
        let gain = try calculateGain(nonlinearity: nonlinearity, param: a)
        let fan = mode == .fanIn ? fanIn : fanOut
        if shape.contains(0) || fan == 0 { return nil }
        return gain / Double(fan).squareRoot()
    }

    /// The first `n` columns of Q in A = QR for a row-major `m × n` matrix A (m ≥ n), by
    /// Householder reflections, with column j multiplied by sign(R[j, j]) (+1 where R[j, j] = 0).
    /// Returned row-major. Works column-major on raw pointers: this runs in debug builds too.
    static func householderQ(_ matrix: [Double], rows m: Int, columns n: Int) -> [Double] {
        precondition(m >= n && matrix.count == m * n, "householderQ: needs rows ≥ columns, got \(m) × \(n)")
        let a = UnsafeMutablePointer<Double>.allocate(capacity: m * n)  // column j at a + j·m
        let v = UnsafeMutablePointer<Double>.allocate(capacity: m * n)  // reflector k at v + k·m, rows k..<m
        let q = UnsafeMutablePointer<Double>.allocate(capacity: m * n)
        defer { a.deallocate(); v.deallocate(); q.deallocate() }
        for i in 0..<m { for j in 0..<n { a[j * m + i] = matrix[i * n + j] } }
        v.initialize(repeating: 0, count: m * n)
        var signs = [Double](repeating: 1, count: n)
        for k in 0..<n {
            let column = a + k * m, reflector = v + k * m
            var norm = 0.0
            for i in k..<m { norm += column[i] * column[i] }
            norm = norm.squareRoot()
            if norm == 0 { continue }  // nothing to reflect: H_k = I, R[k, k] = 0
            let alpha = column[k] >= 0 ? -norm : norm  // R[k, k] after the reflection
            for i in k..<m { reflector[i] = column[i] }
            reflector[k] -= alpha
            var length = 0.0
            for i in k..<m { length += reflector[i] * reflector[i] }
            length = length.squareRoot()
            for i in k..<m { reflector[i] /= length }
            // A[k..., k...] -= 2 v (vᵀ A[k..., k...])
            for j in k..<n { reflect(a + j * m, by: reflector, from: k, to: m) }
            signs[k] = alpha < 0 ? -1 : 1
        }
        // Q = H_0 H_1 ⋯ H_{n−1} applied to the first n columns of the identity; H_k leaves
        // columns j < k alone, which are still e_j on rows ≥ k.
        q.initialize(repeating: 0, count: m * n)
        for j in 0..<n { q[j * m + j] = 1 }
        for k in stride(from: n - 1, through: 0, by: -1) {
            let reflector = v + k * m
            for j in k..<n { reflect(q + j * m, by: reflector, from: k, to: m) }
        }
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { out[i * n + j] = q[j * m + i] * signs[j] } }
        return out
    }

    /// x[lo..<hi] -= 2 v (vᵀ x[lo..<hi]) for a unit reflector v. `while` loops, not ranges:
    /// debug builds do not inline range iteration, and this is the O(m·n²) inner loop.
    private static func reflect(_ x: UnsafeMutablePointer<Double>, by v: UnsafeMutablePointer<Double>,
                                from lo: Int, to hi: Int) {
        var dot = 0.0
        var i = lo
        while i < hi { dot += v[i] * x[i]; i += 1 }
        if dot == 0 { return }
        dot *= 2
        i = lo
        while i < hi { x[i] -= dot * v[i]; i += 1 }
    }
}

/// A weight or bias initialization as a spec file names it (`init: xavier_uniform`), with its
/// parameters; `apply(to:)` runs the matching `Init` function.
///
/// Spec files write a bare name (`xavier_uniform`) or an object with `type` and the parameters
/// in snake_case (`{type: normal, std: 0.02}`, `{type: kaiming_normal, mode: fan_out}`). A gain
/// or nonlinearity left out is derived from the activation passed to `apply`.
public enum Initializer: Equatable, Sendable, Codable {
    /// The layer's own default: PyTorch's `Linear` init, U(−1/√fan_in, 1/√fan_in), for weight and bias.
    case `default`
    /// Glorot uniform; `gain` nil means `calculateGain(activation)` (1 without one).
    case xavierUniform(gain: Double? = nil)
    /// Glorot normal; `gain` nil means `calculateGain(activation)`.
    case xavierNormal(gain: Double? = nil)
    /// He uniform; `nonlinearity` nil means the activation (PyTorch's `leaky_relu`, a = 0, without one),
    /// `a` nil means the activation's parameter (0 with an explicit nonlinearity).
    case kaimingUniform(a: Double? = nil, mode: FanMode = .fanIn, nonlinearity: String? = nil)
    /// He normal; parameters as `kaimingUniform`.
    case kaimingNormal(a: Double? = nil, mode: FanMode = .fanIn, nonlinearity: String? = nil)
    /// Orthogonal times `gain`; nil means `calculateGain(activation)`.
    case orthogonal(gain: Double? = nil)
    /// N(mean, std²).
    case normal(mean: Double = 0, std: Double = 1)
    /// U(low, high).
    case uniform(low: Double = 0, high: Double = 1)
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// `value` everywhere.
    case constant(value: Double)
    /// N(mean, std²) restricted to the absolute bounds [a, b].
    case truncatedNormal(mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2)
    /// N(0, std²) with ⌈sparsity · rows⌉ zeros per column.
    case sparse(sparsity: Double, std: Double = 0.01)
    /// The identity matrix (2-D only).
    case eye

    /// Every name a spec file may use, in snake_case.
    public static let names = [
        "default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal",
        "normal", "uniform", "zeros", "ones", "constant", "truncated_normal", "sparse", "eye",
    ]

    /// The snake_case name a spec file writes (`xavier_uniform`).
    public var name: String {
        switch self {
        case .default: return "default"
        case .xavierUniform: return "xavier_uniform"
        case .xavierNormal: return "xavier_normal"
        case .kaimingUniform: return "kaiming_uniform"
        case .kaimingNormal: return "kaiming_normal"
        case .orthogonal: return "orthogonal"
        case .normal: return "normal"
        case .uniform: return "uniform"
        case .zeros: return "zeros"
        case .ones: return "ones"
        case .constant: return "constant"
        case .truncatedNormal: return "truncated_normal"
        case .sparse: return "sparse"
        case .eye: return "eye"
        }
    }

    /// The initializer named `name` with PyTorch's default parameters.
    ///
    /// - Throws: `InitializerError.unknownInitializer` for a name outside `names`;
    ///   `missingParameter` for `constant` (needs `value`) and `sparse` (needs `sparsity`).
    public init(name: String) throws {
        switch name {
        case "default": self = .default
        case "xavier_uniform": self = .xavierUniform()
        case "xavier_normal": self = .xavierNormal()
        case "kaiming_uniform": self = .kaimingUniform()
        case "kaiming_normal": self = .kaimingNormal()
        case "orthogonal": self = .orthogonal()
        case "normal": self = .normal()
        case "uniform": self = .uniform()
        case "zeros": self = .zeros
        case "ones": self = .ones
        case "truncated_normal": self = .truncatedNormal()
        case "eye": self = .eye
        case "constant": throw InitializerError.missingParameter(initializer: name, name: "value")
        case "sparse": throw InitializerError.missingParameter(initializer: name, name: "sparsity")
        default: throw InitializerError.unknownInitializer(name)
        }
    }

    /// A new tensor of `shape` drawn as this initializer says.
    ///
    /// - Parameters:
    ///   - shape: the tensor's shape.
    ///   - activation: the nonlinearity after the layer (`calculateGain` names; `identity` and
    ///     `none` count as `linear`); supplies the gain or nonlinearity left out. Nil: PyTorch's defaults.
    ///   - activationParameter: the activation's parameter (the `leaky_relu` slope).
    ///   - fanIn: the layer's fan-in, for `.default` on a 1-D bias.
    ///   - generator: the random source.
    /// - Throws: `InitializerError` for an unknown activation, a shape the initializer cannot
    ///   take or a parameter out of range.
    public func tensor<Scalar: TensorScalar>(
        shape: [Int], activation: String? = nil, activationParameter: Double? = nil, fanIn: Int? = nil,
        generator: RandomGenerator
    ) throws -> Tensor<Scalar> {
        let nonlinearity = activation.map(Initializer.gainName)
        func gain(_ explicit: Double?) throws -> Double {
            if let explicit { return explicit }
            guard let nonlinearity else { return 1 }
            return try calculateGain(nonlinearity: nonlinearity, param: activationParameter)
        }
        func kaiming(_ a: Double?, _ named: String?) -> (Double, String) {
            if let named { return (a ?? 0, named) }
            if let nonlinearity { return (a ?? activationParameter ?? (nonlinearity == "leaky_relu" ? 0.01 : 0), nonlinearity) }
            return (a ?? 0, "leaky_relu")
        }
        switch self {
        case .default:
            let fan: Int
            if let fanIn { fan = fanIn } else if shape.count >= 2 { fan = try fanInAndFanOut(shape).fanIn } else {
                throw InitializerError.unsupportedShape(
                    initializer: "default", shape: shape,
                    requirement: "a 1-D tensor needs the layer's fan-in")
            }
            if fan == 0 || shape.contains(0) { return .zeros(shape) }
            // Exactly `Linear`'s own initialization, so a generator in the same state gives the same values.
            let bound = Scalar(1 / Double(fan).squareRoot())
            return .uniform(shape, low: -bound, high: bound, generator: generator)
        case .xavierUniform(let g):
            return try Init.xavierUniform(shape: shape, gain: gain(g), generator: generator)
        case .xavierNormal(let g):
            return try Init.xavierNormal(shape: shape, gain: gain(g), generator: generator)
        case .kaimingUniform(let a, let mode, let named):
            let (slope, name) = kaiming(a, named)
            return try Init.kaimingUniform(shape: shape, a: slope, mode: mode, nonlinearity: name, generator: generator)
        case .kaimingNormal(let a, let mode, let named):
            let (slope, name) = kaiming(a, named)
            return try Init.kaimingNormal(shape: shape, a: slope, mode: mode, nonlinearity: name, generator: generator)
        case .orthogonal(let g):
            return try Init.orthogonal(shape: shape, gain: gain(g), generator: generator)
        case .normal(let mean, let std):
            return try Init.normal(shape: shape, mean: mean, std: std, generator: generator)
        case .uniform(let low, let high):
            return try Init.uniform(shape: shape, low: low, high: high, generator: generator)
        case .zeros:
            return .zeros(shape)
        case .ones:
            return .ones(shape)
        case .constant(let value):
            try Init.require(value.isFinite, "constant", "value", value, "must be finite")
            return Init.constant(shape: shape, value: value)
        case .truncatedNormal(let mean, let std, let a, let b):
            return try Init.truncatedNormal(shape: shape, mean: mean, std: std, a: a, b: b, generator: generator)
        case .sparse(let sparsity, let std):
            return try Init.sparse(shape: shape, sparsity: sparsity, std: std, generator: generator)
        case .eye:
            return try Init.eye(shape: shape)
        }
    }

    /// Fills `parameter` in place as this initializer says (arguments as `tensor(shape:...)`).
    public func apply<Scalar: TensorScalar>(
        to parameter: Parameter<Scalar>, activation: String? = nil, activationParameter: Double? = nil,
        fanIn: Int? = nil, generator: RandomGenerator
    ) throws {
        parameter.assign(try tensor(shape: parameter.shape, activation: activation,
                                    activationParameter: activationParameter, fanIn: fanIn, generator: generator))
    }

    /// The `calculateGain` name of an activation name (`identity` and `none` are `linear`).
    static func gainName(_ activation: String) -> String {
        switch activation {
        case "identity", "none": return "linear"
        default: return activation
        }
    }

    // MARK: Codable

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The parameter keys each name accepts besides `type`.
    private static let allowedKeys: [String: [String]] = [
        "default": [], "zeros": [], "ones": [], "eye": [],
        "xavier_uniform": ["gain"], "xavier_normal": ["gain"], "orthogonal": ["gain"],
        "kaiming_uniform": ["a", "mode", "nonlinearity"], "kaiming_normal": ["a", "mode", "nonlinearity"],
        "normal": ["mean", "std"], "uniform": ["low", "high"], "constant": ["value"],
        "truncated_normal": ["mean", "std", "a", "b"], "sparse": ["sparsity", "std"],
    ]

    /// Decodes a bare name (`"xavier_uniform"`) or an object `{"type": name, parameters...}`.
    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
            do { self = try Initializer(name: name) } catch let error as InitializerError {
                throw DecodingError.dataCorruptedError(in: single, debugDescription: error.description)
            }
            return
        }
        let c = try decoder.container(keyedBy: Key.self)
        let name = try c.decode(String.self, forKey: Key("type"))
        guard let allowed = Initializer.allowedKeys[name] else {
            throw DecodingError.dataCorruptedError(forKey: Key("type"), in: c,
                                                   debugDescription: InitializerError.unknownInitializer(name).description)
        }
        for key in c.allKeys where key.stringValue != "type" && !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription: "\(name) has no parameter '\(key.stringValue)' (allowed: \(allowed.joined(separator: ", ")))")
        }
        func number(_ key: String) throws -> Double? { try c.decodeIfPresent(Double.self, forKey: Key(key)) }
        func required(_ key: String) throws -> Double {
            guard let value = try number(key) else {
                throw DecodingError.keyNotFound(Key(key), .init(
                    codingPath: c.codingPath,
                    debugDescription: InitializerError.missingParameter(initializer: name, name: key).description))
            }
            return value
        }
        let mode = try c.decodeIfPresent(FanMode.self, forKey: Key("mode")) ?? .fanIn
        let nonlinearity = try c.decodeIfPresent(String.self, forKey: Key("nonlinearity"))
        switch name {
        case "xavier_uniform": self = .xavierUniform(gain: try number("gain"))
        case "xavier_normal": self = .xavierNormal(gain: try number("gain"))
        case "orthogonal": self = .orthogonal(gain: try number("gain"))
        case "kaiming_uniform": self = .kaimingUniform(a: try number("a"), mode: mode, nonlinearity: nonlinearity)
        case "kaiming_normal": self = .kaimingNormal(a: try number("a"), mode: mode, nonlinearity: nonlinearity)
        case "normal": self = .normal(mean: try number("mean") ?? 0, std: try number("std") ?? 1)
        case "uniform": self = .uniform(low: try number("low") ?? 0, high: try number("high") ?? 1)
        case "constant": self = .constant(value: try required("value"))
        case "truncated_normal":
            self = .truncatedNormal(mean: try number("mean") ?? 0, std: try number("std") ?? 1,
                                    a: try number("a") ?? -2, b: try number("b") ?? 2)
        case "sparse": self = .sparse(sparsity: try required("sparsity"), std: try number("std") ?? 0.01)
        default: self = try Initializer(name: name)
        }
    }

    /// Encodes a bare name when every parameter has its default, else an object with `type`.
    public func encode(to encoder: Encoder) throws {
        var fields: [(String, Double)] = []
        var mode: FanMode?, nonlinearity: String?
        switch self {
        case .default, .zeros, .ones, .eye: break
        case .xavierUniform(let g), .xavierNormal(let g), .orthogonal(let g):
            if let g { fields = [("gain", g)] }
        case .kaimingUniform(let a, let m, let n), .kaimingNormal(let a, let m, let n):
            if let a { fields = [("a", a)] }
            if m != .fanIn { mode = m }
            nonlinearity = n
        case .normal(let mean, let std):
            fields = [("mean", mean), ("std", std)].filter { $0 != ("mean", 0) && $0 != ("std", 1) }
        case .uniform(let low, let high):
            fields = [("low", low), ("high", high)].filter { $0 != ("low", 0) && $0 != ("high", 1) }
        case .constant(let value):
            fields = [("value", value)]
        case .truncatedNormal(let mean, let std, let a, let b):
            fields = [("mean", mean), ("std", std), ("a", a), ("b", b)]
                .filter { $0 != ("mean", 0) && $0 != ("std", 1) && $0 != ("a", -2) && $0 != ("b", 2) }
        case .sparse(let sparsity, let std):
            fields = [("sparsity", sparsity)] + (std != 0.01 ? [("std", std)] : [])
        }
        if fields.isEmpty && mode == nil && nonlinearity == nil {
            var single = encoder.singleValueContainer()
            try single.encode(name)
            return
        }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("type"))
        for (key, value) in fields { try c.encode(value, forKey: Key(key)) }
        if let mode { try c.encode(mode, forKey: Key("mode")) }
        if let nonlinearity { try c.encode(nonlinearity, forKey: Key("nonlinearity")) }
    }
}

/// Initializes the weight and bias of every `Linear` in `module`'s tree (`namedModules` order,
/// weight before bias), as a PyTorch `model.apply(init_fn)` loop over `nn.Linear` layers.
///
/// All new values are drawn before any is written, so on an error the module is unchanged.
/// With `.default` for both, the draws are those of a freshly constructed `Linear`.
/// - Parameters:
///   - module: the root of the tree.
///   - weight: the weights' initializer.
///   - bias: the biases' initializer (`.default` is U(−1/√fan_in, 1/√fan_in)).
///   - activation: the nonlinearity between layers; supplies the gain (Xavier, orthogonal) or the
///     nonlinearity (Kaiming) an initializer leaves out.
///   - activationParameter: the activation's parameter (the `leaky_relu` slope).
///   - generator: the random source.
/// - Throws: `InitializerError` (see `Initializer.tensor`).
public func initializeLinearLayers(
    in module: some Module, weight: Initializer, bias: Initializer = .default,
    activation: String? = nil, activationParameter: Double? = nil, generator: RandomGenerator
) throws {
    try initializeLinearLayers(module, weight: weight, bias: bias, activation: activation,
                               activationParameter: activationParameter, generator: generator)
}

private func initializeLinearLayers<M: Module>(
    _ module: M, weight: Initializer, bias: Initializer, activation: String?, activationParameter: Double?,
    generator: RandomGenerator
) throws {
    var planned: [(Parameter<M.Scalar>, Tensor<M.Scalar>)] = []
    for (_, child) in module.namedModules {
        guard let layer = child as? Linear<M.Scalar> else { continue }
        planned.append((layer.weight, try weight.tensor(
            shape: layer.weight.shape, activation: activation, activationParameter: activationParameter,
            fanIn: layer.inFeatures, generator: generator)))
        if let b = layer.bias {
            planned.append((b, try bias.tensor(
                shape: b.shape, activation: activation, activationParameter: activationParameter,
                fanIn: layer.inFeatures, generator: generator)))
        }
    }
    for (parameter, value) in planned { parameter.assign(value) }
}
