import Foundation
import GradData
import GradDoctor
import GradNN
import GradReport
import GradTensor

extension CatalogExperiment {
    /// Runs every compared run and computes the conclusion; with `folder`, each run gets its own
    /// run folder inside it (named after the run) and the folder gets the comparison:
    /// `summary.json`, `summary.txt`, `report.html` with every run, and the sections' charts.
    ///
    /// Experiments with an analysis (`analyze`) then train the runs it asks for and add its
    /// tables and charts; experiments with a test set score every run on it after each epoch.
    /// - Parameters:
    ///   - seed: the data and weight seed.
    ///   - epochs: overrides the epochs of every run (nil: the experiment's own).
    ///   - folder: where to write (nil: nothing written).
    ///   - progress: receives every run's steps; may stop the experiment. With `jobs` above 1
    ///     its calls come from several threads, one at a time.
    ///   - jobs: how many of the compared runs train at once, each on a thread of its own (runs
    ///     are independent, so their results do not depend on it); the analysis's own runs
    ///     follow one after another.
    public func run(seed: UInt64 = 0, epochs: Int? = nil, folder: RunFolder? = nil,
                    progress: (any TrainingObserver)? = nil, jobs: Int = 1) throws -> ExperimentOutput {
        precondition(jobs >= 1, "CatalogExperiment.run: jobs must be at least 1, got \(jobs)")
        let test = try testSet?()
        func trainOne(_ spec: RunSpec, progress: (any TrainingObserver)?) throws -> (SpecRunOutput, TestScore?) {
            let runFolder = try folder.map { try RunFolder($0.url.appendingPathComponent(slug(spec.name))) }
            guard let test else { return (try SpecRun.train(spec, folder: runFolder, progress: progress), nil) }
            let scorer = TestSetScorer(data: test.data, loss: test.loss, forward: progress)
            let output = try SpecRun.train(spec, folder: runFolder, progress: scorer)
            return (output, scorer.score)
        }
        var outputs: [SpecRunOutput] = []
        var scores: [TestScore?] = []
        let compared = try specs(seed: seed, epochs: epochs)
        if jobs == 1 || compared.count < 2 {
            for spec in compared {
                if progress?.trainerShouldStop() == true { break }
                let (output, score) = try trainOne(spec, progress: progress)
                outputs.append(output)
                scores.append(score)
            }
        } else {
            let serialized = progress.map(SerializedObserver.init)
            let results = try trainConcurrently(compared, jobs: jobs) { spec in
                serialized?.trainerShouldStop() == true ? nil : try trainOne(spec, progress: serialized)
            }
            // As the one-thread loop: the runs up to the first that did not start.
            for result in results {
                guard let (output, score) = result else { break }
                outputs.append(output)
                scores.append(score)
            }
        }
        var output = ExperimentOutput(experiment: name, setup: summary, runs: outputs, conclusion: "", testScores: scores)
        if let analyze {
            var context = ExperimentContext(runs: outputs, testScores: scores, seed: seed, epochs: epochs, trainRun: { try trainOne($0, progress: progress) },
                                            stopRequested: { progress?.trainerShouldStop() == true })
            let analysis = try analyze(&context)
            output.runs = context.runs + analysis.runs
            output.testScores = context.testScores + analysis.testScores
            output.sections = analysis.sections
            output.conclusion = analysis.conclusion
        } else {
            output.conclusion = conclude(outputs)
        }
        if test == nil { output.testScores = [] }
        if let folder { try write(output, to: folder) }
        return output
    }

    /// The comparison files of an experiment's folder.
    func write(_ output: ExperimentOutput, to folder: RunFolder) throws {
        try folder.writeJSON(ExperimentSummary(output), to: "summary.json")
        try folder.write(output.table + "\n\n" + output.conclusion + "\n", to: "summary.txt")
        let series = output.runs.map { (name: $0.spec.name, losses: $0.result.epochLosses) }
        try folder.write(RunCharts.lossCurves(series: series, logScale: nil).svg(), to: "loss.svg")
        var sections = [HTMLSection(title: "Conclusion", blocks: [.paragraph(output.conclusion)]),
                        HTMLSection(title: "Runs", blocks: [.preformatted(output.runsTable)])]
        for section in output.sections {
            var blocks: [HTMLBlock] = []
            if !section.rows.isEmpty { blocks.append(.table(HTMLTable(header: section.columns, textRows: section.rows))) }
            if !section.note.isEmpty { blocks.append(.paragraph(section.note)) }
            if let (file, chart) = section.chart {
                try folder.write(chart.svg(), to: file)
                blocks.append(.chart(chart, caption: section.title))
            }
            sections.append(HTMLSection(title: section.title, blocks: blocks))
        }
        if name == CatalogExperiment.gradientMonitoring.name, let record = output.runs.first?.result.record {
            let warnings = gradientNormWarnings(record)
            let rule = "Warnings when a weight's gradient norm is below \(formatNumber(Self.vanishingWarningNorm)) "
                + "or above \(formatNumber(Self.explodingWarningNorm))."
            let items = warnings.map {
                "\($0.parameter): \($0.kind) at \($0.steps) recorded steps from step \($0.firstStep), "
                    + "norm \(formatNumber($0.smallest))…\(formatNumber($0.largest))"
            }
            sections.append(HTMLSection(title: "Norm thresholds",
                                        blocks: [.paragraph(rule), items.isEmpty ? .paragraph("No warnings.") : .list(items, ordered: false)]))
        }
        // Each run's section as its own report drew it, when every run with a record has one.
        let withRecords = output.runs.filter { $0.result.record != nil }
        let drawn = withRecords.compactMap(\.reportSection)
        let html = RunReport.html(
            title: "\(name): \(summary)", specYAML: nil, summary: [("experiment", name), ("runs", "\(output.runs.count)")],
            diagnosis: nil, verification: nil,
            runs: output.runs.map { (name: $0.spec.name, losses: $0.result.epochLosses, record: $0.result.record) },
            runSections: drawn.count == withRecords.count ? drawn : nil, extraSections: sections)
        try folder.write(html, to: "report.html")
    }
}

/// A file-name-safe form of a run's name (`clip norm 10` → `clip-norm-10`).
func slug(_ name: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
    var out = ""
    for c in name.lowercased() {
        if allowed.contains(c) { out.append(c) } else if out.last != "-" { out.append("-") }
    }
    let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    return trimmed.isEmpty ? "run" : trimmed
}

/// The `--json` form and `summary.json` of an experiment: per-run summaries (with diagnosis),
/// the conclusion and the total training time; with the sections' tables and the runs'
/// held-out scores for experiments that have them.
public struct ExperimentSummary: Codable, Sendable {
    public var experiment: String
    public var setup: String
    public var runs: [RunSummary]
    public var conclusion: String
    public var trainSeconds: Double
    /// The sections' tables (nil for experiments without any).
    public var sections: [ExperimentSectionSummary]?
    /// Each run's held-out score, parallel to `runs` (nil without a test set).
    public var testScores: [TestScore?]?

    enum CodingKeys: String, CodingKey {
        case experiment, setup, runs, conclusion, sections
        case trainSeconds = "train_seconds", testScores = "test_scores"
    }

    /// The summary of an experiment's output.
    public init(_ output: ExperimentOutput) {
        experiment = output.experiment
        setup = output.setup
        runs = output.runs.map(\.summary)
        conclusion = output.conclusion
        trainSeconds = output.runs.reduce(0) { $0 + $1.result.trainSeconds }
        sections = output.sections.isEmpty ? nil : output.sections.map(ExperimentSectionSummary.init)
        testScores = output.testScores.isEmpty ? nil : output.testScores
    }
}

/// One section of an experiment in `summary.json`: its table, note, figures and chart file.
public struct ExperimentSectionSummary: Codable, Sendable {
    /// The heading.
    public var title: String
    /// The column headings.
    public var columns: [String]
    /// The rows, formatted.
    public var rows: [[String]]
    /// The sentence under the table.
    public var note: String
    /// The named figures behind the table (finite ones only: JSON has no NaN or infinity).
    public var figures: [String: Double]
    /// The chart's file in the experiment's folder, if any.
    public var chart: String?

    /// The summary of a section.
    public init(_ section: ExperimentSection) {
        title = section.title
        columns = section.columns
        rows = section.rows
        note = section.note
        figures = section.figures.filter { $0.value.isFinite }
        chart = section.chart?.file
    }
}

/// Scores the model on held-out data after every epoch (evaluation mode, no graph), keeping
/// the latest score, and forwards everything to another observer.
final class TestSetScorer: TrainingObserver {
    let data: Dataset<Float>
    let loss: LossKind
    let forward: (any TrainingObserver)?
    private(set) var score: TestScore?

    init(data: Dataset<Float>, loss: LossKind, forward: (any TrainingObserver)?) {
        self.data = data
        self.loss = loss
        self.forward = forward
    }

    func trainer(didTake step: TrainingStep, model: any Module<Float>) { forward?.trainer(didTake: step, model: model) }

    func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>) {
        model.eval()
        let (value, accuracy) = withoutGradient {
            let output = model(data.features)
            return (Double(loss(output, data).scalar), loss.accuracy(output, data))
        }
        model.train()
        score = TestScore(loss: value, accuracy: accuracy, epoch: epoch.epoch)
        forward?.trainer(didFinish: epoch, model: model)
    }

    func trainerShouldStop() -> Bool { forward?.trainerShouldStop() ?? false }
}

/// Trains `specs` with `train` on up to `jobs` threads, each taking the next spec as it finishes
/// one; returns the results in the specs' order (nil where `train` declined to start). The first
/// error, in the specs' order, is thrown once every started run has finished.
private func trainConcurrently(
    _ specs: [RunSpec], jobs: Int, train: @escaping (RunSpec) throws -> (SpecRunOutput, TestScore?)?
) throws -> [(SpecRunOutput, TestScore?)?] {
    final class Slots: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var results: [Result<(SpecRunOutput, TestScore?)?, any Error>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
    }
    let slots = Slots(count: specs.count)
    // Safe to share: each thread trains runs of its own (see `run(seed:…:jobs:)`).
    nonisolated(unsafe) let train = train
    DispatchQueue.concurrentPerform(iterations: Swift.min(jobs, specs.count)) { _ in
        while true {
            slots.lock.lock()
            let index = slots.next
            slots.next += 1
            slots.lock.unlock()
            guard index < specs.count else { return }
            let result = Result { try train(specs[index]) }
            slots.lock.lock()
            slots.results[index] = result
            slots.lock.unlock()
        }
    }
    return try slots.results.map { try $0!.get() }
}
