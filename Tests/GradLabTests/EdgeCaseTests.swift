import Foundation
import GradLab
import GradTestSupport
import Testing

/// Issue 7, acceptance 4: numerical edge cases through `gradlab train` (a process) and through
/// the library. Each works (a finite run and a run folder) or gives exit code 65 with a
/// one-line message naming the file, the place and what was expected.
@Suite(.serialized) struct EdgeCaseTests {
    typealias Output = CLITests.Output

    /// Runs `gradlab` with `arguments`, adding `environment` to this process's.
    static func gradlab(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        try CLITests.run(arguments, environment: environment)
    }

    /// A fresh folder holding `files` (name → contents).
    static func folder(_ label: String, _ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-edge-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    /// `gradlab train spec.yaml --out run --json` in a folder holding the spec and `files`; the
    /// output, the summary (when it printed one) and the run folder.
    static func train(_ label: String, spec: String, files: [String: String] = [:], extra: [String] = [],
                      environment: [String: String] = [:]) throws -> (Output, [String: Any]?, URL) {
        let folder = try Self.folder(label, files.merging(["spec.yaml": spec]) { $1 })
        let run = folder.appendingPathComponent("run")
        let output = try gradlab(["train", folder.appendingPathComponent("spec.yaml").path, "--out", run.path, "--json", "--quiet"] + extra,
                                 environment: environment)
        let summary = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return (output, summary, run)
    }

    /// `rows` CSV rows `a,b,y` with column a from `a(row)`, b = row / 10 and y from `y(row)`.
    static func csv(rows: Int = 20, a: (Int) -> String, y: (Int) -> String = { "\(Double($0 % 5) / 4)" }) -> String {
        "a,b,y\n" + (0..<rows).map { "\(a($0)),\(Double($0) / 10),\(y($0))" }.joined(separator: "\n") + "\n"
    }

    /// A spec reading `data.csv` with a 2 → 4 → `output` tanh MLP.
    static func csvSpec(standardize: Bool, loss: String = "mse", output: Int = 1, labels: String = "none",
                        extra: String = "") -> String {
        """
        model: {mlp: {input: 2, hidden: [4], output: \(output), activation: tanh}}
        data: {kind: csv, path: data.csv, standardize: \(standardize), labels: \(labels)\(extra)}
        train: {loss: \(loss), epochs: 3, optimizer: {type: sgd, lr: 0.01}}
        """
    }

    /// Exit 65 with exactly one line on stderr that contains every one of `parts`.
    static func expectBadInput(_ output: Output, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.status == 65, "exit \(output.status), stderr: \(output.stderr)", sourceLocation: sourceLocation)
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr is not one line: \(output.stderr)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(output.stderr.contains(part), "stderr lacks '\(part)': \(output.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!output.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    // MARK: Huge values

    @Test func hugeFeaturesTrainFinitelyWhenStandardized() throws {
        let data = Self.csv { "\(Double($0 + 1) * 1e30)" }
        let (output, summary, run) = try Self.train("huge", spec: Self.csvSpec(standardize: true), files: ["data.csv": data])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(summary?["finite"] as? Bool == true)
        let loss = try #require(summary?["final_loss"] as? Double)
        #expect(loss.isFinite && loss < 10, "final loss \(loss)")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint.safetensors").path))

        // The same data through the library: standardized features of mean 0 and std 1.
        let spec = try RunSpec.load(contentsOf: run.deletingLastPathComponent().appendingPathComponent("spec.yaml"))
        let (train, _) = try spec.loadData()
        let column = stride(from: 0, to: train.features.count, by: 2).map { Double(train.features.scalars[$0]) }
        let mean = column.reduce(0, +) / Double(column.count)
        #expect(Swift.abs(mean) < 1e-6, "mean \(mean)")
        #expect(column.allSatisfy { $0.isFinite && Swift.abs($0) < 2 }, "\(column)")
    }

    @Test func hugeFeaturesWithoutStandardizationAreRefusedNamingTheColumn() throws {
        let data = Self.csv { "\(Double($0 + 1) * 1e30)" }
        let (output, _, run) = try Self.train("huge-raw", spec: Self.csvSpec(standardize: false), files: ["data.csv": data])
        Self.expectBadInput(output, ["spec.yaml:2:", "data.standardize: csv file ", "data.csv: column 'a' holds 2e+31",
                                     "beyond ±1.8e+19", "set data.standardize: true"])
        #expect(!FileManager.default.fileExists(atPath: run.path), "bad input leaves no run folder")
    }

    @Test func hugeMSETargetsAreRefusedNamingTheTarget() throws {
        let data = Self.csv(a: { "\($0)" }, y: { "\(Double($0) * 1e30)" })
        let (output, _, _) = try Self.train("huge-y", spec: Self.csvSpec(standardize: true), files: ["data.csv": data])
        Self.expectBadInput(output, ["spec.yaml:3:", "train.loss: csv file ", "target 'y' holds 1.9e+31",
                                     "mse's squared errors overflow 32-bit floats"])
        // l1 on the same targets is finite.
        let (l1, summary, _) = try Self.train("huge-y-l1", spec: Self.csvSpec(standardize: true, loss: "l1"), files: ["data.csv": data])
        #expect(l1.status == 0, "stderr: \(l1.stderr)")
        #expect((summary?["final_loss"] as? Double)?.isFinite == true)
    }

    @Test func valuesBeyondFloatAreStandardizedInDoubleOrRefusedNamingTheCell() throws {
        let data = Self.csv { $0 == 4 ? "1e39" : "\(Double($0) * 1e37)" }
        let (standardized, summary, _) = try Self.train("float-max", spec: Self.csvSpec(standardize: true), files: ["data.csv": data])
        #expect(standardized.status == 0, "stderr: \(standardized.stderr)")
        #expect(summary?["finite"] as? Bool == true)
        let (raw, _, _) = try Self.train("float-max-raw", spec: Self.csvSpec(standardize: false), files: ["data.csv": data])
        Self.expectBadInput(raw, ["data.csv:6:1: value '1e39' is too large for 32-bit floats (largest 3.4028235e+38)"])
    }

    // MARK: Constant columns

    @Test func constantColumnsBecomeZeroUnderStandardization() throws {
        let folder = try Self.folder("constant", ["data.csv": Self.csv { _ in "0.1" }, "spec.yaml": Self.csvSpec(standardize: true)])
        let spec = try RunSpec.load(contentsOf: folder.appendingPathComponent("spec.yaml"))
        let (train, _) = try spec.loadData()
        let constant = stride(from: 0, to: train.features.count, by: 2).map { train.features.scalars[$0] }
        #expect(constant == [Float](repeating: 0, count: 20), "\(constant)")
        let other = stride(from: 1, to: train.features.count, by: 2).map { train.features.scalars[$0] }
        #expect(other.allSatisfy(\.isFinite) && Set(other).count == 20)
        let (output, summary, _) = try Self.train("constant-run", spec: Self.csvSpec(standardize: true),
                                                  files: ["data.csv": Self.csv { _ in "0.1" }])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(summary?["finite"] as? Bool == true)
    }

    // MARK: Labels out of range

    @Test func labelsOutOfRangeForCrossEntropyNameTheFileAndRow() throws {
        func run(_ label: String) throws -> Output {
            let data = Self.csv(a: { "\(Double($0) / 20)" }, y: { $0 == 7 ? label : "\($0 % 3)" })
            return try Self.train("labels", spec: Self.csvSpec(standardize: false, loss: "cross_entropy", output: 3, labels: "integer"),
                                  files: ["data.csv": data]).0
        }
        // Line 9 holds row 7 (the header is line 1); the label is column 3.
        Self.expectBadInput(try run("3"), ["data.csv:9:3: class label '3' is not an integer in 0..<3"])
        Self.expectBadInput(try run("-1"), ["data.csv:9:3: class label '-1' is not an integer in 0..<3"])
        Self.expectBadInput(try run("1.5"), ["data.csv:9:3: class label '1.5' is not an integer in 0..<3"])
        let fine = try run("2")
        #expect(fine.status == 0, "stderr: \(fine.stderr)")
    }

    @Test func fewerClassesThanOutputsTrain() throws {
        // Labels 0…1 for a model of 3 outputs: class 2 is never the answer, as in PyTorch.
        let data = Self.csv(a: { "\(Double($0) / 20)" }, y: { "\($0 % 2)" })
        let (output, summary, _) = try Self.train("few", spec: Self.csvSpec(standardize: false, loss: "cross_entropy", output: 3, labels: "integer"),
                                                  files: ["data.csv": data])
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(summary?["finite"] as? Bool == true)
    }

    // MARK: Empty sets and batches

    @Test func emptyDataAndEmptySplitsErrorOrTrain() throws {
        let headerOnly = try Self.train("header-only", spec: Self.csvSpec(standardize: false), files: ["data.csv": "a,b,y\n"]).0
        Self.expectBadInput(headerOnly, ["data.csv:1: the file has a header row but no data rows"])
        let empty = try Self.train("empty", spec: Self.csvSpec(standardize: false), files: ["data.csv": ""]).0
        Self.expectBadInput(empty, ["data.csv: the file is empty"])
        // One row, a validation split and a batch far larger than the set: the row trains alone.
        let (one, summary, _) = try Self.train(
            "one-row", spec: Self.csvSpec(standardize: true, extra: ", validation: 0.9, header: true")
                .replacingOccurrences(of: "epochs: 3,", with: "epochs: 3, batch_size: 4096,"),
            files: ["data.csv": "a,b,y\n0.5,0.25,1\n"])
        #expect(one.status == 0, "stderr: \(one.stderr)")
        #expect(summary?["steps"] as? Int == 3, "one batch per epoch: \(String(describing: summary))")
        #expect(summary?["finite"] as? Bool == true)
    }

    @Test func batchLargerThanTheSetIsOneBatch() throws {
        let spec = """
            model: {mlp: {input: 1, hidden: [3], output: 1}}
            data: {kind: linear, count: 10}
            train: {epochs: 4, batch_size: 1000}
            """
        let (output, summary, _) = try Self.train("big-batch", spec: spec)
        #expect(output.status == 0, "stderr: \(output.stderr)")
        #expect(summary?["steps"] as? Int == 4)
    }

    @Test func trainerRefusesAnEmptyTrainingSet() throws {
        let model = Sequential<Float>.mlp(inputSize: 1, hiddenSizes: [2], outputSize: 1, activation: .relu, generator: RandomGenerator(seed: 1))
        let empty = Dataset(features: Tensor<Float>(shape: [0, 1], scalars: []), targets: Tensor<Float>(shape: [0, 1], scalars: []))
        let trainer = Trainer(model: model, data: empty, loss: .mse, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1),
                              options: TrainingOptions(epochs: 1))
        #expect(throws: TrainingError.emptyTrainingSet) { try trainer.run(name: "empty") }
        #expect(TrainingError.emptyTrainingSet.description == "the training set has no examples (expected at least one)")
        // An empty validation set is skipped, not evaluated to NaN.
        let one = Dataset(features: Tensor<Float>(shape: [1, 1], scalars: [1]), targets: Tensor<Float>(shape: [1, 1], scalars: [2]))
        let withEmptyValidation = Trainer(model: model, data: one, validation: empty, loss: .mse,
                                          optimizer: try SGD(parameters: model.parameters, learningRate: 0.1), options: TrainingOptions(epochs: 2))
        let result = try withEmptyValidation.run(name: "one")
        #expect(result.steps == 2 && result.validationLosses.isEmpty && result.finite)
    }

    // MARK: Sequence lengths

    /// A spec for a sequence task with an LSTM (`tail` the layers after it).
    static func sequenceSpec(_ data: String, input: Int, tail: String, loss: String) -> String {
        """
        model: {layers: [{lstm: {input: \(input), hidden: 4}}, \(tail)]}
        data: {\(data)}
        train: {loss: \(loss), epochs: 2, batch_size: 8}
        """
    }

    @Test func sequenceLengthZeroIsRefusedAndOneTrains() throws {
        let lastStep = "last_step, {linear: {in: 4, out: 1}}"
        let adding0 = try Self.train("adding0", spec: Self.sequenceSpec("kind: adding, count: 16, length: 0", input: 2, tail: lastStep, loss: "mse")).0
        Self.expectBadInput(adding0, ["spec.yaml:2:", "data.length: expected a whole number ≥ 2, found 0"])
        let adding1 = try Self.train("adding1", spec: Self.sequenceSpec("kind: adding, count: 16, length: 1", input: 2, tail: lastStep, loss: "mse")).0
        Self.expectBadInput(adding1, ["data.length: expected a whole number ≥ 2, found 1"])
        let copy0 = try Self.train("copy0", spec: Self.sequenceSpec("kind: copy, count: 16, length: 0", input: 10,
                                                                    tail: "{linear: {in: 4, out: 10}}", loss: "cross_entropy")).0
        Self.expectBadInput(copy0, ["data.length: expected a whole number in 1...1000000, found 0"])
        let parity0 = try Self.train("parity0", spec: Self.sequenceSpec("kind: parity_sequence, count: 16, length: 0", input: 1,
                                                                        tail: lastStep, loss: "mse")).0
        Self.expectBadInput(parity0, ["data.length: expected a whole number ≥ 1, found 0"])

        let works: [(String, String, Int, String, String)] = [
            ("adding2", "kind: adding, count: 16, length: 2", 2, lastStep, "mse"),
            ("copy1", "kind: copy, count: 16, length: 1, delay: 1", 10, "{linear: {in: 4, out: 10}}", "cross_entropy"),
            ("parity1", "kind: parity_sequence, count: 16, length: 1", 1, lastStep, "mse"),
            ("parity1-running", "kind: parity_sequence, count: 16, length: 1, running: true", 1, "{linear: {in: 4, out: 1}}", "mse"),
        ]
        for (label, data, input, tail, loss) in works {
            let (output, summary, run) = try Self.train(label, spec: Self.sequenceSpec(data, input: input, tail: tail, loss: loss))
            #expect(output.status == 0, "\(label): stderr \(output.stderr)")
            #expect(summary?["finite"] as? Bool == true, "\(label)")
            #expect(summary?["steps"] as? Int == 4, "\(label): 16 examples in batches of 8 for 2 epochs")
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("summary.json").path), "\(label)")
        }
    }

    // MARK: Width 1 and depth 1

    @Test func widthOneAndDepthOneTrainEndToEnd() throws {
        let models: [(String, String, [String]?)] = [
            ("width1", "{mlp: {input: 1, hidden: [1], output: 1}}", ["0.weight", "0.bias", "2.weight", "2.bias"]),
            ("width1-deep", "{mlp: {input: 1, hidden: [1, 1, 1], output: 1, activation: tanh}}",
             ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"]),
            ("width1-bn-residual", "{mlp: {input: 1, hidden: [1, 1], output: 1, batch_norm: true, residual: true}}", nil),
            ("no-hidden", "{mlp: {input: 1, output: 1}}", ["0.weight", "0.bias"]),
            ("no-hidden-empty", "{mlp: {input: 1, hidden: [], output: 1}}", ["0.weight", "0.bias"]),
            ("one-linear", "{layers: [{linear: {in: 1, out: 1}}]}", ["0.weight", "0.bias"]),
            ("rnn-width1", "{layers: [{rnn: {input: 1, hidden: 1}}, last_step, {linear: {in: 1, out: 1}}]}", nil),
        ]
        for (label, model, names) in models {
            let spec = "model: \(model)\ndata: {kind: linear, count: 32}\ntrain: {epochs: 3, batch_size: 16}\n"
            let (output, summary, run) = try Self.train(label, spec: spec)
            #expect(output.status == 0, "\(label): stderr \(output.stderr)")
            #expect(summary?["steps"] as? Int == 6, "\(label)")
            #expect((summary?["final_loss"] as? Double)?.isFinite == true, "\(label)")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? []
            for file in ["spec.yaml", "summary.json", "report.html", "checkpoint.safetensors", "metrics.jsonl"] {
                #expect(files.contains(file), "\(label): \(file) missing from \(files)")
            }
            if let names {
                let checkpoint = try SafeTensors(contentsOf: run.appendingPathComponent("checkpoint.safetensors"))
                #expect(checkpoint.names.sorted() == names.sorted(), "\(label): \(checkpoint.names)")
            }
        }
    }
}
