#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

// Row-major `C = alpha · op(A) · op(B) + beta · C` in pure Swift, in two paths:
//
// - narrow (`n` at most four 16-byte vectors: 16 Floats or 8 Doubles; `k ≤ 1024`): op(B) is
//   packed once, zero-padded, into a thread-local scratch buffer; each row of C is held in one
//   to four vector accumulators fed by broadcasts of A, two to four rows at a time. No heap
//   allocation after the first call on a thread. Every product of a small MLP has this shape
//   (`[batch, in] · [out, in]ᵀ` forward, `dy · W` and `dyᵀ · x` backward, widths ≤ 16).
// - blocked (the rest): the GotoBLAS/BLIS scheme. Blocks of op(B) (`KC × NC`) and op(A)
//   (`MC × KC`, each element broadcast to a 16-byte vector) are packed into contiguous,
//   zero-padded micro-panels; a register-blocked micro-kernel computes `4 × NR` tiles of C
//   (NR = 8 Floats or 4 Doubles, in eight SSE registers) from them with loads, multiplies and
//   adds only. Large products are split over threads along N (or M).
//
// Both are written for the baseline x86-64 target (SSE2, 16 vector registers, no FMA), which
// is what SwiftPM builds unless told otherwise, and are portable to arm64 (NEON, with FMA).
//
// Semantics follow BLAS: `beta == 0` overwrites C (NaN and garbage in C do not leak through);
// `alpha == 0` or `k == 0` only scales C by beta; otherwise every product is computed (no
// skipping of zeros), so a NaN or infinity in A or B reaches C.

// MARK: - Tuning

/// Blocking parameters of the pure-Swift gemm, in elements.
@usableFromInline
struct GemmBlocking: Sendable {
    /// Depth of a packed panel (rows of op(B), columns of op(A)).
    let kc: Int
    /// Rows of op(A) packed at a time (a multiple of the micro-kernel's MR).
    let mc: Int
    /// Columns of op(B) packed at a time (a multiple of the micro-kernel's NR).
    let nc: Int

    /// Sizes for an element of `size` bytes: a KC×NR micro-panel of B stays in L1 (8 KiB), the
    /// MC×KC block of A, broadcast, in L2 (384 KiB of Zen 1's 512), the KC×NC block of B in the
    /// shared L3 (1 MiB). On Zen 1 the kernel, not the memory, limits: KC 128–384 and MC
    /// 48–144 all ran within 3% of each other at 1024².
    static func forElement(size: Int) -> GemmBlocking {
        size == 4 ? GemmBlocking(kc: 256, mc: 96, nc: 1024) : GemmBlocking(kc: 192, mc: 64, nc: 768)
    }
}

/// Products with at least this many multiply-adds use several threads.
let gemmParallelThreshold = 1 << 21

/// Number of threads the pure-Swift gemm may use for large products (default: the online
/// processors; `GRADLAB_THREADS` overrides it; `BLAS.setThreadCount` sets it).
nonisolated(unsafe) var gemmSwiftThreadCount: Int = {
    if let value = getenv("GRADLAB_THREADS"), let count = Int(String(cString: value)), count > 0 { return count }
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}()

// MARK: - Entry point

/// Row-major `C = alpha · op(A) · op(B) + beta · C` in Swift, for when no BLAS is loaded and
/// for products too small to be worth a BLAS call. `op(A)` is `[m, k]`, `op(B)` is `[k, n]`,
/// `C` is `[m, n]`; `lda`, `ldb`, `ldc` are the row strides of the arrays as stored.
///
/// As in BLAS, `beta == 0` overwrites `C` without reading it, and `alpha == 0` or `k == 0`
/// leaves `beta · C`; otherwise NaNs and infinities in A or B propagate.
///
/// Products of at least `gemmParallelThreshold` multiply-adds that take the blocked path are
/// split over `gemmSwiftThreadCount` threads; `threads` instead splits any blocked product
/// over that many (tests use it to check the split on small shapes). Public so that tests and
/// benchmarks can reach the Swift kernel whatever BLAS is loaded.
public func gemmSwift<T: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: T,
    _ a: UnsafePointer<T>, lda: Int, _ b: UnsafePointer<T>, ldb: Int, beta: T,
    _ c: UnsafeMutablePointer<T>, ldc: Int, threads: Int? = nil
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m \(m), n \(n), k \(k)")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        gemmScale(c, ldc: ldc, rows: m, columns: n, by: beta)
        return
    }
    let g = GemmArguments(transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta,
                          a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
    // Narrow while the packed op(B) (k × up to 64 bytes) stays in L2: it is read once per
    // step of rows; deeper products are cache-blocked over k instead.
    if n <= 64 / MemoryLayout<T>.size && k <= 1024 {
        if MemoryLayout<T>.size == 4 {
            gemmNarrow(g, m: m, n: n, k: k, vector: SIMD4<T>.self)
        } else {
            gemmNarrow(g, m: m, n: n, k: k, vector: SIMD2<T>.self)
        }
        return
    }
    if MemoryLayout<T>.size == 4 {
        gemmBlockedParallel(g, m: m, n: n, k: k, threads: threads ?? gemmSwiftThreadCount,
                            minimumWork: threads == nil ? gemmParallelThreshold : 0, vector: SIMD8<T>.self)
    } else {
        gemmBlockedParallel(g, m: m, n: n, k: k, threads: threads ?? gemmSwiftThreadCount,
                            minimumWork: threads == nil ? gemmParallelThreshold : 0, vector: SIMD4<T>.self)
    }
}

/// The operands of one product, passed around (and across threads) as one value.
struct GemmArguments<T: TensorScalar>: @unchecked Sendable {
    let transposeA: Bool, transposeB: Bool
    let alpha: T, beta: T
    let a: UnsafePointer<T>, lda: Int
    let b: UnsafePointer<T>, ldb: Int
    let c: UnsafeMutablePointer<T>, ldc: Int
}

/// `C = beta · C` (zeros when `beta == 0`, so NaNs in C are cleared as in BLAS).
func gemmScale<T: TensorScalar>(_ c: UnsafeMutablePointer<T>, ldc: Int, rows: Int, columns: Int, by beta: T) {
    if beta == 1 { return }
    for i in 0..<rows {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: columns)
        } else {
            for j in 0..<columns { row[j] *= beta }
        }
    }
}

// MARK: - SIMD helpers

/// A SIMD vector made of two halves; the blocked kernel broadcasts an element of A into a
/// half once, at packing time, so the inner loop needs loads only (SSE2 has no broadcast load,
/// and a shuffle per element would compete with the multiplies and adds for the FP ports).
/// (Sendable so that the threaded split can name it in its closure.)
protocol GemmVector: SIMD, Sendable where Scalar: FloatingPoint {
    associatedtype Half: SIMD where Half.Scalar == Scalar
    init(lowHalf: Half, highHalf: Half)
}
extension SIMD8: GemmVector where Scalar: TensorScalar {}
extension SIMD4: GemmVector where Scalar: TensorScalar {}

@inline(__always)
func gemmLoad<V: SIMD>(_ p: UnsafePointer<V.Scalar>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func gemmStore<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// `acc += x · y`: a fused multiply-add where the target has one (arm64, or x86-64 built with
/// `-Xswiftc -target-cpu -Xswiftc haswell` or later *and* `-Xswiftc -DGRADLAB_FMA`, which runs
/// the blocked kernel about 1.3× faster on Zen 1); on x86-64 built for the baseline (SSE2)
/// `addProduct` would call `fmaf` per lane, while a separate multiply and add run on different
/// ports at the same peak rate.
@inline(__always)
func gemmMultiplyAdd<V: SIMD>(_ acc: inout V, _ x: V, _ y: V) where V.Scalar: FloatingPoint {
    #if arch(arm64) || arch(arm64_32) || GRADLAB_FMA
    acc.addProduct(x, y)
    #else
    acc += x * y
    #endif
}

// MARK: - Thread-local scratch

private let gemmScratchKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

/// A 64-byte aligned buffer of at least `bytes` bytes, owned by the calling thread and reused
/// by every later call on it (one gemm at a time per thread; freed when the thread exits).
@inline(__always)
func gemmScratch(bytes: Int) -> UnsafeMutableRawPointer {
    if let block = pthread_getspecific(gemmScratchKey), block.load(as: Int.self) >= bytes {
        return block + 64
    }
    return gemmGrowScratch(bytes: bytes)
}

@inline(never)
func gemmGrowScratch(bytes: Int) -> UnsafeMutableRawPointer {
    if let old = pthread_getspecific(gemmScratchKey) { free(old) }
    let capacity = max(bytes, 64 << 10)
    var raw: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&raw, 64, capacity + 64) == 0, let block = raw else {
        fatalError("gemm: could not allocate \(capacity) bytes of scratch memory")
    }
    block.storeBytes(of: capacity, as: Int.self)
    pthread_setspecific(gemmScratchKey, block)
    return block + 64
}

// MARK: - Narrow path (n ≤ 4 vectors of 16 bytes)

/// Shape of a narrow kernel: vectors of 16 bytes per row of C (`chunks`) and rows of C per
/// step (`rows`), chosen so that the accumulators fit in the 16 SSE registers.
protocol GemmNarrowShape {
    static var chunks: Int { get }
    static var rows: Int { get }
}
enum GemmNarrowShape1: GemmNarrowShape { static var chunks: Int { 1 }; static var rows: Int { 4 } }
enum GemmNarrowShape2: GemmNarrowShape { static var chunks: Int { 2 }; static var rows: Int { 4 } }
enum GemmNarrowShape3: GemmNarrowShape { static var chunks: Int { 3 }; static var rows: Int { 3 } }
enum GemmNarrowShape4: GemmNarrowShape { static var chunks: Int { 4 }; static var rows: Int { 2 } }

/// One row of C in up to four vector accumulators (the unused ones are optimized away).
struct GemmNarrowRow<V: SIMD> where V.Scalar: FloatingPoint {
    var c0 = V(), c1 = V(), c2 = V(), c3 = V()

    @inline(__always)
    mutating func add(_ a: V.Scalar, _ b0: V, _ b1: V, _ b2: V, _ b3: V, chunks: Int) {
        let av = V(repeating: a)
        gemmMultiplyAdd(&c0, av, b0)
        if chunks > 1 { gemmMultiplyAdd(&c1, av, b1) }
        if chunks > 2 { gemmMultiplyAdd(&c2, av, b2) }
        if chunks > 3 { gemmMultiplyAdd(&c3, av, b3) }
    }

    @inline(__always)
    func chunk(_ q: Int) -> V { q == 0 ? c0 : q == 1 ? c1 : q == 2 ? c2 : c3 }
}

/// `n ≤ 4 · V.scalarCount`: picks the kernel with the fewest 16-byte vectors per row.
@inline(__always)
func gemmNarrow<T: TensorScalar, V: SIMD>(
    _ g: GemmArguments<T>, m: Int, n: Int, k: Int, vector: V.Type
) where V.Scalar == T {
    switch (n + V.scalarCount - 1) / V.scalarCount {
    case 1: gemmNarrow(g, m: m, n: n, k: k, vector: V.self, shape: GemmNarrowShape1.self)
    case 2: gemmNarrow(g, m: m, n: n, k: k, vector: V.self, shape: GemmNarrowShape2.self)
    case 3: gemmNarrow(g, m: m, n: n, k: k, vector: V.self, shape: GemmNarrowShape3.self)
    default: gemmNarrow(g, m: m, n: n, k: k, vector: V.self, shape: GemmNarrowShape4.self)
    }
}

/// op(B) packed as `[k, w]` with `w = chunks · V.scalarCount ≥ n` (zero-padded), each row of C
/// held in `chunks` accumulators, `rows` rows at a time so each packed row of B is loaded once
/// per step. When C is contiguous (`ldc == n`) rows are stored as whole vectors in increasing
/// order: the lanes past `n` land in the next row, which is written later; with `beta ≠ 0` the
/// old C is first copied aside so those overwrites cannot lose it. Rows near the end of C, and
/// strided C, are stored element by element.
@inline(__always)
func gemmNarrow<T: TensorScalar, V: SIMD, S: GemmNarrowShape>(
    _ g: GemmArguments<T>, m: Int, n: Int, k: Int, vector: V.Type, shape: S.Type
) where V.Scalar == T {
    let h = V.scalarCount, chunks = S.chunks, w = chunks * h
    let contiguous = g.ldc == n
    let keepOld = contiguous && g.beta != 0
    let packedCount = (k * w + 15) / 16 * 16
    let oldCount = keepOld ? m * n + w : 0
    let scratch = gemmScratch(bytes: (packedCount + oldCount) * MemoryLayout<T>.stride)
        .assumingMemoryBound(to: T.self)
    // Pack op(B) into rows of w lanes.
    if g.transposeB {
        for l in 0..<k {
            let dst = scratch + l * w
            var src = g.b + l
            for j in 0..<n { dst[j] = src.pointee; src += g.ldb }
            for j in n..<w { dst[j] = 0 }
        }
    } else {
        for l in 0..<k {
            let dst = scratch + l * w
            let src = g.b + l * g.ldb
            for j in 0..<n { dst[j] = src[j] }
            for j in n..<w { dst[j] = 0 }
        }
    }
    let old = UnsafePointer(scratch + packedCount)
    if keepOld { (scratch + packedCount).update(from: g.c, count: m * n) }
    let packed = UnsafePointer(scratch)
    // Rows whose whole-vector store stays inside C: i · n + w ≤ m · n.
    let vectorRows = contiguous && m * n >= w ? min(m, (m * n - w) / n + 1) : 0
    let alpha = V(repeating: g.alpha), beta = V(repeating: g.beta)
    let stepL = g.transposeA ? g.lda : 1
    let stepI = g.transposeA ? 1 : g.lda

    @inline(__always)
    func store(_ acc: GemmNarrowRow<V>, row i: Int) {
        let dst = g.c + i * g.ldc
        if i < vectorRows {
            let src = old + i * n
            for q in 0..<chunks {
                var v = acc.chunk(q) * alpha
                if keepOld { v += beta * gemmLoad(src + q * h) }
                gemmStore(v, dst + q * h)
            }
        } else {
            var tile = acc
            withUnsafeBytes(of: &tile) { raw in
                let t = raw.baseAddress!.assumingMemoryBound(to: T.self)
                if g.beta == 0 {
                    for j in 0..<n { dst[j] = g.alpha * t[j] }
                } else if keepOld {
                    let src = old + i * n
                    for j in 0..<n { dst[j] = g.alpha * t[j] + g.beta * src[j] }
                } else {
                    for j in 0..<n { dst[j] = g.alpha * t[j] + g.beta * dst[j] }
                }
            }
        }
    }

    var i = 0
    while i + S.rows <= m {
        var r0 = GemmNarrowRow<V>(), r1 = GemmNarrowRow<V>(), r2 = GemmNarrowRow<V>(), r3 = GemmNarrowRow<V>()
        var pa = g.a + i * stepI
        var pb = packed
        for _ in 0..<k {
            let b0: V = gemmLoad(pb)
            let b1: V = chunks > 1 ? gemmLoad(pb + h) : V()
            let b2: V = chunks > 2 ? gemmLoad(pb + 2 * h) : V()
            let b3: V = chunks > 3 ? gemmLoad(pb + 3 * h) : V()
            r0.add(pa[0], b0, b1, b2, b3, chunks: chunks)
            if S.rows > 1 { r1.add(pa[stepI], b0, b1, b2, b3, chunks: chunks) }
            if S.rows > 2 { r2.add(pa[2 &* stepI], b0, b1, b2, b3, chunks: chunks) }
            if S.rows > 3 { r3.add(pa[3 &* stepI], b0, b1, b2, b3, chunks: chunks) }
            pa += stepL
            pb += w
        }
        store(r0, row: i)
        if S.rows > 1 { store(r1, row: i + 1) }
        if S.rows > 2 { store(r2, row: i + 2) }
        if S.rows > 3 { store(r3, row: i + 3) }
        i += S.rows
    }
    while i < m {
        var r0 = GemmNarrowRow<V>()
        var pa = g.a + i * stepI
        var pb = packed
        for _ in 0..<k {
            let b0: V = gemmLoad(pb)
            let b1: V = chunks > 1 ? gemmLoad(pb + h) : V()
            let b2: V = chunks > 2 ? gemmLoad(pb + 2 * h) : V()
            let b3: V = chunks > 3 ? gemmLoad(pb + 3 * h) : V()
            r0.add(pa[0], b0, b1, b2, b3, chunks: chunks)
            pa += stepL
            pb += w
        }
        store(r0, row: i)
        i += 1
    }
}

// MARK: - Blocked path

/// Rows of the micro-kernel's tile.
let gemmMR = 4

/// Splits a large product over threads (along N when it is at least as wide as M, else along
/// M); each part runs `gemmBlocked` on its own columns or rows with its own packing buffers.
@inline(__always)
func gemmBlockedParallel<T: TensorScalar, V: GemmVector>(
    _ g: GemmArguments<T>, m: Int, n: Int, k: Int, threads: Int, minimumWork: Int, vector: V.Type
) where V.Scalar == T {
    let threads = min(threads, 64)
    let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
    if threads < 2 || work.overflow == false && work.partialValue < minimumWork {
        gemmBlocked(g, m: m, n: n, k: k, vector: V.self)
        return
    }
    let nr = V.scalarCount
    let splitN = n >= m
    let extent = splitN ? n : m
    let unit = splitN ? nr : gemmMR
    let units = (extent + unit - 1) / unit
    let parts = min(threads, units)
    if parts < 2 {
        gemmBlocked(g, m: m, n: n, k: k, vector: V.self)
        return
    }
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let first = units * part / parts * unit
        let last = min(extent, units * (part + 1) / parts * unit)
        if first >= last { return }
        if splitN {
            let sub = GemmArguments(
                transposeA: g.transposeA, transposeB: g.transposeB, alpha: g.alpha, beta: g.beta,
                a: g.a, lda: g.lda, b: g.b + (g.transposeB ? first * g.ldb : first), ldb: g.ldb,
                c: g.c + first, ldc: g.ldc)
            gemmBlocked(sub, m: m, n: last - first, k: k, vector: V.self)
        } else {
            let sub = GemmArguments(
                transposeA: g.transposeA, transposeB: g.transposeB, alpha: g.alpha, beta: g.beta,
                a: g.a + (g.transposeA ? first : first * g.lda), lda: g.lda, b: g.b, ldb: g.ldb,
                c: g.c + first * g.ldc, ldc: g.ldc)
            gemmBlocked(sub, m: last - first, n: n, k: k, vector: V.self)
        }
    }
}

/// The GotoBLAS loop nest on one thread: for each `KC × NC` block of op(B) (packed), each
/// `MC × KC` block of op(A) (packed), each `MR × NR` tile: the micro-kernel.
@inline(__always)
func gemmBlocked<T: TensorScalar, V: GemmVector>(
    _ g: GemmArguments<T>, m: Int, n: Int, k: Int, vector: V.Type
) where V.Scalar == T {
    let nr = V.scalarCount, mr = gemmMR
    let blocking = GemmBlocking.forElement(size: MemoryLayout<T>.size)
    let kcMax = min(k, blocking.kc)
    let ncMax = min((n + nr - 1) / nr * nr, blocking.nc)
    let mcMax = min((m + mr - 1) / mr * mr, blocking.mc)
    let h = V.Half.scalarCount
    let bSize = kcMax * ncMax, aSize = mcMax * kcMax * h
    let aOffset = (bSize + 15) / 16 * 16
    let scratch = gemmScratch(bytes: (aOffset + aSize) * MemoryLayout<T>.stride)
        .assumingMemoryBound(to: T.self)
    let packedB = scratch
    let packedA = scratch + aOffset
    var jc = 0
    while jc < n {
        let nc = min(ncMax, n - jc)
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k - pc)
            // The first depth block applies beta; later ones accumulate.
            let beta = pc == 0 ? g.beta : 1
            gemmPackB(g, packedB, rowStart: pc, depth: kc, columnStart: jc, width: nc, vector: V.self)
            var ic = 0
            while ic < m {
                let mc = min(mcMax, m - ic)
                gemmPackA(g, packedA, rowStart: ic, height: mc, columnStart: pc, depth: kc, mr: mr, lanes: h)
                var jr = 0
                while jr < nc {
                    let cols = min(nr, nc - jr)
                    let pb = UnsafePointer(packedB + jr * kc)
                    var ir = 0
                    while ir < mc {
                        let rows = min(mr, mc - ir)
                        gemmMicroKernel4(kc, UnsafePointer(packedA + ir * kc * h), pb,
                                     g.c + (ic + ir) * g.ldc + jc + jr, ldc: g.ldc,
                                     alpha: g.alpha, beta: beta, rows: rows, columns: cols,
                                     vector: V.self)
                        ir += mr
                    }
                    jr += nr
                }
                ic += mc
            }
            pc += kc
        }
        jc += nc
    }
}

/// Packs `op(B)[rowStart ..< rowStart+depth, columnStart ..< columnStart+width]` as
/// consecutive micro-panels of `nr` columns, each `depth × nr` row-major, zero-padded.
@inline(__always)
func gemmPackB<T: TensorScalar, V: SIMD>(
    _ g: GemmArguments<T>, _ dst: UnsafeMutablePointer<T>, rowStart: Int, depth: Int,
    columnStart: Int, width: Int, vector: V.Type
) where V.Scalar == T {
    let nr = V.scalarCount
    var j = 0
    var panel = dst
    while j < width {
        let w = min(nr, width - j)
        let col = columnStart + j
        if g.transposeB {
            // op(B)[l, col + jj] = b[(col + jj) · ldb + l]: each source row is one panel column.
            for jj in 0..<w {
                let src = g.b + (col + jj) * g.ldb + rowStart
                var d = panel + jj
                for l in 0..<depth {
                    d.pointee = src[l]
                    d += nr
                }
            }
            if w < nr {
                for l in 0..<depth { (panel + l * nr + w).update(repeating: 0, count: nr - w) }
            }
        } else {
            var src = g.b + rowStart * g.ldb + col
            var d = panel
            if w == nr {
                for _ in 0..<depth {
                    gemmStore(gemmLoad(src) as V, d)
                    src += g.ldb
                    d += nr
                }
            } else {
                for _ in 0..<depth {
                    d.update(from: src, count: w)
                    (d + w).update(repeating: 0, count: nr - w)
                    src += g.ldb
                    d += nr
                }
            }
        }
        panel += depth * nr
        j += nr
    }
}

/// Packs `op(A)[rowStart ..< rowStart+height, columnStart ..< columnStart+depth]` as
/// consecutive micro-panels of `mr` rows, each stored column by column (`depth × mr`) with
/// every element repeated `lanes` times (a broadcast half-vector), zero-padded.
@inline(__always)
func gemmPackA<T: TensorScalar>(
    _ g: GemmArguments<T>, _ dst: UnsafeMutablePointer<T>, rowStart: Int, height: Int,
    columnStart: Int, depth: Int, mr: Int, lanes: Int
) {
    var i = 0
    var panel = dst
    let step = mr * lanes
    while i < height {
        let h = min(mr, height - i)
        let row = rowStart + i
        for ii in 0..<mr {
            var d = panel + ii * lanes
            if ii >= h {
                for _ in 0..<depth {
                    d.update(repeating: 0, count: lanes)
                    d += step
                }
            } else if g.transposeA {
                // op(A)[row + ii, l] = a[l · lda + row + ii]
                var src = g.a + columnStart * g.lda + row + ii
                for _ in 0..<depth {
                    d.update(repeating: src.pointee, count: lanes)
                    src += g.lda
                    d += step
                }
            } else {
                let src = g.a + (row + ii) * g.lda + columnStart
                for l in 0..<depth {
                    d.update(repeating: src[l], count: lanes)
                    d += step
                }
            }
        }
        panel += depth * step
        i += mr
    }
}

/// The 4 × NR micro-kernel: `C[0..<rows, 0..<columns] = alpha · Ap · Bp + beta · C`, with
/// `Ap` a packed `kc × 4` panel and `Bp` a packed `kc × NR` panel.
@inline(__always)
func gemmMicroKernel4<V: GemmVector>(
    _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>,
    _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar,
    rows: Int, columns: Int, vector: V.Type
) where V.Scalar: FloatingPoint {
    let nr = V.scalarCount, h = V.Half.scalarCount
    var c0 = V(), c1 = V(), c2 = V(), c3 = V()
    var pa = a, pb = b
    var remaining = kc
    while remaining >= 2 {
        do {
            let bv: V = gemmLoad(pb)
            let a0: V.Half = gemmLoad(pa), a1: V.Half = gemmLoad(pa + h)
            let a2: V.Half = gemmLoad(pa + 2 * h), a3: V.Half = gemmLoad(pa + 3 * h)
            gemmMultiplyAdd(&c0, V(lowHalf: a0, highHalf: a0), bv)
            gemmMultiplyAdd(&c1, V(lowHalf: a1, highHalf: a1), bv)
            gemmMultiplyAdd(&c2, V(lowHalf: a2, highHalf: a2), bv)
            gemmMultiplyAdd(&c3, V(lowHalf: a3, highHalf: a3), bv)
        }
        do {
            let bv: V = gemmLoad(pb + nr)
            let a0: V.Half = gemmLoad(pa + 4 * h), a1: V.Half = gemmLoad(pa + 5 * h)
            let a2: V.Half = gemmLoad(pa + 6 * h), a3: V.Half = gemmLoad(pa + 7 * h)
            gemmMultiplyAdd(&c0, V(lowHalf: a0, highHalf: a0), bv)
            gemmMultiplyAdd(&c1, V(lowHalf: a1, highHalf: a1), bv)
            gemmMultiplyAdd(&c2, V(lowHalf: a2, highHalf: a2), bv)
            gemmMultiplyAdd(&c3, V(lowHalf: a3, highHalf: a3), bv)
        }
        pa += 8 * h
        pb += 2 * nr
        remaining -= 2
    }
    if remaining > 0 {
        let bv: V = gemmLoad(pb)
        let a0: V.Half = gemmLoad(pa), a1: V.Half = gemmLoad(pa + h)
        let a2: V.Half = gemmLoad(pa + 2 * h), a3: V.Half = gemmLoad(pa + 3 * h)
        gemmMultiplyAdd(&c0, V(lowHalf: a0, highHalf: a0), bv)
        gemmMultiplyAdd(&c1, V(lowHalf: a1, highHalf: a1), bv)
        gemmMultiplyAdd(&c2, V(lowHalf: a2, highHalf: a2), bv)
        gemmMultiplyAdd(&c3, V(lowHalf: a3, highHalf: a3), bv)
        pa += 4 * h
        pb += nr
    }
    let av = V(repeating: alpha)
    c0 *= av; c1 *= av; c2 *= av; c3 *= av
    if rows == 4 && columns == nr {
        if beta == 0 {
            gemmStore(c0, c)
            gemmStore(c1, c + ldc)
            gemmStore(c2, c + 2 * ldc)
            gemmStore(c3, c + 3 * ldc)
        } else {
            let bv = V(repeating: beta)
            gemmStore(c0 + bv * gemmLoad(c), c)
            gemmStore(c1 + bv * gemmLoad(c + ldc), c + ldc)
            gemmStore(c2 + bv * gemmLoad(c + 2 * ldc), c + 2 * ldc)
            gemmStore(c3 + bv * gemmLoad(c + 3 * ldc), c + 3 * ldc)
        }
        return
    }
    var tile = (c0, c1, c2, c3)
    withUnsafeBytes(of: &tile) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: V.Scalar.self)
        for r in 0..<rows {
            let row = c + r * ldc, src = t + r * nr
            if beta == 0 {
                for j in 0..<columns { row[j] = src[j] }
            } else {
                for j in 0..<columns { row[j] = src[j] + beta * row[j] }
            }
        }
    }
}

