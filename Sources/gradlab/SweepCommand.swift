import ArgumentParser
import Foundation
import GradLab

/// `gradlab sweep SPEC --grid '...'`: every combination × seeds, each run in its own folder,
/// on parallel threads, resumable and shardable, then the summary table and phase diagram.
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

    @Option(help: "Runs in parallel (threads of this process; at most one per CPU run at once).")
    var jobs = 1

    @Option(help: ArgumentHelp("Steps between each run's training checkpoints (0: none).",
                               discussion: "With checkpoints, a run stopped by Ctrl-C or killed continues from its last one when the sweep is started again; without, it starts again."))
    var checkpointEvery = 0

    @Option(help: "Run only shard I of N (1-based), e.g. 2/4.")
    var shard: String?

    @Option(help: "The sweep folder (default: runs/<name>-sweep).")
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 or more, got \(checkpointEvery)") }
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
            let failures = runInThreads(todo, folder: folder)
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

    /// Trains the entries in this process on `jobs` threads (Dispatch runs at most one per CPU at
    /// once), each taking the next entry as it finishes one, and returns the failures in the entries' order. An unfinished run with a
    /// training checkpoint continues from it (`Sweep.isResumable`); any other starts again.
    ///
    /// Runs are independent (their own model, generator, optimizer and folder; autodiff's
    /// recording switch is per thread), so a run's results do not depend on `jobs`. Threads
    /// rather than child processes: a child spent about a third of a small run starting up
    /// (loading the binary, Swift's type metadata, parsing its spec again).
    ///
    /// On several threads the entries are taken largest first (`estimatedWork`), so that the
    /// sweep does not end with one thread training the deepest net while the others are idle.
    func runInThreads(_ entries: [SweepEntry], folder: RunFolder) -> [String] {
        let queue = SweepQueue(count: entries.count)
        let order = entries.indices.map { ($0, jobs == 1 ? 0 : Self.estimatedWork(entries[$0].spec)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
        let work = { @Sendable in
            while interruptRequested == 0, let k = queue.take() {
                let i = order[k]
                let entry = entries[i]
                printError(jobs == 1 ? "[\(i + 1)/\(entries.count)] \(entry.folderName)" : "started \(entry.folderName)")
                do {
                    let progress = ProgressPrinter(label: entry.folderName, totalEpochs: entry.spec.train.epochs, quiet: true)
                    if Sweep.isResumable(entry, in: folder) {
                        printError("resuming \(entry.folderName) from its checkpoint")
                        _ = try SpecRun.resume(try RunFolder(folder.url.appendingPathComponent(entry.folderName)), progress: progress,
                                               checkpointEvery: checkpointEvery)
                    } else {
                        _ = try SpecRun.train(entry.spec, folder: try Sweep.prepare(entry, in: folder), progress: progress,
                                              checkpointEvery: checkpointEvery)
                    }
                } catch {
                    queue.fail(i, "\(entry.folderName): \(error)")
                }
            }
        }
        if jobs == 1 {
            work()
        } else {
            DispatchQueue.concurrentPerform(iterations: Swift.min(jobs, Swift.max(entries.count, 1))) { _ in work() }
        }
        return queue.failures
    }

    /// A run's work relative to the other entries of its sweep: epochs × batch × (parameters +
    /// layer outputs per example), from the spec's `resourceEstimate` (the sweep's entries
    /// share their data, so the number of batches per epoch cancels out).
    static func estimatedWork(_ spec: RunSpec) -> Double {
        let estimate = spec.resourceEstimate()
        return Double(spec.train.epochs) * estimate.batchSize * (estimate.parameters + estimate.activationsPerExample)
    }
}

/// The next entry to run and the failures so far, shared by a sweep's worker threads.
private final class SweepQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var next = 0
    private var failed: [(Int, String)] = []

    init(count: Int) { self.count = count }

    /// The index of the next entry, or nil when every entry was taken.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }

    func fail(_ index: Int, _ message: String) {
        lock.lock()
        failed.append((index, message))
        lock.unlock()
    }

    /// The failures in the entries' order.
    var failures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return failed.sorted { $0.0 < $1.0 }.map(\.1)
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
