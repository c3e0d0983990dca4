// Remedies for the doctor's findings, ranked per finding and merged into one list, each with
// the reason it addresses the finding, in the finding's numbers.

import Foundation
import GradNN

/// How a gradient-clipping threshold is derived from a run's recorded norms.
///
/// - `autoClip(percentile:)`: the p-th percentile of the finite pre-clip global gradient norms
///   recorded before any explosion (Seetharaman et al. 2020, "AutoClip: Adaptive Gradient
///   Clipping for Source Separation Networks", who use p = 10).
/// - `averageNorm`: their mean (Pascanu et al. 2013, "On the difficulty of training recurrent
///   neural networks": "a threshold ... around the average norm over a sufficiently large
///   number of updates").
/// - `updateRatioBound(targetRatio:)`: `maxNorm = r·‖w‖/η`, so that one SGD step changes the
///   weights by at most `r` of their global norm; the doctor falls back to it when the history
///   holds no healthy norms (the run exploded from its first step), with η from the
///   description or estimated as `‖Δw‖/‖g‖` from the record.
public enum ClipThresholdRule: Codable, Sendable, Equatable {
    /// The `percentile`-th percentile (0–100) of the healthy pre-clip norms (AutoClip).
    case autoClip(percentile: Double)
    /// The mean of the healthy pre-clip norms (Pascanu et al.).
    case averageNorm
    /// `targetRatio·‖w‖/η`: one step changes the weights by at most `targetRatio` of their norm.
    case updateRatioBound(targetRatio: Double)

    /// The rule in words, for rationales.
    public var label: String {
        switch self {
        case .autoClip(let p): "AutoClip: the \(shortNumber(p))th percentile of the recorded pre-clip global norms"
        case .averageNorm: "Pascanu et al.: the average recorded pre-clip global norm"
        case .updateRatioBound(let r): "update bound: a step may change the weights by at most \(shortNumber(r)) of their norm (r·‖w‖/η)"
        }
    }
}

/// One change to the model or the training that addresses a finding, with its parameters.
public enum Remedy: Codable, Sendable, Equatable {
    /// Replace the hidden activations (and re-initialize the weights for the new one when
    /// `weightInitialization` is set).
    case useActivation(Activation, weightInitialization: Initializer?)
    /// Re-initialize the weights (and biases when `bias` is set).
    case initialization(weight: Initializer, bias: Initializer?)
    /// Insert `BatchNorm1d` after each hidden `Linear`.
    case batchNorm
    /// Add identity skip connections around blocks (`x + f(x)`).
    case residualConnections
    /// Clip the global gradient norm at `maxNorm` before each step (`clip_grad_norm_`).
    case clipGradNorm(maxNorm: Double, rule: ClipThresholdRule)
    /// Multiply the learning rate by `factor` (< 1).
    case lowerLearningRate(factor: Double)
    /// Multiply the learning rate by `factor` (> 1).
    case raiseLearningRate(factor: Double)
    /// Replace the vanilla recurrent cell by an LSTM or GRU (recurrent networks only): gates
    /// carry the gradient back through time instead of a product of recurrent Jacobians
    /// (Hochreiter & Schmidhuber 1997; Cho et al. 2014).
    case useLSTMOrGRU
    /// Initialize the recurrent weights (`weight_hh`, each gate block) as random orthogonal
    /// matrices, spectral radius 1 (recurrent networks only; Saxe et al. 2013, Le et al. 2015).
    case orthogonalRecurrentWeights
    /// Start the LSTM forget gates' biases at `value` (1: Jozefowicz et al. 2015), so that the
    /// cell state carries the gradient back from the first step (LSTM layers only).
    case forgetGateBias(Double)

    /// The remedy's kind in snake_case (`use_activation`, `clip_grad_norm`, ...).
    public var name: String {
        switch self {
        case .useActivation: "use_activation"
        case .initialization: "initialization"
        case .batchNorm: "batch_norm"
        case .residualConnections: "residual_connections"
        case .clipGradNorm: "clip_grad_norm"
        case .lowerLearningRate: "lower_learning_rate"
        case .raiseLearningRate: "raise_learning_rate"
        case .useLSTMOrGRU: "use_lstm_or_gru"
        case .orthogonalRecurrentWeights: "orthogonal_recurrent_weights"
        case .forgetGateBias: "forget_gate_bias"
        }
    }

    /// The remedy in a few words with its parameters (`clip the gradient norm at 31.6`).
    public var label: String {
        switch self {
        case .useActivation(let activation, let initializer):
            "use \(activation.rawValue)" + (initializer.map { " with \(initializerText($0)) init" } ?? "")
        case .initialization(let weight, let bias):
            "initialize weights \(initializerText(weight))" + (bias.map { ", biases \(initializerText($0))" } ?? "")
        case .batchNorm: "add batch norm after each hidden layer"
        case .residualConnections: "add residual connections"
        case .clipGradNorm(let maxNorm, _): "clip the gradient norm at \(shortNumber(maxNorm))"
        case .lowerLearningRate(let factor): "lower the learning rate ×\(shortNumber(factor))"
        case .raiseLearningRate(let factor): "raise the learning rate ×\(shortNumber(factor))"
        case .useLSTMOrGRU: "use an LSTM or GRU cell"
        case .orthogonalRecurrentWeights: "initialize the recurrent weights orthogonally"
        case .forgetGateBias(let value): "start the LSTM forget-gate biases at \(shortNumber(value))"
        }
    }
}

/// An initializer in a few words (`kaiming_uniform (relu)`, `orthogonal, gain 4.2`).
func initializerText(_ initializer: Initializer) -> String {
    switch initializer {
    case .xavierUniform(let gain), .xavierNormal(let gain), .orthogonal(let gain):
        return initializer.name + (gain.map { ", gain \(shortNumber($0))" } ?? "")
    case .kaimingUniform(_, _, let nonlinearity), .kaimingNormal(_, _, let nonlinearity):
        return initializer.name + (nonlinearity.map { " (\($0))" } ?? "")
    case .normal(let mean, let std):
        return "normal(\(shortNumber(mean)), \(shortNumber(std))²)"
    case .constant(let value):
        return "constant \(shortNumber(value))"
    default:
        return initializer.name
    }
}

/// A remedy the doctor recommends: what to change, which findings it addresses, why, and its
/// place in the ranking.
public struct Prescription: Codable, Sendable, Equatable {
    /// What to change.
    public var remedy: Remedy
    /// The findings it addresses, the one it was ranked for first.
    public var addresses: [FindingKind]
    /// Why it addresses them, in the findings' numbers.
    public var rationale: String
    /// 1 for the best; ranked per finding (most severe finding first), duplicates merged.
    public var rank: Int

    /// A prescription.
    ///
    /// - Parameters:
    ///   - remedy: what to change.
    ///   - addresses: the findings it addresses.
    ///   - rationale: why.
    ///   - rank: its place, 1 for the best.
    public init(remedy: Remedy, addresses: [FindingKind], rationale: String, rank: Int) {
        self.remedy = remedy
        self.addresses = addresses
        self.rationale = rationale
        self.rank = rank
    }
}

/// What the remedies need to know about the run beyond the findings themselves.
struct PrescriptionContext {
    var kinds: Set<FindingKind> = []
    /// The dominant hidden activation.
    var activation: Activation?
    var isRecurrent = false
    /// The recurrent layer whose gradient vanishes (explodes) through time, if any.
    var timeVanishing: ThroughTimeFlow?
    var timeExploding: ThroughTimeFlow?
    /// Whether the gradient also vanishes (explodes) through depth, layer to layer.
    var depthVanishing = false
    var depthExploding = false
    /// The early per-layer gradient factor `(n_1/n_L)^(1/(L−1))`.
    var layerFactor: Double?
    var nonfiniteOrigin: NonfiniteOrigin?
    var medianUpdateRatio: Double?
    var targetUpdateRatio = 1e-3
    var clip: (maxNorm: Double, rule: ClipThresholdRule)?
    /// The σ_w at which the dominant activation is critical (χ₁ = 1).
    var criticalGain: Double?
    var saturationGrew = false
    var deadGrew = false

    /// Learning-rate reduction: `10·r*/u` (ten times the target over the measured median update
    /// ratio, so that updates land in the healthy 1e-3…1e-2 band) rounded down to a power of
    /// ten, within [1e-3, 0.1]; 0.1 without update ratios.
    var lowerFactor: Double {
        guard let u = medianUpdateRatio, u > 0, u > targetUpdateRatio else { return 0.1 }
        let exponent = Foundation.log10(10 * targetUpdateRatio / u).rounded(.down)
        return Foundation.pow(10, Swift.min(Swift.max(exponent, -3), -1))
    }

    /// Learning-rate increase: `r*/u` rounded down to a power of ten, within [10, 100]; 10
    /// without update ratios.
    var raiseFactor: Double {
        guard let u = medianUpdateRatio, u > 0, u < targetUpdateRatio else { return 10 }
        let exponent = Foundation.log10(targetUpdateRatio / u).rounded(.down)
        return Foundation.pow(10, Swift.min(Swift.max(exponent, 1), 2))
    }
}

extension Doctor {
    /// Ranked prescriptions for findings already sorted by importance: each finding's remedies
    /// in its own order, the most important finding first; a remedy already listed gains the
    /// finding in `addresses` and its reason instead of a second entry.
    static func prescribe(for findings: [Finding], context: PrescriptionContext) -> [Prescription] {
        var result: [Prescription] = []
        for finding in findings {
            for (remedy, why) in remedies(for: finding, context: context) {
                if let index = result.firstIndex(where: { $0.remedy == remedy }) {
                    if !result[index].addresses.contains(finding.kind) {
                        result[index].addresses.append(finding.kind)
                        result[index].rationale += result[index].rationale.contains(why)
                            ? " It also addresses \(finding.kind.title)." : " For \(finding.kind.title): " + why
                    }
                } else {
                    result.append(Prescription(remedy: remedy, addresses: [finding.kind], rationale: why, rank: result.count + 1))
                }
            }
        }
        return result
    }

    /// The weight initializer that gives `activation` a per-layer gradient gain of 1: Kaiming for
    /// the ReLU family (gain √(2/(1+a²))), Xavier with `calculateGain` for the others.
    static func matchingInitializer(for activation: Activation?) -> Initializer {
        switch activation {
        case .relu, .none: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu")
        case .leakyRelu: .kaimingUniform(a: 0.01, mode: .fanIn, nonlinearity: "leaky_relu")
        case .prelu: .kaimingUniform(a: 0.25, mode: .fanIn, nonlinearity: "leaky_relu")
        case .elu, .gelu, .silu, .softplus: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu")
        case .selu: .kaimingNormal(a: 0, mode: .fanIn, nonlinearity: "linear")
        case .tanh: .xavierUniform(gain: 5.0 / 3)
        case .sigmoid, .hardtanh, .softsign, .linear: .xavierUniform(gain: 1)
        }
    }

    /// Whether an activation's derivative is bounded well below 1 or vanishes in its tails.
    static func isBounded(_ activation: Activation?) -> Bool {
        switch activation {
        case .sigmoid, .tanh, .hardtanh, .softsign: true
        default: false
        }
    }

    /// The remedies for a gradient that vanishes or explodes through time in `flow`'s layer,
    /// best first.
    ///
    /// Vanishing: an LSTM or GRU for a vanilla RNN (gates carry the gradient), then orthogonal
    /// recurrent weights; no clipping (it only bounds large gradients). Exploding: clipping
    /// first (Pascanu et al. 2013), then orthogonal recurrent weights, then a lower learning rate.
    static func throughTimeRemedies(_ flow: ThroughTimeFlow, vanishing: Bool, clip: (Remedy, String)?,
                                    lower: (Remedy, String)) -> [(Remedy, String)] {
        let rho = shortNumber(flow.stepFactor), t = flow.sequenceLength, decay = shortNumber(flow.sequenceDecay)
        let measured = "here ρ ≈ \(rho) per step, \(decay)× over \(t) steps"
        var list: [(Remedy, String)] = []
        if vanishing {
            if !flow.isGated {
                list.append((.useLSTMOrGRU,
                             "An LSTM carries the gradient back through its cell state additively, multiplied at each step by the "
                             + "forget gate, which learns to stay near 1, instead of by the recurrent Jacobian diag(φ')·W_hhᵀ "
                             + "(\(measured)); a GRU's update gate does the same. They solve the adding problem at lengths where "
                             + "the vanilla RNN stays at the baseline (Hochreiter & Schmidhuber 1997)."))
            }
            if flow.kind.contains("LSTM") {
                list.append((.forgetGateBias(1),
                             "The cell state reaches back one step multiplied by the forget gate f_t = σ(b_f + …), about σ(0) = 0.5 "
                             + "at PyTorch's init (\(measured)); a forget-gate bias of 1 starts f_t near σ(1) ≈ 0.73 and lets the "
                             + "gate learn to hold the state over long spans (Gers et al. 2000; Jozefowicz et al. 2015)."))
            }
            list.append((.orthogonalRecurrentWeights,
                         "An orthogonal W_hh has every singular value 1, so the linear part of each step back keeps the gradient's "
                         + "size and only the nonlinearity's derivative shrinks it (Saxe et al. 2013; Le et al. 2015) — \(measured)."
                         + (flow.isGated ? " In a gated cell the gates still decide how much of the state is kept." : "")))
        } else {
            if let clip {
                list.append((clip.0, "Clipping the gradient norm is the remedy of Pascanu et al. 2013 for exploding gradients through time: "
                             + "\(measured), so one step's gradient can be ρ^T times the typical; clipping keeps its direction "
                             + "and caps its size. " + clip.1))
            }
            list.append((.orthogonalRecurrentWeights,
                         "The recurrent weights' spectral radius is above 1 (\(measured)); orthogonal W_hh starts it at exactly 1, "
                         + "so the linear part of each step back neither grows nor shrinks the gradient."))
            list.append(lower)
        }
        return list
    }

    /// One finding's remedies, best first, each with its reason.
    static func remedies(for finding: Finding, context: PrescriptionContext) -> [(Remedy, String)] {
        let activation = context.activation
        let name = activation?.rawValue ?? "the activation"
        let reluKaiming = Initializer.kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu")
        let factorText = context.layerFactor.map { "now \(shortNumber($0)) per layer" } ?? "measured above"
        let batchNorm = (Remedy.batchNorm,
                         "Batch norm rescales each layer's pre-activations to mean 0 and variance 1, so every layer sits in the "
                         + "activation's high-derivative range and the per-layer gain no longer depends on the weights' scale.")
        let residual = (Remedy.residualConnections,
                        "A skip connection adds the identity to each block's Jacobian, so the gradient reaches the early layers "
                        + "through the skips even where the blocks shrink it.")
        var clip: (Remedy, String)?
        if let c = context.clip {
            clip = (.clipGradNorm(maxNorm: c.maxNorm, rule: c.rule),
                    "Clipping the global norm at \(shortNumber(c.maxNorm)) (\(c.rule.label)) caps every step's size while keeping its "
                    + "direction, so one huge gradient cannot throw the weights out of range.")
        }
        let lower = (Remedy.lowerLearningRate(factor: context.lowerFactor),
                     context.medianUpdateRatio.map { u in
                         "Steps change the weights by a median \(shortNumber(u)) of their norm; ×\(shortNumber(context.lowerFactor)) "
                         + "brings that toward \(shortNumber(context.targetUpdateRatio)), where steps no longer overshoot."
                     } ?? "Smaller steps stay inside the region where the loss decreases along the gradient.")
        var list: [(Remedy, String)] = []

        switch finding.kind {
        case .vanishingGradients:
            if let flow = context.timeVanishing {
                list += throughTimeRemedies(flow, vanishing: true, clip: clip, lower: lower)
                // Depth remedies only when the gradient also vanishes layer to layer.
                if !context.depthVanishing { break }
            } else if context.isRecurrent {
                list.append((.useLSTMOrGRU, "An LSTM's cell state carries the gradient through time additively, scaled by the forget "
                             + "gate (near 1 when needed), instead of multiplying it by the recurrent Jacobian at every step."))
            }
            if isBounded(activation) {
                list.append((.useActivation(.relu, weightInitialization: reluKaiming),
                             "ReLU's derivative is 1 on active units, so depth no longer multiplies the gradient by at most "
                             + "\(activation == .sigmoid ? "0.25" : "φ'") per layer (\(factorText)); Kaiming init (σ_w² = 2) makes "
                             + "the per-layer gain σ_w·√½ = 1. ReLU with too small an init vanishes as well, hence both together."))
                if let gain = context.criticalGain {
                    list.append((.initialization(weight: .orthogonal(gain: gain), bias: .zeros),
                                 "Keeps \(name) but puts it at the edge of chaos: orthogonal weights scaled by σ_w = \(shortNumber(gain)) "
                                 + "make χ₁ = σ_w²·E[φ'(h)²] = 1, so the gradient keeps its size through depth (\(factorText))."))
                }
            } else {
                let initializer = matchingInitializer(for: activation)
                list.append((.initialization(weight: initializer, bias: .zeros),
                             "\(initializerText(initializer)) gives \(name) a per-layer gain of 1 (He: σ_w² = 2/(1+a²) makes "
                             + "χ₁ = σ_w²·E[φ'²] = 1), so each layer passes the gradient on at its size (\(factorText))."))
            }
            list.append(batchNorm)
            list.append(residual)

        case .explodingGradients:
            let initializer = matchingInitializer(for: activation)
            let initRemedy = (Remedy.initialization(weight: initializer, bias: .zeros),
                              "The gradient grows \(factorText): the weights are too large for \(name). \(initializerText(initializer)) "
                              + "sets σ_w so that the per-layer gain σ_w·√E[φ'²] is 1, removing the cause; with a large learning "
                              + "rate it may need clipping as well.")
            if let flow = context.timeExploding {
                list += throughTimeRemedies(flow, vanishing: false, clip: clip, lower: lower)
                if !context.depthExploding { break }
            }
            // Clipping first: it bounds every step whatever the cause, so the run stays finite;
            // the initialization that removes the cause follows.
            if let clip { list.append(clip) }
            if context.isRecurrent {
                list.append((.initialization(weight: .orthogonal(gain: 1), bias: .zeros),
                             "An orthogonal recurrent matrix has all singular values 1, so repeated products neither grow nor shrink at the start."))
                list.append(lower)
            } else if (context.layerFactor ?? 1) > 2 {
                list.append(initRemedy)
                list.append(lower)
            } else {
                list.append(lower)
                list.append(initRemedy)
            }
            list.append(batchNorm)

        case .nonfinite:
            let origin = context.nonfiniteOrigin.map { "the first non-finite value (step \($0.step), \($0.phase.rawValue) pass at \($0.location))" }
                ?? "the non-finite values"
            if context.kinds.contains(.explodingGradients) || context.kinds.contains(.unstableTraining) || context.nonfiniteOrigin?.phase != .loss {
                if let clip { list.append((clip.0, "Bounding each step prevents \(origin).")) }
                list.append((lower.0, "Smaller steps keep the weights finite before \(origin)."))
            } else {
                list.append((lower.0, "The loss went non-finite (\(origin)): the predictions left the loss's valid range. " + lower.1))
                if let clip { list.append(clip) }
            }
            if context.kinds.contains(.explodingGradients) {
                let initializer = matchingInitializer(for: activation)
                list.append((.initialization(weight: initializer, bias: .zeros),
                             "The overflow follows exploding gradients; \(initializerText(initializer)) removes their cause, the per-layer gain above 1."))
            }

        case .saturation:
            let initializer = matchingInitializer(for: activation)
            if context.saturationGrew { list.append((lower.0, "Saturation grew during training: large updates drove the pre-activations into the flat tails. " + lower.1)) }
            list.append((.initialization(weight: initializer, bias: .zeros),
                         "\(initializerText(initializer)) keeps the pre-activations' variance near 1, inside \(name)'s non-flat range, "
                         + "so units start where their derivative is large."))
            list.append((.useActivation(.relu, weightInitialization: reluKaiming),
                         "ReLU does not saturate for positive inputs: its derivative is 1 however large the pre-activation."))
            list.append((Remedy.batchNorm, "Batch norm keeps every layer's pre-activations at mean 0 and variance 1, out of the saturated tails."))

        case .deadUnits:
            let leaky = Initializer.kaimingUniform(a: 0.01, mode: .fanIn, nonlinearity: "leaky_relu")
            if context.deadGrew { list.append((lower.0, "Units died during training: a large update pushed their biases so negative that no input activates them. " + lower.1)) }
            list.append((.useActivation(.leakyRelu, weightInitialization: leaky),
                         "Leaky ReLU has slope 0.01 below 0, so an inactive unit still gets a gradient and can come back."))
            list.append((.initialization(weight: reluKaiming, bias: .zeros),
                         "Kaiming weights with zero biases put half of each layer's pre-activations above 0 at the start, so no unit begins dead."))
            list.append((Remedy.batchNorm, "Batch norm centers each unit's pre-activation over the batch, so it is positive for about half the examples."))

        case .unstableTraining:
            list.append(lower)
            if let clip { list.append(clip) }
            list.append(batchNorm)

        case .stalledTraining:
            if context.kinds.contains(.vanishingGradients) {
                // The stall is the vanishing gradient's consequence: its remedies, in its order.
                var vanishing = finding
                vanishing.kind = .vanishingGradients
                list += remedies(for: vanishing, context: context).map { ($0.0, "The stall is the vanishing gradient's consequence.") }
            } else {
                if let u = context.medianUpdateRatio, u < context.targetUpdateRatio / 10 {
                    list.append((.raiseLearningRate(factor: context.raiseFactor),
                                 "Steps change the weights by a median \(shortNumber(u)) of their norm, far below \(shortNumber(context.targetUpdateRatio)); "
                                 + "×\(shortNumber(context.raiseFactor)) lets training move again."))
                }
                let initializer = matchingInitializer(for: activation)
                list.append((.initialization(weight: initializer, bias: .zeros),
                             "Tiny gradients on a flat loss often mean the signal has collapsed at initialization; \(initializerText(initializer)) keeps its scale."))
                list.append(batchNorm)
                if context.medianUpdateRatio == nil || (context.medianUpdateRatio ?? 1) >= context.targetUpdateRatio / 10 {
                    list.append((.raiseLearningRate(factor: context.raiseFactor), "Larger steps move faster across a flat region."))
                }
            }

        case .healthy:
            break
        }
        return list
    }
}
