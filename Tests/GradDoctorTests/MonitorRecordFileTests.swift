import Foundation
import Testing
import GradNN
import GradDoctor

// `record.safetensors`: a MonitorRecord written as columns and read back must be the same
// record, optionals (nil vs NaN), irregular steps and histograms included; a damaged file
// gives a CheckpointError naming the tensor or field.

@Suite struct MonitorRecordFileTests {
    /// A real record: the seeds' sigmoid run (with histograms) and the exploding run (with a
    /// non-finite origin and NaN statistics).
    @Test(arguments: [0, 1])
    func realRecordsRoundTripExactly(which: Int) throws {
        let record = which == 0 ? try Self.sigmoidWithHistograms() : largeInitSeedRun.record
        #expect(!record.steps.isEmpty)
        if which == 0 { #expect(!record.histograms.isEmpty) } else { #expect(record.firstNonfinite != nil) }
        let bytes = record.safeTensors().serialized()
        let back = try MonitorRecord(safeTensors: SafeTensors(data: bytes, file: "record.safetensors"), path: "record.safetensors")
        // NaN != NaN, so compare the JSON encodings (NaN written as a string) rather than values.
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(back) == encoder.encode(record))
    }

    /// Steps that record different parameters and layers, nil next to NaN, histograms of
    /// different lengths.
    @Test func irregularRecordRoundTrips() throws {
        var record = try RecordBuilder.record([RecordBuilder.step(0, loss: 1), RecordBuilder.step(2, loss: .nan, skipped: true)])
        record.stride = 2
        record.histogramStride = 4
        record.steps[0].loss = nil
        record.steps[0].clippedGradientNorm = 1
        record.steps[0].parameters[0].updateRatio = nil
        record.steps[0].layers[1].saturationFraction = 0.2
        record.steps[1].globalGradientNorm = .infinity
        record.steps[1].parameters.removeFirst(3)
        record.steps[1].parameters[0].updateRatio = .nan
        record.steps[1].layers = []
        let histogram = try Self.histogram()
        var other = histogram
        other.step = 2
        other.name = "9.weight"
        other.logCounts = [7]
        other.linearCounts = []
        record.histograms = [histogram, other]

        let back = try MonitorRecord(safeTensors: record.safeTensors(), path: "r")
        #expect(back.steps.count == 2 && back.stride == 2 && back.histogramStride == 4 && back.skippedSteps == 1)
        #expect(back.steps[0] == record.steps[0])
        #expect(back.steps[0].loss == nil && back.steps[0].parameters[0].updateRatio == nil)
        #expect(back.steps[0].clippedGradientNorm == 1 && back.steps[0].layers[1].saturationFraction == 0.2)
        #expect(back.steps[1].loss!.isNaN && back.steps[1].parameters[0].updateRatio!.isNaN)
        #expect(back.steps[1].globalGradientNorm == .infinity && back.steps[1].skipped)
        #expect(back.steps[1].parameters.map(\.name) == record.steps[1].parameters.map(\.name) && back.steps[1].layers.isEmpty)
        #expect(back.histograms == record.histograms)
    }

    /// A histogram of `0.weight` at step 0 with 3 log bins and 2 linear bins.
    static func histogram() throws -> GradientHistogram {
        try JSONDecoder().decode(GradientHistogram.self, from: Data("""
            {"step": 0, "name": "0.weight", "zeroCount": 1, "logCounts": [1, 2, 3], "nonfiniteCount": 0,
             "linearCounts": [4, 5], "linearRange": 0.5}
            """.utf8))
    }

    /// The seeds' sigmoid record (trained without histograms) with two histograms added.
    static func sigmoidWithHistograms() throws -> MonitorRecord {
        var record = sigmoidSeedRun.record
        var late = try histogram()
        late.step = 10
        late.name = "2.bias"
        record.histograms = [try histogram(), late]
        return record
    }

    @Test func damagedFilesNameWhatIsWrong() throws {
        var file = sigmoidSeedRun.record.safeTensors()
        file["layer.activation_std"] = nil
        #expect(throws: CheckpointError.missingTensor(file: "r", tensor: "layer.activation_std")) {
            try MonitorRecord(safeTensors: file, path: "r")
        }
        var wrongType = sigmoidSeedRun.record.safeTensors()
        wrongType["step.step"] = .float64(.init(shape: [wrongType["step.step"]!.shape[0]], repeating: 0))
        #expect(throws: CheckpointError.self) { try MonitorRecord(safeTensors: wrongType, path: "r") }
        var short = sigmoidSeedRun.record.safeTensors()
        short["step.skipped"] = .int64(shape: [1], values: [0])
        #expect(throws: CheckpointError.invalidShape(file: "r", tensor: "step.skipped",
                                                      detail: "expected \(sigmoidSeedRun.record.steps.count) elements, found 1")) {
            try MonitorRecord(safeTensors: short, path: "r")
        }
        var otherFormat = sigmoidSeedRun.record.safeTensors()
        otherFormat.metadata["format"] = "checkpoint"
        #expect(throws: CheckpointError.self) { try MonitorRecord(safeTensors: otherFormat, path: "r") }
        var badIndex = try Self.sigmoidWithHistograms().safeTensors()
        let h = badIndex["histogram.name"]!.shape[0]
        #expect(h == 2)
        badIndex["histogram.name"] = .int64(shape: [h], values: [Int64](repeating: 999, count: h))
        #expect(throws: CheckpointError.self) { try MonitorRecord(safeTensors: badIndex, path: "r") }
    }
}
