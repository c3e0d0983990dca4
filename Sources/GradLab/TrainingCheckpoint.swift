import Foundation
import GradDoctor
import GradNN
import GradTensor

/// Everything a training run needs to continue from a step as if it had never stopped, kept as
/// one `.safetensors` file (`training-checkpoint.safetensors` in the run folder).
///
/// Layout:
/// - `__metadata__`: `format` (`gradlab-training-checkpoint/1`), `progress` (JSON of
///   `TrainingProgress`: step, epoch, batch, random-generator states), `record.*` (the monitor
///   record's own metadata, when the monitor is on) and any `extra` strings of the caller.
/// - `model.<name>`: parameters and buffers under their `state_dict` names (`Checkpoint.swift`).
/// - `optimizer.learning_rate` [1], `optimizer.<index>.<field>` (state tensors, the
///   parameter's shape), `optimizer.<index>.step` (`I64` [1]): `OptimizerState`.
/// - `progress.loss_sum` [1] (`F64`): the current epoch's loss sum so far.
/// - `result.epoch_losses`, `result.validation_losses`, `result.validation_accuracies`,
///   `result.step_losses`, `result.step_gradient_norms` (`F64`): the trainer's history.
/// - `clip.norm_history` (`F64`): AutoClip's sorted global norms.
/// - `record.*`: the monitor's record so far (`MonitorRecord.safeTensors()`).
/// Every floating-point value is stored in its own type, so a resumed run continues bit for bit.
public struct TrainingCheckpoint {
    /// The file name inside a run folder.
    public static let fileName = "training-checkpoint.safetensors"
    /// The `format` value in `__metadata__`.
    public static let format = "gradlab-training-checkpoint/1"

    /// Where the run stood.
    public var progress: TrainingProgress
    /// The tensors and metadata (the layout above).
    public var file: SafeTensors

    /// A checkpoint from its parts (the trainer makes them; see `Trainer.makeCheckpoint`).
    init(progress: TrainingProgress, file: SafeTensors) {
        self.progress = progress
        self.file = file
    }

    /// Reads and checks a checkpoint file.
    ///
    /// - Parameter url: the `.safetensors` file.
    /// - Throws: `CheckpointError` for an unreadable file, `TrainingCheckpointError` for one that
    ///   is not a training checkpoint or whose progress cannot be read.
    public init(contentsOf url: URL) throws {
        let file = try SafeTensors(contentsOf: url)
        let name = url.relativePath
        guard file.metadata["format"] == Self.format else {
            throw TrainingCheckpointError.invalid(file: name, field: "format",
                                                  detail: "expected '\(Self.format)', found '\(file.metadata["format"] ?? "nothing")'")
        }
        guard let text = file.metadata["progress"] else {
            throw TrainingCheckpointError.invalid(file: name, field: "progress", detail: "missing")
        }
        do {
            progress = try JSONDecoder.gradlab().decode(TrainingProgress.self, from: Data(text.utf8))
        } catch {
            throw TrainingCheckpointError.invalid(file: name, field: "progress", detail: "not the expected JSON object: \(error)")
        }
        guard progress.step >= 0, progress.epoch >= 0, progress.batch >= 0, progress.seen >= 0 else {
            throw TrainingCheckpointError.invalid(file: name, field: "progress", detail: "negative step, epoch, batch or count")
        }
        self.file = file
    }

    /// The step the run continues from (steps taken before the checkpoint).
    public var step: Int { progress.step }

    /// The file's bytes.
    public func serialized() -> Data { file.serialized() }

    // MARK: Entries

    /// `F64` values stored under `name` (empty when absent).
    func doubles(_ name: String, fileName: String) throws -> [Double] {
        guard let entry = file[name] else { return [] }
        guard entry.dtype == .float64, entry.shape.count == 1 else {
            throw TrainingCheckpointError.invalid(file: fileName, field: name, detail: "expected a vector of F64, found \(entry.dtype.rawValue) \(entry.shape)")
        }
        return entry.tensor(as: Double.self).scalars
    }

    /// Stores `values` under `name` as an `F64` vector.
    mutating func setDoubles(_ name: String, _ values: [Double]) {
        file.set(name, Tensor<Double>(shape: [values.count], scalars: values))
    }

    /// The monitor record stored under `record.*`, if there is one.
    func record(fileName: String) throws -> MonitorRecord? {
        guard file.metadata["record.format"] != nil else { return nil }
        var recordFile = SafeTensors(metadata: [:])
        for (key, value) in file.metadata where key.hasPrefix("record.") { recordFile.metadata[String(key.dropFirst(7))] = value }
        for name in file.names where name.hasPrefix("record.") { recordFile[String(name.dropFirst(7))] = file[name] }
        return try MonitorRecord(safeTensors: recordFile, path: fileName)
    }

    /// Stores `record` under `record.*`.
    mutating func setRecord(_ record: MonitorRecord) {
        let recordFile = record.safeTensors()
        for (key, value) in recordFile.metadata { file.metadata["record." + key] = value }
        for name in recordFile.names { file["record." + name] = recordFile[name] }
    }
}

/// The scalar part of a training checkpoint (its `progress` metadata, as JSON).
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// Steps taken (the next step's number).
    public var step: Int
    /// The epoch of the next step.
    public var epoch: Int
    /// Batches of `epoch` already trained on.
    public var batch: Int
    /// Examples of `epoch` already trained on (the weight of `progress.loss_sum`).
    public var seen: Int
    /// Seconds the training loop had run so far.
    public var trainSeconds: Double
    /// The state of each dropout layer's generator, in the order the generators first appear
    /// in the model.
    public var generatorStates: [RandomGenerator.State]
    /// Whether the run had stopped early (interrupted): the checkpoint was taken at that step.
    public var interrupted: Bool
}

/// A training checkpoint that cannot be used.
public enum TrainingCheckpointError: Error, CustomStringConvertible, Equatable {
    /// A field of the file is missing or malformed.
    case invalid(file: String, field: String, detail: String)
    /// The file does not fit the run's model or optimizer.
    case mismatch(file: String, detail: String)
    /// The optimizer cannot save its state.
    case notCheckpointable(optimizer: String)

    public var description: String {
        switch self {
        case .invalid(let file, let field, let detail): "\(file): \(field): \(detail)"
        case .mismatch(let file, let detail): "\(file): does not fit this run: \(detail)"
        case .notCheckpointable(let optimizer): "the optimizer \(optimizer) cannot save its state, so the run cannot be checkpointed"
        }
    }
}

// MARK: - Monitor records of resumed runs

extension MonitorRecord {
    /// The record an uninterrupted run would hold: `self` (recorded up to the checkpoint, with
    /// its decimation state) continued with `continuation`, the record of a monitor that ran
    /// after the checkpoint without decimating (every due step and histogram kept); the
    /// monitor's decimation (`settings.capacity`, `histogramCapacity`) is replayed over it.
    ///
    /// - Parameters:
    ///   - continuation: what the resumed monitor recorded (steps ≥ the checkpoint's).
    ///   - settings: the run's monitor settings.
    func continued(with continuation: MonitorRecord, settings: Monitor<Float>.Settings) -> MonitorRecord {
        var merged = self
        for statistics in continuation.steps where (statistics.step / settings.every) % merged.stride == 0 {
            merged.steps.append(statistics)
            if merged.steps.count >= settings.capacity {
                merged.steps = merged.steps.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                merged.stride *= 2
            }
        }
        if settings.histogramsEvery > 0 {
            var index = 0
            let histograms = continuation.histograms
            while index < histograms.count {
                let step = histograms[index].step
                var end = index
                while end < histograms.count && histograms[end].step == step { end += 1 }
                if (step / settings.histogramsEvery) % merged.histogramStride == 0 {
                    merged.histograms.append(contentsOf: histograms[index..<end])
                    if merged.histograms.count >= settings.histogramCapacity {
                        let steps = Array(Set(merged.histograms.map(\.step))).sorted()
                        let kept = Set(steps.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
                        merged.histograms.removeAll { !kept.contains($0.step) }
                        merged.histogramStride *= 2
                    }
                }
                index = end
            }
        }
        merged.skippedSteps += continuation.skippedSteps
        if merged.firstNonfinite == nil { merged.firstNonfinite = continuation.firstNonfinite }
        return merged
    }
}
