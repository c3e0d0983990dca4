import Foundation
import GradLab
import GradTestSupport
import Testing

/// Our checkpoint read by Python's own `safetensors` (numpy): a numpy forward pass with its
/// tensors reproduces our model's output.
@Suite struct CheckpointInteropTests {
    static var hasPythonSafetensors: Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import safetensors.numpy, numpy"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test(.enabled(if: hasPythonSafetensors, "python3 cannot import safetensors and numpy: python3 -m pip install safetensors numpy"),
          arguments: ["tanh", "relu", "sigmoid"])
    func numpyForwardPassMatches(_ activation: String) throws {
        let spec = try RunSpec.parse("""
            model: {mlp: {input: 3, hidden: [16, 16], output: 2, activation: \(activation)}}
            data: {kind: linear}
            """, file: "interop.yaml")
        let model = try spec.makeModel(generator: RandomGenerator(seed: 7))
        let input = Tensor<Float>.normal([5, 3], generator: RandomGenerator(seed: 8))
        let output = withoutGradient { model(input) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let checkpoint = folder.appendingPathComponent("checkpoint.safetensors")
        try saveCheckpoint(model, to: checkpoint)
        let rows = { (t: Tensor<Float>) in (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Double(t.scalars[r * t.shape[1] + $0]) } } }
        let caseFile = folder.appendingPathComponent("case.json")
        try JSONSerialization.data(withJSONObject: ["activation": activation, "layers": 3, "input": rows(input), "output": rows(output)])
            .write(to: caseFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixturesDirectory.appendingPathComponent("numpy_forward.py").path, checkpoint.path, caseFile.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(result["names"] as? [String] == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"])
        let difference = try #require(result["max_abs_difference"] as? Double)
        #expect(difference < 1e-5, "numpy forward differs by \(difference)")
    }
}
