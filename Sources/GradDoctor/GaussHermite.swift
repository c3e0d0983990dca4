// Quadrature rules for Gaussian expectations E[f(x)], x ~ N(0, v), as the mean-field theory
// needs them: Gauss–Hermite for smooth integrands at moderate variance, and a composite
// Gauss–Legendre rule split at the kinks of piecewise activations for everything else.

import Foundation

/// The n-point Gauss–Hermite rule for the standard normal density (probabilists' Hermite
/// polynomials): `E[f(z)] ≈ Σᵢ wᵢ f(zᵢ)` for z ~ N(0, 1), exact when f is a polynomial of
/// degree ≤ 2n − 1.
///
/// Nodes are the roots of Heₙ, found by Newton's method on the orthonormal three-term
/// recurrence of the physicists' polynomials (Numerical Recipes' `gauher`) and rescaled
/// by √2; weights sum to 1. The rule converges geometrically for functions that are smooth
/// on the scale of the node spacing (about π/√(2n) near the origin) and only algebraically
/// across a kink or a jump, which is why `GaussianExpectation` splits piecewise integrands.
public struct GaussHermiteRule: Sendable {
    /// The nodes zᵢ in increasing order, symmetric about 0.
    public let nodes: [Double]
    /// The weights wᵢ (positive, summing to 1), in the order of `nodes`.
    public let weights: [Double]

    /// Computes the rule with `pointCount` nodes.
    ///
    /// - Parameter pointCount: the number of nodes n, 1 ≤ n ≤ 400 (beyond that the weights of
    ///   the outermost nodes underflow).
    public init(pointCount: Int) {
        precondition((1...400).contains(pointCount), "GaussHermiteRule: pointCount must be in 1...400, got \(pointCount)")
        let n = pointCount
        var x = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        let piToMinusQuarter = 0.7511255444649425  // π^(−1/4)
        var z = 0.0
        for i in 0..<(n + 1) / 2 {
            // Initial guesses for the largest roots first (Numerical Recipes, §4.6).
            switch i {
            case 0: z = Double(2 * n + 1).squareRoot() - 1.85575 * Foundation.pow(Double(2 * n + 1), -0.16667)
            case 1: z -= 1.14 * Foundation.pow(Double(n), 0.426) / z
            case 2: z = 1.86 * z - 0.86 * x[0]
            case 3: z = 1.91 * z - 0.91 * x[1]
            default: z = 2 * z - x[i - 2]
            }
            var derivative = 0.0
            for _ in 0..<100 {
                var p1 = piToMinusQuarter, p2 = 0.0
                for j in 0..<n {
                    let p3 = p2
                    p2 = p1
                    p1 = z * (2 / Double(j + 1)).squareRoot() * p2 - (Double(j) / Double(j + 1)).squareRoot() * p3
                }
                derivative = Double(2 * n).squareRoot() * p2
                let previous = z
                z = previous - p1 / derivative
                if Swift.abs(z - previous) <= 1e-14 * Swift.max(1, Swift.abs(z)) { break }
            }
            x[i] = z
            x[n - 1 - i] = -z
            w[i] = 2 / (derivative * derivative)
            w[n - 1 - i] = w[i]
        }
        // Physicists' rule (weight e^(−x²)) to the standard normal: z = √2·x, w/√π.
        let order = (0..<n).sorted { x[$0] < x[$1] }
        nodes = order.map { x[$0] * 2.0.squareRoot() }
        weights = order.map { w[$0] / Double.pi.squareRoot() }
        let total = weights.reduce(0, +)
        precondition(Swift.abs(total - 1) < 1e-10, "GaussHermiteRule: Newton iteration failed for \(n) points (weights sum to \(total))")
    }

    /// The expectation of `function` under the standard normal: `Σᵢ wᵢ f(zᵢ)`.
    public func expectation(_ function: (Double) -> Double) -> Double {
        var sum = 0.0
        for i in 0..<nodes.count { sum += weights[i] * function(nodes[i]) }
        return sum
    }

    /// The expectation of `function(x)` for x ~ N(0, variance): `Σᵢ wᵢ f(√variance · zᵢ)`.
    ///
    /// - Parameter variance: the variance v ≥ 0 of x.
    public func expectation(variance: Double, _ function: (Double) -> Double) -> Double {
        let scale = variance.squareRoot()
        return expectation { function(scale * $0) }
    }
}

/// The n-point Gauss–Legendre rule on [−1, 1]: `∫₋₁¹ f(t) dt ≈ Σᵢ wᵢ f(tᵢ)`, exact for
/// polynomials of degree ≤ 2n − 1.
///
/// Nodes are the roots of Pₙ by Newton's method from Chebyshev-like guesses (Numerical
/// Recipes' `gauleg`); the weights are `2 / ((1 − tᵢ²) Pₙ'(tᵢ)²)` and sum to 2.
public struct GaussLegendreRule: Sendable {
    /// The nodes tᵢ in increasing order on (−1, 1).
    public let nodes: [Double]
    /// The weights wᵢ (positive, summing to 2), in the order of `nodes`.
    public let weights: [Double]

    /// Computes the rule with `pointCount` nodes.
    ///
    /// - Parameter pointCount: the number of nodes n ≥ 1.
    public init(pointCount: Int) {
        precondition(pointCount >= 1, "GaussLegendreRule: pointCount must be at least 1, got \(pointCount)")
        let n = pointCount
        var x = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        for i in 0..<(n + 1) / 2 {
            var z = Foundation.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p1 = 1.0, p2 = 0.0
                for j in 0..<n {
                    let p3 = p2
                    p2 = p1
                    p1 = (Double(2 * j + 1) * z * p2 - Double(j) * p3) / Double(j + 1)
                }
                derivative = Double(n) * (z * p1 - p2) / (z * z - 1)
                let previous = z
                z = previous - p1 / derivative
                if Swift.abs(z - previous) <= 1e-15 { break }
            }
            x[i] = -z
            x[n - 1 - i] = z
            w[i] = 2 / ((1 - z * z) * derivative * derivative)
            w[n - 1 - i] = w[i]
        }
        nodes = x
        weights = w
    }

    /// `∫ₐᵇ f(x) dx` by the rule mapped onto [a, b].
    ///
    /// - Parameters:
    ///   - lower: the lower limit a.
    ///   - upper: the upper limit b.
    public func integral(from lower: Double, to upper: Double, _ function: (Double) -> Double) -> Double {
        let middle = (lower + upper) / 2, halfWidth = (upper - lower) / 2
        var sum = 0.0
        for i in 0..<nodes.count { sum += weights[i] * function(middle + halfWidth * nodes[i]) }
        return sum * halfWidth
    }
}

/// Expectations `E[f(x)]` for x ~ N(0, v) of activation-like functions, accurate to about
/// 1e-13 relative for any variance from 1e-200 to 1e30.
///
/// A function that is smooth (no `breakpoints`) is integrated with a 100-node Gauss–Hermite
/// rule while v ≤ 1; there its error is below 1e-9 (1e-15 for v ≤ 0.5). Gauss–Hermite is not
/// used beyond that, nor across kinks: for tanh at v = 25 the 100-node rule is off by 2.5%,
/// and for the jump in hardtanh's derivative by several percent at any v, because its nodes
/// are about 0.3 apart near the origin in units of √v. Instead, the real line is cut to
/// [−12√v, 12√v] (the Gaussian mass beyond is 4e-33), split at every breakpoint and at
/// graded points around `center` (±0.5, 1, 1.5, 2, 3, 4, then ×1.5: functions like
/// activations change on a scale of about 1 near their kink or knee and more slowly farther
/// out), panels wider than √v are subdivided, and each panel gets a 20-point Gauss–Legendre
/// rule: a few hundred to a thousand evaluations of f.
public struct GaussianExpectation: Sendable {
    /// The Gauss–Hermite rule used for smooth functions at variance ≤ `hermiteVarianceLimit`.
    public let hermite: GaussHermiteRule
    /// The rule applied on each panel of the composite rule.
    public let legendre: GaussLegendreRule
    /// The largest variance at which a smooth function is integrated by Gauss–Hermite.
    public let hermiteVarianceLimit: Double

    /// A rule set with `hermitePointCount` Gauss–Hermite nodes and `legendrePointCount`
    /// Gauss–Legendre nodes per panel.
    ///
    /// - Parameters:
    ///   - hermitePointCount: nodes of the Gauss–Hermite rule (default 100).
    ///   - legendrePointCount: nodes per panel of the composite rule (default 20).
    ///   - hermiteVarianceLimit: use Gauss–Hermite for smooth functions up to this variance
    ///     (default 1; 0 turns it off).
    public init(hermitePointCount: Int = 100, legendrePointCount: Int = 20, hermiteVarianceLimit: Double = 1) {
        hermite = GaussHermiteRule(pointCount: hermitePointCount)
        legendre = GaussLegendreRule(pointCount: legendrePointCount)
        self.hermiteVarianceLimit = hermiteVarianceLimit
    }

    /// The shared default rule set.
    public static let standard = GaussianExpectation()

    /// Number of standard deviations at which the Gaussian is cut off (mass beyond: 4e-33).
    static let cutoff = 12.0
    /// Distances from `center` at which panels start, before the ×1.5 growth.
    static let gradedEdges: [Double] = [0.5, 1, 1.5, 2, 3, 4]

    /// `E[f(x)]` for x ~ N(0, variance).
    ///
    /// - Parameters:
    ///   - variance: v ≥ 0; at v = 0 the result is f(0).
    ///   - breakpoints: the points where f or its derivative is not smooth (activation kinks).
    ///   - center: the point around which the composite rule's panels are graded, where f
    ///     changes fastest (default 0); the Gauss–Hermite path ignores it.
    ///   - function: the integrand f.
    public func expectation(
        variance: Double, breakpoints: [Double] = [], center: Double = 0, _ function: (Double) -> Double
    ) -> Double {
        precondition(variance >= 0 && variance.isFinite, "GaussianExpectation: variance must be finite and ≥ 0, got \(variance)")
        if variance == 0 { return function(0) }
        if breakpoints.isEmpty && variance <= hermiteVarianceLimit {
            return hermite.expectation(variance: variance, function)
        }
        let deviation = variance.squareRoot()
        let radius = Self.cutoff * deviation
        var edges: [Double] = [-radius, radius]
        edges.reserveCapacity(64)
        for point in breakpoints where Swift.abs(point) < radius { edges.append(point) }
        var distance = Self.gradedEdges[0]
        var graded = 0
        while distance < 2 * radius {
            if Swift.abs(center - distance) < radius { edges.append(center - distance) }
            if Swift.abs(center + distance) < radius { edges.append(center + distance) }
            graded += 1
            distance = graded < Self.gradedEdges.count ? Self.gradedEdges[graded] : distance * 1.5
        }
        if Swift.abs(center) < radius { edges.append(center) }
        edges.sort()
        let normalization = 1 / (2 * Double.pi * variance).squareRoot()
        let inverseTwiceVariance = 1 / (2 * variance)
        var sum = 0.0
        var lower = edges[0]
        for upper in edges.dropFirst() where upper > lower {
            let pieces = Swift.max(1, Int(((upper - lower) / deviation).rounded(.up)))
            let width = (upper - lower) / Double(pieces)
            for piece in 0..<pieces {
                let a = lower + width * Double(piece)
                let b = piece == pieces - 1 ? upper : a + width
                sum += legendre.integral(from: a, to: b) { x in
                    let density = Foundation.exp(-x * x * inverseTwiceVariance)
                    return density == 0 ? 0 : function(x) * density
                }
            }
            lower = upper
        }
        return sum * normalization
    }
}
