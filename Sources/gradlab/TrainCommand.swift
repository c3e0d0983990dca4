import ArgumentParser
import Foundation
import GradLab

/// `gradlab train SPEC`: train a user's model with the monitor on and print the diagnosis;
/// `gradlab train --resume DIR` continues a run that was stopped or killed.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the model a spec file describes, with the gradient monitor on.",
        discussion: """
            Writes the run folder (spec.yaml, metrics.jsonl, summary.json, report.html, charts, TensorBoard events, \
            checkpoint). While training it keeps a training checkpoint (training-checkpoint.safetensors) every \
            --checkpoint-every steps, written atomically; `gradlab train --resume DIR` continues a run killed at any \
            moment from it and ends with the same final weights as a run that was never stopped.

            Files larger than a limit are refused before they are read: 2 GiB for data files (CSV, IDX, and \
            separately the decompressed contents of a .gz file) and checkpoints, 16 MiB for the spec. \
            --max-file-bytes, or the environment variable GRADLAB_MAX_FILE_BYTES, replaces both limits. A model \
            whose parameters, gradients, optimizer state and activations would not fit in the memory available is \
            refused before anything is allocated, with the estimate in the message.
            """)

    @Argument(help: "The spec file (YAML or JSON); not with --resume.")
    var spec: String?

    @Option(help: "A CSV file to train on instead of the spec's data.")
    var data: String?

    @Option(help: "The run folder (default: runs/<name>).")
    var out: String?

    @Option(help: "Override the spec's number of epochs.")
    var epochs: Int?

    @Option(help: "Steps between training checkpoints (0: none).")
    var checkpointEvery = 100

    @Option(help: ArgumentHelp("Continue the run in this folder from its last checkpoint (the spec is its spec.yaml).",
                               valueName: "dir"))
    var resume: String?

    @Option(help: ArgumentHelp(
        "The largest file read (data, spec, checkpoint): bytes, or with a K, M, G or T suffix (powers of 1024). "
            + "Default: 2G for data and checkpoints, 16M for specs; the same as GRADLAB_MAX_FILE_BYTES.",
        valueName: "bytes"))
    var maxFileBytes: String?

    @Flag(help: "No progress on stderr.")
    var quiet = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 or more, got \(checkpointEvery)") }
        if let maxFileBytes, FileSizeLimit.parse(maxFileBytes) == nil {
            throw ValidationError("--max-file-bytes: expected a byte count such as 1048576, 64M or 2G, found '\(maxFileBytes)'")
        }
        if resume != nil {
            if spec != nil { throw ValidationError("give either a spec file or --resume DIR, not both") }
            if data != nil || out != nil || epochs != nil {
                throw ValidationError("--resume continues the run as it was: --data, --out and --epochs cannot change it")
            }
        } else if spec == nil {
            throw ValidationError("missing the spec file (or --resume DIR)")
        }
    }

    func run() throws {
        if let maxFileBytes { setFileSizeLimit(maxFileBytes) }
        try runReportingErrors("train") {
            let outcome: SpecRunOutput
            let folderURL: URL
            installInterruptHandler()
            if let resume {
                folderURL = URL(fileURLWithPath: resume)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folderURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw RunFolderError.missing(path: folderURL.path)
                }
                let folder = try RunFolder(folderURL)
                guard folder.contains("spec.yaml") else { throw ResumeError.notARunFolder(path: folder.url.path) }
                let spec = try RunSpec.load(contentsOf: folder.file("spec.yaml"))
                let progress = ProgressPrinter(label: spec.name, totalEpochs: spec.train.epochs, quiet: quiet)
                outcome = try SpecRun.resume(folder, progress: progress, checkpointEvery: checkpointEvery)
            } else {
                var spec = try RunSpec.load(contentsOf: URL(fileURLWithPath: self.spec ?? ""))
                if let epochs { spec.train.epochs = epochs }
                folderURL = out.map { URL(fileURLWithPath: $0) } ?? RunFolder.defaultURL(forRunNamed: spec.name, in: URL(fileURLWithPath: "runs"))
                let progress = ProgressPrinter(label: spec.name, totalEpochs: spec.train.epochs, quiet: quiet)
                outcome = try SpecRun.train(spec, dataFile: data.map { URL(fileURLWithPath: $0) }, folder: try RunFolder(folderURL),
                                            progress: progress, checkpointEvery: checkpointEvery)
            }
            let folder = RunFolder(unchecked: folderURL)
            if output.json {
                try printJSON(outcome.summary)
            } else {
                print(outcome.summary.text)
                print("\nrun folder: \(folder.url.path)")
            }
            if outcome.result.status == .interrupted { throw ExitCode(130) }
            if outcome.result.status == .nonfinite { throw ExitCode(1) }
        }
    }
}
