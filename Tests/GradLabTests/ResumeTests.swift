import Foundation
import GradLab
import GradTestSupport
import Testing

/// Crash-safe runs and exact resume: a run killed with SIGKILL at five moments (one of them
/// while a checkpoint is being written) and resumed ends with the final weights of the run that
/// was never stopped, bit for bit, with every step in `metrics.jsonl` once; in-process resumes
/// from every checkpoint of a run give the same weights, losses and monitor record; and the
/// determinism claims: `--jobs 1` and `--jobs 2` sweeps, and the monitor on or off, give
/// bit-identical weights.
@Suite(.serialized) struct ResumeTests {
    static let spec = fixturesDirectory.appendingPathComponent("resume/resume.yaml")
    static let checkpointName = "training-checkpoint.safetensors"

    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-resume-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func contents(_ url: URL) -> Data? { FileManager.default.contents(atPath: url.path) }

    static func files(_ folder: URL) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] }

    /// The steps of `metrics.jsonl`'s lines, in order.
    static func metricSteps(_ folder: URL) throws -> [Int] {
        let text = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["step"] as? Int)
        }
    }

    /// The steps of the weight-histogram TensorBoard events of a run folder (every
    /// `*.weights` event file, file_version records left out), sorted.
    static func weightEventSteps(_ folder: URL) throws -> [Int64] {
        var steps: [Int64] = []
        for name in files(folder) where name.hasPrefix("events.out.tfevents.") && name.hasSuffix(".weights") {
            let contents = try TensorBoardEventFile.read(contentsOf: folder.appendingPathComponent(name))
            steps += contents.records.filter { !$0.hasFileVersion }.map { $0.step ?? 0 }
        }
        return steps.sorted()
    }

    /// How many complete lines `metrics.jsonl` has now.
    static func lineCount(_ folder: URL) -> Int {
        guard let data = contents(folder.appendingPathComponent("metrics.jsonl")) else { return 0 }
        return data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    /// Starts `gradlab train`, waits until `moment` says so (polled without sleeping, so a
    /// temporary file that lives a few milliseconds is seen), and kills it with SIGKILL.
    /// - Returns: whether it was still running when killed.
    static func trainAndKill(_ out: URL, checkpointEvery: Int, when moment: (URL) -> Bool) throws -> Bool {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = ["train", spec.path, "--out", out.path, "--checkpoint-every", "\(checkpointEvery)", "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && !moment(out) && Date() < deadline {}
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return wasRunning
    }

    /// A moment: a temporary checkpoint file exists (the writer is between `open` and `rename`).
    static func checkpointBeingWritten(after lines: Int) -> (URL) -> Bool {
        { out in lineCount(out) >= lines && files(out).contains { $0.hasPrefix(".\(checkpointName).") && $0.hasSuffix(".tmp") } }
    }

    @Test func killedAtFiveMomentsAndResumedEndsBitIdentical() throws {
        let root = try Self.temporaryFolder("kill")
        let reference = root.appendingPathComponent("reference")
        let r = try CLITests.run(["train", Self.spec.path, "--out", reference.path, "--checkpoint-every", "3", "--quiet", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let steps = try #require(try CLIRunTests.json(r.stdout)["steps"] as? Int)
        #expect(steps == 64)
        let referenceWeights = try #require(Self.contents(reference.appendingPathComponent("checkpoint.safetensors")))
        let referenceRecord = Self.contents(reference.appendingPathComponent("record.safetensors"))
        #expect(!Self.files(reference).contains(Self.checkpointName), "a finished run keeps its training checkpoint")
        let referenceEventSteps = try Self.weightEventSteps(reference)
        #expect(!referenceEventSteps.isEmpty, "the reference run wrote no weight histograms")

        // (name, kill moment); a mid-write kill is retried until one lands mid-write.
        let moments: [(String, (URL) -> Bool)] = [
            ("between checkpoints", { Self.lineCount($0) >= 10 }),
            ("during a checkpoint write", Self.checkpointBeingWritten(after: 20)),
            ("right after a checkpoint's step", { Self.lineCount($0) >= 30 }),
            ("in the last epoch", { Self.lineCount($0) >= 59 }),
            ("while writing the results", { FileManager.default.fileExists(atPath: $0.appendingPathComponent("result.json").path) }),
        ]
        var landedMidWrite = false
        for (index, (name, moment)) in moments.enumerated() {
            var out = root.appendingPathComponent("run-\(index)")
            var killed = try Self.trainAndKill(out, checkpointEvery: 3, when: moment)
            if index == 1 {
                var attempts = 1
                while !Self.files(out).contains(where: { $0.hasSuffix(".tmp") }) && attempts < 6 {
                    out = root.appendingPathComponent("run-\(index)-\(attempts)")
                    killed = try Self.trainAndKill(out, checkpointEvery: 3, when: moment)
                    attempts += 1
                }
                landedMidWrite = Self.files(out).contains { $0.hasPrefix(".\(Self.checkpointName).") && $0.hasSuffix(".tmp") }
            }
            #expect(killed, "\(name): the run ended before it was killed")
            #expect(!Self.files(out).contains("summary.json"), "\(name): the killed run looks finished")
            let resumed = try CLITests.run(["train", "--resume", out.path, "--checkpoint-every", "3", "--quiet", "--json"])
            #expect(resumed.status == 0, "\(name): stderr: \(resumed.stderr)")
            #expect(try CLIRunTests.json(resumed.stdout)["steps"] as? Int == steps, "\(name)")
            let weights = Self.contents(out.appendingPathComponent("checkpoint.safetensors"))
            #expect(weights == referenceWeights, "\(name): the final weights differ from the uninterrupted run's")
            #expect(Self.contents(out.appendingPathComponent("record.safetensors")) == referenceRecord,
                    "\(name): the monitor record differs from the uninterrupted run's")
            #expect(try Self.metricSteps(out) == Array(0..<steps), "\(name): metrics.jsonl lacks or repeats steps")
            #expect(try Self.weightEventSteps(out) == referenceEventSteps,
                    "\(name): the weight histograms in TensorBoard lack or repeat steps")
            #expect(!Self.files(out).contains { $0.hasSuffix(".tmp") }, "\(name): temporary files left: \(Self.files(out))")
        }
        #expect(landedMidWrite, "no kill landed while a checkpoint was being written")
    }

    @Test func resumeRefusesFoldersWithNothingToContinue() throws {
        let root = try Self.temporaryFolder("refuse")
        // A finished run.
        let finished = root.appendingPathComponent("finished")
        let r = try CLITests.run(["train", CLIRunTests.cli.appendingPathComponent("tiny.yaml").path, "--out", finished.path, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let again = try CLITests.run(["train", "--resume", finished.path])
        #expect(again.status == 65)
        #expect(again.stderr.split(separator: "\n").count == 1, "stderr: \(again.stderr)")
        #expect(again.stderr.contains("already ended (completed)"), "stderr: \(again.stderr)")
        // A run killed before its first checkpoint (here: checkpointing off).
        let none = root.appendingPathComponent("none")
        try FileManager.default.createDirectory(at: none, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: finished.appendingPathComponent("spec.yaml"), to: none.appendingPathComponent("spec.yaml"))
        let noCheckpoint = try CLITests.run(["train", "--resume", none.path])
        #expect(noCheckpoint.status == 65)
        #expect(noCheckpoint.stderr.contains("no training-checkpoint.safetensors to resume from"), "stderr: \(noCheckpoint.stderr)")
        // Not a run folder, and a missing folder.
        let empty = try CLITests.run(["train", "--resume", root.path])
        #expect(empty.status == 65)
        #expect(empty.stderr.contains("not a run folder"), "stderr: \(empty.stderr)")
        let missing = try CLITests.run(["train", "--resume", root.appendingPathComponent("nowhere").path])
        #expect(missing.status == 65, "stderr: \(missing.stderr)")
        // A corrupt checkpoint names the file.
        try Data("not a checkpoint".utf8).write(to: none.appendingPathComponent(Self.checkpointName))
        let corrupt = try CLITests.run(["train", "--resume", none.path])
        #expect(corrupt.status == 65)
        #expect(corrupt.stderr.contains(Self.checkpointName), "stderr: \(corrupt.stderr)")
        // Bad usage: a spec and --resume, or --resume with --epochs.
        #expect(try CLITests.run(["train", Self.spec.path, "--resume", none.path]).status == 64)
        #expect(try CLITests.run(["train", "--resume", none.path, "--epochs", "3"]).status == 64)
        #expect(try CLITests.run(["train", Self.spec.path, "--checkpoint-every", "-1"]).status == 64)
    }

    // MARK: In process

    /// A trainer for `spec` made as `SpecRun` makes one.
    static func trainer(_ spec: RunSpec, checkpointEvery: Int = 0) throws -> Trainer {
        let (data, validation) = try spec.loadData()
        let model = try spec.makeModel(generator: RandomGenerator(seed: spec.train.seed &+ 1))
        var options = TrainingOptions(epochs: spec.train.epochs, batchSize: spec.train.batchSize, seed: spec.train.seed,
                                      clipping: spec.train.clip, monitor: spec.doctor.enabled ? spec.monitorSettings : nil)
        options.checkpointEvery = checkpointEvery
        return Trainer(model: model, data: data, validation: validation, loss: spec.train.loss,
                       optimizer: try spec.makeOptimizer(parameters: model.parameters), schedule: try spec.makeSchedule(),
                       options: options)
    }

    static func weightBits(_ model: any Module<Float>) -> [String: [UInt32]] {
        var bits: [String: [UInt32]] = [:]
        for (name, parameter) in model.namedParameters { bits[name] = parameter.value.scalars.map(\.bitPattern) }
        for (name, buffer) in model.namedBuffers { bits[name] = buffer.scalars.map(\.bitPattern) }
        return bits
    }

    @Test(arguments: ["adam", "sgd", "rmsprop", "adagrad", "adamw"])
    func resumingFromEveryCheckpointMatchesTheUninterruptedRun(optimizer: String) throws {
        var spec = try RunSpec.load(contentsOf: Self.spec)
        spec.train.epochs = 3
        let choice = optimizer == "sgd" ? "{type: sgd, lr: 0.01, momentum: 0.9}" : "{type: \(optimizer), lr: 0.01}"
        let yaml = spec.yaml.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard let range = line.range(of: "optimizer:") else { return String(line) }
            return line[..<range.upperBound] + " " + choice
        }.joined(separator: "\n")
        spec = try RunSpec.parse(yaml, file: "resume.yaml")
        #expect(spec.yaml.contains("type: \(optimizer)"))
        let original = try Self.trainer(spec, checkpointEvery: 5)
        var checkpoints: [TrainingCheckpoint] = []
        original.checkpointSink = { checkpoints.append($0) }
        let expected = try original.run(name: "original")
        #expect(checkpoints.count == expected.steps / 5)
        let expectedWeights = Self.weightBits(original.model)
        for checkpoint in checkpoints {
            // Through the file format, as a killed run's folder would hold it.
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-checkpoint-\(UUID().uuidString).safetensors")
            try checkpoint.serialized().write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let read = try TrainingCheckpoint(contentsOf: url)
            let resumed = try Self.trainer(spec, checkpointEvery: 5)
            let result = try resumed.run(name: "original", resumingFrom: read)
            #expect(Self.weightBits(resumed.model) == expectedWeights, "\(optimizer): resumed at step \(checkpoint.step)")
            #expect(result.stepLosses.map(\.bitPattern) == expected.stepLosses.map(\.bitPattern))
            #expect(result.epochLosses.map(\.bitPattern) == expected.epochLosses.map(\.bitPattern))
            #expect(result.validationLosses == expected.validationLosses)
            #expect(result.record == expected.record, "\(optimizer): the record of the run resumed at \(checkpoint.step) differs")
        }
    }

    @Test func aMisfitCheckpointIsRefusedBeforeTraining() throws {
        let spec = try RunSpec.load(contentsOf: Self.spec)
        let original = try Self.trainer(spec, checkpointEvery: 4)
        var checkpoint: TrainingCheckpoint?
        original.checkpointSink = { if checkpoint == nil { checkpoint = $0 } }
        _ = try original.run(name: "x")
        let narrower = try RunSpec.parse(spec.yaml.replacingOccurrences(of: "64", with: "32"), file: "resume.yaml")
        let other = try Self.trainer(narrower)
        #expect(throws: (any Error).self) { try other.run(name: "x", resumingFrom: try #require(checkpoint)) }
    }

    // MARK: Determinism

    @Test func theMonitorChangesNoWeight() throws {
        for file in [Self.spec, fixturesDirectory.appendingPathComponent("cli/deep-sigmoid.yaml")] {
            var spec = try RunSpec.load(contentsOf: file)
            spec.train.epochs = Swift.min(spec.train.epochs, 40)
            let on = try Self.trainer(spec)
            let withMonitor = try on.run(name: "on")
            spec.doctor.enabled = false
            let off = try Self.trainer(spec)
            let withoutMonitor = try off.run(name: "off")
            #expect(withMonitor.record != nil && withoutMonitor.record == nil)
            #expect(Self.weightBits(on.model) == Self.weightBits(off.model), "\(file.lastPathComponent): monitor on and off differ")
            #expect(withMonitor.stepLosses.map(\.bitPattern) == withoutMonitor.stepLosses.map(\.bitPattern))
        }
    }

    @Test func checkpointingChangesNoWeight() throws {
        let spec = try RunSpec.load(contentsOf: Self.spec)
        let plain = try Self.trainer(spec)
        _ = try plain.run(name: "plain")
        let checkpointed = try Self.trainer(spec, checkpointEvery: 1)
        var count = 0
        checkpointed.checkpointSink = { _ in count += 1 }
        _ = try checkpointed.run(name: "checkpointed")
        #expect(count == 64)
        #expect(Self.weightBits(plain.model) == Self.weightBits(checkpointed.model))
    }

    @Test func sweepsGiveTheSameWeightsWithOneOrTwoJobs() throws {
        let root = try Self.temporaryFolder("jobs")
        let spec = CLIRunTests.cli.appendingPathComponent("tiny.yaml").path
        var folders: [URL] = []
        for jobs in [1, 2] {
            let out = root.appendingPathComponent("jobs-\(jobs)")
            let r = try CLITests.run(["sweep", spec, "--grid", "depth=1,3 activation=tanh,relu", "--seeds", "2",
                                      "--jobs", "\(jobs)", "--out", out.path, "--json"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(try CLIRunTests.json(r.stdout)["finished"] as? Int == 8)
            folders.append(out)
        }
        let runs = Self.files(folders[0]).filter { $0.hasPrefix("depth-") }.sorted()
        #expect(runs.count == 8)
        #expect(Self.files(folders[1]).filter { $0.hasPrefix("depth-") }.sorted() == runs)
        for run in runs {
            let one = Self.contents(folders[0].appendingPathComponent("\(run)/checkpoint.safetensors"))
            let two = Self.contents(folders[1].appendingPathComponent("\(run)/checkpoint.safetensors"))
            #expect(one != nil && one == two, "\(run): --jobs 1 and --jobs 2 give different weights")
        }
    }
}
