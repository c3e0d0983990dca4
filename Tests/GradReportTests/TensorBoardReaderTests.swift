import Foundation
import GradDoctor
import GradReport
import GradTestSupport
import Testing

// Event files read back by TensorBoard itself (Tests/Fixtures/read_tfevents.py, which uses
// TensorBoard's record reader and EventAccumulator). Needs `pip install tensorboard`; skipped,
// with the reason shown, when `python3 -c 'import tensorboard'` fails.

/// Whether `python3 -c 'import tensorboard'` succeeds.
let tensorboardAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import tensorboard"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// What `read_tfevents.py` prints (decoded with JSONDecoder, which reads doubles exactly;
/// `"nan"`, `"inf"`, `"-inf"` become the non-finite Doubles).
struct ReaderOutput: Decodable {
    struct Series: Decodable {
        var steps: [Int]
        var values: [Double]
        var wall_times: [Double]
    }
    struct Histogram: Decodable {
        var step: Int
        var wall_time: Double
        var min, max, num, sum, sum_squares: Double
        var bucket_limit: [Double]
        var bucket: [Double]
    }
    var files: [String]
    var records: Int
    var file_versions: [String]
    var tags: [String: [String]]
    var scalars: [String: Series]
    var histograms: [String: [Histogram]]
}

/// Runs `read_tfevents.py DIR`: its decoded output, or its exit status and stderr when it failed.
func readEventFiles(_ folder: URL) throws -> (status: Int32, output: ReaderOutput?, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", fixturesDirectory.appendingPathComponent("read_tfevents.py").path, folder.path]
    let errorFile = folder.deletingLastPathComponent().appendingPathComponent("\(folder.lastPathComponent).stderr")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: errorFile)
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    guard process.terminationStatus == 0 else { return (process.terminationStatus, nil, stderr) }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return (0, try decoder.decode(ReaderOutput.self, from: data), stderr)
}

/// Deterministic standard normal samples: SplitMix64 and Box–Muller.
func normalSamples(_ count: Int, seed: UInt64) -> [Double] {
    var state = seed
    func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) + 0.5) / 9_007_199_254_740_992
    }
    return (0..<count).map { _ in (-2 * Foundation.log(uniform())).squareRoot() * Foundation.cos(2 * Double.pi * uniform()) }
}

@Suite("TensorBoard event files read by TensorBoard", .enabled(if: tensorboardAvailable,
       "python3 cannot import tensorboard: install it with `python3 -m pip install tensorboard`"))
struct TensorBoardReaderTests {
    /// Checks one histogram from the reader against the values it was made of: figures exact,
    /// each bucket holding exactly the values in `[previous limit, limit)`.
    func checkDefaultBuckets(_ histogram: ReaderOutput.Histogram, values: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(histogram.num == Double(values.count), sourceLocation: sourceLocation)
        #expect(histogram.min == values.min(), sourceLocation: sourceLocation)
        #expect(histogram.max == values.max(), sourceLocation: sourceLocation)
        #expect(histogram.sum == values.reduce(0, +), sourceLocation: sourceLocation)
        #expect(histogram.sum_squares == values.reduce(0) { $0 + $1 * $1 }, sourceLocation: sourceLocation)
        let limits = histogram.bucket_limit, counts = histogram.bucket
        #expect(limits.count == counts.count && !limits.isEmpty, sourceLocation: sourceLocation)
        #expect(counts.reduce(0, +) == Double(values.count), sourceLocation: sourceLocation)
        let defaults = Set(TensorBoardHistogram.defaultBucketLimits)
        #expect(limits.allSatisfy { defaults.contains($0) }, "limits not among TensorFlow's defaults", sourceLocation: sourceLocation)
        #expect(!zip(counts, counts.dropFirst()).contains { $0 == 0 && $1 == 0 }, "empty buckets not merged", sourceLocation: sourceLocation)
        for i in limits.indices {
            let low = i == 0 ? -Double.infinity : limits[i - 1]
            let inside = values.filter { $0 >= low && $0 < limits[i] }.count
            #expect(Double(inside) == counts[i], "bucket \(i) [\(low), \(limits[i]))", sourceLocation: sourceLocation)
        }
    }

    @Test("scalars (with a NaN), default-bucket histograms and a recorded histogram read back exactly")
    func writerReadBack() throws {
        let folder = try temporaryFolder("tb-read")
        defer { try? FileManager.default.removeItem(at: folder) }
        let floats = normalSamples(1000, seed: 42).map { Float($0 * 0.1) }
        // Plus values lying exactly on bucket limits (0, ±1e-12·1.1^k), which go to the bucket above.
        let limits = TensorBoardHistogram.defaultBucketLimits
        let doubles = normalSamples(1000, seed: 7).map { 3 * $0 - 1 } + [0, 0, limits[776], limits[1000], limits[500], limits[1200]]
        var counts = [Int](repeating: 0, count: 41)
        counts[3] = 4; counts[17] = 10; counts[20] = 25; counts[38] = 1
        let recorded = try gradientHistogram(step: 5, name: "0.weight", linearCounts: counts, range: 4.1)
        let loss: (Int) -> Double = { $0 == 7 ? .nan : 1 / Double($0 + 1) }

        let writer = try TensorBoardWriter(directory: folder)
        for step in 0..<20 {
            try writer.addScalar("loss", loss(step), step: step, wallTime: 1000 + Double(step))
            if step == 0 { try floats.withUnsafeBufferPointer { try writer.addHistogram("weight/0.weight", values: $0, step: 0, wallTime: 1000) } }
            if step == 1 { try writer.addHistogram("values/double", values: doubles, step: 1, wallTime: 1001) }
            if step == 5 { try writer.addHistogram("grad/0.weight", histogram: recorded, wallTime: 1005) }
        }
        try writer.close()

        let result = try readEventFiles(folder)
        let json = try #require(result.output, "read_tfevents.py failed (\(result.status)): \(result.stderr)")
        #expect(json.records == 1 + 20 + 3)
        #expect(json.files == [writer.url.lastPathComponent])
        #expect(json.file_versions == ["brain.Event:2"])
        #expect(json.tags["scalars"] == ["loss"])
        #expect(json.tags["histograms"] == ["grad/0.weight", "values/double", "weight/0.weight"])

        let scalars = try #require(json.scalars["loss"])
        #expect(scalars.steps == Array(0..<20))
        #expect(scalars.wall_times == (0..<20).map { 1000 + Double($0) })
        try #require(scalars.values.count == 20)
        for step in 0..<20 {
            let expected = Float(loss(step)), found = scalars.values[step]
            #expect(Float(found) == expected || (expected.isNaN && found.isNaN), "step \(step): \(found) ≠ \(expected)")
            #expect(Double(Float(found)) == found || found.isNaN, "step \(step): \(found) is not a Float32 value")
        }
        #expect(scalars.values[7].isNaN)

        let weight = try #require(json.histograms["weight/0.weight"]?.first)
        #expect(weight.step == 0 && weight.wall_time == 1000)
        checkDefaultBuckets(weight, values: floats.map(Double.init))
        let double = try #require(json.histograms["values/double"]?.first)
        #expect(double.step == 1)
        checkDefaultBuckets(double, values: doubles)

        // 41 bins of width 0.2 over [−4.1, 4.1]; kept bins 3…38; bin k's right edge −4.1 + (k+1)·0.2.
        let grad = try #require(json.histograms["grad/0.weight"]?.first)
        let width = 2 * 4.1 / 41
        #expect(grad.step == 5)
        #expect(grad.min == -4.1 + 3 * width)
        #expect(grad.max == -4.1 + 39 * width)
        #expect(grad.num == 40)
        #expect(grad.bucket == (3...38).map { Double(counts[$0]) })
        #expect(grad.bucket_limit == (3...38).map { -4.1 + Double($0 + 1) * width })
    }

    @Test("write(record:losses:to:) gives the documented tags and values")
    func recordReadBack() throws {
        let folder = try temporaryFolder("tb-record")
        defer { try? FileManager.default.removeItem(at: folder) }
        func parameter(_ name: String, norm: Double, mean: Double, std: Double, ratio: Double?) -> [String: Any] {
            var p: [String: Any] = ["name": name, "gradientNorm": norm, "gradientRMS": norm / 2, "gradientMaxAbs": norm,
                                    "gradientMean": mean, "gradientStd": std, "zeroFraction": 0.0,
                                    "nonfiniteCount": 0, "weightNorm": 1.0]
            if let ratio { p["updateRatio"] = ratio }
            return p
        }
        let layers: [[String: Any]] = [
            ["name": "0", "kind": "Linear", "activationMean": 0.0, "activationStd": 1.0, "nonfiniteCount": 0],
            ["name": "1", "kind": "Sigmoid", "activationMean": 0.5, "activationStd": 0.2, "saturationFraction": 0.125, "nonfiniteCount": 0],
            ["name": "3", "kind": "ReLU", "activationMean": 0.3, "activationStd": 0.4, "deadFraction": 0.25, "nonfiniteCount": 0],
        ]
        let steps: [StepStatistics] = try [
            decoded(["step": 0, "loss": 2.0, "globalGradientNorm": 5.0, "clippedGradientNorm": 1.0, "skipped": false, "layers": layers,
                     "parameters": [parameter("0.weight", norm: 4.0, mean: 0.5, std: 1.5, ratio: 1e-3),
                                    parameter("0.bias", norm: 3.0, mean: -0.25, std: 0.75, ratio: 2e-3)]]),
            decoded(["step": 2, "loss": 1.0, "globalGradientNorm": 0.3, "skipped": false, "layers": layers,
                     "parameters": [parameter("0.weight", norm: 0.2, mean: 0.0, std: 0.1, ratio: 4e-4),
                                    parameter("0.bias", norm: 0.1, mean: 0.0, std: 0.05, ratio: nil)]]),
        ]
        var record = MonitorRecord()
        record.steps = steps
        var counts = [Int](repeating: 0, count: 41)
        counts[0] = 2; counts[40] = 6
        record.histograms = [try gradientHistogram(step: 0, name: "0.weight", linearCounts: counts, range: 2.05)]
        let losses: [(step: Int, value: Double)] = [(0, 2.0), (1, 1.5), (2, 1.0)]

        let url = try TensorBoardWriter.write(record: record, losses: losses, to: folder, wallTime: 99)
        #expect(FileManager.default.fileExists(atPath: url.path))
        let result = try readEventFiles(folder)
        let json = try #require(result.output, "read_tfevents.py failed (\(result.status)): \(result.stderr)")
        #expect(json.files == [url.lastPathComponent])
        #expect(json.tags["scalars"] == ["dead/3", "grad_norm/0.bias", "grad_norm/0.weight", "grad_norm/clipped", "grad_norm/global",
                                         "loss", "saturation/1", "update_ratio/0.bias", "update_ratio/0.weight"])
        #expect(json.tags["histograms"] == ["grad/0.weight"])
        func series(_ tag: String) -> ([Int], [Float]) {
            (json.scalars[tag]?.steps ?? [], (json.scalars[tag]?.values ?? []).map { Float($0) })
        }
        func floats(_ values: [Double]) -> [Float] { values.map { Float($0) } }
        #expect(series("loss") == ([0, 1, 2], floats([2, 1.5, 1])))
        #expect(series("grad_norm/global") == ([0, 2], floats([5, 0.3])))
        #expect(series("grad_norm/clipped") == ([0], floats([1])))
        #expect(series("grad_norm/0.weight") == ([0, 2], floats([4, 0.2])))
        #expect(series("grad_norm/0.bias") == ([0, 2], floats([3, 0.1])))
        #expect(series("update_ratio/0.weight") == ([0, 2], floats([1e-3, 4e-4])))
        #expect(series("update_ratio/0.bias") == ([0], floats([2e-3])))
        #expect(series("saturation/1") == ([0, 2], floats([0.125, 0.125])))
        #expect(series("dead/3") == ([0, 2], floats([0.25, 0.25])))
        #expect(json.scalars["loss"]?.wall_times == [99, 99, 99])

        let grad = try #require(json.histograms["grad/0.weight"]?.first)
        // Exact figures from step 0's statistics of 0.weight over its 8 finite elements.
        #expect(grad.num == 8)
        #expect(grad.sum == 0.5 * 8)
        #expect(grad.sum_squares == (1.5 * 1.5 + 0.5 * 0.5) * 8)
        #expect(grad.min == -2.05 && grad.max == 2.05)
        #expect(grad.bucket == [2] + [Double](repeating: 0, count: 39) + [6])
    }

    @Test("TensorBoard's record reader rejects a file with one flipped byte (the CRCs are checked)")
    func corruptionDetected() throws {
        let folder = try temporaryFolder("tb-corrupt")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try TensorBoardWriter(directory: folder)
        try writer.addScalar("loss", 0.5, step: 0, wallTime: 1)
        try writer.close()
        var bytes = [UInt8](try Data(contentsOf: writer.url))
        let intact = try readEventFiles(folder)
        #expect(intact.status == 0 && intact.output?.records == 2)
        bytes[bytes.count - 8] ^= 0x01    // inside the scalar's float value
        try Data(bytes).write(to: writer.url)
        let damaged = try readEventFiles(folder)
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("crc32"), "\(damaged.stderr)")
    }
}
