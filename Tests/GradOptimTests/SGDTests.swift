import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

@Suite("SGD")
struct SGDTests {
    /// θ = [1, −2], g = [0.5, 1], η = 0.1: θ − η·g = [0.95, −2.1].
    @Test(arguments: bothPrecisions)
    func plainStep(_ type: any TensorScalar.Type) throws {
        try checkPlainStep(type)
    }
    func checkPlainStep<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let sgd = try SGD(parameters: [p], learningRate: T(0.1))
        setGradient(p, [0.5, 1])
        sgd.step()
        expectClose(valuesOf(p), [0.95, -2.1], rtol: handTolerance(T.self))
    }

    /// Momentum μ = 0.9, η = 0.1, fixed g = [0.5, 1] from θ = [1, −2].
    /// Step 1: b = g = [0.5, 1] (PyTorch copies the gradient on the first step);
    ///         θ = [1 − 0.05, −2 − 0.1] = [0.95, −2.1].
    /// Step 2: b = 0.9·[0.5, 1] + [0.5, 1] = [0.95, 1.9];
    ///         θ = [0.95 − 0.095, −2.1 − 0.19] = [0.855, −2.29].
    @Test(arguments: bothPrecisions)
    func momentumTwoSteps(_ type: any TensorScalar.Type) throws {
        try checkMomentumTwoSteps(type)
    }
    func checkMomentumTwoSteps<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let sgd = try SGD(parameters: [p], learningRate: T(0.1), momentum: T(0.9))
        setGradient(p, [0.5, 1])
        sgd.step()
        expectClose(valuesOf(p), [0.95, -2.1], rtol: handTolerance(T.self), "step 1")
        sgd.step()
        expectClose(valuesOf(p), [0.855, -2.29], rtol: handTolerance(T.self), "step 2")
    }

    /// Nesterov, μ = 0.9, η = 0.1, g = [0.5, 1], θ = [1, −2].
    /// Step 1: b = g; d = g + 0.9·b = 1.9·g = [0.95, 1.9]; θ = [0.905, −2.19].
    /// Step 2: b = 0.9·g + g = 1.9·g; d = g + 0.9·1.9·g = 2.71·g = [1.355, 2.71];
    ///         θ = [0.905 − 0.1355, −2.19 − 0.271] = [0.7695, −2.461].
    @Test(arguments: bothPrecisions)
    func nesterov(_ type: any TensorScalar.Type) throws {
        try checkNesterov(type)
    }
    func checkNesterov<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let sgd = try SGD(parameters: [p], learningRate: T(0.1), momentum: T(0.9), nesterov: true)
        setGradient(p, [0.5, 1])
        sgd.step()
        expectClose(valuesOf(p), [0.905, -2.19], rtol: handTolerance(T.self), "step 1")
        sgd.step()
        expectClose(valuesOf(p), [0.7695, -2.461], rtol: handTolerance(T.self), "step 2")
    }

    /// Dampening τ = 0.5 is not applied on the first step (PyTorch), μ = 0.9, η = 0.1.
    /// Step 1: b = g = [0.5, 1]; θ = [0.95, −2.1].
    /// Step 2: b = 0.9·g + 0.5·g = 1.4·g = [0.7, 1.4]; θ = [0.88, −2.24].
    @Test func dampeningSkipsFirstStep() throws {
        let p = makeParameter([1, -2], as: Double.self)
        let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, dampening: 0.5)
        setGradient(p, [0.5, 1])
        sgd.step()
        expectClose(valuesOf(p), [0.95, -2.1], rtol: 1e-12, "step 1")
        sgd.step()
        expectClose(valuesOf(p), [0.88, -2.24], rtol: 1e-12, "step 2")
    }

    /// Weight decay λ = 0.1 adds λ·θ: g' = [0.5 + 0.1, 1 − 0.2] = [0.6, 0.8];
    /// θ = [1 − 0.06, −2 − 0.08] = [0.94, −2.08].
    @Test(arguments: bothPrecisions)
    func weightDecay(_ type: any TensorScalar.Type) throws {
        try checkWeightDecay(type)
    }
    func checkWeightDecay<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let sgd = try SGD(parameters: [p], learningRate: T(0.1), weightDecay: T(0.1))
        setGradient(p, [0.5, 1])
        sgd.step()
        expectClose(valuesOf(p), [0.94, -2.08], rtol: handTolerance(T.self))
    }

    /// A new learning rate applies from the next step: η = 0.1, then 0.2 with g = [1]:
    /// θ = 1 − 0.1 − 0.2 = 0.7.
    @Test func learningRateCanChange() throws {
        let p = makeParameter([1], as: Double.self)
        let sgd = try SGD(parameters: [p], learningRate: 0.1)
        setGradient(p, [1])
        sgd.step()
        sgd.learningRate = 0.2
        sgd.step()
        #expect(sgd.learningRate == 0.2)
        expectClose(valuesOf(p), [0.7], rtol: 1e-12)
    }
}
