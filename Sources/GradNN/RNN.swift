import GradTensor

/// The nonlinearity of an Elman `RNN` (PyTorch's `nonlinearity='tanh'` or `'relu'`).
public enum RNNNonlinearity: String, Sendable, CaseIterable {
    case tanh
    case relu
}

/// A multi-layer Elman recurrent network (PyTorch's `nn.RNN`; Elman 1990).
///
/// Per layer and step: `h' = φ(W_ih·x + b_ih + W_hh·h + b_hh)` with φ = tanh or ReLU. Input
/// `[T, B, in]` (`[B, T, in]` with `batchFirst`); `forward` returns the last layer's `h` at every
/// step, `run` also `h_n`, `[numLayers, B, H]`. Parameters per layer `k`: `weight_ih_l{k}`
/// `[H, in]`, `weight_hh_l{k}` `[H, H]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[H]`, all initialized
/// from U(−1/√H, 1/√H) as in PyTorch. The network where gradients vanish (or explode) through
/// time: `∂h_T/∂h_t` is a product of `T − t` Jacobians `diag(φ')·W_hh`.
public final class RNN<Scalar: TensorScalar>: RecurrentNetwork<Scalar> {
    /// The nonlinearity φ.
    public let nonlinearity: RNNNonlinearity

    /// - Parameters:
    ///   - inputSize: features of each input step.
    ///   - hiddenSize: units `H` of each layer.
    ///   - numLayers: stacked layers (PyTorch's `num_layers`).
    ///   - nonlinearity: tanh (PyTorch's default) or ReLU.
    ///   - bias: whether to learn `b_ih` and `b_hh`.
    ///   - batchFirst: input and output `[B, T, ·]` instead of `[T, B, ·]`.
    ///   - orthogonalRecurrentWeights: if true, `weight_hh` is a random orthogonal matrix (Saxe
    ///     et al. 2013; Le et al. 2015 use the identity for ReLU) instead of PyTorch's uniform draw.
    ///   - generator: the random source of the initialization.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                bias: Bool = true, batchFirst: Bool = false, orthogonalRecurrentWeights: Bool = false,
                generator: RandomGenerator) {
        self.nonlinearity = nonlinearity
        super.init(core: RecurrentCore(typeName: "RNN", cell: nonlinearity == .tanh ? .rnnTanh : .rnnReLU, inputSize: inputSize,
                             hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                             orthogonalRecurrentWeights: orthogonalRecurrentWeights, forgetGateBias: nil,
                             generator: generator))
    }
}
