import Foundation
import GradReport
import GradTestSupport
import Testing

// Cutting event files back to a checkpoint's step (TensorBoardEventFile): a killed run's file,
// cut at several byte positions, is truncated to step 10 and checked with GradReport's reader
// and with TensorBoard's own (read_tfevents.py: record reader and EventAccumulator; that part
// is skipped, with the reason, when python3 cannot import tensorboard). Damaged files give the
// typed error with the offset and are left byte for byte as they were.

/// Writes `steps` to a new event file in `folder`, each step a `loss` scalar and a
/// `weight/0.weight` histogram (41 records for 0..<20 with the file_version event).
private func writeSteps(_ steps: Range<Int>, to folder: URL, suffix: String = ".weights") throws -> URL {
    let writer = try TensorBoardWriter(directory: folder, fileSuffix: suffix)
    for step in steps {
        try writer.addScalar("loss", 1 / Double(step + 1), step: step, wallTime: 1000 + Double(step))
        try writer.addHistogram("weight/0.weight", values: normalSamples(50, seed: UInt64(step)), step: step,
                                wallTime: 1000 + Double(step))
    }
    try writer.close()
    return writer.url
}

/// The file's bytes.
private func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

/// Where a killed run's file is cut, relative to the records of steps 0..<20.
enum Cut: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// No cut: the run ended cleanly (after step 19).
    case none
    /// Right after the last record of step 14 (a full record).
    case afterFullRecord
    /// Five bytes into the length of step 15's scalar record.
    case midLength
    /// Two bytes into the CRC of that record's length.
    case midLengthChecksum
    /// Halfway through step 15's histogram data.
    case midData
    /// One byte short of the end of step 15's histogram record (inside its data CRC).
    case midDataChecksum
    /// Halfway through step 10's scalar data: nothing at or after the cut is complete.
    case midDataAtCheckpoint
    /// Halfway through step 5's histogram data, before the checkpoint's step.
    case midDataBeforeCheckpoint
    /// Seven bytes into the file, inside the file_version record.
    case insideFirstRecord

    var testDescription: String { rawValue }

    /// The byte at which the file is cut, from the offsets of the complete file's records
    /// (record 0 the file_version event, 1 + 2s step s's scalar, 2 + 2s its histogram).
    func position(_ records: [TensorBoardEventFile.Record], fileSize: Int) -> Int {
        func scalar(_ step: Int) -> TensorBoardEventFile.Record { records[1 + 2 * step] }
        func histogram(_ step: Int) -> TensorBoardEventFile.Record { records[2 + 2 * step] }
        return switch self {
        case .none: fileSize
        case .afterFullRecord: histogram(14).range.upperBound
        case .midLength: scalar(15).offset + 5
        case .midLengthChecksum: scalar(15).offset + 10
        case .midData: histogram(15).offset + 12 + histogram(15).dataLength / 2
        case .midDataChecksum: histogram(15).range.upperBound - 1
        case .midDataAtCheckpoint: scalar(10).offset + 12 + scalar(10).dataLength / 2
        case .midDataBeforeCheckpoint: histogram(5).offset + 12 + histogram(5).dataLength / 2
        case .insideFirstRecord: 7
        }
    }

    /// The steps of the `loss` scalars that remain after truncating to step 10.
    var scalarSteps: [Int] {
        switch self {
        case .midDataBeforeCheckpoint: Array(0...5)
        case .insideFirstRecord: []
        default: Array(0..<10)
        }
    }

    /// The steps of the histograms that remain after truncating to step 10.
    var histogramSteps: [Int] { self == .midDataBeforeCheckpoint ? Array(0..<5) : scalarSteps }

    /// The steps of the remaining records after the file_version event, in file order.
    var recordSteps: [Int64] {
        scalarSteps.flatMap { histogramSteps.contains($0) ? [Int64($0), Int64($0)] : [Int64($0)] }
    }
}

/// Writes steps 0..<20 to a fresh folder and cuts the file as `cut` says.
/// Returns the file, its records before the cut, and the cut position.
private func cutFile(_ cut: Cut, label: String) throws -> (folder: URL, url: URL, full: [TensorBoardEventFile.Record], position: Int) {
    let folder = try temporaryFolder(label)
    let url = try writeSteps(0..<20, to: folder)
    let full = try TensorBoardEventFile.read(contentsOf: url)
    let position = cut.position(full.records, fileSize: full.byteCount)
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: UInt64(position))
    try handle.close()
    return (folder, url, full.records, position)
}

@Suite("TensorBoard event files: reading back and truncation")
struct TensorBoardTruncateTests {
    @Test("the reader finds every record of a writer's file, with its step, framing and length")
    func readsWriterFile() throws {
        let folder = try temporaryFolder("tb-trunc-read")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try writeSteps(0..<20, to: folder)
        let file = try bytes(url)
        let contents = try TensorBoardEventFile.read(contentsOf: url)
        #expect(contents.records.count == 41)
        #expect(contents.byteCount == file.count && contents.validLength == file.count && !contents.isCutShort)
        #expect(contents.records.map(\.step) == [nil] + (0..<20).flatMap { [Int64($0), Int64($0)] })
        #expect(contents.records.map(\.hasFileVersion) == [true] + [Bool](repeating: false, count: 40))
        var end = 0
        for record in contents.records {
            #expect(record.offset == end)
            #expect(TensorBoardWriter.record(Array(file[record.dataRange])) == Array(file[record.range]))
            end = record.range.upperBound
        }
        #expect(try TensorBoardEventFile.read(bytes: file, file: "x") == contents)
    }

    @Test("a cut file is truncated to steps 0..<10 (or fewer when cut before), the cut-short record dropped",
          arguments: Cut.allCases)
    func truncatesCutFile(_ cut: Cut) throws {
        let (folder, url, full, position) = try cutFile(cut, label: "tb-trunc-cut")
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try TensorBoardEventFile.read(contentsOf: url)
        let complete = full.filter { $0.range.upperBound <= position }
        #expect(before.records == complete)
        #expect(before.isCutShort == (complete.last?.range.upperBound ?? 0 < position))

        let truncation = try TensorBoardEventFile.truncate(url, keepingStepsBefore: 10)
        let kept = complete.filter { $0.step.map { $0 < 10 } ?? true }
        #expect(truncation.keptRecords == kept.count)
        #expect(truncation.droppedRecords == complete.count - kept.count)
        #expect(truncation.droppedTailBytes == position - (complete.last?.range.upperBound ?? 0))
        #expect(truncation.file == url.relativePath)

        let after = try TensorBoardEventFile.read(contentsOf: url)
        #expect(!after.isCutShort)
        #expect(after.records.map(\.step) == kept.map(\.step))
        #expect(after.records.compactMap(\.step) == cut.recordSteps)
        #expect((after.records.first?.hasFileVersion ?? false) == (cut != .insideFirstRecord))
        // Nothing but the event file is left in the folder (no temporary file).
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [url.lastPathComponent])
        // A second truncation finds nothing to drop and leaves the bytes alone.
        let kept1 = try bytes(url)
        #expect(try TensorBoardEventFile.truncate(url, keepingStepsBefore: 10).rewritten == false)
        #expect(try bytes(url) == kept1)
    }

    @Test("truncating at step 0 keeps only the file_version event; events without a step count as step 0")
    func stepZeroAndMissingSteps() throws {
        var withoutStep = ProtobufEncoder()
        withoutStep.appendDouble(field: 1, 1000)
        var negative = ProtobufEncoder()
        negative.appendInt64(field: 2, -5)
        var version = ProtobufEncoder()
        version.appendString(field: 3, TensorBoardWriter.fileVersion)
        var twice = ProtobufEncoder()   // step 9, then step 3: the last field wins, as in protobuf
        twice.appendInt64(field: 2, 9)
        twice.appendInt64(field: 2, 3)
        var unknown = ProtobufEncoder()  // unknown fields of every wire type are skipped
        unknown.appendInt64(field: 2, 4)
        unknown.appendKey(field: 100, .varint); unknown.appendVarint(.max)
        unknown.appendKey(field: 101, .fixed64); unknown.appendFixed64(1)
        unknown.appendKey(field: 102, .fixed32); unknown.appendFixed32(1)
        unknown.appendString(field: 103, "abc")
        let events = [version.bytes, withoutStep.bytes, negative.bytes, [], twice.bytes, unknown.bytes]
        let file = events.flatMap(TensorBoardWriter.record) + TensorBoardWriter.record(version.bytes).dropLast(3)
        let contents = try TensorBoardEventFile.read(bytes: file, file: "steps")
        #expect(contents.records.map(\.step) == [nil, nil, -5, nil, 3, 4])
        #expect(contents.isCutShort && contents.byteCount - contents.validLength == 16 + version.bytes.count - 3)

        let atZero = try TensorBoardEventFile.read(bytes: try TensorBoardEventFile.truncated(bytes: file, keepingStepsBefore: 0, file: "steps"), file: "cut")
        #expect(atZero.records.map(\.step) == [nil, -5])
        #expect(atZero.records.map(\.hasFileVersion) == [true, false])
        let atFour = try TensorBoardEventFile.read(bytes: try TensorBoardEventFile.truncated(bytes: file, keepingStepsBefore: 4, file: "steps"), file: "cut")
        #expect(atFour.records.map(\.step) == [nil, nil, -5, nil, 3])
        let empty = try TensorBoardEventFile.read(bytes: [], file: "empty")
        #expect(empty.records.isEmpty && empty.byteCount == 0 && !empty.isCutShort)
        #expect(try TensorBoardEventFile.read(bytes: Array(file.prefix(11)), file: "short").isCutShort)
    }

    @Test("a resumed run: the killed run's .weights files are cut at the checkpoint, other event files left alone")
    func truncatesFolder() throws {
        let folder = try temporaryFolder("tb-trunc-folder")
        defer { try? FileManager.default.removeItem(at: folder) }
        let killed = try writeSteps(0..<17, to: folder)
        let killedHandle = try FileHandle(forWritingTo: killed)
        try killedHandle.truncate(atOffset: UInt64(try bytes(killed).count - 30))
        try killedHandle.close()
        let other = try writeSteps(0..<20, to: folder, suffix: "")
        let otherBytes = try bytes(other)

        let truncations = try TensorBoardEventFile.truncateEventFiles(in: folder, suffix: ".weights", keepingStepsBefore: 10)
        #expect(truncations.map(\.file) == [killed.relativePath])
        #expect(truncations.first?.droppedRecords == 2 * 6 + 1)  // steps 10...16 but the cut-short histogram of 16
        #expect(try bytes(other) == otherBytes)
        #expect(try TensorBoardEventFile.read(contentsOf: killed).records.compactMap(\.step).max() == 9)
        #expect(try TensorBoardEventFile.truncateEventFiles(in: folder.appendingPathComponent("missing"),
                                                            suffix: ".weights", keepingStepsBefore: 10) == [])
    }

    /// How a file is damaged: the record of step 5's scalar (index 11) is changed.
    enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case dataChecksum, lengthChecksum, hugeLength, maximumLength, stepWireType, lastRecordChecksum
        var testDescription: String { rawValue }
    }

    @Test("a damaged file gives the typed error with the file and byte offset, and is left untouched",
          arguments: Damage.allCases)
    func damagedFile(_ damage: Damage) throws {
        let folder = try temporaryFolder("tb-trunc-damage")
        defer { try? FileManager.default.removeItem(at: folder) }
        // An intact file that sorts first and would be cut: checking every file before
        // rewriting any leaves it alone too.
        let intact = try writeSteps(0..<20, to: folder)
        let intactBytes = try bytes(intact)
        let url = try writeSteps(0..<20, to: folder)
        let records = try TensorBoardEventFile.read(contentsOf: url).records
        var file = try bytes(url)
        let target = records[11]
        let expected: TensorBoardEventFileError
        let name = url.relativePath
        func setLength(_ length: UInt64) {
            let header = withUnsafeBytes(of: length.littleEndian, Array.init)
            let crc = withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(header)).littleEndian, Array.init)
            file.replaceSubrange(target.offset..<target.offset + 12, with: header + crc)
        }
        switch damage {
        case .dataChecksum:
            file[target.offset + 20] ^= 0x10
            expected = .dataChecksumMismatch(file: name, offset: target.offset)
        case .lengthChecksum:
            file[target.offset + 9] ^= 0x01
            expected = .lengthChecksumMismatch(file: name, offset: target.offset)
        case .hugeLength:
            setLength(1 << 40)
            expected = .recordTooLong(file: name, offset: target.offset, length: 1 << 40)
        case .maximumLength:
            setLength(.max)
            expected = .recordTooLong(file: name, offset: target.offset, length: .max)
        case .stepWireType:
            var event = ProtobufEncoder()
            event.appendDouble(field: 1, 1005)
            event.appendString(field: 2, "5")
            file.replaceSubrange(target.range, with: TensorBoardWriter.record(event.bytes))
            expected = .badEvent(file: name, offset: target.offset + 12 + 9, reason: "field 2 has wire type 2, expected 0")
        case .lastRecordChecksum:
            file[file.count - 1] ^= 0x01
            expected = .dataChecksumMismatch(file: name, offset: records[40].offset)
        }
        try Data(file).write(to: url)

        #expect(throws: expected) { try TensorBoardEventFile.read(contentsOf: url) }
        #expect(throws: expected) { try TensorBoardEventFile.truncate(url, keepingStepsBefore: 10) }
        #expect(throws: expected) { try TensorBoardEventFile.truncateEventFiles(in: folder, suffix: ".weights", keepingStepsBefore: 10) }
        #expect(try bytes(url) == file)
        #expect(try bytes(intact) == intactBytes)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
                == [url.lastPathComponent, intact.lastPathComponent])
        #expect(expected.description.hasPrefix("\(name): byte \(expected.offset!): "))
        #expect(!expected.description.contains("\n"))
    }

    @Test("a file that is not a regular file is unreadable, named in the error")
    func unreadable() throws {
        let folder = try temporaryFolder("tb-trunc-unreadable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let directory = folder.appendingPathComponent("events.out.tfevents.1.host.1.0.weights")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        #expect(throws: TensorBoardEventFileError.unreadable(file: directory.relativePath, reason: "not a regular file")) {
            try TensorBoardEventFile.truncateEventFiles(in: folder, suffix: ".weights", keepingStepsBefore: 1)
        }
        let missing = folder.appendingPathComponent("events.out.tfevents.missing")
        #expect(throws: TensorBoardEventFileError.unreadable(file: missing.relativePath, reason: "No such file or directory")) {
            try TensorBoardEventFile.truncate(missing, keepingStepsBefore: 1)
        }
    }
}

@Suite("Truncated TensorBoard event files read by TensorBoard", .enabled(if: tensorboardAvailable,
       "python3 cannot import tensorboard: install it with `python3 -m pip install tensorboard`"))
struct TensorBoardTruncateReaderTests {
    @Test("TensorBoard reads exactly the steps before the cut, every record intact", arguments: Cut.allCases)
    func readByTensorBoard(_ cut: Cut) throws {
        let (folder, url, _, _) = try cutFile(cut, label: "tb-trunc-tb")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TensorBoardEventFile.truncate(url, keepingStepsBefore: 10)
        let result = try readEventFiles(folder)
        let json = try #require(result.output, "read_tfevents.py failed (\(result.status)): \(result.stderr)")
        #expect(json.records == (cut == .insideFirstRecord ? 0 : 1 + cut.scalarSteps.count + cut.histogramSteps.count))
        #expect((json.scalars["loss"]?.steps ?? []) == cut.scalarSteps)
        #expect((json.histograms["weight/0.weight"] ?? []).map(\.step) == cut.histogramSteps)
    }

    @Test("a killed run cut at its checkpoint and resumed: TensorBoard shows every step once")
    func resumedRun() throws {
        let folder = try temporaryFolder("tb-trunc-resume")
        defer { try? FileManager.default.removeItem(at: folder) }
        let killed = try writeSteps(0..<17, to: folder)
        let handle = try FileHandle(forWritingTo: killed)
        try handle.truncate(atOffset: UInt64(try bytes(killed).count - 30))
        try handle.close()
        try TensorBoardEventFile.truncateEventFiles(in: folder, suffix: ".weights", keepingStepsBefore: 10)
        _ = try writeSteps(10..<20, to: folder)
        let result = try readEventFiles(folder)
        let json = try #require(result.output, "read_tfevents.py failed (\(result.status)): \(result.stderr)")
        #expect(json.files.count == 2)
        #expect(json.records == (1 + 2 * 10) + (1 + 2 * 10))  // each file: file_version + 10 steps of 2 events
        #expect(json.scalars["loss"]?.steps == Array(0..<20))
        #expect(json.scalars["loss"]?.values == (0..<20).map { Double(Float(1 / Double($0 + 1))) })
        #expect((json.histograms["weight/0.weight"] ?? []).map(\.step) == Array(0..<20))
    }
}

@Suite("TensorBoard event files: the damaged inputs of the fuzz regression corpus")
struct TensorBoardDamagedCorpusTests {
    /// The corpus folder (made by Fuzz/seeds/make_tfevents.py).
    static let folder = fixturesDirectory.appendingPathComponent("bad/fuzz/tfevents")
    static let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()

    /// The error case a corpus file's name promises.
    static func expectedCase(_ name: String) -> String {
        if name.hasPrefix("length_checksum") || name.hasPrefix("zero_header") { return "lengthChecksumMismatch" }
        if name.hasPrefix("length_") { return "recordTooLong" }
        if name.hasPrefix("data_checksum") { return "dataChecksumMismatch" }
        return "badEvent"
    }

    @Test("each damaged file gives the error its name says, at an offset inside the file", arguments: names)
    func damaged(_ name: String) throws {
        let url = Self.folder.appendingPathComponent(name)
        let size = try bytes(url).count
        let error = try #require(throws: TensorBoardEventFileError.self) { try TensorBoardEventFile.read(contentsOf: url) }
        let found = switch error {
        case .lengthChecksumMismatch: "lengthChecksumMismatch"
        case .recordTooLong: "recordTooLong"
        case .dataChecksumMismatch: "dataChecksumMismatch"
        case .badEvent: "badEvent"
        case .unreadable, .cannotWrite: "\(error)"
        }
        #expect(found == Self.expectedCase(name), "\(error)")
        let offset = try #require(error.offset)
        #expect(offset >= 0 && offset < size)
    }

    @Test("the corpus has a file for each kind of damage")
    func coversEveryKind() {
        #expect(Set(Self.names.map(Self.expectedCase)) == ["lengthChecksumMismatch", "recordTooLong", "dataChecksumMismatch", "badEvent"])
        #expect(Self.names.count >= 15)
    }
}
