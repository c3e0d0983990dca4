import Foundation
import GradDoctor
import GradReport
import Testing

// The TensorBoard writer's fast paths (default buckets from a table on the value's bits, records
// stored in place with their CRCs computed over the buffer) against the algorithms they
// replaced, kept here as the references: the histograms and the bytes must be the same.

/// The default-bucket histogram as GradReport computed it before the table lookup: a binary
/// search (`upper_bound`) per value, sorted indices for few values or a count per bucket, each
/// run of empty buckets one bucket ending at the run's last limit.
private func referenceDefaultBuckets<S: Collection>(_ values: S) -> TensorBoardHistogram where S.Element: BinaryFloatingPoint {
    let limits = TensorBoardHistogram.defaultBucketLimits
    func bucketIndex(of v: Double) -> Int {
        var low = 0, high = limits.count - 1
        while low < high {
            let mid = (low + high) / 2
            if limits[mid] > v { high = mid } else { low = mid + 1 }
        }
        return low
    }
    var low = Double.infinity, high = -Double.infinity
    var n = 0.0, sum = 0.0, squares = 0.0
    var filled: [(index: Int, count: Double)] = []
    let few = values.count < limits.count
    var indices: [Int] = [], counts: [Double] = []
    if !few { counts = Array(repeating: 0, count: limits.count) }
    for element in values {
        let v = Double(element)
        guard v.isFinite else { continue }
        low = Swift.min(low, v)
        high = Swift.max(high, v)
        n += 1
        sum += v
        squares += v * v
        let index = bucketIndex(of: v)
        if few { indices.append(index) } else { counts[index] += 1 }
    }
    if few {
        indices.sort()
        for index in indices {
            if let last = filled.last, last.index == index {
                filled[filled.count - 1].count += 1
            } else {
                filled.append((index, 1))
            }
        }
    } else {
        for (index, count) in counts.enumerated() where count > 0 { filled.append((index, count)) }
    }
    guard n > 0 else {
        return TensorBoardHistogram(min: 0, max: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [0], bucketCounts: [0])
    }
    var outLimits: [Double] = [], outCounts: [Double] = []
    var next = 0
    for bucket in filled {
        if bucket.index > next {
            outLimits.append(limits[bucket.index - 1])
            outCounts.append(0)
        }
        outLimits.append(limits[bucket.index])
        outCounts.append(bucket.count)
        next = bucket.index + 1
    }
    if next < limits.count {
        outLimits.append(limits[limits.count - 1])
        outCounts.append(0)
    }
    return TensorBoardHistogram(min: low, max: high, count: n, sum: sum, sumOfSquares: squares,
                                bucketLimits: outLimits, bucketCounts: outCounts)
}

/// The linear-bin conversion as it was written before (Double counts, `map`s).
private func referenceLinear(_ histogram: GradientHistogram, sum: Double?, sumOfSquares: Double?) -> TensorBoardHistogram {
    let counts = histogram.linearCounts.map(Double.init)
    let total = counts.reduce(0, +)
    let m = histogram.linearRange
    guard total > 0, m > 0, m.isFinite, !counts.isEmpty else {
        return TensorBoardHistogram(min: 0, max: 0, count: total, sum: sum ?? 0, sumOfSquares: sumOfSquares ?? 0,
                                    bucketLimits: [0], bucketCounts: [total])
    }
    let bins = counts.count
    let width = 2 * m / Double(bins)
    func edge(_ k: Int) -> Double { k == bins ? m : -m + Double(k) * width }
    let first = counts.firstIndex { $0 > 0 }!
    let last = counts.lastIndex { $0 > 0 }!
    var estimatedSum = 0.0, estimatedSquares = 0.0
    for k in first...last {
        let centre = (edge(k) + edge(k + 1)) / 2
        estimatedSum += counts[k] * centre
        estimatedSquares += counts[k] * centre * centre
    }
    return TensorBoardHistogram(min: edge(first), max: edge(last + 1), count: total,
                                sum: sum ?? estimatedSum, sumOfSquares: sumOfSquares ?? estimatedSquares,
                                bucketLimits: (first...last).map { edge($0 + 1) }, bucketCounts: Array(counts[first...last]))
}

/// The HistogramProto built with the public encoder, field by field.
private func referenceEncoded(_ h: TensorBoardHistogram) -> [UInt8] {
    var message = ProtobufEncoder()
    message.appendDouble(field: 1, h.min)
    message.appendDouble(field: 2, h.max)
    message.appendDouble(field: 3, h.count)
    message.appendDouble(field: 4, h.sum)
    message.appendDouble(field: 5, h.sumOfSquares)
    message.appendPackedDoubles(field: 6, h.bucketLimits)
    message.appendPackedDoubles(field: 7, h.bucketCounts)
    return message.bytes
}

/// CRC-32C bit by bit, from the definition (reflected polynomial 0x82F63B78).
private func bitwiseCRC32C(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        c ^= UInt32(byte)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    }
    return ~c
}

/// A TFRecord framed from the definition: length, masked CRC, data, masked CRC (little-endian).
private func referenceRecord(_ data: [UInt8]) -> [UInt8] {
    func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }
    func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    let length = littleEndian(UInt64(data.count))
    return length + littleEndian(masked(bitwiseCRC32C(length[...]))) + data + littleEndian(masked(bitwiseCRC32C(data[...])))
}

/// One `Event` record with a summary value, built from nested messages with the public encoder.
private func referenceEvent(tag: String, step: Int, wallTime: Double, scalar: Float? = nil,
                            histogram: TensorBoardHistogram? = nil) -> [UInt8] {
    var value = ProtobufEncoder()
    value.appendString(field: 1, tag)
    if let scalar { value.appendFloat(field: 2, scalar) }
    if let histogram { value.appendBytes(field: 5, referenceEncoded(histogram)) }
    var summary = ProtobufEncoder()
    summary.appendMessage(field: 1, value)
    var event = ProtobufEncoder()
    event.appendDouble(field: 1, wallTime)
    event.appendInt64(field: 2, Int64(step))
    event.appendMessage(field: 5, summary)
    return referenceRecord(event.bytes)
}

@Suite("TensorBoard fast paths give the replaced algorithms' histograms and bytes")
struct TensorBoardFastPathTests {
    /// SplitMix64, so every run sees the same inputs.
    typealias Generator = WriterFastPathTests.Generator

    /// Whether two histograms are the same bit for bit (so NaN figures and −0 compare too).
    func identical(_ a: TensorBoardHistogram, _ b: TensorBoardHistogram) -> Bool {
        [a.min, a.max, a.count, a.sum, a.sumOfSquares].map(\.bitPattern) == [b.min, b.max, b.count, b.sum, b.sumOfSquares].map(\.bitPattern)
            && a.bucketLimits.map(\.bitPattern) == b.bucketLimits.map(\.bitPattern)
            && a.bucketCounts.map(\.bitPattern) == b.bucketCounts.map(\.bitPattern)
    }

    /// Every default limit, its neighbours one ulp away, both signs; zeros, subnormals, the
    /// ends of the range and the non-finite values.
    var edgeValues: [Double] {
        var values: [Double] = [0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, Double.leastNormalMagnitude.nextDown,
                                .greatestFiniteMagnitude, Double.greatestFiniteMagnitude.nextDown, 1e20, 1e-12, 1, 1.1,
                                .nan, .infinity, -.infinity, .signalingNaN]
        for limit in TensorBoardHistogram.defaultBucketLimits where limit.isFinite {
            values += [limit, limit.nextUp, limit.nextDown]
        }
        return values + values.map { -$0 }
    }

    @Test("every limit, its ulp neighbours, zeros, subnormals, huge and non-finite values: one by one and together")
    func edgeCases() {
        let values = edgeValues
        var mismatches = 0
        for v in values {
            let fast = TensorBoardHistogram(values: [v]), reference = referenceDefaultBuckets([v])
            if !identical(fast, reference) {
                mismatches += 1
                if mismatches <= 5 { Issue.record("value \(v) (bits \(String(v.bitPattern, radix: 16))): \(fast) vs \(reference)") }
            }
        }
        #expect(mismatches == 0)
        // Together: sums over huge values overflow to ±∞ the same way.
        #expect(identical(TensorBoardHistogram(values: values), referenceDefaultBuckets(values)))
        let finiteValues = values.filter(\.isFinite)
        #expect(identical(TensorBoardHistogram(values: finiteValues), referenceDefaultBuckets(finiteValues)))
        #expect(identical(TensorBoardHistogram(values: Array(finiteValues.reversed())), referenceDefaultBuckets(finiteValues.reversed())))
    }

    @Test("Float inputs: the limits rounded to Float and their Float neighbours, Float subnormals and extremes")
    func floatEdgeCases() {
        var floats: [Float] = [0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .nan, .infinity]
        for limit in TensorBoardHistogram.defaultBucketLimits where Swift.abs(limit) < 1e38 {
            let f = Float(limit)
            floats += [f, f.nextUp, f.nextDown]
        }
        floats += floats.map { -$0 }
        var mismatches = 0
        for f in floats {
            let fast = [f].withUnsafeBufferPointer { TensorBoardHistogram(values: $0) }
            let reference = [f].withUnsafeBufferPointer { referenceDefaultBuckets($0) }
            if !identical(fast, reference) {
                mismatches += 1
                if mismatches <= 5 { Issue.record("Float \(f): \(fast) vs \(reference)") }
            }
        }
        #expect(mismatches == 0)
        let together = floats.withUnsafeBufferPointer { TensorBoardHistogram(values: $0) }
        #expect(identical(together, floats.withUnsafeBufferPointer { referenceDefaultBuckets($0) }))
        #expect(together.count == Double(floats.filter(\.isFinite).count))
    }

    @Test("random values over 40 decades, with non-finite ones, few and many, Double and Float")
    func randomValues() {
        var generator = Generator(state: 2024)
        for (trial, size) in [0, 1, 2, 7, 50, 100, 1000, 1550, 1551, 1552, 5000, 20000].enumerated() {
            for spread in [1.0, 6.0, 40.0] {
                var values: [Double] = []
                for _ in 0..<size {
                    let u = generator.uniform()
                    let magnitude = Foundation.pow(10, -6 - spread / 2 + spread * generator.uniform())
                    var v = generator.uniform() < 0.5 ? -magnitude : magnitude
                    if u < 0.01 { v = [.nan, .infinity, -.infinity, 0, -0.0][Int(generator.next() % 5)] }
                    if u > 0.995 { v = TensorBoardHistogram.defaultBucketLimits[Int(generator.next() % 1551)] }
                    values.append(v)
                }
                let fast = TensorBoardHistogram(values: values), reference = referenceDefaultBuckets(values)
                #expect(identical(fast, reference), "Double, size \(size), spread \(spread) (trial \(trial))")
                let floats = values.map { Float($0) }
                let fastFloats = floats.withUnsafeBufferPointer { TensorBoardHistogram(values: $0) }
                let referenceFloats = floats.withUnsafeBufferPointer { referenceDefaultBuckets($0) }
                #expect(identical(fastFloats, referenceFloats), "Float, size \(size), spread \(spread) (trial \(trial))")
            }
        }
        // Weight-like tensors, as the training loop logs them.
        for seed in 0..<20 {
            var g = Generator(state: UInt64(seed))
            let weights = (0..<(seed % 2 == 0 ? 100 : 10)).map { _ in Float((g.uniform() - 0.5) * 0.6) }
            let fast = weights.withUnsafeBufferPointer { TensorBoardHistogram(values: $0) }
            #expect(identical(fast, weights.withUnsafeBufferPointer { referenceDefaultBuckets($0) }), "weights, seed \(seed)")
        }
    }

    @Test("linear bins become the same histogram as the former conversion, with and without exact sums")
    func linearBins() throws {
        var generator = Generator(state: 99)
        for trial in 0..<200 {
            let bins = trial % 3 == 0 ? 41 : 1 + Int(generator.next() % 60)
            var counts = (0..<bins).map { _ in generator.uniform() < 0.4 ? Int(generator.next() % 1000) : 0 }
            if trial % 17 == 0 { counts = Array(repeating: 0, count: bins) }
            let range = [0, 1e-30, 0.5, 20.5, 3e12, .infinity][trial % 6] * (trial % 4 == 0 ? 1 : generator.uniform() + 0.5)
            let h = try gradientHistogram(step: trial, name: "\(trial).weight", linearCounts: counts, range: range)
            let sum: Double? = trial % 2 == 0 ? nil : generator.uniform() - 0.5
            let squares: Double? = trial % 2 == 0 ? nil : generator.uniform()
            #expect(identical(TensorBoardHistogram(h, sum: sum, sumOfSquares: squares), referenceLinear(h, sum: sum, sumOfSquares: squares)),
                    "trial \(trial): \(counts) over ±\(range)")
        }
    }

    @Test("the HistogramProto stored in place equals the one built field by field")
    func histogramEncoding() {
        let histograms = [
            TensorBoardHistogram(values: [0.5, -2, 3e-7, 0, .nan]),
            TensorBoardHistogram(values: [Double]()),
            TensorBoardHistogram(values: (0..<3000).map { Double($0) * 1e-3 - 1 }),
            TensorBoardHistogram(min: 0, max: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [], bucketCounts: []),
            TensorBoardHistogram(min: -.infinity, max: .nan, count: 1, sum: -0.0, sumOfSquares: 1e300,
                                 bucketLimits: Array(repeating: 1, count: 16), bucketCounts: Array(repeating: 2, count: 16)),
        ]
        for h in histograms {
            #expect(h.encoded.bytes == referenceEncoded(h), "\(h.bucketLimits.count) buckets")
        }
    }

    @Test("records framed in place equal the framing from the definition (bitwise CRC-32C)")
    func framing() {
        var generator = Generator(state: 8)
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 300, 4096] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            #expect(TensorBoardWriter.record(data) == referenceRecord(data), "length \(length)")
        }
    }

    @Test("a writer's file equals the records built from nested messages, and reads back with every CRC checked")
    func writerRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-tb-fastpath-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try TensorBoardWriter(directory: folder, fileSuffix: ".fastpath")
        var expected: [UInt8] = []
        var steps: [Int64?] = []
        var generator = Generator(state: 31)
        let gradient = try gradientHistogram(step: 70, name: "2.weight", linearCounts: (0..<41).map { $0 % 5 == 0 ? $0 : 0 }, range: 0.75)
        // Enough events to pass the 256 KiB buffer several times, tags of every length class,
        // steps needing 1 to 10 varint bytes, and one histogram larger than the buffer.
        let tags = ["loss", "grad_norm/0.weight", String(repeating: "t", count: 127), String(repeating: "é", count: 100), ""]
        for i in 0..<6000 {
            let tag = tags[i % tags.count]
            let step = [0, 1, 127, 128, 300, 1 << 20, 1 << 40, Int.max, -1][i % 9]
            let wallTime = 1.7e9 + Double(i) * 0.25
            switch i % 50 {
            case 7:
                let floats = (0..<(i % 3 == 0 ? 10 : 500)).map { _ in Float((generator.uniform() - 0.5) * Foundation.pow(10, 4 * generator.uniform() - 3)) }
                try floats.withUnsafeBufferPointer { try writer.addHistogram(tag, values: $0, step: step, wallTime: wallTime) }
                let h = floats.withUnsafeBufferPointer { referenceDefaultBuckets($0) }
                expected += referenceEvent(tag: tag, step: step, wallTime: wallTime, histogram: h)
            case 19:
                let doubles = (0..<40).map { _ in (generator.uniform() - 0.5) * 1e6 } + [.nan]
                try writer.addHistogram(tag, values: doubles, step: step, wallTime: wallTime)
                expected += referenceEvent(tag: tag, step: step, wallTime: wallTime, histogram: referenceDefaultBuckets(doubles))
            case 31:
                try writer.addHistogram(tag, histogram: gradient, sum: 1.5, sumOfSquares: 2.25, wallTime: wallTime)
                expected += referenceEvent(tag: tag, step: gradient.step, wallTime: wallTime,
                                           histogram: referenceLinear(gradient, sum: 1.5, sumOfSquares: 2.25))
            default:
                let value = [0.25, -1e-40, .nan, .infinity, 1e300, -0.0][i % 6] * generator.uniform()
                try writer.addScalar(tag, value, step: step, wallTime: wallTime)
                expected += referenceEvent(tag: tag, step: step, wallTime: wallTime, scalar: Float(value))
            }
            steps.append(i % 50 == 31 ? 70 : Int64(step))
        }
        let large = TensorBoardHistogram(min: -1, max: 1, count: 40000, sum: 0, sumOfSquares: 1,
                                         bucketLimits: (0..<20000).map { Double($0) }, bucketCounts: Array(repeating: 2, count: 20000))
        try writer.addHistogram("large", large, step: 9, wallTime: 5)
        expected += referenceEvent(tag: "large", step: 9, wallTime: 5, histogram: large)
        steps.append(9)
        try writer.close()

        let bytes = [UInt8](try Data(contentsOf: writer.url))
        let firstLength = 16 + Int(bytes[0])
        #expect(bytes.count == firstLength + expected.count)
        #expect(Array(bytes[firstLength...]) == expected)
        let contents = try TensorBoardEventFile.read(contentsOf: writer.url)
        #expect(!contents.isCutShort)
        #expect(contents.records.count == 1 + steps.count)
        #expect(contents.records.first?.hasFileVersion == true)
        // The reader reports an absent step field as nil; the writer always writes it.
        #expect(contents.records.dropFirst().map(\.step) == steps)
    }
}
