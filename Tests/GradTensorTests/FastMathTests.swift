import Foundation
import Testing
import GradTensor

/// The vectorized Float `exp`, `sigmoid`, `tanh` and `silu` against the same functions in Double.
@Suite struct FastMathTests {
    /// Inputs across the whole useful range, the tails and the awkward points.
    static let inputs: [Float] = {
        var xs: [Float] = stride(from: -120.0, through: 100.0, by: 0.37).map { Float($0) }
        xs += stride(from: -1.0, through: 1.0, by: 0.0013).map { Float($0) }
        xs += [0, -0.0, 1e-8, -1e-8, 1e-4, -1e-4, 0.6249, 0.6251, -0.6251, 88.7, 88.73, -87.3, -103.5, -104, 1000, -1000]
        return xs
    }()

    /// Units in the last place between `a` and the Double reference `b`, counted at `b`'s magnitude.
    /// Results below 2⁻¹⁰⁰ come from subnormal intermediates (σ(x) or e^x below 1.2e-38 for
    /// silu near x = −90), where Float has too few bits for ulps to mean anything — PyTorch's
    /// `x / (1 + e^(−x))` even gives −0 there — so they count as exact within 1e-37 absolute.
    static func ulps(_ a: Float, _ b: Double) -> Double {
        if b.isInfinite { return Double(a) == b ? 0 : .infinity }
        if Swift.abs(b) < 0x1p-100 {
            return Swift.abs(Double(a) - b) < 1e-37 ? 0 : .infinity
        }
        return Swift.abs(Double(a) - b) / Double(Float(b).ulp)
    }

    @Test(arguments: ["exp", "sigmoid", "tanh", "silu"])
    func withinThreeUlps(function: String) {
        let x = Tensor<Float>(Self.inputs)
        let y: Tensor<Float>
        let reference: (Double) -> Double
        switch function {
        case "exp": y = x.exp(); reference = { Foundation.exp($0) }
        case "sigmoid": y = sigmoid(x); reference = { 1 / (1 + Foundation.exp(-$0)) }
        case "tanh": y = tanh(x); reference = { Foundation.tanh($0) }
        default: y = silu(x); reference = { $0 / (1 + Foundation.exp(-$0)) }
        }
        var worst = 0.0, worstX: Float = 0
        for (xi, yi) in zip(Self.inputs, y.scalars) {
            let u = Self.ulps(yi, reference(Double(xi)))
            if u > worst { worst = u; worstX = xi }
        }
        #expect(worst <= 3, "\(function): \(worst) ulp at x = \(worstX)")
    }

    @Test func nanAndInfinity() {
        let x = Tensor<Float>([.nan, .infinity, -.infinity])
        let e = x.exp().scalars, s = sigmoid(x).scalars, t = tanh(x).scalars
        #expect(e[0].isNaN && e[1] == .infinity && e[2] == 0)
        #expect(s[0].isNaN && s[1] == 1 && s[2] == 0)
        #expect(t[0].isNaN && t[1] == 1 && t[2] == -1)
    }
}
