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
    /// The buffered records: `count` bytes at `buffer`, room for `capacity`.
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0
    private let bufferLimit = 256 * 1024
    /// Set by `close()`; checked per event instead of `file.isOpen`, a read that costs a
    /// run-time exclusivity check since `file` is also mutated.
    private var isClosed = false

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
        // Room for a full buffer and the record that fills it (a larger record grows it).
        capacity = bufferLimit + 64 * 1024
        buffer = .allocate(byteCount: capacity, alignment: 8)
        let version = Array(Self.fileVersion.utf8)
        appendRecord(length: 9 + ProtobufEncoder.lengthDelimitedSize(field: 3, length: version.count)) { event in
            event.appendDouble(field: 1, now)
            version.withUnsafeBytes { event.appendBytes(field: 3, $0) }
        }
    }

    deinit {
        if file.isOpen {
            try? writeBuffer()
            try? file.close()
        }
        buffer.deallocate()
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
        try addEvent(tag: tag, .scalar(Float(value)), step: step, wallTime: wallTime)
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
        try addEvent(tag: tag, .histogram(histogram), step: step, wallTime: wallTime)
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
        isClosed = true
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

    /// What one `Summary.Value` holds besides its tag.
    private enum SummaryValue {
        /// `simple_value` (2, float).
        case scalar(Float)
        /// `histo` (5, a `HistogramProto`).
        case histogram(TensorBoardHistogram)
    }

    /// Appends the record of one `Event`: `wall_time` (1, double), `step` (2, int64) and
    /// `summary` (5) holding one `Summary.Value` (1) with `tag` (1) and `value`. The nested
    /// lengths are computed first, then the bytes are stored straight into the buffer.
    private func addEvent(tag: [UInt8], _ value: SummaryValue, step: Int, wallTime: Double?) throws {
        precondition(!isClosed, "TensorBoardWriter: event added after close() to \(url.path)")
        var valueLength = ProtobufEncoder.lengthDelimitedSize(field: 1, length: tag.count)
        var histogramLength = 0
        switch value {
        case .scalar:
            valueLength += 5
        case .histogram(let histogram):
            histogramLength = histogram.encodedSize
            valueLength += ProtobufEncoder.lengthDelimitedSize(field: 5, length: histogramLength)
        }
        let summaryLength = ProtobufEncoder.lengthDelimitedSize(field: 1, length: valueLength)
        let eventLength = 9 + 1 + ProtobufEncoder.varintSize(UInt64(bitPattern: Int64(step)))
            + ProtobufEncoder.lengthDelimitedSize(field: 5, length: summaryLength)
        let time = wallTime ?? Date().timeIntervalSince1970
        appendRecord(length: eventLength) { event in
            event.appendDouble(field: 1, time)
            event.appendInt64(field: 2, Int64(step))
            event.appendLengthDelimitedHeader(field: 5, length: summaryLength)
            event.appendLengthDelimitedHeader(field: 1, length: valueLength)
            tag.withUnsafeBytes { event.appendBytes(field: 1, $0) }
            switch value {
            case .scalar(let scalar):
                event.appendFloat(field: 2, scalar)
            case .histogram(let histogram):
                event.appendLengthDelimitedHeader(field: 5, length: histogramLength)
                histogram.encode(to: &event)
            }
        }
        if count >= bufferLimit { try writeBuffer() }
    }

    /// Appends one TFRecord of `length` data bytes, which `writeData` stores, to the buffer
    /// (grown when it has no room for it).
    @inline(__always)
    private func appendRecord(length: Int, _ writeData: (inout ProtobufEncoder.Cursor) -> Void) {
        let size = length + TensorBoardEventFile.framingLength
        if count + size > capacity { grow(toHold: count + size) }
        Self.writeRecord(length: length, at: buffer + count, writeData)
        count += size
    }

    /// Stores one TFRecord at `start` (`length + 16` bytes): the length (`uint64`), its masked
    /// CRC-32C, the `length` data bytes that `writeData` stores, their masked CRC-32C, all
    /// little-endian; both checksums computed over the bytes in place.
    @inline(__always)
    static func writeRecord(length: Int, at start: UnsafeMutableRawPointer, _ writeData: (inout ProtobufEncoder.Cursor) -> Void) {
        start.storeBytes(of: UInt64(length).littleEndian, as: UInt64.self)
        let lengthCRC = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(start: start, count: 8)))
        (start + 8).storeBytes(of: lengthCRC.littleEndian, as: UInt32.self)
        let data = start + 12
        var cursor = ProtobufEncoder.Cursor(data)
        writeData(&cursor)
        precondition(cursor.position == data + length,
                     "TensorBoardWriter: a record announced \(length) bytes but holds \(cursor.position - data)")
        let dataCRC = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(start: data, count: length)))
        (data + length).storeBytes(of: dataCRC.littleEndian, as: UInt32.self)
    }

    /// The TFRecord framing of `data`: `uint64 length`, `uint32 masked CRC-32C(length bytes)`,
    /// `data`, `uint32 masked CRC-32C(data)`, little-endian.
    /// - Parameter data: one serialized `Event`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        let size = data.count + TensorBoardEventFile.framingLength
        return [UInt8](unsafeUninitializedCapacity: size) { bytes, count in
            writeRecord(length: data.count, at: UnsafeMutableRawPointer(bytes.baseAddress!)) { record in
                data.withUnsafeBytes { record.appendRaw($0) }
            }
            count = size
        }
    }

    /// Moves the buffered bytes to a buffer of at least `needed` bytes.
    private func grow(toHold needed: Int) {
        let larger = Swift.max(2 * capacity, needed)
        let moved = UnsafeMutableRawPointer.allocate(byteCount: larger, alignment: 8)
        moved.copyMemory(from: buffer, byteCount: count)
        buffer.deallocate()
        buffer = moved
        capacity = larger
    }

    private func writeBuffer() throws {
        guard count > 0 else { return }
        do throws(LogFile.Failure) {
            try file.write(UnsafeRawBufferPointer(start: buffer, count: count))
        } catch {
            throw TensorBoardError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
        count = 0
    }

    static func reason(_ error: any Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? "\(error)" : text
    }
}
