import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

@Suite("Adam and AdamW")
struct AdamTests {
    /// With a constant gradient the bias-corrected moments are m̂ = g and v̂ = g², so each
    /// step moves θ by η·g/(|g| + ε) ≈ η·sign(g): θ = [1, −2], g = [0.5, −1], η = 0.1
    /// gives [0.9, −1.9] then [0.8, −1.8] (ε = 1e-8 shifts this by ≤ 2e-9).
    @Test(arguments: bothPrecisions)
    func constantGradientTakesSignSteps(_ type: any TensorScalar.Type) throws {
        try checkConstantGradient(type)
    }
    func checkConstantGradient<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let adam = try Adam(parameters: [p], learningRate: T(0.1))
        setGradient(p, [0.5, -1])
        adam.step()
        expectClose(valuesOf(p), [0.9, -1.9], rtol: 0, atol: 1e-7, "step 1")
        adam.step()
        expectClose(valuesOf(p), [0.8, -1.8], rtol: 0, atol: 1e-7, "step 2")
    }

    /// L2 decay is added to the gradient: θ = [1, −2], g = [−0.2, 0.5], λ = 0.5:
    /// g' = g + λ·θ = [0.3, −0.5], so the first step is −η·sign(g') = [−0.1, +0.1]:
    /// θ = [0.9, −1.9] (without decay it would be [1.1, −2.1]).
    @Test(arguments: bothPrecisions)
    func coupledWeightDecay(_ type: any TensorScalar.Type) throws {
        try checkCoupledWeightDecay(type)
    }
    func checkCoupledWeightDecay<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let adam = try Adam(parameters: [p], learningRate: T(0.1), weightDecay: T(0.5))
        setGradient(p, [-0.2, 0.5])
        adam.step()
        expectClose(valuesOf(p), [0.9, -1.9], rtol: 0, atol: 1e-7)
    }

    /// AdamW shrinks the weights first, then steps on the raw gradient:
    /// θ·(1 − η·λ) = [1, −2]·0.95 = [0.95, −1.9]; then −η·sign([−0.2, 0.5]) = [+0.1, −0.1]:
    /// θ = [1.05, −2.0].
    @Test(arguments: bothPrecisions)
    func decoupledWeightDecay(_ type: any TensorScalar.Type) throws {
        try checkDecoupledWeightDecay(type)
    }
    func checkDecoupledWeightDecay<T: TensorScalar>(_: T.Type) throws {
        let p = makeParameter([1, -2], as: T.self)
        let adamw = try AdamW(parameters: [p], learningRate: T(0.1), weightDecay: T(0.5))
        setGradient(p, [-0.2, 0.5])
        adamw.step()
        expectClose(valuesOf(p), [1.05, -2.0], rtol: 0, atol: 1e-7)
    }

    /// AMSGrad uses the running maximum of v. One element, θ = 1, η = 0.1, β = (0.9, 0.999),
    /// g = 2 then 0.
    /// Step 1: m = 0.2, v = 0.004, θ = 1 − 0.1·2/(2 + 1e-8) = 0.9000000005.
    /// Step 2: m = 0.18, v = 0.003996, max v = 0.004; 1 − β₁² = 0.19, 1 − β₂² = 0.001999.
    ///   plain:   Δ = 0.1/0.19 · 0.18/√(0.003996/0.001999) = 0.0670058254
    ///            θ = 0.8329941756
    ///   AMSGrad: Δ = 0.1/0.19 · 0.18/√(0.004/0.001999)    = 0.0669723141
    ///            θ = 0.8330276869
    @Test(arguments: bothPrecisions)
    func amsgradUsesRunningMaximum(_ type: any TensorScalar.Type) throws {
        try checkAmsgrad(type)
    }
    func checkAmsgrad<T: TensorScalar>(_: T.Type) throws {
        let plain = makeParameter([1], as: T.self)
        let ams = makeParameter([1], as: T.self)
        let adam = try Adam(parameters: [plain], learningRate: T(0.1))
        let amsgrad = try Adam(parameters: [ams], learningRate: T(0.1), amsgrad: true)
        for g in [2.0, 0.0] {
            setGradient(plain, [g])
            setGradient(ams, [g])
            adam.step()
            amsgrad.step()
        }
        let tolerance = T.self == Float.self ? 2e-6 : 1e-9
        expectClose(valuesOf(plain), [0.8329941756], rtol: 0, atol: tolerance, "plain")
        expectClose(valuesOf(ams), [0.8330276869], rtol: 0, atol: tolerance, "amsgrad")
    }

    /// Step counts are per parameter: `b` gets its first gradient at the second step, so its
    /// bias correction is that of step 1 and it moves by η·sign(g) = 0.1, like `a` did first.
    @Test func stepCountIsPerParameter() throws {
        let a = makeParameter([1], as: Double.self)
        let b = makeParameter([5], as: Double.self)
        let adam = try Adam(parameters: [a, b], learningRate: 0.1)
        setGradient(a, [1])
        adam.step()
        #expect(valuesOf(b) == [5], "b has no gradient and must not move")
        setGradient(a, [1])
        setGradient(b, [-3])
        adam.step()
        expectClose(valuesOf(a), [0.8], rtol: 0, atol: 1e-7)
        expectClose(valuesOf(b), [5.1], rtol: 0, atol: 1e-7)
    }

    /// PyTorch's defaults: Adam η = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0; AdamW λ = 1e-2.
    @Test func defaults() throws {
        let p = makeParameter([1], as: Double.self)
        let adam = try Adam(parameters: [p])
        #expect(adam.learningRate == 1e-3 && adam.beta1 == 0.9 && adam.beta2 == 0.999)
        #expect(adam.epsilon == 1e-8 && adam.weightDecay == 0 && !adam.amsgrad)
        let adamw = try AdamW(parameters: [p])
        #expect(adamw.learningRate == 1e-3 && adamw.beta1 == 0.9 && adamw.beta2 == 0.999)
        #expect(adamw.epsilon == 1e-8 && adamw.weightDecay == 1e-2 && !adamw.amsgrad)
    }
}
