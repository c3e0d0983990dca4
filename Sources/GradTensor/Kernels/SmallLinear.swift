import GradKernels

// The products of a small linear layer (`Float`, at most 16 inputs and 16 outputs), shared by
// `linear` and by the fused chain (`linearChain`) so that both give the same bits:
//
// - `x·Wᵀ` and `dz·W` run on the Swift gemm rather than BLAS (at these widths OpenBLAS's call
//   overhead costs more than the product); its sums run over the depth in increasing order,
//   as the chain's feature-major kernel (`gl_affine_fm`) does;
// - `dW = dzᵀ·x` and `db = Σ_rows dz` run on `gl_weight_gradient_fm`, eight partial sums over
//   the rows: `linear` transposes its row-major operands into a scratch buffer for it.
//
// Wider layers and `Double` use `kernelGemm` (BLAS when it pays) and `sum(axis: 0)`, in both.

/// The widths and element type that take the small-layer kernels.
enum SmallLinear {
    /// The widest input or output of a small layer.
    static let maxWidth = 16

    /// Whether a linear map `inFeatures → outFeatures` of `T` runs on the small-layer kernels
    /// (never when `BLAS.routing` is `.blasOnly`, which asks for BLAS everywhere).
    @inline(__always)
    static func applies<T: TensorScalar>(_ type: T.Type, inFeatures: Int, outFeatures: Int) -> Bool {
        T.self == Float.self && inFeatures <= maxWidth && outFeatures <= maxWidth && BLAS.routing != .blasOnly
    }

    /// The row stride of a feature-major buffer of `rows` rows: a multiple of `GL_LANES`.
    @inline(__always)
    static func paddedRows(_ rows: Int) -> Int { (rows + 7) & ~7 }
}

/// `c = x·Wᵀ + beta·c` for `x` `[rows, in]` and `W` `[out, in]` (`beta` 0 or 1: 1 when `c`
/// already holds the bias rows); `c` is `[rows, out]`.
@inline(__always)
func linearForwardProduct<T: TensorScalar>(
    rows: Int, inFeatures: Int, outFeatures: Int, _ x: UnsafePointer<T>, _ weight: UnsafePointer<T>,
    beta: T, _ c: UnsafeMutablePointer<T>
) {
    if SmallLinear.applies(T.self, inFeatures: inFeatures, outFeatures: outFeatures) {
        gemmSwift(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                  x, lda: inFeatures, weight, ldb: inFeatures, beta: beta, c, ldc: outFeatures)
    } else {
        T.kernelGemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                     x, lda: inFeatures, weight, ldb: inFeatures, beta: beta, c, ldc: outFeatures)
    }
}

/// `dx = dz·W` for `dz` `[rows, out]` and `W` `[out, in]`: `[rows, in]`.
func linearInputGradient<T: TensorScalar>(_ dz: Tensor<T>, _ weight: Tensor<T>) -> Tensor<T> {
    let rows = dz.shape[0], outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    guard SmallLinear.applies(T.self, inFeatures: inFeatures, outFeatures: outFeatures) else { return gemm(dz, weight) }
    let dx = Tensor<T>(uninitializedShape: [rows, inFeatures])
    gemmSwift(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
              dz.storage.pointer, lda: outFeatures, weight.storage.pointer, ldb: inFeatures, beta: 0,
              dx.storage.pointer, ldc: inFeatures)
    return dx
}

/// `dW = dzᵀ·x` (`[out, in]`) and `db = Σ_rows dz` (`[out]`), each only when asked for, for
/// `dz` `[rows, out]` and `x` `[rows, in]`.
func linearParameterGradients<T: TensorScalar>(
    _ dz: Tensor<T>, _ x: Tensor<T>, weight needsWeight: Bool, bias needsBias: Bool
) -> (weight: Tensor<T>?, bias: Tensor<T>?) {
    if !needsWeight && !needsBias { return (nil, nil) }
    let rows = dz.shape[0], outFeatures = dz.shape[1], inFeatures = x.shape[1]
    guard SmallLinear.applies(T.self, inFeatures: inFeatures, outFeatures: outFeatures) else {
        return (needsWeight ? gemm(dz, x, transposeA: true) : nil, needsBias ? dz.sum(axis: 0) : nil)
    }
    let dw = Tensor<T>(uninitializedShape: [outFeatures, inFeatures])
    let db = needsBias ? Tensor<T>(uninitializedShape: [outFeatures]) : nil
    let ld = SmallLinear.paddedRows(rows)
    let scratch = gemmScratch(bytes: (outFeatures + inFeatures) * ld * MemoryLayout<Float>.stride)
        .assumingMemoryBound(to: Float.self)
    let dzT = scratch, xT = scratch + outFeatures * ld
    let dzp = UnsafeRawPointer(dz.storage.pointer).assumingMemoryBound(to: Float.self)
    let xp = UnsafeRawPointer(x.storage.pointer).assumingMemoryBound(to: Float.self)
    gl_transpose(dzp, rows, outFeatures, outFeatures, dzT, ld)
    gl_transpose(xp, rows, inFeatures, inFeatures, xT, ld)
    gl_weight_gradient_fm(dzT, xT, UnsafeMutableRawPointer(dw.storage.pointer).assumingMemoryBound(to: Float.self),
                          db.map { UnsafeMutableRawPointer($0.storage.pointer).assumingMemoryBound(to: Float.self) },
                          outFeatures, inFeatures, ld, rows)
    return (needsWeight ? dw : nil, db)
}
