import Foundation
import GradReport
import Testing

/// The writers' fast paths (byte-level escaping and numbers, sparse histogram buckets, in-place
/// protobuf records, per-byte text widths) against the plain algorithms they replace: the
/// output must be the same text and the same bytes.
@Suite("Writer fast paths give the plain algorithms' output")
struct WriterFastPathTests {
    /// A small deterministic generator (SplitMix64), so the tests see the same inputs every run.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    /// TensorFlow's default-bucket histogram as the dense loop computes it: a count per bucket,
    /// each run of empty buckets one bucket ending at the run's last limit.
    func denseReference(_ values: [Double]) -> (limits: [Double], counts: [Double]) {
        let limits = TensorBoardHistogram.defaultBucketLimits
        var counts = [Double](repeating: 0, count: limits.count)
        for v in values where v.isFinite {
            counts[limits.firstIndex { $0 > v } ?? limits.count - 1] += 1
        }
        var outLimits: [Double] = [], outCounts: [Double] = []
        var i = 0
        while i < counts.count {
            var end = limits[i], count = counts[i]
            var j = i + 1
            while count <= 0 && j < counts.count && counts[j] <= 0 {
                end = limits[j]
                count = counts[j]
                j += 1
            }
            outLimits.append(end)
            outCounts.append(count)
            i = j
        }
        return (outLimits, outCounts)
    }

    @Test("default buckets: few values (sorted indices) and many values (dense counts) match the dense loop")
    func histogramBuckets() {
        var generator = Generator(state: 7)
        for size in [1, 2, 10, 100, 1550, 1551, 3000] {
            var values: [Double] = []
            for i in 0..<size {
                let magnitude = Foundation.pow(10, -14 + 30 * generator.uniform())
                values.append(i % 7 == 3 ? 0 : (generator.uniform() < 0.5 ? -magnitude : magnitude))
            }
            values += [.nan, .infinity, 5e25]
            let h = TensorBoardHistogram(values: values)
            let reference = denseReference(values)
            #expect(h.bucketLimits == reference.limits, "size \(size)")
            #expect(h.bucketCounts == reference.counts, "size \(size)")
            #expect(h.count == Double(size + 1))
            let floats = values.map { Float($0) }
            let fromFloats = floats.withUnsafeBufferPointer { TensorBoardHistogram(values: $0) }
            let floatReference = denseReference(floats.map { Double($0) })
            #expect(fromFloats.bucketLimits == floatReference.limits && fromFloats.bucketCounts == floatReference.counts)
        }
    }

    @Test("escapeMarkup's byte path equals the per-scalar replacement on mixed text")
    func escaping() {
        func reference(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&#39;"
                case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
                default:
                    switch scalar.value {
                    case 0x00..<0x20, 0x7F, 0xFFFE, 0xFFFF, 0x202A...0x202E, 0x2066...0x2069: out += "\u{FFFD}"
                    default: out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }
        let pieces = ["a", "<", "&", "'", "\"", ">", "\u{0}", "\u{1F}", "\u{7F}", "\t", "\r\n", "σ", "10⁻¹¹–10⁻¹⁰",
                      "\u{2029}", "\u{202A}", "\u{202E}", "\u{202F}", "\u{2065}", "\u{2066}", "\u{2069}", "\u{206A}",
                      "\u{FFFD}", "\u{FFFE}", "\u{FFFF}", "\u{EFFF}", "😀", "é"]
        var generator = Generator(state: 11)
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int(generator.next() % 12) { text += pieces[Int(generator.next() % UInt64(pieces.count))] }
            #expect(escapeMarkup(text) == reference(text), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("svgNumber equals the hundredths text of the former implementation")
    func numbers() {
        func reference(_ x: Double) -> String? {
            guard x.isFinite, Swift.abs(x) < 1e9 else { return nil }
            if (x * 100).rounded() / 100 == 0 { return "0" }
            let hundredths = Int((Swift.abs(x) * 100).rounded())
            let whole = hundredths / 100, fraction = hundredths % 100
            var text = x < 0 ? "-" : ""
            text += String(whole)
            if fraction != 0 {
                text += fraction % 10 == 0 ? ".\(fraction / 10)" : (fraction < 10 ? ".0\(fraction)" : ".\(fraction)")
            }
            return text
        }
        var generator = Generator(state: 3)
        var values: [Double] = [0, -0.0, 0.004, -0.004, 0.005, -0.005, 0.05, 0.5, 1, 9.995, 10, 99.999, 100, 1234.5,
                                999_999_999.99, -999_999_999.99, 1e9, .nan, .infinity]
        for _ in 0..<2000 { values.append((generator.uniform() - 0.5) * Foundation.pow(10, 10 * generator.uniform() - 3)) }
        for x in values { #expect(svgNumber(x) == reference(x), "\(x)") }
    }

    @Test("textWidth and fitted: the per-byte ASCII path and the running sum equal per-character sums")
    func textWidths() {
        func width(_ c: Character) -> Double {
            if "ijlI.,:;|!'() ".contains(c) { return 0.32 } else if c.isUppercase || "mwMW".contains(c) { return 0.72 } else { return 0.58 }
        }
        func referenceWidth(_ text: String, _ size: Double) -> Double {
            var em = 0.0
            for c in text { em += width(c) }
            return em * size
        }
        func referenceFitted(_ text: String, _ room: Double, _ size: Double) -> String {
            if referenceWidth(text, size) <= room { return text }
            var out = ""
            for c in text {
                if referenceWidth(out + String(c) + "…", size) > room { break }
                out.append(c)
            }
            return out + "…"
        }
        let texts = ["", "weight/0.weight", "Training loss", "ijlI.,:;|!'() mwMW", "a\r\nb", "K\u{212A};\u{037E}`\u{1FEF}",
                     "‖∇W‖₂ (log scale)", "10⁻¹¹–10⁻¹⁰", "Ωé\u{301}x", "ÀÉÎ lower", "step 12345 of a long label name"]
        for text in texts {
            for size in [11.0, 12.5] {
                #expect(ChartFormat.textWidth(text, size: size) == referenceWidth(text, size), "\(text)")
                for room in [0.0, 20, 45, 80, 400] {
                    #expect(ChartFormat.fitted(text, width: room, size: size) == referenceFitted(text, room, size), "\(text) in \(room)")
                }
            }
        }
    }

    @Test("an event written in place equals the event built from nested messages")
    func inPlaceEvents() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-fastpath-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try TensorBoardWriter(directory: folder)
        let histogram = TensorBoardHistogram(values: [0.5, -2, 3e-7, 0])
        try writer.addScalar("loss", 0.25, step: 300, wallTime: 12.5)
        try writer.addHistogram("grad/0.weight", histogram, step: 1 << 40, wallTime: 13)
        try writer.close()
        let bytes = [UInt8](try Data(contentsOf: writer.url))

        func event(step: Int, wallTime: Double, value: ProtobufEncoder) -> [UInt8] {
            var summary = ProtobufEncoder()
            summary.appendMessage(field: 1, value)
            var event = ProtobufEncoder()
            event.appendDouble(field: 1, wallTime)
            event.appendInt64(field: 2, Int64(step))
            event.appendMessage(field: 5, summary)
            return TensorBoardWriter.record(event.bytes)
        }
        var scalar = ProtobufEncoder()
        scalar.appendString(field: 1, "loss")
        scalar.appendFloat(field: 2, 0.25)
        var histogramValue = ProtobufEncoder()
        histogramValue.appendString(field: 1, "grad/0.weight")
        histogramValue.appendMessage(field: 5, histogram.encoded)
        let expected = event(step: 300, wallTime: 12.5, value: scalar) + event(step: 1 << 40, wallTime: 13, value: histogramValue)
        // The first record is the file version; the two events follow it.
        let firstLength = Int(bytes[0]) + Int(bytes[1]) << 8
        #expect(Array(bytes[(firstLength + 16)...]) == expected)
    }

    @Test("CRC-32C over lengths around the eight-byte rounds equals the bitwise definition")
    func crc() {
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                c ^= UInt32(byte)
                for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ CRC32C.polynomial : c >> 1 }
            }
            return ~c
        }
        var generator = Generator(state: 5)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            #expect(CRC32C.checksum(bytes) == bitwise(bytes), "length \(length)")
        }
    }
}
