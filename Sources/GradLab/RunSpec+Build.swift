import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradTensor

// From a validated spec to the objects a run needs: the model, the data, the optimizer, the
// schedule and the monitor's settings. Errors found here (a data set whose width does not
// match the model) are `SpecError`s naming the spec's key and, when
// the spec came from a file, its line and column; data errors (`DataError`) pass through.

extension RunSpec {
    /// The network the spec describes, in `Float`, with the parameter names of the equivalent
    /// `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, ...).
    ///
    /// MLP shorthand: `Linear, activation, ..., Linear` (+ output activation), initialized by
    /// `init`/`bias_init` (a gain or Kaiming nonlinearity left out follows `activation`).
    /// Layer lists: the layers in order; a `linear`'s initializer takes its nonlinearity from
    /// the next activation in the list.
    /// - Parameter generator: the random source of every initialization.
    /// With `batch_norm`, `BatchNorm1d` follows each hidden `Linear`; with `residual`, each hidden
    /// layer after the first that keeps its input's width becomes a residual block (names
    /// `2.body.0.weight`, ...), as `Sequential.mlp(..., batchNorm:residual:)` builds them.
    /// - Throws: `SpecError.invalid` for keys that do not fit together (see `validate()`), an
    ///   initializer that cannot run, or a model too large for the machine's memory
    ///   (`checkResources()`, before anything is allocated).
    public func makeModel(generator: RandomGenerator) throws -> Sequential<Float> {
        try validate()
        try checkResources()
        switch model {
        case .mlp(let mlp):
            // Linear, [BatchNorm1d], act per hidden layer; with `residual`, each later hidden layer
            // that keeps its input's width is one `Residual` block `x + F(x)`.
            let network = Sequential<Float>.mlp(
                inputSize: mlp.input, hiddenSizes: mlp.hidden, outputSize: mlp.output, activation: mlp.activation,
                outputActivation: mlp.outputActivation, batchNorm: mlp.batchNorm, residual: mlp.residual,
                residualScaling: mlp.residualScaling, generator: generator)
            if mlp.initializer != .default || mlp.biasInitializer != nil {
                do {
                    try initializeLinearLayers(in: network, weight: mlp.initializer, bias: mlp.biasInitializer ?? .default,
                                               activation: mlp.activation.rawValue, generator: generator)
                } catch let error as InitializerError {
                    throw specError("model.mlp.init", error.description)
                }
            }
            return network
        case .layers(let layers):
            var modules: [any Module<Float>] = []
            for (index, layer) in layers.enumerated() {
                modules.append(try makeLayer(layer, index: index, in: layers, generator: generator))
            }
            return Sequential(modules)
        }
    }

    /// One entry of a layer list as a module.
    private func makeLayer(_ layer: LayerSpec, index: Int, in layers: [LayerSpec], generator: RandomGenerator) throws -> any Module<Float> {
        let path = "model.layers[\(index)].\(layer.name)"
        switch layer {
        case .linear(let inFeatures, let outFeatures, let bias, let initializer, let biasInitializer):
            let linear = Linear<Float>(inFeatures, outFeatures, bias: bias, generator: generator)
            if initializer != .default || biasInitializer != nil {
                let (activation, parameter) = LayerSpec.nonlinearity(after: index, in: layers)
                do {
                    try initializer.apply(to: linear.weight, activation: activation, activationParameter: parameter,
                                          fanIn: inFeatures, generator: generator)
                    if let b = linear.bias {
                        try (biasInitializer ?? .default).apply(to: b, activation: activation, activationParameter: parameter,
                                                                fanIn: inFeatures, generator: generator)
                    }
                } catch let error as InitializerError {
                    throw specError("\(path).init", error.description)
                }
            }
            return linear
        case .sigmoid: return Sigmoid<Float>()
        case .tanh: return Tanh<Float>()
        case .relu: return ReLU<Float>()
        case .leakyReLU(let slope): return LeakyReLU<Float>(negativeSlope: Float(slope))
        case .prelu(let count, let initial): return PReLU<Float>(parameterCount: count, initialValue: Float(initial))
        case .elu(let alpha): return ELU<Float>(alpha: Float(alpha))
        case .selu: return SELU<Float>()
        case .gelu(let tanh): return GELU<Float>(approximateTanh: tanh)
        case .softplus(let beta, let threshold): return Softplus<Float>(beta: Float(beta), threshold: Float(threshold))
        case .silu: return SiLU<Float>()
        case .hardtanh(let low, let high): return Hardtanh<Float>(minValue: Float(low), maxValue: Float(high))
        case .softsign: return Softsign<Float>()
        case .flatten(let startDim): return Flatten<Float>(startAxis: startDim)
        case .identity: return Identity<Float>()
        case .batchNorm(let features, let eps, let momentum): return BatchNorm1d<Float>(numFeatures: features, eps: eps, momentum: momentum)
        case .layerNorm(let features, let eps): return LayerNorm<Float>(normalizedShape: [features], eps: eps)
        case .dropout(let p): return Dropout<Float>(p: p, generator: generator)
        case .lastStep: return LastStep<Float>(batchFirst: true)
        case .recurrent(let r):
            let network: any RecurrentModule<Float>
            switch r.cell {
            case .rnn:
                network = RNN<Float>(r.input, r.hidden, numLayers: r.layers, nonlinearity: r.nonlinearity, bias: r.bias,
                                     batchFirst: true, orthogonalRecurrentWeights: r.orthogonal, generator: generator)
            case .lstm:
                network = LSTM<Float>(r.input, r.hidden, numLayers: r.layers, bias: r.bias, batchFirst: true,
                                      forgetGateBias: r.forgetBias, orthogonalRecurrentWeights: r.orthogonal, generator: generator)
            case .gru:
                network = GRU<Float>(r.input, r.hidden, numLayers: r.layers, bias: r.bias, batchFirst: true,
                                     orthogonalRecurrentWeights: r.orthogonal, generator: generator)
            }
            if r.orthogonal && r.orthogonalGain != 1 {
                for layer in network.layers { layer.weightHH.assign(layer.weightHH.value * Float(r.orthogonalGain)) }
            }
            // First in the list it reads the data's rows [n, T·input] as sequences [n, T, input].
            return index == 0 ? SequenceInput(network) : network
        }
    }

    /// The training set and the validation set (nil without `validation`), in `Float`.
    ///
    /// Synthetic kinds are drawn with `data.seed`; bundled sets, CSV and IDX files are read
    /// (relative paths were resolved against the spec's folder when it was parsed). Then
    /// `validation` holds out that fraction (seeded by `data.seed`, `Dataset.split`) and
    /// `standardize` fits the features' mean and standard deviation on the training rows.
    /// - Parameter dataFile: a CSV file that replaces the spec's `path` (the CLI's `--data`),
    ///   or turns the data into `kind: csv` with the defaults (integer labels when the loss is
    ///   `cross_entropy`, regression targets otherwise); relative to the working directory.
    /// Numeric class labels in a CSV or IDX file are checked against the model's outputs when
    /// they give the classes (`cross_entropy`, one-hot targets): a label out of range is a
    /// `DataError` naming its cell or byte. Features beyond ±1.8e19 (whose squares overflow
    /// `Float`) must be standardized, and `mse` targets must stay below that too.
    /// - Throws: `DataError` unchanged for unreadable, too large or malformed data files;
    ///   `SpecError` when the model's input width differs from the data's features or its output
    ///   width from the targets (classes for `cross_entropy`), naming `model.mlp.input` etc., for
    ///   values too large to train on in `Float`, and when the run would not fit in memory
    ///   (`checkResources`, checked before the data are generated and again once they are read).
    public func loadData(dataFile: URL? = nil) throws -> (train: Dataset<Float>, validation: Dataset<Float>?) {
        try checkResources()
        var source = data.source
        if let dataFile {
            if case .csv(var csv) = source {
                csv.path = dataFile.path
                source = .csv(csv)
            } else {
                source = .csv(CSVSource(path: dataFile.path, task: train.loss == .crossEntropy ? .classification(.index) : .regression))
            }
        }
        var classCount: Int?
        var csvParts: (train: Dataset<Float>, validation: Dataset<Float>?, names: [String], target: String)?
        let full: Dataset<Float>
        // The classes a classifier's outputs stand for, when the model says (not per step).
        let modelClasses = model.writesSequences || model.outputWidth < 1 ? nil : model.outputWidth
        switch source {
        case .linear(let count, let noise, let slope, let intercept):
            full = SyntheticData.linear(count: count, slope: slope, intercept: intercept, noise: noise, seed: data.seed, as: Float.self)
        case .spiral(let count, let classes):
            full = SyntheticData.spiral(count: count, classes: classes, seed: data.seed, as: Float.self)
        case .xor(let count, let noise):
            full = SyntheticData.xor(count: count, noise: noise, seed: data.seed, as: Float.self)
        case .circles(let count, let noise, let factor):
            full = SyntheticData.circles(count: count, noise: noise, factor: factor, seed: data.seed, as: Float.self)
        case .parity(let bits, let count, let signed):
            full = SyntheticData.parity(bits: bits, count: count, signed: signed, seed: data.seed, as: Float.self)
        case .digits(let labels):
            full = try BundledData.digits(encoding: labels, as: Float.self)
        case .mnist1d(let split, let labels):
            full = try BundledData.mnist1d(split: split, encoding: labels, as: Float.self)
        case .adding(let count, let length):
            full = try SyntheticData.adding(count: count, length: length, seed: data.seed, as: Float.self)
        case .copy(let count, let symbols, let length, let delay):
            full = try SyntheticData.copyTask(count: count, symbols: symbols, length: length, delay: delay, seed: data.seed, as: Float.self)
        case .paritySequence(let count, let length, let running, let signed):
            full = try SyntheticData.paritySequence(count: count, length: length, running: running, signed: signed,
                                                    seed: data.seed, as: Float.self)
        case .csv(let csv):
            let url = dataFile ?? URL(fileURLWithPath: csv.path)
            // The split and the standardization happen in the loader, in Double, before the
            // conversion to Float (so a column of 1e39 can still be standardized).
            var options = CSVOptions(header: csv.header, target: csv.target, task: csv.task,
                                     delimiter: csv.delimiter.asciiValue ?? UInt8(ascii: ","), standardize: data.standardize,
                                     validationFraction: data.validation, seed: data.seed)
            if case .classification(let encoding) = csv.task, encoding == .oneHot || train.loss == .crossEntropy {
                options.classCount = modelClasses
            }
            let loaded = try CSVLoader.load(contentsOf: url, options: options, as: Float.self)
            full = loaded.train
            classCount = loaded.classCount
            csvParts = (loaded.train, loaded.validation, loaded.featureNames, loaded.targetName)
        case .idx(let images, let labels, let scale, let encoding):
            full = try IDXLoader.load(images: URL(fileURLWithPath: images), labels: URL(fileURLWithPath: labels), scale: scale,
                                      classCount: encoding == .oneHot || train.loss == .crossEntropy ? modelClasses : nil,
                                      encoding: encoding, as: Float.self)
        }
        try checkWidths(full, classCount: classCount, kind: source.kind, layout: source.sequenceLayout)

        var trainSet = full
        var validationSet: Dataset<Float>?
        if let csvParts {
            validationSet = csvParts.validation.flatMap { $0.count > 0 ? $0 : nil }
        } else {
            if data.validation > 0 {
                let (trainPart, validationPart) = full.split(validationFraction: data.validation, seed: data.seed)
                trainSet = trainPart
                validationSet = validationPart.count > 0 ? validationPart : nil
            }
            if data.standardize {
                let fitted = Standardization(fitting: trainSet.features)
                trainSet = fitted.apply(to: trainSet)
                validationSet = validationSet.map { fitted.apply(to: $0) }
            }
        }
        guard trainSet.count > 0 else {
            throw specError("data", "the training set has no examples (\(source.kind) gave \(full.count) and validation holds out \(data.validation))")
        }
        let names = csvParts.map { ($0.names, $0.target) }
        try checkMagnitudes(trainSet, kind: source.kind, file: source.filePath, names: names)
        if let validationSet { try checkMagnitudes(validationSet, kind: source.kind, file: source.filePath, names: names) }
        try checkResources(trainingRows: trainSet.count, featureCount: trainSet.features.shape[1])
        return (trainSet, validationSet)
    }

    /// The largest magnitude a feature or an `mse` target may have: √`Float.greatestFiniteMagnitude`
    /// ≈ 1.8e19, beyond which a square (a loss term, a gradient norm) overflows `Float`.
    public static let largestTrainableMagnitude = Double(Float.greatestFiniteMagnitude).squareRoot()

    /// Throws when a feature column (after standardization, if on) or, for `mse`, a target
    /// column holds a value beyond `largestTrainableMagnitude`: training on it would overflow
    /// `Float` at the first step, so it is refused with the column and the remedy instead.
    private func checkMagnitudes(_ set: Dataset<Float>, kind: String, file: String?,
                                 names: (features: [String], target: String)?) throws(SpecError) {
        let bound = Float(Self.largestTrainableMagnitude)
        let source = file.map { "\(kind) file \(specQuoted($0, limit: 120))" } ?? kind
        func largest(_ tensor: Tensor<Float>) -> (column: Int, value: Float)? {
            let columns = tensor.shape[1]
            var found: (column: Int, value: Float)?
            tensor.withUnsafeBufferPointer { x in
                for index in 0..<x.count where Swift.abs(x[index]) > bound && Swift.abs(x[index]) > Swift.abs(found?.value ?? 0) {
                    found = (index % columns, x[index])
                }
            }
            return found
        }
        if let (column, value) = largest(set.features) {
            let name = names.map { "column '\(specQuoted($0.features[column], limit: 40))'" } ?? "feature \(column + 1)"
            // At the `standardize` key when the spec has one, else at `data`.
            let path = self.source?.locations["data.standardize"] != nil ? "data.standardize" : "data"
            throw specError(path, "\(source): \(name) holds \(value), beyond ±\(String(format: "%.1e", Self.largestTrainableMagnitude)) "
                            + "where 32-bit floats overflow in a layer's sums and squares (set data.standardize: true, or rescale the column)")
        }
        if train.loss == .mse, let (column, value) = largest(set.targets) {
            let name = names.map { "target '\(specQuoted($0.target, limit: 40))'" } ?? "target \(column + 1)"
            throw specError("train.loss", "\(source): \(name) holds \(value), beyond ±\(String(format: "%.1e", Self.largestTrainableMagnitude)) "
                            + "where mse's squared errors overflow 32-bit floats (rescale the targets, or use l1 or huber)")
        }
    }

    /// Checks the model's input width against the features and its output width against the
    /// targets (the classes for cross-entropy); for a model that reads sequences, that the rows
    /// hold whole steps of its `input` features, and for one that outputs sequences, that the
    /// targets have one entry (class index for cross-entropy) per step and output.
    private func checkWidths(_ full: Dataset<Float>, classCount: Int?, kind: String, layout: SequenceLayout?) throws(SpecError) {
        let (inputPath, outputPath) = widthPaths
        let features = full.features.shape[1]
        if model.readsSequences {
            let channels = model.inputWidth
            if let layout, layout.channels != channels {
                throw specError(inputPath, "expected \(layout.channels) to match the data (\(kind) has \(layout.steps) steps × \(layout.channels) "
                                + "channel\(layout.channels == 1 ? "" : "s") per example, flattened to \(features) features), found \(channels)")
            }
            if layout == nil && features % channels != 0 {
                throw specError(inputPath, "expected a divisor of \(features) to match the data (\(kind) has \(features) features per example, "
                                + "read as steps of input features each), found \(channels)")
            }
            try checkOutputs(full, classCount: classCount, kind: kind, steps: features / channels, outputPath: outputPath)
            return
        }
        if model.inputWidth != features {
            let shape = layout.map { " (\($0.steps) steps × \($0.channels) channel\($0.channels == 1 ? "" : "s"), flattened)" } ?? ""
            throw specError(inputPath, "expected \(features) to match the data (\(kind) has \(features) feature\(features == 1 ? "" : "s") per example\(shape)), found \(model.inputWidth)")
        }
        let targetWidth = full.targets.shape[1]
        if train.loss == .crossEntropy {
            guard let labels = full.labels else {
                throw specError("train.loss", "cross_entropy needs class labels, but data kind \(kind) has regression targets"
                                + (kind == "csv" ? " (set data.labels: integer)" : " (use mse or l1)"))
            }
            let classes = targetWidth > 1 ? targetWidth : (classCount ?? ((labels.max() ?? 0) + 1))
            if model.outputWidth != classes {
                throw specError(outputPath, "expected \(classes) to match the data (\(kind) has \(classes) classes for cross_entropy), found \(model.outputWidth)")
            }
        } else if model.outputWidth != targetWidth {
            throw specError(outputPath, "expected \(targetWidth) to match the data (\(kind) has \(targetWidth) target\(targetWidth == 1 ? "" : "s") per example), found \(model.outputWidth)")
        }
    }

    /// Checks the output width of a model that reads sequences of `steps` steps.
    private func checkOutputs(_ full: Dataset<Float>, classCount: Int?, kind: String, steps: Int, outputPath: String) throws(SpecError) {
        let targetWidth = full.targets.shape[1]
        let width = model.outputWidth
        guard model.writesSequences else {
            if train.loss == .crossEntropy {
                guard let labels = full.labels else {
                    throw specError("train.loss", "cross_entropy needs class labels, but data kind \(kind) has "
                                    + (targetWidth == steps ? "one target per step (end the model with its per-step layers, without last_step)" : "regression targets"))
                }
                let classes = targetWidth > 1 ? targetWidth : (classCount ?? ((labels.max() ?? 0) + 1))
                if width != classes {
                    throw specError(outputPath, "expected \(classes) to match the data (\(kind) has \(classes) classes for cross_entropy), found \(width)")
                }
            } else if width != targetWidth {
                throw specError(outputPath, "expected \(targetWidth) to match the data (\(kind) has \(targetWidth) target\(targetWidth == 1 ? "" : "s") per example), found \(width)")
            }
            return
        }
        // Outputs [n, T, width]: one class index per step for cross-entropy, T·width targets otherwise.
        if train.loss == .crossEntropy {
            guard targetWidth == steps else {
                throw specError(outputPath, "the model outputs classes at each of \(steps) steps, but \(kind) has \(targetWidth) target\(targetWidth == 1 ? "" : "s") "
                                + "per example (cross_entropy per step needs one class index per step; for one class per sequence add last_step before the output layer)")
            }
            var largest = 0
            for value in full.targets.scalars {
                guard value >= 0, value == value.rounded() else {
                    throw specError("train.loss", "cross_entropy per step needs whole class indices ≥ 0 as targets, but \(kind) has \(value)")
                }
                largest = Swift.max(largest, Int(value))
            }
            if width <= largest {
                throw specError(outputPath, "expected at least \(largest + 1) to match the data (\(kind)'s per-step targets are classes 0…\(largest)), found \(width)")
            }
        } else if steps * width != targetWidth {
            let perStep = targetWidth % steps == 0 ? " (\(targetWidth / steps) per step)" : ""
            throw specError(outputPath, "expected \(targetWidth % steps == 0 ? "\(targetWidth / steps)" : "an output per step") to match the data "
                            + "(\(kind) has \(targetWidth) targets per example\(perStep) and the model outputs \(steps) steps), found \(width)")
        }
    }

    /// The key paths of the input and output widths (`model.mlp.input`, `model.layers[0].linear.in`,
    /// `model.layers[0].lstm.input`, `model.layers[2].lstm.hidden`).
    private var widthPaths: (String, String) {
        switch model {
        case .mlp: return ("model.mlp.input", "model.mlp.output")
        case .layers(let layers):
            let sized = layers.indices.filter { switch layers[$0] { case .linear, .recurrent: true; default: false } }
            func path(_ index: Int?, linear: String, recurrent: String) -> String {
                guard let index else { return "model.layers[0]" }
                if case .recurrent(let r) = layers[index] { return "model.layers[\(index)].\(r.cell.rawValue).\(recurrent)" }
                return "model.layers[\(index)].linear.\(linear)"
            }
            return (path(sized.first, linear: "in", recurrent: "input"), path(sized.last, linear: "out", recurrent: "hidden"))
        }
    }

    /// The optimizer the spec names over `parameters`, in `Float`.
    ///
    /// - Parameter parameters: the model's parameters (`model.parameters`).
    /// - Throws: `SpecError` naming `train.optimizer` for a hyperparameter the optimizer refuses
    ///   (parsing already checks the ranges, so only values that round to nothing in `Float`).
    public func makeOptimizer(parameters: [Parameter<Float>]) throws -> any Optimizer<Float> {
        do {
            switch train.optimizer {
            case let .sgd(lr, momentum, dampening, weightDecay, nesterov):
                return try SGD<Float>(parameters: parameters, learningRate: Float(lr), momentum: Float(momentum),
                                      dampening: Float(dampening), weightDecay: Float(weightDecay), nesterov: nesterov)
            case let .adam(lr, beta1, beta2, eps, weightDecay, amsgrad):
                return try Adam<Float>(parameters: parameters, learningRate: Float(lr), beta1: Float(beta1), beta2: Float(beta2),
                                       epsilon: Float(eps), weightDecay: Float(weightDecay), amsgrad: amsgrad)
            case let .adamw(lr, beta1, beta2, eps, weightDecay, amsgrad):
                return try AdamW<Float>(parameters: parameters, learningRate: Float(lr), beta1: Float(beta1), beta2: Float(beta2),
                                        epsilon: Float(eps), weightDecay: Float(weightDecay), amsgrad: amsgrad)
            case let .rmsprop(lr, alpha, eps, weightDecay, momentum, centered):
                return try RMSprop<Float>(parameters: parameters, learningRate: Float(lr), alpha: Float(alpha), epsilon: Float(eps),
                                          weightDecay: Float(weightDecay), momentum: Float(momentum), centered: centered)
            case let .adagrad(lr, lrDecay, weightDecay, initial, eps):
                return try Adagrad<Float>(parameters: parameters, learningRate: Float(lr), learningRateDecay: Float(lrDecay),
                                          weightDecay: Float(weightDecay), initialAccumulatorValue: Float(initial), epsilon: Float(eps))
            }
        } catch let error as OptimizerError {
            throw specError("train.optimizer", error.description)
        }
    }

    /// The learning-rate schedule, starting from the optimizer's `lr`, or nil for a constant rate.
    ///
    /// - Throws: `SpecError` naming `train.schedule` for an argument the schedule refuses.
    public func makeSchedule() throws -> (any LearningRateSchedule)? {
        guard let schedule = train.schedule else { return nil }
        let initial = train.optimizer.learningRate
        do {
            switch schedule {
            case .step(let stepSize, let gamma): return try StepLR(initial: initial, stepSize: stepSize, gamma: gamma)
            case .exponential(let gamma): return try ExponentialLR(initial: initial, gamma: gamma)
            case .cosine(let tMax, let etaMin): return try CosineAnnealingLR(initial: initial, tMax: tMax, etaMin: etaMin)
            case .warmup(let epochs, let start, let end):
                return try LinearWarmup(initial: initial, warmupEpochs: epochs, startFactor: start, endFactor: end)
            }
        } catch let error as OptimizerError {
            throw specError("train.schedule", error.description)
        }
    }

    /// The gradient monitor's settings from `doctor` (`every`, `histograms_every`,
    /// `saturation_threshold`, `nonfinite`; capacities at their defaults).
    public var monitorSettings: Monitor<Float>.Settings {
        Monitor<Float>.Settings(every: doctor.every, histogramsEvery: doctor.histogramsEvery,
                                saturationThreshold: doctor.saturationThreshold, nonfinite: doctor.nonfinite)
    }

    /// A `SpecError.invalid` at `path`, with the file and place the spec was read from.
    func specError(_ path: String, _ problem: String) -> SpecError {
        .invalid(file: source?.file ?? name, location: source?.locations[path], path: path, problem: problem)
    }
}

extension DataSource {
    /// The file the examples are read from (a CSV file, an IDX images file), nil for generated
    /// and bundled sets.
    var filePath: String? {
        switch self {
        case .csv(let csv): csv.path
        case .idx(let images, _, _, _): images
        default: nil
        }
    }
}
