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

/// Runs its modules in order; parameters are named `0.weight`, `0.bias`, `2.weight`, ... as in
/// PyTorch's `nn.Sequential`.
public final class Sequential<Scalar: TensorScalar>: Module {
    public private(set) var layers: [any Module<Scalar>]
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    public init(_ layers: [any Module<Scalar>]) { self.layers = layers }
    public convenience init(_ layers: any Module<Scalar>...) { self.init(layers) }

    /// Appends a module at the end.
    public func append(_ layer: any Module<Scalar>) { layers.append(layer) }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input
        for layer in layers { x = layer(x) }
        return x
    }

    public var children: [(String, any Module<Scalar>)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public var summary: String {
        // A nested container's lines are indented by two more spaces, as PyTorch does.
        "Sequential(\n" + layers.enumerated().map {
            "  (\($0.offset)): " + $0.element.summary.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        }.joined(separator: "\n") + "\n)"
    }
}
