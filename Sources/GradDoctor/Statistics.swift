import Foundation
import GradTensor

// The per-element loops of the monitor. Each runs on the tensor's elements as `Float` or
// `Double` (`withElements`), so that it is compiled for a concrete type: a loop over a generic
// `Scalar` called from another module's code is not specialized and runs about 100× slower,
// which turned a 1% monitor into a 300% one. The same holds for a generic local function
// passed as a function value (it runs unspecialized): call such helpers from closures. The Float paths of the loops that run on every
// parameter every step use eight-lane vectors, accumulated in Double per block.

/// Calls `float` or `double` with the elements of `t`, whichever its element type is.
@inline(__always)
func withElements<T: TensorScalar, R>(
    _ t: Tensor<T>, float: (UnsafeBufferPointer<Float>) -> R, double: (UnsafeBufferPointer<Double>) -> R
) -> R {
    t.withUnsafeBufferPointer { p in
        if T.self == Float.self { return float(unsafeBitCast(p, to: UnsafeBufferPointer<Float>.self)) }
        return double(unsafeBitCast(p, to: UnsafeBufferPointer<Double>.self))
    }
}

/// Mean, standard deviation (population), largest |x|, sum of squares and counts of a
/// tensor's finite elements, with Double totals, in one pass.
struct ValueMoments {
    var mean = 0.0, std = 0.0, maxAbs = 0.0, sumOfSquares = 0.0
    var finiteCount = 0, zeroCount = 0

    init<T: TensorScalar>(_ t: Tensor<T>) {
        var sum = 0.0
        if T.self == Float.self {
            // One vector pass; a NaN makes Σx NaN and an infinity makes max |x| infinite, and
            // only then (or when Σx overflows) the elements are walked again, skipping them.
            (sum, sumOfSquares, maxAbs, zeroCount) = withElements(t, float: finiteMomentsFloat, double: { scalarMoments($0).totals })
            finiteCount = t.count
        }
        if T.self != Float.self || !sum.isFinite || !maxAbs.isFinite {
            let m = withElements(t, float: { scalarMoments($0) }, double: { scalarMoments($0) })
            (sum, sumOfSquares, maxAbs, zeroCount) = m.totals
            finiteCount = m.finite
        }
        guard finiteCount > 0 else { return }
        mean = sum / Double(finiteCount)
        std = Swift.max(0, sumOfSquares / Double(finiteCount) - mean * mean).squareRoot()
    }
}

/// Σx, Σx², max |x| and the number of zeros of all-finite Floats: eight lanes at a time,
/// summed in Float over blocks of 1024 elements and in Double across blocks (relative error
/// about 1e-7). A block whose squares overflow Float (gradients of exploding nets) is summed
/// again in Double; an overflowing Σx comes back infinite and the caller redoes it in Double.
func finiteMomentsFloat(_ p: UnsafeBufferPointer<Float>) -> (Double, Double, Double, Int) {
    var sum = 0.0, squares = 0.0, zeros = 0
    var maxAbs = SIMD8<Float>()
    let n = p.count
    guard let base = p.baseAddress else { return (0, 0, 0, 0) }
    var i = 0
    while i + 8 <= n {
        let start = i
        let end = Swift.min(n - (n - i) % 8, i + 1024)
        var s = SIMD8<Float>(), q = SIMD8<Float>(), z = SIMD8<Int32>()
        while i < end {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
            s += v
            q += v * v
            let a = unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
            maxAbs.replace(with: a, where: a .> maxAbs)
            z.replace(with: z &+ 1, where: v .== 0)
            i += 8
        }
        sum += Double(s.sum())
        let blockSquares = Double(q.sum())
        if blockSquares.isFinite {
            squares += blockSquares
        } else {
            for j in start..<end { let x = Double(base[j]); squares += x * x }
        }
        zeros += Int(z.wrappedSum())
    }
    var largest = Double(maxAbs.max())
    while i < n {
        let x = Double(base[i])
        sum += x; squares += x * x; largest = Swift.max(largest, Swift.abs(x))
        if x == 0 { zeros += 1 }
        i += 1
    }
    return (sum, squares, largest, zeros)
}

/// The same totals, element by element, skipping non-finite values.
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
func nonfiniteCount<T: TensorScalar>(_ t: Tensor<T>) -> Int {
    if t.isFinite { return 0 }
    return withElements(t, float: { p in p.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } },
                        double: { p in p.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } })
}

/// `‖t‖₂`, accumulated in Double.
func l2Norm<T: TensorScalar>(_ t: Tensor<T>) -> Double {
    t.withUnsafeBufferPointer { T.kernelSumOfSquares($0.baseAddress!, $0.count) }.squareRoot()
}

/// Fraction of elements `y` (outputs of a sigmoid or tanh) whose derivative, computed from
/// `y`, is below `threshold` times its maximum: `y(1 − y) < threshold/4` for sigmoid,
/// `1 − y² < threshold` for tanh.
func saturatedFraction<T: TensorScalar>(_ t: Tensor<T>, sigmoid: Bool, threshold: Double) -> Double {
    guard t.count > 0 else { return 0 }
    @inline(__always) func count<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>) -> Int {
        let limit = S(sigmoid ? 0.25 * threshold : threshold)
        var n = 0
        if sigmoid { for y in p where y * (1 - y) < limit { n += 1 } } else { for y in p where 1 - y * y < limit { n += 1 } }
        return n
    }
    return Double(withElements(t, float: { count($0) }, double: { count($0) })) / Double(t.count)
}

/// Fraction of units (the last axis) that are 0 in every row.
func deadUnitFraction<T: TensorScalar>(_ t: Tensor<T>) -> Double {
    guard let units = t.shape.last, units > 0, t.count > 0 else { return 0 }
    let rows = t.count / units
    @inline(__always) func count<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>) -> Int {
        var dead = 0
        for u in 0..<units {
            var allZero = true
            for r in 0..<rows where p[r * units + u] != 0 { allZero = false; break }
            if allZero { dead += 1 }
        }
        return dead
    }
    return Double(withElements(t, float: { count($0) }, double: { count($0) })) / Double(units)
}

/// Counts of a gradient in `GradientHistogram`'s bins: zeros, log-magnitude bins (edges
/// `logBinEdges`, tails folded into the end bins), non-finite, and `linearBins` signed bins
/// over `[−m, m]` with `m` the largest finite |g| (returned).
func histogramCounts<T: TensorScalar>(
    _ g: Tensor<T>, logBinEdges edges: [Double], linearBins: Int
) -> (zeros: Int, log: [Int], nonfinite: Int, linear: [Int], range: Double) {
    @inline(__always) func counts<S: BinaryFloatingPoint>(_ p: UnsafeBufferPointer<S>) -> (Int, [Int], Int, [Int], Double) {
        var logCounts = [Int](repeating: 0, count: edges.count - 1)
        var linearCounts = [Int](repeating: 0, count: linearBins)
        var zeros = 0, nonfinite = 0, range = 0.0
        for v in p where v.isFinite { range = Swift.max(range, Swift.abs(Double(v))) }
        let scale = range > 0 ? Double(linearBins) / (2 * range) : 0
        for v in p {
            let x = Double(v)
            guard x.isFinite else { nonfinite += 1; continue }
            if x == 0 {
                zeros += 1
            } else {
                // edges[b] ≤ |x| < edges[b + 1] (edges are 10^(b − 12)): start from the decade
                // the binary exponent gives, then step at most once or twice.
                let a = Swift.abs(x)
                var b = Swift.min(Swift.max(Int((Double(a.exponent) * 0.30102999566398120).rounded(.down)) + 12, 0), logCounts.count - 1)
                while b > 0 && a < edges[b] { b -= 1 }
                while b + 1 < logCounts.count && a >= edges[b + 1] { b += 1 }
                logCounts[b] += 1
            }
            let bin = range > 0 ? Int(((x + range) * scale).rounded(.down)) : linearBins / 2
            linearCounts[Swift.min(Swift.max(bin, 0), linearBins - 1)] += 1
        }
        return (zeros, logCounts, nonfinite, linearCounts, range)
    }
    let r = withElements(g, float: { counts($0) }, double: { counts($0) })
    return (r.0, r.1, r.2, r.3, r.4)
}
