// Verified remedies: rerun the same model, data and seed with each of the top prescriptions
// applied (the caller supplies the rerun), and report before and after side by side with a
// computed verdict, including the prescriptions that did not help.

import Foundation

/// What one training run reached: the loss, the gradient's first/last-layer ratio at the
/// start, and whether it stayed finite.
public struct RunOutcome: Codable, Sendable, Equatable {
    /// The last recorded loss, when finite (nil for a run that ended non-finite or recorded none).
    public var lossReached: Double?
    /// The smallest finite loss recorded.
    public var bestLoss: Double?
    /// `‖∇W₁‖ / ‖∇W_L‖`: first over last weighted layer's gradient norm at the start (nil when
    /// not measurable).
    public var gradientRatio: Double?
    /// `‖∂L/∂h₁‖ / ‖∂L/∂h_L‖`: the same for the backward signal at the layers' outputs, which
    /// shows an explosion (or vanishing) that level weight gradients hide in ReLU networks
    /// (nil when not recorded).
    public var signalRatio: Double?
    /// Whether every recorded loss and gradient was finite.
    public var finite: Bool
    /// Training steps the run took (the last recorded step + 1, or as the caller counts them).
    public var steps: Int

    /// An outcome from its parts.
    ///
    /// - Parameters:
    ///   - lossReached: the final loss when finite.
    ///   - bestLoss: the smallest finite loss.
    ///   - gradientRatio: first/last-layer weight-gradient norm ratio at the start.
    ///   - signalRatio: first/last-layer backward-signal norm ratio at the start.
    ///   - finite: whether the run stayed finite.
    ///   - steps: steps taken.
    public init(lossReached: Double?, bestLoss: Double? = nil, gradientRatio: Double?, signalRatio: Double? = nil,
                finite: Bool, steps: Int) {
        self.lossReached = lossReached.flatMap { $0.isFinite ? $0 : nil }
        self.bestLoss = (bestLoss ?? self.lossReached).flatMap { $0.isFinite ? $0 : nil }
        self.gradientRatio = gradientRatio.flatMap { $0.isFinite ? $0 : nil }
        self.signalRatio = signalRatio.flatMap { $0.isFinite ? $0 : nil }
        self.finite = finite
        self.steps = steps
    }

    /// The outcome a monitor record shows: the last recorded loss (nil if not finite), the best
    /// finite loss, the early gradient-flow ratios of weight gradients and backward signal
    /// (medians over the first `earlyStepCount` finite steps, as `Doctor.diagnose` measures
    /// them) and finiteness (no non-finite origin,
    /// loss, norm or element recorded).
    ///
    /// - Parameters:
    ///   - record: the run's record.
    ///   - earlyStepCount: steps in the early median (default 5).
    public init(record: MonitorRecord, earlyStepCount: Int = 5) {
        var thresholds = DiagnosisThresholds()
        thresholds.earlyStepCount = earlyStepCount
        let analysis = RecordAnalysis(record: record, network: nil, thresholds: thresholds)
        let finite = record.firstNonfinite == nil && !record.steps.contains(where: analysis.stepIsNonfinite)
        let last = record.steps.last { $0.loss != nil }?.loss
        self.init(lossReached: last, bestLoss: analysis.losses.map(\.value).min(),
                  gradientRatio: analysis.profile?.weights.firstToLast, signalRatio: analysis.profile?.signal?.firstToLast,
                  finite: finite,
                  steps: (record.steps.last?.step ?? -1) + 1)
    }
}

/// Whether a prescription, rerun, improved on the baseline.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// It became finite, or reached a loss lower than the baseline's by more than the tolerance.
    case helped
    /// Its loss is within the tolerance of the baseline's (or both runs went non-finite).
    case didNotHelp = "did_not_help"
    /// It went non-finite where the baseline did not, or reached a higher loss beyond the tolerance.
    case madeWorse = "made_worse"
    /// The rerun could not be done (it threw).
    case couldNotRun = "could_not_run"
}

/// One prescription's rerun: what it reached and the verdict against the baseline.
public struct VerificationEntry: Codable, Sendable, Equatable {
    /// The prescription rerun.
    public var prescription: Prescription
    /// What the rerun reached (nil when it threw).
    public var outcome: RunOutcome?
    /// The computed verdict.
    public var verdict: Verdict
    /// The verdict's reason in numbers (`loss 9.61 → 0.27 (−97%)`).
    public var reason: String
}

/// The before/after comparison of the top prescriptions against the baseline run.
public struct VerificationReport: Codable, Sendable, Equatable {
    /// The run as it was.
    public var baseline: RunOutcome
    /// One entry per rerun prescription, in rank order.
    public var entries: [VerificationEntry]
    /// The relative loss change that counts (default 0.05).
    public var tolerance: Double

    /// The entries that helped, best loss first.
    public var helped: [VerificationEntry] {
        entries.filter { $0.verdict == .helped }.sorted {
            ($0.outcome?.lossReached ?? .infinity) < ($1.outcome?.lossReached ?? .infinity)
        }
    }

    /// Baseline and reruns side by side: loss reached, best loss, first/last ratios of weight
    /// gradient and backward signal, finite, verdict.
    public var table: String {
        func number(_ x: Double?) -> String { x.map(shortNumber) ?? "—" }
        var rows = [["run", "loss reached", "best loss", "first/last ∇W", "first/last δ", "finite", "verdict"]]
        rows.append(["baseline", number(baseline.lossReached), number(baseline.bestLoss), number(baseline.gradientRatio),
                     number(baseline.signalRatio), baseline.finite ? "yes" : "no", ""])
        for entry in entries {
            let o = entry.outcome
            rows.append(["\(entry.prescription.rank). \(entry.prescription.remedy.label)", number(o?.lossReached),
                         number(o?.bestLoss), number(o?.gradientRatio), number(o?.signalRatio), o.map { $0.finite ? "yes" : "no" } ?? "—",
                         entry.verdict.rawValue.replacingOccurrences(of: "_", with: " ")])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.enumerated().map { i, row in
            let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            return i == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n")
    }

    /// One sentence per entry: the remedy, the verdict and its reason.
    public var summary: String {
        entries.map { "\($0.prescription.rank). \($0.prescription.remedy.label): \($0.verdict.rawValue.replacingOccurrences(of: "_", with: " ")) (\($0.reason))" }
            .joined(separator: "\n")
    }
}

extension Doctor {
    /// Reruns the top prescriptions and judges each against the baseline.
    ///
    /// For each of the first `top` prescriptions (by rank) `rerun` trains the same model, data
    /// and seed for the same budget with that remedy applied; an error thrown by `rerun` is
    /// reported as `couldNotRun` with its description and the others still run. Verdicts come
    /// from `judge(_:against:tolerance:)`; a remedy that does not help is listed as such.
    ///
    /// - Parameters:
    ///   - prescriptions: the diagnosis's prescriptions.
    ///   - top: how many to rerun (default 3).
    ///   - baseline: the outcome of the run as it was.
    ///   - tolerance: relative loss change below which a rerun neither helped nor hurt (default 0.05).
    ///   - rerun: trains with one prescription applied and returns its outcome.
    public static func verify(prescriptions: [Prescription], top: Int = 3, baseline: RunOutcome, tolerance: Double = 0.05,
                              rerun: (Prescription) throws -> RunOutcome) -> VerificationReport {
        let chosen = prescriptions.sorted { $0.rank < $1.rank }.prefix(Swift.max(0, top))
        let entries = chosen.map { prescription -> VerificationEntry in
            do {
                let outcome = try rerun(prescription)
                let (verdict, reason) = judge(outcome, against: baseline, tolerance: tolerance)
                return VerificationEntry(prescription: prescription, outcome: outcome, verdict: verdict, reason: reason)
            } catch {
                return VerificationEntry(prescription: prescription, outcome: nil, verdict: .couldNotRun,
                                         reason: "the rerun failed: \(error)")
            }
        }
        return VerificationReport(baseline: baseline, entries: entries, tolerance: tolerance)
    }

    /// The verdict of one rerun against the baseline, with its reason.
    ///
    /// Finiteness first: non-finite → finite is `helped`, finite → non-finite `madeWorse`, both
    /// non-finite `didNotHelp`. Then the loss reached: `after < before − tol·|before|` is
    /// `helped`, `after > before + tol·|before|` is `madeWorse`, anything between `didNotHelp`.
    /// The reason adds the change of the first/last gradient ratio when both are known.
    ///
    /// - Parameters:
    ///   - after: the rerun's outcome.
    ///   - before: the baseline's outcome.
    ///   - tolerance: the relative loss change that counts.
    public static func judge(_ after: RunOutcome, against before: RunOutcome, tolerance: Double = 0.05) -> (Verdict, String) {
        var ratioNote = ""
        if let a = after.gradientRatio, let b = before.gradientRatio {
            ratioNote = "; first/last gradient ratio \(shortNumber(b)) → \(shortNumber(a))"
        }
        if let a = after.signalRatio, let b = before.signalRatio, Swift.abs(Foundation.log10(a / b)) >= 1 {
            ratioNote += "; backward signal first/last \(shortNumber(b)) → \(shortNumber(a))"
        }
        switch (before.finite, after.finite) {
        case (false, true):
            return (.helped, "stays finite where the baseline did not" + (after.lossReached.map { ", loss reached \(shortNumber($0))" } ?? "") + ratioNote)
        case (true, false):
            return (.madeWorse, "went non-finite where the baseline stayed finite" + ratioNote)
        case (false, false):
            return (.didNotHelp, "still goes non-finite" + ratioNote)
        case (true, true):
            break
        }
        guard let a = after.lossReached, let b = before.lossReached else {
            return (.didNotHelp, "no loss to compare" + ratioNote)
        }
        var text = "loss \(shortNumber(b)) → \(shortNumber(a))"
        if b != 0 {
            let change = (a - b) / Swift.abs(b)
            text += " (\(change >= 0 ? "+" : "−")\(percentText(Swift.min(Swift.abs(change), 1e6))))"
        }
        text += ratioNote
        if a < b - tolerance * Swift.abs(b) { return (.helped, text) }
        if a > b + tolerance * Swift.abs(b) { return (.madeWorse, text) }
        return (.didNotHelp, text + ", within \(percentText(tolerance))")
    }
}
