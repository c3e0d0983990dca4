import Foundation

/// The gzip file format (RFC 1952): one or more members, each a header, a DEFLATE stream and a
/// trailer with the CRC-32 and the size (mod 2³²) of the uncompressed data.
///
/// Foundation on Linux has no gzip decoder, so this one is written in Swift (see `Deflate`).
/// Both checks of the trailer are verified; concatenated members decode to the concatenation
/// of their contents, as `gzip -d` does.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number `1f 8b`.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The uncompressed contents of a gzip file.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the file's name for error messages (`file: byte N: ...`).
    ///   - maximumSize: the most decompressed bytes accepted (all members together); decoding
    ///     stops with a `tooLarge` error as soon as the output would pass it.
    /// - Throws: `DataError` with reason `badGzipHeader`, `corruptDeflate`, `truncated`,
    ///   `checksumMismatch`, `sizeMismatch`, `trailingBytes` or `tooLarge`.
    public static func decompress(_ bytes: [UInt8], file: String = "<data>", maximumSize: Int = .max) throws(DataError) -> [UInt8] {
        var output: [UInt8] = []
        var offset = 0
        repeat {
            let dataStart = try headerLength(bytes, at: offset, file: file)
            // ISIZE of a single-member file sizes the output buffer (a hint only, capped).
            var sizeHint = 0
            if offset == 0 && bytes.count >= 4 {
                let n = bytes.count
                let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
                sizeHint = min(isize, bytes.count * 1032, 1 << 28)
            }
            let member = Array(bytes[dataStart...])
            let (data, consumed) = try Deflate.inflate(member, file: file, baseOffset: dataStart, expectedSize: sizeHint,
                                                       maximumSize: maximumSize - output.count)
            let trailer = dataStart + consumed
            guard bytes.count - trailer >= 8 else {
                throw DataError(file: file, location: .byte(bytes.count),
                                reason: .truncated("gzip trailer: expected 8 bytes (CRC-32 and size), found \(bytes.count - trailer)"))
            }
            let storedCRC = littleEndian32(bytes, trailer)
            let storedSize = littleEndian32(bytes, trailer + 4)
            let computedCRC = CRC32.checksum(data)
            guard storedCRC == computedCRC else {
                throw DataError(file: file, location: .byte(trailer),
                                reason: .checksumMismatch(stored: storedCRC, computed: computedCRC))
            }
            let computedSize = UInt32(truncatingIfNeeded: data.count)
            guard storedSize == computedSize else {
                throw DataError(file: file, location: .byte(trailer + 4),
                                reason: .sizeMismatch(stored: storedSize, computed: computedSize))
            }
            if output.isEmpty { output = data } else { output.append(contentsOf: data) }
            offset = trailer + 8
            // Another member follows only if it starts with the magic number; anything else
            // after the last member is an error (a damaged or mislabelled file).
            if offset < bytes.count && !(bytes.count - offset >= 2 && bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B) {
                throw DataError(file: file, location: .byte(offset), reason: .trailingBytes(count: bytes.count - offset))
            }
        } while offset < bytes.count
        return output
    }

    /// The length of the member header at `offset` (where the DEFLATE data starts), checking
    /// the magic number, the method (8 = DEFLATE), the reserved flag bits and the header CRC.
    static func headerLength(_ bytes: [UInt8], at offset: Int, file: String) throws(DataError) -> Int {
        func truncated(_ what: String) -> DataError {
            DataError(file: file, location: .byte(bytes.count),
                      reason: .truncated("\(what): the file ends after \(bytes.count) bytes"))
        }
        guard bytes.count - offset >= 10 else {
            if bytes.count - offset >= 2 && !(bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B) {
                throw DataError(file: file, location: .byte(offset),
                                reason: .badGzipHeader("magic number \(hexByte(bytes[offset])) \(hexByte(bytes[offset + 1])) is not 1f 8b"))
            }
            throw truncated("gzip header (10 bytes at least)")
        }
        guard bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B else {
            throw DataError(file: file, location: .byte(offset),
                            reason: .badGzipHeader("magic number \(hexByte(bytes[offset])) \(hexByte(bytes[offset + 1])) is not 1f 8b"))
        }
        guard bytes[offset + 2] == 8 else {
            throw DataError(file: file, location: .byte(offset + 2),
                            reason: .badGzipHeader("compression method \(bytes[offset + 2]) is not 8 (DEFLATE)"))
        }
        let flags = bytes[offset + 3]
        guard flags & 0xE0 == 0 else {
            throw DataError(file: file, location: .byte(offset + 3),
                            reason: .badGzipHeader("reserved flag bits are set (flags 0x\(hexByte(flags)))"))
        }
        var position = offset + 10
        if flags & 0x04 != 0 {  // FEXTRA: a 2-byte length, then that many bytes
            guard bytes.count - position >= 2 else { throw truncated("gzip header (extra field)") }
            let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
            position += 2
            guard bytes.count - position >= length else { throw truncated("gzip header (extra field)") }
            position += length
        }
        for (flag, what) in [(UInt8(0x08), "file name"), (UInt8(0x10), "comment")] where flags & flag != 0 {
            // FNAME, FCOMMENT: zero-terminated strings.
            while position < bytes.count && bytes[position] != 0 { position += 1 }
            guard position < bytes.count else { throw truncated("gzip header (\(what))") }
            position += 1
        }
        if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the CRC-32 of the header so far
            guard bytes.count - position >= 2 else { throw truncated("gzip header (header CRC)") }
            let stored = UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
            let computed = UInt16(truncatingIfNeeded: CRC32.checksum(bytes[offset..<position]))
            guard stored == computed else {
                throw DataError(file: file, location: .byte(position),
                                reason: .badGzipHeader("header CRC \(String(stored, radix: 16)) does not match the header (\(String(computed, radix: 16)))"))
            }
            position += 2
        }
        return position
    }

    static func littleEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    static func hexByte(_ byte: UInt8) -> String {
        byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
    }
}

/// The CRC-32 of gzip, zlib and PNG (polynomial 0xEDB88320, reflected, initial and final
/// value 0xFFFFFFFF): `CRC32.checksum(Array("123456789".utf8)) == 0xCBF43926`.
public enum CRC32 {
    /// Slicing-by-8 tables: `tables[k·256 + b]` is the CRC of byte `b` followed by `k` zero bytes.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[index] = crc
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC of a contiguous buffer, eight bytes per step.
    static func update(_ crc: UInt32, _ buffer: UnsafeBufferPointer<UInt8>, _ table: UnsafeBufferPointer<UInt32>) -> UInt32 {
        var crc = crc
        var index = 0
        let count = buffer.count
        while count - index >= 8 {
            let low = crc ^ (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8
                             | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24)
            let high = UInt32(buffer[index + 4]) | UInt32(buffer[index + 5]) << 8
                | UInt32(buffer[index + 6]) << 16 | UInt32(buffer[index + 7]) << 24
            crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                ^ table[256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
            index += 8
        }
        while index < count {
            crc = table[Int((crc ^ UInt32(buffer[index])) & 0xFF)] ^ (crc >> 8)
            index += 1
        }
        return crc
    }

    /// The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before them).
    public static func checksum<Bytes: Collection>(_ bytes: Bytes, previous: UInt32 = 0) -> UInt32 where Bytes.Element == UInt8 {
        var crc = ~previous
        tables.withUnsafeBufferPointer { table in
            let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in crc = update(crc, buffer, table) }
            if done == nil {
                let copy = Array(bytes)
                copy.withUnsafeBufferPointer { buffer in crc = update(crc, buffer, table) }
            }
        }
        return ~crc
    }
}

/// Reading a data file from disk, gunzipping it when it is gzip-compressed.
enum DataFile {
    /// The contents of `url`, decompressed when the file starts with the gzip magic number or
    /// its name ends in `.gz` (a `.gz` file without the magic number is a `badGzipHeader`).
    ///
    /// A file larger than `limit`, or whose decompressed contents are, is refused with a
    /// `tooLarge` error before it fills memory (see `FileSizeLimit`).
    static func read(_ url: URL, name: String, limit: Int? = nil) throws(DataError) -> [UInt8] {
        let limit = limit ?? FileSizeLimit.dataBytes
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(url, limit: limit)
        } catch .tooLarge(let size, let limit) {
            throw DataError(file: name, location: .file, reason: .tooLarge(FileReadError.tooLarge(size: size, limit: limit).description))
        } catch {
            throw DataError(file: name, location: .file, reason: .unreadable(error.description))
        }
        if Gzip.isGzip(bytes) || url.pathExtension.lowercased() == "gz" {
            if bytes.isEmpty { return [] }
            return try Gzip.decompress(bytes, file: name, maximumSize: limit)
        }
        return bytes
    }

    /// How a file is named in messages: the path as the user gave it.
    static func displayName(_ url: URL) -> String {
        url.isFileURL ? url.relativePath : url.absoluteString
    }
}
