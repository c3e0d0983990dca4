import Foundation
import Testing
import GradLab
import GradTestSupport

// The fuzz regression corpus, Tests/Fixtures/bad/fuzz/TARGET/*: every input that made a
// reader crash, hang or run out of memory under libFuzzer (Fuzz/run.sh), and hand-made inputs
// aimed at the same limits (make_hostile_inputs.py). Each is read as its fuzz target reads it
// (Fuzz/Sources/fuzz-TARGET) and must give that reader's typed error, in one line naming the file.
// (tfevents inputs are made by Fuzz/seeds/make_tfevents.py.)

private let corpusDirectory = fixturesDirectory.appendingPathComponent("bad/fuzz")

/// The fuzz targets, by folder name.
private let targets = ["safetensors", "monitor-record", "csv", "idx", "gzip", "spec", "metrics-log", "tfevents"]

/// One regression input.
private struct Input: Sendable, CustomTestStringConvertible {
    let target: String
    let file: String
    var testDescription: String { "\(target)/\(file)" }
    var url: URL { corpusDirectory.appendingPathComponent(target).appendingPathComponent(file) }
}

/// Every file under the target folders.
private let inputs: [Input] = targets.flatMap { target in
    let folder = corpusDirectory.appendingPathComponent(target)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return files.filter { !$0.hasPrefix(".") }.sorted().map { Input(target: target, file: $0) }
}

/// PyTorch's `Sequential(Linear(1,10), Sigmoid(), Linear(10,10), ReLU(), Linear(10,1))`, the
/// module the safetensors target loads into.
private func checkpointModel() -> Sequential<Float> {
    let g = RandomGenerator(seed: 1)
    return Sequential<Float>(Linear(1, 10, generator: g), Sigmoid(), Linear(10, 10, generator: g), ReLU(),
                             Linear(10, 1, generator: g))
}

/// The CSV options that the first byte of a `csv` input selects (as `FuzzCSV.swift` does).
private func csvOptions(_ selector: UInt8) -> CSVOptions {
    let headers: [CSVOptions.Header] = [.automatic, .present, .absent]
    let targets: [CSVOptions.TargetColumn] = [.last, .index(0), .index(-2), .name("y")]
    let tasks: [CSVOptions.Task] = [.regression, .classification(.oneHot), .classification(.index)]
    return CSVOptions(
        header: headers[Int(selector & 3) % 3],
        target: targets[Int(selector >> 2) & 3],
        task: tasks[(Int(selector >> 4) & 3) % 3],
        delimiter: selector & 0x40 != 0 ? UInt8(ascii: ";") : UInt8(ascii: ","),
        standardize: selector & 0x80 != 0,
        validationFraction: selector & 0x20 != 0 ? 0.25 : 0)
}

/// Reads `input` as its target does; returns the typed error it threw, or nil if it read.
/// An error of another type is recorded as a failure.
private func read(_ input: Input) throws -> (any Error & CustomStringConvertible)? {
    let url = input.url
    let name = url.relativePath
    do {
        switch input.target {
        case "safetensors":
            let file = try SafeTensors(contentsOf: url)
            try loadCheckpoint(into: checkpointModel(), from: file, fileName: name)
        case "monitor-record":
            _ = try MonitorRecord(safeTensors: SafeTensors(contentsOf: url), path: name)
        case "csv":
            var bytes = [UInt8](try Data(contentsOf: url))
            let selector = bytes.isEmpty ? 0 : bytes.removeFirst()
            if Gzip.isGzip(bytes) { bytes = try Gzip.decompress(bytes, file: name) }
            _ = try CSVLoader.load(bytes: bytes, file: name, options: csvOptions(selector), as: Float.self)
        case "idx":
            _ = try IDXArray.read(contentsOf: url)
        case "gzip":
            _ = try Gzip.decompress([UInt8](try Data(contentsOf: url)), file: name)
        case "spec":
            _ = try RunSpec.load(contentsOf: url)
        case "metrics-log":
            _ = try MetricsLog.readLines(url: url)
        case "tfevents":
            _ = try TensorBoardEventFile.read(contentsOf: url)
        default:
            Issue.record("no reader for target '\(input.target)'")
        }
        return nil
    } catch let error as CheckpointError {
        return input.target == "safetensors" || input.target == "monitor-record" ? error : unexpected(error, input)
    } catch let error as DataError {
        return ["csv", "idx", "gzip"].contains(input.target) ? error : unexpected(error, input)
    } catch let error as SpecError {
        return input.target == "spec" ? error : unexpected(error, input)
    } catch let error as MetricsLogError {
        return input.target == "metrics-log" ? error : unexpected(error, input)
    } catch let error as TensorBoardEventFileError {
        return input.target == "tfevents" ? error : unexpected(error, input)
    }
}

private func unexpected(_ error: any Error, _ input: Input) -> (any Error & CustomStringConvertible)? {
    Issue.record("\(input.testDescription) threw \(type(of: error)), not its reader's error: \(error)")
    return nil
}

@Suite("Fuzz regression corpus")
struct FuzzRegressionTests {
    @Test("each input gives its reader's typed error in one line that names the file", arguments: inputs)
    fileprivate func input(_ input: Input) throws {
        let error = try read(input)
        let described = try #require(error, "\(input.testDescription) was read without an error")
        #expect(!described.description.contains("\n"))
        #expect(described.description.contains(input.file), "\(described.description)")
    }

    @Test("every target has regression inputs, and every folder is a target")
    func corpusCoversEveryTarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".py") }
        #expect(Set(folders) == Set(targets))
        for target in targets {
            #expect(inputs.contains { $0.target == target }, "no inputs for \(target)")
        }
        #expect(inputs.count >= 40)
    }
}
