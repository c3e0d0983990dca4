import Foundation
import GradDoctor
import GradNN
import GradOptim
import GradTensor

extension Trainer {
    /// A checkpoint of the run at `progress`: the model, the optimizer's state, the clipper's
    /// history, the trainer's history and the monitor's record (layout: `TrainingCheckpoint`).
    ///
    /// - Throws: `TrainingCheckpointError.notCheckpointable` for an optimizer that cannot save
    ///   its state.
    func makeCheckpoint(_ progress: TrainingProgress, lossSum: Double, result: TrainingResult,
                        clipper: GradientClipper<Float>, record: MonitorRecord?) throws -> TrainingCheckpoint {
        guard let optimizer = optimizer as? any CheckpointableOptimizer<Float> else {
            throw TrainingCheckpointError.notCheckpointable(optimizer: String(describing: type(of: self.optimizer)))
        }
        var metadata = ["format": TrainingCheckpoint.format]
        if let data = try? JSONEncoder.gradlab().encode(progress) { metadata["progress"] = String(decoding: data, as: UTF8.self) }
        var checkpoint = TrainingCheckpoint(progress: progress, file: SafeTensors(metadata: metadata))
        addCheckpointTensors(of: model, to: &checkpoint.file, prefix: "model.")
        let state = optimizer.exportState()
        checkpoint.file.set("optimizer.learning_rate", Tensor<Float>(shape: [1], scalars: [state.learningRate]))
        for (name, value) in state.tensors { checkpoint.file.set("optimizer." + name, value) }
        for (name, value) in state.counters { checkpoint.file["optimizer." + name] = .int64(shape: [1], values: [Int64(value)]) }
        checkpoint.setDoubles("progress.loss_sum", [lossSum])
        checkpoint.setDoubles("result.epoch_losses", result.epochLosses)
        checkpoint.setDoubles("result.validation_losses", result.validationLosses)
        checkpoint.setDoubles("result.validation_accuracies", result.validationAccuracies)
        checkpoint.setDoubles("result.step_losses", result.stepLosses)
        checkpoint.setDoubles("result.step_gradient_norms", result.stepGradientNorms)
        checkpoint.setDoubles("clip.norm_history", clipper.normHistory)
        if let record { checkpoint.setRecord(record) }
        return checkpoint
    }

    /// Restores the model, optimizer, clipper, generators and history from `checkpoint`; checks
    /// everything before changing anything it can check.
    ///
    /// - Returns: the epoch's loss sum so far and the saved monitor record (nil without one).
    func restore(_ checkpoint: TrainingCheckpoint, into result: inout TrainingResult, clipper: GradientClipper<Float>,
                 generators: [RandomGenerator]) throws -> (lossSum: Double, record: MonitorRecord?) {
        let name = TrainingCheckpoint.fileName
        let file = checkpoint.file
        guard let optimizer = optimizer as? any CheckpointableOptimizer<Float> else {
            throw TrainingCheckpointError.notCheckpointable(optimizer: String(describing: type(of: self.optimizer)))
        }
        // Optimizer state.
        guard let rate = file["optimizer.learning_rate"], rate.dtype == .float32, rate.shape == [1] else {
            throw TrainingCheckpointError.invalid(file: name, field: "optimizer.learning_rate", detail: "missing or not one F32 value")
        }
        var state = OptimizerState<Float>(learningRate: rate.tensor(as: Float.self).scalars[0])
        for entryName in file.names where entryName.hasPrefix("optimizer.") && entryName != "optimizer.learning_rate" {
            let key = String(entryName.dropFirst("optimizer.".count))
            switch file[entryName]! {
            case .float32(let tensor):
                state.tensors.append((key, tensor))
            case .int64(let shape, let values) where shape == [1]:
                state.counters.append((key, Int(values[0])))
            default:
                throw TrainingCheckpointError.invalid(file: name, field: entryName, detail: "expected F32 state or one I64 step count")
            }
        }
        let lossSum = try checkpoint.doubles("progress.loss_sum", fileName: name)
        guard lossSum.count == 1 else {
            throw TrainingCheckpointError.invalid(file: name, field: "progress.loss_sum", detail: "expected one F64 value")
        }
        let history = try checkpoint.doubles("clip.norm_history", fileName: name)
        guard history.allSatisfy(\.isFinite) else {
            throw TrainingCheckpointError.invalid(file: name, field: "clip.norm_history", detail: "holds a value that is not finite")
        }
        let progress = checkpoint.progress
        guard progress.generatorStates.count == generators.count,
              progress.generatorStates.allSatisfy({ $0.words.count == 4 }) else {
            throw TrainingCheckpointError.mismatch(
                file: name, detail: "it has \(progress.generatorStates.count) dropout generator states, the model \(generators.count) generators")
        }
        let stepLosses = try checkpoint.doubles("result.step_losses", fileName: name)
        let stepNorms = try checkpoint.doubles("result.step_gradient_norms", fileName: name)
        guard stepLosses.count == progress.step, stepNorms.count == progress.step else {
            throw TrainingCheckpointError.invalid(file: name, field: "result.step_losses",
                                                  detail: "expected \(progress.step) entries (one per step), found \(stepLosses.count)")
        }
        let record = try checkpoint.record(fileName: name)
        // Apply: the model last among the checked parts, so a bad tensor leaves it unchanged.
        try loadCheckpoint(into: model, from: file, fileName: name, prefix: "model.")
        do {
            try optimizer.restoreState(state)
        } catch {
            throw TrainingCheckpointError.mismatch(file: name, detail: error.description)
        }
        clipper.restoreNormHistory(history)
        for (generator, state) in zip(generators, progress.generatorStates) { generator.state = state }
        result.epochLosses = try checkpoint.doubles("result.epoch_losses", fileName: name)
        result.validationLosses = try checkpoint.doubles("result.validation_losses", fileName: name)
        result.validationAccuracies = try checkpoint.doubles("result.validation_accuracies", fileName: name)
        result.stepLosses = stepLosses
        result.stepGradientNorms = stepNorms
        return (lossSum[0], record)
    }
}

/// The distinct random generators of `model`'s dropout layers, in order of first appearance:
/// the random state a checkpoint saves besides the data loader's (which is a function of the
/// seed and the epoch).
func dropoutGenerators(of model: any Module<Float>) -> [RandomGenerator] {
    var generators: [RandomGenerator] = []
    var seen = Set<ObjectIdentifier>()
    for (_, module) in model.namedModules {
        guard let dropout = module as? Dropout<Float> else { continue }
        if seen.insert(ObjectIdentifier(dropout.generator)).inserted { generators.append(dropout.generator) }
    }
    return generators
}
