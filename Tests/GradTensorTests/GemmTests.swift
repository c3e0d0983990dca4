import Foundation
import Testing
import GradTensor
import GradTestSupport

/// One product `C = alpha · op(A) · op(B) + beta · C` with its operands stored row-major, each
/// with a row stride a little larger than needed (so strides are honoured, not assumed).
struct GemmCase<T: TensorScalar>: CustomStringConvertible {
    let transposeA: Bool, transposeB: Bool
    let m: Int, n: Int, k: Int
    let alpha: T, beta: T
    let lda: Int, ldb: Int, ldc: Int
    var a: [T], b: [T], c: [T]

    /// Random operands in [-1, 1) from a fixed seed; `pad` extra elements per stored row.
    init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: T, beta: T,
         pad: Int = 0, seed: UInt64 = 1) {
        self.transposeA = transposeA; self.transposeB = transposeB
        self.m = m; self.n = n; self.k = k; self.alpha = alpha; self.beta = beta
        let aRows = transposeA ? k : m, aColumns = transposeA ? m : k
        let bRows = transposeB ? n : k, bColumns = transposeB ? k : n
        lda = max(1, aColumns + pad); ldb = max(1, bColumns + pad); ldc = max(1, n + pad)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(m * 1_000_003 + n * 1009 + k)
        func next() -> T {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return T(Double(state >> 11) / Double(1 << 53) * 2 - 1)
        }
        a = (0..<max(1, aRows * lda)).map { _ in next() }
        b = (0..<max(1, bRows * ldb)).map { _ in next() }
        c = (0..<max(1, m * ldc)).map { _ in next() }
    }

    func elementA(_ i: Int, _ l: Int) -> T { transposeA ? a[l * lda + i] : a[i * lda + l] }
    func elementB(_ l: Int, _ j: Int) -> T { transposeB ? b[j * ldb + l] : b[l * ldb + j] }

    /// The textbook triple loop with BLAS's rules (`beta == 0` ignores C, `alpha == 0` or
    /// `k == 0` leaves `beta · C`), in Double, and a bound on its rounding error per element:
    /// `(k + 2) · ε · (|alpha| · Σ |a||b| + |beta · c|)` with ε of `T`.
    func reference() -> (values: [Double], bounds: [Double]) {
        var values = [Double](repeating: 0, count: m * n), bounds = values
        let eps = Double(T.ulpOfOne)
        // op(A) and op(B) as plain [m, k] and [k, n] Double arrays (keeps debug builds quick).
        var opA = [Double](repeating: 0, count: m * k), opB = [Double](repeating: 0, count: k * n)
        for i in 0..<m { for l in 0..<k { opA[i * k + l] = Double(elementA(i, l)) } }
        for l in 0..<k { for j in 0..<n { opB[l * n + j] = Double(elementB(l, j)) } }
        for i in 0..<m {
            for j in 0..<n {
                let old = Double(c[i * ldc + j])
                var sum = 0.0, magnitude = 0.0
                if k > 0 && alpha != 0 {
                    opA.withUnsafeBufferPointer { pa in
                        opB.withUnsafeBufferPointer { pb in
                            for l in 0..<k {
                                let p = pa[i * k + l] * pb[l * n + j]
                                sum += p
                                magnitude += Swift.abs(p)
                            }
                        }
                    }
                }
                let scaled = beta == 0 ? 0 : Double(beta) * old
                values[i * n + j] = Double(alpha) * sum + scaled
                bounds[i * n + j] = Double(k + 2) * eps * (Swift.abs(Double(alpha)) * magnitude + Swift.abs(scaled)) + Double(T.leastNormalMagnitude)
            }
        }
        return (values, bounds)
    }

    /// Runs `gemmSwift` (the pure-Swift kernel, whatever BLAS is loaded) on a copy of C.
    func runSwift(threads: Int? = nil) -> [T] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    gemmSwift(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                              pa.baseAddress!, lda: lda, pb.baseAddress!, ldb: ldb, beta: beta,
                              pc.baseAddress!, ldc: ldc, threads: threads)
                }
            }
        }
        return out
    }

    /// Runs the public `T.kernelGemm` (BLAS or Swift, as routed) on a copy of C.
    func runKernel() -> [T] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    T.kernelGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                 pa.baseAddress!, lda: lda, pb.baseAddress!, ldb: ldb, beta: beta,
                                 pc.baseAddress!, ldc: ldc)
                }
            }
        }
        return out
    }

    /// The first element of `out` outside the reference's error bound, described, or nil.
    /// Padding columns of C (past `n`) must be untouched.
    func mismatch(_ out: [T]) -> String? {
        let (values, bounds) = reference()
        for i in 0..<m {
            for j in 0..<ldc {
                let got = out[i * ldc + j]
                if j >= n {
                    if got != c[i * ldc + j] && !(got.isNaN && c[i * ldc + j].isNaN) {
                        return "\(self): padding C[\(i), \(j)] changed from \(c[i * ldc + j]) to \(got)"
                    }
                    continue
                }
                let want = values[i * n + j]
                if !(Swift.abs(Double(got) - want) <= bounds[i * n + j]) {
                    return "\(self): C[\(i), \(j)] = \(got), expected \(want) (bound \(bounds[i * n + j]))"
                }
            }
        }
        return nil
    }

    var description: String {
        "\(T.self) m \(m) n \(n) k \(k) \(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B") alpha \(alpha) beta \(beta) lda \(lda) ldb \(ldb) ldc \(ldc)"
    }
}

let gemmTransposes: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]
let gemmSmallSizes = [0, 1, 2, 3, 7, 16, 17, 33]

@Suite struct GemmTests {
    /// Every transpose combination and every m, n, k in {0, 1, 2, 3, 7, 16, 17, 33}: the narrow
    /// path (n ≤ 16), the blocked path and their edges, with alpha and beta away from 0 and 1.
    @Test(arguments: [(1.5, -0.5), (1.0, 0.0), (-2.0, 1.0)])
    func swiftKernelMatchesTripleLoopOnSmallShapes(alpha: Double, beta: Double) {
        var failures: [String] = []
        for (ta, tb) in gemmTransposes {
            for m in gemmSmallSizes {
                for n in gemmSmallSizes {
                    for k in gemmSmallSizes {
                        let g = GemmCase<Double>(transposeA: ta, transposeB: tb, m: m, n: n, k: k,
                                                 alpha: alpha, beta: beta, pad: (m + n + k) % 3)
                        if let message = g.mismatch(g.runSwift()) { failures.append(message) }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(failures.first ?? "")")
    }

    /// Larger sizes (100, 130, 300, 520) mixed with small ones, crossing the blocking sizes
    /// (KC 192/256, MC 64/96) and the narrow path's width limit, in Double and Float.
    @Test(arguments: [(100, 130, 3), (35, 40, 300), (7, 130, 300), (70, 17, 300), (17, 100, 1),
                      (1, 130, 300), (130, 1, 33), (300, 7, 50), (20, 16, 1030), (100, 33, 33)])
    func swiftKernelMatchesTripleLoopOnLargerShapes(m: Int, n: Int, k: Int) {
        for (ta, tb) in gemmTransposes {
            let d = GemmCase<Double>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.75, beta: 1.25, pad: 1)
            #expect(d.mismatch(d.runSwift()) == nil, "\(d.mismatch(d.runSwift()) ?? "")")
            let f = GemmCase<Float>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: -1.5, beta: 0, pad: 2)
            #expect(f.mismatch(f.runSwift()) == nil, "\(f.mismatch(f.runSwift()) ?? "")")
        }
    }

    /// The shapes of a small MLP's training step (batch 100, width 10): forward `x · Wᵀ` with
    /// the bias already in C (beta 1), and the pullbacks `dy · W` and `dyᵀ · x`.
    @Test(arguments: [
        (false, true, 100, 10, 10, 1.0), (false, true, 100, 10, 1, 1.0), (false, true, 100, 1, 10, 1.0),
        (false, false, 100, 10, 10, 0.0), (false, false, 100, 10, 1, 0.0),
        (true, false, 10, 10, 100, 0.0), (true, false, 10, 1, 100, 0.0), (true, false, 1, 10, 100, 0.0),
    ])
    func mlpShapes(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, beta: Double) {
        for pad in [0, 3] {
            let d = GemmCase<Double>(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                     alpha: 1, beta: beta, pad: pad)
            #expect(d.mismatch(d.runSwift()) == nil, "\(d.mismatch(d.runSwift()) ?? "")")
            let f = GemmCase<Float>(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                    alpha: 1, beta: Float(beta), pad: pad)
            #expect(f.mismatch(f.runSwift()) == nil, "\(f.mismatch(f.runSwift()) ?? "")")
            #expect(f.mismatch(f.runKernel()) == nil, "\(f.mismatch(f.runKernel()) ?? "")")
        }
    }

    /// Splitting over threads (along N, and along M when M is larger) gives the same result
    /// as one thread, and crosses NC (1024 Float columns).
    @Test(arguments: [(40, 1100, 8), (300, 40, 20), (31, 33, 37)])
    func threadedMatchesSingleThread(m: Int, n: Int, k: Int) {
        for (ta, tb) in gemmTransposes {
            let f = GemmCase<Float>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, beta: 0.5, pad: 1)
            let one = f.runSwift(threads: 1)
            #expect(f.mismatch(one) == nil, "\(f.mismatch(one) ?? "")")
            for threads in [2, 3] {
                let many = f.runSwift(threads: threads)
                #expect(many == one, "\(f) with \(threads) threads differs from one thread")
            }
        }
    }

    /// `beta == 0` overwrites C: NaNs in C do not survive, on every path.
    @Test(arguments: [(100, 10, 10), (3, 16, 5), (40, 40, 40), (7, 33, 300)])
    func betaZeroOverwritesNaN(m: Int, n: Int, k: Int) {
        for (ta, tb) in gemmTransposes {
            var g = GemmCase<Double>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 2, beta: 0)
            g.c = [Double](repeating: .nan, count: g.c.count)
            let out = g.runSwift()
            #expect(out.allSatisfy { $0.isFinite }, "\(g): NaN in C leaked through beta = 0")
            #expect(g.mismatch(out) == nil, "\(g.mismatch(out) ?? "")")
            var f = GemmCase<Float>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 2, beta: 0)
            f.c = [Float](repeating: .nan, count: f.c.count)
            #expect(f.runKernel().allSatisfy { $0.isFinite }, "\(f): NaN in C leaked through beta = 0 (kernelGemm)")
        }
    }

    /// With `alpha == 0` or `k == 0`, C becomes `beta · C` (zeros for beta 0, even over NaN).
    @Test func alphaZeroAndEmptyDepthScaleC() {
        for (alpha, k) in [(0.0, 5), (1.0, 0)] {
            var g = GemmCase<Double>(transposeA: false, transposeB: false, m: 4, n: 20, k: k, alpha: alpha, beta: -3)
            let scaled = g.runSwift()
            #expect(scaled == g.c.map { -3 * $0 })
            g = GemmCase<Double>(transposeA: false, transposeB: false, m: 4, n: 20, k: k, alpha: alpha, beta: 0)
            g.c = [Double](repeating: .nan, count: g.c.count)
            #expect(g.runSwift().allSatisfy { $0 == 0 })
        }
    }

    /// A NaN in A reaches exactly its row of C; an infinity times a zero gives NaN (no
    /// skipping of zero elements, as in BLAS).
    @Test(arguments: [(100, 10, 10), (10, 10, 100), (9, 3, 4), (20, 24, 300)])
    func nanAndInfinityPropagate(m: Int, n: Int, k: Int) {
        for (ta, tb) in gemmTransposes {
            var g = GemmCase<Double>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, beta: 1)
            let row = m / 2, depth = k - 1
            g.a[ta ? depth * g.lda + row : row * g.lda + depth] = .nan
            var out = g.runSwift()
            for i in 0..<m {
                for j in 0..<n {
                    #expect(out[i * g.ldc + j].isNaN == (i == row), "\(g): C[\(i), \(j)] = \(out[i * g.ldc + j])")
                }
            }
            // A zero in A against an infinity in B: 0 · ∞ = NaN in that column of the row.
            g = GemmCase<Double>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1, beta: 0)
            let column = n - 1
            g.a[ta ? depth * g.lda + row : row * g.lda + depth] = 0
            for i in 0..<m where i != row { g.a[ta ? depth * g.lda + i : i * g.lda + depth] = 1 }
            g.b[tb ? column * g.ldb + depth : depth * g.ldb + column] = .infinity
            out = g.runSwift()
            #expect(out[row * g.ldc + column].isNaN, "\(g): 0 · ∞ did not give NaN")
            let other = row == 0 ? 1 : 0
            #expect(out[other * g.ldc + column] == .infinity, "\(g): 1 · ∞ gave \(out[other * g.ldc + column])")
        }
    }

    /// OpenBLAS (when loaded) and the Swift kernel agree in Float, for every transpose, on
    /// sizes on both sides of `BLAS.worthCalling`.
    @Test func blasAndSwiftAgreeInFloat() throws {
        guard let sgemm = BLAS.shared.sgemm else { return }
        for (ta, tb) in gemmTransposes {
            for (m, n, k) in [(100, 10, 10), (40, 40, 40), (130, 100, 9), (33, 37, 300), (200, 7, 50)] {
                let f = GemmCase<Float>(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, beta: -1, pad: 1)
                var blas = f.c
                f.a.withUnsafeBufferPointer { pa in
                    f.b.withUnsafeBufferPointer { pb in
                        blas.withUnsafeMutableBufferPointer { pc in
                            sgemm(BLAS.rowMajor, ta ? BLAS.trans : BLAS.noTrans, tb ? BLAS.trans : BLAS.noTrans,
                                  Int32(m), Int32(n), Int32(k), f.alpha, pa.baseAddress!, Int32(f.lda),
                                  pb.baseAddress!, Int32(f.ldb), f.beta, pc.baseAddress!, Int32(f.ldc))
                        }
                    }
                }
                let swift = f.runSwift()
                let (_, bounds) = f.reference()
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        let difference = Swift.abs(Double(swift[i * f.ldc + j]) - Double(blas[i * f.ldc + j]))
                        worst = max(worst, difference / (2 * bounds[i * n + j]))
                    }
                }
                #expect(worst <= 1, "\(f): Swift and BLAS differ by \(worst)× the rounding bound")
                #expect(f.mismatch(f.runKernel()) == nil, "\(f.mismatch(f.runKernel()) ?? "")")
            }
        }
    }

    /// Automatic routing keeps the MLP's small products in Swift and sends large ones to BLAS.
    @Test func routing() {
        #expect(!BLAS.worthCallingAutomatically(m: 100, n: 10, k: 10))
        #expect(!BLAS.worthCallingAutomatically(m: 10, n: 10, k: 100))
        #expect(!BLAS.worthCallingAutomatically(m: 16, n: 16, k: 16))
        #expect(BLAS.worthCallingAutomatically(m: 64, n: 64, k: 64))
        #expect(BLAS.worthCallingAutomatically(m: 1024, n: 1024, k: 1024))
        #expect(BLAS.worthCallingAutomatically(m: 4, n: 1024, k: 1024))
        #expect(!BLAS.worthCallingAutomatically(m: 10_000, n: 10, k: 10))
        #expect(BLAS.worthCallingAutomatically(m: 1000, n: 16, k: 64))
    }

    /// Loading BLAS shortens OpenBLAS's idle spin to 2^20 cycles unless the user chose a value.
    /// (`BLAS.load(environment: nil)`, not `BLAS.shared`, so that it also runs under
    /// `GRADLAB_BLAS=none`.)
    @Test func openBLASSpinIsShortenedUnlessTheUserSetIt() {
        let before = getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) }
        defer {
            if let before { setenv("OPENBLAS_THREAD_TIMEOUT", before, 1) } else { unsetenv("OPENBLAS_THREAD_TIMEOUT") }
        }
        unsetenv("OPENBLAS_THREAD_TIMEOUT")
        _ = BLAS.load(environment: nil)
        #expect(getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) } == "20")
        setenv("OPENBLAS_THREAD_TIMEOUT", "7", 1)
        _ = BLAS.load(environment: nil)
        #expect(getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) } == "7")
    }
}
