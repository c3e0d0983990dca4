import Testing
import GradTensor
import GradNN

/// `Sequential` runs `Linear` + activation runs as one fused op; it must be indistinguishable
/// from running the layers one by one: the same bits, the same gradients, the same hooks.
@Suite struct SequentialFusionTests {
    /// A net whose fusable runs are broken by a PReLU and an Identity, ending in a bare Linear.
    static func makeNet(fused: Bool) -> Sequential<Float> {
        let g = RandomGenerator(seed: 11)
        let model = Sequential<Float>(
            Linear<Float>(3, 8, generator: g), Sigmoid(), Linear<Float>(8, 8, generator: g), ReLU(),
            Linear<Float>(8, 6, bias: false, generator: g), PReLU(), Linear<Float>(6, 6, generator: g), Tanh(),
            Identity(), Linear<Float>(6, 5, generator: g), GELU(), Linear<Float>(5, 2, generator: g))
        model.fusesLinearChains = fused
        return model
    }

    static let input = Tensor<Float>.uniform([7, 3], low: -2, high: 2, generator: RandomGenerator(seed: 12))

    /// Output, loss and every parameter gradient of one forward/backward pass.
    static func pass(_ model: Sequential<Float>) -> (output: [Float], loss: Float, grads: [[Float]]) {
        let y = model(input)
        let loss = meanSquaredError(predictions: y, targets: Tensor.ones([7, 2]))
        loss.backward()
        return (y.scalars, loss.scalar, model.parameters.map { $0.grad?.scalars ?? [] })
    }

    @Test func fusedAndUnfusedAgreeBitForBit() {
        let fused = Self.pass(Self.makeNet(fused: true))
        let unfused = Self.pass(Self.makeNet(fused: false))
        #expect(fused.output == unfused.output)
        #expect(fused.loss == unfused.loss)
        #expect(fused.grads.count == 12)
        #expect(fused.grads == unfused.grads)
        #expect(fused.grads.allSatisfy { !$0.isEmpty })
    }

    @Test func fusedRunIsOneGraphNode() {
        let model = Self.makeNet(fused: true)
        #expect(model(Self.input).gradientOp == "linearChain")
        let bare = Sequential<Float>(PReLU(), Linear<Float>(3, 4, generator: RandomGenerator(seed: 1)))
        #expect(bare(Self.input).gradientOp == "linear")  // a lone Linear is not a run
        let chain = Sequential<Float>(Linear<Float>(3, 4, generator: RandomGenerator(seed: 1)), Tanh())
        #expect(chain(Self.input).gradientOp == "linearChain")
        chain.fusesLinearChains = false
        #expect(chain(Self.input).gradientOp == "tanh")
    }

    @Test func gradientsAccumulateAcrossPasses() {
        let model = Self.makeNet(fused: true)
        let once = Self.pass(model).grads
        let twice = Self.pass(model).grads
        for (a, b) in zip(once, twice) {
            for (x, y) in zip(a, b) { #expect(Swift.abs(y - 2 * x) <= 1e-6 * Swift.max(1, Swift.abs(x))) }
        }
    }

    /// Every forward hook call (module index, input, output) and output-gradient call
    /// (module index, gradient), in order.
    static func hookLog(fused: Bool) -> (forward: [(Int, [Float], [Float])], gradients: [(Int, [Float])]) {
        let model = makeNet(fused: fused)
        var forward: [(Int, [Float], [Float])] = []
        var gradients: [(Int, [Float])] = []
        for (index, layer) in model.layers.enumerated() {
            layer.hooks.addForwardHook { _, input, output in forward.append((index, input.scalars, output.scalars)) }
            layer.hooks.addOutputGradientHook { _, gradient in gradients.append((index, gradient.scalars)) }
        }
        _ = pass(model)
        return (forward, gradients)
    }

    @Test func hooksSeeTheSameValuesInTheSameOrder() {
        let fused = Self.hookLog(fused: true), unfused = Self.hookLog(fused: false)
        #expect(fused.forward.map(\.0) == Array(0..<12))
        #expect(fused.forward.map(\.0) == unfused.forward.map(\.0))
        for (a, b) in zip(fused.forward, unfused.forward) {
            #expect(a.1 == b.1, "forward hook input of layer \(a.0)")
            #expect(a.2 == b.2, "forward hook output of layer \(a.0)")
        }
        // Output-gradient hooks fire from the last layer back. Unfused, the Identity (8) shares
        // its output tensor with the Tanh (7) before it, so their hooks fire in registration
        // order instead; the values are the same.
        #expect(fused.gradients.map(\.0) == Array((0..<12).reversed()))
        #expect(fused.gradients.map(\.0).sorted() == unfused.gradients.map(\.0).sorted())
        let unfusedByLayer = Dictionary(uniqueKeysWithValues: unfused.gradients.map { ($0.0, $0.1) })
        for (layer, gradient) in fused.gradients { #expect(gradient == unfusedByLayer[layer], "output gradient of layer \(layer)") }
    }

    @Test func appendingALayerRebuildsThePlan() {
        let g = RandomGenerator(seed: 3)
        let model = Sequential<Float>(Linear<Float>(3, 4, generator: g), ReLU())
        #expect(model(Self.input).shape == [7, 4])
        model.append(Linear<Float>(4, 2, generator: g))
        #expect(model(Self.input).shape == [7, 2])
    }
}
