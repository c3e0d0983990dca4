import Foundation
import GradDoctor

/// One experiment of the catalog: the runs it compares, each a spec, and how its conclusion
/// is computed from their results.
public struct CatalogExperiment: Sendable {
    /// The catalog name (`seed-sigmoid-vs-relu`).
    public let name: String
    /// One line for `gradlab list`.
    public let summary: String
    /// The compared runs as spec YAML, with `{seed}` and `{epochs}` to fill in.
    let runs: [(label: String, yaml: String, epochs: Int)]
    /// The conclusion from the finished runs.
    let conclude: @Sendable ([SpecRunOutput]) -> String

    /// The experiment's runs as specs.
    ///
    /// - Parameters:
    ///   - seed: the data and weight seed of every run.
    ///   - epochs: overrides each run's epochs (for a quick look); nil keeps the experiment's.
    public func specs(seed: UInt64 = 0, epochs: Int? = nil) throws -> [RunSpec] {
        try runs.map { run in
            let text = run.yaml.replacingOccurrences(of: "{seed}", with: "\(seed)")
                .replacingOccurrences(of: "{epochs}", with: "\(epochs ?? run.epochs)")
                .replacingOccurrences(of: "{name}", with: run.label)
            return try RunSpec.parse(text, file: "\(name)/\(run.label)")
        }
    }
}

/// The outcome of a catalog experiment: its runs and the conclusion computed from them.
public struct ExperimentOutput: Sendable {
    /// The experiment's name.
    public var experiment: String
    /// What was run, in one sentence.
    public var setup: String
    /// The runs, in the experiment's order.
    public var runs: [SpecRunOutput]
    /// What the numbers show.
    public var conclusion: String

    /// A fixed-width comparison table of the runs.
    public var table: String {
        var rows = [["run", "final loss", "best loss", "first |∇W|", "last |∇W|", "first/last", "finite", "diagnosis"]]
        for run in runs {
            let s = run.summary
            rows.append([s.name, formatNumber(s.finalLoss), formatNumber(s.bestLoss),
                         formatNumber(s.firstLayerGradientNorm ?? .nan), formatNumber(s.lastLayerGradientNorm ?? .nan),
                         formatNumber(s.gradientRatio ?? .nan),
                         s.finite ? "yes" : "no (step \(run.result.steps - 1))",
                         run.diagnosis.map(diagnosisWords) ?? "-"])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.enumerated().map { i, row in
            let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return i == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n")
    }
}

/// The diagnosis in a few words: the state and the kinds found (`critical: exploding, nonfinite`).
func diagnosisWords(_ d: Diagnosis) -> String {
    d.state.rawValue + ": " + d.findings.map(\.kind.rawValue).joined(separator: ", ")
}

/// A number in at most 4 significant digits, in scientific notation when very large or small.
func formatNumber(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x != 0 && (Swift.abs(x) < 1e-3 || Swift.abs(x) >= 1e5) { return String(format: "%.3e", x) }
    return String(format: "%.4g", x)
}

extension CatalogExperiment {
    /// Every experiment, in `gradlab list` order.
    public static let all: [CatalogExperiment] = [
        sigmoidVsReLU, clipping, xavierVsKaiming, spiralSigmoid, gradientMonitoring, remedies,
    ]

    /// The experiment of that name.
    public static func named(_ name: String) -> CatalogExperiment? { all.first { $0.name == name } }

    /// The seeds' network: 1 → 10 hidden layers of 10 → 1 on `y = 3x + 2 + 0.5ε`, full-batch SGD, MSE.
    static func seedNet(activation: String, lr: Double, extra model: String = "", clip: String = "none",
                        nonfinite: String = "raise") -> String {
        """
        name: "{name}"
        model:
          mlp: {input: 1, hidden: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10], output: 1, activation: \(activation)\(model)}
        data: {kind: linear, seed: {seed}}
        train:
          loss: mse
          optimizer: {type: sgd, lr: \(lr)}
          clip: \(clip)
          epochs: {epochs}
          batch_size: full
          seed: {seed}
        doctor: {every: 1, histograms_every: 10, nonfinite: \(nonfinite)}
        """
    }

    static let sigmoidVsReLU = CatalogExperiment(
        name: "seed-sigmoid-vs-relu",
        summary: "10×10 sigmoid vs ReLU MLP, default init, SGD lr 0.01, 500 epochs: where the gradient vanishes",
        runs: [("sigmoid", seedNet(activation: "sigmoid", lr: 0.01), 500), ("relu", seedNet(activation: "relu", lr: 0.01), 500)],
        conclude: { runs in runs.map(learningSentence).joined(separator: " ") })

    static let clipping = CatalogExperiment(
        name: "seed-clipping",
        summary: "ReLU MLP with weights N(0, 10²), SGD lr 0.1, 50 epochs, without and with clip-norm 10",
        runs: [("no clipping", seedNet(activation: "relu", lr: 0.1, extra: ", init: {type: normal, std: 10}"), 50),
               ("clip norm 10", seedNet(activation: "relu", lr: 0.1, extra: ", init: {type: normal, std: 10}",
                                        clip: "{type: norm, max_norm: 10}"), 50)],
        conclude: { runs in
            runs.map { run in
                let r = run.result
                let initial = r.stepGradientNorms.first.map(formatNumber) ?? "nan"
                if !r.finite {
                    return "\(r.name): non-finite at step \(r.steps - 1) (initial global gradient norm \(initial))"
                        + (r.nonfiniteOrigin.map { "; \($0.description)" } ?? "") + "."
                }
                return "\(r.name): stays finite for \(r.steps) steps, final loss \(formatNumber(r.finalLoss)) "
                    + "(initial global gradient norm \(initial))."
            }.joined(separator: " ")
        })

    static let xavierVsKaiming = CatalogExperiment(
        name: "seed-xavier-vs-kaiming",
        summary: "ReLU MLP with Xavier-uniform vs Kaiming-uniform init, zero biases, SGD lr 0.01, 500 epochs",
        runs: [("xavier_uniform", seedNet(activation: "relu", lr: 0.01, extra: ", init: xavier_uniform, bias_init: zeros"), 500),
               ("kaiming_uniform", seedNet(activation: "relu", lr: 0.01, extra: ", init: kaiming_uniform, bias_init: zeros"), 500)],
        conclude: { runs in runs.map(learningSentence).joined(separator: " ") })

    static let spiralSigmoid = CatalogExperiment(
        name: "seed-spiral-sigmoid",
        summary: "2-class spiral, [2,10,10,10,1] sigmoid MLP, N(0, 0.01²) init, SGD lr 0.01, 1000 steps, BCE",
        runs: [("sigmoid, N(0, 0.01²)", """
            name: "{name}"
            model:
              mlp: {input: 2, hidden: [10, 10, 10], output: 1, activation: sigmoid, output_activation: sigmoid,
                    init: {type: normal, std: 0.01}, bias_init: zeros}
            data: {kind: spiral, count: 1000, seed: {seed}}
            train: {loss: bce, optimizer: {type: sgd, lr: 0.01}, epochs: {epochs}, batch_size: full, seed: {seed}}
            doctor: {every: 1, histograms_every: 10}
            """, 1000)],
        conclude: { runs in
            runs.map { run in
                "\(run.result.name): BCE \(formatNumber(run.result.epochLosses.first ?? .nan)) → \(formatNumber(run.result.finalLoss)) "
                    + "(ln 2 = 0.6931 is chance); " + gradientPhrase(run.summary) + "."
            }.joined(separator: " ")
        })

    /// Gradient norms below this are reported as vanishing by `seed-gradient-monitoring`.
    public static let vanishingWarningNorm = 1e-5
    /// Gradient norms above this are reported as exploding.
    public static let explodingWarningNorm = 1e3

    static let gradientMonitoring = CatalogExperiment(
        name: "seed-gradient-monitoring",
        summary: "gradient histograms per layer every 10 steps and per-layer norm thresholds with warnings, on the 10×10 sigmoid MLP",
        runs: [("sigmoid, monitored", seedNet(activation: "sigmoid", lr: 0.01, nonfinite: "warn"), 500)],
        conclude: { runs in runs.map(monitoringSentence).joined(separator: " ") })

    static let remedies = CatalogExperiment(
        name: "remedies",
        summary: "the 10×10 sigmoid MLP that fails, then each remedy alone: ReLU, Kaiming init, batch norm, residual, clipping",
        runs: [
            ("baseline sigmoid", seedNet(activation: "sigmoid", lr: 0.01), 500),
            ("relu", seedNet(activation: "relu", lr: 0.01), 500),
            ("kaiming init", seedNet(activation: "sigmoid", lr: 0.01, extra: ", init: kaiming_uniform, bias_init: zeros"), 500),
            ("batch norm", seedNet(activation: "sigmoid", lr: 0.01, extra: ", batch_norm: true"), 500),
            ("residual", seedNet(activation: "sigmoid", lr: 0.01, extra: ", residual: true"), 500),
            ("clip norm 1", seedNet(activation: "sigmoid", lr: 0.01, clip: "{type: norm, max_norm: 1}"), 500),
        ],
        conclude: { runs in
            guard let baseline = runs.first, let baseRecord = baseline.result.record else { return "" }
            let before = SpecRun.outcome(baseline.result, baseRecord)
            var lines = ["baseline: loss \(formatNumber(baseline.result.finalLoss)), \(gradientPhrase(baseline.summary))."]
            for run in runs.dropFirst() {
                guard let record = run.result.record else { continue }
                let (verdict, reason) = Doctor.judge(SpecRun.outcome(run.result, record), against: before)
                lines.append("\(run.result.name): \(verdict.rawValue) (\(reason)).")
            }
            return lines.joined(separator: " ")
        })
}

/// "name: loss a → b (learned / did not learn); first-layer gradient ...".
func learningSentence(_ run: SpecRunOutput) -> String {
    let r = run.result
    let first = r.epochLosses.first ?? .nan
    let learned = r.finite && r.finalLoss < 0.5 * first
    return "\(r.name): loss \(formatNumber(first)) → \(formatNumber(r.finalLoss)) (\(learned ? "learned" : "did not learn")); "
        + gradientPhrase(run.summary) + "."
}

/// How the first layer's gradient compares with the last layer's at the start, in words.
func gradientPhrase(_ s: RunSummary) -> String {
    guard let ratio = s.gradientRatio else {
        if s.firstLayerGradientNorm == 0 { return "no gradient reaches the first layer at the start" }
        return "gradient ratio not measured"
    }
    if ratio == 0 {
        return "no gradient reaches the first layer at the start (every unit of some layer is inactive: dead ReLUs)"
    }
    return "first-layer gradient is \(formatNumber(ratio))× the last layer's at the start"
        + (ratio < 1e-2 ? ": the gradient vanishes on its way to the input" : "")
}

/// The warnings of a monitored run: per weight, the recorded steps whose gradient norm fell
/// below `vanishingWarningNorm` or rose above `explodingWarningNorm`.
public func gradientNormWarnings(_ record: MonitorRecord) -> [(parameter: String, kind: String, steps: Int, firstStep: Int, smallest: Double, largest: Double)] {
    var result: [(String, String, Int, Int, Double, Double)] = []
    guard let names = record.steps.first?.parameters.map(\.name) else { return [] }
    for (index, name) in names.enumerated() where name.hasSuffix("weight") {
        let norms = record.steps.compactMap { s -> (Int, Double)? in
            index < s.parameters.count ? (s.step, s.parameters[index].gradientNorm) : nil
        }
        for (kind, test) in [("vanishing", { (x: Double) in x < CatalogExperiment.vanishingWarningNorm }),
                             ("exploding", { (x: Double) in x > CatalogExperiment.explodingWarningNorm || !x.isFinite })] {
            let hits = norms.filter { test($0.1) }
            guard let first = hits.first else { continue }
            result.append((name, kind, hits.count, first.0, hits.map(\.1).min()!, hits.map(\.1).max()!))
        }
    }
    return result
}

func monitoringSentence(_ run: SpecRunOutput) -> String {
    guard let record = run.result.record else { return "\(run.result.name): no record." }
    let warnings = gradientNormWarnings(record)
    let histogramSteps = Set(record.histograms.map(\.step)).count
    var text = "\(run.result.name): \(record.steps.count) steps recorded, gradient histograms at \(histogramSteps) steps. "
    if warnings.isEmpty {
        text += "No layer's gradient norm left [\(formatNumber(CatalogExperiment.vanishingWarningNorm)), \(formatNumber(CatalogExperiment.explodingWarningNorm))]."
    } else {
        text += "Warnings: " + warnings.map { w in
            "\(w.parameter) \(w.kind) at \(w.steps) recorded steps from step \(w.firstStep) (norm \(formatNumber(w.smallest))…\(formatNumber(w.largest)))"
        }.joined(separator: "; ") + "."
    }
    if let diagnosis = run.diagnosis { text += " Diagnosis: \(diagnosisWords(diagnosis))." }
    return text
}
