import Foundation
import GradData
import GradDoctor
import GradReport

/// One experiment of the catalog: the runs it compares, each a spec, and how its conclusion
/// is computed from their results.
///
/// Most experiments are their listed runs and a `conclude` closure. An experiment that needs
/// more (runs chosen from the first runs' results, a theory table, a chart) also has an
/// `analyze` closure, which gets the finished runs and returns further runs, sections (tables
/// and charts, printed after the runs' table and written into the experiment's folder) and the
/// conclusion; and one that reports accuracy on held-out data names a `testSet`, on which every
/// run's model is scored after each epoch.
public struct CatalogExperiment: Sendable {
    /// The catalog name (`seed-sigmoid-vs-relu`).
    public let name: String
    /// One line for `gradlab list`.
    public let summary: String
    /// The compared runs as spec YAML, with `{seed}` and `{epochs}` to fill in.
    let runs: [(label: String, yaml: String, epochs: Int)]
    /// The conclusion from the finished runs (used when there is no `analyze`).
    let conclude: @Sendable ([SpecRunOutput]) -> String
    /// Further runs, sections and the conclusion, computed after the listed runs; nil for none.
    var analyze: (@Sendable (inout ExperimentContext) throws -> ExperimentAnalysis)? = nil
    /// Held-out data every run is scored on after each epoch (loss and accuracy); nil for none.
    var testSet: (@Sendable () throws -> (data: Dataset<Float>, loss: LossKind))? = nil

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

/// What an experiment's `analyze` closure works with: the finished runs and a way to train more
/// (into the experiment's folder, with its progress observer and test set).
public struct ExperimentContext {
    /// The listed runs, finished, in order.
    public var runs: [SpecRunOutput]
    /// Held-out scores of `runs` (nil entries without a test set).
    public var testScores: [TestScore?]
    /// The experiment's seed.
    public let seed: UInt64
    /// The epochs override of the experiment (nil: each run's own).
    public let epochs: Int?
    /// Trains one more run as the listed runs were trained; returns it with its held-out score.
    let trainRun: (RunSpec) throws -> (SpecRunOutput, TestScore?)
    /// Whether the user asked to stop (Ctrl-C).
    let stopRequested: () -> Bool

    /// Trains one more run (its folder inside the experiment's, scored on the test set if any).
    ///
    /// - Parameter spec: the run.
    public func train(_ spec: RunSpec) throws -> (SpecRunOutput, TestScore?) { try trainRun(spec) }

    /// Whether the user asked to stop; an analysis should then return what it has.
    public var shouldStop: Bool { stopRequested() }
}

/// What an experiment's `analyze` closure adds to its runs.
public struct ExperimentAnalysis: Sendable {
    /// Runs trained by the analysis, after the listed ones.
    public var runs: [SpecRunOutput]
    /// Their held-out scores (parallel to `runs`; nil entries without a test set).
    public var testScores: [TestScore?]
    /// Tables and charts.
    public var sections: [ExperimentSection]
    /// What the numbers show.
    public var conclusion: String

    /// An analysis.
    ///
    /// - Parameters:
    ///   - runs: further runs.
    ///   - testScores: their held-out scores (default: none).
    ///   - sections: tables and charts.
    ///   - conclusion: the conclusion.
    public init(runs: [SpecRunOutput] = [], testScores: [TestScore?]? = nil, sections: [ExperimentSection] = [],
                conclusion: String) {
        self.runs = runs
        self.testScores = testScores ?? Array(repeating: nil, count: runs.count)
        self.sections = sections
        self.conclusion = conclusion
    }
}

/// A run's loss and accuracy on held-out data after its last finished epoch.
public struct TestScore: Codable, Sendable, Equatable {
    /// The loss on the held-out examples.
    public var loss: Double
    /// The fraction classified right (nil for regression losses).
    public var accuracy: Double?
    /// The epoch (0-based) after which it was measured.
    public var epoch: Int

    /// A score.
    public init(loss: Double, accuracy: Double?, epoch: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.epoch = epoch
    }
}

/// A part of an experiment's output beyond the runs' table: a titled table (printed, written
/// to `summary.txt`, `summary.json` and the report), an optional note and an optional chart
/// (written as `chartFile` in the experiment's folder and drawn in the report).
public struct ExperimentSection: Sendable {
    /// The heading.
    public var title: String
    /// The column headings.
    public var columns: [String]
    /// The rows, formatted.
    public var rows: [[String]]
    /// A sentence under the table (what the columns mean); empty for none.
    public var note: String
    /// Named figures behind the table (`measured σ_w=1`), for tests and JSON.
    public var figures: [String: Double]
    /// The chart's file name in the experiment's folder (`atlas.svg`) and the chart; nil for none.
    public var chart: (file: String, chart: any Chart)?

    /// A section.
    ///
    /// - Parameters:
    ///   - title: the heading.
    ///   - columns: column headings.
    ///   - rows: formatted rows (as many cells as columns).
    ///   - note: a sentence under the table.
    ///   - figures: named figures.
    ///   - chart: a chart and its file name.
    public init(title: String, columns: [String], rows: [[String]], note: String = "", figures: [String: Double] = [:],
                chart: (file: String, chart: any Chart)? = nil) {
        precondition(rows.allSatisfy { $0.count == columns.count },
                     "ExperimentSection \(title): rows of \(rows.map(\.count)) cells for \(columns.count) columns")
        self.title = title
        self.columns = columns
        self.rows = rows
        self.note = note
        self.figures = figures
        self.chart = chart
    }

    /// The section as text: the title, a fixed-width table and the note.
    public var text: String {
        var lines = [title, String(repeating: "=", count: title.count)]
        if !rows.isEmpty || !columns.isEmpty { lines.append(fixedWidthTable([columns] + rows)) }
        if !note.isEmpty { lines.append(note) }
        if let chart { lines.append("chart: \(chart.file)") }
        return lines.joined(separator: "\n")
    }
}

/// Rows of cells as a fixed-width table, the first row a header underlined with dashes.
func fixedWidthTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let widths = (0..<header.count).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.enumerated().map { i, row in
        let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        return i == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
    }.joined(separator: "\n")
}

/// The outcome of a catalog experiment: its runs and the conclusion computed from them.
public struct ExperimentOutput: Sendable {
    /// The experiment's name.
    public var experiment: String
    /// What was run, in one sentence.
    public var setup: String
    /// The runs, in the experiment's order (the listed runs, then those its analysis added).
    public var runs: [SpecRunOutput]
    /// What the numbers show.
    public var conclusion: String
    /// Tables and charts beyond the runs' table (empty for most experiments).
    public var sections: [ExperimentSection] = []
    /// Each run's held-out score, parallel to `runs` (nil entries when the experiment has no test set).
    public var testScores: [TestScore?] = []

    /// An output.
    ///
    /// - Parameters:
    ///   - experiment: the experiment's name.
    ///   - setup: what was run.
    ///   - runs: the runs.
    ///   - conclusion: the conclusion.
    ///   - sections: tables and charts.
    ///   - testScores: held-out scores, parallel to `runs` (default: none).
    public init(experiment: String, setup: String, runs: [SpecRunOutput], conclusion: String,
                sections: [ExperimentSection] = [], testScores: [TestScore?] = []) {
        self.experiment = experiment
        self.setup = setup
        self.runs = runs
        self.conclusion = conclusion
        self.sections = sections
        self.testScores = testScores
    }

    /// The run of that name, if any.
    public func run(named name: String) -> SpecRunOutput? { runs.first { $0.spec.name == name } }

    /// The held-out score of the run of that name, if any.
    public func testScore(named name: String) -> TestScore? {
        guard let index = runs.firstIndex(where: { $0.spec.name == name }), index < testScores.count else { return nil }
        return testScores[index]
    }

    /// The section with that title, if any.
    public func section(titled title: String) -> ExperimentSection? { sections.first { $0.title == title } }

    /// A fixed-width comparison table of the runs, followed by the sections' tables.
    public var table: String {
        ([runsTable] + sections.map(\.text)).joined(separator: "\n\n")
    }

    /// A fixed-width comparison table of the runs alone (with test accuracy when measured).
    public var runsTable: String {
        let scored = testScores.contains { $0 != nil }
        var header = ["run", "final loss", "best loss", "first |∇W|", "last |∇W|", "first/last", "finite", "diagnosis"]
        if scored { header.insert("test acc", at: 3) }
        var rows = [header]
        for (index, run) in runs.enumerated() {
            let s = run.summary
            var row = [s.name, formatNumber(s.finalLoss), formatNumber(s.bestLoss),
                       formatNumber(s.firstLayerGradientNorm ?? .nan), formatNumber(s.lastLayerGradientNorm ?? .nan),
                       formatNumber(s.gradientRatio ?? .nan),
                       s.finite ? "yes" : "no (step \(run.result.steps - 1))",
                       run.diagnosis.map(diagnosisWords) ?? "-"]
            if scored {
                let score = index < testScores.count ? testScores[index] : nil
                row.insert(score?.accuracy.map(percent) ?? "-", at: 3)
            }
            rows.append(row)
        }
        return fixedWidthTable(rows)
    }
}

/// A fraction as a percentage with one decimal (`0.6812` → `68.1%`).
func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.1f%%", 100 * x) : formatNumber(x) }

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
        he2015Depth30(), glorot2010Saturation(), residualDepth(), batchNormSigmoid(), edgeOfChaos(), atlas(), mnist1d(),
        addingProblem(), pascanuClipping(),
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
