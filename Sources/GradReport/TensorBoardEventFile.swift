import Foundation

// Reading TensorBoard event files back, as far as cutting them at a step needs: the TFRecord
// framing, fully checked, and each Event's `step`. Everything else in an Event is skipped.

/// A validating reader of TensorBoard event files (`events.out.tfevents.…`): the records and
/// each record's step, for cutting a killed run's file back to its checkpoint
/// (`truncate(_:keepingStepsBefore:)`).
///
/// Framing (TFRecord), checked record by record: `uint64 length` (little-endian), `uint32
/// masked CRC-32C` of those 8 bytes, `length` bytes of data, `uint32 masked CRC-32C` of the
/// data (`CRC32C.masked`). The data is a `tensorflow.Event` protobuf, of which only field 2
/// (`step`, int64 varint) is read; field 1 (`wall_time`) must be a fixed64, fields 3 to 10
/// (`file_version`, `graph_def`, `summary`, …) length-delimited, and every field well formed
/// (keys and values within the record, varints of at most 10 bytes and 64 bits, wire types 0,
/// 1, 2 or 5).
///
/// A file that ends inside a record (fewer than 12 bytes left, or a length with a valid
/// checksum that runs past the end) ends where that record starts: that is what a process
/// killed mid-write leaves. Anything else wrong is `TensorBoardEventFileError` with the byte
/// offset. No input makes the reader trap or read outside the bytes it is given.
public enum TensorBoardEventFile {
    /// The longest record data accepted, `2³¹ − 1` bytes: protocol buffers cannot encode a
    /// larger message, so a longer length (even with a valid checksum) is damage.
    public static let maximumRecordLength = UInt64(Int32.max)

    /// Bytes of framing around a record's data: length (8), its CRC (4), the data's CRC (4).
    public static let framingLength = 16

    /// One complete, checked record.
    public struct Record: Equatable, Sendable {
        /// Byte offset of the record's length field in the file.
        public var offset: Int
        /// Length of the record's data (the serialized Event).
        public var dataLength: Int
        /// The Event's `step` field, nil when the field is absent (protobuf's default, 0; the
        /// `file_version` event has none, and writers that omit default values leave out step 0).
        public var step: Int64?
        /// Whether the Event has a `file_version` (field 3), as the first event of a file does.
        public var hasFileVersion: Bool

        /// The whole record, framing included: `offset ..< offset + 16 + dataLength`.
        public var range: Range<Int> { offset..<offset + TensorBoardEventFile.framingLength + dataLength }

        /// The record's data (the Event): `offset + 12 ..< offset + 12 + dataLength`.
        public var dataRange: Range<Int> { offset + 12..<offset + 12 + dataLength }

        /// Whether truncation at `step` keeps this record: a `file_version` event always, any
        /// other event when its step (0 when absent) is below `step`.
        /// - Parameter step: the first step to drop.
        public func isKept(keepingStepsBefore step: Int) -> Bool {
            hasFileVersion || (self.step ?? 0) < Int64(step)
        }
    }

    /// The complete records of a file, in file order, and how long the file is.
    public struct Contents: Equatable, Sendable {
        /// The complete records; each starts where the previous one ends, the first at byte 0.
        public var records: [Record]
        /// The file's length in bytes.
        public var byteCount: Int

        /// Bytes covered by complete records: the end of the last one (0 when there is none).
        public var validLength: Int { records.last?.range.upperBound ?? 0 }

        /// Whether the file ends with a record cut short (`byteCount > validLength`).
        public var isCutShort: Bool { byteCount > validLength }
    }

    /// Reads and checks the records of an event file's bytes.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the name errors give for the file.
    /// - Returns: the complete records; a last record cut short is left out (`isCutShort`).
    /// - Throws: `TensorBoardEventFileError` (checksum, length or Event damage) with its offset.
    public static func read(_ bytes: UnsafeRawBufferPointer, file: String) throws(TensorBoardEventFileError) -> Contents {
        var records: [Record] = []
        var offset = 0
        let count = bytes.count
        while count - offset >= 12 {
            let length = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let lengthCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
            guard CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 8]))) == lengthCRC else {
                throw .lengthChecksumMismatch(file: file, offset: offset)
            }
            guard length <= maximumRecordLength else {
                throw .recordTooLong(file: file, offset: offset, length: length)
            }
            // Data and its CRC must fit in what is left; otherwise the file was cut in this record.
            let left = count - offset - 12
            guard left >= 4 && length <= UInt64(left - 4) else { break }
            let dataStart = offset + 12, dataEnd = dataStart + Int(length)
            let dataCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: dataEnd, as: UInt32.self))
            guard CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataEnd]))) == dataCRC else {
                throw .dataChecksumMismatch(file: file, offset: offset)
            }
            let event = try readEvent(bytes, dataStart..<dataEnd, file: file)
            records.append(Record(offset: offset, dataLength: Int(length), step: event.step,
                                  hasFileVersion: event.hasFileVersion))
            offset = dataEnd + 4
        }
        return Contents(records: records, byteCount: count)
    }

    /// Reads and checks the records of an event file's bytes.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the name errors give for the file.
    /// - Throws: `TensorBoardEventFileError` with the offset of the damage.
    public static func read(bytes: [UInt8], file: String) throws(TensorBoardEventFileError) -> Contents {
        try withBytes(bytes) { (raw) throws(TensorBoardEventFileError) in try read(raw, file: file) }
    }

    /// Reads and checks the records of an event file (mapped into memory, not copied).
    ///
    /// - Parameter url: the file; errors name it by its `relativePath`.
    /// - Throws: `TensorBoardEventFileError.unreadable`, or the damage with its offset.
    public static func read(contentsOf url: URL) throws(TensorBoardEventFileError) -> Contents {
        let mapped = try MappedFile(url)
        return try read(mapped.bytes, file: url.relativePath)
    }

    // MARK: Event fields

    /// The fields of an Event that truncation needs, checking that every field is well formed.
    static func readEvent(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, file: String)
        throws(TensorBoardEventFileError) -> (step: Int64?, hasFileVersion: Bool) {
        var step: Int64?
        var hasFileVersion = false
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let keyOffset = i
            let key = try readVarint(bytes, &i, end: end, file: file)
            guard key <= UInt64(UInt32.max) else {
                throw .badEvent(file: file, offset: keyOffset, reason: "field key \(key) is beyond 32 bits")
            }
            let field = key >> 3, wireType = key & 7
            guard field >= 1 else {
                throw .badEvent(file: file, offset: keyOffset, reason: "field number 0")
            }
            let expected: UInt64? = switch field {
            case 1: 1       // wall_time: double
            case 2: 0       // step: int64
            case 3...10: 2  // file_version, graph_def, summary, log_message, session_log, …
            default: nil    // unknown fields: any valid wire type, skipped
            }
            if let expected, wireType != expected {
                throw .badEvent(file: file, offset: keyOffset,
                                reason: "field \(field) has wire type \(wireType), expected \(expected)")
            }
            switch wireType {
            case 0:
                let value = try readVarint(bytes, &i, end: end, file: file)
                if field == 2 { step = Int64(bitPattern: value) }
            case 1, 5:
                let size = wireType == 1 ? 8 : 4
                guard end - i >= size else {
                    throw .badEvent(file: file, offset: keyOffset, reason: "field \(field): \(size)-byte value runs past the record's end")
                }
                i += size
            case 2:
                let size = try readVarint(bytes, &i, end: end, file: file)
                guard size <= UInt64(end - i) else {
                    throw .badEvent(file: file, offset: keyOffset,
                                    reason: "field \(field): length \(size) runs past the record's end (\(end - i) bytes left)")
                }
                i += Int(size)
                if field == 3 { hasFileVersion = true }
            default:
                throw .badEvent(file: file, offset: keyOffset,
                                reason: "field \(field) has wire type \(wireType) (an Event uses 0, 1, 2 and 5)")
            }
        }
        return (step, hasFileVersion)
    }

    /// A base-128 varint at `i` (advanced past it): at most 10 bytes, at most 64 bits, all
    /// before `end`.
    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ i: inout Int, end: Int, file: String)
        throws(TensorBoardEventFileError) -> UInt64 {
        let start = i
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < end else {
                throw .badEvent(file: file, offset: start, reason: "varint runs past the record's end")
            }
            let byte = bytes[i]
            i += 1
            // The tenth byte holds bit 63 only: anything more is longer than 64 bits.
            guard shift < 63 || byte <= 1 else {
                throw .badEvent(file: file, offset: start, reason: "varint longer than 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Calls `body` with the raw bytes of an array (typed throws through the closure).
    static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(TensorBoardEventFileError) -> R)
        throws(TensorBoardEventFileError) -> R {
        let result: Result<R, TensorBoardEventFileError> = bytes.withUnsafeBytes { raw in
            do throws(TensorBoardEventFileError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
