import Foundation
import GradLab
import GradTestSupport
import Testing

/// Issue 7's resource limits: a spec that needs more memory than the machine has is refused
/// before anything is allocated, with the estimate in the message; files larger than the
/// configured limit (`GRADLAB_MAX_FILE_BYTES`, `--max-file-bytes`) are refused, not read.
@Suite(.serialized) struct ResourceLimitTests {
    static let hugeSpec = """
        model: {mlp: {input: 1, hidden: [1000000, 1000000], output: 1}}
        data: {kind: linear, count: 100}
        train: {optimizer: {type: adam}, epochs: 1}
        """

    // MARK: Memory

    @Test func theEstimateCountsParametersGradientsOptimizerStateAndActivations() throws {
        // 3 → 5 → 4 → 2 with Adam: 20 + 24 + 10 = 54 parameters, 2 state slots each.
        let spec = try RunSpec.parse("""
            model: {mlp: {input: 3, hidden: [5, 4], output: 2}}
            data: {kind: linear, count: 100}
            train: {optimizer: {type: adam}, batch_size: 10}
            """, file: "e.yaml")
        let estimate = spec.resourceEstimate()
        #expect(estimate.parameters == 54 && estimate.optimizerSlots == 2 && estimate.batchSize == 10)
        // Linear + activation outputs of each hidden layer, the output layer, the loss's copy.
        let activations: Double = 2 * 5 + 2 * 4 + 2 + 2
        #expect(estimate.activationsPerExample == activations)
        #expect(estimate.dataElements == 100 * 2)
        #expect(estimate.modelBytes == 54 * 4 * 4)
        #expect(estimate.activationBytes == 3 * 10 * activations * 4)
        #expect(estimate.totalBytes == estimate.modelBytes + estimate.activationBytes + 800)
        // Once the data are loaded, the rows set the full batch and the data are not counted again.
        var full = spec
        full.train.batchSize = nil
        let loaded = full.resourceEstimate(trainingRows: 37)
        #expect(loaded.batchSize == 37 && loaded.dataElements == 0)
        // Optimizer slots: SGD 0, with momentum 1, AMSGrad 3, centered RMSprop with momentum 3.
        var variant = spec
        for (optimizer, slots) in [(OptimizerSpec.sgd(), 0), (.sgd(momentum: 0.9), 1), (.adam(amsgrad: true), 3),
                                   (.rmsprop(momentum: 0.5, centered: true), 3), (.adagrad(), 1)] {
            variant.train.optimizer = optimizer
            #expect(variant.resourceEstimate().optimizerSlots == slots, "\(optimizer)")
        }
    }

    @Test func parameterCountsMatchTheBuiltModels() throws {
        let specs = [
            "{mlp: {input: 3, hidden: [5, 5, 4], output: 2, batch_norm: true}}",
            "{mlp: {input: 2, hidden: [6, 6], output: 1, residual: true}}",
            "{layers: [{lstm: {input: 2, hidden: 5, layers: 2}}, last_step, {linear: {in: 5, out: 1}}]}",
            "{layers: [{gru: {input: 2, hidden: 3}}, last_step, {linear: {in: 3, out: 1, bias: false}}]}",
            "{layers: [{rnn: {input: 2, hidden: 4, bias: false}}, last_step, {prelu: {num_parameters: 4}}, {linear: {in: 4, out: 1}}]}",
            "{layers: [{linear: {in: 2, out: 6}}, {layer_norm: {features: 6}}, {relu: {}}, {batch_norm: {features: 6}}, {linear: {in: 6, out: 1}}]}",
        ]
        for model in specs {
            let spec = try RunSpec.parse("model: \(model)\ndata: {kind: adding, count: 8, length: 3}\n", file: "p.yaml")
            let built = try spec.makeModel(generator: RandomGenerator(seed: 1))
            let count = built.parameters.reduce(0) { $0 + $1.value.count }
            #expect(spec.resourceEstimate().parameters == Double(count), "\(model): estimate vs \(count)")
        }
        // An LSTM over 3 steps of 2 channels: activations grow with the steps.
        let lstm = try RunSpec.parse("model: {layers: [{lstm: {input: 2, hidden: 5}}, last_step, {linear: {in: 5, out: 1}}]}\n"
                                     + "data: {kind: adding, count: 8, length: 30}\n", file: "s.yaml")
        let short = try RunSpec.parse("model: {layers: [{lstm: {input: 2, hidden: 5}}, last_step, {linear: {in: 5, out: 1}}]}\n"
                                      + "data: {kind: adding, count: 8, length: 3}\n", file: "s.yaml")
        #expect(lstm.resourceEstimate().activationsPerExample > 9 * short.resourceEstimate().activationsPerExample)
    }

    @Test func aHugeModelIsRefusedBeforeAllocatingWithTheEstimate() throws {
        let spec = try RunSpec.parse(Self.hugeSpec, file: "huge.yaml")
        let estimate = spec.resourceEstimate()
        #expect(estimate.parameters == 1_000_000_000_000 + 4_000_001)
        #expect(estimate.totalBytes > 1.6e13, "\(estimate.totalBytes)")
        let start = Date()
        do {
            _ = try spec.makeModel(generator: RandomGenerator(seed: 0))
            Issue.record("a model of 1e12 parameters was built")
        } catch let error as SpecError {
            #expect(error.path == "model")
            #expect(error.location == SpecLocation(line: 1, column: 8))
            #expect(error.description.hasPrefix("huge.yaml:1:8: model: needs about 14.6 TiB for parameters, gradients, optimizer state "
                                                + "and activations of a batch of 100 (1.0e+12 parameters × 4 copies: 14.6 TiB; "),
                    "\(error)")
            #expect(error.description.contains("; this machine has "))
            #expect(error.description.hasSuffix(" available (make the model smaller)"))
        }
        #expect(throws: SpecError.self) { try spec.loadData() }
        #expect(Date().timeIntervalSince(start) < 5, "the refusal took \(Date().timeIntervalSince(start)) s")
    }

    @Test func theCheckComparesWithTheMemoryAvailable() throws {
        let spec = try RunSpec.parse("model: {mlp: {input: 1, hidden: [64], output: 1}}\ntrain: {batch_size: 1000}\n", file: "m.yaml")
        let needed = spec.resourceEstimate().totalBytes
        #expect(throws: Never.self) { try spec.checkResources(availableBytes: needed) }
        #expect(throws: Never.self) { try spec.checkResources(availableBytes: nil) }
        do {
            try spec.checkResources(availableBytes: needed - 1)
            Issue.record("no error with one byte too few")
        } catch {
            #expect("\(error)".contains("this machine has \(FileSizeLimit.describe(Double(needed - 1))) available"), "\(error)")
        }
        // A large synthetic set is counted before it is generated.
        let data = try RunSpec.parse("model: {mlp: {input: 1, output: 1}}\ndata: {kind: linear, count: 2000000000000}\n"
                                     + "train: {batch_size: 10}\n", file: "d.yaml")
        #expect(data.resourceEstimate().dataBytes == 2e12 * 2 * 4)
        #expect(throws: SpecError.self) { try data.loadData() }
        let available = try #require(SystemMemory.availableBytes())
        #expect(available > 1_048_576 && available < 1e16, "available \(available)")
    }

    @Test func theCLIRefusesAHugeModelWithExit65AndNoRunFolder() throws {
        let start = Date()
        let (output, _, run) = try EdgeCaseTests.train("huge-model", spec: Self.hugeSpec)
        EdgeCaseTests.expectBadInput(output, ["spec.yaml:1:8: model: needs about 14.6 TiB", "this machine has "])
        #expect(!FileManager.default.fileExists(atPath: run.path))
        #expect(Date().timeIntervalSince(start) < 30)
    }

    // MARK: File sizes

    @Test func specFilesOverTheLimitAreRefused() throws {
        let folder = try EdgeCaseTests.folder("spec-limit", ["spec.yaml": "model: {mlp: {input: 1, output: 1}}\n" + String(repeating: "# padding\n", count: 20)])
        let url = folder.appendingPathComponent("spec.yaml")
        #expect(throws: SpecError.unreadable(file: url.relativePath, reason:
                    "the file is 236 bytes, larger than the limit of 100 bytes; set GRADLAB_MAX_FILE_BYTES to change the limit")) {
            try RunSpec.load(contentsOf: url, maximumBytes: 100)
        }
        #expect(try RunSpec.load(contentsOf: url, maximumBytes: 236).model == .mlp(MLPSpec(input: 1, output: 1)))
        // The CLI: the environment variable and the option.
        let viaEnvironment = try EdgeCaseTests.gradlab(["train", url.path, "--out", folder.appendingPathComponent("a").path],
                                                       environment: ["GRADLAB_MAX_FILE_BYTES": "100"])
        EdgeCaseTests.expectBadInput(viaEnvironment, ["spec.yaml: cannot read the spec file: the file is 236 bytes, larger than the limit of 100 bytes"])
        let viaOption = try EdgeCaseTests.gradlab(["train", url.path, "--out", folder.appendingPathComponent("b").path, "--max-file-bytes", "100"])
        EdgeCaseTests.expectBadInput(viaOption, ["larger than the limit of 100 bytes; set GRADLAB_MAX_FILE_BYTES"])
    }

    @Test func dataFilesOverTheLimitAreRefusedByTheCLI() throws {
        let data = "a,y\n" + (0..<200).map { "\($0),\($0 % 3)" }.joined(separator: "\n") + "\n"
        let spec = "model: {mlp: {input: 1, output: 1}}\ndata: {kind: csv, path: data.csv}\ntrain: {epochs: 1}\n"
        let size = data.utf8.count
        let (refused, _, run) = try EdgeCaseTests.train("data-limit", spec: spec, files: ["data.csv": data], extra: ["--max-file-bytes", "1K"])
        EdgeCaseTests.expectBadInput(refused, ["data.csv: the file is \(FileSizeLimit.describe(size)) (\(size) bytes), larger than the limit "
                                               + "of 1.0 KiB (1024 bytes); set GRADLAB_MAX_FILE_BYTES to change the limit"])
        #expect(!FileManager.default.fileExists(atPath: run.path))
        let (accepted, _, _) = try EdgeCaseTests.train("data-limit-ok", spec: spec, files: ["data.csv": data], extra: ["--max-file-bytes", "64K"])
        #expect(accepted.status == 0, "stderr: \(accepted.stderr)")
        // A gzip file small on disk but large decompressed (--data replaces the spec's data).
        let bomb = fixturesDirectory.appendingPathComponent("limits/zeros.csv.gz")
        let (decompressed, _, _) = try EdgeCaseTests.train("bomb", spec: spec, files: ["data.csv": data],
                                                           extra: ["--data", bomb.path, "--max-file-bytes", "100K"])
        EdgeCaseTests.expectBadInput(decompressed, ["zeros.csv.gz: byte ", "the data decompress to more than the limit of 100.0 KiB (102400 bytes)"])
    }

    @Test func badLimitsAreUsageErrors() throws {
        let spec = fixturesDirectory.appendingPathComponent("cli/tiny.yaml").path
        let option = try EdgeCaseTests.gradlab(["train", spec, "--max-file-bytes", "lots"])
        #expect(option.status == 64, "stderr: \(option.stderr)")
        #expect(option.stderr.contains("--max-file-bytes: expected a byte count such as 1048576, 64M or 2G, found 'lots'"), "\(option.stderr)")
        let environment = try EdgeCaseTests.gradlab(["train", spec], environment: ["GRADLAB_MAX_FILE_BYTES": "-3"])
        #expect(environment.status == 64, "stderr: \(environment.stderr)")
        #expect(environment.stderr == "gradlab train: GRADLAB_MAX_FILE_BYTES: expected a byte count such as 1048576, 64M or 2G, found '-3'\n")
        let help = try EdgeCaseTests.gradlab(["train", "--help"])
        #expect(help.status == 0)
        for text in ["--max-file-bytes", "GRADLAB_MAX_FILE_BYTES", "16M"] {
            #expect(help.stdout.contains(text), "help lacks \(text)")
        }
    }

    @Test func checkpointsOverTheLimitAreRefused() throws {
        var file = SafeTensors()
        file.set("w", Tensor<Float>(shape: [16, 16], repeating: 1))
        let folder = try EdgeCaseTests.folder("checkpoint-limit", [:])
        let url = folder.appendingPathComponent("c.safetensors")
        try file.write(to: url)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        #expect(throws: CheckpointError.unreadable(file: url.relativePath, reason:
                    "the file is \(FileSizeLimit.describe(size)) (\(size) bytes), larger than the limit of 1.0 KiB (1024 bytes); "
                        + "set GRADLAB_MAX_FILE_BYTES to change the limit")) {
            try SafeTensors(contentsOf: url, maximumFileBytes: 1024)
        }
        #expect(try SafeTensors(contentsOf: url, maximumFileBytes: size).names == ["w"])
        #expect(try SafeTensors(contentsOf: url).names == ["w"])
        #expect(SafeTensors.defaultMaximumFileBytes == FileSizeLimit.dataBytes)
        // Not a regular file.
        if FileManager.default.fileExists(atPath: "/dev/zero") {
            #expect(throws: CheckpointError.unreadable(file: "/dev/zero", reason: "not a regular file")) {
                try SafeTensors(contentsOf: URL(fileURLWithPath: "/dev/zero"))
            }
        }
    }
}
