import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

@Suite struct LayerTests {
    @Test func linearShapesNamesAndForward() {
        let layer = Linear<Double>(3, 4, generator: RandomGenerator(seed: 1))
        #expect(layer.inFeatures == 3 && layer.outFeatures == 4)
        #expect(layer.weight.shape == [4, 3])
        #expect(layer.bias?.shape == [4])
        #expect(layer.namedParameters.map(\.0) == ["weight", "bias"])
        #expect(layer.parameterCount == 16)
        #expect(layer.summary == "Linear(in_features=3, out_features=4, bias=True)")
        let x = Tensor<Double>.normal([5, 3], generator: RandomGenerator(seed: 2))
        let y = layer(x)
        #expect(y.shape == [5, 4])
        #expect(y.scalars == linear(x, weight: layer.weight.value, bias: layer.bias?.value).scalars)
        #expect(layer(Tensor<Double>.zeros([2, 7, 3])).shape == [2, 7, 4])
        let plain = Linear<Float>(3, 2, bias: false, generator: RandomGenerator(seed: 1))
        #expect(plain.bias == nil)
        #expect(plain.namedParameters.map(\.0) == ["weight"])
        #expect(plain.summary == "Linear(in_features=3, out_features=2, bias=False)")
        #expect(plain(Tensor<Float>.zeros([4, 3])).scalars.allSatisfy { $0 == 0 })
    }

    @Test func linearInitializationIsPyTorchsDefault() {
        let layer = Linear<Double>(100, 200, generator: RandomGenerator(seed: 3))
        let bound = 1 / 100.0.squareRoot()
        let w = layer.weight.value
        #expect(w.min().scalar >= -bound && w.max().scalar < bound)
        #expect(layer.bias!.value.min().scalar >= -bound && layer.bias!.value.max().scalar < bound)
        // U(−b, b): mean 0, variance b²/3 (20,000 draws).
        #expect(Swift.abs(w.mean().scalar) < 0.003)
        #expect(isClose(w.variance(unbiased: false).scalar, bound * bound / 3, rtol: 0.03))
        // Reproducible from the seed.
        let again = Linear<Double>(100, 200, generator: RandomGenerator(seed: 3))
        #expect(again.weight.value.scalars == w.scalars)
        #expect(Linear<Double>(100, 200, generator: RandomGenerator(seed: 4)).weight.value.scalars != w.scalars)
    }

    @Test func parametersAreLeavesThatRequireGrad() {
        let layer = Linear<Double>(2, 2, generator: RandomGenerator(seed: 5))
        for p in layer.parameters {
            #expect(p.value.requiresGrad)
            #expect(p.value.isLeaf)
            #expect(p.grad == nil)
        }
        layer(Tensor([[1.0, 2]])).sum().backward()
        #expect(layer.weight.grad?.scalars == [1, 2, 1, 2])
        #expect(layer.bias?.grad?.scalars == [1, 1])
        layer.zeroGrad()
        #expect(layer.parameters.allSatisfy { $0.grad == nil })
    }

    @Test func parameterAssignAndUpdateKeepIdentityAndGradient() {
        var source = Tensor<Double>([1, 2])
        source.requiresGrad = true
        let p = Parameter(source)
        #expect(p.value.requiresGrad && p.value.isLeaf)
        (p.value * 3).sum().backward()
        #expect(source.grad == nil, "the parameter is its own leaf, not the tensor it was made from")
        #expect(p.grad?.scalars == [3, 3])
        p.assign(Tensor([5, 6]))
        #expect(p.value.scalars == [5, 6])
        #expect(p.grad?.scalars == [3, 3])
        #expect(source.scalars == [1, 2], "assigning does not write through to the source")
        let copy = p.value
        p.update { $0[0] = -1 }
        #expect(p.value.scalars == [-1, 6])
        #expect(copy.scalars == [5, 6], "values captured before an update keep their elements")
        p.grad = Tensor([0.5, 0.5])
        #expect(p.value.grad?.scalars == [0.5, 0.5])
    }

    @Test func sequentialNamesFollowPyTorch() {
        let g = RandomGenerator(seed: 6)
        let model = Sequential<Double>(Linear(2, 3, generator: g), ReLU(), Linear(3, 1, generator: g))
        #expect(model.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model.parameters.count == 4)
        #expect(model.parameterCount == 13)
        #expect(model.children.map(\.0) == ["0", "1", "2"])
        #expect(model.namedModules.map(\.0) == ["", "0", "1", "2"])
        let nested = Sequential<Double>(Linear(1, 2, generator: g), model)
        #expect(nested.namedParameters.map(\.0) == ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.2.weight", "1.2.bias"])
        #expect(nested.namedModules.map(\.0) == ["", "0", "1", "1.0", "1.1", "1.2"])
        #expect(nested.summary == """
            Sequential(
              (0): Linear(in_features=1, out_features=2, bias=True)
              (1): Sequential(
                (0): Linear(in_features=2, out_features=3, bias=True)
                (1): ReLU()
                (2): Linear(in_features=3, out_features=1, bias=True)
              )
            )
            """)
        model.append(Sigmoid())
        #expect(model.layers.count == 4)
        #expect(model.children.last?.0 == "3")
        #expect(model.summary == """
            Sequential(
              (0): Linear(in_features=2, out_features=3, bias=True)
              (1): ReLU()
              (2): Linear(in_features=3, out_features=1, bias=True)
              (3): Sigmoid()
            )
            """)
    }

    @Test func sequentialRunsItsLayersInOrder() {
        let g = RandomGenerator(seed: 7)
        let first = Linear<Double>(2, 3, generator: g), second = Linear<Double>(3, 2, generator: g)
        let model = Sequential<Double>(first, Tanh(), second)
        let x = Tensor<Double>([[0.5, -1], [2, 0.25]])
        #expect(model(x).scalars == second(tanh(first(x))).scalars)
        #expect(Sequential<Double>([]).forward(x).scalars == x.scalars)
    }

    @Test func trainAndEvalReachEveryModule() {
        let g = RandomGenerator(seed: 8)
        let inner = Sequential<Double>(Linear(1, 1, generator: g), Tanh())
        let model = Sequential<Double>(inner, Linear(1, 1, generator: g))
        #expect(model.namedModules.allSatisfy { $0.1.isTraining })
        model.eval()
        #expect(model.namedModules.allSatisfy { !$0.1.isTraining })
        model.train()
        #expect(model.namedModules.allSatisfy { $0.1.isTraining })
    }

    @Test func zeroGradClearsEveryParameter() {
        let g = RandomGenerator(seed: 9)
        let model = Sequential<Double>(Linear(2, 2, generator: g), Tanh(), Linear(2, 1, generator: g))
        model(Tensor([[1.0, -1]])).sum().backward()
        #expect(model.parameters.allSatisfy { $0.grad != nil })
        model.zeroGrad()
        #expect(model.parameters.allSatisfy { $0.grad == nil })
    }

    @Test func forwardHooksSeeModuleInputAndOutput() {
        let layer = Linear<Double>(2, 1, generator: RandomGenerator(seed: 10))
        nonisolated(unsafe) var calls: [(module: ObjectIdentifier, input: [Double], output: [Double])] = []
        let handle = layer.hooks.addForwardHook { module, input, output in
            calls.append((ObjectIdentifier(module), input.scalars, output.scalars))
        }
        #expect(!layer.hooks.isEmpty)
        let x = Tensor<Double>([[1, 2]])
        let y = layer(x)
        #expect(calls.count == 1)
        #expect(calls.first?.module == ObjectIdentifier(layer))
        #expect(calls.first?.input == [1, 2])
        #expect(calls.first?.output == y.scalars)
        _ = withoutGradient { layer(x) }
        #expect(calls.count == 2, "forward hooks also run without recording")
        _ = layer.forward(x)
        #expect(calls.count == 2, "forward(_:) alone runs no hooks")
        handle.remove()
        #expect(layer.hooks.isEmpty)
        _ = layer(x)
        #expect(calls.count == 2)
    }

    /// `Linear(2→2) = identity`, `Tanh`, `Linear(2→1)` with weights `[2, −1]` and bias 0.5.
    func handMadeNetwork() -> (Sequential<Double>, Linear<Double>, Tanh<Double>, Linear<Double>) {
        let g = RandomGenerator(seed: 11)
        let first = Linear<Double>(2, 2, generator: g), act = Tanh<Double>(), last = Linear<Double>(2, 1, generator: g)
        first.weight.assign(Tensor([[1, 0], [0, 1]]))
        first.bias!.assign(Tensor([0, 0]))
        last.weight.assign(Tensor([[2, -1]]))
        last.bias!.assign(Tensor([0.5]))
        return (Sequential(first, act, last), first, act, last)
    }

    @Test func outputGradientHooksGetTheGradientOfTheOutput() {
        let (model, first, act, last) = handMadeNetwork()
        nonisolated(unsafe) var seen: [String: [Double]] = [:]
        first.hooks.addOutputGradientHook { _, g in seen["first"] = g.scalars }
        act.hooks.addOutputGradientHook { _, g in seen["tanh"] = g.scalars }
        last.hooks.addOutputGradientHook { _, g in seen["last"] = g.scalars }
        model.hooks.addOutputGradientHook { _, g in seen["model"] = g.scalars }
        let x = Tensor<Double>([[0.5, -0.25]])
        let out = model(x)
        #expect(seen.isEmpty, "gradient hooks wait for backward()")
        (out * 3).sum().backward()
        #expect(seen["model"] == [3])
        #expect(seen["last"] == [3])
        #expect(seen["tanh"] == [6, -3])
        let t0 = Foundation.tanh(0.5), t1 = Foundation.tanh(-0.25)
        let expected = Tensor<Double>([6 * (1 - t0 * t0), -3 * (1 - t1 * t1)])
        #expect(seen["first"].map { mismatch(Tensor($0), expected, rtol: 1e-14) } == .some(nil))
    }

    @Test func outputGradientHooksPassTheModuleAndCanBeRemoved() {
        let (model, _, _, last) = handMadeNetwork()
        nonisolated(unsafe) var modules: [ObjectIdentifier] = []
        let handle = last.hooks.addOutputGradientHook { module, _ in modules.append(ObjectIdentifier(module)) }
        let x = Tensor<Double>([[0.5, -0.25]])
        model(x).sum().backward()
        #expect(modules == [ObjectIdentifier(last)])
        handle.remove()
        model(x).sum().backward()
        #expect(modules.count == 1)
    }

    @Test func outputGradientHooksDoNotFireWithoutRecording() {
        let (model, _, _, last) = handMadeNetwork()
        nonisolated(unsafe) var count = 0
        last.hooks.addOutputGradientHook { _, _ in count += 1 }
        let y = withoutGradient { model(Tensor([[0.5, -0.25]])) }
        #expect(!y.requiresGrad)
        let recorded = model(Tensor([[0.5, -0.25]]))
        recorded.sum().backward()
        #expect(count == 1)
    }

    @Test func preluLayer() {
        let layer = PReLU<Double>()
        #expect(layer.weight.value.scalars == [0.25])
        #expect(layer.namedParameters.map(\.0) == ["weight"])
        #expect(layer.summary == "PReLU(num_parameters=1)")
        #expect(layer(Tensor([[-4, 2]])).scalars == [-1, 2])
        let channels = PReLU<Double>(parameterCount: 2, initialValue: 0.5)
        #expect(channels.summary == "PReLU(num_parameters=2)")
        #expect(channels(Tensor([[-4, -2], [2, -1]])).scalars == [-2, -1, 2, -0.5])
        channels(Tensor([[-4, -2], [2, -1]])).sum().backward()
        #expect(channels.weight.grad?.scalars == [-4, -3])
    }

    @Test func activationLayersComputeTheirFunctions() {
        let x = Tensor<Double>([[-1.5, -0.2, 0.3, 2.5]])
        #expect(Sigmoid<Double>()(x).scalars == sigmoid(x).scalars)
        #expect(Tanh<Double>()(x).scalars == tanh(x).scalars)
        #expect(ReLU<Double>()(x).scalars == relu(x).scalars)
        #expect(LeakyReLU<Double>()(x).scalars == leakyReLU(x).scalars)
        #expect(LeakyReLU<Double>(negativeSlope: 0.2)(x).scalars == leakyReLU(x, negativeSlope: 0.2).scalars)
        #expect(ELU<Double>()(x).scalars == elu(x).scalars)
        #expect(ELU<Double>(alpha: 0.3)(x).scalars == elu(x, alpha: 0.3).scalars)
        #expect(SELU<Double>()(x).scalars == selu(x).scalars)
        #expect(GELU<Double>()(x).scalars == gelu(x).scalars)
        #expect(GELU<Double>(approximateTanh: true)(x).scalars == gelu(x, approximateTanh: true).scalars)
        #expect(Softplus<Double>()(x).scalars == softplus(x).scalars)
        #expect(Softplus<Double>(beta: 2, threshold: 1)(x).scalars == softplus(x, beta: 2, threshold: 1).scalars)
        #expect(SiLU<Double>()(x).scalars == silu(x).scalars)
        #expect(Hardtanh<Double>()(x).scalars == hardtanh(x).scalars)
        #expect(Hardtanh<Double>(minValue: 0, maxValue: 2)(x).scalars == [0, 0, 0.3, 2])
        #expect(Softsign<Double>()(x).scalars == softsign(x).scalars)
        #expect(Identity<Double>()(x).scalars == x.scalars)
        #expect(Flatten<Double>()(Tensor<Double>.zeros([2, 3, 4])).shape == [2, 12])
        #expect(Flatten<Double>(startAxis: 0)(Tensor<Double>.zeros([2, 3, 4])).shape == [24])
        #expect(LeakyReLU<Double>(negativeSlope: 0.2).summary == "LeakyReLU(negative_slope=0.2)")
        #expect(Tanh<Float>().summary == "Tanh()")
        #expect(Identity<Double>().summary == "Identity()")
        #expect(ELU<Double>().summary == "ELU(alpha=1.0)")
        #expect(GELU<Double>().summary == "GELU(approximate='none')")
        #expect(GELU<Double>(approximateTanh: true).summary == "GELU(approximate='tanh')")
        #expect(Softplus<Double>().summary == "Softplus(beta=1.0, threshold=20.0)")
        #expect(Hardtanh<Double>().summary == "Hardtanh(min_val=-1.0, max_val=1.0)")
        #expect(ReLU<Float>().parameters.isEmpty)
    }

    @Test(arguments: Activation.allCases)
    func activationMakesTheMatchingLayer(_ activation: Activation) {
        let layer = activation.makeLayer(Double.self)
        let x = Tensor<Double>([[-1.5, -0.2, 0.3, 2.5]])
        let expected: Tensor<Double>
        switch activation {
        case .sigmoid: expected = sigmoid(x)
        case .tanh: expected = tanh(x)
        case .relu: expected = relu(x)
        case .leakyRelu: expected = leakyReLU(x, negativeSlope: 0.01)
        case .prelu: expected = prelu(x, weight: Tensor([0.25]))
        case .elu: expected = elu(x, alpha: 1)
        case .selu: expected = selu(x)
        case .gelu: expected = gelu(x)
        case .softplus: expected = softplus(x, beta: 1, threshold: 20)
        case .silu: expected = silu(x)
        case .hardtanh: expected = hardtanh(x, minValue: -1, maxValue: 1)
        case .softsign: expected = softsign(x)
        case .linear: expected = x
        }
        #expect(layer(x).scalars == expected.scalars)
        #expect(layer.namedParameters.map(\.0) == (activation == .prelu ? ["weight"] : []))
        let floatLayer = activation.makeLayer(Float.self)
        #expect(floatLayer(x.converted()).shape == [1, 4])
    }

    @Test func activationNamesAndCoding() throws {
        #expect(Activation(rawValue: "leaky_relu") == .leakyRelu)
        #expect(Activation.leakyRelu.rawValue == "leaky_relu")
        #expect(Activation.allCases.count == 13)
        let data = try JSONEncoder().encode([Activation.gelu, .linear])
        #expect(String(decoding: data, as: UTF8.self) == #"["gelu","linear"]"#)
        #expect(try JSONDecoder().decode([Activation].self, from: data) == [.gelu, .linear])
    }
}
