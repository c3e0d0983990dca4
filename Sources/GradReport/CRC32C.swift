// CRC-32C (Castagnoli), the checksum of TFRecord framing, table-driven (slicing by 8).

/// The CRC-32C checksum (Castagnoli polynomial, as in iSCSI, ext4 and TFRecord files) and the
/// masked form TFRecord stores.
///
/// Reflected polynomial `0x82F63B78`, initial value and final XOR `0xFFFFFFFF`:
/// `"123456789"` → `0xE3069283`, 32 zero bytes → `0x8A9136AA`. Eight bytes per table round
/// ("slicing by 8", eight 256-entry tables).
public enum CRC32C {
    /// The reflected Castagnoli polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight 256-entry tables, one after the other: entry `256·k + b` is the CRC of byte `b`
    /// followed by `k` zero bytes (`k = 0` is the classic byte table).
    static let tables: [UInt32] = {
        var first = [UInt32](repeating: 0, count: 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            first[byte] = crc
        }
        var tables = first
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = tables[256 * (k - 1) + b]
                tables.append((previous >> 8) ^ first[Int(previous & 0xFF)])
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`, continuing from `crc` (the checksum of what came before, 0 to start).
    ///
    /// `checksum(b, continuing: checksum(a)) == checksum(a + b)`.
    /// - Parameters:
    ///   - bytes: the data.
    ///   - crc: the checksum of the preceding data, or 0.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return tables.withUnsafeBufferPointer { table in
            // `table` has 2048 entries and every index below is a byte plus 256·k, k < 8.
            let t = table.baseAddress!
            var c = ~crc
            var i = 0
            let n = bytes.count
            while n &- i >= 8 {
                let low = c ^ UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))
                let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &+ 4, as: UInt32.self))
                c = t[1792 + Int(low & 0xFF)] ^ t[1536 + Int((low >> 8) & 0xFF)]
                    ^ t[1280 + Int((low >> 16) & 0xFF)] ^ t[1024 + Int(low >> 24)]
                    ^ t[768 + Int(high & 0xFF)] ^ t[512 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i &+= 8
            }
            while i < n {
                c = (c >> 8) ^ t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)]
                i &+= 1
            }
            return ~c
        }
    }

    /// The CRC-32C of a byte array.
    ///
    /// - Parameters:
    ///   - bytes: the data.
    ///   - crc: the checksum of the preceding data, or 0.
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The masked checksum TFRecord stores: `((crc >> 15) | (crc << 17)) &+ 0xA282EAD8`.
    ///
    /// Masking keeps the CRC of data that itself contains CRCs from being trivially related.
    /// - Parameter crc: an unmasked CRC-32C.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
