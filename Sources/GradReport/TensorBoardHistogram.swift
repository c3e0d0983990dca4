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
    static func defaultBuckets<S: Collection>(_ values: S) -> TensorBoardHistogram where S.Element: BinaryFloatingPoint {
        let limits = Self.defaultBucketLimits
        var low = Double.infinity, high = -Double.infinity
        var n = 0.0, sum = 0.0, squares = 0.0
        // The non-empty buckets as (index, count), in increasing index order: for fewer values
        // than buckets (a small layer) from their sorted bucket indices, else from a count per bucket.
        var filled: [(index: Int, count: Double)] = []
        let few = values.count < limits.count
        var indices: [Int] = [], counts: [Double] = []
        if few { indices.reserveCapacity(values.count) } else { counts = Array(repeating: 0, count: limits.count) }
        for element in values {
            let v = Double(element)
            guard v.isFinite else { continue }
            low = Swift.min(low, v)
            high = Swift.max(high, v)
            n += 1
            sum += v
            squares += v * v
            let index = Self.bucketIndex(of: v, limits: limits)
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
        // Each run of empty buckets becomes one empty bucket ending at the run's last limit.
        var outLimits: [Double] = [], outCounts: [Double] = []
        outLimits.reserveCapacity(2 * filled.count + 1)
        outCounts.reserveCapacity(2 * filled.count + 1)
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

    /// The index of the first limit greater than `v` (`limits.count − 1` when none is).
    static func bucketIndex(of v: Double, limits: [Double]) -> Int {
        limits.withUnsafeBufferPointer { limits in
            var low = 0, high = limits.count - 1
            while low < high {
                let mid = (low + high) / 2
                if limits[mid] > v { high = mid } else { low = mid + 1 }
            }
            return low
        }
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
        let counts = histogram.linearCounts.map(Double.init)
        let total = counts.reduce(0, +)
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
        for k in first...last {
            let centre = (edge(k) + edge(k + 1)) / 2
            estimatedSum += counts[k] * centre
            estimatedSquares += counts[k] * centre * centre
        }
        self.init(min: edge(first), max: edge(last + 1), count: total,
                  sum: sum ?? estimatedSum, sumOfSquares: sumOfSquares ?? estimatedSquares,
                  bucketLimits: (first...last).map { edge($0 + 1) }, bucketCounts: Array(counts[first...last]))
    }

    /// The `HistogramProto` message: `min` 1, `max` 2, `num` 3, `sum` 4, `sum_squares` 5
    /// (doubles), `bucket_limit` 6 and `bucket` 7 (packed repeated doubles).
    public var encoded: ProtobufEncoder {
        var message = ProtobufEncoder()
        encode(into: &message)
        return message
    }

    /// Appends the fields of `encoded` to `message` (the histogram written in place, inside
    /// an event).
    /// - Parameter message: the encoder to append to.
    func encode(into message: inout ProtobufEncoder) {
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
