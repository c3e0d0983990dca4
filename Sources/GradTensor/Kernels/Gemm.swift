/// Row-major `C = alpha · op(A) · op(B) + beta · C` in Swift, for when no BLAS is loaded and
/// for products too small to be worth a BLAS call. `op(A)` is `[m, k]`, `op(B)` is `[k, n]`.
///
/// The inner loop runs along a row of `C` and a row of `op(B)`, contiguous in memory, so it
/// vectorizes; a transposed `B` is packed first so that holds.
func gemmSwift<T: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: T,
    _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int, beta: T,
    _ c: UnsafeMutablePointer<T>, ldc: Int
) {
    // Scale C by beta first (beta == 0 overwrites, so NaNs in C do not leak through).
    for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 {
            for j in 0..<n { row[j] = 0 }
        } else if beta != 1 {
            for j in 0..<n { row[j] *= beta }
        }
    }
    if k == 0 || alpha == 0 { return }
    // Pack op(B) as a contiguous [k, n] block when it is transposed or strided.
    var packed: UnsafeMutablePointer<T>? = nil
    var bRows = b
    var bStride = ldb
    if transposeB {
        let p = UnsafeMutablePointer<T>.allocate(capacity: k * n)
        for j in 0..<n {
            let src = b + j * ldb
            for l in 0..<k { p[l * n + j] = src[l] }
        }
        packed = p
        bRows = UnsafePointer(p)
        bStride = n
    }
    defer { packed?.deallocate() }
    for i in 0..<m {
        let cRow = c + i * ldc
        for l in 0..<k {
            let av = transposeA ? a[l * lda + i] : a[i * lda + l]
            let s = alpha * av
            let bRow = bRows + l * bStride
            for j in 0..<n { cRow[j] += s * bRow[j] }
        }
    }
}
