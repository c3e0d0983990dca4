import GradDoctor

// TensorBoard's HistogramProto: from raw values in TensorFlow's default buckets, or from the
// monitor's signed linear bins.

/// A histogram as TensorBoard stores it (`tensorflow.HistogramProto`): summary figures and
/// buckets given by their right edges.
///
/// Bucket `i` counts values `v` with `bucketLimits[i − 1] ≤ v < bucketLimits[i]` (the first
/// bucket everything below `bucketLimits[0]`). TensorBoard draws bucket `i` from
/// `bucketLimits[i − 1]` to `bucketLimits[i]`, with `min` as the first bucket's left edge and
/// `max` as the last bucket's right edge.
public struct TensorBoardHistogram: Sendable, Equatable {
    /// Smallest value.
    public var min: Double
    /// Largest value.
    public var max: Double
    /// Number of values.
    public var count: Double
    /// `Σ v`.
    public var sum: Double
    /// `Σ v²`.
    public var sumOfSquares: Double
    /// Right edge of each bucket, increasing.
    public var bucketLimits: [Double]
    /// Number of values in each bucket.
    public var bucketCounts: [Double]

    /// A histogram from its fields.
    ///
    /// - Parameters: the HistogramProto fields (`bucketLimits` and `bucketCounts` of equal length).
    public init(min: Double, max: Double, count: Double, sum: Double, sumOfSquares: Double,
                bucketLimits: [Double], bucketCounts: [Double]) {
        precondition(bucketLimits.count == bucketCounts.count,
                     "TensorBoardHistogram: \(bucketLimits.count) bucket limits for \(bucketCounts.count) bucket counts")
        self.min = min
        self.max = max
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.bucketLimits = bucketLimits
        self.bucketCounts = bucketCounts
    }

    /// TensorFlow's default bucket limits (`tensorflow/core/lib/histogram/histogram.cc`), 1551 of them:
    /// `−DBL_MAX`, `−1e-12·1.1^k` for decreasing `k`, `0`, `1e-12·1.1^k` for `k = 0, 1, …` while
    /// below `1e20` (the powers formed by repeated multiplication, as TensorFlow does), `DBL_MAX`.
    public static let defaultBucketLimits: [Double] = {
        var positive: [Double] = []
        var v = 1.0e-12
        while v < 1.0e20 {
            positive.append(v)
            v *= 1.1
        }
        positive.append(Double.greatestFiniteMagnitude)
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// The histogram of `values` in TensorFlow's default buckets, encoded as TensorFlow's
    /// `Histogram::EncodeToProto` does: each run of consecutive empty buckets becomes one empty
    /// bucket ending where the run ends.
    ///
    /// A value `v` goes to the first bucket whose limit is greater than `v` (`upper_bound`).
    /// `min`, `max`, `count`, `sum` and `sumOfSquares` are exact sums in Double. NaN and ±∞ are
    /// left out of every figure (TensorFlow's histogram op refuses them; a diverging run should
    /// still be logged): `count` is the number of finite values. With no finite value,
    /// `min = max = 0` and one empty bucket.
    /// - Parameter values: the values (a weight or gradient tensor's elements).
    public init(values: UnsafeBufferPointer<Float>) {
        self = Self.defaultBuckets(values)
    }

    /// The histogram of Double `values` in TensorFlow's default buckets (as the Float version).
    /// - Parameter values: the values.
    public init(values: [Double]) {
        self = Self.defaultBuckets(values)
    }

    /// The default-bucket histogram of any float collection (specialized at the two call sites).
    ///
    /// Each finite value's bucket comes from `DefaultBucketLookup` (a table on its bits and one
    /// comparison). A bitmap marks the buckets filled: a bucket's count is set on its first value
    /// (the counts are never zeroed as a whole), and the bitmap's set bits, read in order, are
    /// the non-empty buckets in increasing order.
    static func defaultBuckets<S: Collection>(_ values: S) -> TensorBoardHistogram where S.Element: BinaryFloatingPoint {
        let limits = Self.defaultBucketLimits
        let lookup = DefaultBucketLookup.shared
        var low = Double.infinity, high = -Double.infinity
        var n = 0.0, sum = 0.0, squares = 0.0
        var buckets = 0
        let words = (limits.count + 63) / 64
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: limits.count)
        let filled = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        defer {
            counts.deallocate()
            filled.deallocate()
        }
        filled.initialize(repeating: 0, count: words)
        lookup.edges.withUnsafeBufferPointer { edges in
            lookup.edgesBelowCell.withUnsafeBufferPointer { edgesBelowCell in
                for element in values {
                    let v = Double(element)
                    guard v.isFinite else { continue }
                    low = Swift.min(low, v)
                    high = Swift.max(high, v)
                    n += 1
                    sum += v
                    squares += v * v
                    let index = lookup.bucketIndex(of: v, edges: edges, edgesBelowCell: edgesBelowCell)
                    let word = index >> 6, bit: UInt64 = 1 << UInt64(index & 63)
                    if filled[word] & bit == 0 {
                        filled[word] |= bit
                        counts[index] = 1
                        buckets += 1
                    } else {
                        counts[index] += 1
                    }
                }
            }
        }
        guard n > 0 else {
            return TensorBoardHistogram(min: 0, max: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [0], bucketCounts: [0])
        }
        // Each run of empty buckets becomes one empty bucket ending at the run's last limit.
        var outLimits: [Double] = [], outCounts: [Double] = []
        outLimits.reserveCapacity(2 * buckets + 1)
        outCounts.reserveCapacity(2 * buckets + 1)
        var next = 0
        for w in 0..<words {
            var word = filled[w]
            while word != 0 {
                let index = 64 * w + word.trailingZeroBitCount
                word &= word - 1
                if index > next {
                    outLimits.append(limits[index - 1])
                    outCounts.append(0)
                }
                outLimits.append(limits[index])
                outCounts.append(Double(counts[index]))
                next = index + 1
            }
        }
        if next < limits.count {
            outLimits.append(limits[limits.count - 1])
            outCounts.append(0)
        }
        return TensorBoardHistogram(min: low, max: high, count: n, sum: sum, sumOfSquares: squares,
                                    bucketLimits: outLimits, bucketCounts: outCounts)
    }

    /// The monitor's signed linear bins as a TensorBoard histogram.
    ///
    /// `GradientHistogram.linearCounts` holds `B` equal bins over `[−m, m]` (`m =
    /// linearRange`, the snapshot's largest finite `|g|`); bin `k` spans `[−m + k·w, −m +
    /// (k+1)·w)` with `w = 2m/B`. Leading and trailing empty bins are dropped; the kept bins'
    /// right edges are the bucket limits, `min` is the first kept bin's left edge and `max` the
    /// last kept bin's right edge, so TensorBoard draws exactly the recorded bins (one of `min`,
    /// `max` is `∓m`, exact; the other is within one bin width of the true extreme). `count` is
    /// the number of finite elements (non-finite ones are not in the linear bins). `sum` and
    /// `sumOfSquares` are the given exact figures, or else estimated from the bin centres. With
    /// `m = 0` (all zeros), one bucket `[0, 0]`.
    /// - Parameters:
    ///   - histogram: a recorded snapshot.
    ///   - sum: `Σ g` over the finite elements, when known (`gradientMean × count`).
    ///   - sumOfSquares: `Σ g²` over the finite elements, when known.
    public init(_ histogram: GradientHistogram, sum: Double? = nil, sumOfSquares: Double? = nil) {
        let counts = histogram.linearCounts
        var total = 0.0
        for c in counts { total += Double(c) }
        let m = histogram.linearRange
        guard total > 0, m > 0, m.isFinite, !counts.isEmpty else {
            self.init(min: 0, max: 0, count: total, sum: sum ?? 0, sumOfSquares: sumOfSquares ?? 0,
                      bucketLimits: [0], bucketCounts: [total])
            return
        }
        let bins = counts.count
        let width = 2 * m / Double(bins)
        func edge(_ k: Int) -> Double { k == bins ? m : -m + Double(k) * width }
        let first = counts.firstIndex { $0 > 0 }!
        let last = counts.lastIndex { $0 > 0 }!
        var estimatedSum = 0.0, estimatedSquares = 0.0
        var limits: [Double] = [], keptCounts: [Double] = []
        limits.reserveCapacity(last - first + 1)
        keptCounts.reserveCapacity(last - first + 1)
        for k in first...last {
            let count = Double(counts[k])
            let centre = (edge(k) + edge(k + 1)) / 2
            estimatedSum += count * centre
            estimatedSquares += count * centre * centre
            limits.append(edge(k + 1))
            keptCounts.append(count)
        }
        self.init(min: edge(first), max: edge(last + 1), count: total,
                  sum: sum ?? estimatedSum, sumOfSquares: sumOfSquares ?? estimatedSquares,
                  bucketLimits: limits, bucketCounts: keptCounts)
    }

    /// The `HistogramProto` message: `min` 1, `max` 2, `num` 3, `sum` 4, `sum_squares` 5
    /// (doubles), `bucket_limit` 6 and `bucket` 7 (packed repeated doubles).
    public var encoded: ProtobufEncoder {
        let size = encodedSize
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let start = UnsafeMutableRawPointer(buffer.baseAddress!)
            var message = ProtobufEncoder.Cursor(start)
            encode(to: &message)
            precondition(message.position == start + size,
                         "TensorBoardHistogram: encodedSize is \(size) but the message holds \(message.position - start)")
            count = size
        }
        return ProtobufEncoder(bytes: bytes)
    }

    /// Stores the fields of `encoded` (`encodedSize` bytes) at the cursor: the histogram
    /// written in place, inside an event.
    /// - Parameter message: where the fields go.
    @inline(__always)
    func encode(to message: inout ProtobufEncoder.Cursor) {
        message.appendDouble(field: 1, min)
        message.appendDouble(field: 2, max)
        message.appendDouble(field: 3, count)
        message.appendDouble(field: 4, sum)
        message.appendDouble(field: 5, sumOfSquares)
        message.appendPackedDoubles(field: 6, bucketLimits)
        message.appendPackedDoubles(field: 7, bucketCounts)
    }

    /// The number of bytes of `encoded`: five doubles of nine bytes, and each non-empty packed
    /// field's key, length and eight bytes per value.
    var encodedSize: Int {
        func packed(_ field: Int, _ values: [Double]) -> Int {
            values.isEmpty ? 0 : ProtobufEncoder.lengthDelimitedSize(field: field, length: values.count * 8)
        }
        return 5 * 9 + packed(6, bucketLimits) + packed(7, bucketCounts)
    }
}

/// Finds a value's default bucket (`TensorBoardHistogram.defaultBucketLimits`) from its bits:
/// a table and one comparison instead of a binary search over 1551 limits.
///
/// The limits are `−DBL_MAX`, `−e[K−1] … −e[0]`, `0`, `e[0] … e[K−1]`, `DBL_MAX` with the
/// positive edges `e[k] = 1e-12·1.1^k` (`K = 774`). The first limit above `v` is
/// `e[K+2+c]`'s position with `c = #{k : e[k] ≤ v}` for `v ≥ 0` (−0 included), and position
/// `K + 1 − #{k : e[k] < |v|}` for `v < 0`. Both counts come from `|v|`'s cell: its bits shifted
/// right by 48 (exponent and four mantissa bits), so a cell spans a ratio of at most 17/16,
/// less than the 1.1 between edges, and holds at most one edge. `edgesBelowCell[cell]` is the
/// number of edges below the cell's smallest value; the one edge that may lie inside is
/// `e[edgesBelowCell[cell]]`, compared with `|v|`. Cells below `e[0]`'s cell share the first
/// entry (0) and cells above `e[K−1]`'s the last (`K`); `e[K] = +∞` ends the edges.
private struct DefaultBucketLookup: Sendable {
    /// The positive edges `1e-12·1.1^k` (`K` of them), then `+∞`.
    let edges: [Double]
    /// For table position `p`: the number of edges below the smallest value of cell `p − 1 +
    /// firstCell`; position 0 stands for every cell below, the last for every cell above.
    let edgesBelowCell: [UInt16]
    /// The cell of `e[0]`.
    let firstCell: Int
    /// `K`.
    let edgeCount: Int

    /// How many low bits of a Double's bit pattern the cell leaves out.
    static let cellShift: UInt64 = 48

    static let shared = DefaultBucketLookup(limits: TensorBoardHistogram.defaultBucketLimits)

    init(limits: [Double]) {
        let k = (limits.count - 3) / 2
        let positive = Array(limits[(k + 2)..<(2 * k + 2)])
        precondition(positive.count == k && limits[k + 1] == 0 && positive.allSatisfy { $0 > 0 },
                     "DefaultBucketLookup: limits are not −DBL_MAX, −e, 0, e, DBL_MAX")
        let firstCell = Int(positive[0].bitPattern >> Self.cellShift)
        let lastCell = Int(positive[k - 1].bitPattern >> Self.cellShift)
        var table: [UInt16] = [0]
        var below = 0
        for cell in firstCell...lastCell {
            let smallest = Double(bitPattern: UInt64(cell) << Self.cellShift)
            let next = Double(bitPattern: UInt64(cell + 1) << Self.cellShift)
            while below < k && positive[below] < smallest { below += 1 }
            precondition(below + 1 >= k || positive[below + 1] >= next,
                         "DefaultBucketLookup: two edges in the cell from \(smallest)")
            table.append(UInt16(below))
        }
        table.append(UInt16(k))
        edges = positive + [.infinity]
        edgesBelowCell = table
        self.firstCell = firstCell
        edgeCount = k
    }

    /// The index of the first default limit greater than the finite `v` (the last limit's
    /// index when none is), as `TensorBoardHistogram.defaultBucketLimits`'s `upper_bound`.
    /// - Parameters:
    ///   - v: a finite value.
    ///   - edges: `self.edges`' memory.
    ///   - edgesBelowCell: `self.edgesBelowCell`'s memory.
    @inline(__always)
    func bucketIndex(of v: Double, edges: UnsafeBufferPointer<Double>, edgesBelowCell: UnsafeBufferPointer<UInt16>) -> Int {
        let magnitude = v.magnitude
        let cell = Int(truncatingIfNeeded: magnitude.bitPattern >> Self.cellShift) &- firstCell &+ 1
        let position = Swift.min(Swift.max(cell, 0), edgesBelowCell.count &- 1)
        let below = Int(edgesBelowCell[position])
        if v < 0 {
            return edgeCount &+ 1 &- below &- (edges[below] < magnitude ? 1 : 0)
        }
        return edgeCount &+ 2 &+ below &+ (edges[below] <= magnitude ? 1 : 0)
    }
}
