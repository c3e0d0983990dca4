import ArgumentParser
import Foundation
import GradLab

/// `gradlab sweep SPEC --grid '...'`: every combination × seeds, each run in its own folder,
/// in parallel processes, resumable and shardable, then the summary table and phase diagram.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Train every combination of a grid of settings (resumable, parallel, shardable).",
        discussion: """
            Grid keys: depth, width, activation, init, lr, optimizer, batch_norm, residual, clip, epochs, batch_size, seed. \
            A rerun skips the runs that finished (their folder has summary.json). With --shard I/N this process runs \
            every N-th run starting at the I-th (1-based); `gradlab report DIR` merges the shards' results.
            """)

    @Argument(help: "The base spec file (YAML or JSON).")
    var spec: String

    @Option(help: ArgumentHelp("The grid, e.g. 'depth=2,5,10,20,40 activation=sigmoid,tanh,relu init=xavier,kaiming'.",
                               discussion: "May be repeated: '--grid depth=2,5 --grid activation=relu,tanh' is the same grid."))
    var grid: [String]

    @Option(help: "Runs per combination, with seeds spec.seed + 0, 1, ...")
    var seeds = 1

    @Option(help: "Runs in parallel (processes).")
    var jobs = 1

    @Option(help: "Run only shard I of N (1-based), e.g. 2/4.")
    var shard: String?

    @Option(help: "The sweep folder (default: runs/<name>-sweep).")
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let shard, parseShard(shard) == nil { throw ValidationError("--shard must be I/N with 1 ≤ I ≤ N, got '\(shard)'") }
    }

    /// Every `--grid` value, in order, as one grid.
    var gridText: String { grid.joined(separator: " ") }

    func parseShard(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        return (i, n)
    }

    func run() throws {
        try runReportingErrors("sweep") {
            let base = try RunSpec.load(contentsOf: URL(fileURLWithPath: spec))
            let grid = try SweepGrid(parsing: gridText)
            let all = try Sweep.plan(base: base, grid: grid, seeds: seeds)
            let mine = shard.flatMap(parseShard).map { Sweep.shard(all, index: $0.0, count: $0.1) } ?? all
            let folder = try RunFolder(out.map { URL(fileURLWithPath: $0) }
                ?? RunFolder.defaultURL(forRunNamed: base.name, in: URL(fileURLWithPath: "runs"), suffix: "-sweep"))
            try folder.writeJSON(SweepManifest(baseSpec: base.yaml, grid: gridText, seeds: seeds), to: "sweep.json")
            installInterruptHandler()
            let todo = mine.filter { !Sweep.isFinished($0, in: folder) }
            printError("sweep: \(all.count) runs, \(mine.count) in this shard, \(mine.count - todo.count) already finished")
            var failures: [String] = []
            if jobs == 1 {
                for (i, entry) in todo.enumerated() where interruptRequested == 0 {
                    let runFolder = try Sweep.prepare(entry, in: folder)
                    printError("[\(i + 1)/\(todo.count)] \(entry.folderName)")
                    let progress = ProgressPrinter(label: entry.folderName, totalEpochs: entry.spec.train.epochs, quiet: true)
                    do {
                        _ = try SpecRun.train(entry.spec, folder: runFolder, progress: progress)
                    } catch {
                        failures.append("\(entry.folderName): \(error)")
                    }
                }
            } else {
                failures = try runInProcesses(todo, folder: folder)
            }
            let results = Sweep.results(all, in: folder)
            let text = try Sweep.writeSummary(grid: grid, entries: all, results: results, folder: folder, title: "Sweep of \(base.name)")
            if output.json {
                try printJSON(SweepOutput(runs: all.count, finished: results.count, failures: failures,
                                          trainSeconds: results.reduce(0) { $0 + $1.summary.trainSeconds }, folder: folder.url.path))
            } else {
                print(text)
                for failure in failures { printError("failed: \(failure)") }
                print("\n\(results.count) of \(all.count) runs finished; report: \(folder.file("report.html").path)")
            }
            if interruptRequested != 0 { throw ExitCode(130) }
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }

    /// Runs each entry as `gradlab train` in a child process, at most `jobs` at a time.
    func runInProcesses(_ entries: [SweepEntry], folder: RunFolder) throws -> [String] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var pending = entries[...]
        var running: [(Process, SweepEntry)] = []
        var failures: [String] = []
        while (!pending.isEmpty && interruptRequested == 0) || !running.isEmpty {
            while running.count < jobs, interruptRequested == 0, let entry = pending.popFirst() {
                let runFolder = try Sweep.prepare(entry, in: folder)
                let process = Process()
                process.executableURL = executable
                process.arguments = ["train", runFolder.file("spec.yaml").path, "--out", runFolder.url.path, "--quiet"]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                running.append((process, entry))
                printError("started \(entry.folderName)")
            }
            Thread.sleep(forTimeInterval: 0.01)
            running.removeAll { process, entry in
                guard !process.isRunning else {
                    if interruptRequested != 0 { process.interrupt() }
                    return false
                }
                let status = process.terminationStatus
                // 1 is a run that went non-finite: a finished run with a result, not a failure.
                if status != 0 && status != 1 { failures.append("\(entry.folderName): gradlab train exited with \(status)") }
                return true
            }
        }
        return failures
    }
}

/// The `--json` output of a sweep.
struct SweepOutput: Encodable {
    let runs: Int
    let finished: Int
    let failures: [String]
    let trainSeconds: Double
    let folder: String

    enum CodingKeys: String, CodingKey {
        case runs, finished, failures, folder
        case trainSeconds = "train_seconds"
    }
}
