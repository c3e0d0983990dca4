import GradTensor

/// A multi-layer gated recurrent unit network (PyTorch's `nn.GRU`; Cho et al. 2014).
///
/// Per layer and step, with gates in PyTorch's order r, z, n stacked in the weights:
/// `r = σ(W_ir·x + b_ir + W_hr·h + b_hr)`, `z = σ(W_iz·x + b_iz + W_hz·h + b_hz)`,
/// `n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`. Input
/// `[T, B, in]` (`[B, T, in]` with `batchFirst`); `forward` returns the last layer's `h` at every
/// step, `run` also `h_n`, `[numLayers, B, H]`. Parameters per layer `k`: `weight_ih_l{k}`
/// `[3H, in]`, `weight_hh_l{k}` `[3H, H]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[3H]`, all
/// initialized from U(−1/√H, 1/√H) as in PyTorch.
public final class GRU<Scalar: TensorScalar>: RecurrentNetwork<Scalar> {

    /// - Parameters:
    ///   - inputSize: features of each input step.
    ///   - hiddenSize: units `H` of each layer.
    ///   - numLayers: stacked layers (PyTorch's `num_layers`).
    ///   - bias: whether to learn `b_ih` and `b_hh`.
    ///   - batchFirst: input and output `[B, T, ·]` instead of `[T, B, ·]`.
    ///   - orthogonalRecurrentWeights: if true, each `H × H` gate block of `weight_hh` is a
    ///     random orthogonal matrix (Saxe et al. 2013) instead of PyTorch's uniform draw.
    ///   - generator: the random source of the initialization.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                orthogonalRecurrentWeights: Bool = false, generator: RandomGenerator) {
        super.init(core: RecurrentCore(typeName: "GRU", cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize,
                             numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                             orthogonalRecurrentWeights: orthogonalRecurrentWeights, forgetGateBias: nil,
                             generator: generator))
    }
}
