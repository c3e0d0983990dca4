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

    static let rowMajor: Int32 = 101
    static let noTrans: Int32 = 111
    static let trans: Int32 = 112

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

    /// A one-line description for `gradlab info`: the backend and, for OpenBLAS, its thread count.
    public var backendDescription: String {
        guard let library else { return "pure Swift (no BLAS loaded)" }
        if let getThreads { return "\(library) (\(getThreads()) threads)" }
        return library
    }

    /// Sets the number of threads of OpenBLAS (ignored by other libraries).
    public func setThreadCount(_ count: Int) { setThreads?(Int32(count)) }

    /// Small products are faster in Swift than through the BLAS call and its dispatch.
    @inline(__always)
    static func worthCalling(m: Int, n: Int, k: Int) -> Bool {
        m * n * k >= 32_768 && m >= 4 && n >= 4
    }

    /// Loads the library named by `environment` (the value of `GRADLAB_BLAS`) or the first
    /// one found on this system.
    public static func load(environment: String?) -> BLAS {
        if let value = environment, ["none", "swift", "off"].contains(value.lowercased()) {
            return BLAS(sgemm: nil, dgemm: nil, library: nil, getThreads: nil, setThreads: nil)
        }
        var candidates: [String] = []
        if let value = environment, !value.isEmpty { candidates.append(value) }
        #if os(macOS)
        candidates.append("/System/Library/Frameworks/Accelerate.framework/Accelerate")
        #else
        candidates += ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libblas.so.3",
                       "libcblas.so.3", "libblas.so"]
        #endif
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
                setThreads: dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) })
        }
        return BLAS(sgemm: nil, dgemm: nil, library: nil, getThreads: nil, setThreads: nil)
    }
}
