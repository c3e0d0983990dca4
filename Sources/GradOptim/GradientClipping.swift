import GradNN
import GradTensor

/// How gradients are clipped before each optimizer step, as a spec file or flag names it.
///
/// - `none`: gradients are left as they are.
/// - `norm(maxNorm:)`: `clip_grad_norm_`: all gradients scaled together so that their global
///   L2 norm is at most `maxNorm`.
/// - `value(clipValue:)`: `clip_grad_value_`: every element clamped to `[−c, c]`.
/// - `agc(clipFactor:eps:exemptLastLayer:)`: adaptive gradient clipping (Brock et al. 2021,
///   "High-Performance Large-Scale Image Recognition Without Normalization"): per unit `i`
///   (a row of a weight matrix; the whole tensor for a vector), `gᵢ ← gᵢ·λ·max(‖wᵢ‖, ε)/‖gᵢ‖`
///   when `‖gᵢ‖ > λ·max(‖wᵢ‖, ε)`. The paper exempts the final classifier layer.
/// - `autoClip(percentile:)`: AutoClip (Seetharaman et al. 2020, "AutoClip: Adaptive
///   Gradient Clipping for Source Separation Networks"): `clip_grad_norm_` at the
///   `percentile`-th percentile of every finite global norm seen so far, this step's included.
public enum GradientClipping: Equatable, Sendable, Codable {
    case none
    case norm(maxNorm: Double)
    case value(clipValue: Double)
    case agc(clipFactor: Double, eps: Double = 1e-3, exemptLastLayer: Bool = true)
    case autoClip(percentile: Double)

    /// The spec file's name of the kind (`none`, `norm`, `value`, `agc`, `autoclip`).
    public var name: String {
        switch self {
        case .none: "none"
        case .norm: "norm"
        case .value: "value"
        case .agc: "agc"
        case .autoClip: "autoclip"
        }
    }

    /// Checks the hyperparameters: thresholds ≥ 0 and finite, λ > 0, ε ≥ 0, percentile in 0…100.
    public func validate() throws(OptimizerError) {
        switch self {
        case .none: return
        case .norm(let maxNorm):
            if !(maxNorm >= 0) || !maxNorm.isFinite { throw Hyperparameter.error("max norm", maxNorm, "a non-negative finite number") }
        case .value(let clipValue):
            if !(clipValue >= 0) || !clipValue.isFinite { throw Hyperparameter.error("clip value", clipValue, "a non-negative finite number") }
        case .agc(let clipFactor, let eps, _):
            if !(clipFactor > 0) || !clipFactor.isFinite { throw Hyperparameter.error("AGC clip factor", clipFactor, "a positive finite number") }
            if !(eps >= 0) || !eps.isFinite { throw Hyperparameter.error("AGC eps", eps, "a non-negative finite number") }
        case .autoClip(let percentile):
            if !(percentile >= 0 && percentile <= 100) { throw Hyperparameter.error("AutoClip percentile", percentile, "a number in 0...100") }
        }
    }
}

/// What one clipping call saw and did.
public struct ClipOutcome: Sendable, Equatable {
    /// Global L2 norm of all gradients before clipping (NaN or ∞ when a gradient is not finite).
    public var totalNorm: Double
    /// The global norm threshold used (`norm`, `autoClip`), nil for the other kinds.
    public var maxNorm: Double?
    /// Whether any gradient was changed.
    public var clipped: Bool

    /// An outcome from its parts.
    public init(totalNorm: Double, maxNorm: Double?, clipped: Bool) {
        self.totalNorm = totalNorm
        self.maxNorm = maxNorm
        self.clipped = clipped
    }
}

/// Applies a `GradientClipping` rule to a model's gradients step after step, keeping the state
/// AutoClip needs (the history of global norms).
public final class GradientClipper<Scalar: TensorScalar> {
    /// The rule.
    public let rule: GradientClipping
    private let namedParameters: [(String, Parameter<Scalar>)]
    private let parameters: [Parameter<Scalar>]
    /// The finite global norms seen so far, sorted (AutoClip only).
    private var sortedHistory: [Double] = []

    /// A clipper for `namedParameters` (names as `Module.namedParameters`).
    ///
    /// - Throws: `OptimizerError.invalidHyperparameter` for a bad threshold.
    public init(_ rule: GradientClipping, namedParameters: [(String, Parameter<Scalar>)]) throws(OptimizerError) {
        try rule.validate()
        self.rule = rule
        self.namedParameters = namedParameters
        parameters = namedParameters.map(\.1)
    }

    /// The finite global norms AutoClip has seen so far, in ascending order (empty for the
    /// other rules): the clipper's whole state, for checkpoints.
    public var normHistory: [Double] { sortedHistory }

    /// Replaces the norm history with `history` (a saved `normHistory`), so that the next
    /// `clip()` continues as the saved clipper would have.
    ///
    /// - Parameter history: finite norms; their order does not matter (they are sorted).
    public func restoreNormHistory(_ history: [Double]) {
        precondition(history.allSatisfy(\.isFinite), "GradientClipper.restoreNormHistory: the history must be finite")
        sortedHistory = history.sorted()
    }

    /// Clips the current gradients in place by the rule and returns the norm before clipping.
    public func clip() -> ClipOutcome {
        // Runs the Float or Double specialization: a generic class's methods called from another
        // module run unspecialized, instantiating type metadata for the tuples they touch.
        if Scalar.self == Float.self { return unsafeDowncast(self, to: GradientClipper<Float>.self).clipSpecialized() }
        if Scalar.self == Double.self { return unsafeDowncast(self, to: GradientClipper<Double>.self).clipSpecialized() }
        return clipSpecialized()
    }

    private func clipSpecialized() -> ClipOutcome {
        let total = totalNorm(count: parameters.count, parameter: { parameters[$0] }, p: 2)
        switch rule {
        case .none:
            return ClipOutcome(totalNorm: total, maxNorm: nil, clipped: false)
        case .norm(let maxNorm):
            return scaleToNorm(parameters, total: total, maxNorm: maxNorm)
        case .value(let clipValue):
            clipGradValue(parameters, clipValue: Scalar(clipValue))
            return ClipOutcome(totalNorm: total, maxNorm: nil, clipped: true)
        case .autoClip(let percentile):
            if total.isFinite {
                let index = insertionIndex(total)
                sortedHistory.insert(total, at: index)
            }
            guard !sortedHistory.isEmpty else { return ClipOutcome(totalNorm: total, maxNorm: nil, clipped: false) }
            return scaleToNorm(parameters, total: total, maxNorm: Self.percentile(sortedHistory, percentile))
        case .agc(let clipFactor, let eps, let exemptLastLayer):
            var exempt = Set<String>()
            if exemptLastLayer, let last = namedParameters.last?.0 {
                let prefix = moduleName(of: last)
                exempt = Set(namedParameters.map(\.0).filter { moduleName(of: $0) == prefix })
            }
            var clipped = false
            for (name, parameter) in namedParameters where !exempt.contains(name) {
                if adaptiveClip(parameter, clipFactor: clipFactor, eps: eps) { clipped = true }
            }
            return ClipOutcome(totalNorm: total, maxNorm: nil, clipped: clipped)
        }
    }

    /// `clip_grad_norm_` semantics: scale by `maxNorm / (N + 1e-6)` when below 1.
    private func scaleToNorm(_ parameters: [Parameter<Scalar>], total: Double, maxNorm: Double) -> ClipOutcome {
        let factor = maxNorm / (total + 1e-6)
        guard factor < 1 else { return ClipOutcome(totalNorm: total, maxNorm: maxNorm, clipped: false) }
        let scale = Scalar(factor)
        for parameter in parameters {
            modifyGradient(of: parameter) { g, n in scaleLoop(g, n, scale) }
        }
        return ClipOutcome(totalNorm: total, maxNorm: maxNorm, clipped: true)
    }

    private func insertionIndex(_ value: Double) -> Int {
        var low = 0, high = sortedHistory.count
        while low < high {
            let mid = (low + high) / 2
            if sortedHistory[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The `p`-th percentile of sorted values with linear interpolation between closest ranks
    /// (NumPy's default `np.percentile`, which AutoClip's reference code calls).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p / 100 * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = Swift.min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + (sorted[above] - sorted[below]) * fraction
    }
}

/// The module part of a dotted parameter name (`3` for `3.weight`; `` for `weight`).
func moduleName(of parameterName: String) -> Substring {
    guard let dot = parameterName.lastIndex(of: ".") else { return "" }
    return parameterName[..<dot]
}

/// Adaptive gradient clipping of one parameter, unit-wise: rows of a matrix (or of the tensor
/// seen as `[shape[0], rest]`), the whole tensor for a scalar or vector. Returns whether any
/// unit was scaled.
func adaptiveClip<Scalar: TensorScalar>(_ parameter: Parameter<Scalar>, clipFactor: Double, eps: Double) -> Bool {
    let shape = parameter.value.shape
    let units = shape.count <= 1 ? 1 : shape[0]
    var weightNorms = [Double](repeating: 0, count: units)
    parameter.value.withUnsafeBufferPointer { w in
        let width = units == 0 ? 0 : w.count / units
        for u in 0..<units {
            weightNorms[u] = sumOfSquares(UnsafeBufferPointer(rebasing: w[u * width ..< (u + 1) * width])).squareRoot()
        }
    }
    var clipped = false
    modifyGradient(of: parameter) { g, n in
        let width = n / units
        for u in 0..<units {
            let row = g + u * width
            let gradientNorm = sumOfSquares(UnsafeBufferPointer(start: row, count: width)).squareRoot()
            let limit = clipFactor * Swift.max(weightNorms[u], eps)
            if gradientNorm > limit {
                // The reference implementations divide by max(‖g‖, 1e-6).
                scaleLoop(row, width, Scalar(limit / Swift.max(gradientNorm, 1e-6)))
                clipped = true
            }
        }
    }
    return clipped
}
