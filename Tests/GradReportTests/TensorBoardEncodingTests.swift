import Foundation
import GradDoctor
import GradReport
import GradTestSupport
import Testing

/// A value decoded from a JSON object given as a dictionary (GradDoctor's record types are
/// Codable and have no public memberwise initializers). The JSON text is made here, numbers as
/// Swift prints them (exact) and non-finite ones as "nan"/"inf"/"-inf" strings.
func decoded<T: Decodable>(_ object: [String: Any], as type: T.Type = T.self) throws -> T {
    func json(_ value: Any) -> String {
        switch value {
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return "\(i)"
        case let d as Double: return d.isNaN ? "\"nan\"" : d.isInfinite ? (d > 0 ? "\"inf\"" : "\"-inf\"") : "\(d)"
        case let s as String: return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let a as [Any]: return "[" + a.map(json).joined(separator: ",") + "]"
        case let o as [String: Any]: return "{" + o.map { json($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
        default: preconditionFailure("decoded: unsupported value \(value)")
        }
    }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(T.self, from: Data(json(object).utf8))
}

/// A recorded gradient histogram with the given signed linear bins.
func gradientHistogram(step: Int, name: String, linearCounts: [Int], range: Double, nonfinite: Int = 0) throws -> GradientHistogram {
    try decoded([
        "step": step, "name": name, "zeroCount": 0, "logCounts": [Int](repeating: 0, count: 16),
        "nonfiniteCount": nonfinite, "linearCounts": linearCounts, "linearRange": range,
    ])
}

/// A fresh empty folder under the system's temporary folder.
func temporaryFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradreport-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("TensorBoard encoding: CRC32C, protobuf, TFRecord")
struct TensorBoardEncodingTests {
    @Test("CRC32C check values (RFC 3720 B.4 and the standard check string)")
    func crcVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("CRC32C continued over a split equals the CRC of the whole, at every split point")
    func crcContinuation() {
        let data = (0..<37).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        let whole = CRC32C.checksum(data)
        for split in 0...data.count {
            let first = CRC32C.checksum(Array(data[..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), continuing: first) == whole, "split at \(split)")
        }
    }

    @Test("masked CRC: ((crc >> 15) | (crc << 17)) + 0xA282EAD8, by hand")
    func mask() {
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        #expect(CRC32C.masked(1) == 0xA284_EAD8)          // 1 << 17 = 0x20000
        #expect(CRC32C.masked(0x8000) == 0xA282_EAD9)     // >> 15 = 1, << 17 overflows to 0
        #expect(CRC32C.masked(0xFFFF_FFFF) == 0xA282_EAD7) // 0xFFFFFFFF + 0xA282EAD8 wraps
    }

    @Test("varints: 0, 1, 127, 128, 300, 2^63, UInt64.max")
    func varints() {
        func encoded(_ v: UInt64) -> [UInt8] { var e = ProtobufEncoder(); e.appendVarint(v); return e.bytes }
        #expect(encoded(0) == [0x00])
        #expect(encoded(1) == [0x01])
        #expect(encoded(127) == [0x7F])
        #expect(encoded(128) == [0x80, 0x01])
        #expect(encoded(300) == [0xAC, 0x02])
        #expect(encoded(1 << 63) == [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
        #expect(encoded(.max) == [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test("zigzag: 0→0, −1→1, 1→2, −2→3, ±2³¹ edges, Int64.min→UInt64.max")
    func zigzag() {
        #expect(ProtobufEncoder.zigzag(0) == 0)
        #expect(ProtobufEncoder.zigzag(-1) == 1)
        #expect(ProtobufEncoder.zigzag(1) == 2)
        #expect(ProtobufEncoder.zigzag(-2) == 3)
        #expect(ProtobufEncoder.zigzag(2_147_483_647) == 4_294_967_294)
        #expect(ProtobufEncoder.zigzag(-2_147_483_648) == 4_294_967_295)
        #expect(ProtobufEncoder.zigzag(Int64.max) == UInt64.max - 1)
        #expect(ProtobufEncoder.zigzag(.min) == .max)
        var e = ProtobufEncoder()
        e.appendSInt64(field: 1, -3)
        #expect(e.bytes == [0x08, 0x05])
    }

    @Test("fields: int64 150, negative int64, double, float, string, nested, packed doubles")
    func fields() {
        var e = ProtobufEncoder()
        e.appendInt64(field: 1, 150)                      // the protobuf guide's example
        #expect(e.bytes == [0x08, 0x96, 0x01])

        e = ProtobufEncoder()
        e.appendInt64(field: 2, -1)                       // two's complement, ten bytes
        #expect(e.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])

        e = ProtobufEncoder()
        e.appendDouble(field: 1, 1.0)                     // key 1<<3|1 = 0x09, 0x3FF0000000000000 LE
        #expect(e.bytes == [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        e = ProtobufEncoder()
        e.appendDouble(field: 4, -2.5)                    // 0xC004000000000000
        #expect(e.bytes == [0x21, 0, 0, 0, 0, 0, 0, 0x04, 0xC0])

        e = ProtobufEncoder()
        e.appendFloat(field: 2, 1.0)                      // key 2<<3|5 = 0x15, 0x3F800000 LE
        #expect(e.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
        e = ProtobufEncoder()
        e.appendFloat(field: 2, .nan)
        #expect(e.bytes == [0x15, 0x00, 0x00, 0xC0, 0x7F])

        e = ProtobufEncoder()
        e.appendString(field: 2, "testing")               // the protobuf guide's example
        #expect(e.bytes == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])

        var inner = ProtobufEncoder()
        inner.appendInt64(field: 1, 150)
        e = ProtobufEncoder()
        e.appendMessage(field: 3, inner)                  // the guide's embedded-message example
        #expect(e.bytes == [0x1A, 0x03, 0x08, 0x96, 0x01])

        e = ProtobufEncoder()
        e.appendPackedDoubles(field: 6, [1.0, -2.5])      // key 6<<3|2 = 0x32, length 16
        #expect(e.bytes == [0x32, 0x10, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0x04, 0xC0])
        e = ProtobufEncoder()
        e.appendPackedDoubles(field: 7, [])
        #expect(e.bytes.isEmpty)

        e = ProtobufEncoder()
        e.appendString(field: 20, "")                     // two-byte key: 20<<3|2 = 162 = A2 01
        #expect(e.bytes == [0xA2, 0x01, 0x00])
    }

    @Test("the first record of a new event file, byte by byte")
    func firstRecord() throws {
        let folder = try temporaryFolder("tb-first")
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = Date().timeIntervalSince1970
        let writer = try TensorBoardWriter(directory: folder)
        try writer.close()
        let after = Date().timeIntervalSince1970
        let bytes = [UInt8](try Data(contentsOf: writer.url))

        // Event { wall_time (1, double) = now, file_version (3, string) = "brain.Event:2" }:
        // 1 + 8 + 1 + 1 + 13 = 24 bytes; record: 8 + 4 + 24 + 4 = 40.
        try #require(bytes.count == 40)
        #expect(Array(bytes[0..<8]) == [24, 0, 0, 0, 0, 0, 0, 0])
        // masked CRC-32C of the 8 length bytes: 0x224B7FA3 (computed with TensorBoard's
        // reader, `masked_crc32c(struct.pack('<Q', 24))`).
        #expect(Array(bytes[8..<12]) == [0xA3, 0x7F, 0x4B, 0x22])
        #expect(bytes[12] == 0x09)
        let wallTime = Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[13 + $1]) << (8 * UInt64($1)) })
        #expect(wallTime >= before - 1 && wallTime <= after + 1)
        #expect(Array(bytes[21..<23]) == [0x1A, 13])
        #expect(String(decoding: bytes[23..<36], as: UTF8.self) == "brain.Event:2")
        let dataCRC = CRC32C.masked(CRC32C.checksum(Array(bytes[12..<36])))
        #expect(Array(bytes[36..<40]) == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: dataCRC >> $0) })
    }

    @Test("file names: events.out.tfevents.<seconds>.<host>…, unique per writer, suffix kept")
    func fileNames() throws {
        let folder = try temporaryFolder("tb-names")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seconds = Int(Date().timeIntervalSince1970)
        let writers = try (0..<3).map { _ in try TensorBoardWriter(directory: folder, fileSuffix: ".gradlab") }
        for w in writers { try w.close() }
        let names = writers.map(\.url.lastPathComponent)
        #expect(Set(names).count == 3)
        for name in names {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            #expect(name.hasPrefix("events.out.tfevents."))
            #expect(name.hasSuffix(".gradlab"))
            let stamp = Int(parts[3]) ?? -1
            #expect(stamp >= seconds - 1 && stamp <= seconds + 60, "\(name)")
        }
        let listed = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(Set(listed) == Set(names))
    }

    @Test("a folder that cannot be created is a typed error naming it")
    func unwritableFolder() throws {
        let folder = try temporaryFolder("tb-error")
        defer { try? FileManager.default.removeItem(at: folder) }
        let blocker = folder.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: blocker)
        let target = blocker.appendingPathComponent("run")
        let error = #expect(throws: TensorBoardError.self) { try TensorBoardWriter(directory: target) }
        guard case .cannotCreate(let file, _)? = error else { Issue.record("expected cannotCreate, got \(String(describing: error))"); return }
        #expect(file.hasSuffix("plain-file/run"))
        #expect(error?.description.hasPrefix(file + ": cannot create") == true)
    }

    @Test("events are buffered until flush and written in full by close")
    func buffering() throws {
        let folder = try temporaryFolder("tb-buffer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try TensorBoardWriter(directory: folder)
        try writer.addScalar("loss", 0.5, step: 0, wallTime: 1)
        let beforeFlush = try Data(contentsOf: writer.url).count
        try writer.flush()
        let afterFlush = try Data(contentsOf: writer.url).count
        #expect(beforeFlush == 0)
        // file_version record (40) + scalar record: Event{wall_time, step 0, summary{value{tag "loss",
        // simple_value}}}: 9 + 2 + (2 + (2 + (2 + 4 + 5))) = 26 bytes of data, 42 framed.
        #expect(afterFlush == 40 + 42)
        try writer.addScalar("loss", 0.25, step: 1, wallTime: 2)
        try writer.close()
        try writer.close()
        #expect(try Data(contentsOf: writer.url).count == 40 + 2 * 42)
    }
}

@Suite("TensorBoard histograms")
struct TensorBoardHistogramTests {
    @Test("TensorFlow's default bucket limits: ±1e-12·1.1^k below 1e20, 0 and ±DBL_MAX")
    func defaultLimits() {
        let limits = TensorBoardHistogram.defaultBucketLimits
        #expect(limits.count == 1551)                     // 774 positive powers, their negatives, 0, ±DBL_MAX
        #expect(limits[775] == 0)
        #expect(limits[776] == 1e-12)
        #expect(limits[774] == -1e-12)
        #expect(limits[777] == 1e-12 * 1.1)
        #expect(limits.first == -Double.greatestFiniteMagnitude)
        #expect(limits.last == Double.greatestFiniteMagnitude)
        #expect(isClose(limits[limits.count - 2], 9.920775621859783e19, rtol: 1e-14))
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("values in default buckets: upper-bound placement, empty runs collapsed, exact figures")
    func valuesByHand() {
        let h = TensorBoardHistogram(values: [0, 0, 1, -1, .nan, .infinity])
        #expect(h.count == 4)
        #expect(h.min == -1 && h.max == 1)
        #expect(h.sum == 0 && h.sumOfSquares == 2)
        #expect(h.bucketCounts.reduce(0, +) == 4)
        // 0 goes to the bucket whose limit is 1e-12 (the first limit above 0).
        let zeroBucket = h.bucketLimits.firstIndex(of: 1e-12)
        #expect(zeroBucket.map { h.bucketCounts[$0] } == 2)
        // No two empty buckets in a row.
        #expect(!zip(h.bucketCounts, h.bucketCounts.dropFirst()).contains { $0 == 0 && $1 == 0 })
        #expect(h.bucketLimits.last == Double.greatestFiniteMagnitude)

        let empty = TensorBoardHistogram(values: [Double.nan])
        #expect(empty.count == 0 && empty.bucketLimits == [0] && empty.bucketCounts == [0])
    }

    @Test("a recorded GradientHistogram's linear bins become the buckets, empty ends trimmed")
    func fromGradientHistogram() throws {
        var counts = [Int](repeating: 0, count: 41)
        counts[10] = 3; counts[20] = 5; counts[30] = 2
        // m = 20.5: 41 bins of width exactly 1, bin k spans [−20.5 + k, −19.5 + k).
        let g = try gradientHistogram(step: 4, name: "0.weight", linearCounts: counts, range: 20.5, nonfinite: 2)
        let h = TensorBoardHistogram(g)
        #expect(h.min == -10.5 && h.max == 10.5)
        #expect(h.count == 10)
        #expect(h.bucketLimits == (11...31).map { -20.5 + Double($0) })
        #expect(h.bucketCounts == (10...30).map { Double(counts[$0]) })
        // bin centres −10, 0, 10: Σ = −30 + 0 + 20, Σ² = 300 + 0 + 200.
        #expect(h.sum == -10 && h.sumOfSquares == 500)
        let exact = TensorBoardHistogram(g, sum: -9.75, sumOfSquares: 480)
        #expect(exact.sum == -9.75 && exact.sumOfSquares == 480)

        let zeros = try gradientHistogram(step: 0, name: "b", linearCounts: (0..<41).map { $0 == 20 ? 7 : 0 }, range: 0)
        let z = TensorBoardHistogram(zeros)
        #expect(z.min == 0 && z.max == 0 && z.count == 7 && z.bucketLimits == [0] && z.bucketCounts == [7])
    }
}
