import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// A seed-style training run for the doctor's tests: an MLP on the seeds' line data
/// (`y = 3x + 2 + 0.5ε`, 100 points, data seed 0), full-batch SGD on MSE, every step recorded.
struct SeedRun {
    /// Hidden activation.
    var activation: Activation
    /// Weight initializer (nil: PyTorch's default `Linear` init).
    var weight: Initializer?
    /// Bias initializer when `weight` is set.
    var bias: Initializer = .default
    /// Hidden layer widths (the seeds: ten layers of 10).
    var hidden: [Int] = Array(repeating: 10, count: 10)
    /// SGD learning rate.
    var learningRate: Float
    /// Full-batch steps.
    var epochs: Int
    /// `clipGradNorm` maximum, if any.
    var clip: Float?
    /// Seed of the weights' generator (the seed experiments use data seed + 1 = 1).
    var seed: UInt64 = 1

    /// The model at initialization.
    func makeModel() throws -> Sequential<Float> {
        let rng = RandomGenerator(seed: seed)
        let model = Sequential<Float>.mlp(inputSize: 1, hiddenSizes: hidden, outputSize: 1, activation: activation, generator: rng)
        if let weight { try initializeLinearLayers(in: model, weight: weight, bias: bias, generator: rng) }
        return model
    }

    /// Trains a fresh model and returns its record and the description taken before training.
    func train() throws -> (record: MonitorRecord, network: NetworkDescription) {
        let model = try makeModel()
        let network = NetworkDescription(model: model, learningRate: Double(learningRate))
        let data = SyntheticData.linear(seed: 0, as: Float.self)
        let record = try trainMonitored(model: model, learningRate: learningRate, epochs: epochs, clip: clip) { output in
            meanSquaredError(predictions: output, targets: data.targets)
        } input: { data.features }
        return (record, network)
    }

    /// This run with one prescription applied, as a user would apply it; remedies that need
    /// layers these tests do not build (batch norm, residual connections, LSTM) throw.
    func applying(_ prescription: Prescription) throws -> SeedRun {
        var run = self
        switch prescription.remedy {
        case .useActivation(let activation, let initializer):
            run.activation = activation
            run.weight = initializer
            if initializer != nil { run.bias = .zeros }
        case .initialization(let weight, let bias):
            run.weight = weight
            run.bias = bias ?? run.bias
        case .clipGradNorm(let maxNorm, _):
            run.clip = Float(maxNorm)
        case .lowerLearningRate(let factor), .raiseLearningRate(let factor):
            run.learningRate *= Float(factor)
        case .batchNorm, .residualConnections, .useLSTMOrGRU, .orthogonalRecurrentWeights, .forgetGateBias:
            throw UnsupportedRemedy(name: prescription.remedy.name)
        }
        return run
    }
}

/// A remedy the test harness cannot apply.
struct UnsupportedRemedy: Error, CustomStringConvertible {
    var name: String
    var description: String { "\(name) is not supported by the test harness" }
}

/// Trains `model` full-batch with SGD under a monitor that records every step and keeps going
/// through non-finite values (`warn`), following the monitor's training-loop protocol.
func trainMonitored(model: Sequential<Float>, learningRate: Float, epochs: Int, clip: Float? = nil,
                    loss: (Tensor<Float>) -> Tensor<Float>, input: () -> Tensor<Float>) throws -> MonitorRecord {
    let monitor = Monitor(model: model, settings: .init(every: 1, histogramsEvery: 0, nonfinite: .warn))
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)
    let x = input()
    for _ in 0..<epochs {
        monitor.beginStep()
        optimizer.zeroGrad()
        let value = loss(model(x))
        value.backward()
        guard try monitor.inspectGradients(loss: value) else { continue }
        if let clip {
            let norm = try clipGradNorm(model.parameters, maxNorm: clip)
            monitor.noteClipping(totalNorm: norm, maxNorm: clip)
        }
        monitor.beforeUpdate()
        optimizer.step()
        monitor.afterUpdate()
    }
    return monitor.record
}

/// The seeds' runs, trained once and shared by the tests (globals initialize lazily and once).
enum SeedRuns {
    /// 10×10 sigmoid MLP, PyTorch default init, SGD lr 0.01 (the seeds' vanishing net), 60 steps.
    static let sigmoid = SeedRun(activation: .sigmoid, weight: nil, learningRate: 0.01, epochs: 60)
    /// ReLU MLP with weights N(0, 10²), SGD lr 0.1, no clipping (the seeds' exploding net), 20 steps.
    static let largeInit = SeedRun(activation: .relu, weight: .normal(mean: 0, std: 10), learningRate: 0.1, epochs: 20)
    /// Kaiming-uniform ReLU MLP with zero biases, SGD lr 0.01 (the seeds' healthy net), 300 steps.
    static let kaiming = SeedRun(activation: .relu, weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"),
                                 bias: .zeros, learningRate: 0.01, epochs: 300)
}

let sigmoidSeedRun = try! SeedRuns.sigmoid.train()
let largeInitSeedRun = try! SeedRuns.largeInit.train()
let kaimingSeedRun = try! SeedRuns.kaiming.train()

/// A Kaiming ReLU MLP 64 → 32 → 32 → 10 on the bundled digits (standardized), cross-entropy,
/// full-batch SGD lr 0.1, 30 steps.
let digitsKaimingRun: (record: MonitorRecord, network: NetworkDescription) = {
    let digits = try! BundledData.digits(as: Float.self)
    let data = Standardization(fitting: digits.features).apply(to: digits)
    let rng = RandomGenerator(seed: 1)
    let model = Sequential<Float>.mlp(inputSize: 64, hiddenSizes: [32, 32], outputSize: 10, activation: .relu, generator: rng)
    try! initializeLinearLayers(in: model, weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"), bias: .zeros, generator: rng)
    let network = NetworkDescription(model: model, learningRate: 0.1)
    let record = try! trainMonitored(model: model, learningRate: 0.1, epochs: 30) { output in
        crossEntropy(logits: output, labels: data.labels!)
    } input: { data.features }
    return (record, network)
}()

// MARK: - Hand-built records

/// Builds records from plain values through their JSON form (the record types' public face),
/// with `"nan"`/`"inf"` strings for non-finite numbers.
enum RecordBuilder {
    /// One parameter's statistics.
    static func parameter(_ name: String, norm: Double, weightNorm: Double = 1, updateRatio: Double? = 1e-3,
                          nonfinite: Int = 0) -> [String: Any] {
        var p: [String: Any] = [
            "name": name, "gradientNorm": norm.isFinite ? norm : "nan", "gradientRMS": norm.isFinite ? norm / 10 : "nan",
            "gradientMaxAbs": norm.isFinite ? norm : 0, "gradientMean": 0.0, "gradientStd": norm.isFinite ? norm / 10 : 0,
            "zeroFraction": 0.0, "nonfiniteCount": nonfinite, "weightNorm": weightNorm,
        ]
        if let updateRatio { p["updateRatio"] = updateRatio }
        return p
    }

    /// One layer's statistics.
    static func layer(_ name: String, kind: String, saturation: Double? = nil, dead: Double? = nil,
                      outputGradient: Double? = nil) -> [String: Any] {
        var l: [String: Any] = ["name": name, "kind": kind, "activationMean": 0.0, "activationStd": 1.0, "nonfiniteCount": 0]
        if let saturation { l["saturationFraction"] = saturation }
        if let dead { l["deadFraction"] = dead }
        if let outputGradient { l["outputGradientNorm"] = outputGradient }
        return l
    }

    /// A three-`Linear` network's step: per-layer weight-gradient norms `norms` (input side
    /// first), ReLU between them, the loss and the update ratio of every weight.
    static func step(_ index: Int, loss: Double, norms: [Double] = [1, 1, 1], updateRatio: Double? = 1e-3,
                     dead: Double = 0, skipped: Bool = false) -> [String: Any] {
        var parameters: [[String: Any]] = []
        var layers: [[String: Any]] = []
        for (i, norm) in norms.enumerated() {
            parameters.append(parameter("\(2 * i).weight", norm: norm, updateRatio: updateRatio))
            parameters.append(parameter("\(2 * i).bias", norm: norm / 10, updateRatio: updateRatio))
            layers.append(layer("\(2 * i)", kind: "Linear", outputGradient: norm))
            if i < norms.count - 1 { layers.append(layer("\(2 * i + 1)", kind: "ReLU", dead: dead)) }
        }
        let global = norms.reduce(0) { $0 + $1 * $1 * 1.01 }.squareRoot()
        return ["step": index, "loss": loss.isFinite ? loss : "nan", "globalGradientNorm": global,
                "parameters": parameters, "layers": layers, "skipped": skipped]
    }

    /// A record of `steps`.
    static func record(_ steps: [[String: Any]], firstNonfinite: [String: Any]? = nil) throws -> MonitorRecord {
        var object: [String: Any] = ["steps": steps, "histograms": [], "stride": 1, "histogramStride": 1,
                                     "skippedSteps": steps.filter { $0["skipped"] as? Bool == true }.count]
        if let firstNonfinite { object["firstNonfinite"] = firstNonfinite }
        let data = try JSONSerialization.data(withJSONObject: object)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(MonitorRecord.self, from: data)
    }
}

/// A deterministic stream of numbers in [0, 1) for hand-built noise (SplitMix64).
struct NoiseStream {
    var state: UInt64
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
