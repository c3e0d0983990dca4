import RealModule

/// The element type of a tensor: `Float` or `Double`.
///
/// Every loop over tensor elements is written once, generically, in `Kernels/`, and reached
/// through the static requirements below, which `Float` and `Double` implement by calling
/// those generic loops from a concrete context. This matters: a generic loop called from
/// generic code is not specialized across modules and runs about 100× slower.
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable, Codable,
    CustomStringConvertible, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The storage type name used in files (`F32`, `F64`, as in safetensors).
    static var dtypeName: String { get }

    /// `y[i] = op(x[i])` for `i < count`.
    static func kernelUnary(
        _ op: UnaryOp<Self>, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ count: Int)

    /// `dx[i] = dy[i] · op'(x[i])`, given the forward output `y`.
    static func kernelUnaryGradient(
        _ op: UnaryOp<Self>, x: UnsafePointer<Self>, y: UnsafePointer<Self>,
        dy: UnsafePointer<Self>, dx: UnsafeMutablePointer<Self>, _ count: Int)

    /// Elementwise binary op with NumPy broadcasting described by `layout`.
    static func kernelBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>,
        _ out: UnsafeMutablePointer<Self>, _ layout: BroadcastLayout)

    /// Reduces `x` viewed as `[outer, length, inner]` over the middle axis into `[outer, inner]`.
    static func kernelReduce(
        _ op: ReduceOp, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>,
        outer: Int, length: Int, inner: Int)

    /// Row-major `C = alpha · op(A) · op(B) + beta · C` with `op(A)` of shape `[m, k]`.
    static func kernelGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int, beta: Self,
        _ c: UnsafeMutablePointer<Self>, ldc: Int)

    /// `y[i] += alpha · x[i]`.
    static func kernelAxpy(
        _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ count: Int)

    /// Sum of `x[i]²`, accumulated in `Double`.
    static func kernelSumOfSquares(_ x: UnsafePointer<Self>, _ count: Int) -> Double

    /// Largest `|x[i]|`; NaN if any element is NaN.
    static func kernelMaxAbs(_ x: UnsafePointer<Self>, _ count: Int) -> Self

    /// Whether every element is finite.
    static func kernelAllFinite(_ x: UnsafePointer<Self>, _ count: Int) -> Bool
}

extension Float: TensorScalar {
    public static var dtypeName: String { "F32" }
    public static func kernelUnary(
        _ op: UnaryOp<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        if !vectorUnary(op, x, y, count) { unaryLoop(op, x, y, count) }
    }
    public static func kernelUnaryGradient(
        _ op: UnaryOp<Float>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        if !vectorUnaryGradient(op, x, y, dy, dx, count) { unaryGradientLoop(op, x: x, y: y, dy: dy, dx: dx, count) }
    }
    public static func kernelBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, _ layout: BroadcastLayout
    ) { binaryLoop(op, a, b, out, layout) }
    public static func kernelReduce(
        _ op: ReduceOp, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        outer: Int, length: Int, inner: Int
    ) { reduceLoop(op, x, out, outer: outer, length: length, inner: inner) }
    public static func kernelGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if let blas = BLAS.shared.sgemm, BLAS.worthCalling(m: m, n: n, k: k) {
            blas(BLAS.rowMajor, transposeA ? BLAS.trans : BLAS.noTrans,
                 transposeB ? BLAS.trans : BLAS.noTrans, Int32(m), Int32(n), Int32(k), alpha,
                 a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            gemmSwift(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
        }
    }
    public static func kernelAxpy(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) { axpyLoop(alpha, x, y, count) }
    public static func kernelSumOfSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        sumOfSquaresLoop(x, count)
    }
    public static func kernelMaxAbs(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        maxAbsLoop(x, count)
    }
    public static func kernelAllFinite(_ x: UnsafePointer<Float>, _ count: Int) -> Bool {
        allFiniteLoop(x, count)
    }
}

extension Double: TensorScalar {
    public static var dtypeName: String { "F64" }
    public static func kernelUnary(
        _ op: UnaryOp<Double>, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int
    ) { unaryLoop(op, x, y, count) }
    public static func kernelUnaryGradient(
        _ op: UnaryOp<Double>, x: UnsafePointer<Double>, y: UnsafePointer<Double>,
        dy: UnsafePointer<Double>, dx: UnsafeMutablePointer<Double>, _ count: Int
    ) { unaryGradientLoop(op, x: x, y: y, dy: dy, dx: dx, count) }
    public static func kernelBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
        _ out: UnsafeMutablePointer<Double>, _ layout: BroadcastLayout
    ) { binaryLoop(op, a, b, out, layout) }
    public static func kernelReduce(
        _ op: ReduceOp, _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>,
        outer: Int, length: Int, inner: Int
    ) { reduceLoop(op, x, out, outer: outer, length: length, inner: inner) }
    public static func kernelGemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int, beta: Double,
        _ c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if let blas = BLAS.shared.dgemm, BLAS.worthCalling(m: m, n: n, k: k) {
            blas(BLAS.rowMajor, transposeA ? BLAS.trans : BLAS.noTrans,
                 transposeB ? BLAS.trans : BLAS.noTrans, Int32(m), Int32(n), Int32(k), alpha,
                 a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            gemmSwift(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
        }
    }
    public static func kernelAxpy(
        _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int
    ) { axpyLoop(alpha, x, y, count) }
    public static func kernelSumOfSquares(_ x: UnsafePointer<Double>, _ count: Int) -> Double {
        sumOfSquaresLoop(x, count)
    }
    public static func kernelMaxAbs(_ x: UnsafePointer<Double>, _ count: Int) -> Double {
        maxAbsLoop(x, count)
    }
    public static func kernelAllFinite(_ x: UnsafePointer<Double>, _ count: Int) -> Bool {
        allFiniteLoop(x, count)
    }
}
