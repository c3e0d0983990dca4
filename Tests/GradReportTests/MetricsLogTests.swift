import Foundation
import GradDoctor
import GradReport
import Testing

/// The lines of a file, split on newlines (the last, empty piece after a final newline dropped).
private func rawLines(_ url: URL) throws -> [String] {
    var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

/// Whether two lines are equal, NaN fields counting as equal to NaN.
private func same(_ a: MetricsLine, _ b: MetricsLine) -> Bool {
    func eq(_ x: Double?, _ y: Double?) -> Bool { x == y || (x?.isNaN == true && y?.isNaN == true) }
    return a.step == b.step && a.epoch == b.epoch && eq(a.loss, b.loss) && eq(a.validationLoss, b.validationLoss)
        && eq(a.learningRate, b.learningRate) && eq(a.gradientNorm, b.gradientNorm) && eq(a.clippedNorm, b.clippedNorm)
        && a.skipped == b.skipped && a.parameterGradientNorms.keys.sorted() == b.parameterGradientNorms.keys.sorted()
        && a.parameterGradientNorms.allSatisfy { eq($0.value, b.parameterGradientNorms[$0.key]) }
}

@Suite("metrics.jsonl")
struct MetricsLogTests {
    let sample: [MetricsLine] = [
        MetricsLine(step: 0, epoch: 0, loss: 1.5, learningRate: 0.01, gradientNorm: 2.5,
                    parameterGradientNorms: ["0.weight": 2.0, "0.bias": 1.5]),
        MetricsLine(step: 1, epoch: 0, loss: .nan, learningRate: 0.01, gradientNorm: .infinity, clippedNorm: 1.0,
                    parameterGradientNorms: ["0.weight": .infinity, "0.bias": -.infinity], skipped: true),
        MetricsLine(step: 2, epoch: 1, loss: 0.75, validationLoss: 0.875, learningRate: 0.005, gradientNorm: 1e-5),
    ]

    @Test("the exact text of a line: key order, natural name order, non-finite numbers as strings")
    func exactText() {
        let line = MetricsLine(step: 3, epoch: 1, loss: 0.25, validationLoss: 0.5, learningRate: 0.01, gradientNorm: 1.5,
                               clippedNorm: 1.0, parameterGradientNorms: ["10.weight": 3, "2.weight": -.infinity, "0.weight": 2, "0.bias": .nan])
        #expect(line.json == #"{"step":3,"epoch":1,"loss":0.25,"val_loss":0.5,"lr":0.01,"grad_norm":1.5,"clipped_norm":1.0,"#
                + #""grad_norms":{"0.bias":"nan","0.weight":2.0,"2.weight":"-inf","10.weight":3.0},"skipped":false}"#)
        #expect(MetricsLine(step: 0, loss: 1e-7, parameterGradientNorms: ["a\"b\\c\n": 1]).json
                == #"{"step":0,"loss":1e-07,"grad_norms":{"a\"b\\c\n":1.0},"skipped":false}"#)
    }

    @Test("every line parses with JSONSerialization; NaN is \"nan\", ∞ is \"inf\"; read back equal")
    func writeAndRead() throws {
        let folder = try temporaryFolder("metrics")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        let log = try MetricsLog(url: url)
        for line in sample { try log.append(line) }
        try log.close()

        let lines = try rawLines(url)
        #expect(lines.count == 3)
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects[0]["step"] as? Int == 0)
        #expect(objects[0]["loss"] as? Double == 1.5)
        #expect((objects[0]["grad_norms"] as? [String: Double]) == ["0.weight": 2.0, "0.bias": 1.5])
        #expect(objects[0]["val_loss"] == nil)
        #expect(objects[1]["loss"] as? String == "nan")
        #expect(objects[1]["grad_norm"] as? String == "inf")
        #expect((objects[1]["grad_norms"] as? [String: String]) == ["0.weight": "inf", "0.bias": "-inf"])
        #expect(objects[1]["skipped"] as? Bool == true)
        #expect(objects[2]["val_loss"] as? Double == 0.875)
        #expect(objects[2]["grad_norms"] == nil)

        let back = try MetricsLog.readLines(url: url)
        #expect(back.count == sample.count)
        for (a, b) in zip(back, sample) { #expect(same(a, b), "\(a) ≠ \(b)") }
        #expect(back[1].loss.isNaN && back[1].parameterGradientNorms["0.bias"] == -.infinity)
    }

    @Test("each appended line is in the file at once, before close (no buffering in the process)")
    func unbuffered() throws {
        let folder = try temporaryFolder("metrics-live")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        let log = try MetricsLog(url: url)
        try log.append(sample[0])
        #expect(try MetricsLog.readLines(url: url).map(\.step) == [0])
        try log.append(sample[2])
        #expect(try rawLines(url) == [sample[0].json, sample[2].json])
        try log.close()
    }

    @Test("after a crash mid-line: readLines drops the partial line; .append removes it, then continues")
    func resumeAfterCrash() throws {
        let folder = try temporaryFolder("metrics-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        let log = try MetricsLog(url: url)
        for line in sample { try log.append(line) }
        try log.close()
        // Simulate a kill while the fourth line was being written.
        let partial = String(MetricsLine(step: 3, loss: 0.5, gradientNorm: 0.25).json.prefix(20))
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(partial.utf8))
        try handle.close()

        #expect(try MetricsLog.readLines(url: url).map(\.step) == [0, 1, 2])
        let resumed = try MetricsLog(url: url, mode: .append)
        #expect(resumed.removedIncompleteLine)
        try resumed.append(MetricsLine(step: 3, loss: 0.5))
        try resumed.close()
        let lines = try rawLines(url)
        #expect(lines.count == 4)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
        #expect(try MetricsLog.readLines(url: url).map(\.step) == [0, 1, 2, 3])
    }

    @Test("a whole object missing only its newline is kept, by readLines and by .append")
    func lastLineWithoutNewline() throws {
        let folder = try temporaryFolder("metrics-nonl")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        try Data((sample[0].json + "\n" + sample[2].json).utf8).write(to: url)
        #expect(try MetricsLog.readLines(url: url).map(\.step) == [0, 2])
        let log = try MetricsLog(url: url, mode: .append)
        #expect(!log.removedIncompleteLine)
        try log.append(MetricsLine(step: 5, loss: 0.1))
        try log.close()
        #expect(try MetricsLog.readLines(url: url).map(\.step) == [0, 2, 5])
        #expect(try rawLines(url).count == 3)
    }

    @Test(".create empties an existing file; .append on a missing file creates it")
    func modes() throws {
        let folder = try temporaryFolder("metrics-modes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        let first = try MetricsLog(url: url, mode: .append)
        try first.append(sample[0])
        try first.close()
        let second = try MetricsLog(url: url, mode: .create)
        try second.append(sample[2])
        try second.close()
        #expect(try MetricsLog.readLines(url: url).map(\.step) == [2])
    }

    @Test("a bad complete line is an error naming the file and the 1-based line")
    func badLine() throws {
        let folder = try temporaryFolder("metrics-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("metrics.jsonl")
        try Data((sample[0].json + "\n\n{\"step\":1}\n" + sample[2].json + "\n").utf8).write(to: url)
        let error = #expect(throws: MetricsLogError.self) { try MetricsLog.readLines(url: url) }
        guard case .badLine(let file, let line, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(file.hasSuffix("metrics.jsonl"))
        #expect(line == 3)
        #expect(reason.contains("loss"), "\(reason)")
        #expect(error?.description.contains("metrics.jsonl:3: ") == true)

        let missing = #expect(throws: MetricsLogError.self) { try MetricsLog.readLines(url: folder.appendingPathComponent("none.jsonl")) }
        #expect(missing?.description.contains("none.jsonl: cannot read") == true)
        let unopenable = #expect(throws: MetricsLogError.self) { try MetricsLog(url: folder.appendingPathComponent("no/such/metrics.jsonl")) }
        #expect(unopenable?.description.contains("no/such/metrics.jsonl: cannot open") == true)
    }

    @Test("Codable with the same keys: JSONEncoder output reads back with MetricsLine.decoder()")
    func codable() throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        for line in sample {
            let data = try encoder.encode(line)
            let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(Set(object.keys).isSubset(of: ["step", "epoch", "loss", "val_loss", "lr", "grad_norm", "clipped_norm", "grad_norms", "skipped"]))
            #expect(same(try MetricsLine.decoder().decode(MetricsLine.self, from: data), line))
            #expect(same(try MetricsLine.decoder().decode(MetricsLine.self, from: Data(line.json.utf8)), line))
        }
    }
}
