import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// How a run trains, beyond its model, data and optimizer.
public struct TrainingOptions: Sendable {
    /// Passes over the training set.
    public var epochs: Int
    /// Examples per step; nil trains on the whole set at once (full batch).
    public var batchSize: Int?
    /// Shuffle the examples each epoch (mini-batches only), seeded by `seed`.
    public var shuffle: Bool
    /// Seed of the shuffling.
    public var seed: UInt64
    /// Gradient clipping before each optimizer step.
    public var clipping: GradientClipping
    /// The monitor's settings; nil trains without a monitor (the global norm is still measured).
    public var monitor: Monitor<Float>.Settings?
    /// Steps between training checkpoints handed to `Trainer.checkpointSink` (0: none). A
    /// checkpoint is also taken when the observer stops the run.
    public var checkpointEvery: Int = 0

    /// Options.
    ///
    /// - Parameters:
    ///   - epochs: passes over the data, ≥ 1.
    ///   - batchSize: examples per step (nil: full batch).
    ///   - shuffle: reshuffle every epoch.
    ///   - seed: the shuffling seed.
    ///   - clipping: the clipping rule.
    ///   - monitor: the monitor's settings (nil: no monitor).
    public init(epochs: Int, batchSize: Int? = nil, shuffle: Bool = true, seed: UInt64 = 0,
                clipping: GradientClipping = .none, monitor: Monitor<Float>.Settings? = .init()) {
        precondition(epochs >= 1, "TrainingOptions: epochs must be at least 1, got \(epochs)")
        precondition(batchSize.map { $0 >= 1 } ?? true, "TrainingOptions: batch size must be at least 1")
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.clipping = clipping
        self.monitor = monitor
    }
}

/// What one optimizer step saw, handed to the trainer's observer (logs, TensorBoard, progress).
public struct TrainingStep: Sendable {
    /// The step (0-based, counted over the whole run).
    public var step: Int
    /// The epoch it belongs to (0-based).
    public var epoch: Int
    /// The batch loss.
    public var loss: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    /// Global norm after clipping, when the rule changed the gradients.
    public var clippedNorm: Double?
    /// The learning rate used.
    public var learningRate: Double
    /// Whether the non-finite guard skipped the update.
    public var skipped: Bool
}

/// What one epoch reached, handed to the observer after the epoch.
public struct TrainingEpoch: Sendable {
    /// The epoch (0-based).
    public var epoch: Int
    /// Mean training loss over the epoch's batches (weighted by batch size).
    public var loss: Double
    /// Loss on the validation set after the epoch, when there is one.
    public var validationLoss: Double?
    /// Accuracy on the validation set (classification losses only).
    public var validationAccuracy: Double?
}

/// Receives the trainer's progress. Every method has an empty default.
public protocol TrainingObserver: AnyObject {
    /// After each optimizer step (or skipped step).
    func trainer(didTake step: TrainingStep, model: any Module<Float>)
    /// After each epoch.
    func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>)
    /// Asked before each step; returning true stops training cleanly (Ctrl-C).
    func trainerShouldStop() -> Bool
}

extension TrainingObserver {
    public func trainer(didTake step: TrainingStep, model: any Module<Float>) {}
    public func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>) {}
    public func trainerShouldStop() -> Bool { false }
}

/// How a run ended.
public enum TrainingStatus: String, Codable, Sendable {
    /// Every epoch ran.
    case completed
    /// The non-finite guard raised (mode `raise`), or without a monitor the loss or gradient
    /// became NaN/∞; training stopped at that step.
    case nonfinite
    /// The observer asked to stop (Ctrl-C).
    case interrupted
}

/// A finished run: the loss per epoch, the monitor's record and how the run ended.
public struct TrainingResult: Codable, Sendable {
    /// The run's label.
    public var name: String
    /// Mean training loss of each epoch.
    public var epochLosses: [Double] = []
    /// Validation loss after each epoch (empty without validation data).
    public var validationLosses: [Double] = []
    /// Validation accuracy after each epoch (classification losses with validation data).
    public var validationAccuracies: [Double] = []
    /// Loss of every step, in order (the monitor's record keeps a decimated copy).
    public var stepLosses: [Double] = []
    /// Global gradient norm before clipping at every step.
    public var stepGradientNorms: [Double] = []
    /// Steps taken (including skipped ones).
    public var steps = 0
    /// Steps whose update the guard skipped.
    public var skippedSteps = 0
    /// How the run ended.
    public var status: TrainingStatus = .completed
    /// Where the first NaN/∞ began, when the monitor found one; a one-line reason otherwise.
    public var nonfiniteOrigin: NonfiniteOrigin?
    /// The reason the run stopped early, in one line.
    public var stopReason: String?
    /// The monitor's record (nil when trained without a monitor).
    public var record: MonitorRecord?
    /// Wall-clock seconds of the training loop alone (no data loading, no report).
    public var trainSeconds: Double = 0

    /// Every field but `record`, which a run folder keeps in `record.safetensors` (as JSON it
    /// would be most of the folder's size and writing time).
    enum CodingKeys: String, CodingKey {
        case name, epochLosses, validationLosses, validationAccuracies, stepLosses, stepGradientNorms, steps
        case skippedSteps, status, nonfiniteOrigin, stopReason, trainSeconds
    }

    /// Whether every step stayed finite.
    public var finite: Bool { status != .nonfinite && nonfiniteOrigin == nil && stepLosses.allSatisfy(\.isFinite) }
    /// The last epoch's mean loss.
    public var finalLoss: Double { epochLosses.last ?? stepLosses.last ?? .nan }
    /// The smallest finite epoch loss.
    public var bestLoss: Double { epochLosses.filter(\.isFinite).min() ?? .nan }
}

/// Trains a model: forward, loss, backward, monitor, clipping, optimizer step, in the order of
/// DESIGN.md's data flow; the monitor reads gradients before clipping and before zeroing.
public final class Trainer {
    /// The model being trained.
    public let model: any Module<Float>
    /// The training set.
    public let data: Dataset<Float>
    /// The validation set, if any.
    public let validation: Dataset<Float>?
    /// The loss.
    public let loss: LossKind
    /// The optimizer over the model's parameters.
    public let optimizer: any Optimizer<Float>
    /// The learning-rate schedule, applied at the start of each epoch.
    public let schedule: (any LearningRateSchedule)?
    /// The options.
    public let options: TrainingOptions
    /// Receives progress; may stop the run.
    public weak var observer: (any TrainingObserver)?
    /// Receives a checkpoint every `options.checkpointEvery` steps (and when the observer stops
    /// the run); an error it throws ends the run with that error.
    public var checkpointSink: ((TrainingCheckpoint) throws -> Void)?

    /// A trainer.
    ///
    /// - Parameters:
    ///   - model: the model (put in training mode for the run).
    ///   - data: the training set.
    ///   - validation: a validation set evaluated after each epoch.
    ///   - loss: the loss.
    ///   - optimizer: the optimizer over `model`'s parameters.
    ///   - schedule: a learning-rate schedule stepped per epoch.
    ///   - options: epochs, batch size, clipping, monitor.
    public init(model: any Module<Float>, data: Dataset<Float>, validation: Dataset<Float>? = nil, loss: LossKind,
                optimizer: any Optimizer<Float>, schedule: (any LearningRateSchedule)? = nil, options: TrainingOptions) {
        self.model = model
        self.data = data
        self.validation = validation
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self.options = options
    }

    /// Runs the training loop and returns what happened. A non-finite run or an interruption
    /// ends the run early with its status set; it is not an error.
    ///
    /// With `checkpoint`, the model, optimizer, clipping, random generators, history and
    /// monitor record are first restored from it and training continues at its step: the
    /// result (weights, losses, record) is bit-identical to the run that was never stopped.
    /// The trainer must have been made as that run's was (same spec: model freshly built from
    /// the same seed, same data, optimizer and options).
    /// - Parameters:
    ///   - name: the run's label.
    ///   - checkpoint: a checkpoint of this run to continue from (nil: start at step 0).
    /// A validation set with no examples is skipped (as no validation set).
    /// - Throws: `TrainingError.emptyTrainingSet` for a training set with no examples,
    ///   `OptimizerError` for an invalid clipping rule, `TrainingCheckpointError` or
    ///   `CheckpointError` for a checkpoint that does not fit, and whatever `checkpointSink` throws.
    public func run(name: String, resumingFrom checkpoint: TrainingCheckpoint? = nil) throws -> TrainingResult {
        guard data.count > 0 else { throw TrainingError.emptyTrainingSet }
        var result = TrainingResult(name: name)
        let namedParameters = model.namedParameters
        let clipper = try GradientClipper(options.clipping, namedParameters: namedParameters)
        let generators = dropoutGenerators(of: model)
        let loader = DataLoader(data, batchSize: options.batchSize.map { .size($0) } ?? .full,
                                shuffle: options.shuffle, seed: options.seed)
        var position = (step: 0, epoch: 0, batch: 0, seen: 0, lossSum: 0.0)
        var secondsBefore = 0.0
        var baseRecord: MonitorRecord?
        if let checkpoint {
            let restored = try restore(checkpoint, into: &result, clipper: clipper, generators: generators)
            position = (checkpoint.progress.step, checkpoint.progress.epoch, checkpoint.progress.batch,
                        checkpoint.progress.seen, restored.lossSum)
            secondsBefore = checkpoint.progress.trainSeconds
            baseRecord = restored.record
        }
        // A resumed monitor keeps every due step, and its record is folded into the saved one
        // with the monitor's own decimation (`MonitorRecord.continued`), so the final record
        // is the uninterrupted run's.
        let monitor = options.monitor.map { settings in
            var live = settings
            if baseRecord != nil { live.capacity = Int.max; live.histogramCapacity = Int.max }
            return Monitor(model: model, settings: live)
        }
        defer { monitor?.detach() }
        if let monitor, baseRecord != nil {
            for _ in 0..<position.step { monitor.beginStep() }
        }
        if options.monitor != nil && checkpoint != nil && baseRecord == nil { baseRecord = MonitorRecord() }
        func currentRecord() -> MonitorRecord? {
            guard let monitor, let settings = options.monitor else { return nil }
            return baseRecord.map { $0.continued(with: monitor.record, settings: settings) } ?? monitor.record
        }
        result.stepLosses.reserveCapacity(options.epochs * loader.batchesPerEpoch)
        result.stepGradientNorms.reserveCapacity(options.epochs * loader.batchesPerEpoch)
        model.train()
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { secondsBefore + Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        func saveCheckpoint(epoch: Int, batch: Int, seen: Int, lossSum: Double, interrupted: Bool) throws {
            guard let checkpointSink else { return }
            let progress = TrainingProgress(step: position.step, epoch: epoch, batch: batch, seen: seen, trainSeconds: elapsed(),
                                            generatorStates: generators.map(\.state), interrupted: interrupted)
            try checkpointSink(try makeCheckpoint(progress, lossSum: lossSum, result: result, clipper: clipper, record: currentRecord()))
        }
        var step = position.step
        training: for epoch in position.epoch..<options.epochs {
            if let schedule { optimizer.learningRate = Float(schedule.learningRate(atEpoch: epoch)) }
            let resuming = epoch == position.epoch
            var lossSum = resuming ? position.lossSum : 0.0
            var seen = resuming ? position.seen : 0
            var batchIndex = 0
            for batch in loader.batches(epoch: epoch) {
                if resuming && batchIndex < position.batch {
                    batchIndex += 1
                    continue
                }
                if observer?.trainerShouldStop() == true {
                    result.status = .interrupted
                    result.stopReason = "interrupted at step \(step) (epoch \(epoch))"
                    position.step = step
                    if options.checkpointEvery > 0 {
                        try saveCheckpoint(epoch: epoch, batch: batchIndex, seen: seen, lossSum: lossSum, interrupted: true)
                    }
                    break training
                }
                monitor?.beginStep()
                optimizer.zeroGrad()
                let value = loss(model(batch.features), batch)
                value.backward()
                let lossValue = Double(value.scalar)
                var proceed = true
                if let monitor {
                    do {
                        proceed = try monitor.inspectGradients(loss: value)
                    } catch let error as NonfiniteError {
                        result.nonfiniteOrigin = error.origin
                        result.status = .nonfinite
                        result.stopReason = error.description
                        result.stepLosses.append(lossValue)
                        result.stepGradientNorms.append(monitor.record.steps.last?.globalGradientNorm ?? .nan)
                        step += 1
                        break training
                    }
                }
                var outcome = ClipOutcome(totalNorm: .nan, maxNorm: nil, clipped: false)
                if proceed {
                    outcome = clipper.clip()
                    if let maxNorm = outcome.maxNorm { monitor?.noteClipping(totalNorm: Float(outcome.totalNorm), maxNorm: Float(maxNorm)) }
                    if monitor == nil && (!lossValue.isFinite || !outcome.totalNorm.isFinite) {
                        result.status = .nonfinite
                        result.stopReason = "step \(step): the \(lossValue.isFinite ? "gradient norm" : "loss") is not finite "
                            + "(train with the monitor on to find where it began)"
                        result.stepLosses.append(lossValue)
                        result.stepGradientNorms.append(outcome.totalNorm)
                        step += 1
                        break training
                    }
                    monitor?.beforeUpdate()
                    optimizer.step()
                    monitor?.afterUpdate()
                } else {
                    outcome.totalNorm = monitor?.record.steps.last?.globalGradientNorm ?? .nan
                }
                result.stepLosses.append(lossValue)
                result.stepGradientNorms.append(outcome.totalNorm)
                lossSum += lossValue * Double(batch.count)
                seen += batch.count
                observer?.trainer(didTake: TrainingStep(
                    step: step, epoch: epoch, loss: lossValue, gradientNorm: outcome.totalNorm,
                    clippedNorm: outcome.clipped ? outcome.maxNorm.map { Swift.min($0, outcome.totalNorm) } : nil,
                    learningRate: Double(optimizer.learningRate), skipped: !proceed), model: model)
                step += 1
                batchIndex += 1
                if options.checkpointEvery > 0 && step % options.checkpointEvery == 0 {
                    position.step = step
                    try saveCheckpoint(epoch: epoch, batch: batchIndex, seen: seen, lossSum: lossSum, interrupted: false)
                }
            }
            let epochLoss = seen > 0 ? lossSum / Double(seen) : .nan
            result.epochLosses.append(epochLoss)
            var summary = TrainingEpoch(epoch: epoch, loss: epochLoss)
            if let validation, validation.count > 0 {
                let (validationLoss, accuracy) = evaluate(validation)
                result.validationLosses.append(validationLoss)
                summary.validationLoss = validationLoss
                if let accuracy {
                    result.validationAccuracies.append(accuracy)
                    summary.validationAccuracy = accuracy
                }
            }
            observer?.trainer(didFinish: summary, model: model)
        }
        result.trainSeconds = elapsed()
        result.steps = step
        if let record = currentRecord() {
            result.record = record
            result.skippedSteps = record.skippedSteps
            if result.nonfiniteOrigin == nil { result.nonfiniteOrigin = record.firstNonfinite }
        }
        return result
    }

    /// The loss (and accuracy, for classification losses) on `set` in evaluation mode, without
    /// recording a graph; the model returns to training mode.
    public func evaluate(_ set: Dataset<Float>) -> (loss: Double, accuracy: Double?) {
        model.eval()
        defer { model.train() }
        return withoutGradient {
            let output = model(set.features)
            let value = Double(loss(output, set).scalar)
            return (value, loss.accuracy(output, set))
        }
    }
}

/// A trainer that cannot start.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The training set has no examples, so no step can be taken.
    case emptyTrainingSet

    /// The problem in one line.
    public var description: String {
        switch self {
        case .emptyTrainingSet: "the training set has no examples (expected at least one)"
        }
    }
}

extension LossKind {
    /// The fraction of examples classified right, for classification losses: the arg-max of
    /// the logits against the labels (cross-entropy), or the output thresholded at 0.5
    /// (probabilities, `bce`) or 0 (logits, `bce_with_logits`) against 0/1 targets. Nil for
    /// regression losses.
    public func accuracy(_ output: Tensor<Float>, _ data: Dataset<Float>) -> Double? {
        let rows = output.shape[0]
        guard rows > 0 else { return nil }
        let values = output.scalars
        let columns = output.count / rows
        switch self {
        case .crossEntropy:
            guard let labels = data.labels else { return nil }
            var right = 0
            for r in 0..<rows {
                var best = 0
                for c in 1..<Swift.max(columns, 1) where values[r * columns + c] > values[r * columns + best] { best = c }
                if best == labels[r] { right += 1 }
            }
            return Double(right) / Double(rows)
        case .bce, .bceWithLogits:
            let threshold: Float = self == .bce ? 0.5 : 0
            let targets = data.targets.scalars
            guard targets.count == values.count else { return nil }
            var right = 0
            for i in values.indices where (values[i] > threshold) == (targets[i] > 0.5) { right += 1 }
            return Double(right) / Double(values.count)
        case .mse, .l1, .huber:
            return nil
        }
    }
}
