// Vanishing and exploding gradients through time: the doctor's reading of the per-time-step
// norms `‖∂L/∂h_t‖` the monitor records for recurrent layers (`LayerStatistics.hiddenGradientNorms`).
//
// Backpropagation through time multiplies the gradient, at every step back, by the recurrent
// Jacobian `∂h_(t+1)/∂h_t` (`diag(φ'(a))·W_hh` for an Elman RNN): when its gain is below 1 the
// gradient from the loss shrinks geometrically with the distance to the step where it entered,
// and the network cannot learn dependencies longer than a few steps (Bengio, Simard & Frasconi
// 1994; Hochreiter 1991); above 1 it grows geometrically and single steps blow up (Pascanu,
// Mikolov & Bengio 2013). The per-step factor ρ is the slope of ln‖∂L/∂h_t‖ against t, fitted
// by least squares up to the last step with a non-zero gradient (where a last-step loss enters),
// so that a one-time change where the gradient enters (an LSTM passing it from h into its cell
// state) does not count as decay; ρ^(T−1) is the decay over the sequence the thresholds judge.

import Foundation

/// The gradient's flow back through time in one recurrent layer over a window of recorded steps.
///
/// Per recorded step with norms `n_t = ‖∂L/∂h_t‖`, `t = 0 … T−1`, and `r` the last step with
/// `n_r > 0` (where a last-step loss's gradient enters): the per-step factor `ρ = exp(−b)` of the
/// least-squares line `ln n_t = a + b·t` over the positive norms up to `r`, the geometric factor
/// `(n_0/n_r)^(1/r)` (the geometric mean of `n_t / n_(t+1)` going backwards; from the first
/// positive norm `n_p` instead of `n_0` when the gradient underflowed to 0) and the ratio
/// `n_0 / n_r`. Each figure is the median over the window's steps (sequences may differ in length
/// under truncated BPTT); `sequenceDecay = ρ^(T−1)` with the medians.
struct ThroughTimeFlow {
    /// The recurrent module's name (`0`).
    var layer: String
    /// Its kind (`RNN`, `LSTM`, `GRU`).
    var kind: String
    /// The recorded steps the medians are over.
    var steps: [Int]
    /// Median sequence length T.
    var sequenceLength: Int
    /// Median `n_0 / n_r`.
    var firstToLast: Double
    /// Median fitted per-step factor ρ (the geometric one for steps with a single positive norm).
    var stepFactor: Double
    /// Median geometric per-step factor `(n_0/n_r)^(1/r)`.
    var geometricStepFactor: Double
    /// Median `n_0` and `n_r`.
    var firstNorm: Double
    var lastNorm: Double

    /// `ρ^(T−1)`: the per-step factor over the sequence.
    var sequenceDecay: Double { Foundation.pow(stepFactor, Double(Swift.max(sequenceLength - 1, 1))) }

    /// Whether the layer is a gated cell (LSTM or GRU), whose gates can learn to keep the
    /// gradient through time.
    var isGated: Bool { kind.contains("LSTM") || kind.contains("GRU") }

    /// Steps back from the last one until the gradient falls to 1% of its size there,
    /// `ln 100 / −ln ρ` (nil unless 0 < ρ < 1).
    var horizon: Double? {
        guard stepFactor > 0 && stepFactor < 1 else { return nil }
        return Foundation.log(100) / -Foundation.log(stepFactor)
    }

    /// The figures of one step's norms: `(n_0/n_r, ρ, fitted ρ, T, n_0, n_r)`; nil with fewer
    /// than two steps, a non-finite norm, or no positive norm after the first step.
    static func figures(_ norms: [Double]) -> (ratio: Double, factor: Double, fitted: Double?, length: Int, first: Double, last: Double)? {
        guard norms.count >= 2, norms.allSatisfy(\.isFinite),
              let r = norms.lastIndex(where: { $0 > 0 }), r >= 1 else { return nil }
        let series = FlowSeries(layers: [], norms: Array(norms[0...r]))
        // ρ over the steps that still have a gradient: one that underflowed to 0 says nothing
        // about the factor, only that it vanished.
        let p = norms.firstIndex(where: { $0 > 0 })!
        let factor = p < r ? Foundation.pow(norms[p] / norms[r], 1 / Double(r - p)) : 0
        return (norms[0] / norms[r], factor, series.fittedFactor, norms.count, norms[0], norms[r])
    }

    /// The flow of every recurrent layer in `record` over its first (or, with `fromEnd`, last)
    /// `window` recorded, not skipped steps with usable norms, in forward order of the layers.
    static func measure(_ record: MonitorRecord, window: Int, fromEnd: Bool = false) -> [ThroughTimeFlow] {
        var order: [(name: String, kind: String)] = []
        for step in record.steps {
            for layer in step.layers where layer.hiddenGradientNorms != nil && !order.contains(where: { $0.name == layer.name }) {
                order.append((layer.name, layer.kind))
            }
        }
        return order.compactMap { layer in
            var steps: [Int] = []
            var ratios: [Double] = [], factors: [Double] = [], geometric: [Double] = [], lengths: [Double] = []
            var firsts: [Double] = [], lasts: [Double] = []
            for step in (fromEnd ? Array(record.steps.reversed()) : record.steps) where !step.skipped {
                guard let norms = step.layers.first(where: { $0.name == layer.name })?.hiddenGradientNorms,
                      let f = figures(norms) else { continue }
                steps.append(step.step)
                ratios.append(f.ratio); geometric.append(f.factor); lengths.append(Double(f.length))
                factors.append(f.fitted ?? f.factor)
                firsts.append(f.first); lasts.append(f.last)
                if steps.count >= Swift.max(1, window) { break }
            }
            guard !steps.isEmpty else { return nil }
            if fromEnd { steps.reverse() }
            return ThroughTimeFlow(layer: layer.name, kind: layer.kind, steps: steps,
                                   sequenceLength: Int(medianOfFinite(lengths).rounded()),
                                   firstToLast: medianOfFinite(ratios), stepFactor: medianOfFinite(factors),
                                   geometricStepFactor: medianOfFinite(geometric),
                                   firstNorm: medianOfFinite(firsts), lastNorm: medianOfFinite(lasts))
        }
    }

    /// Whether the flow vanishes (`ρ^(T−1) < throughTimeVanishingRatio`) or explodes
    /// (`> throughTimeExplodingRatio`) over a sequence of at least `minimumSequenceLength` steps.
    func changes(vanishing: Bool, _ thresholds: DiagnosisThresholds) -> Bool {
        guard sequenceLength >= thresholds.minimumSequenceLength else { return false }
        return vanishing ? sequenceDecay < thresholds.throughTimeVanishingRatio
            : sequenceDecay > thresholds.throughTimeExplodingRatio
    }

    /// The flow's numbers as evidence.
    var evidence: [Evidence] {
        var list = [Evidence("through_time", 1), Evidence("step_factor", stepFactor),
                    Evidence("sequence_decay", sequenceDecay), Evidence("geometric_step_factor", geometricStepFactor)]
        list += [Evidence("time_first_to_last_ratio", firstToLast), Evidence("sequence_length", Double(sequenceLength)),
                 Evidence("first_step_gradient_norm", firstNorm), Evidence("last_step_gradient_norm", lastNorm),
                 Evidence("recorded_steps", Double(steps.count))]
        if let horizon { list.append(Evidence("horizon_steps", horizon)) }
        return list
    }
}

extension RecordAnalysis {
    /// The through-time finding: the recurrent layer whose flow changes most (beyond the
    /// thresholds) in the early window, its numbers, and the cause in words; nil when no
    /// recurrent layer's flow vanishes (explodes).
    ///
    /// A vanishing flow must vanish in the late window too (the last `earlyStepCount` recorded
    /// steps): an LSTM or GRU starts with its gates near σ(0) = 0.5, where the gradient
    /// vanishes through time as in a vanilla RNN, and learns to open them; one that has learned
    /// to carry the gradient has no finding.
    func throughTimeFinding(vanishing: Bool) -> Finding? {
        let firing = firingTimeFlows(vanishing: vanishing)
        guard let flow = vanishing ? firing.min(by: { $0.sequenceDecay < $1.sequenceDecay })
                                   : firing.max(by: { $0.sequenceDecay < $1.sequenceDecay }) else { return nil }
        let rho = shortNumber(flow.stepFactor), ratio = shortNumber(flow.firstToLast)
        let t = flow.sequenceLength
        let steps = "median of recorded step\(flow.steps.count == 1 ? "" : "s") \(stepRangeText(flow.steps))"
        var text = "Through time, the gradient \(vanishing ? "shrinks" : "grows") by a factor ρ ≈ \(rho) per step going back from "
            + "the last step in layer \(flow.layer) (\(flow.kind), sequences of \(t) steps, \(steps)), "
            + "\(superscriptPower("ρ", t - 1)) ≈ \(shortNumber(flow.sequenceDecay)) over the sequence: ‖∂L/∂h_0‖ is "
            + "\(ratio)× ‖∂L/∂h_\(t - 1)‖ (\(shortNumber(flow.firstNorm)) against \(shortNumber(flow.lastNorm)))."
        if vanishing {
            if let horizon = flow.horizon {
                text += " The gradient falls below 1% of its size within \(Int(horizon.rounded(.up))) steps, so inputs further back "
                    + "than that hardly move the weights: dependencies longer than that are not learned."
            }
            if flow.isGated {
                let gate = flow.kind.contains("GRU") ? "a GRU's state by its update gate z_t" : "an LSTM's cell state by its forget gate f_t"
                text += " In a gated cell the gradient is carried back through the gates (\(gate) at each step); ρ ≈ \(rho) means "
                    + "the gates pass only that much back per step, as σ(0) = 0.5 does at initialization: they have not learned to hold the state."
            } else {
                text += " Each step back multiplies the gradient by the recurrent Jacobian diag(φ'(a_t))·W_hhᵀ, whose gain is below "
                    + "1 here: the recurrent weights are small for the sequence length and the nonlinearity's derivative is at most 1. "
                    + "Clipping does not help: it only bounds large gradients."
            }
        } else {
            text += " Each step back multiplies the gradient by the recurrent Jacobian, whose gain is above 1 (the recurrent "
                + "weights' spectral radius is above 1 where the units are active): the first steps' contributions dominate the "
                + "weight gradient by \(ratio)× and grow as ρ^T, so the loss surface has steep cliffs and one step can throw the "
                + "weights far off (Pascanu et al. 2013)."
        }
        let others = firing.filter { $0.layer != flow.layer }
        if !others.isEmpty {
            text += " Also " + others.map { "layer \($0.layer) (ρ ≈ \(shortNumber($0.stepFactor)))" }.joined(separator: ", ") + "."
        }
        let late = lateTimeFlows.first { $0.layer == flow.layer }
        if vanishing, let late, late.steps != flow.steps {
            text += " At the end of the run (median of steps \(stepRangeText(late.steps))) it still shrinks by ρ ≈ "
                + "\(shortNumber(late.stepFactor)) per step (\(shortNumber(late.sequenceDecay)) over the sequence)."
        }
        let critical = vanishing ? flow.sequenceDecay < 1 / thresholds.criticalRatio : flow.sequenceDecay > thresholds.criticalRatio
        var evidence = flow.evidence
        if flow.isGated { evidence.append(Evidence("gated_cell", 1)) }
        if let late {
            evidence.append(Evidence("late_step_factor", late.stepFactor))
            evidence.append(Evidence("late_sequence_decay", late.sequenceDecay))
        }
        return Finding(kind: vanishing ? .vanishingGradients : .explodingGradients, severity: critical ? .critical : .warning,
                       layers: [flow.layer] + others.map(\.layer), steps: flow.steps, evidence: evidence, explanation: text)
    }

    /// The recurrent layers whose flow vanishes (explodes) through time: in the early window,
    /// and for vanishing also in the late one.
    func firingTimeFlows(vanishing: Bool) -> [ThroughTimeFlow] {
        timeFlows.filter { flow in
            guard flow.changes(vanishing: vanishing, thresholds) else { return false }
            guard vanishing, let late = lateTimeFlows.first(where: { $0.layer == flow.layer }) else { return true }
            return late.changes(vanishing: true, thresholds)
        }
    }

    /// `depth` and `time` findings of one kind as one: the through-time one's text, layers and
    /// evidence follow the depth one's (depth's evidence names stay as they are, time's have
    /// their own), at the worse severity.
    static func merged(depth: Finding?, time: Finding?) -> Finding? {
        guard var depth else { return time }
        guard let time else { return depth }
        depth.severity = Swift.max(depth.severity, time.severity)
        depth.layers += time.layers.filter { !depth.layers.contains($0) }
        depth.steps = Array(Set(depth.steps + time.steps)).sorted()
        depth.evidence += time.evidence.filter { e in !depth.evidence.contains { $0.name == e.name } }
        depth.explanation += " " + time.explanation
        return depth
    }
}
