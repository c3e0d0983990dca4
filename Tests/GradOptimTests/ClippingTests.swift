import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

@Suite("Gradient clipping")
struct ClippingTests {
    /// Gradients [3, 4] and [12]: N = √(9 + 16 + 144) = 13. maxNorm 6.5 gives the coefficient
    /// 6.5/(13 + 1e-6) ≈ 0.5, so the gradients become ≈ [1.5, 2] and [6]; the norm returned is
    /// the one before clipping.
    @Test(arguments: bothPrecisions)
    func globalTwoNorm(_ type: any TensorScalar.Type) throws {
        try checkGlobalTwoNorm(type)
    }
    func checkGlobalTwoNorm<T: TensorScalar>(_: T.Type) throws {
        let a = makeParameter([0, 0], as: T.self)
        let b = makeParameter([0], as: T.self)
        setGradient(a, [3, 4])
        setGradient(b, [12])
        let norm = try clipGradNorm([a, b], maxNorm: T(6.5))
        #expect(norm == 13)
        let coefficient = 6.5 / (13 + 1e-6)
        let tolerance = T.self == Float.self ? 1e-6 : 1e-14
        expectClose(gradientOf(a)!, [3 * coefficient, 4 * coefficient], rtol: tolerance)
        expectClose(gradientOf(b)!, [12 * coefficient], rtol: tolerance)
    }

    /// The ∞-norm is the largest |g| over all gradients: [3, −4] and [2] give 4; maxNorm 2
    /// halves every gradient (up to the 1e-6 in the denominator).
    @Test func infinityNorm() throws {
        let a = makeParameter([0, 0], as: Double.self)
        let b = makeParameter([0], as: Double.self)
        setGradient(a, [3, -4])
        setGradient(b, [2])
        let norm = try clipGradNorm([a, b], maxNorm: 2, normType: .infinity)
        #expect(norm == 4)
        expectClose(gradientOf(a)!, [1.5, -2], rtol: 1e-6)
        expectClose(gradientOf(b)!, [1], rtol: 1e-6)
    }

    /// The 1-norm of [3, −4] and [2] is 9; maxNorm 4.5 halves the gradients.
    @Test func oneNorm() throws {
        let a = makeParameter([0, 0], as: Double.self)
        let b = makeParameter([0], as: Double.self)
        setGradient(a, [3, -4])
        setGradient(b, [2])
        let norm = try clipGradNorm([a, b], maxNorm: 4.5, normType: 1)
        #expect(norm == 9)
        expectClose(gradientOf(a)! + gradientOf(b)!, [1.5, -2, 1], rtol: 1e-6)
    }

    /// Below `maxNorm` the gradients are left exactly as they were.
    @Test func noChangeBelowMaxNorm() throws {
        let a = makeParameter([0, 0], as: Float.self)
        setGradient(a, [0.3, -0.4])
        let norm = try clipGradNorm([a], maxNorm: 1)
        #expect(isClose(norm, 0.5, rtol: 1e-7))
        #expect(a.grad!.scalars == [0.3, -0.4])
    }

    /// Parameters without a gradient are skipped: they add nothing to the norm and stay nil.
    /// No gradient at all gives a norm of 0.
    @Test func nilGradientsAreSkipped() throws {
        let a = makeParameter([0, 0], as: Double.self)
        let b = makeParameter([0], as: Double.self)
        setGradient(a, [6, 8])
        let norm = try clipGradNorm([a, b], maxNorm: 5)
        #expect(norm == 10)
        #expect(b.grad == nil)
        expectClose(gradientOf(a)!, [3, 4], rtol: 1e-6)
        #expect(try clipGradNorm([b], maxNorm: 1) == 0)
    }

    /// A copy of a gradient taken before clipping (as the monitor keeps one) is not changed.
    @Test func copiesTakenBeforeClippingKeepTheirValues() throws {
        let a = makeParameter([0, 0], as: Double.self)
        setGradient(a, [30, 40])
        let before = a.grad!
        try clipGradNorm([a], maxNorm: 5)
        #expect(before.scalars == [30, 40])
        expectClose(gradientOf(a)!, [3, 4], rtol: 1e-6)
    }

    /// `Float` gradients beyond √Float.max do not overflow the norm, which is summed in Double.
    @Test func floatNormDoesNotOverflow() throws {
        let a = makeParameter([0, 0], as: Float.self)
        setGradient(a, [3e30, 4e30])
        let norm = try clipGradNorm([a], maxNorm: 1)
        #expect(isClose(norm, 5e30, rtol: 1e-6))
        expectClose(gradientOf(a)!, [0.6, 0.8], rtol: 1e-5)
    }

    /// With `errorIfNonfinite`, a NaN names the parameter (by its module name) and no gradient
    /// changes.
    @Test func nonfiniteErrorNamesTheParameter() throws {
        let weight = makeParameter([0, 0], as: Double.self)
        let bias = makeParameter([0], as: Double.self)
        setGradient(weight, [1, .nan])
        setGradient(bias, [100])
        let named = [("0.weight", weight), ("0.bias", bias)]
        #expect(throws: ClipError.nonfiniteGradient(totalNorm: .nan, parameters: ["0.weight"])) {
            try clipGradNorm(named, maxNorm: 1, errorIfNonfinite: true)
        }
        #expect(gradientOf(bias) == [100])
        #expect(gradientOf(weight)![0] == 1)
        do {
            try clipGradNorm(named, maxNorm: 1, errorIfNonfinite: true)
        } catch let error as ClipError {
            #expect(error.description.contains("gradient norm is nan"))
            #expect(error.description.contains("non-finite gradient in 0.weight"))
        }
    }

    /// The unnamed overload names parameters by index; an infinite element gives N = ∞.
    @Test func nonfiniteErrorWithoutNames() throws {
        let a = makeParameter([0], as: Float.self)
        let b = makeParameter([0, 0], as: Float.self)
        setGradient(a, [1])
        setGradient(b, [2, -.infinity])
        #expect(throws: ClipError.nonfiniteGradient(totalNorm: .infinity, parameters: ["parameter[1]"])) {
            try clipGradNorm([a, b], maxNorm: 1, normType: .infinity, errorIfNonfinite: true)
        }
        #expect(gradientOf(a) == [1])
    }

    /// Without `errorIfNonfinite`, PyTorch's arithmetic is kept: a NaN norm makes every gradient
    /// NaN; an infinite norm scales every gradient by 0 (∞·0 is NaN).
    @Test func nonfiniteWithoutErrorFollowsPyTorch() throws {
        let a = makeParameter([0, 0], as: Double.self)
        let b = makeParameter([0], as: Double.self)
        setGradient(a, [1, .nan])
        setGradient(b, [2])
        #expect(try clipGradNorm([a, b], maxNorm: 1).isNaN)
        #expect(gradientOf(b)![0].isNaN)
        setGradient(a, [1, .infinity])
        setGradient(b, [2])
        #expect(try clipGradNorm([a, b], maxNorm: 1) == .infinity)
        #expect(gradientOf(b) == [0])
        #expect(gradientOf(a)![0] == 0 && gradientOf(a)![1].isNaN)
    }

    @Test func invalidArgumentsAreTypedErrors() throws {
        let a = makeParameter([0], as: Double.self)
        setGradient(a, [1])
        #expect(throws: OptimizerError.invalidHyperparameter(name: "norm type", value: 0, expected: "a positive number or infinity")) {
            try clipGradNorm([a], maxNorm: 1, normType: 0)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "max norm", value: -1, expected: "a non-negative number")) {
            try clipGradNorm([a], maxNorm: -1)
        }
    }

    /// `gradNorm` measures without changing anything.
    @Test func gradNormMeasuresOnly() throws {
        let a = makeParameter([0, 0], as: Double.self)
        setGradient(a, [3, 4])
        #expect(try gradNorm([a]) == 5)
        #expect(try gradNorm([a], normType: .infinity) == 4)
        #expect(gradientOf(a) == [3, 4])
    }

    /// Values are clamped to [−c, c]; NaN stays NaN; nil gradients are skipped.
    @Test(arguments: bothPrecisions)
    func clipByValue(_ type: any TensorScalar.Type) throws {
        checkClipByValue(type)
    }
    func checkClipByValue<T: TensorScalar>(_: T.Type) {
        let a = makeParameter([0, 0, 0, 0], as: T.self)
        let b = makeParameter([0], as: T.self)
        setGradient(a, [-2, 0.25, 5, .nan])
        clipGradValue([a, b], clipValue: T(1))
        let g = gradientOf(a)!
        #expect(Array(g.prefix(3)) == [-1, 0.25, 1])
        #expect(g[3].isNaN)
        #expect(b.grad == nil)
    }
}
