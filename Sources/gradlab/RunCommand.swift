import ArgumentParser
import Foundation
import GradLab

/// `gradlab run EXPERIMENT`: run a catalog experiment, write its folder and print the
/// comparison and its conclusion.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an experiment of the catalog (see `gradlab list`).")

    @Argument(help: "The experiment's name, e.g. seed-sigmoid-vs-relu.")
    var experiment: String

    @Option(help: "The output folder (default: runs/<experiment>).")
    var out: String?

    @Option(help: "Seed of the data and the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Override the number of epochs of every run (for a quick look).")
    var epochs: Int?

    @Option(help: ArgumentHelp(
        "How many of the experiment's runs train at once, on threads of one process (default: one per CPU).",
        discussion: "Runs are independent, so their results do not depend on it."))
    var jobs: Int?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard CatalogExperiment.named(experiment) != nil else {
            throw ValidationError("unknown experiment '\(experiment)' (expected one of \(CatalogExperiment.all.map(\.name).joined(separator: ", ")))")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    }

    func run() throws {
        let chosen = CatalogExperiment.named(experiment)!
        try runReportingErrors("run") {
            printError("running \(chosen.name): \(chosen.summary)")
            let folder = try RunFolder(URL(fileURLWithPath: out ?? "runs/\(chosen.name)"))
            installInterruptHandler()
            let progress = ProgressPrinter(label: chosen.name, totalEpochs: epochs ?? 0, quiet: true)
            let result = try chosen.run(seed: seed, epochs: epochs, folder: folder, progress: progress,
                                        jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
            if output.json {
                try printJSON(ExperimentSummary(result))
            } else {
                print(result.table)
                print()
                print(result.conclusion)
                print("\nrun folder: \(folder.url.path)")
            }
            if interruptRequested != 0 { throw ExitCode(130) }
        }
    }
}
