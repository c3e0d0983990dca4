import Foundation
import GradData
import GradNN
import GradOptim
import GradTensor

/// The outcome of one catalog experiment: its runs and a conclusion computed from them.
public struct ExperimentResult: Codable, Sendable {
    /// The catalog name (`seed-sigmoid-vs-relu`, ...).
    public var experiment: String
    /// What was run, in one sentence.
    public var setup: String
    /// One record per compared run.
    public var runs: [RunRecord]
    /// What the numbers show, derived from `runs`.
    public var conclusion: String

    /// A fixed-width comparison table of the runs.
    public var table: String {
        var rows = [["run", "final loss", "best loss", "first |∇W|", "last |∇W|", "first/last", "finite"]]
        for r in runs {
            rows.append([r.name, formatNumber(r.finalLoss), formatNumber(r.bestLoss),
                         formatNumber(r.initialGradientNorms.first ?? .nan),
                         formatNumber(r.initialGradientNorms.last ?? .nan),
                         formatNumber(r.initialFirstToLastRatio),
                         r.finite ? "yes" : "no (epoch \(r.firstNonfiniteEpoch!))"])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.enumerated().map { i, row in
            let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            return i == 0 ? line + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") : line
        }.joined(separator: "\n")
    }
}

/// A number in at most 4 significant digits, in scientific notation when very large or small.
func formatNumber(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x != 0 && (Swift.abs(x) < 1e-3 || Swift.abs(x) >= 1e5) { return String(format: "%.3e", x) }
    return String(format: "%.4g", x)
}

/// The demonstrations of the seed articles, reproduced with their settings.
///
/// All use the seeds' network of 10 hidden layers of width 10 on `y = 3x + 2 + 0.5ε`
/// (100 points, `x ~ N(0, 1)`), MSE, full-batch SGD, except the spiral (2-class, 1000 points,
/// layers [2, 10, 10, 10, 1], sigmoid, BCE).
public enum SeedExperiment: String, CaseIterable, Sendable {
    case sigmoidVsReLU = "seed-sigmoid-vs-relu"
    case clipping = "seed-clipping"
    case xavierVsKaiming = "seed-xavier-vs-kaiming"
    case spiralSigmoid = "seed-spiral-sigmoid"

    /// One line for `gradlab list`.
    public var summary: String {
        switch self {
        case .sigmoidVsReLU: "10×10 sigmoid vs ReLU MLP, default init, SGD lr 0.01, 500 epochs: where the gradient vanishes"
        case .clipping: "ReLU MLP with weights N(0, 10²), SGD lr 0.1, 50 epochs, without and with clip-norm 10"
        case .xavierVsKaiming: "ReLU MLP with Xavier-uniform vs Kaiming-uniform init, SGD lr 0.01, 500 epochs"
        case .spiralSigmoid: "2-class spiral, [2,10,10,10,1] sigmoid MLP, N(0, 0.01²) init, SGD lr 0.01, 1000 steps, BCE"
        }
    }

    /// Runs the experiment in `Float` and returns its runs and computed conclusion.
    ///
    /// - Parameters:
    ///   - seed: fixes the data and the initial weights (each compared run starts from the
    ///     same generator state).
    ///   - epochs: overrides the number of epochs (for quick checks); nil keeps the seeds' value.
    public func run(seed: UInt64 = 0, epochs: Int? = nil) throws -> ExperimentResult {
        switch self {
        case .sigmoidVsReLU:
            let data = SyntheticData.linear(seed: seed, as: Float.self)
            let n = epochs ?? 500
            let runs = try [Activation.sigmoid, .relu].map { activation in
                let model = Sequential<Float>.mlp(inputSize: 1, hiddenSizes: Array(repeating: 10, count: 10), outputSize: 1,
                                                  activation: activation, generator: RandomGenerator(seed: seed &+ 1))
                return try trainFullBatch(name: activation.rawValue, model: model, data: data, loss: .mse,
                                          optimizer: SGD(parameters: model.parameters, learningRate: 0.01), epochs: n)
            }
            return ExperimentResult(experiment: rawValue, setup: summary, runs: runs, conclusion: conclusionLearning(runs))

        case .clipping:
            let data = SyntheticData.linear(seed: seed, as: Float.self)
            let n = epochs ?? 50
            let runs = try [nil, Float(10)].map { clip in
                let rng = RandomGenerator(seed: seed &+ 1)
                let model = Sequential<Float>.mlp(inputSize: 1, hiddenSizes: Array(repeating: 10, count: 10), outputSize: 1,
                                                  activation: .relu, generator: rng)
                try initializeLinearLayers(in: model, weight: .normal(mean: 0, std: 10), generator: rng)
                return try trainFullBatch(name: clip == nil ? "no clipping" : "clip norm 10", model: model, data: data,
                                          loss: .mse, optimizer: SGD(parameters: model.parameters, learningRate: 0.1),
                                          epochs: n, clipNorm: clip)
            }
            return ExperimentResult(experiment: rawValue, setup: summary, runs: runs, conclusion: conclusionClipping(runs))

        case .xavierVsKaiming:
            let data = SyntheticData.linear(seed: seed, as: Float.self)
            let n = epochs ?? 500
            let inits: [(String, Initializer)] = [("xavier_uniform", .xavierUniform(gain: 1)),
                                                  ("kaiming_uniform", .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"))]
            let runs = try inits.map { name, initializer in
                let rng = RandomGenerator(seed: seed &+ 1)
                let model = Sequential<Float>.mlp(inputSize: 1, hiddenSizes: Array(repeating: 10, count: 10), outputSize: 1,
                                                  activation: .relu, generator: rng)
                try initializeLinearLayers(in: model, weight: initializer, bias: .zeros, generator: rng)
                return try trainFullBatch(name: name, model: model, data: data, loss: .mse,
                                          optimizer: SGD(parameters: model.parameters, learningRate: 0.01), epochs: n)
            }
            return ExperimentResult(experiment: rawValue, setup: summary, runs: runs, conclusion: conclusionLearning(runs))

        case .spiralSigmoid:
            let data = SyntheticData.spiral(count: 1000, seed: seed, as: Float.self)
            let n = epochs ?? 1000
            let rng = RandomGenerator(seed: seed &+ 1)
            let model = Sequential<Float>.mlp(inputSize: 2, hiddenSizes: [10, 10, 10], outputSize: 1,
                                              activation: .sigmoid, outputActivation: .sigmoid, generator: rng)
            try initializeLinearLayers(in: model, weight: .normal(mean: 0, std: 0.01), bias: .zeros, generator: rng)
            let run = try trainFullBatch(name: "sigmoid, N(0, 0.01²)", model: model, data: data, loss: .bce,
                                         optimizer: SGD(parameters: model.parameters, learningRate: 0.01), epochs: n)
            return ExperimentResult(experiment: rawValue, setup: summary, runs: [run], conclusion: conclusionSpiral(run))
        }
    }

    /// Which runs learned: a run "learned" when its final loss is below half its first loss.
    private func conclusionLearning(_ runs: [RunRecord]) -> String {
        runs.map { r in
            let first = r.losses.first ?? .nan
            let learned = r.finite && r.finalLoss < 0.5 * first
            return "\(r.name): loss \(formatNumber(first)) → \(formatNumber(r.finalLoss)) (\(learned ? "learned" : "did not learn")); "
                + gradientRatioPhrase(r)
        }.joined(separator: ". ") + "."
    }

    private func conclusionClipping(_ runs: [RunRecord]) -> String {
        runs.map { r in
            if let e = r.firstNonfiniteEpoch {
                return "\(r.name): non-finite at epoch \(e) (initial global gradient norm \(formatNumber(r.totalGradientNorms.first ?? .nan)))"
            }
            return "\(r.name): stays finite for \(r.losses.count) epochs, final loss \(formatNumber(r.finalLoss))"
                + " (initial global gradient norm \(formatNumber(r.totalGradientNorms.first ?? .nan)), clipped to 10 each step)"
        }.joined(separator: ". ") + "."
    }

    private func conclusionSpiral(_ r: RunRecord) -> String {
        let first = r.losses.first ?? .nan
        return "BCE \(formatNumber(first)) → \(formatNumber(r.finalLoss)) (ln 2 = 0.6931 is chance); "
            + gradientRatioPhrase(r) + "."
    }

    /// How the first layer's gradient compares with the last layer's at the start, in words.
    private func gradientRatioPhrase(_ r: RunRecord) -> String {
        let ratio = r.initialFirstToLastRatio
        if ratio == 0 {
            return "no gradient reaches the first layer at the start (every unit of some layer is inactive: dead ReLUs)"
        }
        return "first-layer gradient is \(formatNumber(ratio))× the last layer's at the start"
            + (ratio < 1e-2 ? ": the gradient vanishes on its way to the input" : "")
    }
}
