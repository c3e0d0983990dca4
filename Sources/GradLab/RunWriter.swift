import Foundation
import GradDoctor
import GradNN
import GradReport
import GradTensor

/// Writes a run folder while the run trains (`metrics.jsonl` line by line, weight histograms
/// to TensorBoard) and when it ends (everything else), forwarding progress to another observer.
final class RunWriter: TrainingObserver {
    let folder: RunFolder
    let spec: RunSpec
    let forward: (any TrainingObserver)?
    private let metrics: MetricsLog
    private let weights: TensorBoardWriter
    private let histogramsEvery: Int
    /// The validation loss of the last finished epoch, written on each step's line.
    var lastValidationLoss: Double?
    /// The first failure to write during training (a full disk): training stops at the next
    /// step and `finish` throws it, leaving what was written intact.
    private var writeFailure: (any Error)?
    /// The weight histograms' tags (`weight/<name>`) and parameters, listed at the first
    /// histogram step: a run's model keeps its parameters (as `Trainer.run` assumes).
    private var weightSeries: (model: ObjectIdentifier, series: [(tag: String, parameter: Parameter<Float>)])?

    /// Starts writing `folder`: a new run (`resumingAt` nil) writes `spec.yaml` and empties
    /// `metrics.jsonl`; a resumed run keeps the lines (and the weight-histogram TensorBoard
    /// events) of the steps before `resumingAt` (those a killed run wrote after its checkpoint
    /// are removed) and appends after them.
    init(folder: RunFolder, spec: RunSpec, forward: (any TrainingObserver)?, resumingAt step: Int? = nil) throws {
        self.folder = folder
        self.spec = spec
        self.forward = forward
        if let step {
            try Self.truncateMetrics(folder, before: step)
            // The weight histograms a killed run wrote at or after the checkpoint's step: the
            // resumed run writes those steps again, into a new file.
            try TensorBoardEventFile.truncateEventFiles(in: folder.url, suffix: ".weights", keepingStepsBefore: step)
            metrics = try MetricsLog(url: folder.file("metrics.jsonl"), mode: .append)
        } else {
            try folder.write(spec.yaml, to: "spec.yaml")
            metrics = try MetricsLog(url: folder.file("metrics.jsonl"))
        }
        weights = try TensorBoardWriter(directory: folder.url, fileSuffix: ".weights")
        histogramsEvery = spec.doctor.enabled ? spec.doctor.histogramsEvery : 0
    }

    /// Rewrites `metrics.jsonl` (atomically) with only its lines of steps before `step`, and
    /// without a last line cut short by a kill.
    static func truncateMetrics(_ folder: RunFolder, before step: Int) throws {
        let url = folder.file("metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        var kept = Data()
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let lineStep = object["step"] as? Int else { continue }
            if lineStep < step {
                kept.append(contentsOf: line)
                kept.append(UInt8(ascii: "\n"))
            }
        }
        try folder.write(kept, to: "metrics.jsonl")
    }

    /// Hands every buffered event to the system and reports a write failure seen so far
    /// (called before each checkpoint, so the files hold every step before it).
    func flush() throws {
        if let writeFailure { throw writeFailure }
        try weights.flush()
    }

    func trainer(didTake step: TrainingStep, model: any Module<Float>) {
        let line = MetricsLine(step: step.step, epoch: step.epoch, loss: step.loss, validationLoss: lastValidationLoss,
                               learningRate: step.learningRate, gradientNorm: step.gradientNorm,
                               clippedNorm: step.clippedNorm, skipped: step.skipped)
        do {
            try metrics.append(line)
            if histogramsEvery > 0 && step.step % histogramsEvery == 0 {
                if weightSeries?.model != ObjectIdentifier(model) {
                    weightSeries = (ObjectIdentifier(model), model.namedParameters.map { (tag: "weight/\($0.0)", parameter: $0.1) })
                }
                for (tag, parameter) in weightSeries!.series {
                    try parameter.value.withUnsafeBufferPointer { try weights.addHistogram(tag, values: $0, step: step.step) }
                }
            }
        } catch {
            if writeFailure == nil { writeFailure = error }
        }
        forward?.trainer(didTake: step, model: model)
    }

    func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>) {
        lastValidationLoss = epoch.validationLoss
        forward?.trainer(didFinish: epoch, model: model)
    }

    func trainerShouldStop() -> Bool { writeFailure != nil || (forward?.trainerShouldStop() ?? false) }

    /// Writes the files that need the whole run: summary, result, CSV, TensorBoard series,
    /// checkpoint, charts and the report; returns the run's section of the report.
    @discardableResult
    func finish(_ output: SpecRunOutput, model: any Module<Float>, verification: VerificationReport? = nil,
                reruns: [SpecRunOutput] = []) throws -> HTMLSection? {
        if let writeFailure { throw writeFailure }
        try metrics.close()
        try weights.close()
        return try RunWriter.writeResults(output, model: model, folder: folder, verification: verification, reruns: reruns)
    }

    /// The files of a finished run (also used to rewrite them after verification); returns the
    /// run's section of the report, charts drawn.
    @discardableResult
    static func writeResults(_ output: SpecRunOutput, model: (any Module<Float>)?, folder: RunFolder,
                             verification: VerificationReport? = nil, reruns: [SpecRunOutput] = []) throws -> HTMLSection? {
        var summary = output.summary
        summary.verification = verification ?? summary.verification
        try folder.writeJSON(output.result, to: "result.json")
        if let model { try saveCheckpoint(model, to: folder.file("checkpoint.safetensors")) }
        if let record = output.result.record {
            try record.safeTensors().write(to: folder.file("record.safetensors"))
            let losses = output.result.stepLosses.enumerated().map { (step: $0.offset, value: $0.element) }
            try TensorBoardWriter.write(record: record, losses: losses, to: folder.url)
            try CSVExport.write(record: record, losses: losses, to: folder.file("metrics.csv"))
        }
        let sections = try writeReport(title: output.spec.name, specYAML: output.spec.yaml, summary: summary,
                                       runs: [output] + reruns, folder: folder)
        // Last: a folder with summary.json is a finished run (sweeps skip it when resumed).
        try folder.writeJSON(summary, to: "summary.json")
        return output.result.record == nil ? nil : sections.first
    }

    /// Writes the charts (`*.svg`) and `report.html` of one run and, with `runs`, of the runs
    /// compared with it.
    /// Returns the sections of the runs with a record, charts drawn (`RunReport.runSection`).
    @discardableResult
    static func writeReport(title: String, specYAML: String?, summary: RunSummary, runs: [SpecRunOutput],
                            folder: RunFolder) throws -> [HTMLSection] {
        let series = runs.map { (name: $0.spec.name, losses: $0.result.epochLosses) }
        try folder.write(RunCharts.lossCurves(series: series, logScale: nil).svg(), to: "loss.svg")
        if let record = runs.first?.result.record {
            try folder.write(RunCharts.gradientFlow(record: record, steps: nil).svg(), to: "gradient_flow.svg")
            try folder.write(RunCharts.gradientNormsOverTime(record: record).svg(), to: "gradient_norms.svg")
            if !RunCharts.recurrentLayers(in: record).isEmpty {
                try folder.write(RunCharts.hiddenGradientNorms(record: record).svg(), to: "hidden_gradients.svg")
            }
        }
        let sections = runs.compactMap { run in run.result.record.map { RunReport.runSection(name: run.spec.name, record: $0).rendered() } }
        let html = RunReport.html(
            title: title, specYAML: specYAML, summary: summary.rows, diagnosis: summary.diagnosis,
            verification: summary.verification,
            runs: runs.map { (name: $0.spec.name, losses: $0.result.epochLosses, record: $0.result.record) },
            runSections: sections)
        try folder.write(html, to: "report.html")
        return sections
    }
}
