// The doctor's reading of a monitor record: findings with their evidence and a plain-language
// cause, ranked prescriptions (Prescription.swift), and a summary.
//
// Gradient-flow findings (vanishing, exploding) look at the start of the run: for every weighted
// layer, the median of its weight-gradient norm (and of the backward signal at its output) over
// the first `earlyStepCount` recorded steps whose gradients are all finite. The start, because that is where depth, activation and
// initialization show undisturbed (training reshapes the profile afterwards, and a run that
// blew up has nothing else finite); the median, so that one odd batch does not decide.

import Foundation
import GradNN
import GradTensor

// MARK: - Thresholds

/// The settable limits the doctor compares a record's statistics with.
///
/// Every default is stated on its property. Gradient-flow findings use the early profile (the
/// median per layer over the first `earlyStepCount` finite recorded steps); unit findings
/// (saturation, dead units) the worse of the early and the late window (first and last
/// `earlyStepCount` recorded steps); loss findings the whole recorded loss series, with early and
/// late windows of `lossWindowFraction` of it. Decoding accepts any subset of the keys; the
/// others keep their defaults.
public struct DiagnosisThresholds: Codable, Sendable, Equatable {
    /// Recorded steps per window: the early gradient profile is the median over the first this
    /// many finite steps (default 5).
    public var earlyStepCount = 5
    /// Fewest weighted layers (`Linear` and the like) a network needs for a gradient-flow
    /// finding (default 3).
    public var minimumWeightedLayers = 3
    /// Vanishing when the first weighted layer's gradient norm is below this fraction of the
    /// last's, `‖∇W₁‖ / ‖∇W_L‖ < 1e-2` (default 1e-2).
    public var vanishingRatio = 1e-2
    /// Exploding when the first weighted layer's gradient norm is above this multiple of the
    /// last's, `‖∇W₁‖ / ‖∇W_L‖ > 1e2` (default 1e2).
    public var explodingRatio = 1e2
    /// The fraction of consecutive layer ratios `‖∇W_l‖ / ‖∇W_(l+1)‖` that must lie on the
    /// same side of 1 for the change to count as geometric (default 0.6).
    public var geometricFraction = 0.6
    /// A layer is named in a vanishing (exploding) finding when its gradient norm is below
    /// (above) the output layer's divided (multiplied) by this (default 10).
    public var layerNamingFactor = 10.0
    /// Exploding over time: the largest finite global gradient norm of the run exceeds the
    /// early median by this factor (default 1e4).
    public var explodingGrowth = 1e4
    /// A gradient-flow finding is critical, not a warning, when the first/last ratio is beyond
    /// this factor either way: below 1/1e4 or above 1e4 (default 1e4).
    public var criticalRatio = 1e4
    /// Saturation when, averaged over the sigmoid/tanh layers, at least this fraction of units
    /// is saturated (derivative below the monitor's `saturationThreshold` of its maximum), in
    /// the early or the late window (default 0.3).
    public var saturationFraction = 0.3
    /// Dead units when, averaged over the ReLU layers, at least this fraction of units outputs
    /// 0 for the whole batch, in the early or the late window (default 0.5).
    public var deadFraction = 0.5
    /// A single layer with at least this fraction saturated or dead makes a critical finding
    /// by itself: it blocks the gradient to every layer before it (default 0.9).
    public var criticalUnitFraction = 0.9
    /// The early and late loss windows are this fraction of the recorded finite losses, at
    /// least 3 steps each (default 0.2).
    public var lossWindowFraction = 0.2
    /// Fewest recorded finite losses for an unstable or stalled finding (default 10).
    public var minimumLossSteps = 10
    /// Rising loss when the late window's median exceeds the early window's by this factor
    /// (default 1.5).
    public var risingFactor = 1.5
    /// Oscillating loss when the median `|Δ ln loss|` between consecutive recorded steps is at
    /// least this (default 0.1, about 10% per step) ...
    public var oscillationAmplitude = 0.1
    /// ... and the upward moves make at least this fraction of all movement,
    /// `Σ max(Δ, 0) / Σ |Δ|` (default 0.3; a steady descent has 0, a pure oscillation 0.5) ...
    public var oscillationUpwardFraction = 0.3
    /// ... and consecutive changes alternate in sign at least this often (default 0.8): the
    /// period-2 pattern of steps too large for the loss's curvature. Independent minibatch
    /// noise alternates about 2/3 of the time, so it does not count as oscillation. (A record
    /// kept every 2nd step cannot show a period-2 oscillation.)
    public var oscillationAlternation = 0.8
    /// ... and the late window's median loss is still above this fraction of the early
    /// window's (default 0.5): the run is getting nowhere. Full-batch gradient descent often
    /// oscillates at the edge of stability while its loss keeps falling (Cohen et al. 2021,
    /// "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability"); that is
    /// not a fault.
    public var oscillationProgressFraction = 0.5
    /// Unstable when the median update/weight ratio `‖Δw‖/‖w‖` of the weight matrices exceeds
    /// this (default 0.1: 100× the ~1e-3 rule of thumb).
    public var updateRatioLimit = 0.1
    /// The update/weight ratio of steady training, used to size learning-rate changes
    /// (default 1e-3).
    public var targetUpdateRatio = 1e-3
    /// Stalled when, in the late window, the loss moves by less than this fraction of its
    /// median, `(max − min) / |median| < 0.01` (default 0.01) ...
    public var stallRelativeChange = 0.01
    /// ... while the late loss is still above this fraction of the early loss (default 0.2:
    /// a run that cut its loss five-fold has converged, not stalled) ...
    public var stallLossFraction = 0.2
    /// ... and the gradients are tiny: the late median global gradient norm is below this
    /// fraction of the early one (default 1e-2) ...
    public var stallGradientFraction = 1e-2
    /// ... or the late median update/weight ratio is below this (default 1e-5).
    public var stallUpdateRatio = 1e-5
    /// How a clipping threshold is derived from the norm history (default AutoClip's 10th
    /// percentile).
    public var clipRule: ClipThresholdRule = .autoClip(percentile: 10)
    /// Fewest finite pre-clip global norms, recorded before any explosion, for `clipRule`;
    /// with fewer the threshold bounds the update instead (`updateRatioBound`) (default 5).
    public var minimumClipHistory = 5
    /// The update/weight ratio a clipping threshold derived from the weights allows per step,
    /// `maxNorm = r·‖w‖ / η` (default 1e-2).
    public var clipUpdateRatio = 1e-2
    /// Vanishing through time when, in a recurrent layer, the per-step factor ρ of
    /// `‖∂L/∂h_t‖` compounded over the sequence is below this, `ρ^(T−1) < 1e-2` (default 1e-2):
    /// the weight gradient is the sum of the steps' contributions, and those of the first steps
    /// are then under 1% of the last ones',
    /// lost among them and the minibatch noise, so dependencies that long are not learned
    /// (Bengio et al. 1994).
    public var throughTimeVanishingRatio = 1e-2
    /// Exploding through time when `ρ^(T−1)` is above this (default 1e2): the first steps'
    /// contributions dominate the weight gradient a hundredfold and grow as ρ^T, the cliffs
    /// of Pascanu et al. 2013.
    public var throughTimeExplodingRatio = 1e2
    /// Fewest time steps for a through-time finding (default 5; over fewer steps the change
    /// is depth, not time).
    public var minimumSequenceLength = 5

    /// The defaults stated on each property.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case earlyStepCount, minimumWeightedLayers, vanishingRatio, explodingRatio, geometricFraction
        case layerNamingFactor, explodingGrowth, criticalRatio, saturationFraction, deadFraction
        case criticalUnitFraction, lossWindowFraction, minimumLossSteps, risingFactor, oscillationAmplitude
        case oscillationUpwardFraction, oscillationAlternation, oscillationProgressFraction, updateRatioLimit, targetUpdateRatio, stallRelativeChange
        case stallLossFraction, stallGradientFraction, stallUpdateRatio, clipRule, minimumClipHistory
        case clipUpdateRatio, throughTimeVanishingRatio, throughTimeExplodingRatio, minimumSequenceLength
    }

    /// Decodes any subset of the thresholds; missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.earlyStepCount, &earlyStepCount)
        try read(.minimumWeightedLayers, &minimumWeightedLayers)
        try read(.vanishingRatio, &vanishingRatio)
        try read(.explodingRatio, &explodingRatio)
        try read(.geometricFraction, &geometricFraction)
        try read(.layerNamingFactor, &layerNamingFactor)
        try read(.explodingGrowth, &explodingGrowth)
        try read(.criticalRatio, &criticalRatio)
        try read(.saturationFraction, &saturationFraction)
        try read(.deadFraction, &deadFraction)
        try read(.criticalUnitFraction, &criticalUnitFraction)
        try read(.lossWindowFraction, &lossWindowFraction)
        try read(.minimumLossSteps, &minimumLossSteps)
        try read(.risingFactor, &risingFactor)
        try read(.oscillationAmplitude, &oscillationAmplitude)
        try read(.oscillationUpwardFraction, &oscillationUpwardFraction)
        try read(.oscillationAlternation, &oscillationAlternation)
        try read(.oscillationProgressFraction, &oscillationProgressFraction)
        try read(.updateRatioLimit, &updateRatioLimit)
        try read(.targetUpdateRatio, &targetUpdateRatio)
        try read(.stallRelativeChange, &stallRelativeChange)
        try read(.stallLossFraction, &stallLossFraction)
        try read(.stallGradientFraction, &stallGradientFraction)
        try read(.stallUpdateRatio, &stallUpdateRatio)
        try read(.clipRule, &clipRule)
        try read(.minimumClipHistory, &minimumClipHistory)
        try read(.clipUpdateRatio, &clipUpdateRatio)
        try read(.throughTimeVanishingRatio, &throughTimeVanishingRatio)
        try read(.throughTimeExplodingRatio, &throughTimeExplodingRatio)
        try read(.minimumSequenceLength, &minimumSequenceLength)
    }
}

// MARK: - Findings

/// What the doctor can find in a run.
///
/// Raw values are the snake_case names used in JSON and reports.
public enum FindingKind: String, Codable, Sendable, CaseIterable {
    /// The gradient norm falls geometrically from the output toward the input.
    case vanishingGradients = "vanishing_gradients"
    /// The gradient norm grows geometrically toward the input, or by orders of magnitude over time.
    case explodingGradients = "exploding_gradients"
    /// Sigmoid/tanh units sit where their derivative is nearly 0.
    case saturation
    /// ReLU units output 0 for the whole batch, so no gradient passes them.
    case deadUnits = "dead_units"
    /// NaN or infinity appeared (with where it began).
    case nonfinite
    /// The loss oscillates or rises, or updates are large against the weights.
    case unstableTraining = "unstable_training"
    /// The loss is flat, far from converged, while gradients are tiny.
    case stalledTraining = "stalled_training"
    /// None of the above.
    case healthy

    /// The finding's name in words (`vanishing gradients`).
    public var title: String {
        switch self {
        case .vanishingGradients: "vanishing gradients"
        case .explodingGradients: "exploding gradients"
        case .saturation: "saturated units"
        case .deadUnits: "dead units"
        case .nonfinite: "non-finite values"
        case .unstableTraining: "unstable training"
        case .stalledTraining: "stalled training"
        case .healthy: "healthy"
        }
    }

    /// Order in which findings are listed and prescribed for at equal severity: causes before
    /// consequences (an explosion before the NaN it makes, vanishing before the stall).
    var priority: Int {
        switch self {
        case .explodingGradients: 0
        case .vanishingGradients: 1
        case .nonfinite: 2
        case .saturation: 3
        case .deadUnits: 4
        case .unstableTraining: 5
        case .stalledTraining: 6
        case .healthy: 7
        }
    }
}

/// How much a finding matters.
///
/// `critical`: training cannot succeed as it is; `warning`: it is hampered; `info`: nothing to fix.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    /// Nothing to fix (the healthy finding).
    case info
    /// Training is hampered.
    case warning
    /// Training cannot succeed as it is.
    case critical

    /// `info < warning < critical`.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }
}

/// One named number behind a finding (`decay_factor = 0.21`).
///
/// Values are always finite, so a diagnosis encodes as plain JSON.
public struct Evidence: Codable, Sendable, Equatable {
    /// The number's name, snake_case (`first_to_last_ratio`).
    public var name: String
    /// The number.
    public var value: Double

    /// A named number.
    ///
    /// - Parameters:
    ///   - name: snake_case name.
    ///   - value: the number (finite).
    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// One thing the doctor found: what, how bad, where, when, the numbers, and why in words.
public struct Finding: Codable, Sendable, Equatable {
    /// What was found.
    public var kind: FindingKind
    /// How much it matters.
    public var severity: Severity
    /// The layers concerned (module names such as `0`, or parameter names), most affected or
    /// nearest the input first.
    public var layers: [String]
    /// The recorded steps the evidence comes from (at most 32 listed; counts are in `evidence`).
    public var steps: [Int]
    /// The numbers, by name (see each finding kind in `Doctor.diagnose` for the names).
    public var evidence: [Evidence]
    /// The cause in terms of the network, in plain language.
    public var explanation: String

    /// A finding; non-finite evidence values are dropped and `steps` is cut to 32 entries.
    ///
    /// - Parameters:
    ///   - kind: what was found.
    ///   - severity: how much it matters.
    ///   - layers: the layers concerned.
    ///   - steps: the recorded steps the evidence comes from.
    ///   - evidence: the numbers.
    ///   - explanation: the cause in words.
    public init(kind: FindingKind, severity: Severity, layers: [String] = [], steps: [Int] = [],
                evidence: [Evidence] = [], explanation: String) {
        self.kind = kind
        self.severity = severity
        self.layers = layers
        self.steps = Array(steps.prefix(32))
        self.evidence = evidence.filter { $0.value.isFinite }
        self.explanation = explanation
    }

    /// The evidence value named `name`, if present.
    ///
    /// - Parameter name: the snake_case name (`decay_factor`).
    public func value(_ name: String) -> Double? {
        evidence.first { $0.name == name }?.value
    }
}

/// The overall state of a run.
///
/// `healthy`: no finding above `info`; `warning`: the worst finding is a warning; `critical`:
/// at least one critical finding.
public enum HealthState: String, Codable, Sendable, CaseIterable {
    /// No finding above `info`.
    case healthy
    /// The worst finding is a warning.
    case warning
    /// At least one critical finding.
    case critical
}

/// One weighted layer's gradient norm early in the run, for gradient-flow charts.
public struct LayerGradient: Codable, Sendable, Equatable {
    /// The module's name (`0`).
    public var layer: String
    /// Its weight parameter's name (`0.weight`).
    public var parameter: String
    /// Median `‖∇W‖₂` over the early steps.
    public var gradientNorm: Double
    /// `gradientNorm / ‖∇W_L‖₂` of the last weighted layer (nil when that is 0).
    public var relativeToLast: Double?
    /// Median `‖∂L/∂h‖₂` of the gradient arriving at the layer's output over the early steps
    /// (nil when the record has no layer statistics).
    public var outputGradientNorm: Double?
}

/// The doctor's reading of a run: the overall state, findings, ranked prescriptions, the early
/// gradient-flow profile and a summary in words.
public struct Diagnosis: Codable, Sendable {
    /// Worst severity among the findings.
    public var state: HealthState
    /// The findings, most severe first (causes before consequences at equal severity); a
    /// single `healthy` finding when there is nothing else.
    public var findings: [Finding]
    /// Remedies, best first (`rank` 1, 2, ...), each naming the findings it addresses.
    public var prescriptions: [Prescription]
    /// Per weighted layer, input side first: the early median weight-gradient norm.
    public var gradientFlow: [LayerGradient]
    /// The recorded steps the early profile is the median of.
    public var profileSteps: [Int]
    /// A few sentences: the state, each finding's headline, the top prescriptions.
    public var summary: String

    /// The finding of this kind, if any.
    ///
    /// - Parameter kind: the kind to look for.
    public func finding(_ kind: FindingKind) -> Finding? {
        findings.first { $0.kind == kind }
    }

    /// Whether a finding of this kind was made.
    ///
    /// - Parameter kind: the kind to look for.
    public func has(_ kind: FindingKind) -> Bool { finding(kind) != nil }
}

// MARK: - Network description

/// What the caller knows about the network beyond the record: per weighted layer its fan-in,
/// weight scale and the activation after it; whether it is recurrent; the learning rate.
///
/// With it, explanations state the mean-field per-layer gain
/// `√χ = σ_w·√E[φ'(h)²]` with `σ_w = std(W)·√fan_in` (e.g. "weights with std 10 and fan-in 10
/// give a per-layer gain ≈ 22"), and clipping thresholds use the true learning rate.
public struct NetworkDescription: Codable, Sendable, Equatable {
    /// One weighted layer.
    public struct Layer: Codable, Sendable, Equatable {
        /// The module's name (`0`).
        public var name: String
        /// Inputs per unit.
        public var fanIn: Int
        /// Units.
        public var fanOut: Int
        /// Standard deviation of the weight's elements (population).
        public var weightStandardDeviation: Double
        /// The nonlinearity applied to this layer's output (nil: none, as for the output layer).
        public var activation: Activation?

        /// A weighted layer's description.
        ///
        /// - Parameters:
        ///   - name: the module's name.
        ///   - fanIn: inputs per unit.
        ///   - fanOut: units.
        ///   - weightStandardDeviation: std of the weights.
        ///   - activation: the nonlinearity after it, if any.
        public init(name: String, fanIn: Int, fanOut: Int, weightStandardDeviation: Double, activation: Activation?) {
            self.name = name
            self.fanIn = fanIn
            self.fanOut = fanOut
            self.weightStandardDeviation = weightStandardDeviation
            self.activation = activation
        }
    }

    /// Weighted layers, input side first.
    public var layers: [Layer]
    /// Whether the network is recurrent (the same weights applied over time steps).
    public var isRecurrent: Bool
    /// The optimizer's learning rate, if known.
    public var learningRate: Double?

    /// A description from its parts.
    ///
    /// - Parameters:
    ///   - layers: weighted layers, input side first.
    ///   - isRecurrent: whether the network is recurrent.
    ///   - learningRate: the learning rate, if known.
    public init(layers: [Layer], isRecurrent: Bool = false, learningRate: Double? = nil) {
        self.layers = layers
        self.isRecurrent = isRecurrent
        self.learningRate = learningRate
    }

    /// Reads a model's `Linear` layers (fan-in, fan-out, the weights' current std) and the
    /// activation layer following each.
    ///
    /// Call it before training to describe the initialization.
    /// - Parameters:
    ///   - model: the model (its leaf modules in `namedModules` order are its forward order).
    ///   - isRecurrent: whether the network is recurrent.
    ///   - learningRate: the learning rate, if known.
    public init<M: Module>(model: M, isRecurrent: Bool = false, learningRate: Double? = nil) {
        let leaves = model.namedModules.filter { $0.1.children.isEmpty }
        var layers: [Layer] = []
        for (index, (name, module)) in leaves.enumerated() {
            guard let linear = module as? Linear<M.Scalar> else { continue }
            let values = linear.weight.value.scalars.map { Double($0) }
            let mean = values.reduce(0, +) / Double(Swift.max(values.count, 1))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(values.count, 1))
            var activation: Activation?
            if index + 1 < leaves.count {
                let next = leaves[index + 1].1
                activation = activationKind(named: String(String(describing: type(of: next)).prefix { $0 != "<" }))
            }
            layers.append(Layer(name: name.isEmpty ? "model" : name, fanIn: linear.inFeatures, fanOut: linear.outFeatures,
                                weightStandardDeviation: variance.squareRoot(), activation: activation))
        }
        self.init(layers: layers, isRecurrent: isRecurrent, learningRate: learningRate)
    }
}

/// The activation a layer kind computes (`Sigmoid` → `.sigmoid`), nil for other kinds.
func activationKind(named kind: String) -> Activation? {
    switch kind {
    case "Sigmoid": .sigmoid
    case "Tanh": .tanh
    case "ReLU": .relu
    case "LeakyReLU": .leakyRelu
    case "PReLU": .prelu
    case "ELU": .elu
    case "SELU": .selu
    case "GELU": .gelu
    case "Softplus": .softplus
    case "SiLU": .silu
    case "Hardtanh": .hardtanh
    case "Softsign": .softsign
    default: nil
    }
}

// MARK: - The doctor

/// The gradient doctor: turns a monitor record into a diagnosis (`diagnose`) and checks
/// prescriptions by rerunning (`verify`, in Verification.swift).
public enum Doctor {
    /// Reads a run's record and says what is wrong, with the numbers, the cause and ranked remedies.
    ///
    /// Findings and their evidence names:
    /// - vanishing: per weighted layer (input side first) the early median weight-gradient norm
    ///   `n_l = ‖∇W_l‖`; vanishing when `n_1/n_L < vanishingRatio` and at least
    ///   `geometricFraction` of the consecutive ratios `n_l/n_(l+1)` are below 1. The same test
    ///   runs on the backward signal `‖∂L/∂h_l‖` at each layer's output, which shows the change
    ///   when the weight gradients stay level (ReLU nets, where the forward activations scale
    ///   by the same factor; see `GradientFlowProfile`). Evidence of the series that fired:
    ///   `first_to_last_ratio`, `decay_factor` = `(n_1/n_L)^(1/(L−1))` (the geometric mean of
    ///   the consecutive ratios, output toward input), `fitted_decay_factor` (least squares on
    ///   `ln n_l`), `shrinking_fraction`, `weighted_layers`; of both series
    ///   `weight_first_to_last_ratio`, `weight_layer_factor`, `signal_first_to_last_ratio`,
    ///   `signal_layer_factor`; with a description `predicted_layer_gain` (mean-field
    ///   `σ_w·√E[φ'(h)²]`) and `sigma_w`; for sigmoid nets `activation_derivative_bound`
    ///   (`0.25^k`). Layers: those below `n_L / layerNamingFactor`, the first layer first.
    /// - exploding: the mirror image (`n_1/n_L > explodingRatio`, `growth_factor`,
    ///   `growing_fraction`, `global_norm_at_start`), or over time: the largest finite global
    ///   norm over the early median above `explodingGrowth` (`norm_growth`, `peak_global_norm`).
    /// - vanishing / exploding through time (recurrent layers, from the monitor's
    ///   `hiddenGradientNorms`): per recorded step the norms `n_t = ‖∂L/∂h_t‖` up to `r` (the
    ///   last step with a gradient, where a last-step loss enters) give the per-step factor ρ
    ///   (`exp(−slope)` of least squares on `ln n_t`), the geometric factor `(n_0/n_r)^(1/r)` and
    ///   the ratio `n_0/n_r`; medians over the first `earlyStepCount` steps. Vanishing when
    ///   `ρ^(T−1)` is below `throughTimeVanishingRatio`, exploding above
    ///   `throughTimeExplodingRatio`, for sequences of at least `minimumSequenceLength` steps.
    ///   Evidence: `through_time` (1), `step_factor` (ρ), `sequence_decay` (`ρ^(T−1)`),
    ///   `geometric_step_factor`, `time_first_to_last_ratio`, `sequence_length`, `first_step_gradient_norm`,
    ///   `last_step_gradient_norm`, `recorded_steps`, `horizon_steps` (steps until the gradient
    ///   is 1% of its size, `ln 100/−ln ρ`), `gated_cell` (1 for LSTM/GRU). Layers: the
    ///   recurrent modules concerned, worst first. Vanishing must hold in the late window (last
    ///   `earlyStepCount` steps) as well: gated cells start vanishing and learn to carry the
    ///   gradient (`late_step_factor`, `late_sequence_decay`). With a depth finding of
    ///   the same kind the two are one finding.
    /// - saturation / dead units: per sigmoid/tanh (ReLU) layer the median saturated (dead)
    ///   fraction over the early and over the late window; the mean over the layers at or above
    ///   `saturationFraction` (`deadFraction`) in either window, or one layer at or above
    ///   `criticalUnitFraction` (`mean_saturated_fraction` / `mean_dead_fraction`,
    ///   `early_mean_fraction`, `late_mean_fraction`, `max_layer_fraction`,
    ///   `developed_during_training`, one `fraction_<layer>` per named layer).
    /// - non-finite: `record.firstNonfinite`, or any step with a non-finite loss, norm or count
    ///   (`first_step`, `nonfinite_steps`, `skipped_steps`, `origin_count`, `origin_input_max_abs`).
    /// - unstable: loss rising (`rise_factor = late_loss / early_loss > risingFactor`),
    ///   oscillating without progress (`oscillation_amplitude`, `upward_fraction`,
    ///   `alternation`, `late_to_early_loss`) or updates too large
    ///   (`median_update_ratio > updateRatioLimit`).
    /// - stalled: late loss flat (`late_relative_change`), still above `stallLossFraction` of
    ///   the early loss (`loss_fraction`), with tiny gradients (`gradient_fraction` late/early
    ///   global norm, or `late_update_ratio`).
    /// - healthy: none of the above.
    ///
    /// - Parameters:
    ///   - record: what the monitor recorded.
    ///   - network: what the caller knows about the network (fan-ins, weight scales,
    ///     activations, learning rate), for explanations and thresholds in its terms.
    ///   - thresholds: the limits (documented defaults).
    public static func diagnose(_ record: MonitorRecord, network: NetworkDescription? = nil,
                                thresholds: DiagnosisThresholds = .init()) -> Diagnosis {
        let analysis = RecordAnalysis(record: record, network: network, thresholds: thresholds)
        var findings: [Finding] = []
        if let f = RecordAnalysis.merged(depth: analysis.explodingFinding(), time: analysis.throughTimeFinding(vanishing: false)) {
            findings.append(f)
        }
        if let f = RecordAnalysis.merged(depth: analysis.vanishingFinding(), time: analysis.throughTimeFinding(vanishing: true)) {
            findings.append(f)
        }
        if let f = analysis.nonfiniteFinding() { findings.append(f) }
        if let f = analysis.unitFinding(saturation: true) { findings.append(f) }
        if let f = analysis.unitFinding(saturation: false) { findings.append(f) }
        if let f = analysis.unstableFinding() { findings.append(f) }
        if let f = analysis.stalledFinding() { findings.append(f) }
        if findings.isEmpty { findings.append(analysis.healthyFinding()) }
        findings.sort { a, b in
            a.severity != b.severity ? a.severity > b.severity : a.kind.priority < b.kind.priority
        }
        let worst = findings.map(\.severity).max() ?? .info
        let state: HealthState = worst == .critical ? .critical : (worst == .warning ? .warning : .healthy)
        let prescriptions = Doctor.prescribe(for: findings, context: analysis.prescriptionContext(findings: findings))
        let flow = analysis.profile?.layers ?? []
        return Diagnosis(state: state, findings: findings, prescriptions: prescriptions, gradientFlow: flow,
                         profileSteps: analysis.profile?.steps ?? [],
                         summary: summaryText(state: state, findings: findings, prescriptions: prescriptions))
    }

    /// The summary: the state, each finding's first sentence, and the top three prescriptions.
    static func summaryText(state: HealthState, findings: [Finding], prescriptions: [Prescription]) -> String {
        var lines: [String] = []
        switch state {
        case .healthy: lines.append("Healthy: nothing to fix.")
        case .warning: lines.append("Warning: training is hampered.")
        case .critical: lines.append("Critical: training cannot succeed as it is.")
        }
        for finding in findings where finding.kind != .healthy {
            let headline = finding.explanation.split(separator: "\n").first.map(String.init) ?? finding.explanation
            lines.append("- \(finding.kind.title) (\(finding.severity.rawValue)): \(headline)")
        }
        if findings.allSatisfy({ $0.kind == .healthy }), let finding = findings.first {
            lines.append(finding.explanation)
        }
        for prescription in prescriptions.prefix(3) {
            lines.append("\(prescription.rank). \(prescription.remedy.label) — for \(prescription.addresses.map(\.title).joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: - Analysis

/// Norms per weighted layer (input side first) and the ratios the gradient-flow findings use.
struct FlowSeries {
    /// Module names, input side first.
    var layers: [String]
    /// One norm per layer.
    var norms: [Double]

    /// `n_1 / n_L` (nil with fewer than 2 layers or `n_L = 0`).
    var firstToLast: Double? {
        guard norms.count >= 2, let last = norms.last, last > 0 else { return nil }
        return norms[0] / last
    }

    /// `(n_1/n_L)^(1/(L−1))`: the geometric mean of `n_l / n_(l+1)`, output toward input.
    var decayFactor: Double? {
        guard let ratio = firstToLast else { return nil }
        return Foundation.pow(ratio, 1 / Double(norms.count - 1))
    }

    /// `exp(−slope)` of the least-squares line through `(l, ln n_l)` over layers with `n_l > 0`.
    var fittedFactor: Double? {
        let points = norms.enumerated().filter { $0.element > 0 }.map { (Double($0.offset), Foundation.log($0.element)) }
        guard points.count >= 2 else { return nil }
        let mx = points.reduce(0) { $0 + $1.0 } / Double(points.count)
        let my = points.reduce(0) { $0 + $1.1 } / Double(points.count)
        let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        guard sxx > 0 else { return nil }
        return Foundation.exp(-sxy / sxx)
    }

    /// Consecutive ratios `n_l / n_(l+1)` (0/0 left out; x/0 is +∞).
    var consecutiveRatios: [Double] {
        let n = norms
        guard n.count >= 2 else { return [] }
        return (0..<(n.count - 1)).compactMap { l in
            if n[l + 1] > 0 { return n[l] / n[l + 1] }
            return n[l] > 0 ? .infinity : nil
        }
    }

    /// Fraction of consecutive ratios below 1 (shrinking toward the input).
    var shrinkingFraction: Double {
        let r = consecutiveRatios
        return r.isEmpty ? 0 : Double(r.filter { $0 < 1 }.count) / Double(r.count)
    }

    /// Fraction of consecutive ratios above 1 (growing toward the input).
    var growingFraction: Double {
        let r = consecutiveRatios
        return r.isEmpty ? 0 : Double(r.filter { $0 > 1 }.count) / Double(r.count)
    }

    /// Whether the series falls (`vanishing`) or grows toward the input beyond the thresholds:
    /// enough layers, `n_1/n_L` past the ratio, and at least `geometricFraction` of the
    /// consecutive ratios on that side of 1.
    func changes(vanishing: Bool, _ thresholds: DiagnosisThresholds) -> Bool {
        guard norms.count >= thresholds.minimumWeightedLayers, let last = norms.last, last > 0 else { return false }
        let ratio = norms[0] / last
        return vanishing
            ? ratio < thresholds.vanishingRatio && shrinkingFraction >= thresholds.geometricFraction
            : ratio > thresholds.explodingRatio && growingFraction >= thresholds.geometricFraction
    }
}

/// The early gradient-flow profile: per weighted layer, the median over the first finite
/// recorded steps of its weight-gradient norm `‖∇W_l‖` and of the backward signal at its output
/// `‖∂L/∂h_l‖`.
///
/// Both are needed: `∇W_l = δ_l·a_(l−1)ᵀ`, so in a network of positively homogeneous units
/// (ReLU) whose weights are too large (small), the forward activations `a` grow (shrink) by the
/// same per-layer gain as the backward signal `δ` shrinks (grows), and the weight gradients
/// stay level across layers while `δ` explodes (vanishes); with bounded activations (sigmoid)
/// `a` keeps its scale and the weight gradients follow `δ`.
struct GradientFlowProfile {
    /// Per weighted layer, input side first.
    var layers: [LayerGradient]
    /// The recorded steps the medians are over.
    var steps: [Int]
    /// Median global gradient norm over the same steps.
    var globalNorm: Double

    /// Weight-gradient norms.
    var weights: FlowSeries { FlowSeries(layers: layers.map(\.layer), norms: layers.map(\.gradientNorm)) }

    /// Output-gradient norms (nil when the record lacks them for some layer).
    var signal: FlowSeries? {
        let norms = layers.compactMap(\.outputGradientNorm)
        return norms.count == layers.count ? FlowSeries(layers: layers.map(\.layer), norms: norms) : nil
    }

    /// The weighted layers of a record: per leaf module in forward order whose `<name>.weight`
    /// parameter exists (normalization layers left out); without layer statistics, every
    /// parameter named `weight` or `*.weight`.
    static func weightedLayers(in record: MonitorRecord) -> [(layer: String, parameter: String)] {
        guard let reference = record.steps.first(where: { !$0.layers.isEmpty }) ?? record.steps.first else { return [] }
        let parameterNames = Set(reference.parameters.map(\.name))
        var result: [(layer: String, parameter: String)] = []
        var seen = Set<String>()
        for layer in reference.layers where !layer.kind.contains("Norm") {
            let parameter = layer.name == "model" ? "weight" : layer.name + ".weight"
            if parameterNames.contains(parameter) && seen.insert(parameter).inserted {
                result.append((layer.name, parameter))
            }
        }
        if result.isEmpty {
            result = reference.parameters.map(\.name).filter { $0 == "weight" || $0.hasSuffix(".weight") }.map { name in
                (name == "weight" ? "model" : String(name.dropLast(".weight".count)), name)
            }
        }
        return result
    }

    /// The profile over the first `earlyStepCount` recorded, not skipped steps whose weight
    /// gradients are all finite (nil when there are none or no weighted layers).
    static func measure(_ record: MonitorRecord, earlyStepCount: Int) -> GradientFlowProfile? {
        let weighted = weightedLayers(in: record)
        guard !weighted.isEmpty else { return nil }
        var columns = [[Double]](repeating: [], count: weighted.count)
        var signals = [[Double]](repeating: [], count: weighted.count)
        var steps: [Int] = []
        var globals: [Double] = []
        for step in record.steps where !step.skipped {
            let byName = Dictionary(step.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let row = weighted.map { byName[$0.parameter] }
            guard row.allSatisfy({ $0 != nil && $0!.nonfiniteCount == 0 && $0!.gradientNorm.isFinite }),
                  step.globalGradientNorm.isFinite else { continue }
            for (i, p) in row.enumerated() { columns[i].append(p!.gradientNorm) }
            for (i, w) in weighted.enumerated() {
                if let g = step.layers.first(where: { $0.name == w.layer })?.outputGradientNorm, g.isFinite { signals[i].append(g) }
            }
            steps.append(step.step)
            globals.append(step.globalGradientNorm)
            if steps.count >= Swift.max(1, earlyStepCount) { break }
        }
        guard !steps.isEmpty else { return nil }
        let norms = columns.map { medianOfFinite($0) }
        let last = norms.last ?? 0
        let layers = weighted.indices.map { i in
            LayerGradient(layer: weighted[i].layer, parameter: weighted[i].parameter, gradientNorm: norms[i],
                          relativeToLast: last > 0 ? norms[i] / last : nil,
                          outputGradientNorm: signals[i].isEmpty ? nil : medianOfFinite(signals[i]))
        }
        return GradientFlowProfile(layers: layers, steps: steps, globalNorm: medianOfFinite(globals))
    }
}

/// The median of finite values (0 for none); the mean of the middle two for an even count.
func medianOfFinite(_ values: [Double]) -> Double {
    let sorted = values.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return 0 }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// The `p`-th percentile (0–100) of finite values by linear interpolation between order
/// statistics (numpy's default), 0 for none.
func percentileOfFinite(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return 0 }
    let position = Swift.min(Swift.max(p, 0), 100) / 100 * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
}

/// `base^exponent` written with superscript digits (`0.25¹⁰`).
func superscriptPower(_ base: String, _ exponent: Int) -> String {
    let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
    let text = String(exponent).map { $0 == "-" ? "⁻" : digits[Int(String($0))!] }
    return base + String(text)
}

/// Everything the findings need from a record, computed once.
struct RecordAnalysis {
    let record: MonitorRecord
    let network: NetworkDescription?
    let thresholds: DiagnosisThresholds
    let profile: GradientFlowProfile?
    /// Finite losses of recorded, not skipped steps.
    let losses: [(step: Int, value: Double)]
    /// Per recorded step with update ratios: the median ratio over weight matrices.
    let updateRatios: [(step: Int, value: Double)]
    /// Kinds of the leaf modules in forward order (from the first step with layer statistics).
    let layerKinds: [(name: String, kind: String)]
    /// Per recurrent layer with recorded `hiddenGradientNorms`, its flow through time over the
    /// first and over the last `earlyStepCount` recorded steps.
    let timeFlows: [ThroughTimeFlow]
    let lateTimeFlows: [ThroughTimeFlow]

    init(record: MonitorRecord, network: NetworkDescription?, thresholds: DiagnosisThresholds) {
        self.record = record
        self.network = network
        self.thresholds = thresholds
        profile = GradientFlowProfile.measure(record, earlyStepCount: thresholds.earlyStepCount)
        losses = record.steps.compactMap { step in
            guard !step.skipped, let loss = step.loss, loss.isFinite else { return nil }
            return (step.step, loss)
        }
        updateRatios = record.steps.compactMap { step in
            let ratios = step.parameters.filter { $0.name == "weight" || $0.name.hasSuffix(".weight") }
                .compactMap(\.updateRatio).filter(\.isFinite)
            return ratios.isEmpty ? nil : (step.step, medianOfFinite(ratios))
        }
        layerKinds = (record.steps.first { !$0.layers.isEmpty }?.layers ?? []).map { ($0.name, $0.kind) }
        timeFlows = ThroughTimeFlow.measure(record, window: thresholds.earlyStepCount)
        lateTimeFlows = ThroughTimeFlow.measure(record, window: thresholds.earlyStepCount, fromEnd: true)
    }

    // MARK: Context

    /// The most common activation among the leaf modules, or among the description's layers.
    var dominantActivation: Activation? {
        var counts: [Activation: Int] = [:]
        for (_, kind) in layerKinds { if let a = activationKind(named: kind) { counts[a, default: 0] += 1 } }
        if counts.isEmpty, let network {
            for layer in network.layers { if let a = layer.activation { counts[a, default: 0] += 1 } }
        }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key
    }

    /// Whether the network is recurrent: said by the description, or a recurrent layer kind.
    var isRecurrent: Bool {
        if network?.isRecurrent == true { return true }
        return layerKinds.contains { k in ["RNN", "LSTM", "GRU"].contains { k.kind.contains($0) } }
    }

    /// Leaf modules strictly between the first and the last weighted layer, in forward order.
    var layersBetweenWeightedEnds: [(name: String, kind: String)] {
        guard let profile, let first = profile.layers.first?.layer, let last = profile.layers.last?.layer,
              let i = layerKinds.firstIndex(where: { $0.name == first }),
              let j = layerKinds.lastIndex(where: { $0.name == last }), i < j else { return [] }
        return Array(layerKinds[(i + 1)..<j])
    }

    /// Median over the early steps of a Linear output's second moment `mean² + std²` (the
    /// following activation's pre-activation length q), by module name.
    func preActivationLength(of layer: String) -> Double? {
        let values = record.steps.prefix(Swift.max(1, thresholds.earlyStepCount)).compactMap { step in
            step.layers.first { $0.name == layer }.map { $0.activationMean * $0.activationMean + $0.activationStd * $0.activationStd }
        }.filter(\.isFinite)
        return values.isEmpty ? nil : medianOfFinite(values)
    }

    /// The mean-field gain of each boundary between weighted layers l and l+1 (output toward
    /// input the gradient is multiplied by `σ_w(l+1)·√E[φ_l'(h_l)²]`), from the description.
    func predictedGains() -> (gains: [Double], sigmaW: [Double])? {
        guard let layers = network?.layers, layers.count >= 2 else { return nil }
        var gains: [Double] = [], sigmas: [Double] = []
        for l in 0..<(layers.count - 1) {
            let sigmaW = layers[l + 1].weightStandardDeviation * Double(layers[l + 1].fanIn).squareRoot()
            guard sigmaW.isFinite && sigmaW > 0 else { return nil }
            let q = Swift.min(Swift.max(preActivationLength(of: layers[l].name) ?? 1, 1e-6), 1e6)
            let chi = MeanFieldTheory.gradientGain(activation: layers[l].activation ?? .linear, sigmaW: sigmaW, length: q)
            gains.append(chi.squareRoot())
            sigmas.append(sigmaW)
        }
        return (gains, sigmas)
    }

    /// "weights with std 10 and fan-in 10 (σ_w = std·√fan-in = 31.6) through ReLU give a
    /// per-layer gain ≈ 22.4", from the description; nil without one.
    func gainSentence() -> (text: String, gain: Double, sigmaW: Double)? {
        guard let network, let predicted = predictedGains(), !predicted.gains.isEmpty else { return nil }
        let inner = Array(network.layers.dropFirst())
        let stds = inner.map(\.weightStandardDeviation), fanIns = inner.map { Double($0.fanIn) }
        let gain = Foundation.exp(predicted.gains.map { Foundation.log(Swift.max($0, 1e-300)) }.reduce(0, +) / Double(predicted.gains.count))
        let sigmaW = medianOfFinite(predicted.sigmaW)
        let uniform = Set(fanIns).count == 1 && (stds.max() ?? 0) <= 1.2 * (stds.min() ?? 0)
        let activations = Set(network.layers.dropLast().compactMap(\.activation).map(\.rawValue)).sorted()
        let through = activations.isEmpty ? "without an activation" : "through \(activations.joined(separator: "/"))"
        let weights = uniform
            ? "weights with std \(shortNumber(medianOfFinite(stds))) and fan-in \(Int(medianOfFinite(fanIns)))"
            : "weights with median std \(shortNumber(medianOfFinite(stds))) and fan-in \(Int(medianOfFinite(fanIns)))"
        let boundaries = predicted.gains.count
        let text = "\(weights) (σ_w = std·√fan-in = \(shortNumber(sigmaW))) \(through) give a per-layer gain "
            + "σ_w·√E[φ'(h)²] ≈ \(shortNumber(gain)); over \(boundaries) layers \(superscriptPower(shortNumber(gain), boundaries)) ≈ "
            + "\(shortNumber(Foundation.pow(gain, Double(boundaries))))."
        return (text, gain, sigmaW)
    }

    // MARK: Gradient flow

    /// The profile series that shows the change: the weight gradients when they do, else the
    /// backward signal (see `GradientFlowProfile`); nil when neither does.
    func flowChange(vanishing: Bool) -> (series: FlowSeries, isSignal: Bool)? {
        guard let profile else { return nil }
        if profile.weights.changes(vanishing: vanishing, thresholds) { return (profile.weights, false) }
        if let signal = profile.signal, signal.changes(vanishing: vanishing, thresholds) { return (signal, true) }
        return nil
    }

    /// Both series' ratios and factors as evidence (`weight_…`, `signal_…`), plus the firing
    /// series' under the plain names.
    func flowEvidence(_ series: FlowSeries, factorName: String) -> [Evidence] {
        guard let profile else { return [] }
        var evidence: [Evidence] = []
        let last = series.norms.last ?? 0
        evidence.append(Evidence("first_to_last_ratio", last > 0 ? series.norms[0] / last : 0))
        if let factor = series.decayFactor { evidence.append(Evidence(factorName, factor)) }
        if let fitted = series.fittedFactor { evidence.append(Evidence("fitted_" + factorName, fitted)) }
        evidence.append(Evidence("weighted_layers", Double(series.norms.count)))
        let weights = profile.weights
        if let r = weights.firstToLast { evidence.append(Evidence("weight_first_to_last_ratio", r)) }
        if let f = weights.decayFactor { evidence.append(Evidence("weight_layer_factor", f)) }
        evidence.append(Evidence("first_layer_gradient_norm", weights.norms[0]))
        evidence.append(Evidence("last_layer_gradient_norm", weights.norms.last ?? 0))
        if let signal = profile.signal {
            if let r = signal.firstToLast { evidence.append(Evidence("signal_first_to_last_ratio", r)) }
            if let f = signal.decayFactor { evidence.append(Evidence("signal_layer_factor", f)) }
        }
        return evidence
    }

    /// The headline of a gradient-flow finding, in the firing series' terms.
    func flowHeadline(_ change: (series: FlowSeries, isSignal: Bool), vanishing: Bool) -> String {
        let series = change.series
        let first = series.layers[0]
        let last = series.norms.last ?? 0
        let ratio = last > 0 ? series.norms[0] / last : 0
        let factor = series.decayFactor ?? 0
        let steps = profile.map { "median of step\($0.steps.count == 1 ? "" : "s") \(stepRangeText($0.steps))" } ?? ""
        let verb = vanishing ? "shrinks" : "grows"
        if change.isSignal {
            let weights = profile?.weights.firstToLast.map(shortNumber) ?? "level"
            return "The backward signal ‖∂L/∂h‖ arriving at each layer's output \(verb) by a factor ≈ \(shortNumber(factor)) per layer "
                + "from the output toward the input: at layer \(first) it is \(shortNumber(ratio))× the output layer's "
                + "(\(series.norms.count) weighted layers, \(steps)). The weight gradients ∇W = δ·aᵀ look level (first/last "
                + "\(weights)) only because the forward activations \(vanishing ? "shrink" : "grow") by the same factor."
        }
        if vanishing && ratio == 0 {
            return "No gradient reaches layer \(first) (its weight gradient is 0) while the output layer's is \(shortNumber(last)) "
                + "(\(series.norms.count) weighted layers, \(steps))."
        }
        return "The weight gradient \(verb) by a factor ≈ \(shortNumber(factor)) per layer from the output toward the input: "
            + "layer \(first) gets \(shortNumber(ratio))× the output layer's gradient (\(series.norms.count) weighted layers, \(steps))."
    }

    func vanishingFinding() -> Finding? {
        guard let change = flowChange(vanishing: true) else { return nil }
        let series = change.series
        let last = series.norms.last ?? 0
        let ratio = last > 0 ? series.norms[0] / last : 0
        let named = zip(series.layers, series.norms).filter { $0.1 < last / thresholds.layerNamingFactor }.map(\.0)
        var evidence = flowEvidence(series, factorName: "decay_factor")
        evidence.append(Evidence("shrinking_fraction", series.shrinkingFraction))
        var text = flowHeadline(change, vanishing: true)
        let between = layersBetweenWeightedEnds
        let sigmoids = between.filter { $0.kind == "Sigmoid" }.count
        let tanhs = between.filter { $0.kind == "Tanh" }.count
        let relus = between.filter { ["ReLU", "LeakyReLU", "PReLU"].contains($0.kind) }
        if sigmoids > 0 {
            let bound = Foundation.pow(0.25, Double(sigmoids))
            text += " Sigmoid's derivative is at most 0.25: the \(sigmoids) sigmoid layer\(sigmoids == 1 ? "" : "s") contribute a factor of at most "
                + "\(superscriptPower("0.25", sigmoids)) ≈ \(shortNumber(bound)); the weights would need a gain above 4 per layer to make up for it."
            evidence.append(Evidence("activation_derivative_bound", bound))
        } else if tanhs > 0 {
            text += " Tanh's derivative is 1 only at 0 and falls off either side: with weights whose gain is below 1, "
                + "\(tanhs) tanh layers shrink the gradient at every step."
        }
        if !relus.isEmpty {
            if ratio == 0, let dead = fullyDeadLayers().first {
                text += " Every unit of layer \(dead) outputs 0 for the whole batch (dead ReLUs), so nothing flows back past it."
            } else {
                text += " ReLU passes an active unit's gradient unchanged and stops an inactive one's, so the shrinking comes "
                    + "from the weights' scale: per layer the gradient is multiplied by about σ_w·√½, below 1 unless σ_w ≥ √2 (He init)."
            }
        }
        if let sentence = gainSentence(), sentence.gain < 1 {
            text += " With these weights: " + sentence.text
            evidence.append(Evidence("predicted_layer_gain", sentence.gain))
            evidence.append(Evidence("sigma_w", sentence.sigmaW))
        }
        let severity: Severity = ratio < 1 / thresholds.criticalRatio ? .critical : .warning
        return Finding(kind: .vanishingGradients, severity: severity, layers: named, steps: profile?.steps ?? [],
                       evidence: evidence, explanation: text)
    }

    func explodingFinding() -> Finding? {
        guard let profile else { return nil }
        var evidence: [Evidence] = []
        var texts: [String] = []
        var layers: [String] = []
        var steps = profile.steps
        var severity = Severity.warning
        if let change = flowChange(vanishing: false) {
            let series = change.series
            let last = series.norms.last ?? 0
            let ratio = series.norms[0] / last
            layers = zip(series.layers, series.norms).filter { $0.1 > last * thresholds.layerNamingFactor }.map(\.0)
            evidence += flowEvidence(series, factorName: "growth_factor")
            evidence.append(Evidence("growing_fraction", series.growingFraction))
            evidence.append(Evidence("global_norm_at_start", profile.globalNorm))
            texts.append(flowHeadline(change, vanishing: false) + " The global gradient norm at the start is \(shortNumber(profile.globalNorm)).")
            if let sentence = gainSentence(), sentence.gain > 1 {
                texts.append("The weights are too large for the activation: " + sentence.text)
                evidence.append(Evidence("predicted_layer_gain", sentence.gain))
                evidence.append(Evidence("sigma_w", sentence.sigmaW))
            } else {
                texts.append("A per-layer gain above 1 means the weights are too large for the activation "
                    + "(He init gives ReLU a gain of 1, Xavier gives tanh about 1); it compounds over depth.")
            }
            if ratio > thresholds.criticalRatio { severity = .critical }
        }
        // Over time: the global norm grows by orders of magnitude.
        let finiteNorms = record.steps.filter { !$0.skipped && $0.globalGradientNorm.isFinite }
        if profile.globalNorm > 0, let peak = finiteNorms.max(by: { $0.globalGradientNorm < $1.globalGradientNorm }) {
            let growth = peak.globalGradientNorm / profile.globalNorm
            if growth > thresholds.explodingGrowth {
                evidence.append(Evidence("norm_growth", growth))
                evidence.append(Evidence("peak_global_norm", peak.globalGradientNorm))
                texts.append("Over training the global gradient norm grew \(shortNumber(growth))× from \(shortNumber(profile.globalNorm)) "
                    + "(start) to \(shortNumber(peak.globalGradientNorm)) at step \(peak.step).")
                steps.append(peak.step)
                if growth > thresholds.explodingGrowth * thresholds.criticalRatio { severity = .critical }
            }
        }
        guard !texts.isEmpty else { return nil }
        if record.firstNonfinite != nil || record.steps.contains(where: stepIsNonfinite) {
            texts.append("It ended in non-finite values (see that finding).")
            severity = .critical
        }
        return Finding(kind: .explodingGradients, severity: severity, layers: layers, steps: Array(Set(steps)).sorted(),
                       evidence: evidence, explanation: texts.joined(separator: " "))
    }

    /// Layers whose every unit was dead in the early steps (ReLU family).
    func fullyDeadLayers() -> [String] {
        layerKinds.map(\.name).filter { name in
            let fractions = record.steps.prefix(Swift.max(1, thresholds.earlyStepCount)).compactMap { step in
                step.layers.first { $0.name == name }?.deadFraction
            }
            return !fractions.isEmpty && medianOfFinite(fractions) >= 1
        }
    }

    // MARK: Units

    /// Saturation (sigmoid/tanh) or dead units (ReLU family): per layer the median fraction over
    /// the early and over the late window; the finding fires when the mean over the layers of
    /// either window reaches the threshold, or a single layer reaches `criticalUnitFraction`.
    ///
    /// The network-wide mean, not single layers, carries the threshold because narrow layers
    /// are noisy: in a width-10 ReLU layer fed a one-dimensional input, half the units may be
    /// inactive for every example by chance in a healthy network; a layer that is (nearly)
    /// all dead or saturated blocks the gradient to everything below it, whatever the rest.
    func unitFinding(saturation: Bool) -> Finding? {
        let window = Swift.max(1, thresholds.earlyStepCount)
        let steps = record.steps.filter { !$0.skipped }
        guard !steps.isEmpty else { return nil }
        let early = Array(steps.prefix(window)), late = Array(steps.suffix(window))
        func fraction(_ layer: LayerStatistics) -> Double? { saturation ? layer.saturationFraction : layer.deadFraction }
        var names: [String] = [], kinds: [String: String] = [:]
        for step in [steps[0], steps[steps.count - 1]] {
            for layer in step.layers where fraction(layer) != nil && !names.contains(layer.name) {
                names.append(layer.name)
                kinds[layer.name] = layer.kind
            }
        }
        guard !names.isEmpty else { return nil }
        func windowMedian(_ w: [StepStatistics], _ name: String) -> Double {
            medianOfFinite(w.compactMap { s in s.layers.first { $0.name == name }.flatMap(fraction) })
        }
        let earlyFractions = names.map { windowMedian(early, $0) }, lateFractions = names.map { windowMedian(late, $0) }
        let earlyMean = earlyFractions.reduce(0, +) / Double(names.count)
        let lateMean = lateFractions.reduce(0, +) / Double(names.count)
        let perLayer = zip(earlyFractions, lateFractions).map { Swift.max($0, $1) }
        let mean = Swift.max(earlyMean, lateMean)
        let worstLayerFraction = perLayer.max() ?? 0
        let limit = saturation ? thresholds.saturationFraction : thresholds.deadFraction
        guard mean >= limit || worstLayerFraction >= thresholds.criticalUnitFraction else { return nil }
        let flagged = names.indices.filter { perLayer[$0] >= Swift.min(limit, thresholds.criticalUnitFraction) }
        let worst = names.indices.max { perLayer[$0] < perLayer[$1] }!
        let grew = lateMean > earlyMean + 0.1 || zip(earlyFractions, lateFractions).contains { $1 >= thresholds.criticalUnitFraction && $0 < thresholds.criticalUnitFraction }
        let what = saturation ? "saturated" : "dead"
        var evidence = [Evidence("mean_\(what)_fraction", mean), Evidence("early_mean_fraction", earlyMean),
                        Evidence("late_mean_fraction", lateMean), Evidence("max_layer_fraction", worstLayerFraction),
                        Evidence("affected_layers", Double(flagged.count)), Evidence("developed_during_training", grew ? 1 : 0)]
        for i in flagged { evidence.append(Evidence("fraction_\(names[i])", perLayer[i])) }
        let list = flagged.map { "\(names[$0]) (\(kinds[names[$0]] ?? ""), \(percentText(perLayer[$0])))" }.joined(separator: ", ")
        let family = saturation ? "sigmoid/tanh" : "ReLU"
        var text = "\(percentText(mean)) of the \(family) units are \(what) on average over \(names.count) layer\(names.count == 1 ? "" : "s")"
            + (flagged.isEmpty ? "." : "; the worst: \(list).")
        if saturation {
            text += " A saturated unit's derivative is below 1% of its maximum, so it passes almost no gradient back"
            if grew {
                text += "; saturation grew during training (layer \(names[worst]): \(percentText(earlyFractions[worst])) early, "
                    + "\(percentText(lateFractions[worst])) late): updates pushed pre-activations into the flat tails."
            } else {
                let lengths = layerKinds.indices.compactMap { i -> Double? in
                    guard i + 1 < layerKinds.count, names.contains(layerKinds[i + 1].name) else { return nil }
                    return preActivationLength(of: layerKinds[i].name).map { $0.squareRoot() }
                }
                text += "; they are saturated from the start"
                if !lengths.isEmpty {
                    let rms = medianOfFinite(lengths)
                    evidence.append(Evidence("pre_activation_rms", rms))
                    text += ": the pre-activations feeding them have an RMS of \(shortNumber(rms)) (median over those layers), "
                        + "far into the activation's flat tails"
                }
                if let sentence = gainSentence() {
                    let inner = network?.layers.dropFirst() ?? []
                    let stds = inner.map(\.weightStandardDeviation), fanIns = inner.map { Double($0.fanIn) }
                    text += ". Weights with std \(shortNumber(medianOfFinite(stds))) and fan-in \(Int(medianOfFinite(fanIns))) give σ_w = std·√fan-in = "
                        + "\(shortNumber(sentence.sigmaW)); Xavier init keeps σ_w near 1"
                    evidence.append(Evidence("sigma_w", sentence.sigmaW))
                }
                text += "."
            }
        } else {
            text += " A dead unit passes no gradient and gets none, so it never recovers"
            if worstLayerFraction >= thresholds.criticalUnitFraction {
                text += "; layer \(names[worst]) is \(percentText(worstLayerFraction)) dead, which blocks the gradient to every layer before it"
            }
            if grew {
                text += "; they died during training (layer \(names[worst]): \(percentText(earlyFractions[worst])) early, "
                    + "\(percentText(lateFractions[worst])) late), typically from updates too large for the weights."
            } else {
                text += "; they are dead from the start: biases or weights put their pre-activations below 0 for all inputs."
            }
        }
        let severity: Severity = worstLayerFraction >= thresholds.criticalUnitFraction || mean >= thresholds.criticalUnitFraction
            ? .critical : .warning
        let stepsListed = early.map(\.step) + (grew ? late.map(\.step) : [])
        return Finding(kind: saturation ? .saturation : .deadUnits, severity: severity, layers: flagged.map { names[$0] },
                       steps: Array(Set(stepsListed)).sorted(), evidence: evidence, explanation: text)
    }

    // MARK: Non-finite

    /// Whether a recorded step saw a non-finite loss, norm or element.
    func stepIsNonfinite(_ step: StepStatistics) -> Bool {
        if let loss = step.loss, !loss.isFinite { return true }
        if !step.globalGradientNorm.isFinite { return true }
        if step.parameters.contains(where: { $0.nonfiniteCount > 0 }) { return true }
        return step.layers.contains { $0.nonfiniteCount > 0 }
    }

    func nonfiniteFinding() -> Finding? {
        let bad = record.steps.filter(stepIsNonfinite)
        guard record.firstNonfinite != nil || !bad.isEmpty else { return nil }
        var evidence = [Evidence("nonfinite_steps", Double(bad.count)), Evidence("skipped_steps", Double(record.skippedSteps))]
        var layers: [String] = []
        var text: String
        if let origin = record.firstNonfinite {
            evidence.append(Evidence("first_step", Double(origin.step)))
            evidence.append(Evidence("origin_count", Double(origin.nonfiniteCount)))
            if let m = origin.inputMaxAbs { evidence.append(Evidence("origin_input_max_abs", m)) }
            layers = [origin.location]
            text = "First non-finite value at step \(origin.step), in the \(origin.phase.rawValue) pass at \(origin.location)"
                + (origin.kind.map { " (\($0))" } ?? "") + ": \(origin.nonfiniteCount) element\(origin.nonfiniteCount == 1 ? "" : "s")."
            switch origin.phase {
            case .forward:
                if let m = origin.inputMaxAbs {
                    text += " Its input was finite with max |x| \(shortNumber(m))"
                    text += m > 1e15 ? ": values that large overflow (Float's limit is 3.4e38) once multiplied by the layer's weights." : "."
                }
            case .loss:
                text += " The loss itself was not finite: its inputs (the model's output or the targets) were out of range."
            case .backward:
                text += " The forward pass was finite; the gradient overflowed on its way back."
            }
        } else {
            let first = bad.first!
            evidence.append(Evidence("first_step", Double(first.step)))
            let layer = first.layers.first { $0.nonfiniteCount > 0 }?.name
                ?? first.parameters.first { $0.nonfiniteCount > 0 }?.name
            if let layer { layers = [layer] }
            text = "Non-finite values at step \(first.step)" + (layer.map { " (first in \($0))" } ?? "")
                + "; the guard was off, so the origin was not traced."
        }
        // What came before: the last finite step's global norm and update ratio.
        let firstBadStep = record.firstNonfinite?.step ?? bad.first?.step ?? 0
        if let before = record.steps.last(where: { $0.step < firstBadStep && !stepIsNonfinite($0) }) {
            evidence.append(Evidence("global_norm_before", before.globalGradientNorm))
            let ratios = before.parameters.compactMap(\.updateRatio).filter(\.isFinite)
            if !ratios.isEmpty {
                evidence.append(Evidence("update_ratio_before", ratios.max()!))
                if ratios.max()! > thresholds.updateRatioLimit {
                    text += " The step before (\(before.step)) had global gradient norm \(shortNumber(before.globalGradientNorm)) and changed "
                        + "a weight matrix by \(shortNumber(ratios.max()!))× its norm: the update blew the weights up."
                }
            }
        }
        if record.skippedSteps > 0 { text += " The guard skipped \(record.skippedSteps) step\(record.skippedSteps == 1 ? "" : "s")." }
        let steps = bad.map(\.step) + (record.firstNonfinite.map { [$0.step] } ?? [])
        return Finding(kind: .nonfinite, severity: .critical, layers: layers, steps: Array(Set(steps)).sorted(),
                       evidence: evidence, explanation: text)
    }

    // MARK: Loss

    /// Size of the early/late loss windows.
    var lossWindow: Int {
        Swift.max(3, Int((Double(losses.count) * thresholds.lossWindowFraction).rounded()))
    }

    func unstableFinding() -> Finding? {
        var evidence: [Evidence] = []
        var texts: [String] = []
        var steps: [Int] = []
        var severity = Severity.warning
        if losses.count >= Swift.max(2, thresholds.minimumLossSteps) {
            let w = lossWindow
            let early = medianOfFinite(losses.prefix(w).map(\.value)), late = medianOfFinite(losses.suffix(w).map(\.value))
            let peak = losses.max { $0.value < $1.value }!
            // Rising.
            if early > 0, late > thresholds.risingFactor * early {
                evidence += [Evidence("early_loss", early), Evidence("late_loss", late), Evidence("rise_factor", late / early),
                             Evidence("peak_loss", peak.value)]
                texts.append("The loss rose from \(shortNumber(early)) (median of the first \(w) recorded steps) to \(shortNumber(late)) "
                    + "(last \(w)), peaking at \(shortNumber(peak.value)) at step \(peak.step): steps overshoot the minimum.")
                steps += [losses[0].step, peak.step, losses[losses.count - 1].step]
                if late > 10 * early { severity = .critical }
            }
            // Oscillating: consecutive changes in ln loss (relative changes when a loss is ≤ 0).
            let positive = losses.allSatisfy { $0.value > 0 }
            let changes = zip(losses.dropFirst(), losses).map { next, previous in
                positive ? Foundation.log(next.value / previous.value)
                    : (next.value - previous.value) / Swift.max(Swift.abs(previous.value), 1e-12)
            }
            let movement = changes.reduce(0) { $0 + Swift.abs($1) }
            let upward = movement > 0 ? changes.reduce(0) { $0 + Swift.max($1, 0) } / movement : 0
            let amplitude = medianOfFinite(changes.map { Swift.abs($0) })
            let signs = zip(changes.dropFirst(), changes).filter { $0 != 0 && $1 != 0 }
            let alternation = signs.isEmpty ? 0 : Double(signs.filter { ($0 > 0) != ($1 > 0) }.count) / Double(signs.count)
            let progress = early != 0 ? late / early : 1
            if amplitude >= thresholds.oscillationAmplitude && upward >= thresholds.oscillationUpwardFraction
                && alternation >= thresholds.oscillationAlternation && progress > thresholds.oscillationProgressFraction {
                evidence += [Evidence("oscillation_amplitude", amplitude), Evidence("upward_fraction", upward),
                             Evidence("alternation", alternation), Evidence("late_to_early_loss", progress)]
                texts.append("The loss oscillates: between recorded steps it changes by a median factor of "
                    + "\(shortNumber(Foundation.exp(amplitude))), up and down in turn (\(percentText(alternation)) of consecutive changes "
                    + "alternate), and \(percentText(upward)) of its movement is upward: each step overshoots the minimum along the "
                    + "sharpest direction, the mark of a learning rate beyond 2/curvature; the late loss is still "
                    + "\(percentText(progress)) of the early loss.")
                if steps.isEmpty { steps = losses.map(\.step) }
            }
        }
        // Updates large against the weights.
        if !updateRatios.isEmpty {
            let ratio = medianOfFinite(updateRatios.map(\.value))
            if ratio > thresholds.updateRatioLimit {
                evidence.append(Evidence("median_update_ratio", ratio))
                texts.append("Each step changes the weight matrices by a median \(shortNumber(ratio)) of their norm "
                    + "(steady training: about \(shortNumber(thresholds.targetUpdateRatio))): the learning rate is too large for these weights.")
                if steps.isEmpty { steps = updateRatios.map(\.step) }
            }
        }
        guard !texts.isEmpty else { return nil }
        return Finding(kind: .unstableTraining, severity: severity, steps: steps, evidence: evidence,
                       explanation: texts.joined(separator: " "))
    }

    func stalledFinding() -> Finding? {
        guard losses.count >= Swift.max(2, thresholds.minimumLossSteps) else { return nil }
        let w = lossWindow
        let earlyValues = losses.prefix(w).map(\.value), lateValues = losses.suffix(w).map(\.value)
        let early = medianOfFinite(earlyValues), late = medianOfFinite(lateValues)
        guard late != 0 else { return nil }
        let change = ((lateValues.max() ?? 0) - (lateValues.min() ?? 0)) / Swift.abs(late)
        let fraction = early != 0 ? late / early : 1
        guard change < thresholds.stallRelativeChange, fraction > thresholds.stallLossFraction else { return nil }
        // Tiny gradients: late global norm against the early one, or tiny updates.
        let lateStart = losses.suffix(w).first!.step
        let lateNorms = record.steps.filter { $0.step >= lateStart && !$0.skipped }.map(\.globalGradientNorm)
        let earlyNorms = record.steps.filter { !$0.skipped }.prefix(w).map(\.globalGradientNorm)
        let earlyNorm = medianOfFinite(earlyNorms), lateNorm = medianOfFinite(lateNorms)
        let gradientFraction = earlyNorm > 0 ? lateNorm / earlyNorm : 1
        let lateUpdates = updateRatios.filter { $0.step >= lateStart }.map(\.value)
        let lateUpdate = lateUpdates.isEmpty ? nil : medianOfFinite(lateUpdates)
        let tinyGradient = gradientFraction < thresholds.stallGradientFraction
        let tinyUpdate = lateUpdate.map { $0 < thresholds.stallUpdateRatio } ?? false
        guard tinyGradient || tinyUpdate else { return nil }
        var evidence = [Evidence("early_loss", early), Evidence("late_loss", late), Evidence("loss_fraction", fraction),
                        Evidence("late_relative_change", change), Evidence("early_global_norm", earlyNorm),
                        Evidence("late_global_norm", lateNorm), Evidence("gradient_fraction", gradientFraction)]
        if let lateUpdate { evidence.append(Evidence("late_update_ratio", lateUpdate)) }
        var text = "The loss is flat at \(shortNumber(late)) over the last \(w) recorded steps (it moves by \(percentText(change))), "
            + "still \(percentText(fraction)) of its early \(shortNumber(early)), while "
        text += tinyGradient
            ? "the global gradient norm fell to \(shortNumber(lateNorm)), \(shortNumber(gradientFraction)) of its early \(shortNumber(earlyNorm))."
            : "each step changes the weights by only \(shortNumber(lateUpdate ?? 0)) of their norm."
        if flowChange(vanishing: true) != nil {
            text += " The layers near the input never got enough gradient to learn (vanishing gradients): only the last layers fit, and they have fitted what they can."
        }
        return Finding(kind: .stalledTraining, severity: .warning, steps: losses.suffix(w).map(\.step),
                       evidence: evidence, explanation: text)
    }

    func healthyFinding() -> Finding {
        var evidence: [Evidence] = []
        var parts: [String] = []
        if let profile, let ratio = profile.weights.firstToLast {
            evidence.append(Evidence("first_to_last_ratio", ratio))
            if let factor = profile.weights.decayFactor { evidence.append(Evidence("decay_factor", factor)) }
            parts.append("the weight gradient reaches layer \(profile.layers[0].layer) at \(shortNumber(ratio))× the output layer's "
                + "(\(shortNumber(profile.weights.decayFactor ?? 1)) per layer)")
            if let signal = profile.signal, let r = signal.firstToLast {
                evidence.append(Evidence("signal_first_to_last_ratio", r))
                if let f = signal.decayFactor { evidence.append(Evidence("signal_layer_factor", f)) }
                parts.append("the backward signal at \(shortNumber(r))× (\(shortNumber(signal.decayFactor ?? 1)) per layer)")
            }
        }
        if let first = losses.first, let last = losses.last, losses.count >= 2 {
            evidence += [Evidence("first_loss", first.value), Evidence("last_loss", last.value)]
            parts.append("the loss went from \(shortNumber(first.value)) to \(shortNumber(last.value))")
        }
        if !updateRatios.isEmpty {
            let ratio = medianOfFinite(updateRatios.map(\.value))
            evidence.append(Evidence("median_update_ratio", ratio))
            parts.append("updates are \(shortNumber(ratio)) of the weights")
        }
        let text = parts.isEmpty ? "Nothing recorded is out of range."
            : "No finding: " + parts.joined(separator: ", ") + "; no saturated or dead layers, all values finite."
        return Finding(kind: .healthy, severity: .info, steps: record.steps.map(\.step), evidence: evidence, explanation: text)
    }

    // MARK: For prescriptions

    func prescriptionContext(findings: [Finding]) -> PrescriptionContext {
        var context = PrescriptionContext()
        context.kinds = Set(findings.map(\.kind))
        context.activation = dominantActivation
        context.isRecurrent = isRecurrent || !timeFlows.isEmpty
        context.depthVanishing = flowChange(vanishing: true) != nil
        context.depthExploding = flowChange(vanishing: false) != nil
        context.timeVanishing = firingTimeFlows(vanishing: true).min { $0.sequenceDecay < $1.sequenceDecay }
        context.timeExploding = firingTimeFlows(vanishing: false).max { $0.sequenceDecay < $1.sequenceDecay }
        context.layerFactor = (flowChange(vanishing: false) ?? flowChange(vanishing: true))?.series.decayFactor
            ?? profile?.weights.decayFactor
        context.nonfiniteOrigin = record.firstNonfinite
        let medianUpdate = updateRatios.isEmpty ? nil : medianOfFinite(updateRatios.map(\.value))
        context.medianUpdateRatio = medianUpdate
        context.targetUpdateRatio = thresholds.targetUpdateRatio
        context.clip = clipThreshold()
        if let activation = context.activation {
            context.criticalGain = try? MeanFieldTheory.criticalSigmaW(activation: activation)
        }
        context.saturationGrew = findings.first { $0.kind == .saturation }?.value("developed_during_training") == 1
        context.deadGrew = findings.first { $0.kind == .deadUnits }?.value("developed_during_training") == 1
        return context
    }

    /// The learning rate: the description's, else estimated from an SGD-like step,
    /// `η ≈ ‖Δw‖ / ‖g‖` over all weights of the first recorded step with update ratios
    /// (the clipped norm when clipping was on).
    func learningRate() -> Double? {
        if let rate = network?.learningRate { return rate }
        for step in record.steps where !step.skipped && !stepIsNonfinite(step) {
            let updates = step.parameters.compactMap { p in p.updateRatio.map { $0 * p.weightNorm } }
            guard updates.count == step.parameters.count, !updates.isEmpty else { continue }
            let delta = updates.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let norm = step.clippedGradientNorm ?? step.globalGradientNorm
            if norm > 0 && delta.isFinite && delta > 0 { return delta / norm }
        }
        return nil
    }

    /// A clipping threshold from the record: `clipRule` over the finite pre-clip global norms
    /// recorded before any explosion when there are at least `minimumClipHistory` of them and
    /// the early profile does not already explode; otherwise the weight-scale bound
    /// `clipUpdateRatio·‖w‖ / η` (weights and η from the first finite step).
    func clipThreshold() -> (maxNorm: Double, rule: ClipThresholdRule)? {
        var history: [Double] = []
        let baseline = profile?.globalNorm ?? 0
        for step in record.steps where !step.skipped {
            guard !stepIsNonfinite(step) else { break }
            // Stop at the first sign of an explosion in time.
            if baseline > 0 && step.globalGradientNorm > baseline * thresholds.explodingGrowth { break }
            history.append(step.globalGradientNorm)
        }
        let explodingAtStart = flowChange(vanishing: false) != nil || !firingTimeFlows(vanishing: false).isEmpty
        var boundRatio = thresholds.clipUpdateRatio
        if history.count >= thresholds.minimumClipHistory && !explodingAtStart {
            switch thresholds.clipRule {
            case .autoClip(let p):
                let value = percentileOfFinite(history, p)
                if value > 0 && value.isFinite { return (value, thresholds.clipRule) }
            case .averageNorm:
                let value = history.reduce(0, +) / Double(history.count)
                if value > 0 && value.isFinite { return (value, thresholds.clipRule) }
            case .updateRatioBound(let ratio):
                boundRatio = ratio
            }
        }
        if let rate = learningRate(), rate > 0,
           let first = record.steps.first(where: { !$0.skipped && !stepIsNonfinite($0) }) {
            let weightNorm = first.parameters.reduce(0) { $0 + $1.weightNorm * $1.weightNorm }.squareRoot()
            let value = boundRatio * weightNorm / rate
            if value > 0 && value.isFinite { return (value, .updateRatioBound(targetRatio: boundRatio)) }
        }
        if !history.isEmpty {
            let value = percentileOfFinite(history, 10)
            if value > 0 { return (value, .autoClip(percentile: 10)) }
        }
        return nil
    }
}

/// A number to three significant digits without trailing zeros (`20.4`, `0.563`, `10`), and in
/// the monitor's exponent form (`9.5e-07`) outside [1e-3, 1e5).
func shortNumber(_ x: Double) -> String {
    guard x.isFinite, x != 0, Swift.abs(x) >= 1e-3, Swift.abs(x) < 1e5 else { return formatted(x) }
    let magnitude = Int(Foundation.log10(Swift.abs(x)).rounded(.down))
    var text = String(format: "%.\(Swift.max(0, 2 - magnitude))f", x)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}

/// `0.42` as `42%`.
func percentText(_ x: Double) -> String {
    guard x.isFinite && Swift.abs(x) < 1e15 else { return "\(x * 100)%" }
    let p = x * 100
    return p >= 10 || p == 0 ? "\(Int(p.rounded()))%" : "\((p * 10).rounded() / 10)%"
}

/// Steps as `0–4` (or a single `0`).
func stepRangeText(_ steps: [Int]) -> String {
    guard let first = steps.first, let last = steps.last else { return "" }
    return first == last ? "\(first)" : "\(first)–\(last)"
}
