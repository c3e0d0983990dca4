import Foundation
import GradNN
import GradTestSupport
import Testing

/// `gradlab train/diagnose/grads/report/sweep` run as processes on small specs: the run folder's
/// files, `--json` output, and exit code 65 with a one-line message for every malformed input.
@Suite(.serialized) struct CLIRunTests {
    static let cli = fixturesDirectory.appendingPathComponent("cli")

    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-cli-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not one JSON object: \(text)")
    }

    @Test func trainWritesTheRunFolder() throws {
        let out = try Self.temporaryFolder("train").appendingPathComponent("run")
        let r = try CLITests.run(["train", Self.cli.appendingPathComponent("tiny.yaml").path, "--out", out.path, "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let summary = try Self.json(r.stdout)
        #expect(summary["name"] as? String == "tiny")
        #expect(summary["finite"] as? Bool == true)
        #expect(summary["epochs"] as? Int == 30)
        #expect(summary["steps"] as? Int == 120, "100 points in batches of 25 for 30 epochs")
        #expect((summary["diagnosis"] as? [String: Any])?["state"] is String)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
        for name in ["spec.yaml", "metrics.jsonl", "metrics.csv", "summary.json", "result.json", "record.safetensors",
                     "report.html", "loss.svg", "gradient_flow.svg", "checkpoint.safetensors"] {
            #expect(files.contains(name), "\(name) missing from \(files)")
        }
        #expect(files.contains { $0.hasPrefix("events.out.tfevents.") })
        #expect(!files.contains { $0.hasSuffix(".tmp") }, "temporary files left: \(files)")
        let lines = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 120)
        // The written spec is the resolved one and trains again to the same numbers.
        let again = out.deletingLastPathComponent().appendingPathComponent("again")
        let r2 = try CLITests.run(["train", out.appendingPathComponent("spec.yaml").path, "--out", again.path, "--json"])
        #expect(r2.status == 0, "stderr: \(r2.stderr)")
        #expect(try Self.json(r2.stdout)["final_loss"] as? Double == summary["final_loss"] as? Double)
    }

    /// A full disk while training (metrics.jsonl is a link to /dev/full, where every write
    /// fails with ENOSPC): a one-line error naming the file, exit 1, and no summary.json, so
    /// the folder does not pass for a finished run.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func fullDiskStopsTheRunWithAnError() throws {
        let out = try Self.temporaryFolder("full").appendingPathComponent("run")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("metrics.jsonl").path,
                                                   withDestinationPath: "/dev/full")
        let r = try CLITests.run(["train", Self.cli.appendingPathComponent("tiny.yaml").path, "--out", out.path])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("metrics.jsonl"), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))
    }

    @Test func diagnoseVerifyRerunsThePrescriptions() throws {
        let out = try Self.temporaryFolder("diagnose")
        let r = try CLITests.run(["diagnose", Self.cli.appendingPathComponent("deep-sigmoid.yaml").path, "--verify", "--top", "2",
                                  "--epochs", "100", "--out", out.path, "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let summary = try Self.json(r.stdout)
        let diagnosis = try #require(summary["diagnosis"] as? [String: Any])
        let findings = try #require(diagnosis["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["kind"] as? String == "vanishing_gradients" })
        let verification = try #require(summary["verification"] as? [String: Any])
        let entries = try #require(verification["entries"] as? [[String: Any]])
        #expect(entries.count == 2)
        #expect(entries.contains { $0["verdict"] as? String == "helped" }, "\(entries)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("verify-1/summary.json").path))
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("deep-sigmoid + "), "the report shows the rerun beside the baseline")
        // report rebuilds the same page from the folder.
        let r2 = try CLITests.run(["report", out.path])
        #expect(r2.status == 0, "stderr: \(r2.stderr)")
        #expect(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8).contains("deep-sigmoid + "))
    }

    @Test func gradsWritesTheLossAndEveryGradient() throws {
        let folder = try Self.temporaryFolder("grads")
        let run = folder.appendingPathComponent("run")
        let spec = Self.cli.appendingPathComponent("tiny.yaml").path
        let r = try CLITests.run(["train", spec, "--out", run.path, "--epochs", "1", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = folder.appendingPathComponent("grads.safetensors")
        let g = try CLITests.run(["grads", spec, "--weights", run.appendingPathComponent("checkpoint.safetensors").path,
                                  "--out", out.path, "--json"])
        #expect(g.status == 0, "stderr: \(g.stderr)")
        let loss = try #require(try Self.json(g.stdout)["loss"] as? Double)
        #expect(loss.isFinite && loss > 0)
        let file = try SafeTensors(contentsOf: out)
        #expect(Set(file.names) == ["loss", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    }

    @Test func sweepRunsEveryCombinationAndResumes() throws {
        let out = try Self.temporaryFolder("sweep")
        let spec = Self.cli.appendingPathComponent("tiny.yaml").path
        // Two --grid flags make one grid.
        let arguments = ["sweep", spec, "--grid", "depth=1,3", "--grid", "activation=tanh,relu", "--seeds", "2", "--out", out.path, "--json"]
        let r = try CLITests.run(arguments + ["--shard", "1/2"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(try Self.json(r.stdout)["finished"] as? Int == 4)
        let r2 = try CLITests.run(arguments + ["--jobs", "2"])
        #expect(r2.status == 0, "stderr: \(r2.stderr)")
        let summary = try Self.json(r2.stdout)
        #expect(summary["runs"] as? Int == 8)
        #expect(summary["finished"] as? Int == 8)
        #expect(r2.stderr.contains("4 already finished"))
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [[String: Any]])
        #expect(rows.count == 8)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("phase_diagram.svg").path))
    }

    /// Starts `gradlab` with `arguments`, its output discarded, and returns the running process.
    static func startQuietly(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func sweepKilledHalfwayCompletesOnRestartWithEveryRunOnce() throws {
        let out = try Self.temporaryFolder("sweep-kill")
        let spec = Self.cli.appendingPathComponent("tiny.yaml").path
        let arguments = ["sweep", spec, "--grid", "depth=1,2,3,4 activation=tanh,relu epochs=1500", "--seeds", "2", "--out", out.path]
        let process = try Self.startQuietly(arguments)
        func finished() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
            return names.filter { FileManager.default.fileExists(atPath: out.appendingPathComponent("\($0)/summary.json").path) }.count
        }
        let deadline = Date().addingTimeInterval(120)
        while finished() < 3 && process.isRunning && Date() < deadline { usleep(2000) }
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(wasRunning, "the sweep finished before it could be killed; make its runs longer")
        let before = finished()
        #expect(before >= 3 && before < 16, "killed with \(before) of 16 runs finished")
        let r = try CLITests.run(arguments + ["--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("\(before) already finished"))
        #expect(try Self.json(r.stdout)["finished"] as? Int == 16)
        let folders = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("depth-") }
        #expect(folders.count == 16, "\(folders)")
        for folder in folders {
            let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(folder).path)
            #expect(!files.contains { $0.hasSuffix(".tmp") }, "\(folder): \(files)")
            #expect(files.filter { $0.hasPrefix("events.out.tfevents.") && !$0.hasSuffix(".weights") }.count == 1, "\(folder): \(files)")
            let summary = try Self.json(String(contentsOf: out.appendingPathComponent("\(folder)/summary.json"), encoding: .utf8))
            #expect(summary["epochs"] as? Int == 1500)
            let lines = try String(contentsOf: out.appendingPathComponent("\(folder)/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 6000, "\(folder): \(lines.count) metric lines")
        }
    }

    @Test func sweepStoppedWithCtrlCResumesTheInterruptedRunsOnRestart() throws {
        let out = try Self.temporaryFolder("sweep-interrupt")
        let spec = Self.cli.appendingPathComponent("tiny.yaml").path
        let arguments = ["sweep", spec, "--grid", "depth=1,2,3,4 epochs=1500", "--seeds", "2", "--jobs", "2",
                         "--checkpoint-every", "100", "--out", out.path]
        let process = try Self.startQuietly(arguments)
        func statusByRun() -> [String: String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
            var result: [String: String] = [:]
            for name in names {
                guard let text = try? String(contentsOf: out.appendingPathComponent("\(name)/summary.json"), encoding: .utf8),
                      let summary = try? Self.json(text), let status = summary["status"] as? String else { continue }
                result[name] = status
            }
            return result
        }
        func statuses() -> [String] { Array(statusByRun().values) }
        let deadline = Date().addingTimeInterval(120)
        while statuses().isEmpty && process.isRunning && Date() < deadline { usleep(2000) }
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(wasRunning, "the sweep finished before it could be stopped; make its runs longer")
        #expect(process.terminationStatus == 130)
        let completed = statuses().filter { $0 == "completed" }.count
        #expect(completed >= 1 && completed < 8, "stopped with \(completed) of 8 runs completed")
        let interrupted = statusByRun().filter { $0.value == "interrupted" }.keys.sorted()
        let r = try CLITests.run(arguments + ["--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("\(completed) already finished"), "stderr: \(r.stderr)")
        #expect(statuses() == Array(repeating: "completed", count: 8))
        // The interrupted runs continued from their checkpoints, to the weights of a run never stopped.
        for run in interrupted {
            #expect(r.stderr.contains("resuming \(run) from its checkpoint"), "stderr: \(r.stderr)")
            let fresh = out.appendingPathComponent("fresh-\(run)")
            let t = try CLITests.run(["train", out.appendingPathComponent("\(run)/spec.yaml").path, "--out", fresh.path, "--quiet"])
            #expect(t.status == 0, "stderr: \(t.stderr)")
            let resumed = FileManager.default.contents(atPath: out.appendingPathComponent("\(run)/checkpoint.safetensors").path)
            #expect(resumed != nil && resumed == FileManager.default.contents(atPath: fresh.appendingPathComponent("checkpoint.safetensors").path),
                    "\(run): the resumed run's weights differ from an uninterrupted run's")
        }
    }

    // MARK: Bad input: exit 65, one line naming the file, no output left behind.

    struct BadCase: CustomStringConvertible, Sendable {
        let file: String
        let arguments: @Sendable (URL) -> [String]
        var description: String { file }
    }

    static let badSpecs: [BadCase] = {
        let folder = fixturesDirectory.appendingPathComponent("bad/spec")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()) ?? []
        return names.map { name in
            let path = folder.appendingPathComponent(name).path
            return BadCase(file: name) { out in ["train", path, "--out", out.path, "--quiet"] }
        }
    }()

    /// Bad CSV files given to a CSV spec with `--data`.
    static let badCSVs: [BadCase] = [
        "empty.csv", "blank_lines_only.csv", "header_only.csv", "empty_cell.csv", "nan_cell.csv", "infinite_cell.csv",
        "not_a_number.csv", "ragged_short_row.csv", "ragged_long_row.csv", "ragged_crlf.csv", "unterminated_quote.csv",
        "text_after_quote.csv", "gzip_bad_crc.csv.gz", "gzip_body_truncated.csv.gz", "gzip_not_gzip.csv.gz",
    ].map { name in
        let path = fixturesDirectory.appendingPathComponent("bad/data/\(name)").path
        let spec = cli.appendingPathComponent("csv-regression.yaml").path
        return BadCase(file: name) { out in ["train", spec, "--data", path, "--out", out.path, "--quiet"] }
    }

    static let badCheckpoints: [BadCase] = {
        let folder = fixturesDirectory.appendingPathComponent("bad")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".safetensors") }.sorted()) ?? []
        return names.map { name in
            let path = folder.appendingPathComponent(name).path
            let spec = cli.appendingPathComponent("tiny.yaml").path
            return BadCase(file: name) { out in ["grads", spec, "--weights", path, "--out", out.appendingPathComponent("g.safetensors").path] }
        }
    }()

    @Test func theCorpusIsLargeEnough() {
        #expect(Self.badSpecs.count + Self.badCSVs.count + Self.badCheckpoints.count >= 30)
        #expect(Self.badSpecs.count >= 25)
    }

    @Test(arguments: badSpecs + badCSVs + badCheckpoints)
    func badInputExitsWith65(_ bad: BadCase) throws {
        let out = try Self.temporaryFolder("bad").appendingPathComponent("out")
        let r = try CLITests.run(bad.arguments(out))
        #expect(r.status == 65, "\(bad.file): exit \(r.status), stderr: \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(bad.file): expected one line, got: \(r.stderr)")
        #expect(r.stderr.contains(bad.file), "\(bad.file): the message does not name the file: \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out.path), "\(bad.file): left an output folder behind")
    }
}
