import GradNN
import GradOptim
import GradTensor
import Testing

/// `GradientClipper`: each rule on hand-computed cases.
@Suite("GradientClipper")
struct GradientClippingTests {
    static func parameter(_ values: [Double], _ shape: [Int], grad: [Double]) -> Parameter<Double> {
        let p = Parameter(Tensor<Double>(shape: shape, scalars: values))
        p.grad = Tensor<Double>(shape: shape, scalars: grad)
        return p
    }

    @Test func noneLeavesGradientsAndReportsTheNorm() throws {
        let p = Self.parameter([1, 2], [2], grad: [3, 4])
        let outcome = try GradientClipper(.none, namedParameters: [("w", p)]).clip()
        #expect(outcome.totalNorm == 5 && !outcome.clipped)
        #expect(p.grad?.scalars == [3, 4])
    }

    /// Global norm 5 clipped at 1: scale 1/(5 + 1e-6).
    @Test func normScalesLikeClipGradNorm() throws {
        let p = Self.parameter([1, 2], [2], grad: [3, 4])
        let outcome = try GradientClipper(.norm(maxNorm: 1), namedParameters: [("w", p)]).clip()
        #expect(outcome.clipped && outcome.maxNorm == 1)
        let g = try #require(p.grad?.scalars)
        #expect(abs(g[0] - 3 / (5 + 1e-6)) < 1e-12 && abs(g[1] - 4 / (5 + 1e-6)) < 1e-12)
    }

    @Test func valueClampsEveryElement() throws {
        let p = Self.parameter([0, 0, 0], [3], grad: [-3, 0.5, 2])
        _ = try GradientClipper(.value(clipValue: 1), namedParameters: [("w", p)]).clip()
        #expect(p.grad?.scalars == [-1, 0.5, 1])
    }

    /// Rows of W = [[3, 4], [0, 0.1]] have norms 5 and 0.1 (→ ε = 0.5 wins); λ = 0.1 allows
    /// 0.5 and 0.05. Row gradients [6, 8] (norm 10) and [0, 0.01] (norm 0.01): the first is
    /// scaled to norm 0.5, the second kept. The exempt last layer keeps its gradient.
    @Test func agcClipsUnitWiseAgainstTheWeightNorm() throws {
        let w = Self.parameter([3, 4, 0, 0.1], [2, 2], grad: [6, 8, 0, 0.01])
        let b = Self.parameter([0, 0], [2], grad: [1, 1])
        let last = Self.parameter([1], [1, 1], grad: [100])
        let clipper = try GradientClipper(.agc(clipFactor: 0.1, eps: 0.5, exemptLastLayer: true),
                                          namedParameters: [("0.weight", w), ("0.bias", b), ("2.weight", last)])
        let outcome = clipper.clip()
        #expect(outcome.clipped)
        let g = try #require(w.grad?.scalars)
        #expect(abs(g[0] - 0.3) < 1e-12 && abs(g[1] - 0.4) < 1e-12, "row 0 scaled to norm 0.5: \(g)")
        #expect(g[2] == 0 && g[3] == 0.01, "row 1 kept: \(g)")
        // The bias (norm 0 → ε = 0.5, limit 0.05) has gradient norm √2: scaled to 0.05.
        let gb = try #require(b.grad?.scalars)
        #expect(abs((gb[0] * gb[0] + gb[1] * gb[1]).squareRoot() - 0.05) < 1e-12)
        #expect(last.grad?.scalars == [100], "the last layer is exempt")
    }

    /// AutoClip clips at the p-th percentile of the norms seen so far (NumPy's linear
    /// interpolation): norms 1, 3, 2 → after the third step the 50th percentile is 2.
    @Test func autoClipUsesThePercentileOfTheHistory() throws {
        let p = Self.parameter([0], [1], grad: [1])
        let clipper = try GradientClipper(.autoClip(percentile: 50), namedParameters: [("w", p)])
        #expect(clipper.clip().maxNorm == 1)
        p.grad = Tensor<Double>(shape: [1], scalars: [3])
        let second = clipper.clip()
        #expect(second.maxNorm == 2 && second.clipped)
        p.grad = Tensor<Double>(shape: [1], scalars: [2])
        let third = clipper.clip()
        #expect(third.maxNorm == 2)
        // A non-finite norm is not added to the history.
        p.grad = Tensor<Double>(shape: [1], scalars: [.nan])
        #expect(clipper.clip().maxNorm == 2)
    }

    @Test(arguments: [GradientClipping.norm(maxNorm: -1), .value(clipValue: .nan), .agc(clipFactor: 0),
                      .agc(clipFactor: 0.01, eps: -1), .autoClip(percentile: 150)])
    func invalidHyperparametersAreRejected(_ rule: GradientClipping) {
        #expect(throws: OptimizerError.self) { try GradientClipper<Float>(rule, namedParameters: []) }
    }
}
