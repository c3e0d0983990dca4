import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Checkpoints as .safetensors: round trips, files written by PyTorch
// (Tests/Fixtures/make_checkpoint_fixture.py), files PyTorch reads (checkpoint_swift*: the
// script's `check` mode loads them with load_state_dict(strict=True); set
// GRADLAB_RECORD_FIXTURES=1 to rewrite them), and corrupt files (Tests/Fixtures/bad/).

/// PyTorch's `Sequential(Linear(1,10), Sigmoid(), Linear(10,10), ReLU(), Linear(10,1))`.
private func torchArchitecture<S: TensorScalar>(_ type: S.Type = S.self, seed: UInt64 = 1) -> Sequential<S> {
    let g = RandomGenerator(seed: seed)
    return Sequential<S>(Linear(1, 10, generator: g), Sigmoid(), Linear(10, 10, generator: g), ReLU(),
                         Linear(10, 1, generator: g))
}

/// Every parameter and buffer, by name, as Doubles.
private func snapshot<M: Module>(_ module: M) -> [String: [Double]] {
    var out: [String: [Double]] = [:]
    for (name, p) in module.namedParameters { out[name] = p.value.scalars.map { Double($0) } }
    for (name, b) in module.namedBuffers { out[name] = b.scalars.map { Double($0) } }
    return out
}

/// A fresh empty folder under the system's temporary directory.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-checkpoint-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The error `body` throws, recorded as an issue when it throws none or another type.
private func checkpointError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        try body()
        Issue.record("expected a CheckpointError, none was thrown", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Inputs and outputs written beside a fixture.
private struct ExpectedOutputs: Codable {
    var inputs: [[Double]]
    var outputs: [[Double]]
    var outputs_float64: [[Double]]
}

/// The forward pass on `inputs` (one row each), as Doubles.
private func forward<S: TensorScalar>(_ model: Sequential<S>, _ inputs: [[Double]]) -> [[Double]] {
    let x = Tensor<S>(inputs.map { $0.map { S($0) } })
    let y = model(x)
    return (0..<y.shape[0]).map { i in (0..<y.shape[1]).map { j in Double(y[element: i, j]) } }
}

/// A model whose weights follow a formula (not the random generator), so its file is stable.
private func formulaModel<S: TensorScalar>(_ type: S.Type) -> Sequential<S> {
    let model = torchArchitecture(S.self)
    for (k, (_, p)) in model.namedParameters.enumerated() {
        let values = (0..<p.value.count).map { i in S(0.8 * Foundation.sin(0.37 * Double(100 * k + i) + 0.1)) }
        p.assign(Tensor(shape: p.shape, scalars: values))
    }
    return model
}

/// A module with a buffer, standing in for batch norm's running statistics.
private final class RunningMean<Scalar: TensorScalar>: BufferLoadable {
    var isTraining = true
    let hooks = ModuleHooks<Scalar>()
    let scale: Parameter<Scalar>
    var runningMean: Tensor<Scalar>
    init(_ features: Int) {
        scale = Parameter(.ones([features]))
        runningMean = .zeros([features])
    }
    func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input }
    var namedParameters: [(String, Parameter<Scalar>)] { [("weight", scale)] }
    var namedBuffers: [(String, Tensor<Scalar>)] { [("running_mean", runningMean)] }
    func loadBuffer(named name: String, from value: Tensor<Scalar>) {
        precondition(name == "running_mean")
        runningMean = value
    }
}

/// One corrupt file of Tests/Fixtures/bad and the error it must give.
struct BadFileCase: Sendable, CustomTestStringConvertible {
    let file: String
    /// Substrings the message must contain (the tensor or field it names).
    let mentions: [String]
    let matches: @Sendable (CheckpointError) -> Bool
    var testDescription: String { file }
}

private let badFiles: [BadFileCase] = [
    BadFileCase(file: "safetensors_missing_tensor", mentions: ["'4.bias'", "missing"]) {
        if case .missingTensor(_, "4.bias") = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_wrong_shape", mentions: ["tensor '2.weight': expected shape [10, 10], found [10, 5]"]) {
        if case .shapeMismatch(_, "2.weight", [10, 10], [10, 5]) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_extra_tensor", mentions: ["'5.weight'", "unexpected"]) {
        if case .unexpectedTensor(_, "5.weight") = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_empty", mentions: ["truncated", "0 bytes"]) {
        if case .truncated = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_truncated_length", mentions: ["truncated", "header length"]) {
        if case .truncated = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_truncated_header", mentions: ["truncated", "header length"]) {
        if case .truncated = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_truncated_data", mentions: ["truncated", "'4.weight'"]) {
        if case .truncated = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_huge_header_length", mentions: ["header length", "4611686018427387904"]) {
        if case .invalidHeader(_, "header length", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_header_not_json", mentions: ["header", "JSON"]) {
        if case .invalidHeader(_, "header", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_header_not_object", mentions: ["header", "not a JSON object"]) {
        if case .invalidHeader(_, "header", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_offsets_out_of_range", mentions: ["'4.bias'", "out of range", "1000000"]) {
        if case .invalidOffsets(_, "4.bias", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_offsets_overlap", mentions: ["'2.weight'", "'2.bias'", "overlap"]) {
        if case .invalidOffsets = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_offsets_size_mismatch", mentions: ["'0.weight'", "needs 40"]) {
        if case .invalidOffsets(_, "0.weight", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_unknown_dtype", mentions: ["'0.bias'", "unsupported dtype 'BF16'"]) {
        if case .unsupportedDtype(_, "0.bias", "BF16") = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_negative_shape", mentions: ["'0.weight'", "negative dimension -10"]) {
        if case .invalidShape(_, "0.weight", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_shape_overflow", mentions: ["'0.weight'", "too many"]) {
        if case .invalidShape(_, "0.weight", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_trailing_bytes", mentions: ["12 bytes after the last tensor ('4.bias', ending at byte 564)"]) {
        if case .invalidOffsets(_, nil, _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_metadata_not_strings", mentions: ["__metadata__", "'epoch'"]) {
        if case .invalidHeader(_, "__metadata__", _) = $0 { return true } else { return false }
    },
    BadFileCase(file: "safetensors_missing_dtype", mentions: ["'0.bias'", "'dtype'", "missing"]) {
        if case .invalidHeader(_, "tensor '0.bias' field 'dtype'", _) = $0 { return true } else { return false }
    },
]

@Suite struct CheckpointTests {
    private let torchFile = fixturesDirectory.appendingPathComponent("checkpoint_torch.safetensors")
    private let torchFile64 = fixturesDirectory.appendingPathComponent("checkpoint_torch_f64.safetensors")

    private func expected(_ name: String) throws -> ExpectedOutputs {
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
        return try JSONDecoder().decode(ExpectedOutputs.self, from: data)
    }

    // MARK: Round trips

    @Test func roundTripFloat() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let model = torchArchitecture(Float.self, seed: 1)
        try saveCheckpoint(model, to: url, metadata: ["epoch": "3", "note": "quote \" and \\ and ü"])
        let copy = torchArchitecture(Float.self, seed: 2)
        #expect(snapshot(copy) != snapshot(model))
        let keys = try loadCheckpoint(into: copy, from: url)
        #expect(keys == IncompatibleKeys(missingKeys: [], unexpectedKeys: []))
        #expect(snapshot(copy) == snapshot(model))
        let inputs = [[-1.0], [0.5], [2.0]]
        #expect(forward(copy, inputs) == forward(model, inputs))

        let file = try SafeTensors(contentsOf: url)
        #expect(file.metadata == ["epoch": "3", "note": "quote \" and \\ and ü"])
        #expect(file.names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(file.names.allSatisfy { file[$0]?.dtype == .float32 })
        // Nothing but the file is left in the folder (the temporary file was renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func roundTripDouble() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let model = torchArchitecture(Double.self, seed: 3)
        try saveCheckpoint(model, to: url)
        let file = try SafeTensors(contentsOf: url)
        #expect(file.names.allSatisfy { file[$0]?.dtype == .float64 })
        #expect(file.metadata.isEmpty)
        let copy = torchArchitecture(Double.self, seed: 4)
        try loadCheckpoint(into: copy, from: url)
        #expect(snapshot(copy) == snapshot(model))

        // Overwriting an existing checkpoint replaces it.
        let other = torchArchitecture(Double.self, seed: 5)
        try saveCheckpoint(other, to: url)
        try loadCheckpoint(into: copy, from: url)
        #expect(snapshot(copy) == snapshot(other))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func precisionsConvertOnLoad() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("f32.safetensors")
        let single = torchArchitecture(Float.self, seed: 6)
        try saveCheckpoint(single, to: url)
        let double = torchArchitecture(Double.self, seed: 7)
        try loadCheckpoint(into: double, from: url)
        #expect(snapshot(double) == snapshot(single), "Float → Double must be exact")

        let url64 = folder.appendingPathComponent("f64.safetensors")
        try saveCheckpoint(double, to: url64)
        let back = torchArchitecture(Float.self, seed: 8)
        try loadCheckpoint(into: back, from: url64)
        #expect(snapshot(back) == snapshot(single))
    }

    @Test func buffersAreSavedAndRestored() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bn.safetensors")
        let stats = RunningMean<Float>(3)
        stats.runningMean = Tensor([0.5, -1, 2])
        let inner = Sequential<Float>(Linear(2, 3, generator: RandomGenerator(seed: 1)), stats)
        let model = Sequential<Float>(inner, ReLU())
        try saveCheckpoint(model, to: url)
        #expect(try SafeTensors(contentsOf: url).names == ["0.0.weight", "0.0.bias", "0.1.weight", "0.1.running_mean"])

        let freshStats = RunningMean<Float>(3)
        let fresh = Sequential<Float>(Sequential<Float>(Linear(2, 3, generator: RandomGenerator(seed: 2)), freshStats), ReLU())
        try loadCheckpoint(into: fresh, from: url)
        #expect(freshStats.runningMean.scalars == [0.5, -1, 2])
        #expect(snapshot(fresh) == snapshot(model))
    }

    // MARK: PyTorch interoperability

    @Test func fileWrittenByPyTorchLoads() throws {
        let expected = try expected("checkpoint_torch_expected.json")
        let model = torchArchitecture(Float.self)
        try loadCheckpoint(into: model, from: torchFile)
        let outputs = forward(model, expected.inputs)
        for (row, (got, want)) in zip(outputs, expected.outputs).enumerated() {
            #expect(abs(got[0] - want[0]) <= 1e-5, "row \(row): GradLab \(got[0]), PyTorch \(want[0])")
        }

        let model64 = torchArchitecture(Double.self)
        try loadCheckpoint(into: model64, from: torchFile64)
        for (row, (got, want)) in zip(forward(model64, expected.inputs), expected.outputs_float64).enumerated() {
            #expect(abs(got[0] - want[0]) <= 1e-12, "row \(row) (float64): GradLab \(got[0]), PyTorch \(want[0])")
        }
        // The same weights through either file.
        let fromF32 = torchArchitecture(Double.self)
        try loadCheckpoint(into: fromF32, from: torchFile)
        #expect(snapshot(fromF32) == snapshot(model64))
    }

    /// The files that `make_checkpoint_fixture.py check` loads into PyTorch are exactly what the
    /// writer produces today, and their outputs are what this forward pass computes.
    @Test func writerMatchesFilesCheckedByPyTorch() throws {
        let inputs = (-12...12).map { [Double($0) / 4] }
        let single = formulaModel(Float.self), double = formulaModel(Double.self)
        let metadata = ["producer": "GradLab", "format": "pt"]
        let names = ["checkpoint_swift.safetensors", "checkpoint_swift_f64.safetensors"]
        if ProcessInfo.processInfo.environment["GRADLAB_RECORD_FIXTURES"] == "1" {
            try saveCheckpoint(single, to: fixturesDirectory.appendingPathComponent(names[0]), metadata: metadata)
            try saveCheckpoint(double, to: fixturesDirectory.appendingPathComponent(names[1]), metadata: metadata)
            let outputs = ExpectedOutputs(inputs: inputs, outputs: forward(single, inputs),
                                          outputs_float64: forward(double, inputs))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(outputs).write(to: fixturesDirectory.appendingPathComponent("checkpoint_swift_expected.json"))
        }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (model, name) in [(single as any Module, names[0]), (double as any Module, names[1])] {
            let url = folder.appendingPathComponent(name)
            try saveCheckpoint(model, to: url, metadata: metadata)
            let written = try Data(contentsOf: url)
            let committed = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
            #expect(written == committed, "\(name): the writer's bytes differ from the file PyTorch was checked on")
        }
        let recorded = try expected("checkpoint_swift_expected.json")
        #expect(recorded.inputs == inputs)
        for (got, want) in zip(forward(single, inputs), recorded.outputs) { #expect(abs(got[0] - want[0]) <= 1e-6) }
        for (got, want) in zip(forward(double, inputs), recorded.outputs_float64) { #expect(abs(got[0] - want[0]) <= 1e-12) }
    }

    @Test func headerLayout() throws {
        var file = SafeTensors(metadata: ["k": "v"])
        file.set("scalar", Tensor<Float>(2.5))
        file.set("empty", Tensor<Double>.zeros([0, 3]))
        file.set("name with \"quotes\"\n", Tensor<Float>([1, 2, 3]))
        let data = file.serialized()
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0, "the data must start 8-byte aligned")
        #expect(data.count == 8 + headerLength + 4 + 0 + 12)
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
        #expect(header?.keys.sorted() == ["__metadata__", "empty", "name with \"quotes\"\n", "scalar"])
        let back = try SafeTensors(data: data, file: "memory")
        #expect(back.names == ["scalar", "empty", "name with \"quotes\"\n"])
        #expect(back["scalar"]?.shape == [] && back["scalar"]?.tensor(as: Float.self).scalars == [2.5])
        #expect(back["empty"]?.shape == [0, 3] && back["empty"]?.dtype == .float64)
        #expect(back["name with \"quotes\"\n"]?.tensor(as: Double.self).scalars == [1, 2, 3])
        #expect(back.metadata == ["k": "v"])
    }

    // MARK: Bad files

    @Test(arguments: badFiles)
    func badFileGivesTypedError(_ c: BadFileCase) throws {
        let url = fixturesDirectory.appendingPathComponent("bad/\(c.file).safetensors")
        let model = torchArchitecture(Float.self)
        let before = snapshot(model)
        guard let error = checkpointError({ try loadCheckpoint(into: model, from: url) }) else { return }
        #expect(c.matches(error), "\(c.file): wrong case: \(error)")
        let message = error.description
        #expect(message.hasPrefix(url.relativePath + ":"), "the message must name the file: \(message)")
        for mention in c.mentions {
            #expect(message.contains(mention), "\(c.file): '\(mention)' missing from: \(message)")
        }
        #expect(snapshot(model) == before, "\(c.file): a failed load changed the module")
    }

    @Test func nonStrictLoadingSkipsMissingAndExtraButNotMisshapen() throws {
        let bad = fixturesDirectory.appendingPathComponent("bad")
        let model = torchArchitecture(Float.self)
        let reference = torchArchitecture(Float.self, seed: 9)
        try loadCheckpoint(into: reference, from: torchFile)

        let extra = try loadCheckpoint(into: model, from: bad.appendingPathComponent("safetensors_extra_tensor.safetensors"),
                                       strict: false)
        #expect(extra == IncompatibleKeys(missingKeys: [], unexpectedKeys: ["5.weight"]))
        #expect(snapshot(model) == snapshot(reference))

        let partial = torchArchitecture(Float.self, seed: 10)
        let untouched = partial.namedParameters.first { $0.0 == "4.bias" }!.1.value.scalars
        let missing = try loadCheckpoint(into: partial, from: bad.appendingPathComponent("safetensors_missing_tensor.safetensors"),
                                         strict: false)
        #expect(missing == IncompatibleKeys(missingKeys: ["4.bias"], unexpectedKeys: []))
        #expect(partial.namedParameters.first { $0.0 == "4.bias" }!.1.value.scalars == untouched)
        #expect(partial.namedParameters.first { $0.0 == "2.weight" }!.1.value.scalars
                == reference.namedParameters.first { $0.0 == "2.weight" }!.1.value.scalars)

        let before = snapshot(model)
        let error = checkpointError {
            try loadCheckpoint(into: torchArchitecture(Float.self), from: bad.appendingPathComponent("safetensors_wrong_shape.safetensors"),
                               strict: false)
        }
        #expect(error?.tensor == "2.weight")
        #expect(snapshot(model) == before)
    }

    /// The good PyTorch file cut at many points, from inside the header length to the last byte.
    @Test func truncationsAnywhereAreReported() throws {
        let data = try Data(contentsOf: torchFile)
        let headerLength = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16
        let cuts = [0, 1, 4, 7, 8, 9, 8 + headerLength / 3, 8 + headerLength - 1, 8 + headerLength,
                    8 + headerLength + 1, 8 + headerLength + 41, data.count - 4, data.count - 1]
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = torchArchitecture(Float.self)
        let before = snapshot(model)
        for cut in cuts {
            let url = folder.appendingPathComponent("cut_\(cut).safetensors")
            try data.prefix(cut).write(to: url)
            let error = checkpointError { try loadCheckpoint(into: model, from: url) }
            guard let error else { continue }
            if case .truncated(let file, _) = error {
                #expect(file == url.relativePath)
                if cut > 8 + headerLength { #expect(error.description.contains("tensor '"), "\(error)") }
            } else {
                Issue.record("cut at \(cut) of \(data.count): expected truncated, got \(error)")
            }
            #expect(snapshot(model) == before)
        }
    }

    @Test func missingAndUnreadablePaths() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = torchArchitecture(Float.self)
        let nowhere = folder.appendingPathComponent("absent.safetensors")
        let notFound = checkpointError { try loadCheckpoint(into: model, from: nowhere) }
        #expect(notFound == .fileNotFound(file: nowhere.relativePath))
        #expect(notFound?.description.contains("absent.safetensors") == true)

        let directory = checkpointError { try loadCheckpoint(into: model, from: folder) }
        if case .unreadable = directory {} else { Issue.record("a directory gave \(String(describing: directory))") }

        let unwritable = checkpointError {
            try saveCheckpoint(model, to: folder.appendingPathComponent("no/such/folder/model.safetensors"))
        }
        if case .unwritable(let file, _) = unwritable { #expect(file.hasSuffix("model.safetensors")) }
        else { Issue.record("a missing folder gave \(String(describing: unwritable))") }
    }

    @Test func hostileHeadersDoNotCrash() {
        func file(_ header: String) -> Data {
            var data = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: Array(header.utf8))
            return data
        }
        let headers = [
            String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
            #"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#,
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#,
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#,
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#,
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 99999999999999999999999]}}"#,
            #"{"a": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}}"#,
            #"{"a": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}"#,
            #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": 1}}"#,
            #"{"a": 5}"#,
            #"{"__metadata__": [1]}"#,
            "{\"a\": \u{0}}",
            "\u{FF}\u{FE}",
        ]
        for header in headers {
            #expect(throws: CheckpointError.self, "\(header.prefix(60))") {
                try SafeTensors(data: file(header), file: "hostile.safetensors")
            }
        }
    }
}

