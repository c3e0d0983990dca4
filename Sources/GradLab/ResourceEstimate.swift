import Foundation
import GradData

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a run will need, estimated from its spec alone, before anything is allocated.
///
/// `totalBytes = bytesPerElement · (parameters · (2 + optimizerSlots) + buffers
///               + backwardFactor · batchSize · activationsPerExample + dataElements)`:
/// the parameters with one gradient each and the optimizer's state slots (SGD with momentum 1,
/// Adam 2, AMSGrad 3, ...), batch norm's running statistics, every layer's output for one
/// batch (×3: the forward values, the inputs the backward pass keeps and their gradients),
/// and a synthetic data set generated for the run. It is an estimate ("about"), good to the
/// factor that decides whether a run fits the machine at all; counts are `Double`s so that
/// widths of a million or more do not overflow.
public struct ResourceEstimate: Sendable, Equatable, CustomStringConvertible {
    /// Learnable parameters (elements).
    public var parameters: Double
    /// Non-learned elements that live with the model (batch norm's running mean and variance).
    public var buffers: Double
    /// Optimizer state elements per parameter.
    public var optimizerSlots: Int
    /// Examples in one training batch.
    public var batchSize: Double
    /// Elements every layer outputs for one example in the forward pass, all layers together.
    public var activationsPerExample: Double
    /// Elements of a data set generated for the run (0 for data read from files, or once the
    /// data are in memory already).
    public var dataElements: Double
    /// Bytes of one element (4: GradLab trains in `Float`).
    public var bytesPerElement: Int

    /// What the activations are multiplied by for the backward pass (saved inputs and gradients).
    public static let backwardFactor = 3.0

    /// An estimate from its parts.
    ///
    /// - Parameters:
    ///   - parameters: learnable elements.
    ///   - buffers: non-learned model elements.
    ///   - optimizerSlots: optimizer state elements per parameter.
    ///   - batchSize: examples per batch.
    ///   - activationsPerExample: layer outputs per example.
    ///   - dataElements: elements of generated data.
    ///   - bytesPerElement: bytes per element.
    public init(parameters: Double, buffers: Double = 0, optimizerSlots: Int, batchSize: Double, activationsPerExample: Double,
                dataElements: Double = 0, bytesPerElement: Int = MemoryLayout<Float>.size) {
        self.parameters = parameters
        self.buffers = buffers
        self.optimizerSlots = optimizerSlots
        self.batchSize = batchSize
        self.activationsPerExample = activationsPerExample
        self.dataElements = dataElements
        self.bytesPerElement = bytesPerElement
    }

    /// Bytes of the parameters, their gradients, the optimizer state and the buffers.
    public var modelBytes: Double { (parameters * Double(2 + optimizerSlots) + buffers) * Double(bytesPerElement) }
    /// Bytes of one batch's activations through the forward and backward passes.
    public var activationBytes: Double {
        Self.backwardFactor * batchSize * activationsPerExample * Double(bytesPerElement)
    }
    /// Bytes of the generated data set.
    public var dataBytes: Double { dataElements * Double(bytesPerElement) }
    /// Everything together.
    public var totalBytes: Double { modelBytes + activationBytes + dataBytes }

    /// The estimate in words: `needs about 11.2 TiB for parameters, gradients, optimizer state
    /// and activations of a batch of 100 (1e+12 parameters × 3 copies: 11.2 TiB; activations:
    /// 22.4 MiB)`.
    public var description: String {
        var parts = ["\(Self.count(parameters)) parameters × \(2 + optimizerSlots) copies: \(FileSizeLimit.describe(modelBytes))",
                     "activations: \(FileSizeLimit.describe(activationBytes))"]
        if dataBytes > totalBytes / 100 { parts.append("data: \(FileSizeLimit.describe(dataBytes))") }
        return "needs about \(FileSizeLimit.describe(totalBytes)) for parameters, gradients, optimizer state and activations "
            + "of a batch of \(Self.count(batchSize)) (\(parts.joined(separator: "; ")))"
    }

    /// A count for messages: exact below a million, `1.0e+12` above.
    static func count(_ value: Double) -> String {
        value < 1e6 ? "\(Int(value))" : String(format: "%.1e", value)
    }
}

/// The memory this process can still use.
public enum SystemMemory {
    /// Bytes available for new allocations: the smallest of the kernel's `MemAvailable`
    /// (`/proc/meminfo`) and, inside a control group with a memory limit, that limit less the
    /// group's usage (cgroup v2 `memory.max` − `memory.current`, or v1's `limit_in_bytes` −
    /// `usage_in_bytes`); where none of these exist, free physical pages (`sysconf`), then
    /// the physical memory. Nil when nothing can be read.
    public static func availableBytes() -> Double? {
        var candidates: [Double] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kibibytes = Double(fields[1]) { candidates.append(kibibytes * 1024) }
            }
        }
        let groups = [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                      ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")]
        for (limitFile, usageFile) in groups {
            guard let limit = number(inFile: limitFile), limit < 1e18 else { continue }
            candidates.append(Swift.max(0, limit - (number(inFile: usageFile) ?? 0)))
        }
        if candidates.isEmpty {
            #if os(Linux)
            let pages = sysconf(Int32(_SC_AVPHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
            if pages > 0 && pageSize > 0 { candidates.append(Double(pages) * Double(pageSize)) }
            #endif
            if candidates.isEmpty && ProcessInfo.processInfo.physicalMemory > 0 {
                candidates.append(Double(ProcessInfo.processInfo.physicalMemory))
            }
        }
        return candidates.min()
    }

    /// The number in a one-line file (`max` and unreadable files give nil).
    static func number(inFile path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension RunSpec {
    /// The memory estimate of this spec's run (see `ResourceEstimate`).
    ///
    /// - Parameters:
    ///   - trainingRows: the training set's size once loaded; nil estimates it from the spec
    ///     (a synthetic set's count; a file's is unknown, so a full batch counts as one row) and
    ///     adds the generated data set.
    ///   - featureCount: the features per example once loaded (sets the steps of a model that
    ///     reads sequences from a file); nil takes them from the spec.
    public func resourceEstimate(trainingRows: Int? = nil, featureCount: Int? = nil) -> ResourceEstimate {
        let shape = data.source.exampleShape
        let rows = trainingRows.map(Double.init) ?? shape.map { Swift.max(1, ($0.count * (1 - data.validation)).rounded(.down)) } ?? 1
        let batch = Swift.max(1, Swift.min(train.batchSize.map(Double.init) ?? rows, rows))
        let features = featureCount.map(Double.init) ?? shape?.features
        var steps = 1.0
        if model.readsSequences {
            if let layout = data.source.sequenceLayout {
                steps = Double(layout.steps)
            } else if let features, model.inputWidth > 0 {
                steps = Swift.max(1, (features / Double(model.inputWidth)).rounded(.down))
            }
        }
        let (parameters, buffers, activations) = model.sizes(steps: steps)
        let dataElements = trainingRows == nil ? shape.map { $0.count * ($0.features + $0.targets) } ?? 0 : 0
        return ResourceEstimate(parameters: parameters, buffers: buffers, optimizerSlots: train.optimizer.stateSlots,
                                batchSize: batch, activationsPerExample: activations, dataElements: dataElements)
    }

    /// Throws when the run's estimated memory is more than the machine has available, with the
    /// estimate in the message (`spec.yaml:2:1: model: needs about 11.2 TiB for parameters, ...;
    /// this machine has 23.5 GiB available`). Nothing is allocated.
    ///
    /// - Parameters:
    ///   - trainingRows: the training set's size once loaded (see `resourceEstimate`).
    ///   - featureCount: the features per example once loaded.
    ///   - availableBytes: the memory available (default: `SystemMemory.availableBytes()`;
    ///     nil skips the check).
    /// - Throws: `SpecError.invalid` at `model`.
    public func checkResources(trainingRows: Int? = nil, featureCount: Int? = nil,
                               availableBytes: Double? = SystemMemory.availableBytes()) throws(SpecError) {
        guard let availableBytes else { return }
        let estimate = resourceEstimate(trainingRows: trainingRows, featureCount: featureCount)
        guard estimate.totalBytes > availableBytes else { return }
        var advice = "make the model smaller"
        if estimate.activationBytes > estimate.modelBytes { advice = "use a smaller batch_size or a smaller model" }
        if estimate.dataBytes > estimate.modelBytes + estimate.activationBytes { advice = "generate fewer examples (data.count)" }
        throw specError("model", "\(estimate.description); this machine has \(FileSizeLimit.describe(availableBytes)) available (\(advice))")
    }
}

extension ModelSpec {
    /// Parameters, buffers and activations per example (steps × widths for a model that reads
    /// sequences of `steps` steps), all as element counts.
    func sizes(steps: Double) -> (parameters: Double, buffers: Double, activations: Double) {
        switch self {
        case .mlp(let mlp):
            let widths = [mlp.input] + mlp.hidden + [mlp.output]
            var parameters = 0.0, buffers = 0.0, activations = 0.0
            for index in 1..<widths.count {
                let (fanIn, fanOut) = (Double(widths[index - 1]), Double(widths[index]))
                parameters += fanIn * fanOut + fanOut
                let hidden = index < widths.count - 1
                // Linear output, activation output; batch norm's output and two statistics.
                activations += fanOut * (hidden ? 2 : (mlp.outputActivation == nil ? 1 : 2))
                if hidden && mlp.batchNorm {
                    parameters += 2 * fanOut
                    buffers += 2 * fanOut
                    activations += fanOut
                }
                if hidden && mlp.residual { activations += fanOut }
            }
            return (parameters, buffers, activations + Double(mlp.output))
        case .layers(let layers):
            var parameters = 0.0, buffers = 0.0, activations = 0.0
            var width = Double(inputWidth)
            var perStep = readsSequences ? steps : 1
            for layer in layers {
                switch layer {
                case .linear(let inFeatures, let outFeatures, let bias, _, _):
                    parameters += Double(inFeatures) * Double(outFeatures) + (bias ? Double(outFeatures) : 0)
                    width = Double(outFeatures)
                case .prelu(let count, _):
                    parameters += Double(count)
                case .batchNorm(let features, _, _):
                    parameters += 2 * Double(features)
                    buffers += 2 * Double(features)
                case .layerNorm(let features, _):
                    parameters += 2 * Double(features)
                case .dropout:
                    activations += width * perStep  // the mask
                case .recurrent(let r):
                    let gates: Double = switch r.cell {
                    case .rnn: 1
                    case .lstm: 4
                    case .gru: 3
                    }
                    let hidden = Double(r.hidden)
                    for index in 0..<r.layers {
                        let input = index == 0 ? Double(r.input) : hidden
                        parameters += gates * hidden * (input + hidden) + (r.bias ? 2 * gates * hidden : 0)
                    }
                    // Per step and layer: the gates, the hidden state and (LSTM) the cell state.
                    activations += perStep * Double(r.layers) * (gates + 2) * hidden
                    width = hidden
                case .lastStep:
                    perStep = 1
                default:
                    break
                }
                activations += width * perStep
            }
            return (parameters, buffers, activations)
        }
    }
}

extension OptimizerSpec {
    /// State elements the optimizer keeps per parameter: SGD's momentum buffer (when momentum
    /// is on), Adam's two moments (three with AMSGrad), RMSprop's square average (and momentum
    /// buffer, and mean gradient when centered), Adagrad's sum of squares.
    var stateSlots: Int {
        switch self {
        case .sgd(_, let momentum, _, _, _): momentum > 0 ? 1 : 0
        case .adam(_, _, _, _, _, let amsgrad), .adamw(_, _, _, _, _, let amsgrad): amsgrad ? 3 : 2
        case .rmsprop(_, _, _, _, let momentum, let centered): 1 + (momentum > 0 ? 1 : 0) + (centered ? 1 : 0)
        case .adagrad: 1
        }
    }
}

extension DataSource {
    /// Examples, features and target elements per example of a set the run generates or ships
    /// with; nil for data read from the user's files (unknown until read).
    var exampleShape: (count: Double, features: Double, targets: Double)? {
        switch self {
        case .linear(let count, _, _, _): (Double(count), 1, 1)
        case .spiral(let count, let classes): (Double(count), 2, Double(classes))
        case .xor(let count, _): (Double(count), 2, 1)
        case .circles(let count, _, _): (Double(count), 2, 1)
        case .parity(let bits, let count, _): (count.map(Double.init) ?? exp2(Double(bits)), Double(bits), 1)
        case .digits: (1797, 64, 10)
        case .mnist1d(let split, _): (split == .train ? 4000 : 1000, 40, 10)
        case .adding(let count, let length): (Double(count), 2 * Double(length), 1)
        case .copy(let count, let symbols, let length, let delay):
            (Double(count), (2 * Double(length) + Double(delay)) * (Double(symbols) + 2), 2 * Double(length) + Double(delay))
        case .paritySequence(let count, let length, let running, _): (Double(count), Double(length), running ? Double(length) : 1)
        case .csv, .idx: nil
        }
    }
}
