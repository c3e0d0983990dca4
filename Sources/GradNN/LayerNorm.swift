import GradTensor

/// Layer normalization over the trailing axes (PyTorch's `nn.LayerNorm`, Ba et al. 2016).
///
/// Input `[..., D₁, ..., Dₖ]` ending with `normalizedShape`, output of the same shape. Each
/// row (the `D₁⋯Dₖ` trailing values of one example) is normalized with its own mean and
/// biased variance, `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, the same in training and evaluation mode.
/// Parameters `weight` (γ, ones) and `bias` (β, zeros) of shape `normalizedShape` when
/// `elementwiseAffine`. One fused op (`layerNormalized`) with a closed-form pullback.
public final class LayerNorm<Scalar: TensorScalar>: Module {
    /// The trailing shape normalized over.
    public let normalizedShape: [Int]
    /// ε added to the variance.
    public let eps: Double
    /// γ, or nil without `elementwiseAffine`.
    public let weight: Parameter<Scalar>?
    /// β, or nil without `elementwiseAffine` or with `bias: false`.
    public let bias: Parameter<Scalar>?
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - normalizedShape: the trailing axes' sizes (non-empty, all positive).
    ///   - eps: ε added to the variance (PyTorch: 1e-5).
    ///   - elementwiseAffine: whether to learn γ (and β).
    ///   - bias: whether to learn β when `elementwiseAffine` (PyTorch ≥ 2.1's `bias`).
    public init(normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "LayerNorm: normalizedShape must be non-empty and positive, got \(normalizedShape)")
        precondition(eps >= 0 && eps.isFinite, "LayerNorm: eps must be finite and ≥ 0, got \(eps)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Parameter(.ones(normalizedShape)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(.zeros(normalizedShape)) : nil
    }

    /// Normalizes over the last axis, of size `features`.
    public convenience init(_ features: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init(normalizedShape: [features], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    /// Whether γ is learned.
    public var elementwiseAffine: Bool { weight != nil }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(input.rank >= normalizedShape.count && Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                     "LayerNorm: input shape \(input.shape) does not end with normalized shape \(normalizedShape)")
        return layerNormalized(input, normalizedShape: normalizedShape, weight: weight?.value, bias: bias?.value,
                               epsilon: Scalar(eps))
    }

    public var namedParameters: [(String, Parameter<Scalar>)] {
        (weight.map { [("weight", $0)] } ?? []) + (bias.map { [("bias", $0)] } ?? [])
    }

    /// As PyTorch prints it: `LayerNorm((10,), eps=1e-05, elementwise_affine=True)`.
    public var summary: String {
        let shape = normalizedShape.count == 1 ? "(\(normalizedShape[0]),)"
            : "(" + normalizedShape.map(String.init).joined(separator: ", ") + ")"
        return "LayerNorm(\(shape), eps=\(eps), elementwise_affine=\(elementwiseAffine ? "True" : "False"))"
    }
}
