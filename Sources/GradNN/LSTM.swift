import GradTensor

/// A multi-layer long short-term memory network (PyTorch's `nn.LSTM`; Hochreiter & Schmidhuber
/// 1997, with the forget gate of Gers et al. 2000).
///
/// Per layer and step, with gates in PyTorch's order i, f, g, o stacked in the weights:
/// `i = σ(W_ii·x + b_ii + W_hi·h + b_hi)`, `f = σ(W_if·x + b_if + W_hf·h + b_hf)`,
/// `g = tanh(W_ig·x + b_ig + W_hg·h + b_hg)`, `o = σ(W_io·x + b_io + W_ho·h + b_ho)`,
/// `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`. Input `[T, B, in]` (`[B, T, in]` with
/// `batchFirst`); `forward` returns the last layer's `h` at every step, `run` also
/// `(h_n, c_n)`, each `[numLayers, B, H]`. Parameters per layer `k`: `weight_ih_l{k}` `[4H, in]`,
/// `weight_hh_l{k}` `[4H, H]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[4H]`, all initialized from
/// U(−1/√H, 1/√H) as in PyTorch.
public final class LSTM<Scalar: TensorScalar>: RecurrentNetwork<Scalar> {

    /// - Parameters:
    ///   - inputSize: features of each input step.
    ///   - hiddenSize: units `H` of each layer.
    ///   - numLayers: stacked layers (PyTorch's `num_layers`).
    ///   - bias: whether to learn `b_ih` and `b_hh`.
    ///   - batchFirst: input and output `[B, T, ·]` instead of `[T, B, ·]`.
    ///   - forgetGateBias: if set, the forget gate's bias starts at this value (`b_if`, with
    ///     `b_hf = 0`), so that the cell remembers from the start (1 is the usual choice,
    ///     Gers et al. 2000; Jozefowicz et al. 2015); nil keeps PyTorch's uniform draw.
    ///   - orthogonalRecurrentWeights: if true, each `H × H` gate block of `weight_hh` is a
    ///     random orthogonal matrix (Saxe et al. 2013) instead of PyTorch's uniform draw.
    ///   - generator: the random source of the initialization.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                forgetGateBias: Double? = nil, orthogonalRecurrentWeights: Bool = false, generator: RandomGenerator) {
        super.init(core: RecurrentCore(typeName: "LSTM", cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize,
                             numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                             orthogonalRecurrentWeights: orthogonalRecurrentWeights, forgetGateBias: forgetGateBias,
                             generator: generator))
    }
}
