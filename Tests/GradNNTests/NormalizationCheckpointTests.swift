import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Checkpoints of models with batch norm: running statistics and `num_batches_tracked` (I64, as
// in PyTorch's state_dict) round-trip, a file PyTorch saved loads (`norm_golden.json` holds one,
// base64-encoded, written by `make_norm_golden.py`), and a file GradLab saved loads in PyTorch
// with `load_state_dict(strict=True)` (checked by running `make_norm_golden.py check` when
// python3 with torch and safetensors is available).

/// `Sequential(Linear(3, 4), BatchNorm1d(4), ReLU, Linear(4, 2))`, the fixture's architecture.
private func checkpointNet<S: TensorScalar>(_: S.Type, seed: UInt64) -> Sequential<S> {
    let g = RandomGenerator(seed: seed)
    return Sequential<S>(Linear(3, 4, generator: g), BatchNorm1d(numFeatures: 4), ReLU(), Linear(4, 2, generator: g))
}

/// Runs three training batches so the running statistics are not their initial values.
private func warmUp<S: TensorScalar>(_ model: Sequential<S>, seed: UInt64) {
    let g = RandomGenerator(seed: seed)
    for _ in 0..<3 { _ = withoutGradient { model(Tensor<S>.normal([6, 3], mean: 0.5, std: 1.5, generator: g)) } }
}

private func batchNorm<S: TensorScalar>(_ model: Sequential<S>) -> BatchNorm1d<S> { model.layers[1] as! BatchNorm1d<S> }

/// Whether `python3` can import torch and safetensors (for the PyTorch-side check).
private let pythonWithTorch: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import torch, safetensors"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    } catch {
        return false
    }
}()

private struct TorchCheckExpectation: Encodable {
    let inputs: [[Double]]
    let outputs: [[Double]]
    let num_batches_tracked: Int
    let running_mean: [Double]
    let running_var: [Double]
}

@Suite struct NormalizationCheckpointTests {
    static let inputs: [[Double]] = [[-1.0, 0.5, 2.0], [0.25, -0.75, 1.5], [1.0, 1.0, -1.0], [0.0, -2.0, 0.5]]

    @Test func batchNormBuffersRoundTripWithAnInt64Counter() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bn.safetensors")
        let model = checkpointNet(Float.self, seed: 1)
        warmUp(model, seed: 2)
        #expect(batchNorm(model).numBatchesTracked == 3)
        try saveCheckpoint(model, to: url)

        let file = try SafeTensors(contentsOf: url)
        #expect(file.names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                               "1.running_mean", "1.running_var", "1.num_batches_tracked"])
        #expect(Set(file.names) == Set(normCheckpointGolden().state_dict_names))
        #expect(file["1.num_batches_tracked"]?.dtype == .int64)
        #expect(file["1.running_mean"]?.dtype == .float32)
        guard case .int64(let shape, let values)? = file["1.num_batches_tracked"] else {
            Issue.record("num_batches_tracked is not stored as I64")
            return
        }
        #expect(shape == [] && values == [3])

        let copy = checkpointNet(Float.self, seed: 9)
        try loadCheckpoint(into: copy, from: url)
        #expect(batchNorm(copy).numBatchesTracked == 3)
        #expect(batchNorm(copy).runningMean.scalars == batchNorm(model).runningMean.scalars)
        #expect(batchNorm(copy).runningVar.scalars == batchNorm(model).runningVar.scalars)
        model.eval(); copy.eval()
        let x = Tensor<Float>(Self.inputs.map { $0.map(Float.init) })
        #expect(copy(x).scalars == model(x).scalars)

        // A Double model reads the Float file, counter included.
        let wide = checkpointNet(Double.self, seed: 10)
        try loadCheckpoint(into: wide, from: url)
        #expect(batchNorm(wide).numBatchesTracked == 3)
        #expect(batchNorm(wide).runningVar.scalars == batchNorm(model).runningVar.scalars.map(Double.init))
    }

    @Test func int64TensorsSerializeAndConvert() throws {
        var file = SafeTensors()
        file["count"] = .int64(shape: [], values: [1 << 40])
        file["steps"] = .init(int64Rounding: Tensor<Double>([2.4, -7.6]))
        let data = file.serialized()
        let length = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
        let header = String(decoding: data.dropFirst(8).prefix(length), as: UTF8.self)
        #expect(header.contains("\"count\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"), "\(header)")
        let back = try SafeTensors(data: data, file: "memory")
        #expect(back["count"]?.dtype == .int64 && back["count"]?.shape == [])
        #expect(back["count"]?.tensor(as: Double.self).scalar == 1_099_511_627_776)
        #expect(back["steps"]?.tensor(as: Float.self).scalars == [2, -8])
        #expect(SafeTensors.DType.int64.byteCount == 8)
        // Still refused: a dtype the reader does not know, with the supported list in the message.
        let description = CheckpointError.unsupportedDtype(file: "f", tensor: "t", dtype: "BF16").description
        #expect(description.contains("F32, F64, I64"), "\(description)")
    }

    @Test func fileSavedByPyTorchLoads() throws {
        let golden = normCheckpointGolden()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("torch.safetensors")
        let bytes = try #require(Data(base64Encoded: golden.safetensors_base64))
        try bytes.write(to: url)
        #expect(try SafeTensors(contentsOf: url)["1.num_batches_tracked"]?.dtype == .int64)

        let model = checkpointNet(Float.self, seed: 3)
        try loadCheckpoint(into: model, from: url, strict: true)
        let bn = batchNorm(model)
        #expect(bn.numBatchesTracked == golden.num_batches_tracked)
        #expect(mismatch(bn.runningMean.converted(to: Double.self), golden.running_mean.tensor(), rtol: 0, atol: 0) == nil)
        #expect(mismatch(bn.runningVar.converted(to: Double.self), golden.running_var.tensor(), rtol: 0, atol: 0) == nil)
        model.eval()
        let outputs = model(Tensor<Float>(golden.inputs.map { $0.map(Float.init) }))
        #expect(mismatch(outputs.converted(to: Double.self), golden.outputs.tensor(), rtol: 1e-5, atol: 1e-6) == nil)

        let model64 = checkpointNet(Double.self, seed: 4)
        try loadCheckpoint(into: model64, from: url, strict: true)
        model64.eval()
        #expect(batchNorm(model64).numBatchesTracked == golden.num_batches_tracked)
        #expect(mismatch(model64(Tensor(golden.inputs)), golden.outputs.tensor(), rtol: 1e-5, atol: 1e-6) == nil)
    }

    @Test(.enabled(if: pythonWithTorch, "needs python3 with torch and safetensors"),
          arguments: ["F32", "F64"])
    func fileSavedByGradLabLoadsInPyTorchStrictly(_ dtype: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("gradlab.safetensors")
        let expectation: TorchCheckExpectation
        if dtype == "F32" {
            let model = checkpointNet(Float.self, seed: 5)
            warmUp(model, seed: 6)
            try saveCheckpoint(model, to: url)
            model.eval()
            let y = model(Tensor<Float>(Self.inputs.map { $0.map(Float.init) }))
            expectation = TorchCheckExpectation(
                inputs: Self.inputs, outputs: (0..<y.shape[0]).map { r in (0..<2).map { Double(y[element: r, $0]) } },
                num_batches_tracked: 3, running_mean: batchNorm(model).runningMean.scalars.map(Double.init),
                running_var: batchNorm(model).runningVar.scalars.map(Double.init))
        } else {
            let model = checkpointNet(Double.self, seed: 5)
            warmUp(model, seed: 6)
            _ = withoutGradient { model(Tensor<Double>.normal([5, 3], generator: RandomGenerator(seed: 8))) }
            try saveCheckpoint(model, to: url)
            model.eval()
            let y = model(Tensor(Self.inputs))
            expectation = TorchCheckExpectation(
                inputs: Self.inputs, outputs: (0..<y.shape[0]).map { r in (0..<2).map { y[element: r, $0] } },
                num_batches_tracked: 4, running_mean: batchNorm(model).runningMean.scalars,
                running_var: batchNorm(model).runningVar.scalars)
        }
        let expectedURL = folder.appendingPathComponent("expected.json")
        try JSONEncoder().encode(expectation).write(to: expectedURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixturesDirectory.appendingPathComponent("make_norm_golden.py").path,
                             "check", url.path, expectedURL.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "PyTorch rejected the \(dtype) checkpoint: \(message)")
    }
}
