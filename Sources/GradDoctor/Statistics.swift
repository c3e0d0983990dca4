import Foundation
import GradTensor

// The monitor's statistics of whole tensors. Each hands the tensor's elements as `Float` or
// `Double` (`withElements`) to a loop of `StatisticsKernel.swift` that is compiled for that
// concrete type: a loop over a generic `Scalar` called from another module's code is not
// specialized and runs about 100× slower, which turned a 1% monitor into a 300% one. The same
// holds for a generic function nested in a generic one (it stays generic over the outer
// parameter): the kernels are top-level functions of concrete buffers.

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
/// tensor's finite elements, with Double totals, in one pass (two when it holds a NaN or an
/// infinity).
struct ValueMoments {
    var mean = 0.0, std = 0.0, maxAbs = 0.0, sumOfSquares = 0.0
    var finiteCount = 0, zeroCount = 0

    init<T: TensorScalar>(_ t: Tensor<T>) {
        self.init(gradientTotals(t))
    }

    /// The moments of a gradient from its totals (`gradientTotals`).
    init(_ totals: GradientTotals) {
        (sumOfSquares, maxAbs, finiteCount, zeroCount) = (totals.squares, totals.maxAbs, totals.finite, totals.zeros)
        guard finiteCount > 0 else { return }
        mean = totals.sum / Double(finiteCount)
        std = Swift.max(0, sumOfSquares / Double(finiteCount) - mean * mean).squareRoot()
    }
}

/// Mean and standard deviation (population) of a layer output's finite elements, and how many
/// elements are not finite: one pass (two when it holds a NaN or an infinity).
func activationMoments<T: TensorScalar>(_ t: Tensor<T>) -> (mean: Double, std: Double, nonfinite: Int) {
    let totals = withElements(t, float: { activationTotals($0) }, double: { activationTotals($0) })
    guard totals.finite > 0 else { return (0, 0, t.count - totals.finite) }
    let mean = totals.sum / Double(totals.finite)
    return (mean, Swift.max(0, totals.squares / Double(totals.finite) - mean * mean).squareRoot(), t.count - totals.finite)
}

/// Statistics of a parameter's gradient `g`.
func gradientTotals<T: TensorScalar>(_ g: Tensor<T>) -> GradientTotals {
    withElements(g, float: { gradientTotals($0) }, double: { gradientTotals($0) })
}

/// Number of NaN or infinite elements.
func nonfiniteCount<T: TensorScalar>(_ t: Tensor<T>) -> Int {
    if t.isFinite { return 0 }
    return withElements(t, float: { nonfiniteCount($0) }, double: { nonfiniteCount($0) })
}

/// `‖g‖₂` of a layer's output gradient: for Float, summed as the gradient statistics are
/// (`squaredNorm`: Float blocks of 1024, then Double); for Double, in Double.
func gradientNorm<T: TensorScalar>(_ g: Tensor<T>) -> Double {
    withElements(g, float: { squaredNorm($0) }, double: { p in p.baseAddress.map { Double.kernelSumOfSquares($0, p.count) } ?? 0 })
        .squareRoot()
}

/// Fraction of elements `y` (outputs of a sigmoid or tanh) whose derivative, computed from
/// `y`, is below `threshold` times its maximum: `y(1 − y) < threshold/4` for sigmoid,
/// `1 − y² < threshold` for tanh.
func saturatedFraction<T: TensorScalar>(_ t: Tensor<T>, sigmoid: Bool, threshold: Double) -> Double {
    guard t.count > 0 else { return 0 }
    let count = withElements(t, float: { saturatedCount($0, sigmoid: sigmoid, threshold: threshold) },
                             double: { saturatedCount($0, sigmoid: sigmoid, threshold: threshold) })
    return Double(count) / Double(t.count)
}

/// Fraction of units (the last axis) that are 0 in every row.
func deadUnitFraction<T: TensorScalar>(_ t: Tensor<T>) -> Double {
    guard let units = t.shape.last, units > 0, t.count > 0 else { return 0 }
    let dead = withElements(t, float: { deadUnitCount($0, units: units) }, double: { deadUnitCountByColumn($0, units: units) })
    return Double(dead) / Double(units)
}

/// Counts of a gradient in `GradientHistogram`'s bins (see the kernel `histogramCounts`):
/// zeros, log-magnitude bins, non-finite, and signed linear bins over `[−m, m]` with `m` the
/// largest finite |g|.
///
/// - Parameter known: the largest finite |g| and whether every element is finite, when the
///   statistics pass of this step already found them.
func histogramCounts<T: TensorScalar>(_ g: Tensor<T>, known: (range: Double, allFinite: Bool)? = nil) -> HistogramCounts {
    withElements(
        g,
        float: {
            histogramCounts($0, edges: GradientHistogram.logBinEdges, table: GradientHistogram.logBinFloatTable,
                            linearBins: GradientHistogram.linearBinCount, known: known)
        },
        double: {
            histogramCounts($0, edges: GradientHistogram.logBinEdges, linearBins: GradientHistogram.linearBinCount, known: known)
        })
}
