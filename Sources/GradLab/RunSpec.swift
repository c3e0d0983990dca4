import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim

// The run spec: what a spec file (YAML or JSON) says about one training run, validated, with
// every default filled in. The file format is DESIGN.md's "Spec file" section: snake_case
// keys, every key optional but `model`. Parsing (with `file:line:column` errors) is in
// RunSpec+Parsing.swift and RunSpec+YAML.swift, building the model, data and optimizer in
// RunSpec+Build.swift, remedies and `--grid` overrides in RunSpec+Overrides.swift.
//
// Conventions shared by every part of the format:
// - A choice with parameters is a map with `type` and the parameters (`{type: normal, std: 10}`,
//   `{type: adam, lr: 0.001}`, `{type: norm, max_norm: 10}`); a bare name (`kaiming_uniform`,
//   `adam`, `none`) is the same choice with its default parameters. Initializers, optimizers,
//   schedules and clipping all take this form.
// - A key set to `null` (or left empty) is the same as a key left out: its default applies.
// - Numbers are written unquoted; a quoted `"0.1"` is a string, not a number.

/// One training run as a spec file describes it, validated and with every default filled in.
///
/// `RunSpec.parse` / `RunSpec.load` read one; `yaml` writes it back (`parse(spec.yaml) == spec`).
/// Equality compares the run (name, model, data, training, doctor), not where it was read from.
public struct RunSpec: Codable, Sendable, Equatable {
    /// The run's name (`runs/<name>/`); default: the spec file's name without its extension.
    public var name: String
    /// The network.
    public var model: ModelSpec
    /// The data set (default: `{kind: linear}`).
    public var data: DataSpec
    /// Loss, optimizer, schedule, clipping, epochs, batch size, seed.
    public var train: TrainSpec
    /// What the gradient doctor records.
    public var doctor: DoctorSpec

    /// Where each key path was read from, for errors found after parsing (data widths); not
    /// part of equality or of the encoded spec.
    var source: SpecSourceMap?

    /// A spec from its parts.
    ///
    /// - Parameters:
    ///   - name: the run's name.
    ///   - model: the network.
    ///   - data: the data set.
    ///   - train: the training settings.
    ///   - doctor: the doctor's settings.
    public init(name: String, model: ModelSpec, data: DataSpec = DataSpec(), train: TrainSpec = TrainSpec(),
                doctor: DoctorSpec = DoctorSpec()) {
        self.name = name
        self.model = model
        self.data = data
        self.train = train
        self.doctor = doctor
    }

    /// Equal when name, model, data, training and doctor settings are equal.
    public static func == (lhs: RunSpec, rhs: RunSpec) -> Bool {
        lhs.name == rhs.name && lhs.model == rhs.model && lhs.data == rhs.data && lhs.train == rhs.train
            && lhs.doctor == rhs.doctor
    }

    /// Decodes the spec format (snake_case keys, defaults filled in) from any decoder.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, RunSpec.read) }
    /// Encodes the resolved spec in the spec format.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// Where the keys of a parsed spec were: the file's name and the place of each key path.
struct SpecSourceMap: Sendable {
    var file: String
    var locations: [String: SpecLocation]
}

// MARK: - Model

/// The network: the MLP shorthand or an explicit list of layers (`model: {mlp: ...}` or
/// `model: {layers: [...]}`, exactly one of the two).
public enum ModelSpec: Codable, Sendable, Equatable {
    /// `Linear, activation, ..., Linear` as `nn.Sequential` builds it.
    case mlp(MLPSpec)
    /// The layers in order, as `nn.Sequential(*layers)`.
    case layers([LayerSpec])

    /// The number of input features: the MLP's `input`, or the first `linear` layer's `in`; for
    /// a model that reads sequences (`readsSequences`), the features of one time step, the first
    /// recurrent layer's `input` (the data's rows then hold whole steps of that many).
    public var inputWidth: Int {
        switch self {
        case .mlp(let mlp): return mlp.input
        case .layers(let layers):
            for layer in layers {
                if case .linear(let inFeatures, _, _, _, _) = layer { return inFeatures }
                if case .recurrent(let recurrent) = layer { return recurrent.input }
            }
            return 0
        }
    }

    /// The number of outputs: the MLP's `output`, or the width of the last layer that sets one
    /// (a `linear` layer's `out`, a recurrent layer's `hidden`); per time step when the model
    /// ends on sequences (`writesSequences`).
    public var outputWidth: Int {
        switch self {
        case .mlp(let mlp): return mlp.output
        case .layers(let layers):
            for layer in layers.reversed() {
                if case .linear(_, let out, _, _, _) = layer { return out }
                if case .recurrent(let recurrent) = layer { return recurrent.hidden }
            }
            return 0
        }
    }

    /// Whether the first layer is recurrent: the model reads each example's row of features as a
    /// sequence `[T, inputWidth]` (batch-first, step after step).
    public var readsSequences: Bool {
        if case .layers(let layers) = self, case .recurrent = layers.first { return true }
        return false
    }

    /// Whether the model's output is a sequence `[n, T, outputWidth]`: it has a recurrent layer
    /// and no `last_step` after the last one (a `linear` after it then applies per step).
    public var writesSequences: Bool {
        guard case .layers(let layers) = self else { return false }
        for layer in layers.reversed() {
            if case .lastStep = layer { return false }
            if case .recurrent = layer { return true }
        }
        return false
    }

    /// Decodes the spec format of `model`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, ModelSpec.read) }
    /// Encodes the spec format of `model`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// The MLP shorthand: `Linear(input, h₁), act, Linear(h₁, h₂), act, ..., Linear(h_L, output)`
/// (+ output activation), with the parameter names of the equivalent `nn.Sequential`.
///
/// Spec keys: `input`, `hidden`, `output`, `activation`, `output_activation`, `init`,
/// `bias_init`, `batch_norm`, `residual`, `residual_scaling`.
public struct MLPSpec: Codable, Sendable, Equatable {
    /// Features per example (≥ 1); required.
    public var input: Int
    /// The hidden widths, input side first (each ≥ 1; default none: one `Linear`).
    public var hidden: [Int]
    /// Outputs per example (≥ 1); required.
    public var output: Int
    /// The activation after each hidden `Linear` (default `relu`).
    public var activation: Activation
    /// An activation after the last `Linear` (`output_activation`; default none).
    public var outputActivation: Activation?
    /// The weights' initializer (`init`; default `.default`, PyTorch's `Linear` init). A gain or
    /// Kaiming nonlinearity left out follows `activation`.
    public var initializer: Initializer
    /// The biases' initializer (`bias_init`); nil (written `default`) is PyTorch's
    /// U(−1/√fan_in, 1/√fan_in).
    public var biasInitializer: Initializer?
    /// `BatchNorm1d` after each hidden `Linear` (Linear, BN, activation).
    public var batchNorm: Bool
    /// Residual blocks `x + act(Linear(x))` around the hidden layers of equal width.
    public var residual: Bool
    /// The residual blocks' branch scaling (`residual_scaling`): `none` (default, `x + F(x)`) or
    /// `rezero` (`x + α·F(x)` with a learnable α starting at 0, ReZero / SkipInit; the spec
    /// also accepts `skip_init`, the same scheme). Needs `residual: true`.
    public var residualScaling: ResidualScaling

    /// An MLP spec; every parameter but the widths has the spec file's default.
    ///
    /// - Parameters:
    ///   - input: features per example.
    ///   - hidden: hidden widths.
    ///   - output: outputs per example.
    ///   - activation: the hidden activation.
    ///   - outputActivation: the activation after the last layer, if any.
    ///   - initializer: the weights' initializer.
    ///   - biasInitializer: the biases' initializer (nil: PyTorch's default).
    ///   - batchNorm: batch norm after each hidden `Linear`.
    ///   - residual: residual blocks around the hidden layers.
    ///   - residualScaling: the blocks' branch scaling (`.none` or `.reZero`).
    public init(input: Int, hidden: [Int] = [], output: Int, activation: Activation = .relu,
                outputActivation: Activation? = nil, initializer: Initializer = .default,
                biasInitializer: Initializer? = nil, batchNorm: Bool = false, residual: Bool = false,
                residualScaling: ResidualScaling = .none) {
        self.input = input
        self.hidden = hidden
        self.output = output
        self.activation = activation
        self.outputActivation = outputActivation
        self.initializer = initializer
        self.biasInitializer = biasInitializer
        self.batchNorm = batchNorm
        self.residual = residual
        self.residualScaling = residualScaling
    }

    /// Decodes the spec format of `mlp`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, MLPSpec.read) }
    /// Encodes the spec format of `mlp`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// One entry of an explicit layer list, with PyTorch's names and defaults.
///
/// A spec writes each entry as a one-key map, the layer's name to its parameters
/// (`{linear: {in: 1, out: 10}}`, `{leaky_relu: {negative_slope: 0.1}}`, `{relu: {}}`); a layer
/// without required parameters may be a bare name (`relu`).
public enum LayerSpec: Codable, Sendable, Equatable {
    /// `nn.Linear(in, out, bias)`; `init`/`bias_init` as in the MLP (default: PyTorch's).
    /// A gain or Kaiming nonlinearity left out follows the next activation in the list.
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool, initializer: Initializer, biasInitializer: Initializer?)
    /// `nn.Sigmoid()`.
    case sigmoid
    /// `nn.Tanh()`.
    case tanh
    /// `nn.ReLU()`.
    case relu
    /// `nn.LeakyReLU(negative_slope)` (default 0.01).
    case leakyReLU(negativeSlope: Double)
    /// `nn.PReLU(num_parameters, init)` (defaults 1, 0.25).
    case prelu(parameterCount: Int, initialValue: Double)
    /// `nn.ELU(alpha)` (default 1).
    case elu(alpha: Double)
    /// `nn.SELU()`.
    case selu
    /// `nn.GELU(approximate)`: `none` (exact, the default) or `tanh`.
    case gelu(approximateTanh: Bool)
    /// `nn.Softplus(beta, threshold)` (defaults 1, 20).
    case softplus(beta: Double, threshold: Double)
    /// `nn.SiLU()`.
    case silu
    /// `nn.Hardtanh(min_val, max_val)` (defaults −1, 1).
    case hardtanh(minValue: Double, maxValue: Double)
    /// `nn.Softsign()`.
    case softsign
    /// `nn.BatchNorm1d(features, eps, momentum)` (defaults 1e-5, 0.1).
    case batchNorm(features: Int, eps: Double, momentum: Double)
    /// `nn.LayerNorm(features, eps)` (default 1e-5).
    case layerNorm(features: Int, eps: Double)
    /// `nn.Dropout(p)` (default 0.5).
    case dropout(p: Double)
    /// `nn.Flatten(start_dim)` (1, the only value rows of features allow).
    case flatten(startDim: Int)
    /// `nn.Identity()`.
    case identity
    /// `nn.RNN`, `nn.LSTM` or `nn.GRU` with `batch_first=True` (`{rnn: {input: 2, hidden: 64}}`,
    /// `lstm`, `gru`): the output at every step, `[n, T, hidden]`. First in a list, it reads each
    /// row of features as a sequence of steps of `input` features.
    case recurrent(RecurrentLayerSpec)
    /// The output at the last time step, `[n, T, H] → [n, H]` (`last_step`; GradNN's `LastStep`).
    case lastStep

    /// The entry's name in a spec file (`linear`, `leaky_relu`, `batch_norm`).
    public var name: String {
        switch self {
        case .linear: "linear"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyReLU: "leaky_relu"
        case .prelu: "prelu"
        case .elu: "elu"
        case .selu: "selu"
        case .gelu: "gelu"
        case .softplus: "softplus"
        case .silu: "silu"
        case .hardtanh: "hardtanh"
        case .softsign: "softsign"
        case .batchNorm: "batch_norm"
        case .layerNorm: "layer_norm"
        case .dropout: "dropout"
        case .flatten: "flatten"
        case .identity: "identity"
        case .recurrent(let recurrent): recurrent.cell.rawValue
        case .lastStep: "last_step"
        }
    }

    /// Every entry name a layer list accepts.
    public static let names = [
        "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "softplus", "silu",
        "hardtanh", "softsign", "batch_norm", "layer_norm", "dropout", "flatten", "identity", "rnn", "lstm", "gru", "last_step",
    ]

    /// Decodes one layer entry.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, LayerSpec.read) }
    /// Encodes one layer entry.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// A recurrent layer of a layer list: the cell, the sizes and the initialization, with
/// PyTorch's names and defaults (`nn.RNN`/`nn.LSTM`/`nn.GRU`, always `batch_first=True`).
///
/// Spec keys: `input` and `hidden` (required), `layers` (1), `bias` (true), `init` (`default`,
/// PyTorch's U(−1/√hidden, 1/√hidden), or `orthogonal`: every `weight_hh` gate block a random
/// orthogonal matrix, or `{type: orthogonal, gain: g}`: g times one), `nonlinearity` (`tanh` or `relu`; `rnn` only), `forget_bias` (the LSTM
/// forget gate's starting bias, e.g. 1.0; `lstm` only, default PyTorch's draw), `batch_first`
/// (true, the only layout rows of features allow).
public struct RecurrentLayerSpec: Sendable, Equatable {
    /// Which cell: `rnn`, `lstm` or `gru` (the layer's name in a spec).
    public enum Cell: String, Sendable, CaseIterable {
        case rnn, lstm, gru
    }

    /// The cell.
    public var cell: Cell
    /// Features of each input step (`input`, ≥ 1).
    public var input: Int
    /// Units of each layer's hidden state (`hidden`, ≥ 1).
    public var hidden: Int
    /// Stacked layers (`layers`, PyTorch's `num_layers`; ≥ 1).
    public var layers: Int
    /// Whether the layers learn `b_ih` and `b_hh` (`bias`).
    public var bias: Bool
    /// Orthogonal recurrent weights (`init: orthogonal`) instead of PyTorch's uniform draw.
    public var orthogonal: Bool
    /// The orthogonal init's gain (`init: {type: orthogonal, gain: 1.5}`, default 1): every
    /// `weight_hh` gate block is `gain` times an orthogonal matrix, so a vanilla RNN's recurrent
    /// matrix has spectral radius exactly `gain`. Only with `orthogonal`.
    public var orthogonalGain: Double
    /// The vanilla RNN's nonlinearity (`nonlinearity`, tanh by default; ignored by LSTM and GRU).
    public var nonlinearity: RNNNonlinearity
    /// The LSTM forget gate's starting bias (`forget_bias`); nil keeps PyTorch's draw.
    public var forgetBias: Double?

    /// A recurrent layer with PyTorch's defaults; `nonlinearity` is kept for `rnn` only and
    /// `forgetBias` for `lstm` only.
    ///
    /// - Parameters:
    ///   - cell: `rnn`, `lstm` or `gru`.
    ///   - input: features of each step.
    ///   - hidden: hidden units.
    ///   - layers: stacked layers.
    ///   - bias: learn the biases.
    ///   - orthogonal: orthogonal recurrent weights.
    ///   - orthogonalGain: their scale (1: orthogonal); kept only with `orthogonal`.
    ///   - nonlinearity: the RNN's nonlinearity.
    ///   - forgetBias: the LSTM forget gate's starting bias (nil: PyTorch's draw).
    public init(cell: Cell, input: Int, hidden: Int, layers: Int = 1, bias: Bool = true, orthogonal: Bool = false,
                orthogonalGain: Double = 1, nonlinearity: RNNNonlinearity = .tanh, forgetBias: Double? = nil) {
        self.cell = cell
        self.input = input
        self.hidden = hidden
        self.layers = layers
        self.bias = bias
        self.orthogonal = orthogonal
        self.orthogonalGain = orthogonal ? orthogonalGain : 1
        // Kept only where the cell has them, so that equal layers compare equal.
        self.nonlinearity = cell == .rnn ? nonlinearity : .tanh
        self.forgetBias = cell == .lstm ? forgetBias : nil
    }
}

// MARK: - Data

/// The data set: where the examples come from, plus a validation split and feature
/// standardization that apply to every kind.
///
/// Spec keys: `kind` and the kind's parameters (see `DataSource`), `validation` (the held-out
/// fraction, 0 = none), `standardize`, `seed` (of the synthetic draw and of the split).
public struct DataSpec: Codable, Sendable, Equatable {
    /// The examples' source and its parameters.
    public var source: DataSource
    /// The fraction of examples held out for validation, in [0, 1) (0: no validation set).
    public var validation: Double
    /// Standardize features with the training rows' mean and standard deviation.
    public var standardize: Bool
    /// Seeds the synthetic draws and the train/validation split (default 0; independent of
    /// `train.seed`, so that changing the initialization seed keeps the data).
    public var seed: UInt64

    /// A data spec (defaults: the seeds' line, no validation, no standardization, seed 0).
    ///
    /// - Parameters:
    ///   - source: the examples' source.
    ///   - validation: the held-out fraction, in [0, 1).
    ///   - standardize: standardize the features.
    ///   - seed: the data seed.
    public init(source: DataSource = .linear(), validation: Double = 0, standardize: Bool = false, seed: UInt64 = 0) {
        self.source = source
        self.validation = validation
        self.standardize = standardize
        self.seed = seed
    }

    /// Decodes the spec format of `data`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, DataSpec.read) }
    /// Encodes the spec format of `data`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// Where a run's examples come from (`data: {kind: ...}`) with the kind's parameters.
public enum DataSource: Sendable, Equatable {
    /// `y = slope·x + intercept + noise·ε` (`SyntheticData.linear`): `count` (100), `noise`
    /// (0.5), `slope` (3), `intercept` (2).
    case linear(count: Int = 100, noise: Double = 0.5, slope: Double = 3, intercept: Double = 2)
    /// The CS231n spiral (`SyntheticData.spiral`): `count` (1000), `classes` (2).
    case spiral(count: Int = 1000, classes: Int = 2)
    /// Noisy XOR blobs (`SyntheticData.xor`): `count` (200), `noise` (0.2).
    case xor(count: Int = 200, noise: Double = 0.2)
    /// Two concentric circles (`SyntheticData.circles`): `count` (200), `noise` (0.05), `factor` (0.5).
    case circles(count: Int = 200, noise: Double = 0.05, factor: Double = 0.5)
    /// n-bit parity (`SyntheticData.parity`): `bits` (required), `count` (`all`: the full
    /// table), `signed` (false: features 0/1).
    case parity(bits: Int, count: Int? = nil, signed: Bool = false)
    /// The bundled 8×8 digits: `labels` `one_hot` (default) or `integer`.
    case digits(labels: CSVOptions.LabelEncoding = .oneHot)
    /// Bundled MNIST-1D: `split` `train` (default) or `test`, `labels` as for digits.
    case mnist1d(split: BundledData.Split = .train, labels: CSVOptions.LabelEncoding = .oneHot)
    /// The adding problem (`SyntheticData.adding`): `count` (1000), `length` T (50, ≥ 2);
    /// features `[count, 2T]` (the sequences `[count, T, 2]` row-major), targets `[count, 1]`.
    case adding(count: Int = 1000, length: Int = 50)
    /// The copy task (`SyntheticData.copyTask`): `count` (1000), `symbols` (8), `length` (10,
    /// symbols to copy), `delay` (20); targets `[count, 2·length + delay]`, one class per step.
    case copy(count: Int = 1000, symbols: Int = 8, length: Int = 10, delay: Int = 20)
    /// Sequence parity (`SyntheticData.paritySequence`): `count` (1000), `length` (20), `running`
    /// (false: the whole sequence's parity `[count, 1]`; true: every prefix's `[count, length]`),
    /// `signed` (false: bits 0/1).
    case paritySequence(count: Int = 1000, length: Int = 20, running: Bool = false, signed: Bool = false)
    /// A CSV file (`CSVLoader.load`).
    case csv(CSVSource)
    /// An IDX pair (`IDXLoader.load`): `images`, `labels` (paths, required), `scale` (1/255),
    /// `encoding` `one_hot` (default) or `integer`.
    case idx(images: String, labels: String, scale: Double = 1.0 / 255.0, encoding: CSVOptions.LabelEncoding = .oneHot)

    /// The kind's name in a spec file (`linear`, `csv`, ...).
    public var kind: String {
        switch self {
        case .linear: "linear"
        case .spiral: "spiral"
        case .xor: "xor"
        case .circles: "circles"
        case .parity: "parity"
        case .digits: "digits"
        case .mnist1d: "mnist1d"
        case .adding: "adding"
        case .copy: "copy"
        case .paritySequence: "parity_sequence"
        case .csv: "csv"
        case .idx: "idx"
        }
    }

    /// Every kind a spec may name.
    public static let kinds = [
        "linear", "spiral", "xor", "circles", "parity", "digits", "mnist1d", "adding", "copy", "parity_sequence", "csv", "idx",
    ]

    /// For the sequence tasks, the shape of an example (steps × channels per step); nil for
    /// the other kinds, whose features are not sequences.
    public var sequenceLayout: SequenceLayout? {
        switch self {
        case .adding(_, let length): SequenceLayout(steps: length, channels: 2)
        case .copy(_, let symbols, let length, let delay): SequenceLayout(steps: 2 * length + delay, channels: symbols + 2)
        case .paritySequence(_, let length, _, _): SequenceLayout(steps: length, channels: 1)
        default: nil
        }
    }
}

/// A CSV data source: the file and how to read it (`data: {kind: csv, path: ..., ...}`).
public struct CSVSource: Sendable, Equatable {
    /// The file (relative paths in a spec are resolved against the spec file's folder).
    public var path: String
    /// The target column: `target: price` (a header name) or `target: 3` (a 0-based index;
    /// negative counts from the end); default −1, the last column.
    public var target: CSVOptions.TargetColumn
    /// `header: true | false | auto` (default `auto`: decided from the file).
    public var header: CSVOptions.Header
    /// `labels: none` (regression, the default), `integer` (class index targets `[n, 1]`) or
    /// `one_hot` (targets `[n, classes]`); both classification forms also fill `labels`.
    public var task: CSVOptions.Task
    /// The cell separator, one ASCII character (`delimiter: ";"`; default `,`).
    public var delimiter: Character

    /// A CSV source with the spec file's defaults.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - target: the target column.
    ///   - header: whether the first row names the columns.
    ///   - task: regression or classification.
    ///   - delimiter: the cell separator.
    public init(path: String, target: CSVOptions.TargetColumn = .index(-1), header: CSVOptions.Header = .automatic,
                task: CSVOptions.Task = .regression, delimiter: Character = ",") {
        self.path = path
        self.target = target
        self.header = header
        self.task = task
        self.delimiter = delimiter
    }
}

// MARK: - Training

/// How the run trains: loss, optimizer, schedule, clipping, epochs, batch size and seed.
public struct TrainSpec: Codable, Sendable, Equatable {
    /// The loss (default `mse`).
    public var loss: LossKind
    /// The optimizer and its hyperparameters (default SGD, lr 0.01).
    public var optimizer: OptimizerSpec
    /// The learning-rate schedule (default none: constant).
    public var schedule: ScheduleSpec?
    /// Gradient clipping before each step (default none).
    public var clip: GradientClipping
    /// Passes over the training set (≥ 1; default 100).
    public var epochs: Int
    /// Examples per step; nil (`full`, the default) is the whole training set.
    public var batchSize: Int?
    /// Seeds the model's initialization and the batch order (default 0).
    public var seed: UInt64

    /// Training settings with the spec file's defaults.
    ///
    /// - Parameters:
    ///   - loss: the loss.
    ///   - optimizer: the optimizer.
    ///   - schedule: the schedule, if any.
    ///   - clip: gradient clipping.
    ///   - epochs: passes over the data.
    ///   - batchSize: examples per step (nil: full batch).
    ///   - seed: the seed.
    public init(loss: LossKind = .mse, optimizer: OptimizerSpec = .sgd(), schedule: ScheduleSpec? = nil,
                clip: GradientClipping = .none, epochs: Int = 100, batchSize: Int? = nil, seed: UInt64 = 0) {
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self.clip = clip
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Decodes the spec format of `train`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, TrainSpec.read) }
    /// Encodes the spec format of `train`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// An optimizer and its hyperparameters, with PyTorch's names and defaults
/// (`optimizer: {type: adam, lr: 0.001, betas: [0.9, 0.999]}`).
public enum OptimizerSpec: Codable, Sendable, Equatable {
    /// `torch.optim.SGD`: `lr` (0.01), `momentum`, `dampening`, `weight_decay` (0), `nesterov`.
    case sgd(lr: Double = 0.01, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false)
    /// `torch.optim.Adam`: `lr` (1e-3), `betas` ([0.9, 0.999]), `eps` (1e-8), `weight_decay` (0), `amsgrad`.
    case adam(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
              weightDecay: Double = 0, amsgrad: Bool = false)
    /// `torch.optim.AdamW`: as Adam, `weight_decay` default 0.01 (decoupled).
    case adamw(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
               weightDecay: Double = 1e-2, amsgrad: Bool = false)
    /// `torch.optim.RMSprop`: `lr` (0.01), `alpha` (0.99), `eps` (1e-8), `weight_decay`, `momentum`, `centered`.
    case rmsprop(lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
                 momentum: Double = 0, centered: Bool = false)
    /// `torch.optim.Adagrad`: `lr` (0.01), `lr_decay`, `weight_decay`, `initial_accumulator_value` (0), `eps` (1e-10).
    case adagrad(lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0, initialAccumulatorValue: Double = 0,
                 eps: Double = 1e-10)

    /// The `type` a spec file writes (`sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`).
    public var type: String {
        switch self {
        case .sgd: "sgd"
        case .adam: "adam"
        case .adamw: "adamw"
        case .rmsprop: "rmsprop"
        case .adagrad: "adagrad"
        }
    }

    /// Every optimizer type a spec may name.
    public static let types = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]

    /// The learning rate η (`lr`).
    public var learningRate: Double {
        get {
            switch self {
            case .sgd(let lr, _, _, _, _), .adam(let lr, _, _, _, _, _), .adamw(let lr, _, _, _, _, _),
                 .rmsprop(let lr, _, _, _, _, _), .adagrad(let lr, _, _, _, _):
                return lr
            }
        }
        set {
            switch self {
            case let .sgd(_, m, d, w, n): self = .sgd(lr: newValue, momentum: m, dampening: d, weightDecay: w, nesterov: n)
            case let .adam(_, b1, b2, e, w, a): self = .adam(lr: newValue, beta1: b1, beta2: b2, eps: e, weightDecay: w, amsgrad: a)
            case let .adamw(_, b1, b2, e, w, a): self = .adamw(lr: newValue, beta1: b1, beta2: b2, eps: e, weightDecay: w, amsgrad: a)
            case let .rmsprop(_, al, e, w, m, c):
                self = .rmsprop(lr: newValue, alpha: al, eps: e, weightDecay: w, momentum: m, centered: c)
            case let .adagrad(_, d, w, i, e):
                self = .adagrad(lr: newValue, lrDecay: d, weightDecay: w, initialAccumulatorValue: i, eps: e)
            }
        }
    }

    /// The optimizer `type` with PyTorch's defaults and learning rate `lr`.
    ///
    /// - Returns: nil for an unknown type.
    public static func defaults(type: String, lr: Double) -> OptimizerSpec? {
        switch type {
        case "sgd": .sgd(lr: lr)
        case "adam": .adam(lr: lr)
        case "adamw": .adamw(lr: lr)
        case "rmsprop": .rmsprop(lr: lr)
        case "adagrad": .adagrad(lr: lr)
        default: nil
        }
    }

    /// Decodes the spec format of `optimizer`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, OptimizerSpec.read) }
    /// Encodes the spec format of `optimizer`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

/// A learning-rate schedule (`schedule: {type: step, step_size: 30}`), mapping to GradOptim's
/// `StepLR`, `ExponentialLR`, `CosineAnnealingLR` and `LinearWarmup`; the initial rate is the
/// optimizer's `lr`.
public enum ScheduleSpec: Codable, Sendable, Equatable {
    /// `StepLR`: `step_size` (required, ≥ 1), `gamma` (0.1).
    case step(stepSize: Int, gamma: Double = 0.1)
    /// `ExponentialLR`: `gamma` (required, > 0).
    case exponential(gamma: Double)
    /// `CosineAnnealingLR`: `t_max` (default: `train.epochs`), `eta_min` (0).
    case cosine(tMax: Int, etaMin: Double = 0)
    /// `LinearWarmup` (PyTorch's `LinearLR`): `warmup_epochs` (required), `start_factor` (1/3), `end_factor` (1).
    case warmup(epochs: Int, startFactor: Double = 1.0 / 3.0, endFactor: Double = 1)

    /// The `type` a spec file writes.
    public var type: String {
        switch self {
        case .step: "step"
        case .exponential: "exponential"
        case .cosine: "cosine"
        case .warmup: "warmup"
        }
    }

    /// Every schedule type a spec may name (and `none`).
    public static let types = ["none", "step", "exponential", "cosine", "warmup"]

    /// Decodes the spec format of `schedule`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, ScheduleSpec.readRequired) }
    /// Encodes the spec format of `schedule`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}

// MARK: - Doctor

/// What the gradient doctor records during the run (`doctor: {every: 1, ...}`).
public struct DoctorSpec: Codable, Sendable, Equatable {
    /// Whether the monitor runs at all (default true).
    public var enabled: Bool
    /// Record statistics every `every` steps (≥ 1; default 1).
    public var every: Int
    /// Take gradient histograms every `histograms_every` steps (≥ 0, 0: never; default 10).
    public var histogramsEvery: Int
    /// The non-finite guard: `raise` (default), `skip_step`, `warn` or `off`.
    public var nonfinite: NonfiniteMode
    /// A sigmoid/tanh unit counts as saturated below this fraction of its derivative's maximum
    /// (in (0, 1); default 0.01).
    public var saturationThreshold: Double

    /// Doctor settings with the spec file's defaults.
    ///
    /// - Parameters:
    ///   - enabled: whether the monitor runs.
    ///   - every: the recording interval in steps.
    ///   - histogramsEvery: the histogram interval in steps (0: never).
    ///   - nonfinite: the guard's mode.
    ///   - saturationThreshold: the saturation threshold.
    public init(enabled: Bool = true, every: Int = 1, histogramsEvery: Int = 10, nonfinite: NonfiniteMode = .raise,
                saturationThreshold: Double = 0.01) {
        self.enabled = enabled
        self.every = every
        self.histogramsEvery = histogramsEvery
        self.nonfinite = nonfinite
        self.saturationThreshold = saturationThreshold
    }

    /// Decodes the spec format of `doctor`.
    public init(from decoder: Decoder) throws { self = try decodeSpecPart(decoder, DoctorSpec.read) }
    /// Encodes the spec format of `doctor`.
    public func encode(to encoder: Encoder) throws { try specNode.encode(to: encoder) }
}
