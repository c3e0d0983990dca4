import ArgumentParser
import Foundation
import GradLab

/// `gradlab diagnose SPEC`: a short run, the diagnosis and prescriptions, and with `--verify`
/// a rerun with each top prescription.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose", abstract: "Train briefly, diagnose the gradients and prescribe remedies (--verify reruns them).")

    @Argument(help: "The spec file (YAML or JSON).")
    var spec: String

    @Flag(help: "Rerun with each of the top prescriptions and compare before/after.")
    var verify = false

    @Option(help: "How many prescriptions --verify reruns.")
    var top = 3

    @Option(help: "Epochs of the short run (default: the spec's, at most 200).")
    var epochs: Int?

    @Option(help: "A CSV file to train on instead of the spec's data.")
    var data: String?

    @Option(help: "The run folder (default: runs/<name>-diagnosis).")
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
    }

    func run() throws {
        try runReportingErrors("diagnose") {
            var spec = try RunSpec.load(contentsOf: URL(fileURLWithPath: self.spec))
            spec.train.epochs = epochs ?? Swift.min(spec.train.epochs, 200)
            spec.doctor.enabled = true
            if spec.doctor.nonfinite == .raise { spec.doctor.nonfinite = .warn }
            let folderURL = out.map { URL(fileURLWithPath: $0) }
                ?? RunFolder.defaultURL(forRunNamed: spec.name, in: URL(fileURLWithPath: "runs"), suffix: "-diagnosis")
            installInterruptHandler()
            let dataFile = data.map { URL(fileURLWithPath: $0) }
            let baseline = try SpecRun.train(spec, dataFile: dataFile, folder: try RunFolder(folderURL),
                                             progress: ProgressPrinter(label: spec.name, totalEpochs: spec.train.epochs, quiet: false))
            let folder = RunFolder(unchecked: folderURL)
            var summary = baseline.summary
            if verify {
                let (report, reruns) = SpecRun.verify(baseline, top: top, dataFile: dataFile) { index, _ in
                    try RunFolder(folder.url.appendingPathComponent("verify-\(index)"))
                }
                summary.verification = report
                try SpecRun.rewriteResults(baseline, folder: folder, verification: report, reruns: reruns)
            }
            if output.json {
                try printJSON(summary)
            } else {
                print(summary.text)
                if let diagnosis = summary.diagnosis {
                    print("\nprescriptions:")
                    for p in diagnosis.prescriptions.sorted(by: { $0.rank < $1.rank }) {
                        print("  \(p.rank). \(p.remedy.label): \(p.rationale)")
                    }
                }
                print("\nrun folder: \(folder.url.path)")
            }
        }
    }
}
