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

    /// Eight 256-entry tables: `tables[0]` is the classic byte table, `tables[k][b]` the CRC of
    /// byte `b` followed by `k` zero bytes.
    static let tables: [[UInt32]] = {
        var first = [UInt32](repeating: 0, count: 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            first[byte] = crc
        }
        var tables = [first]
        for k in 1..<8 {
            let previous = tables[k - 1]
            tables.append((0..<256).map { b in (previous[b] >> 8) ^ first[Int(previous[b] & 0xFF)] })
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
        var c = ~crc
        let t = tables
        let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let low = c ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            c = t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)] ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])] ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
            i += 8
        }
        while i < n {
            c = (c >> 8) ^ t0[Int((c ^ UInt32(bytes[i])) & 0xFF)]
            i += 1
        }
        return ~c
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
