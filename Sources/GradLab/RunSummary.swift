import Foundation
import GradDoctor

/// The final figures of one run, as `summary.json` and `--json` print them.
public struct RunSummary: Codable, Sendable {
    /// The run's name.
    public var name: String
    /// `completed`, `nonfinite` or `interrupted`.
    public var status: TrainingStatus
    /// Whether every step stayed finite.
    public var finite: Bool
    /// Epochs run and optimizer steps taken.
    public var epochs: Int
    public var steps: Int
    /// Steps the non-finite guard skipped.
    public var skippedSteps: Int
    /// Mean training loss of the last epoch, and the best one.
    public var finalLoss: Double
    public var bestLoss: Double
    /// Validation loss and accuracy after the last epoch, when there is validation data.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Gradient norm of the first and the last weight at the first recorded step.
    public var firstLayerGradientNorm: Double?
    public var lastLayerGradientNorm: Double?
    /// `first/last` of the two above.
    public var gradientRatio: Double?
    /// Where the first NaN/∞ began, in one line.
    public var nonfiniteOrigin: String?
    /// Why the run stopped early, in one line.
    public var stopReason: String?
    /// Wall-clock seconds of the training loop alone.
    public var trainSeconds: Double
    /// The doctor's diagnosis (nil when the monitor was off).
    public var diagnosis: Diagnosis?
    /// The verification reruns, when asked for.
    public var verification: VerificationReport?

    enum CodingKeys: String, CodingKey {
        case name, status, finite, epochs, steps, diagnosis, verification
        case skippedSteps = "skipped_steps", finalLoss = "final_loss", bestLoss = "best_loss"
        case validationLoss = "validation_loss", validationAccuracy = "validation_accuracy"
        case firstLayerGradientNorm = "first_layer_grad_norm", lastLayerGradientNorm = "last_layer_grad_norm"
        case gradientRatio = "gradient_ratio", nonfiniteOrigin = "nonfinite_origin", stopReason = "stop_reason"
        case trainSeconds = "train_seconds"
    }

    /// The summary of a finished run.
    ///
    /// - Parameters:
    ///   - result: what the trainer returned.
    ///   - diagnosis: the doctor's diagnosis of it.
    public init(_ result: TrainingResult, diagnosis: Diagnosis?) {
        name = result.name
        status = result.status
        finite = result.finite
        epochs = result.epochLosses.count
        steps = result.steps
        skippedSteps = result.skippedSteps
        finalLoss = result.finalLoss
        bestLoss = result.bestLoss
        validationLoss = result.validationLosses.last
        validationAccuracy = result.validationAccuracies.last
        // Weight matrices: `…weight` of linear layers and a recurrent layer's `…weight_ih_l0`
        // (its input weights come first), not normalization layers' scales.
        let weights = result.record?.steps.first?.parameters.filter { p in
            let last = p.name.split(separator: ".").last ?? ""
            return (last == "weight" || last.hasPrefix("weight_ih")) && !p.name.hasSuffix("norm.weight")
        }
        firstLayerGradientNorm = weights?.first?.gradientNorm
        lastLayerGradientNorm = weights?.last?.gradientNorm
        if let first = firstLayerGradientNorm, let last = lastLayerGradientNorm, last > 0 { gradientRatio = first / last }
        nonfiniteOrigin = result.nonfiniteOrigin?.description
        stopReason = result.stopReason
        trainSeconds = result.trainSeconds
        self.diagnosis = diagnosis
    }

    /// The key figures as (label, value) rows, for the terminal and the report.
    public var rows: [(String, String)] {
        var rows: [(String, String)] = [
            ("run", name), ("status", status.rawValue + (skippedSteps > 0 ? " (\(skippedSteps) steps skipped)" : "")),
            ("epochs / steps", "\(epochs) / \(steps)"),
            ("final loss", formatNumber(finalLoss)), ("best loss", formatNumber(bestLoss)),
        ]
        if let validationLoss { rows.append(("validation loss", formatNumber(validationLoss))) }
        if let validationAccuracy { rows.append(("validation accuracy", String(format: "%.1f%%", validationAccuracy * 100))) }
        if let first = firstLayerGradientNorm, let last = lastLayerGradientNorm {
            rows.append(("first / last layer |∇W| at start", "\(formatNumber(first)) / \(formatNumber(last))"))
        }
        if let nonfiniteOrigin { rows.append(("non-finite", nonfiniteOrigin)) }
        rows.append(("train time", String(format: "%.3f s", trainSeconds)))
        return rows
    }

    /// One aligned line per figure, for the terminal (the run's name through `terminalSafe`).
    public var text: String {
        let width = rows.map(\.0.count).max() ?? 0
        var text = rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + terminalSafe($0.1) }
            .joined(separator: "\n")
        if let diagnosis { text += "\n\ndiagnosis: " + diagnosis.summary }
        if let verification { text += "\n\nverification (reruns with each prescription):\n" + verification.table }
        return text
    }
}
