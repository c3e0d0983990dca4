#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BLAS library found at run time with `dlopen`, if any.
///
/// Search order: the library named by `GRADLAB_BLAS` (a path or soname; the values `none` or
/// `swift` force the pure-Swift kernels), then OpenBLAS, then the reference `libblas.so.3`
/// (Linux), or Accelerate (macOS). With none found, matrix products use `gemmSwift`.
public struct BLAS: @unchecked Sendable {
    public typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    public typealias DGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
        UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32

    /// CBLAS's `CblasRowMajor`.
    public static let rowMajor: Int32 = 101
    /// CBLAS's `CblasNoTrans`.
    public static let noTrans: Int32 = 111
    /// CBLAS's `CblasTrans`.
    public static let trans: Int32 = 112

    /// The library in use for this process.
    public static let shared = BLAS.load(environment: getenv("GRADLAB_BLAS").map { String(cString: $0) })

    /// `cblas_sgemm`, when a library was found.
    public let sgemm: SGEMM?
    /// `cblas_dgemm`, when a library was found.
    public let dgemm: DGEMM?
    /// The file or soname that was loaded, or nil for the pure-Swift kernels.
    public let library: String?
    let getThreads: GetThreads?
    let setThreads: SetThreads?
    /// OpenBLAS's name for the kernels it picked for this CPU (`Zen`, `Haswell`, ...).
    public let coreName: String?

    /// A one-line description for `gradlab info`: the backend and, for OpenBLAS, its thread count.
    public var backendDescription: String {
        guard let library else { return "pure Swift (no BLAS loaded)" }
        if let getThreads { return "\(library) (\(getThreads()) threads)" }
        return library
    }

    /// Sets the number of threads of matrix products: OpenBLAS's (other libraries ignore it)
    /// and the pure-Swift kernel's (which uses several only for large products).
    public func setThreadCount(_ count: Int) {
        precondition(count >= 1, "setThreadCount: needs at least one thread, got \(count)")
        setThreads?(Int32(count))
        gemmSwiftThreadCount = count
    }

    /// The number of threads OpenBLAS uses (1 for other libraries, nil with no library).
    public var threadCount: Int? {
        guard library != nil else { return nil }
        return getThreads.map { Int($0()) } ?? 1
    }

    /// The number of threads the pure-Swift kernel may use for large products: the online
    /// processors, or `GRADLAB_THREADS`, or the last `setThreadCount`.
    public static var swiftThreadCount: Int { gemmSwiftThreadCount }

    /// Which kernel runs the matrix products of `Float` and `Double` tensors.
    public enum Routing: Sendable {
        /// BLAS for products large enough to repay its call overhead, Swift for the rest
        /// (see `worthCalling`); Swift for everything when no library is loaded.
        case automatic
        /// The pure-Swift kernels only, as with `GRADLAB_BLAS=none`.
        case swiftOnly
        /// BLAS for every product when a library is loaded.
        case blasOnly
    }

    /// The routing of matrix products in this process (default `.automatic`); benchmarks and
    /// tests switch it to compare the kernels on the same data.
    nonisolated(unsafe) public static var routing: Routing = .automatic

    /// Whether a product of `[m, k] · [k, n]` goes to BLAS rather than to `gemmSwift`.
    ///
    /// With `.automatic` routing: Swift below 32³ multiply-adds, and for outputs of at most 16
    /// columns with a depth of at most 32 (the narrow kernel, any number of rows); BLAS for the
    /// rest. Measured with `gradlab-bench crossover` (best of 30–40 bursts) on a 2-core AMD
    /// EPYC (Zen 1) with OpenBLAS 0.3.21 (pthreads, Zen kernels), with 1 and 2 threads:
    /// - OpenBLAS's fixed cost per call makes Swift faster up to 16³ (0.6 vs 0.7 µs); from 24³
    ///   on OpenBLAS wins (1.9 vs 1.5 µs at 24³, 7.5 vs 5.0 µs at 40³);
    /// - the forward products of a small MLP (batch 100, width 10, beta 1) are 1.1–1.9× faster
    ///   in Swift, its weight gradients (`dyᵀ·x`, depth 100) 0.8× (kept in Swift as small);
    /// - narrow products stay faster in Swift as rows grow while the depth is small (1000 and
    ///   10000 rows × 10 × 10: 1.2× and 1.2–1.6×) but not with depth (1000 × 16 × 64: 0.86×,
    ///   64 × 8 × 512: 0.74×);
    /// - larger products run on OpenBLAS's AVX2 kernels about 1.7× faster than on the SSE2
    ///   Swift ones (OpenBLAS 0.3.21 is slower than Swift at 128³–256³ on this CPU, but that
    ///   looks specific to the version and is not relied on).
    @inline(__always)
    public static func worthCalling(m: Int, n: Int, k: Int) -> Bool {
        switch routing {
        case .automatic: return worthCallingAutomatically(m: m, n: n, k: k)
        case .swiftOnly: return false
        case .blasOnly: return true
        }
    }

    @inline(__always)
    public static func worthCallingAutomatically(m: Int, n: Int, k: Int) -> Bool {
        if m &* n &* k < 32_768 { return false }
        if n <= 16 && k <= 32 { return false }
        return true
    }

    /// Loads the library named by `environment` (the value of `GRADLAB_BLAS`) or the first
    /// one found on this system.
    public static func load(environment: String?) -> BLAS {
        if let value = environment, ["none", "swift", "off"].contains(value.lowercased()) {
            return BLAS(sgemm: nil, dgemm: nil, library: nil, getThreads: nil, setThreads: nil, coreName: nil)
        }
        var candidates: [String] = []
        if let value = environment, !value.isEmpty { candidates.append(value) }
        #if os(macOS)
        candidates.append("/System/Library/Frameworks/Accelerate.framework/Accelerate")
        #else
        candidates += ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libblas.so.3",
                       "libcblas.so.3", "libblas.so"]
        #endif
        // OpenBLAS's idle threads spin (sched_yield) for 2^28 cycles after each product before
        // they sleep, so they keep a core busy through a whole training step's non-BLAS work
        // (the optimizer, the monitor), slowing the threads that do it. 2^20 cycles (about
        // 0.4 ms) still covers the gaps between a step's products; a user's own setting wins.
        setenv("OPENBLAS_THREAD_TIMEOUT", "20", 0)
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
                dlclose(handle)
                continue
            }
            return BLAS(
                sgemm: unsafeBitCast(s, to: SGEMM.self),
                dgemm: unsafeBitCast(d, to: DGEMM.self),
                library: name,
                getThreads: dlsym(handle, "openblas_get_num_threads").map { unsafeBitCast($0, to: GetThreads.self) },
                setThreads: dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) },
                coreName: dlsym(handle, "openblas_get_corename").flatMap {
                    unsafeBitCast($0, to: (@convention(c) () -> UnsafePointer<CChar>?).self)().map { String(cString: $0) }
                })
        }
        return BLAS(sgemm: nil, dgemm: nil, library: nil, getThreads: nil, setThreads: nil, coreName: nil)
    }
}
