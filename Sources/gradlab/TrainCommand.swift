import ArgumentParser
import Foundation
import GradLab

/// `gradlab train SPEC`: train a user's model with the monitor on and print the diagnosis.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the model a spec file describes, with the gradient monitor on.",
        discussion: "Writes the run folder (spec.yaml, metrics.jsonl, summary.json, report.html, charts, TensorBoard events, checkpoint).")

    @Argument(help: "The spec file (YAML or JSON).")
    var spec: String

    @Option(help: "A CSV file to train on instead of the spec's data.")
    var data: String?

    @Option(help: "The run folder (default: runs/<name>).")
    var out: String?

    @Option(help: "Override the spec's number of epochs.")
    var epochs: Int?

    @Flag(help: "No progress on stderr.")
    var quiet = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    }

    func run() throws {
        try runReportingErrors("train") {
            var spec = try RunSpec.load(contentsOf: URL(fileURLWithPath: self.spec))
            if let epochs { spec.train.epochs = epochs }
            let folderURL = URL(fileURLWithPath: out ?? "runs/\(spec.name)")
            installInterruptHandler()
            let progress = ProgressPrinter(label: spec.name, totalEpochs: spec.train.epochs, quiet: quiet)
            let result = try SpecRun.train(spec, dataFile: data.map { URL(fileURLWithPath: $0) }, folder: try RunFolder(folderURL),
                                           progress: progress)
            let folder = RunFolder(unchecked: folderURL)
            if output.json {
                try printJSON(result.summary)
            } else {
                print(result.summary.text)
                print("\nrun folder: \(folder.url.path)")
            }
            if result.result.status == .interrupted { throw ExitCode(130) }
            if result.result.status == .nonfinite { throw ExitCode(1) }
        }
    }
}
