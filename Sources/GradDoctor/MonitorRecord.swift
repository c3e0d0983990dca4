// What the monitor records: plain Codable values, so a run's statistics can be written as JSON,
// read back, diagnosed and drawn without the model.

/// Statistics of one parameter's gradient (and value) at one recorded step.
public struct ParameterStatistics: Codable, Sendable, Equatable {
    /// The parameter's name (`0.weight`).
    public var name: String
    /// `‖g‖₂`.
    public var gradientNorm: Double
    /// `‖g‖₂ / √n`.
    public var gradientRMS: Double
    /// `max |gᵢ|` over finite elements.
    public var gradientMaxAbs: Double
    /// Mean of the gradient's elements.
    public var gradientMean: Double
    /// Standard deviation of the gradient's elements (population).
    public var gradientStd: Double
    /// Fraction of gradient elements exactly 0.
    public var zeroFraction: Double
    /// Number of NaN or infinite gradient elements.
    public var nonfiniteCount: Int
    /// `‖w‖₂` before the update.
    public var weightNorm: Double
    /// `‖Δw‖₂ / ‖w‖₂` of this step's optimizer update (nil until the step is taken, or when
    /// the step was skipped).
    public var updateRatio: Double?
}

/// Statistics of one module's output at one recorded step (forward) and of the gradient
/// arriving at it (backward).
public struct LayerStatistics: Codable, Sendable, Equatable {
    /// The module's dotted name in the model (`3` for the fourth layer of a `Sequential`).
    public var name: String
    /// The module's kind (`Linear`, `Sigmoid`, `ReLU`, ...).
    public var kind: String
    /// Mean of the output's elements.
    public var activationMean: Double
    /// Standard deviation of the output's elements (population).
    public var activationStd: Double
    /// For sigmoid/tanh layers: fraction of units whose derivative is below
    /// `saturationThreshold` times its maximum (0.25 for sigmoid, 1 for tanh).
    public var saturationFraction: Double?
    /// For ReLU-family layers: fraction of units (output columns) that are 0 for the whole batch.
    public var deadFraction: Double?
    /// Number of NaN or infinite output elements.
    public var nonfiniteCount: Int
    /// `‖∂L/∂output‖₂`, once backward has reached this layer.
    public var outputGradientNorm: Double?
    /// For recurrent layers: `‖∂L/∂h_t‖` for each time step `t` of the last layer of the
    /// module (`RecurrentModule.hiddenGradientNorms`); nil for other layers.
    public var hiddenGradientNorms: [Double]? = nil
}

/// Everything the monitor saw at one recorded step.
public struct StepStatistics: Codable, Sendable, Equatable {
    /// The training step (0-based).
    public var step: Int
    /// The loss of this step's forward pass.
    public var loss: Double?
    /// Global L2 gradient norm over all parameters, before clipping.
    public var globalGradientNorm: Double
    /// Global norm after clipping (nil when nothing clipped).
    public var clippedGradientNorm: Double?
    /// Per parameter, in `namedParameters` order.
    public var parameters: [ParameterStatistics]
    /// Per leaf module, in forward order.
    public var layers: [LayerStatistics]
    /// Whether the non-finite guard skipped this step's update.
    public var skipped: Bool = false
}

/// A histogram of one parameter's gradient at one step, in fixed bins shared by all steps and
/// layers so that snapshots are comparable.
///
/// Log-magnitude bins: `zeroCount` for exact zeros, then `logBinEdges.count − 1` bins of
/// `|g|` between consecutive edges (decades 1e-12 … 1e4, the first and last bins also catching
/// everything below/above), and `nonfiniteCount`. Signed bins: `linearCounts` over
/// `[−m, m]` in equal bins, with `m` the snapshot's largest finite `|g|` (`linearRange`).
public struct GradientHistogram: Codable, Sendable, Equatable {
    /// The training step.
    public var step: Int
    /// The parameter's name.
    public var name: String
    /// Elements exactly 0.
    public var zeroCount: Int
    /// Counts per log-magnitude bin (`logBinEdges.count − 1` of them).
    public var logCounts: [Int]
    /// NaN or infinite elements.
    public var nonfiniteCount: Int
    /// Counts per signed linear bin.
    public var linearCounts: [Int]
    /// Half-width `m` of the linear bins' range `[−m, m]`.
    public var linearRange: Double

    /// The edges of the log-magnitude bins: `10^e` for `e` in −12…4.
    public static let logBinEdges: [Double] = (-12...4).map { pow10($0) }
    /// Number of signed linear bins.
    public static let linearBinCount = 41
    /// The log-magnitude bins by Float exponent, for the Float counting loop.
    static let logBinFloatTable = FloatBinTable(edges: logBinEdges)

    static func pow10(_ e: Int) -> Double {
        var v = 1.0
        for _ in 0..<Swift.abs(e) { v *= 10 }
        return e < 0 ? 1 / v : v
    }
}

/// A run's monitoring record: the per-step series (decimated to stay bounded) and the
/// histogram snapshots (capped).
public struct MonitorRecord: Codable, Sendable, Equatable {
    /// Recorded steps in order; on long runs every other entry is dropped whenever the series
    /// reaches its capacity, so it spans the whole run with at most `capacity` entries.
    public var steps: [StepStatistics] = []
    /// Histogram snapshots, decimated the same way.
    public var histograms: [GradientHistogram] = []
    /// Steps between kept entries of `steps` (1, then 2, 4, ... after decimation).
    public var stride: Int = 1
    /// Steps between kept histogram snapshots, in units of the histogram interval.
    public var histogramStride: Int = 1
    /// Steps whose update the non-finite guard skipped.
    public var skippedSteps: Int = 0
    /// Where the first non-finite value began, if any.
    public var firstNonfinite: NonfiniteOrigin?

    public init() {}
}

/// Where a NaN or infinity first appeared.
public struct NonfiniteOrigin: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Which pass found it.
    public enum Phase: String, Codable, Sendable {
        case forward, loss, backward
    }
    /// The step.
    public var step: Int
    /// Forward pass, loss or backward pass.
    public var phase: Phase
    /// The module (forward: the first whose output is non-finite while its input was finite;
    /// backward: the first whose output gradient, or parameter gradient, became non-finite),
    /// or the loss term.
    public var location: String
    /// The module's kind, when it is a module.
    public var kind: String?
    /// Statistics of the module's input (forward): mean, std, max |x|.
    public var inputMean: Double?
    public var inputStd: Double?
    public var inputMaxAbs: Double?
    /// How many elements were not finite.
    public var nonfiniteCount: Int

    public var description: String {
        var text = "step \(step): first non-finite value in the \(phase.rawValue) pass at \(location)"
        if let kind { text += " (\(kind))" }
        text += ", \(nonfiniteCount) element\(nonfiniteCount == 1 ? "" : "s")"
        if let inputMean, let inputStd, let inputMaxAbs {
            text += "; its input was finite: mean \(formatted(inputMean)), std \(formatted(inputStd)), max |x| \(formatted(inputMaxAbs))"
        }
        return text
    }
}

/// A number in a short readable form (`3.2e-07`, `0.25`, `1.2e+28`).
func formatted(_ x: Double) -> String {
    if !x.isFinite { return "\(x)" }
    let a = Swift.abs(x)
    if a != 0 && (a < 1e-3 || a >= 1e5) {
        var exponent = 0
        var mantissa = a
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        let rounded = (mantissa * 10).rounded() / 10
        return "\(x < 0 ? "-" : "")\(rounded)e\(exponent < 0 ? "-" : "+")\(Swift.abs(exponent) < 10 ? "0" : "")\(Swift.abs(exponent))"
    }
    return "\((x * 10000).rounded() / 10000)"
}
