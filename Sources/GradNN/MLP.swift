import GradTensor

extension Sequential {
    /// A multilayer perceptron as PyTorch users write it: `Linear, activation, Linear, ...,
    /// Linear`, with parameter names `0.weight`, `0.bias`, `2.weight`, ... exactly as the
    /// equivalent `nn.Sequential`.
    ///
    /// - Parameters:
    ///   - inputSize: features per example.
    ///   - hiddenSizes: width of each hidden layer (`[10, 10, 10]` is three hidden layers).
    ///   - outputSize: outputs per example.
    ///   - activation: the nonlinearity after each hidden `Linear`.
    ///   - outputActivation: an optional nonlinearity after the last `Linear` (e.g. sigmoid
    ///     before a probability loss).
    ///   - generator: the random source of PyTorch's default initialization.
    public static func mlp(
        inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation,
        outputActivation: Activation? = nil, generator: RandomGenerator
    ) -> Sequential<Scalar> {
        var layers: [any Module<Scalar>] = []
        var width = inputSize
        for hidden in hiddenSizes {
            layers.append(Linear<Scalar>(width, hidden, generator: generator))
            layers.append(activation.makeLayer(Scalar.self))
            width = hidden
        }
        layers.append(Linear<Scalar>(width, outputSize, generator: generator))
        if let outputActivation { layers.append(outputActivation.makeLayer(Scalar.self)) }
        return Sequential(layers)
    }

    /// The `Linear` layers with their names in this container, in order.
    public var linearLayers: [(String, Linear<Scalar>)] {
        namedModules.compactMap { name, module in (module as? Linear<Scalar>).map { (name, $0) } }
    }
}
