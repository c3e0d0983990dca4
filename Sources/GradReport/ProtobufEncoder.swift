// A minimal protocol-buffers encoder: the wire format of the few messages TensorBoard reads
// (Event, Summary, HistogramProto), written by hand so GradReport needs no dependency.

/// Appends protocol-buffer fields to a byte array, in the wire format of
/// https://protobuf.dev/programming-guides/encoding/.
///
/// Each field is a key `(field << 3) | wireType` (varint) followed by its value: wire type 0
/// varint (`int64`, `bool`; negative `int64` as its 64-bit two's complement, ten bytes),
/// 1 fixed 64-bit little-endian (`double`), 2 length-delimited (strings, nested messages,
/// packed repeated scalars), 5 fixed 32-bit little-endian (`float`). `sint` fields use zigzag
/// (`(n << 1) ^ (n >> 63)`). Fields are written in the order the caller appends them.
public struct ProtobufEncoder: Sendable {
    /// The wire types used here.
    public enum WireType: UInt8, Sendable {
        /// Base-128 varint.
        case varint = 0
        /// Eight bytes, little-endian.
        case fixed64 = 1
        /// A varint length, then that many bytes.
        case lengthDelimited = 2
        /// Four bytes, little-endian.
        case fixed32 = 5
    }

    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty message.
    public init() {}

    /// A message whose encoded bytes are `bytes` (made by a `Cursor`).
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Raw values

    /// Appends `value` as a base-128 varint: seven bits per byte, least significant first, the
    /// high bit set on every byte but the last (`300` → `AC 02`).
    /// - Parameter value: the unsigned value.
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// The zigzag mapping of `sint64`: `0 → 0, −1 → 1, 1 → 2, −2 → 3, …`, `(n << 1) ^ (n >> 63)`.
    /// - Parameter value: the signed value.
    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    /// Appends eight little-endian bytes.
    /// - Parameter value: the bits.
    public mutating func appendFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends four little-endian bytes.
    /// - Parameter value: the bits.
    public mutating func appendFixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a field key: `(field << 3) | wireType` as a varint.
    /// - Parameters:
    ///   - field: the field number (≥ 1).
    ///   - wireType: how the value is encoded.
    public mutating func appendKey(field: Int, _ wireType: WireType) {
        precondition(field >= 1 && field < 1 << 29, "ProtobufEncoder: field number \(field) out of range 1..<2^29")
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    // MARK: Fields

    /// Appends an `int64` field (varint; a negative value takes ten bytes).
    /// - Parameters:
    ///   - field: the field number.
    ///   - value: the value.
    public mutating func appendInt64(field: Int, _ value: Int64) {
        appendKey(field: field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// Appends a `sint64` field (zigzag varint).
    /// - Parameters:
    ///   - field: the field number.
    ///   - value: the value.
    public mutating func appendSInt64(field: Int, _ value: Int64) {
        appendKey(field: field, .varint)
        appendVarint(Self.zigzag(value))
    }

    /// Appends a `double` field (fixed 64-bit, IEEE 754 bits little-endian).
    /// - Parameters:
    ///   - field: the field number.
    ///   - value: the value.
    public mutating func appendDouble(field: Int, _ value: Double) {
        appendKey(field: field, .fixed64)
        appendFixed64(value.bitPattern)
    }

    /// Appends a `float` field (fixed 32-bit, IEEE 754 bits little-endian).
    /// - Parameters:
    ///   - field: the field number.
    ///   - value: the value.
    public mutating func appendFloat(field: Int, _ value: Float) {
        appendKey(field: field, .fixed32)
        appendFixed32(value.bitPattern)
    }

    /// Appends a length-delimited field holding `data` (a `bytes` field or an encoded message).
    /// - Parameters:
    ///   - field: the field number.
    ///   - data: the bytes.
    public mutating func appendBytes(field: Int, _ data: [UInt8]) {
        appendKey(field: field, .lengthDelimited)
        appendVarint(UInt64(data.count))
        bytes += data
    }

    /// Appends `data` as it is (no key): the bytes of a message whose key and length were
    /// written before, or a whole serialized message.
    /// - Parameter data: the bytes.
    public mutating func appendRaw(_ data: [UInt8]) {
        bytes += data
    }

    /// Appends a `string` field (UTF-8, length-delimited).
    /// - Parameters:
    ///   - field: the field number.
    ///   - value: the text.
    public mutating func appendString(field: Int, _ value: String) {
        appendKey(field: field, .lengthDelimited)
        appendVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// Appends a nested message field.
    /// - Parameters:
    ///   - field: the field number.
    ///   - message: the nested message.
    public mutating func appendMessage(field: Int, _ message: ProtobufEncoder) {
        appendBytes(field: field, message.bytes)
    }

    /// Appends a packed `repeated double` field: one length-delimited field holding the values'
    /// eight-byte encodings back to back (nothing when `values` is empty, as proto3 does).
    /// - Parameters:
    ///   - field: the field number.
    ///   - values: the values.
    public mutating func appendPackedDoubles(field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        appendKey(field: field, .lengthDelimited)
        appendVarint(UInt64(values.count * 8))
        #if _endian(little)
        // The array's memory already holds the little-endian IEEE 754 bits, back to back.
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        bytes.reserveCapacity(bytes.count + values.count * 8)
        for v in values { appendFixed64(v.bitPattern) }
        #endif
    }

    // MARK: Sizes, for writing a nested message straight into its parent

    /// The number of bytes `appendVarint(value)` writes (1 to 10).
    /// - Parameter value: the unsigned value.
    @inline(__always)
    public static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of seven significant bits (at least one byte).
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// The number of bytes of a length-delimited field `field` holding `length` bytes: key,
    /// length varint and the bytes.
    /// - Parameters:
    ///   - field: the field number.
    ///   - length: the bytes' count.
    @inline(__always)
    public static func lengthDelimitedSize(field: Int, length: Int) -> Int {
        varintSize(UInt64(field) << 3) + varintSize(UInt64(length)) + length
    }

    /// Appends the key and length of a length-delimited field whose `length` bytes the caller
    /// appends next (a nested message written in place, its size computed beforehand).
    /// - Parameters:
    ///   - field: the field number.
    ///   - length: the number of bytes that follow.
    public mutating func appendLengthDelimitedHeader(field: Int, length: Int) {
        appendKey(field: field, .lengthDelimited)
        appendVarint(UInt64(length))
    }
}

extension ProtobufEncoder {
    /// Writes the same wire format as `ProtobufEncoder` straight into memory the caller owns,
    /// for messages whose size is computed beforehand (TensorBoard's records, written into the
    /// writer's buffer without an intermediate array).
    ///
    /// Each method stores its bytes at `position` and moves `position` past them; nothing is
    /// checked: the caller provides room for every byte written (and checks the end position).
    struct Cursor {
        /// Where the next byte goes.
        private(set) var position: UnsafeMutableRawPointer

        /// A cursor writing from `start` on.
        /// - Parameter start: the first byte to write.
        init(_ start: UnsafeMutableRawPointer) {
            position = start
        }

        /// Stores `value` as a base-128 varint (as `ProtobufEncoder.appendVarint`).
        /// - Parameter value: the unsigned value.
        @inline(__always)
        mutating func appendVarint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                position.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
                position += 1
                v >>= 7
            }
            position.storeBytes(of: UInt8(v), as: UInt8.self)
            position += 1
        }

        /// Stores a field key `(field << 3) | wireType` (one byte for fields below 16).
        /// - Parameters:
        ///   - field: the field number (≥ 1).
        ///   - wireType: how the value is encoded.
        @inline(__always)
        mutating func appendKey(field: Int, _ wireType: WireType) {
            precondition(field >= 1 && field < 1 << 29, "ProtobufEncoder: field number \(field) out of range 1..<2^29")
            appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
        }

        /// Stores a `double` field (key and eight little-endian bytes).
        /// - Parameters:
        ///   - field: the field number.
        ///   - value: the value.
        @inline(__always)
        mutating func appendDouble(field: Int, _ value: Double) {
            appendKey(field: field, .fixed64)
            position.storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
            position += 8
        }

        /// Stores a `float` field (key and four little-endian bytes).
        /// - Parameters:
        ///   - field: the field number.
        ///   - value: the value.
        @inline(__always)
        mutating func appendFloat(field: Int, _ value: Float) {
            appendKey(field: field, .fixed32)
            position.storeBytes(of: value.bitPattern.littleEndian, as: UInt32.self)
            position += 4
        }

        /// Stores an `int64` field (varint; a negative value takes ten bytes).
        /// - Parameters:
        ///   - field: the field number.
        ///   - value: the value.
        @inline(__always)
        mutating func appendInt64(field: Int, _ value: Int64) {
            appendKey(field: field, .varint)
            appendVarint(UInt64(bitPattern: value))
        }

        /// Stores the key and length of a length-delimited field whose `length` bytes follow.
        /// - Parameters:
        ///   - field: the field number.
        ///   - length: the number of bytes that follow.
        @inline(__always)
        mutating func appendLengthDelimitedHeader(field: Int, length: Int) {
            appendKey(field: field, .lengthDelimited)
            appendVarint(UInt64(length))
        }

        /// Stores `data` as it is (no key).
        /// - Parameter data: the bytes.
        @inline(__always)
        mutating func appendRaw(_ data: UnsafeRawBufferPointer) {
            guard let base = data.baseAddress else { return }
            position.copyMemory(from: base, byteCount: data.count)
            position += data.count
        }

        /// Stores a length-delimited field holding `data` (a `bytes` or `string` field).
        /// - Parameters:
        ///   - field: the field number.
        ///   - data: the bytes.
        @inline(__always)
        mutating func appendBytes(field: Int, _ data: UnsafeRawBufferPointer) {
            appendLengthDelimitedHeader(field: field, length: data.count)
            appendRaw(data)
        }

        /// Stores a packed `repeated double` field (nothing when `values` is empty), as
        /// `ProtobufEncoder.appendPackedDoubles`.
        /// - Parameters:
        ///   - field: the field number.
        ///   - values: the values.
        @inline(__always)
        mutating func appendPackedDoubles(field: Int, _ values: [Double]) {
            guard !values.isEmpty else { return }
            appendLengthDelimitedHeader(field: field, length: values.count * 8)
            #if _endian(little)
            // The array's memory already holds the little-endian IEEE 754 bits, back to back.
            values.withUnsafeBytes { appendRaw($0) }
            #else
            for v in values {
                position.storeBytes(of: v.bitPattern.littleEndian, as: UInt64.self)
                position += 8
            }
            #endif
        }
    }
}
