import GradTensor

extension Sequential {
    /// A multilayer perceptron with the classic remedies for vanishing gradients: batch
    /// normalization after each hidden `Linear`, and residual connections around the hidden
    /// layers of equal width.
    ///
    /// The module list is that of the equivalent `nn.Sequential`, so the parameter names match
    /// PyTorch's `state_dict`:
    /// - plain: `Linear, act, Linear, act, ..., Linear` (`0.weight`, `2.weight`, ...), exactly as
    ///   `mlp(inputSize:hiddenSizes:outputSize:activation:outputActivation:generator:)`;
    /// - `batchNorm`: `Linear, BatchNorm1d, act` per hidden layer, then `Linear`
    ///   (`0.weight`, `1.weight`, `1.running_mean`, `1.num_batches_tracked`, `3.weight`, ...);
    /// - `residual`: the first hidden layer (which changes the width) stays `Linear, [BatchNorm1d],
    ///   act`; every later hidden layer whose width equals its input's becomes one `Residual`
    ///   block `x + F(x)` with `F = Sequential(Linear, [BatchNorm1d], act)` (names
    ///   `2.body.0.weight`, `2.body.1.running_mean`, ..., and `2.alpha` with a learnable
    ///   scaling); a later hidden layer that changes the width stays plain. The output `Linear`
    ///   follows.
    /// - Parameters:
    ///   - inputSize: features per example.
    ///   - hiddenSizes: width of each hidden layer.
    ///   - outputSize: outputs per example.
    ///   - activation: the nonlinearity of each hidden layer.
    ///   - outputActivation: an optional nonlinearity after the last `Linear`.
    ///   - batchNorm: whether to put `BatchNorm1d` between each hidden `Linear` and its activation.
    ///   - residual: whether to wrap the equal-width hidden layers in residual blocks.
    ///   - residualScaling: the blocks' branch scaling (`.reZero`, `.skipInit`); `.none` by default.
    ///   - generator: the random source of PyTorch's default initialization (drawn in layer order).
    public static func mlp(
        inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation,
        outputActivation: Activation? = nil, batchNorm: Bool, residual: Bool = false,
        residualScaling: ResidualScaling = .none, generator: RandomGenerator
    ) -> Sequential<Scalar> {
        precondition(inputSize > 0 && outputSize > 0 && hiddenSizes.allSatisfy { $0 > 0 },
                     "mlp: sizes must be positive, got input \(inputSize), hidden \(hiddenSizes), output \(outputSize)")
        var layers: [any Module<Scalar>] = []
        var width = inputSize
        for (index, hidden) in hiddenSizes.enumerated() {
            var hiddenLayer: [any Module<Scalar>] = [Linear<Scalar>(width, hidden, generator: generator)]
            if batchNorm { hiddenLayer.append(BatchNorm1d<Scalar>(numFeatures: hidden)) }
            hiddenLayer.append(activation.makeLayer(Scalar.self))
            if residual && index > 0 && hidden == width {
                layers.append(Residual(Sequential(hiddenLayer), scaling: residualScaling))
            } else {
                layers += hiddenLayer
            }
            width = hidden
        }
        layers.append(Linear<Scalar>(width, outputSize, generator: generator))
        if let outputActivation { layers.append(outputActivation.makeLayer(Scalar.self)) }
        return Sequential(layers)
    }

    /// The residual blocks in this container with their names, in order.
    public var residualBlocks: [(String, Residual<Scalar>)] {
        namedModules.compactMap { name, module in (module as? Residual<Scalar>).map { (name, $0) } }
    }
}
