import GradKernels
import GradTensor

// The monitor's per-element passes, as plain functions of `Float` or `Double` buffers: every
// loop here is compiled for a concrete type (a loop in generic code called from another module
// runs unspecialized, about 100× slower). The Float paths use eight-lane vectors summed in
// Float over blocks of 1024 elements and in Double across blocks; a block whose squares
// overflow Float is summed again in Double, and a tensor with a NaN or an infinity (or a Float
// sum that overflows) is walked again element by element, skipping the non-finite values.

/// What one pass over a parameter's gradient finds: totals over its finite elements.
struct GradientTotals: Equatable {
    /// `Σ g`, `Σ g²` and `max |g|` over the finite elements.
    var sum = 0.0, squares = 0.0, maxAbs = 0.0
    /// Elements exactly 0, and finite elements.
    var zeros = 0, finite = 0
}

/// Σ, Σ², max |·| and the zeros of a gradient, in one pass (GradKernels' `gl_moment_sums`:
/// eight lanes at a time, summed in Float over blocks of 1024 elements and in Double across
/// blocks, relative error about 1e-7; a block whose squares overflow Float is summed again in
/// Double); a gradient with a NaN or an infinity (or whose Float sum overflows) is walked again
/// element by element, skipping them.
func gradientTotals(_ g: UnsafeBufferPointer<Float>) -> GradientTotals {
    var totals = GradientTotals()
    guard let base = g.baseAddress, g.count > 0 else { return totals }
    var sums = gl_moment_sums()
    gl_moment_sums(base, g.count, 1, &sums)
    if sums.sum.isFinite && sums.max_abs.isFinite {
        (totals.sum, totals.squares, totals.maxAbs, totals.zeros, totals.finite) = (sums.sum, sums.squares, sums.max_abs, sums.zeros, g.count)
    } else {
        let m = scalarMoments(g)
        (totals.sum, totals.squares, totals.maxAbs, totals.zeros) = m.totals
        totals.finite = m.finite
    }
    return totals
}

/// The same totals for Double, element by element.
func gradientTotals(_ g: UnsafeBufferPointer<Double>) -> GradientTotals {
    var totals = GradientTotals()
    let m = scalarMoments(g)
    (totals.sum, totals.squares, totals.maxAbs, totals.zeros) = m.totals
    totals.finite = m.finite
    return totals
}

/// `Σ x`, `Σ x²` over the finite elements of a layer's output, and how many are finite: the
/// sums of `gradientTotals` (`gl_moment_sums` without the largest |x| and the zeros).
func activationTotals(_ p: UnsafeBufferPointer<Float>) -> (sum: Double, squares: Double, finite: Int) {
    guard let base = p.baseAddress, p.count > 0 else { return (0, 0, 0) }
    var sums = gl_moment_sums()
    gl_moment_sums(base, p.count, 0, &sums)
    // A NaN makes Σx NaN and an infinity makes Σx² infinite (finite Floats' squares cannot
    // overflow a Double): only then the elements are walked again, skipping them.
    if sums.sum.isFinite && sums.squares.isFinite { return (sums.sum, sums.squares, p.count) }
    let m = scalarMoments(p)
    return (m.totals.0, m.totals.1, m.finite)
}

/// `Σ x²` of a layer's output gradient (`gl_squared_norm`: eight-lane Float sums over blocks of
/// 1024 elements, then Double across blocks, as the gradient statistics' sums; relative error
/// about 1e-7; a block whose sum overflows Float is summed again in Double). A NaN or an
/// infinity makes the total NaN or infinite.
func squaredNorm(_ p: UnsafeBufferPointer<Float>) -> Double {
    guard let base = p.baseAddress, p.count > 0 else { return 0 }
    return gl_squared_norm(base, p.count)
}

/// The same totals for Double, element by element.
func activationTotals(_ p: UnsafeBufferPointer<Double>) -> (sum: Double, squares: Double, finite: Int) {
    let m = scalarMoments(p)
    return (m.totals.0, m.totals.1, m.finite)
}

/// Σx, Σx², max |x| and the number of zeros of the finite elements, element by element, and
/// the number of finite elements.
@inline(__always)
func scalarMoments<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>) -> (totals: (Double, Double, Double, Int), finite: Int) {
    var sum = 0.0, squares = 0.0, largest = 0.0, zeros = 0, finite = 0
    for v in p where v.isFinite {
        let x = Double(v)
        finite += 1
        sum += x; squares += x * x; largest = Swift.max(largest, Swift.abs(x))
        if x == 0 { zeros += 1 }
    }
    return ((sum, squares, largest, zeros), finite)
}

/// Number of NaN or infinite elements.
@inline(__always)
func nonfiniteCount<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>) -> Int {
    var n = 0
    for v in p where !v.isFinite { n += 1 }
    return n
}

/// Fraction of elements `y` (outputs of a sigmoid or tanh) whose derivative, computed from
/// `y`, is below `threshold` times its maximum: `y(1 − y) < threshold/4` for sigmoid,
/// `1 − y² < threshold` for tanh.
@inline(__always)
func saturatedCount<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>, sigmoid: Bool, threshold: Double) -> Int {
    let limit = S(sigmoid ? 0.25 * threshold : threshold)
    var n = 0
    if sigmoid { for y in p where y * (1 - y) < limit { n += 1 } } else { for y in p where 1 - y * y < limit { n += 1 } }
    return n
}

/// The same count for Float, eight elements at a time (`gl_saturated_count`: the same Float
/// operations per element).
func saturatedCount(_ p: UnsafeBufferPointer<Float>, sigmoid: Bool, threshold: Double) -> Int {
    guard let base = p.baseAddress else { return 0 }
    return gl_saturated_count(base, p.count, sigmoid ? 1 : 0, Float(sigmoid ? 0.25 * threshold : threshold))
}

/// Number of units (columns of a row-major `[rows, units]` buffer) that are 0 in every row:
/// each column is read down until its first nonzero value, so a live unit costs a row or two.
@inline(__always)
func deadUnitCountByColumn<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>, units: Int) -> Int {
    let rows = p.count / units
    var dead = 0
    for u in 0..<units {
        var allZero = true
        var index = u
        for _ in 0..<rows {
            if p[index] != 0 { allZero = false; break }
            index += units
        }
        if allZero { dead += 1 }
    }
    return dead
}

/// The same count for Float (`gl_dead_unit_count`: the rows read in order, eight lanes at a
/// time, marking the units seen nonzero, until every unit has been).
func deadUnitCount(_ p: UnsafeBufferPointer<Float>, units: Int) -> Int {
    guard let base = p.baseAddress, units > 0 else { return 0 }
    return gl_dead_unit_count(base, p.count / units, units)
}

/// Counts of a gradient in `GradientHistogram`'s bins.
struct HistogramCounts {
    var zeros = 0, nonfinite = 0
    /// Per log-magnitude bin.
    var log: [Int]
    /// Per signed linear bin.
    var linear: [Int]
    /// Half-width `m` of the linear bins' range `[−m, m]`: the largest finite |g|.
    var range = 0.0
}

/// Where a Float's magnitude falls among the log-magnitude bins, from its bits: for the
/// binade with exponent field `e`, the bin of its smallest value (`base[e]`) and the bits of
/// the one bin edge inside it, if any (`edge[e]`; bins are a decade wide, a binade an octave).
/// A nonzero finite magnitude with bits `m` is in bin `base[m >> 23] + (m ≥ edge[m >> 23])`.
struct FloatBinTable: Sendable {
    var base: [UInt32]
    var edge: [UInt32]

    /// The table for the bins with lower edges `edges[1...]` (`edges` as `GradientHistogram.logBinEdges`).
    init(edges: [Double]) {
        // Each inner edge as the smallest Float not below it: for a Float `a`, `a ≥ edge`
        // exactly when `a ≥` this Float, so comparing bits is comparing with the Double edge.
        let thresholds: [UInt32] = edges.dropFirst().dropLast().map { edge in
            var t = Float(edge)
            if Double(t) < edge { t = t.nextUp }
            return t.bitPattern
        }
        base = (0..<256).map { e in UInt32(thresholds.filter { $0 <= UInt32(e) << 23 }.count) }
        edge = (0..<256).map { e in
            let low = UInt32(e) << 23, high = UInt64(e + 1) << 23
            return thresholds.first { $0 > low && UInt64($0) < high } ?? .max
        }
    }
}

/// Counts in `GradientHistogram`'s bins: zeros, log-magnitude bins (edges `edges`, tails folded
/// into the end bins: bin `b` holds `edges[b] ≤ |g| < edges[b + 1]`), non-finite, and
/// `linearBins` signed bins over `[−m, m]` with `m` the largest finite |g|:
/// bin `⌊(g + m)·linearBins/(2m)⌋` (clamped; the middle bin when `m = 0`).
///
/// An all-finite Float gradient is counted from each element's bits (`table`) and its linear
/// bin truncated (`g + m ≥ 0`, so truncating is rounding down), into four copies of the counts
/// so that runs of equal bins do not wait on each other's stores; otherwise element by element
/// in Double (`scalarHistogram`).
/// - Parameters:
///   - known: the largest finite |g| and whether every element is finite, when a statistics
///     pass already found them (nil: found here).
func histogramCounts(_ p: UnsafeBufferPointer<Float>, edges: [Double], table: FloatBinTable, linearBins: Int,
                     known: (range: Double, allFinite: Bool)?) -> HistogramCounts {
    let logBins = edges.count - 1
    guard let base = p.baseAddress, p.count > 0 else {
        return HistogramCounts(log: Array(repeating: 0, count: logBins), linear: Array(repeating: 0, count: linearBins))
    }
    var range: Double, allFinite: Bool
    if let known {
        (range, allFinite) = known
    } else {
        allFinite = Float.kernelAllFinite(base, p.count)
        range = allFinite ? Double(Float.kernelMaxAbs(base, p.count)) : scalarMoments(p).totals.2
    }
    guard allFinite, range > 0, table.base.count == 256, table.edge.count == 256 else {
        return scalarHistogram(p, edges: edges, linearBins: linearBins, range: range)
    }
    let n = p.count
    // Log slot `logBins` of each copy counts the zeros.
    let logStride = logBins + 1, linearStride = linearBins
    var logTable = [Int32](repeating: 0, count: 4 * logStride)
    var linearTable = [Int32](repeating: 0, count: 4 * linearStride)
    let scale = Double(linearBins) / (2 * range)
    let lastLinear = linearBins - 1, zeroSlot = UInt32(logBins)
    logTable.withUnsafeMutableBufferPointer { logCounts in
        linearTable.withUnsafeMutableBufferPointer { linearCounts in
            table.base.withUnsafeBufferPointer { binBase in
                table.edge.withUnsafeBufferPointer { binEdge in
                    let binBase = binBase.baseAddress!, binEdge = binEdge.baseAddress!
                    @inline(__always) func count(_ x: Float, _ log: UnsafeMutablePointer<Int32>, _ linear: UnsafeMutablePointer<Int32>) {
                        let bits = x.bitPattern & 0x7FFF_FFFF
                        let e = Int(bits >> 23)
                        let bin = binBase[e] &+ (bits >= binEdge[e] ? 1 : 0)
                        log[Int(bits == 0 ? zeroSlot : bin)] &+= 1
                        linear[Swift.min(Int((Double(x) + range) * scale), lastLinear)] &+= 1
                    }
                    let log0 = logCounts.baseAddress!, log1 = log0 + logStride, log2 = log1 + logStride, log3 = log2 + logStride
                    let lin0 = linearCounts.baseAddress!, lin1 = lin0 + linearStride, lin2 = lin1 + linearStride, lin3 = lin2 + linearStride
                    var i = 0
                    while i + 4 <= n {
                        count(base[i], log0, lin0)
                        count(base[i + 1], log1, lin1)
                        count(base[i + 2], log2, lin2)
                        count(base[i + 3], log3, lin3)
                        i += 4
                    }
                    while i < n {
                        count(base[i], log0, lin0)
                        i += 1
                    }
                }
            }
        }
    }
    var counts = HistogramCounts(log: Array(repeating: 0, count: logBins), linear: Array(repeating: 0, count: linearBins), range: range)
    for copy in 0..<4 {
        for b in 0..<logBins { counts.log[b] += Int(logTable[copy * logStride + b]) }
        counts.zeros += Int(logTable[copy * logStride + logBins])
        for b in 0..<linearBins { counts.linear[b] += Int(linearTable[copy * linearStride + b]) }
    }
    return counts
}

/// The same counts for Double, element by element.
func histogramCounts(_ p: UnsafeBufferPointer<Double>, edges: [Double], linearBins: Int,
                     known: (range: Double, allFinite: Bool)?) -> HistogramCounts {
    let range = known?.range ?? scalarMoments(p).totals.2
    return scalarHistogram(p, edges: edges, linearBins: linearBins, range: range)
}

/// The histogram element by element, with `range` the largest finite |g|.
@inline(__always)
func scalarHistogram<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>, edges: [Double], linearBins: Int,
                                             range: Double) -> HistogramCounts {
    var counts = HistogramCounts(log: Array(repeating: 0, count: edges.count - 1),
                                 linear: Array(repeating: 0, count: linearBins), range: range)
    let logBins = edges.count - 1
    let scale = range > 0 ? Double(linearBins) / (2 * range) : 0
    for v in p {
        let x = Double(v)
        guard x.isFinite else { counts.nonfinite += 1; continue }
        if x == 0 {
            counts.zeros += 1
        } else {
            // edges[b] ≤ |x| < edges[b + 1] (edges are 10^(b − 12)): start from the decade
            // the binary exponent gives, then step at most once or twice.
            let a = Swift.abs(x)
            var b = Swift.min(Swift.max(Int((Double(a.exponent) * 0.30102999566398120).rounded(.down)) + 12, 0), logBins - 1)
            while b > 0 && a < edges[b] { b -= 1 }
            while b + 1 < logBins && a >= edges[b + 1] { b += 1 }
            counts.log[b] += 1
        }
        let bin = range > 0 ? Int(((x + range) * scale).rounded(.down)) : linearBins / 2
        counts.linear[Swift.min(Swift.max(bin, 0), linearBins - 1)] += 1
    }
    return counts
}
