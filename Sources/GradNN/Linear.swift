import GradTensor

/// A fully connected layer `y = x·Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// Shapes: input `[..., inFeatures]`, output `[..., outFeatures]`; `weight` is
/// `[outFeatures, inFeatures]`, `bias` `[outFeatures]`. The default initialization is
/// PyTorch's: `kaiming_uniform_(a=√5)` for the weight, i.e. U(−1/√in, 1/√in), and the bias
/// U(−1/√in, 1/√in).
public final class Linear<Scalar: TensorScalar>: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - inFeatures: size of each input row.
    ///   - outFeatures: size of each output row.
    ///   - bias: whether to learn an additive bias.
    ///   - generator: the random source of the default initialization.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive, got \(inFeatures) → \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = Scalar(1 / Double(inFeatures).squareRoot())
        weight = Parameter(.uniform([outFeatures, inFeatures], low: -bound, high: bound, generator: generator))
        self.bias = bias ? Parameter(.uniform([outFeatures], low: -bound, high: bound, generator: generator)) : nil
    }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        linear(input, weight: weight.value, bias: bias?.value)
    }

    public var namedParameters: [(String, Parameter<Scalar>)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var summary: String { "Linear(in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias == nil ? "False" : "True"))" }
}

/// Passes its input through unchanged (PyTorch's `nn.Identity`); also the "linear" activation.
public final class Identity<Scalar: TensorScalar>: Module {
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init() {}
    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input }
}

/// Flattens all axes from `startAxis` on into one (PyTorch's `nn.Flatten`, default from axis 1).
public final class Flatten<Scalar: TensorScalar>: Module {
    public let startAxis: Int
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    public init(startAxis: Int = 1) { self.startAxis = startAxis }
    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.flattened(startAxis: startAxis) }
}
