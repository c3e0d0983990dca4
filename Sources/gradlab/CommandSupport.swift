import ArgumentParser
import Foundation
import GradLab

#if canImport(Glibc)
import Glibc
#endif

/// Options every command that prints results shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout and nothing else there.")
    var json = false
}

/// Writes one line to stderr.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints `value` as one JSON object on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try JSONEncoder.gradlab().encode(value), as: UTF8.self))
}

/// Runs a command's body, turning errors into DESIGN.md's exit codes with a one-line message:
/// 65 for bad input (spec, data, checkpoint files), 1 for a run that failed, 64 for a
/// `GRADLAB_MAX_FILE_BYTES` that is not a byte count.
func runReportingErrors(_ command: String, _ body: () throws -> Void) throws {
    if let problem = fileSizeLimitProblem() {
        printError("gradlab \(command): \(problem)")
        throw ExitCode(64)
    }
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let line = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError("gradlab \(command): \(line)")
        throw ExitCode(isBadInput(error) ? 65 : 1)
    }
}

/// Whether an error was caused by a user's file rather than by the run.
func isBadInput(_ error: Error) -> Bool {
    switch error {
    case is SpecError, is DataError, is CheckpointError, is RunFolderError, is ResumeError, is TrainingCheckpointError,
         is TrainingError: true
    // A damaged event file in a resumed run's folder; failing to rewrite one is the run's failure.
    case let error as TensorBoardEventFileError:
        if case .cannotWrite = error { false } else { true }
    default: false
    }
}

/// The one-line problem with the `GRADLAB_MAX_FILE_BYTES` environment variable, or nil when it
/// is unset or a byte count.
func fileSizeLimitProblem() -> String? {
    guard let text = ProcessInfo.processInfo.environment[FileSizeLimit.environmentVariable],
          FileSizeLimit.parse(text) == nil else { return nil }
    return "\(FileSizeLimit.environmentVariable): expected a byte count such as 1048576, 64M or 2G, "
        + "found '\(oneLineText(text, limit: 40))'"
}

/// Sets the file size limit of every reader in this process (`--max-file-bytes`), as
/// `GRADLAB_MAX_FILE_BYTES` would.
///
/// - Parameter text: a byte count, already checked with `FileSizeLimit.parse`.
func setFileSizeLimit(_ text: String) {
    setenv(FileSizeLimit.environmentVariable, text, 1)
}

/// Set by SIGINT: the running command stops after the current step and writes what it has.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// Installs the Ctrl-C handler (the first Ctrl-C stops cleanly; a second one kills), and
/// unblocks SIGINT, which a process inherits blocked from a parent that blocked it (a test
/// runner's thread does): otherwise Ctrl-C would stay pending and never stop the command.
func installInterruptHandler() {
    signal(SIGINT) { _ in
        if interruptRequested != 0 { _exit(130) }
        interruptRequested = 1
    }
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Progress on stderr: a bar with ETA on a terminal, a plain line every 10% otherwise.
final class ProgressPrinter: TrainingObserver {
    let label: String
    let totalEpochs: Int
    let quiet: Bool
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var lastStep: TrainingStep?

    init(label: String, totalEpochs: Int, quiet: Bool = false) {
        self.label = terminalSafe(label)
        self.totalEpochs = totalEpochs
        self.quiet = quiet
    }

    func trainer(didTake step: TrainingStep, model: any Module<Float>) { lastStep = step }

    func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>) {
        guard !quiet else { return }
        let done = epoch.epoch + 1
        let elapsed = Date().timeIntervalSince(start)
        let eta = elapsed / Double(done) * Double(totalEpochs - done)
        var text = "\(label): epoch \(done)/\(totalEpochs)  loss \(short(epoch.loss))"
        if let v = epoch.validationLoss { text += "  val \(short(v))" }
        if let a = epoch.validationAccuracy { text += String(format: "  acc %.1f%%", a * 100) }
        if let g = lastStep?.gradientNorm { text += "  |g| \(short(g))" }
        if isTerminal {
            guard Date().timeIntervalSince(lastPrint) > 0.1 || done == totalEpochs else { return }
            lastPrint = Date()
            let width = 24, filled = width * done / Swift.max(totalEpochs, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)  ETA \(String(format: "%.1f", eta)) s".utf8))
            if done == totalEpochs { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done == totalEpochs || done % Swift.max(totalEpochs / 10, 1) == 0 {
            printError(text + String(format: "  (%.1f s)", elapsed))
        }
    }

    func trainerShouldStop() -> Bool { interruptRequested != 0 }

    private func short(_ x: Double) -> String {
        if !x.isFinite { return "\(x)" }
        return Swift.abs(x) < 1e-3 || Swift.abs(x) >= 1e5 ? String(format: "%.3e", x) : String(format: "%.4g", x)
    }
}
