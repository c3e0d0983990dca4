import Foundation
import Testing

/// The `gradlab` executable run as a process: help, JSON output, exit codes.
@Suite struct CLITests {
    /// The `gradlab` binary built beside this test bundle.
    static let executable: URL = {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = me.deletingLastPathComponent()
        // The bundle may be a directory (`.xctest/...`) on some platforms: walk up to the products folder.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("gradlab").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("gradlab")
    }()

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `gradlab` with `arguments`, adding `environment` to this process's.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    @Test func helpListsTheCommands() throws {
        let r = try Self.run(["--help"])
        #expect(r.status == 0)
        for command in ["list", "run", "info"] { #expect(r.stdout.contains(command), "help lacks \(command)") }
    }

    @Test func listShowsEverySeedExperiment() throws {
        let r = try Self.run(["list"])
        #expect(r.status == 0)
        for name in ["seed-sigmoid-vs-relu", "seed-clipping", "seed-xavier-vs-kaiming", "seed-spiral-sigmoid"] {
            #expect(r.stdout.contains(name))
        }
    }

    @Test func runJSONIsOneObjectWithTheRuns() throws {
        let r = try Self.run(["run", "seed-clipping", "--epochs", "20", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let runs = object?["runs"] as? [[String: Any]] ?? []
        #expect(object?["experiment"] as? String == "seed-clipping")
        #expect(runs.count == 2)
        #expect(runs.map { $0["name"] as? String } == ["no clipping", "clip norm 10"])
        #expect((runs.last?["finite"] as? Bool) == true)
        for run in runs {
            for key in ["final_loss", "first_layer_grad_norm", "last_layer_grad_norm", "finite", "train_seconds"] {
                #expect(run[key] != nil, "run lacks \(key)")
            }
        }
        #expect(!r.stderr.isEmpty, "progress belongs on stderr")
    }

    /// The runs of an experiment trained on threads at once give the results of one at a time:
    /// the same JSON but for the times, and the same final weights, byte for byte.
    @Test func runJobsDoNotChangeTheResults() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-run-jobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func run(jobs: Int) throws -> [String: Any] {
            let out = root.appendingPathComponent("jobs\(jobs)")
            let r = try Self.run(["run", "seed-clipping", "--epochs", "20", "--json", "--jobs", "\(jobs)", "--out", out.path])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            var object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            object["train_seconds"] = nil
            object["runs"] = (object["runs"] as? [[String: Any]])?.map { run in run.filter { $0.key != "train_seconds" } }
            return object
        }
        let one = try run(jobs: 1), two = try run(jobs: 2)
        #expect(NSDictionary(dictionary: one).isEqual(to: two), "--jobs 2 changed the results")
        #expect((one["runs"] as? [Any])?.count == 2)
        for name in ["no-clipping", "clip-norm-10"] {
            let a = try Data(contentsOf: root.appendingPathComponent("jobs1/\(name)/checkpoint.safetensors"))
            let b = try Data(contentsOf: root.appendingPathComponent("jobs2/\(name)/checkpoint.safetensors"))
            #expect(a == b, "\(name): the weights differ")
        }
        let bad = try Self.run(["run", "seed-clipping", "--jobs", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--jobs must be at least 1, got 0"))
    }

    @Test func unknownExperimentIsBadUsage() throws {
        let r = try Self.run(["run", "seed-sigmod"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown experiment 'seed-sigmod'"))
        #expect(r.stderr.contains("seed-sigmoid-vs-relu"))
        #expect(r.stdout.isEmpty)
    }

    @Test func nonPositiveEpochsIsBadUsage() throws {
        let r = try Self.run(["run", "seed-clipping", "--epochs", "0"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--epochs"))
    }

    @Test func infoJSONNamesTheBackend() throws {
        let r = try Self.run(["info", "--json"])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["backend"] is String)
        #expect(object?["version"] is String)
    }
}
