import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradReport
import GradTensor

/// One run of a spec: what was trained, what happened, and what the doctor says.
public struct SpecRunOutput: Sendable {
    /// The spec as it ran.
    public var spec: RunSpec
    /// The trainer's result (losses, record, status).
    public var result: TrainingResult
    /// The doctor's diagnosis (nil when the monitor was off).
    public var diagnosis: Diagnosis?
    /// The final figures.
    public var summary: RunSummary
}

/// Trains what a spec describes, with the monitor, and writes the run folder of DESIGN.md:
/// `spec.yaml`, `metrics.jsonl`, `metrics.csv`, `summary.json`, `result.json`, `report.html`,
/// `*.svg`, TensorBoard events and `checkpoint.safetensors`.
public enum SpecRun {
    /// Trains `spec` and returns its result and diagnosis; with `folder`, writes the run folder.
    ///
    /// The data are drawn with `train.seed`, the initial weights with `train.seed + 1`, so that
    /// runs of one experiment that differ in one setting start from the same data.
    /// - Parameters:
    ///   - spec: the run.
    ///   - dataFile: a CSV file replacing the spec's data (`--data`).
    ///   - folder: where to write the run's files (nil: nothing written); evaluated after the
    ///     data, model and optimizer were made.
    ///   - progress: receives each step and epoch (and may stop the run).
    ///   - network: receives the model before training (for callers that need it).
    public static func train(_ spec: RunSpec, dataFile: URL? = nil, folder: @autoclosure () throws -> RunFolder? = nil,
                             progress: (any TrainingObserver)? = nil) throws -> SpecRunOutput {
        let (data, validation) = try spec.loadData(dataFile: dataFile)
        let model = try spec.makeModel(generator: RandomGenerator(seed: spec.train.seed &+ 1))
        let optimizer = try spec.makeOptimizer(parameters: model.parameters)
        let network = NetworkDescription(model: model, learningRate: Double(optimizer.learningRate))
        let options = TrainingOptions(epochs: spec.train.epochs, batchSize: spec.train.batchSize, seed: spec.train.seed,
                                      clipping: spec.train.clip, monitor: spec.doctor.enabled ? spec.monitorSettings : nil)
        let trainer = Trainer(model: model, data: data, validation: validation, loss: spec.train.loss,
                              optimizer: optimizer, schedule: try spec.makeSchedule(), options: options)
        // The folder is made only now, so that bad input (spec, data) leaves nothing behind.
        let writer = try folder().map { try RunWriter(folder: $0, spec: spec, forward: progress) }
        trainer.observer = writer ?? progress
        let result = try trainer.run(name: spec.name)
        let diagnosis = result.record.map { Doctor.diagnose($0, network: network) }
        let summary = RunSummary(result, diagnosis: diagnosis)
        let output = SpecRunOutput(spec: spec, result: result, diagnosis: diagnosis, summary: summary)
        if let writer {
            try writer.finish(output, model: model)
        }
        return output
    }

    /// Reruns `spec` with each of the diagnosis's top prescriptions applied, for the same
    /// budget, and judges each against the baseline (`Doctor.verify`).
    ///
    /// - Parameters:
    ///   - baseline: the run as it was.
    ///   - top: how many prescriptions to try.
    ///   - dataFile: the `--data` file of the baseline.
    ///   - rerunFolder: makes the folder of each rerun (nil: reruns are not written).
    public static func verify(_ baseline: SpecRunOutput, top: Int = 3, dataFile: URL? = nil,
                              rerunFolder: ((Int, Prescription) throws -> RunFolder)? = nil) -> (VerificationReport, [SpecRunOutput]) {
        guard let diagnosis = baseline.diagnosis, let record = baseline.result.record else {
            let outcome = RunOutcome(lossReached: baseline.result.finalLoss, gradientRatio: nil,
                                     finite: baseline.result.finite, steps: baseline.result.steps)
            return (Doctor.verify(prescriptions: [], baseline: outcome) { _ in outcome }, [])
        }
        var reruns: [SpecRunOutput] = []
        var index = 0
        let report = Doctor.verify(prescriptions: diagnosis.prescriptions, top: top, baseline: outcome(baseline.result, record)) { prescription in
            index += 1
            var spec = try baseline.spec.applying(prescription.remedy)
            spec.name = "\(baseline.spec.name) + \(prescription.remedy.label)"
            let folder = try rerunFolder?(index, prescription)
            let rerun = try train(spec, dataFile: dataFile, folder: folder)
            reruns.append(rerun)
            guard let rerunRecord = rerun.result.record else { throw SpecRunError.noRecord }
            return outcome(rerun.result, rerunRecord)
        }
        return (report, reruns)
    }

    /// The verification outcome of a run: the record's figures, with the loss reached taken as
    /// the last epoch's mean loss (what the run's summary reports).
    static func outcome(_ result: TrainingResult, _ record: MonitorRecord) -> RunOutcome {
        let fromRecord = RunOutcome(record: record)
        return RunOutcome(lossReached: result.finite ? result.finalLoss : nil, bestLoss: result.bestLoss,
                          gradientRatio: fromRecord.gradientRatio, signalRatio: fromRecord.signalRatio,
                          finite: result.finite && fromRecord.finite, steps: result.steps)
    }
}

/// A run that cannot be verified.
public enum SpecRunError: Error, CustomStringConvertible {
    /// The rerun had no monitor record.
    case noRecord

    public var description: String { "the rerun recorded no statistics (doctor.enabled is false)" }
}

extension SpecRun {
    /// Rewrites a finished run's summary and report to include its verification reruns (the
    /// checkpoint and logs are left as written).
    public static func rewriteResults(_ output: SpecRunOutput, folder: RunFolder, verification: VerificationReport,
                                      reruns: [SpecRunOutput]) throws {
        try RunWriter.writeResults(output, model: nil, folder: folder, verification: verification, reruns: reruns)
    }
}

extension SpecRun {
    /// Rebuilds a run folder's charts and `report.html` from its `spec.yaml`, `result.json`
    /// and `summary.json` (with the verification reruns in `verify-*` folders).
    public static func rebuildReport(_ folder: RunFolder) throws {
        let spec = try RunSpec.load(contentsOf: folder.file("spec.yaml"))
        let result = try readResult(folder)
        let summary = try folder.readJSON(RunSummary.self, from: "summary.json")
        var reruns: [SpecRunOutput] = []
        for index in 1... {
            let child = RunFolder(unchecked: folder.url.appendingPathComponent("verify-\(index)"))
            guard child.contains("result.json") else { break }
            let rerunSpec = try RunSpec.load(contentsOf: child.file("spec.yaml"))
            let rerunResult = try readResult(child)
            let rerunSummary = try child.readJSON(RunSummary.self, from: "summary.json")
            reruns.append(SpecRunOutput(spec: rerunSpec, result: rerunResult, diagnosis: rerunSummary.diagnosis, summary: rerunSummary))
        }
        let output = SpecRunOutput(spec: spec, result: result, diagnosis: summary.diagnosis, summary: summary)
        try RunWriter.writeReport(title: spec.name, specYAML: spec.yaml, summary: summary, runs: [output] + reruns, folder: folder)
    }

    /// A finished run's `result.json` with its record from `record.safetensors` (when there is one).
    static func readResult(_ folder: RunFolder) throws -> TrainingResult {
        var result = try folder.readJSON(TrainingResult.self, from: "result.json")
        if folder.contains("record.safetensors") {
            let file = folder.file("record.safetensors")
            result.record = try MonitorRecord(safeTensors: SafeTensors(contentsOf: file), path: file.path)
        }
        return result
    }
}
