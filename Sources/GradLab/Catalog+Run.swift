import Foundation
import GradDoctor
import GradReport

extension CatalogExperiment {
    /// Runs every compared run and computes the conclusion; with `folder`, each run gets its own
    /// run folder inside it (named after the run) and the folder gets the comparison:
    /// `summary.json` and `report.html` with every run.
    ///
    /// - Parameters:
    ///   - seed: the data and weight seed.
    ///   - epochs: overrides the epochs of every run (nil: the experiment's own).
    ///   - folder: where to write (nil: nothing written).
    ///   - progress: receives every run's steps; may stop the experiment.
    public func run(seed: UInt64 = 0, epochs: Int? = nil, folder: RunFolder? = nil,
                    progress: (any TrainingObserver)? = nil) throws -> ExperimentOutput {
        var outputs: [SpecRunOutput] = []
        for spec in try specs(seed: seed, epochs: epochs) {
            if progress?.trainerShouldStop() == true { break }
            let runFolder = try folder.map { try RunFolder($0.url.appendingPathComponent(slug(spec.name))) }
            outputs.append(try SpecRun.train(spec, folder: runFolder, progress: progress))
        }
        let output = ExperimentOutput(experiment: name, setup: summary, runs: outputs, conclusion: conclude(outputs))
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
                        HTMLSection(title: "Runs", blocks: [.preformatted(output.table)])]
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
        let html = RunReport.html(
            title: "\(name): \(summary)", specYAML: nil, summary: [("experiment", name), ("runs", "\(output.runs.count)")],
            diagnosis: nil, verification: nil,
            runs: output.runs.map { (name: $0.spec.name, losses: $0.result.epochLosses, record: $0.result.record) },
            extraSections: sections)
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
/// the conclusion and the total training time.
public struct ExperimentSummary: Codable, Sendable {
    public var experiment: String
    public var setup: String
    public var runs: [RunSummary]
    public var conclusion: String
    public var trainSeconds: Double

    enum CodingKeys: String, CodingKey {
        case experiment, setup, runs, conclusion
        case trainSeconds = "train_seconds"
    }

    /// The summary of an experiment's output.
    public init(_ output: ExperimentOutput) {
        experiment = output.experiment
        setup = output.setup
        runs = output.runs.map(\.summary)
        conclusion = output.conclusion
        trainSeconds = output.runs.reduce(0) { $0 + $1.result.trainSeconds }
    }
}
