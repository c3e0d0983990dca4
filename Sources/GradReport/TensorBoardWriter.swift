import Foundation
import GradDoctor

// TensorBoard event files: TFRecord framing of `tensorflow.Event` protobufs, written by hand.

/// Writes a TensorBoard event file (`events.out.tfevents.…`) of scalars and histograms, which
/// `tensorboard --logdir` and TensorBoard's `EventAccumulator` read.
///
/// File name: `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n><fileSuffix>`, `n` the
/// first number from 0 for which no such file exists (created with `O_EXCL`), so every writer
/// has its own file, also several writers of one process in the same second (TensorBoard's
/// own writer uses the same `<pid>.<n>` tail).
///
/// Format (TFRecord): each record is `uint64 length`, `uint32 masked CRC-32C of those 8
/// bytes`, the data, `uint32 masked CRC-32C of the data`, all little-endian; the mask is
/// `((crc >> 15) | (crc << 17)) + 0xA282EAD8`. Each record holds one `Event` message:
/// `wall_time` (1, double), `step` (2, int64), `file_version` (3, string) for the first
/// record (`"brain.Event:2"`), or `summary` (5) with one `Summary.Value`: `tag` (1) and
/// `simple_value` (2, float) for a scalar, or `histo` (5, a `HistogramProto`).
///
/// Events are buffered in memory and written when the buffer passes 256 KiB, on `flush()`
/// and on `close()` (also at `deinit`, where an error can only be dropped: call `close()`).
/// Not thread-safe: use one writer from one thread (or actor) at a time. Steps should be
/// non-decreasing across the whole file: TensorBoard's loader treats an event whose step is
/// below the largest step seen so far as a restart and drops that tag's later events.
public final class TensorBoardWriter {
    /// The event file.
    public let url: URL
    private var file: LogFile
    private var buffer: [UInt8] = []
    private let bufferLimit = 256 * 1024

    /// The `file_version` TensorBoard expects in the first event.
    public static let fileVersion = "brain.Event:2"

    /// Creates the folder (with its parents) if needed and a new event file in it, and writes
    /// the first event (`file_version`).
    ///
    /// - Parameters:
    ///   - directory: the run's log folder (`runs/<name>`); TensorBoard shows one run per folder.
    ///   - fileSuffix: appended to the file name (`.v2`, `.gradlab`); keep `tfevents` out of
    ///     it and use no `/`.
    /// - Throws: `TensorBoardError.cannotCreate` naming the folder or the file.
    public init(directory: URL, fileSuffix: String = "") throws {
        precondition(!fileSuffix.contains("/"), "TensorBoardWriter: file suffix '\(fileSuffix)' contains '/'")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardError.cannotCreate(file: directory.relativePath, reason: Self.reason(error))
        }
        let now = Date().timeIntervalSince1970
        (file, url) = try Self.createFile(in: directory, time: now, suffix: fileSuffix)
        var event = ProtobufEncoder()
        event.appendDouble(field: 1, now)
        event.appendString(field: 3, Self.fileVersion)
        Self.appendRecord(event.bytes, to: &buffer)
    }

    deinit {
        if file.isOpen {
            try? writeBuffer()
            try? file.close()
        }
    }

    /// Logs a scalar (`Summary.Value.simple_value`, stored as Float32: TensorBoard keeps
    /// scalars in single precision; NaN and ±∞ are kept, values beyond Float's range become ±∞).
    ///
    /// - Parameters:
    ///   - tag: the series' name (`loss`, `grad_norm/0.weight`); `/` groups series in TensorBoard.
    ///   - value: the value.
    ///   - step: the training step (the x axis).
    ///   - wallTime: seconds since 1970 (now when nil).
    /// - Throws: `TensorBoardError.cannotWrite` when the buffer had to be written and could not be.
    public func addScalar(_ tag: String, _ value: Double, step: Int, wallTime: Double? = nil) throws {
        try addScalar(utf8Tag: Array(tag.utf8), value, step: step, wallTime: wallTime)
    }

    /// `addScalar` with the tag given as its UTF-8 bytes (made once for a series written at
    /// many steps).
    func addScalar(utf8Tag tag: [UInt8], _ value: Double, step: Int, wallTime: Double?) throws {
        // Summary.Value: tag (1), simple_value (2, float).
        let valueLength = ProtobufEncoder.lengthDelimitedSize(field: 1, length: tag.count) + 5
        try addSummary(valueLength: valueLength, step: step, wallTime: wallTime) { summaryValue in
            summaryValue.appendBytes(field: 1, tag)
            summaryValue.appendFloat(field: 2, Float(value))
        }
    }

    /// Logs a histogram of Float values (a weight or gradient tensor) in TensorFlow's default
    /// buckets (`TensorBoardHistogram.init(values:)`: `±1e-12·1.1^k` and 0; non-finite values
    /// left out).
    ///
    /// - Parameters:
    ///   - tag: the series' name (`weight/0.weight`).
    ///   - values: the values.
    ///   - step: the training step.
    ///   - wallTime: seconds since 1970 (now when nil).
    /// - Throws: `TensorBoardError.cannotWrite`.
    public func addHistogram(_ tag: String, values: UnsafeBufferPointer<Float>, step: Int, wallTime: Double? = nil) throws {
        try addHistogram(tag, TensorBoardHistogram(values: values), step: step, wallTime: wallTime)
    }

    /// Logs a histogram of Double values in TensorFlow's default buckets.
    ///
    /// - Parameters:
    ///   - tag: the series' name.
    ///   - values: the values.
    ///   - step: the training step.
    ///   - wallTime: seconds since 1970 (now when nil).
    /// - Throws: `TensorBoardError.cannotWrite`.
    public func addHistogram(_ tag: String, values: [Double], step: Int, wallTime: Double? = nil) throws {
        try addHistogram(tag, TensorBoardHistogram(values: values), step: step, wallTime: wallTime)
    }

    /// Logs a recorded gradient histogram at its own step, its signed linear bins converted by
    /// `TensorBoardHistogram.init(_:sum:sumOfSquares:)`.
    ///
    /// - Parameters:
    ///   - tag: the series' name (`grad/0.weight`).
    ///   - histogram: the monitor's snapshot (its `step` is the event's step).
    ///   - sum: `Σ g` over the finite elements, when known (else estimated from the bins).
    ///   - sumOfSquares: `Σ g²` over the finite elements, when known.
    ///   - wallTime: seconds since 1970 (now when nil).
    /// - Throws: `TensorBoardError.cannotWrite`.
    public func addHistogram(_ tag: String, histogram: GradientHistogram, sum: Double? = nil,
                             sumOfSquares: Double? = nil, wallTime: Double? = nil) throws {
        try addHistogram(tag, TensorBoardHistogram(histogram, sum: sum, sumOfSquares: sumOfSquares),
                         step: histogram.step, wallTime: wallTime)
    }

    /// Logs a histogram given as TensorBoard stores it.
    ///
    /// - Parameters:
    ///   - tag: the series' name.
    ///   - histogram: the HistogramProto's fields.
    ///   - step: the training step.
    ///   - wallTime: seconds since 1970 (now when nil).
    /// - Throws: `TensorBoardError.cannotWrite`.
    public func addHistogram(_ tag: String, _ histogram: TensorBoardHistogram, step: Int, wallTime: Double? = nil) throws {
        try addHistogram(utf8Tag: Array(tag.utf8), histogram, step: step, wallTime: wallTime)
    }

    /// `addHistogram` with the tag given as its UTF-8 bytes.
    func addHistogram(utf8Tag tag: [UInt8], _ histogram: TensorBoardHistogram, step: Int, wallTime: Double?) throws {
        // Summary.Value: tag (1), histo (5, a HistogramProto).
        let histogramLength = histogram.encodedSize
        let valueLength = ProtobufEncoder.lengthDelimitedSize(field: 1, length: tag.count)
            + ProtobufEncoder.lengthDelimitedSize(field: 5, length: histogramLength)
        try addSummary(valueLength: valueLength, step: step, wallTime: wallTime) { value in
            value.appendBytes(field: 1, tag)
            value.appendLengthDelimitedHeader(field: 5, length: histogramLength)
            histogram.encode(into: &value)
        }
    }

    /// Writes the buffered events to the file (one `write(2)`; not `fsync`).
    ///
    /// - Throws: `TensorBoardError.cannotWrite`.
    public func flush() throws {
        try writeBuffer()
    }

    /// Writes the buffered events and closes the file. Later calls do nothing; adding events
    /// after `close()` is a programmer error (precondition).
    ///
    /// - Throws: `TensorBoardError.cannotWrite` (the file is closed all the same).
    public func close() throws {
        guard file.isOpen else { return }
        defer { try? file.close() }
        try writeBuffer()
        do throws(LogFile.Failure) {
            try file.close()
        } catch {
            throw TensorBoardError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
    }

    // MARK: Records

    /// Creates `events.out.tfevents.<seconds>.<host>.<pid>.<n><suffix>` with the first free `n`.
    private static func createFile(in directory: URL, time: Double, suffix: String) throws -> (LogFile, URL) {
        let stem = "events.out.tfevents.\(Int(time)).\(hostNameForFileName()).\(currentProcessID())"
        var n = 0
        while true {
            let candidate = directory.appendingPathComponent("\(stem).\(n)\(suffix)")
            do throws(LogFile.Failure) {
                return (try LogFile(path: candidate.path, mode: .createNew), candidate)
            } catch where error.code == EEXIST && n < 10_000 {
                n += 1
            } catch {
                throw TensorBoardError.cannotCreate(file: candidate.relativePath, reason: error.reason)
            }
        }
    }

    /// Appends the record of an `Event` with `wall_time` (1), `step` (2) and `summary` (5) holding
    /// one `Summary.Value` (1) of `valueLength` bytes, which `writeValue` appends; the event is
    /// written straight into the buffer (its nested lengths computed beforehand).
    private func addSummary(valueLength: Int, step: Int, wallTime: Double?,
                            writeValue: (inout ProtobufEncoder) -> Void) throws {
        precondition(file.isOpen, "TensorBoardWriter: event added after close() to \(url.path)")
        let summaryLength = ProtobufEncoder.lengthDelimitedSize(field: 1, length: valueLength)
        let eventLength = 9 + 1 + ProtobufEncoder.varintSize(UInt64(bitPattern: Int64(step)))
            + ProtobufEncoder.lengthDelimitedSize(field: 5, length: summaryLength)
        let time = wallTime ?? Date().timeIntervalSince1970
        Self.appendRecord(length: eventLength, to: &buffer) { event in
            event.appendDouble(field: 1, time)
            event.appendInt64(field: 2, Int64(step))
            event.appendLengthDelimitedHeader(field: 5, length: summaryLength)
            event.appendLengthDelimitedHeader(field: 1, length: valueLength)
            writeValue(&event)
        }
        if buffer.count >= bufferLimit { try writeBuffer() }
    }

    /// Appends the TFRecord framing of `data` to `buffer` in place (no intermediate arrays:
    /// a run's record has about a hundred thousand events).
    static func appendRecord(_ data: [UInt8], to buffer: inout [UInt8]) {
        appendRecord(length: data.count, to: &buffer) { $0.appendRaw(data) }
    }

    /// Appends one TFRecord whose `length` data bytes `writeData` appends: the length, its
    /// masked CRC, the data (written in place), the data's masked CRC.
    static func appendRecord(length: Int, to buffer: inout [UInt8], writeData: (inout ProtobufEncoder) -> Void) {
        let start = buffer.count
        withUnsafeBytes(of: UInt64(length).littleEndian) { buffer.append(contentsOf: $0) }
        let lengthCRC = buffer.withUnsafeBytes { CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<start + 8]))) }
        withUnsafeBytes(of: lengthCRC.littleEndian) { buffer.append(contentsOf: $0) }
        ProtobufEncoder.appending(to: &buffer, writeData)
        precondition(buffer.count == start + 12 + length,
                     "TensorBoardWriter: a record announced \(length) bytes but holds \(buffer.count - start - 12)")
        let dataCRC = buffer.withUnsafeBytes { CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 12)...]))) }
        withUnsafeBytes(of: dataCRC.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// The TFRecord framing of `data`: `uint64 length`, `uint32 masked CRC-32C(length bytes)`,
    /// `data`, `uint32 masked CRC-32C(data)`, little-endian.
    /// - Parameter data: one serialized `Event`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + 16)
        appendRecord(data, to: &bytes)
        return bytes
    }

    private func writeBuffer() throws {
        guard !buffer.isEmpty else { return }
        do throws(LogFile.Failure) {
            try file.write(buffer)
        } catch {
            throw TensorBoardError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func reason(_ error: any Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? "\(error)" : text
    }
}
