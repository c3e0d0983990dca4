import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

@Suite("RMSprop")
struct RMSpropTests {
    /// α = 0.99, η = 0.01, θ = [1, −2], constant g = [0.5, −1].
    /// Step 1: v = 0.01·g², √v = 0.1·|g|, Δ = 0.01·g/(0.1·|g|) = 0.1·sign(g): θ = [0.9, −1.9].
    /// Step 2: v = (0.99·0.01 + 0.01)·g² = 0.0199·g², Δ = 0.01/√0.0199 = 0.0708881205·sign(g):
    ///         θ = [0.8291118795, −1.8291118795].
    @Test(arguments: bothPrecisions)
    func plainTwoSteps(_ type: any TensorScalar.Type) throws {
        try checkPlain(type)
    }
    func checkPlain<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let rms = try RMSprop(parameters: [p], learningRate: T(0.01))
        setGradient(p, [0.5, -1])
        rms.step()
        expectClose(valuesOf(p), [0.9, -1.9], rtol: 0, atol: 1e-6, "step 1")
        rms.step()
        expectClose(valuesOf(p), [0.8291118795, -1.8291118795], rtol: 0, atol: 1e-6, "step 2")
    }

    /// Momentum μ = 0.9 on the same case: b₁ = g/(0.1·|g|) = 10·sign(g), θ = [0.9, −1.9];
    /// b₂ = 0.9·10 + 1/√0.0199 = 16.0888120501, θ = 0.9 − 0.01·16.0888120501 = 0.7391118795
    /// (ε = 0 here so that the hand values are exact).
    @Test func momentum() throws {
        let p = makeParameter([1, -2], as: Double.self)
        let rms = try RMSprop(parameters: [p], learningRate: 0.01, epsilon: 0, momentum: 0.9)
        setGradient(p, [0.5, -1])
        rms.step()
        rms.step()
        expectClose(valuesOf(p), [0.7391118795, -1.7391118795], rtol: 0, atol: 1e-10)
    }

    /// Centered: ḡ = 0.01·g, v = 0.01·g², v − ḡ² = 0.0099·g²;
    /// Δ = 0.01/√0.0099 = 0.1005037815·sign(g): θ = [0.8994962185, −1.8994962185].
    @Test(arguments: bothPrecisions)
    func centered(_ type: any TensorScalar.Type) throws {
        try checkCentered(type)
    }
    func checkCentered<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let rms = try RMSprop(parameters: [p], learningRate: T(0.01), centered: true)
        setGradient(p, [0.5, -1])
        rms.step()
        expectClose(valuesOf(p), [0.8994962185, -1.8994962185], rtol: 0, atol: 1e-6)
    }
}

@Suite("Adagrad")
struct AdagradTests {
    /// η = 0.1, θ = [1, −2], constant g = [0.5, −1].
    /// Step 1: s = g², Δ = 0.1·g/|g| = 0.1·sign(g): θ = [0.9, −1.9].
    /// Step 2: s = 2·g², Δ = 0.1/√2 = 0.0707106781: θ = [0.8292893219, −1.8292893219].
    @Test(arguments: bothPrecisions)
    func twoSteps(_ type: any TensorScalar.Type) throws {
        try checkTwoSteps(type)
    }
    func checkTwoSteps<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let adagrad = try Adagrad(parameters: [p], learningRate: T(0.1))
        setGradient(p, [0.5, -1])
        adagrad.step()
        expectClose(valuesOf(p), [0.9, -1.9], rtol: 0, atol: 1e-6, "step 1")
        adagrad.step()
        expectClose(valuesOf(p), [0.8292893219, -1.8292893219], rtol: 0, atol: 1e-6, "step 2")
    }

    /// Learning-rate decay δ = 0.5: step 2 uses η/(1 + 1·0.5) = 0.0666…, Δ = 0.0666…/√2 =
    /// 0.0471404521: θ = [0.8528595479, −1.8528595479].
    @Test func learningRateDecay() throws {
        let p = makeParameter([1, -2], as: Double.self)
        let adagrad = try Adagrad(parameters: [p], learningRate: 0.1, learningRateDecay: 0.5)
        setGradient(p, [0.5, -1])
        adagrad.step()
        adagrad.step()
        expectClose(valuesOf(p), [0.8528595479, -1.8528595479], rtol: 0, atol: 1e-9)
    }

    /// Initial accumulator s₀ = 0.75: s = [0.75 + 0.25, 0.75 + 1] = [1, 1.75];
    /// Δ = 0.1·[0.5/1, −1/√1.75] = [0.05, −0.0755928946]: θ = [0.95, −1.9244071054].
    @Test func initialAccumulator() throws {
        let p = makeParameter([1, -2], as: Double.self)
        let adagrad = try Adagrad(parameters: [p], learningRate: 0.1, initialAccumulatorValue: 0.75)
        setGradient(p, [0.5, -1])
        adagrad.step()
        expectClose(valuesOf(p), [0.95, -1.9244071054], rtol: 0, atol: 1e-9)
    }
}
