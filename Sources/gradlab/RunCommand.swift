import ArgumentParser
import Foundation
import GradLab

/// `gradlab run EXPERIMENT`: run a catalog experiment and print its comparison and conclusion.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an experiment of the catalog (see `gradlab list`).")

    @Argument(help: "The experiment's name, e.g. seed-sigmoid-vs-relu.")
    var experiment: String

    @Option(help: "Seed of the data and the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Override the number of epochs (for a quick look).")
    var epochs: Int?

    @Flag(help: "Print one JSON object on stdout and nothing else there.")
    var json = false

    func validate() throws {
        guard SeedExperiment(rawValue: experiment) != nil else {
            throw ValidationError("unknown experiment '\(experiment)' (expected one of \(SeedExperiment.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    }

    func run() throws {
        let chosen = SeedExperiment(rawValue: experiment)!
        FileHandle.standardError.write(Data("running \(chosen.rawValue): \(chosen.summary)\n".utf8))
        let result = try chosen.run(seed: seed, epochs: epochs)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(ExperimentSummary(result)), as: UTF8.self))
        } else {
            print(result.table)
            print()
            print(result.conclusion)
        }
    }
}

/// The `--json` form of an experiment: per-run final figures, without the per-epoch series.
struct ExperimentSummary: Encodable {
    struct Run: Encodable {
        let name: String
        let finalLoss: Double
        let bestLoss: Double
        let firstLayerGradientNorm: Double
        let lastLayerGradientNorm: Double
        let finite: Bool
        let firstNonfiniteEpoch: Int?
        let epochs: Int
        let trainSeconds: Double

        enum CodingKeys: String, CodingKey {
            case name, finite, epochs
            case finalLoss = "final_loss", bestLoss = "best_loss"
            case firstLayerGradientNorm = "first_layer_grad_norm", lastLayerGradientNorm = "last_layer_grad_norm"
            case firstNonfiniteEpoch = "first_nonfinite_epoch", trainSeconds = "train_seconds"
        }
    }
    let experiment: String
    let runs: [Run]
    let conclusion: String
    let trainSeconds: Double

    enum CodingKeys: String, CodingKey {
        case experiment, runs, conclusion
        case trainSeconds = "train_seconds"
    }

    init(_ result: ExperimentResult) {
        experiment = result.experiment
        conclusion = result.conclusion
        runs = result.runs.map {
            Run(name: $0.name, finalLoss: $0.finalLoss, bestLoss: $0.bestLoss,
                firstLayerGradientNorm: $0.initialGradientNorms.first ?? .nan,
                lastLayerGradientNorm: $0.initialGradientNorms.last ?? .nan,
                finite: $0.finite, firstNonfiniteEpoch: $0.firstNonfiniteEpoch, epochs: $0.losses.count,
                trainSeconds: $0.trainSeconds)
        }
        trainSeconds = result.runs.reduce(0) { $0 + $1.trainSeconds }
    }
}
