// Mean-field signal propagation in deep random MLPs (Poole et al. 2016, "Exponential
// expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017,
// "Deep Information Propagation"): what a depth, an activation and an initialization do to
// forward signals and backward gradients, predicted before any training.

import Foundation
import GradNN

/// Whether gradients in a deep random network shrink, keep their size or grow from layer to
/// layer, as mean-field theory sorts networks by χ₁.
///
/// Ordered: χ₁ < 1, nearby inputs converge and gradients vanish toward the input; chaotic:
/// χ₁ > 1, nearby inputs decorrelate and gradients explode; critical (the edge of chaos):
/// χ₁ ≈ 1, where arbitrarily deep networks can be trained.
public enum MeanFieldPhase: String, Codable, Sendable, CaseIterable {
    /// χ₁ < 1 − tolerance: gradients vanish toward the input.
    case ordered
    /// |χ₁ − 1| ≤ tolerance: the edge of chaos.
    case critical
    /// χ₁ > 1 + tolerance: gradients explode toward the input.
    case chaotic

    /// What the phase means for gradients, in a few words.
    public var gradientBehaviour: String {
        switch self {
        case .ordered: "vanishing gradients"
        case .critical: "edge of chaos: gradients keep their size"
        case .chaotic: "exploding gradients"
        }
    }
}

/// A user-facing problem with the inputs of a mean-field computation (a flag or a spec value).
public enum MeanFieldTheoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No activation has this name.
    case unknownActivation(String)
    /// σ_w must be finite and positive.
    case invalidSigmaW(Double)
    /// σ_b must be finite and ≥ 0.
    case invalidSigmaB(Double)
    /// A depth (number of weight layers) below the minimum.
    case invalidDepth(Int, minimum: Int)
    /// A layer width or batch size below 1.
    case invalidSize(name: String, value: Int)
    /// The starting length q⁰ of the length map must be finite and positive.
    case invalidInitialLength(Double)
    /// The tolerance of the critical phase must be finite and in [0, 1).
    case invalidTolerance(Double)

    public var description: String {
        switch self {
        case .unknownActivation(let name):
            "unknown activation '\(name)' (expected one of \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidSigmaW(let value): "sigma-w must be a finite number > 0, got \(value)"
        case .invalidSigmaB(let value): "sigma-b must be a finite number ≥ 0, got \(value)"
        case .invalidDepth(let value, let minimum): "depth must be at least \(minimum), got \(value)"
        case .invalidSize(let name, let value): "\(name) must be at least 1, got \(value)"
        case .invalidInitialLength(let value): "the initial length q0 must be a finite number > 0, got \(value)"
        case .invalidTolerance(let value): "the critical tolerance must be in [0, 1), got \(value)"
        }
    }
}

/// The mean-field prediction for a deep MLP at initialization: the forward length and
/// correlation maps, the gradient factor per layer, the phase and the depth scales.
///
/// Every hidden layer is `h^l = W^l·φ(h^(l−1)) + b^l` with `W_ij ~ N(0, σ_w²/fan_in)` and
/// `b_i ~ N(0, σ_b²)`, in the limit of infinite width. Optional numbers are nil where the
/// quantity does not exist (no finite fixed point of the length map). Depth scales are
/// infinite exactly at criticality; JSON encoders need a non-conforming float strategy then.
public struct MeanFieldPrediction: Codable, Sendable, Equatable {
    /// The activation φ.
    public let activation: Activation
    /// The weight scale σ_w (weights have variance σ_w²/fan_in).
    public let sigmaW: Double
    /// The bias standard deviation σ_b.
    public let sigmaB: Double
    /// The number of weight layers L of the network the gradient ratio is for.
    public let depth: Int
    /// The pre-activation length q⁰ the length map starts from (the input's).
    public let initialLength: Double
    /// Whether the pre-activation length q^l grows without bound (no finite fixed point).
    public let lengthDiverges: Bool
    /// The fixed point q* = σ_w²·E[φ(√q*·z)²] + σ_b² reached from q⁰ (nil when it diverges).
    public let qStar: Double?
    /// The slope of the length map at q*, χ_q = σ_w²·E[φ'(√q*z)² + φ(√q*z)φ''(√q*z)] (nil when q diverges).
    public let chiQ: Double?
    /// χ₁ = σ_w²·E[φ'(√q*·z)²]: the factor by which the squared gradient norm changes per layer.
    public let chi1: Double
    /// The stable fixed point c* of the correlation map (1 unless chaotic; nil when q diverges).
    public let cStar: Double?
    /// The slope of the correlation map at c*, χ_c = σ_w²·E[φ'(u₁)φ'(u₂)] (χ₁ when c* = 1).
    public let chiC: Double?
    /// ξ_q = −1/ln χ_q: layers over which the length's distance to q* shrinks by e.
    public let depthScaleQ: Double?
    /// ξ_c = −1/ln χ_c: layers over which correlations approach c* by a factor e; the depth to
    /// which information about the input propagates (infinite at criticality).
    public let depthScaleC: Double?
    /// √χ₁: the predicted ratio ‖∂E/∂h^l‖ / ‖∂E/∂h^(l+1)‖ of gradient norms of consecutive layers.
    public let perLayerGradientFactor: Double
    /// χ₁^((L−1)/2): the predicted ratio of the first layer's gradient norm to the last's.
    public let gradientRatio: Double
    /// Ordered (χ₁ < 1 − tolerance), critical or chaotic (χ₁ > 1 + tolerance).
    public let phase: MeanFieldPhase
    /// The tolerance on |χ₁ − 1| within which the phase is called critical.
    public let criticalTolerance: Double
    /// The σ_w at the order-to-chaos transition for this activation and σ_b (nil when none in
    /// [0.01, 100]); `edgeOfChaos` says whether χ₁ passes 1 continuously there.
    public let criticalSigmaW: Double?
    /// The transition in detail: χ₁ just below and just above `criticalSigmaW`.
    public let edgeOfChaos: EdgeOfChaos?

    enum CodingKeys: String, CodingKey {
        case activation, depth, phase
        case sigmaW = "sigma_w", sigmaB = "sigma_b", initialLength = "initial_q"
        case lengthDiverges = "length_diverges", qStar = "q_star", chiQ = "chi_q", chi1 = "chi_1"
        case cStar = "c_star", chiC = "chi_c", depthScaleQ = "xi_q", depthScaleC = "xi_c"
        case perLayerGradientFactor = "per_layer_gradient_factor", gradientRatio = "gradient_ratio_first_to_last"
        case criticalTolerance = "critical_tolerance", criticalSigmaW = "critical_sigma_w", edgeOfChaos = "edge_of_chaos"
    }
}

/// The order-to-chaos transition of an activation at a given σ_b: the σ_w where χ₁ crosses 1.
///
/// Usually χ₁(σ_w) passes through 1 continuously. For GELU and SiLU with σ_b > 0 it does not:
/// their slope at 0 is ½, so from q⁰ = 1 the length settles at a small fixed point where
/// χ₁ ≈ σ_w²/4 < 1, until that fixed point vanishes (a saddle-node of the length map), the
/// length diverges and χ₁ jumps to its large-length value σ_w²/2 > 1. Then `sigmaW` is the
/// jump and `isContinuous` is false.
public struct EdgeOfChaos: Codable, Sendable, Equatable {
    /// The transition point σ_w (to 1e-12 relative).
    public let sigmaW: Double
    /// χ₁ just below the transition (within 1e-12 relative of `sigmaW`).
    public let chi1Below: Double
    /// χ₁ just above it.
    public let chi1Above: Double

    /// Whether χ₁ passes through 1 continuously: the two sides agree to 1e-3. (Where q* grows
    /// without bound toward the transition, as for softplus, ELU and SELU, χ₁ approaches 1
    /// like 1 − c·√(σ_c − σ_w), so the sides still differ by about 1e-6 at the resolution of
    /// the search; an abrupt jump is of order 0.1.)
    public var isContinuous: Bool { Swift.abs(chi1Above - chi1Below) <= 1e-3 }

    enum CodingKeys: String, CodingKey {
        case sigmaW = "sigma_w", chi1Below = "chi_1_below", chi1Above = "chi_1_above"
    }
}

/// Where the length map `q ↦ σ_w²·E[φ(√q·z)²] + σ_b²` goes from a starting length.
public enum LengthMapLimit: Equatable, Sendable {
    /// It converges to this fixed point (0 included).
    case fixedPoint(Double)
    /// It grows without bound (e.g. ReLU with σ_w² > 2).
    case diverges
}

/// Mean-field theory of signal propagation for deep random MLPs, after Poole et al. (2016) and
/// Schoenholz et al. (2017, "Deep Information Propagation", ICLR).
///
/// Gaussian expectations are computed by `GaussianExpectation` (Gauss–Hermite for smooth
/// activations at moderate length, composite Gauss–Legendre split at kinks otherwise) to about
/// 1e-12. Activations use PyTorch's default parameters (leaky ReLU slope 0.01, ELU α = 1,
/// softplus β = 1 with threshold 20, hardtanh on [−1, 1]); PReLU is taken at its initial slope
/// 0.25, since the theory describes the network at initialization. Closed forms: ReLU has
/// χ₁ = σ_w²/2 at every length (critical at σ_w² = 2, He initialization); tanh with σ_b = 0 and
/// σ_w ≤ 1 has q* = 0 and χ₁ = σ_w².
public enum MeanFieldTheory {
    /// The activation with the given spec-file name (`tanh`, `relu`, `leaky_relu`, ...).
    ///
    /// - Parameter name: the name as in spec files and on the command line.
    /// - Throws: `MeanFieldTheoryError.unknownActivation` listing the known names.
    public static func activation(named name: String) throws(MeanFieldTheoryError) -> Activation {
        guard let activation = Activation(rawValue: name) else { throw .unknownActivation(name) }
        return activation
    }

    /// The full prediction for a network of `depth` weight layers.
    ///
    /// q* is the fixed point reached by iterating the length map from `initialLength`; χ₁ is
    /// evaluated there (as the limit q → 0⁺ when q* = 0, and as the limit q → ∞ when the length
    /// diverges, which is exact at every depth for the positively homogeneous relu, leaky_relu,
    /// prelu and linear). In the ordered phase c* = 1 and χ_c = χ₁; in the chaotic phase c* < 1
    /// is found by regula falsi on the correlation map, with two-dimensional Gaussian
    /// expectations. The edge of chaos for this activation and σ_b comes along (cached).
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaW: σ_w > 0; weights are N(0, σ_w²/fan_in).
    ///   - sigmaB: σ_b ≥ 0; biases are N(0, σ_b²).
    ///   - depth: the number of weight layers L ≥ 1 for the first/last gradient ratio.
    ///   - initialLength: the input's pre-activation length q⁰ > 0 (default 1).
    ///   - criticalTolerance: |χ₁ − 1| up to which the phase is critical (default 0.01: the
    ///     squared gradient changes by at most 1% per layer).
    public static func predict(
        activation: Activation, sigmaW: Double, sigmaB: Double = 0, depth: Int = 10,
        initialLength: Double = 1, criticalTolerance: Double = 0.01
    ) throws(MeanFieldTheoryError) -> MeanFieldPrediction {
        try validate(sigmaW: sigmaW, sigmaB: sigmaB, initialLength: initialLength)
        guard depth >= 1 else { throw .invalidDepth(depth, minimum: 1) }
        guard criticalTolerance.isFinite && criticalTolerance >= 0 && criticalTolerance < 1 else {
            throw .invalidTolerance(criticalTolerance)
        }
        let model = ActivationModel(activation)
        let limit = model.lengthLimit(sigmaW: sigmaW, sigmaB: sigmaB, from: initialLength)
        let chi1 = model.chi1(sigmaW: sigmaW, limit: limit)
        var qStar: Double?, chiQ: Double?, cStar: Double?, chiC: Double?
        if case .fixedPoint(let q) = limit {
            qStar = q
            chiQ = model.lengthSlope(sigmaW: sigmaW, at: q)
            if chi1 <= 1 || q == 0 {
                (cStar, chiC) = (1, chi1)
            } else {
                (cStar, chiC) = model.correlationFixedPoint(sigmaW: sigmaW, sigmaB: sigmaB, qStar: q)
            }
        }
        let phase: MeanFieldPhase = Swift.abs(chi1 - 1) <= criticalTolerance ? .critical : (chi1 < 1 ? .ordered : .chaotic)
        let edge = EdgeOfChaosCache.shared.edge(activation: activation, sigmaB: sigmaB, initialLength: initialLength)
        return MeanFieldPrediction(
            activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, depth: depth, initialLength: initialLength,
            lengthDiverges: limit == .diverges, qStar: qStar, chiQ: chiQ, chi1: chi1, cStar: cStar, chiC: chiC,
            depthScaleQ: chiQ.map(depthScale), depthScaleC: chiC.map(depthScale),
            perLayerGradientFactor: chi1.squareRoot(),
            gradientRatio: Foundation.pow(chi1, Double(depth - 1) / 2),
            phase: phase, criticalTolerance: criticalTolerance,
            criticalSigmaW: edge?.sigmaW, edgeOfChaos: edge)
    }

    /// One step of the length map: `σ_w²·E[φ(√q·z)²] + σ_b²`, z ~ N(0, 1).
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaW: σ_w.
    ///   - sigmaB: σ_b.
    ///   - length: the pre-activation length q ≥ 0 of the previous layer.
    public static func lengthMap(activation: Activation, sigmaW: Double, sigmaB: Double, length: Double) -> Double {
        ActivationModel(activation).lengthMap(sigmaW: sigmaW, sigmaB: sigmaB, length: length)
    }

    /// Where the length map goes from `initialLength`: its fixed point q*, or divergence.
    ///
    /// The map is increasing in q, so its iterates move monotonically toward the nearest fixed
    /// point in the direction of `L(q⁰) − q⁰`; that point is bracketed by steps of ×16 (or
    /// ÷16) and refined by Brent's method to 1e-15 relative. q* = 0 is reported when
    /// L(0) = 0 (σ_b = 0 and φ(0) = 0) and L(q) < q down to q = 1e-30·q⁰, or when the root
    /// found lies below 1e-8·q⁰ while L'(0⁺) ≤ 1 (the marginal case, tanh at σ_w = 1, where the
    /// iterates creep to 0 like 1/(2l) and L(q) − q ≈ −2q² drowns in rounding below 1e-16);
    /// divergence when L(q) > q up to q = 1e30·q⁰. When L(q⁰) = q⁰ to 1e-12 (ReLU with
    /// σ_w² = 2 and σ_b = 0, where every length is a fixed point), q* = q⁰.
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaW: σ_w > 0.
    ///   - sigmaB: σ_b ≥ 0.
    ///   - initialLength: q⁰ > 0 (default 1).
    public static func lengthLimit(
        activation: Activation, sigmaW: Double, sigmaB: Double, initialLength: Double = 1
    ) throws(MeanFieldTheoryError) -> LengthMapLimit {
        try validate(sigmaW: sigmaW, sigmaB: sigmaB, initialLength: initialLength)
        return ActivationModel(activation).lengthLimit(sigmaW: sigmaW, sigmaB: sigmaB, from: initialLength)
    }

    /// χ at a given length: `σ_w²·E[φ'(√q·z)²]`, the mean-field factor of the squared gradient
    /// norm through a layer whose pre-activations have length q.
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaW: σ_w.
    ///   - length: the pre-activation length q > 0.
    public static func gradientGain(activation: Activation, sigmaW: Double, length: Double) -> Double {
        precondition(length > 0 && length.isFinite, "gradientGain: length must be finite and > 0, got \(length)")
        let model = ActivationModel(activation)
        return sigmaW * sigmaW * model.expectation(length) { x in let d = model.derivative(x); return d * d }
    }

    /// The σ_w that puts `activation` at the edge of chaos (χ₁ = 1) for the given σ_b.
    ///
    /// χ₁(σ_w) (with q* reached from `initialLength`) is scanned on a logarithmic grid of 25
    /// points over [0.01, 100], and the first crossing of 1 is refined by Brent's method to
    /// 1e-12 relative. ReLU gives √2 for every σ_b, tanh with σ_b = 0 gives 1. Results are
    /// cached per (activation, σ_b, q⁰).
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaB: σ_b ≥ 0.
    ///   - initialLength: the q⁰ from which q* is reached (default 1).
    /// - Returns: the transition with χ₁ on both sides, or nil when χ₁ does not cross 1 on
    ///   [0.01, 100].
    public static func edgeOfChaos(
        activation: Activation, sigmaB: Double = 0, initialLength: Double = 1
    ) throws(MeanFieldTheoryError) -> EdgeOfChaos? {
        try validate(sigmaW: 1, sigmaB: sigmaB, initialLength: initialLength)
        return EdgeOfChaosCache.shared.edge(activation: activation, sigmaB: sigmaB, initialLength: initialLength)
    }

    /// The σ_w of `edgeOfChaos(activation:sigmaB:initialLength:)`, or nil when there is none.
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ.
    ///   - sigmaB: σ_b ≥ 0.
    ///   - initialLength: the q⁰ from which q* is reached (default 1).
    public static func criticalSigmaW(
        activation: Activation, sigmaB: Double = 0, initialLength: Double = 1
    ) throws(MeanFieldTheoryError) -> Double? {
        try edgeOfChaos(activation: activation, sigmaB: sigmaB, initialLength: initialLength)?.sigmaW
    }

    static func validate(sigmaW: Double, sigmaB: Double, initialLength: Double) throws(MeanFieldTheoryError) {
        guard sigmaW.isFinite && sigmaW > 0 else { throw .invalidSigmaW(sigmaW) }
        guard sigmaB.isFinite && sigmaB >= 0 else { throw .invalidSigmaB(sigmaB) }
        guard initialLength.isFinite && initialLength > 0 else { throw .invalidInitialLength(initialLength) }
    }

    /// ξ = −1/ln χ for χ < 1; infinite for χ ≥ 1, where nothing converges exponentially.
    static func depthScale(_ chi: Double) -> Double {
        chi >= 1 ? .infinity : -1 / Foundation.log(chi)
    }
}

/// An activation as scalar Double formulas with what the quadrature needs to know about it.
struct ActivationModel {
    /// φ(x).
    let value: (Double) -> Double
    /// φ'(x) (either one-sided value at a kink: kinks have measure zero).
    let derivative: (Double) -> Double
    /// Points where φ or φ' is not smooth.
    let breakpoints: [Double]
    /// lim φ'(x) for x → +∞ and x → −∞ (0 for bounded activations).
    let slopeAtPositiveInfinity: Double
    let slopeAtNegativeInfinity: Double

    /// The smallest length used for limits q → 0⁺ (√q = 1e-100 keeps x² normal).
    static let tinyLength = 1e-200

    init(_ activation: Activation) {
        switch activation {
        case .sigmoid:
            value = Self.sigmoid
            derivative = { let s = Self.sigmoid($0); return s * (1 - s) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([], 0, 0)
        case .tanh:
            value = { Foundation.tanh($0) }
            derivative = { let t = Foundation.tanh($0); return 1 - t * t }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([], 0, 0)
        case .relu:
            value = { $0 > 0 ? $0 : 0 }
            derivative = { $0 > 0 ? 1 : 0 }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([0], 1, 0)
        case .leakyRelu, .prelu:
            // PyTorch's LeakyReLU default slope, and PReLU's initial slope.
            let slope = activation == .leakyRelu ? 0.01 : 0.25
            value = { $0 > 0 ? $0 : slope * $0 }
            derivative = { $0 > 0 ? 1 : slope }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([0], 1, slope)
        case .elu:
            value = { $0 > 0 ? $0 : Foundation.expm1($0) }
            derivative = { $0 > 0 ? 1 : Foundation.exp($0) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([0], 1, 0)
        case .selu:
            let scale = 1.0507009873554804934193349852946, alpha = 1.6732632423543772848170429916717
            value = { $0 > 0 ? scale * $0 : scale * alpha * Foundation.expm1($0) }
            derivative = { $0 > 0 ? scale : scale * alpha * Foundation.exp($0) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([0], scale, 0)
        case .gelu:
            value = { $0 * 0.5 * (1 + Foundation.erf($0 * 0.7071067811865476)) }
            derivative = { x in
                0.5 * (1 + Foundation.erf(x * 0.7071067811865476)) + x * Foundation.exp(-0.5 * x * x) * 0.3989422804014327
            }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([], 1, 0)
        case .softplus:
            // PyTorch's Softplus(beta: 1, threshold: 20) switches to x above the threshold.
            value = { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) }
            derivative = { $0 > 20 ? 1 : Self.sigmoid($0) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([20], 1, 0)
        case .silu:
            value = { $0 * Self.sigmoid($0) }
            derivative = { x in let s = Self.sigmoid(x); return s * (1 + x * (1 - s)) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([], 1, 0)
        case .hardtanh:
            value = { Swift.min(Swift.max($0, -1), 1) }
            derivative = { $0 > -1 && $0 < 1 ? 1 : 0 }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([-1, 1], 0, 0)
        case .softsign:
            value = { $0 / (1 + Swift.abs($0)) }
            derivative = { let d = 1 + Swift.abs($0); return 1 / (d * d) }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([0], 0, 0)
        case .linear:
            value = { $0 }
            derivative = { _ in 1 }
            (breakpoints, slopeAtPositiveInfinity, slopeAtNegativeInfinity) = ([], 1, 1)
        }
    }

    static func sigmoid(_ x: Double) -> Double {
        let e = Foundation.exp(-Swift.abs(x))
        return x >= 0 ? 1 / (1 + e) : e / (1 + e)
    }

    /// E[f(x)] for x ~ N(0, length), split at this activation's kinks.
    func expectation(_ length: Double, _ function: (Double) -> Double) -> Double {
        GaussianExpectation.standard.expectation(variance: length, breakpoints: breakpoints, function)
    }

    func lengthMap(sigmaW: Double, sigmaB: Double, length: Double) -> Double {
        sigmaW * sigmaW * expectation(length) { let y = value($0); return y * y } + sigmaB * sigmaB
    }

    func lengthLimit(sigmaW: Double, sigmaB: Double, from start: Double) -> LengthMapLimit {
        func excess(_ q: Double) -> Double { lengthMap(sigmaW: sigmaW, sigmaB: sigmaB, length: q) - q }
        let first = excess(start)
        if Swift.abs(first) <= 1e-12 * (first + 2 * start) { return .fixedPoint(start) }
        let step = 16.0
        if first > 0 {
            // Growing: the fixed point is the first length above q⁰ where L(q) ≤ q.
            var below = start, belowExcess = first, above = start * step, aboveExcess = excess(above)
            while aboveExcess > 0 {
                if above > 1e30 * Swift.max(start, 1) { return .diverges }
                (below, belowExcess) = (above, aboveExcess)
                above *= step
                aboveExcess = excess(above)
            }
            return .fixedPoint(root(below, belowExcess, above, aboveExcess, excess))
        }
        // Shrinking: the fixed point is the first length below q⁰ where L(q) ≥ q.
        let zeroIsFixed = value(0) == 0 && sigmaB == 0
        var above = start, aboveExcess = first, below = start / step, belowExcess = excess(below)
        while belowExcess < 0 {
            // With L(0) = 0, a length below 1e-30·q⁰ is 0 for every purpose.
            if zeroIsFixed && below < 1e-30 * start { return .fixedPoint(0) }
            if below < 1e-300 { return .fixedPoint(root(0, excess(0), below, belowExcess, excess)) }
            (above, aboveExcess) = (below, belowExcess)
            below /= step
            belowExcess = excess(below)
        }
        let root = root(below, belowExcess, above, aboveExcess, excess)
        // At a marginal zero fixed point (tanh with σ_w = 1, σ_b = 0) L(q) − q ≈ −2q² is lost
        // to rounding below q ≈ 1e-16 and a spurious root appears there; the iterates go to 0.
        if zeroIsFixed && root < 1e-8 * start && lengthSlope(sigmaW: sigmaW, at: 0) <= 1 + 1e-9 {
            return .fixedPoint(0)
        }
        return .fixedPoint(root)
    }

    /// The root of `excess` between `below` (where it is ≥ 0) and `above` (where it is below 0,
    /// or 0), by Brent's method, to 1e-15 relative.
    private func root(_ below: Double, _ belowExcess: Double, _ above: Double, _ aboveExcess: Double,
                      _ excess: (Double) -> Double) -> Double {
        // At L(q) = q exactly on `above`, that end is the root.
        if aboveExcess == 0 { return above }
        return brentRoot(below, belowExcess, above, aboveExcess, tolerance: 1e-15 * above, excess).estimate
    }

    func chi1(sigmaW: Double, limit: LengthMapLimit) -> Double {
        switch limit {
        case .diverges:
            // lim_{q→∞} E[φ'(√q z)²] = (φ'(+∞)² + φ'(−∞)²)/2.
            let a = slopeAtPositiveInfinity, b = slopeAtNegativeInfinity
            return sigmaW * sigmaW * (a * a + b * b) / 2
        case .fixedPoint(let q):
            return sigmaW * sigmaW * expectation(Swift.max(q, Self.tinyLength)) { let d = derivative($0); return d * d }
        }
    }

    /// dL/dq at q, by Stein's lemma σ_w²·E[x φ(x) φ'(x)]/q for x ~ N(0, q), which equals
    /// σ_w²·E[φ'² + φφ''] without needing φ'' (a Dirac delta for ReLU).
    func lengthSlope(sigmaW: Double, at q: Double) -> Double {
        let length = Swift.max(q, Self.tinyLength)
        return sigmaW * sigmaW * expectation(length) { x in x * value(x) * derivative(x) } / length
    }

    /// E[f(u₁)·g(u₂)] for (u₁, u₂) Gaussian with variances q and correlation c: an outer
    /// expectation over u₁ of f(u₁)·E[g(c·u₁ + y)], y ~ N(0, q(1 − c²)).
    func pairExpectation(length q: Double, correlation c: Double, _ f: (Double) -> Double, _ g: (Double) -> Double) -> Double {
        let conditionalVariance = Swift.max(0, q * (1 - c * c))
        var outerBreakpoints = breakpoints
        if c != 0 { outerBreakpoints += breakpoints.map { $0 / c } }
        return GaussianExpectation.standard.expectation(variance: q, breakpoints: outerBreakpoints) { x in
            let left = f(x)
            if left == 0 { return 0 }
            let shift = c * x
            let inner = GaussianExpectation.standard.expectation(
                variance: conditionalVariance, breakpoints: breakpoints.map { $0 - shift }, center: -shift
            ) { y in g(shift + y) }
            return left * inner
        }
    }

    /// The stable fixed point c* < 1 of the correlation map
    /// `c ↦ (σ_w²·E[φ(u₁)φ(u₂)] + σ_b²)/q*` in the chaotic phase, and χ_c = σ_w²·E[φ'(u₁)φ'(u₂)] there.
    ///
    /// With χ₁ > 1 the map lies below the diagonal just under c = 1 and above it at c = −1
    /// (its value there is ≥ −1), so c* is bracketed in [−1, 1 − δ] and found by the Illinois
    /// variant of regula falsi to 1e-11 (each step is a two-dimensional expectation).
    func correlationFixedPoint(sigmaW: Double, sigmaB: Double, qStar: Double) -> (Double, Double) {
        let variance = sigmaW * sigmaW
        func excess(_ c: Double) -> Double {
            (variance * pairExpectation(length: qStar, correlation: c, value, value) + sigmaB * sigmaB) / qStar - c
        }
        var gap = 1e-2
        var high = 1 - gap, highExcess = excess(high)
        while highExcess >= 0 {
            gap /= 10
            // c* is indistinguishable from 1: χ₁ is 1 to rounding, and so is χ_c.
            if gap < 1e-10 { return (1, 1) }
            high = 1 - gap
            highExcess = excess(high)
        }
        var low = -1.0, lowExcess = excess(low)
        if lowExcess <= 0 {
            // c = −1 is a fixed point itself (an odd φ with σ_b = 0). With χ₁ > 1 it is unstable,
            // so the map rises above the diagonal just past it: bracket from there.
            var lowGap = 1e-2
            while lowGap > 1e-10 {
                low = -1 + lowGap
                lowExcess = excess(low)
                if lowExcess > 0 { break }
                lowGap /= 10
            }
        }
        var cStar = low
        if lowExcess > 0 {
            var side = 0
            for _ in 0..<100 {
                cStar = (low * highExcess - high * lowExcess) / (highExcess - lowExcess)
                if !(cStar > low && cStar < high) { cStar = (low + high) / 2 }
                let value = excess(cStar)
                if value == 0 { break }
                if value > 0 {
                    (low, lowExcess) = (cStar, value)
                    if side == 1 { highExcess /= 2 }
                    side = 1
                } else {
                    (high, highExcess) = (cStar, value)
                    if side == -1 { lowExcess /= 2 }
                    side = -1
                }
                if high - low <= 1e-11 || Swift.abs(value) <= 1e-14 { break }
            }
        }
        let chiC = variance * pairExpectation(length: qStar, correlation: cStar, derivative, derivative)
        return (cStar, chiC)
    }

    func edgeOfChaos(sigmaB: Double, initialLength: Double) -> EdgeOfChaos? {
        func chi1(_ sigmaW: Double) -> Double {
            self.chi1(sigmaW: sigmaW, limit: lengthLimit(sigmaW: sigmaW, sigmaB: sigmaB, from: initialLength))
        }
        let lowest = Foundation.log(0.01), highest = Foundation.log(100.0)
        let points = 25
        var previous = Foundation.exp(lowest)
        var previousChi1 = chi1(previous)
        guard previousChi1 < 1 else { return nil }
        for i in 1..<points {
            let sigmaW = Foundation.exp(lowest + (highest - lowest) * Double(i) / Double(points - 1))
            let current = chi1(sigmaW)
            if current >= 1 {
                let r = brentRoot(previous, previousChi1 - 1, sigmaW, current - 1, tolerance: 1e-12 * sigmaW) { chi1($0) - 1 }
                return EdgeOfChaos(sigmaW: (r.negative.x + r.nonnegative.x) / 2,
                                   chi1Below: r.negative.f + 1, chi1Above: r.nonnegative.f + 1)
            }
            (previous, previousChi1) = (sigmaW, current)
        }
        return nil
    }
}

/// Edges of chaos already computed, per (activation, σ_b, q⁰): `predict` reports one each time
/// and it costs about a hundred fixed-point searches.
final class EdgeOfChaosCache: @unchecked Sendable {
    static let shared = EdgeOfChaosCache()
    private let lock = NSLock()
    private var entries: [String: EdgeOfChaos?] = [:]

    func edge(activation: Activation, sigmaB: Double, initialLength: Double) -> EdgeOfChaos? {
        let key = "\(activation.rawValue) \(sigmaB.bitPattern) \(initialLength.bitPattern)"
        lock.lock()
        if let cached = entries[key] { lock.unlock(); return cached }
        lock.unlock()
        let edge = ActivationModel(activation).edgeOfChaos(sigmaB: sigmaB, initialLength: initialLength)
        lock.lock()
        entries[key] = edge
        lock.unlock()
        return edge
    }
}
