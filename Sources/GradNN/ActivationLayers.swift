import GradTensor

// The activation functions as layers, for `Sequential`. Each applies the elementwise op of the
// function of the same name in GradTensor (formulas there); names and defaults follow `torch.nn`.

/// A layer that applies one elementwise function, so that `Sequential` may fuse it with the
/// `Linear` before it (see `linearChain`).
public protocol ElementwiseActivation<Scalar>: Module {
    /// The function, as GradTensor's elementwise op.
    var elementwiseOp: UnaryOp<Scalar> { get }
}

extension ElementwiseActivation {
    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.applying(elementwiseOp) }
}

/// Logistic sigmoid layer.
public final class Sigmoid<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .sigmoid }
}

/// Hyperbolic tangent layer.
public final class Tanh<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .tanh }
}

/// `max(x, 0)` layer.
public final class ReLU<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .relu }
}

/// Leaky ReLU layer (`negativeSlope` default 0.01).
public final class LeakyReLU<Scalar: TensorScalar>: ElementwiseActivation {
    public let negativeSlope: Scalar
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(negativeSlope: Scalar = 0.01) { self.negativeSlope = negativeSlope }
    public var elementwiseOp: UnaryOp<Scalar> { .leakyReLU(slope: negativeSlope) }
    public var summary: String { "LeakyReLU(negative_slope=\(negativeSlope))" }
}

/// Parametric ReLU with a learnable slope per channel (`weight`, initialised to `initialValue`, 0.25).
public final class PReLU<Scalar: TensorScalar>: Module {
    public let weight: Parameter<Scalar>
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    /// - Parameters:
    ///   - parameterCount: 1 (one shared slope) or the number of channels (axis 1 of the input).
    ///   - initialValue: the starting slope.
    public init(parameterCount: Int = 1, initialValue: Scalar = 0.25) {
        precondition(parameterCount >= 1, "PReLU: parameterCount must be at least 1, got \(parameterCount)")
        weight = Parameter(.full([parameterCount], initialValue))
    }
    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { prelu(input, weight: weight.value) }
    public var namedParameters: [(String, Parameter<Scalar>)] { [("weight", weight)] }
    public var summary: String { "PReLU(num_parameters=\(weight.value.count))" }
}

/// ELU layer (`alpha` default 1).
public final class ELU<Scalar: TensorScalar>: ElementwiseActivation {
    public let alpha: Scalar
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(alpha: Scalar = 1) { self.alpha = alpha }
    public var elementwiseOp: UnaryOp<Scalar> { .elu(alpha: alpha) }
    public var summary: String { "ELU(alpha=\(alpha))" }
}

/// SELU layer.
public final class SELU<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .selu }
}

/// GELU layer (exact, or PyTorch's `approximate='tanh'`).
public final class GELU<Scalar: TensorScalar>: ElementwiseActivation {
    public let approximateTanh: Bool
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(approximateTanh: Bool = false) { self.approximateTanh = approximateTanh }
    public var elementwiseOp: UnaryOp<Scalar> { approximateTanh ? .geluTanh : .gelu }
    public var summary: String { "GELU(approximate='\(approximateTanh ? "tanh" : "none")')" }
}

/// Softplus layer (`beta` 1, `threshold` 20).
public final class Softplus<Scalar: TensorScalar>: ElementwiseActivation {
    public let beta: Scalar
    public let threshold: Scalar
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(beta: Scalar = 1, threshold: Scalar = 20) { self.beta = beta; self.threshold = threshold }
    public var elementwiseOp: UnaryOp<Scalar> { .softplus(beta: beta, threshold: threshold) }
    public var summary: String { "Softplus(beta=\(beta), threshold=\(threshold))" }
}

/// SiLU (swish) layer.
public final class SiLU<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .silu }
}

/// Hardtanh layer (`minValue` −1, `maxValue` 1).
public final class Hardtanh<Scalar: TensorScalar>: ElementwiseActivation {
    public let minValue: Scalar
    public let maxValue: Scalar
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(minValue: Scalar = -1, maxValue: Scalar = 1) {
        precondition(minValue < maxValue, "Hardtanh: minValue \(minValue) must be below maxValue \(maxValue)")
        self.minValue = minValue
        self.maxValue = maxValue
    }
    public var elementwiseOp: UnaryOp<Scalar> { .hardtanh(low: minValue, high: maxValue) }
    public var summary: String { "Hardtanh(min_val=\(minValue), max_val=\(maxValue))" }
}

/// Softsign layer.
public final class Softsign<Scalar: TensorScalar>: ElementwiseActivation {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public var elementwiseOp: UnaryOp<Scalar> { .softsign }
}

/// The activations by name, as spec files and the doctor name them.
public enum Activation: String, CaseIterable, Sendable, Codable {
    case sigmoid, tanh, relu, leakyRelu = "leaky_relu", prelu, elu, selu, gelu, softplus, silu
    case hardtanh, softsign, linear

    /// A new layer computing this activation with PyTorch's default parameters.
    public func makeLayer<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> any Module<Scalar> {
        switch self {
        case .sigmoid: Sigmoid<Scalar>()
        case .tanh: Tanh<Scalar>()
        case .relu: ReLU<Scalar>()
        case .leakyRelu: LeakyReLU<Scalar>()
        case .prelu: PReLU<Scalar>()
        case .elu: ELU<Scalar>()
        case .selu: SELU<Scalar>()
        case .gelu: GELU<Scalar>()
        case .softplus: Softplus<Scalar>()
        case .silu: SiLU<Scalar>()
        case .hardtanh: Hardtanh<Scalar>()
        case .softsign: Softsign<Scalar>()
        case .linear: Identity<Scalar>()
        }
    }
}
