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
    /// The run's section of its report, charts drawn, once its folder was written (nil
    /// otherwise): an experiment's report shows it without drawing the charts again.
    public var reportSection: HTMLSection? = nil
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
    ///   - checkpointEvery: steps between training checkpoints written to the folder
    ///     (`training-checkpoint.safetensors`, for `resume`); 0 writes none.
    public static func train(_ spec: RunSpec, dataFile: URL? = nil, folder: @autoclosure () throws -> RunFolder? = nil,
                             progress: (any TrainingObserver)? = nil, checkpointEvery: Int = 0) throws -> SpecRunOutput {
        let prepared = try prepare(spec, dataFile: dataFile, checkpointEvery: checkpointEvery)
        // The folder is made only now, so that bad input (spec, data) leaves nothing behind.
        let runFolder = try folder()
        let writer = try runFolder.map { try RunWriter(folder: $0, spec: spec, forward: progress) }
        if let runFolder {
            // A new run in an old folder must not be resumed from the old run's checkpoint.
            try? FileManager.default.removeItem(at: runFolder.file(TrainingCheckpoint.fileName))
        }
        return try finish(prepared, spec: spec, writer: writer, folder: runFolder, dataFile: dataFile, progress: progress,
                          checkpoint: nil)
    }

    /// Continues the run in `folder` from its last training checkpoint, with the spec in its
    /// `spec.yaml`, and finishes the folder as `train` would have: the final weights, losses
    /// and record are bit-identical to the run that was never stopped. `metrics.jsonl` is cut
    /// back to the checkpoint's step first, so every step appears in it once.
    ///
    /// - Parameters:
    ///   - folder: the run folder of a `train` run with checkpoints.
    ///   - progress: receives each step and epoch (and may stop the run).
    ///   - checkpointEvery: steps between the checkpoints of the continued run (0: none).
    /// - Throws: `ResumeError` for a folder with no checkpoint or a finished run, the errors of
    ///   `train` and of reading the checkpoint (`CheckpointError`, `TrainingCheckpointError`).
    public static func resume(_ folder: RunFolder, progress: (any TrainingObserver)? = nil,
                              checkpointEvery: Int = 0) throws -> SpecRunOutput {
        guard folder.contains("spec.yaml") else { throw ResumeError.notARunFolder(path: folder.url.path) }
        let checkpointURL = folder.file(TrainingCheckpoint.fileName)
        if folder.contains("summary.json") {
            let summary = try folder.readJSON(RunSummary.self, from: "summary.json")
            if summary.status != .interrupted || !folder.contains(TrainingCheckpoint.fileName) {
                throw ResumeError.finished(path: folder.url.path, status: summary.status)
            }
        }
        guard folder.contains(TrainingCheckpoint.fileName) else { throw ResumeError.noCheckpoint(path: folder.url.path) }
        folder.removeTemporaryFiles()
        let checkpoint = try TrainingCheckpoint(contentsOf: checkpointURL)
        let spec = try RunSpec.load(contentsOf: folder.file("spec.yaml"))
        let dataFile = checkpoint.file.metadata["data_file"].map { URL(fileURLWithPath: $0) }
        let prepared = try prepare(spec, dataFile: dataFile, checkpointEvery: checkpointEvery)
        guard checkpoint.step <= prepared.trainer.options.epochs * prepared.batchesPerEpoch else {
            throw TrainingCheckpointError.mismatch(file: TrainingCheckpoint.fileName,
                                                   detail: "its step \(checkpoint.step) is past the spec's last step")
        }
        let writer = try RunWriter(folder: folder, spec: spec, forward: progress, resumingAt: checkpoint.step)
        writer.lastValidationLoss = try checkpoint.doubles("result.validation_losses", fileName: TrainingCheckpoint.fileName).last
        return try finish(prepared, spec: spec, writer: writer, folder: folder, dataFile: dataFile, progress: progress,
                          checkpoint: checkpoint)
    }

    /// The data, model, optimizer and trainer of a spec, made the same way for a new run and a
    /// resumed one.
    private static func prepare(_ spec: RunSpec, dataFile: URL?, checkpointEvery: Int) throws
        -> (trainer: Trainer, network: NetworkDescription, batchesPerEpoch: Int) {
        let (data, validation) = try spec.loadData(dataFile: dataFile)
        let model = try spec.makeModel(generator: RandomGenerator(seed: spec.train.seed &+ 1))
        let optimizer = try spec.makeOptimizer(parameters: model.parameters)
        let network = NetworkDescription(model: model, learningRate: Double(optimizer.learningRate))
        var options = TrainingOptions(epochs: spec.train.epochs, batchSize: spec.train.batchSize, seed: spec.train.seed,
                                      clipping: spec.train.clip, monitor: spec.doctor.enabled ? spec.monitorSettings : nil)
        options.checkpointEvery = checkpointEvery
        let trainer = Trainer(model: model, data: data, validation: validation, loss: spec.train.loss,
                              optimizer: optimizer, schedule: try spec.makeSchedule(), options: options)
        let batches = DataLoader(data, batchSize: options.batchSize.map { .size($0) } ?? .full).batchesPerEpoch
        return (trainer, network, batches)
    }

    /// Runs a prepared trainer (from `checkpoint` when given), writes the folder and returns
    /// the output.
    private static func finish(_ prepared: (trainer: Trainer, network: NetworkDescription, batchesPerEpoch: Int),
                               spec: RunSpec, writer: RunWriter?, folder: RunFolder?, dataFile: URL?,
                               progress: (any TrainingObserver)?, checkpoint: TrainingCheckpoint?) throws -> SpecRunOutput {
        let trainer = prepared.trainer
        trainer.observer = writer ?? progress
        if let writer, let folder, trainer.options.checkpointEvery > 0 {
            let dataPath = dataFile?.standardizedFileURL.path
            trainer.checkpointSink = { checkpoint in
                var checkpoint = checkpoint
                if let dataPath { checkpoint.file.metadata["data_file"] = dataPath }
                try writer.flush()
                try folder.writeDurably(checkpoint.serialized(), to: TrainingCheckpoint.fileName)
            }
        }
        let result = try trainer.run(name: spec.name, resumingFrom: checkpoint)
        let diagnosis = result.record.map { Doctor.diagnose($0, network: prepared.network) }
        let summary = RunSummary(result, diagnosis: diagnosis)
        var output = SpecRunOutput(spec: spec, result: result, diagnosis: diagnosis, summary: summary)
        if let writer {
            output.reportSection = try writer.finish(output, model: trainer.model)
            // A finished run keeps no training checkpoint (an interrupted one keeps it to resume).
            if let folder, result.status != .interrupted {
                try? FileManager.default.removeItem(at: folder.file(TrainingCheckpoint.fileName))
            }
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

/// A run folder that `gradlab train --resume` cannot continue.
public enum ResumeError: Error, CustomStringConvertible, Equatable {
    /// The folder has no `spec.yaml`.
    case notARunFolder(path: String)
    /// The folder's run wrote no training checkpoint (checkpointing was off, or it was killed
    /// before its first one).
    case noCheckpoint(path: String)
    /// The folder's run ended (`summary.json` says how), so there is nothing to continue.
    case finished(path: String, status: TrainingStatus)

    public var description: String {
        switch self {
        case .notARunFolder(let path): "\(path): not a run folder (no spec.yaml)"
        case .noCheckpoint(let path):
            "\(path): no \(TrainingCheckpoint.fileName) to resume from (the run wrote no checkpoint yet, or ran with --checkpoint-every 0)"
        case .finished(let path, let status): "\(path): the run already ended (\(status.rawValue)); nothing to resume"
        }
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
