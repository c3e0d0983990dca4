import Foundation
import GradTensor

/// The variants of a square Float product that `matmul` compares.
enum MatmulBackend: String, CaseIterable {
    /// `cblas_sgemm` through the loaded library's function pointer, into a preallocated C.
    case blasDirect = "blas_direct"
    /// GradLab's `matmul` with automatic routing (BLAS at these sizes), allocating its result.
    case gradlabBLAS = "gradlab_blas"
    /// GradLab's `matmul` with every product on the pure-Swift kernel (`BLAS.routing = .swiftOnly`,
    /// the same kernel as `GRADLAB_BLAS=none`).
    case gradlabSwift = "gradlab_swift"
}

/// Times `size × size` Float products for each thread count and backend; repetitions of the
/// backends are interleaved so that a busy machine slows them alike. Reports the median.
func runMatmul(_ options: Options) {
    let blas = BLAS.shared
    var backends = options.backends.compactMap { name -> MatmulBackend? in
        guard let backend = MatmulBackend(rawValue: name) else { log("unknown backend \(name), skipped"); return nil }
        return backend
    }
    if blas.sgemm == nil {
        log("no BLAS loaded (\(blas.backendDescription)): only gradlab_swift runs")
        backends = backends.filter { $0 == .gradlabSwift }
    }
    var results: [[String: Any]] = []
    for threads in options.threads {
        blas.setThreadCount(threads)
        for size in options.sizes {
            let generator = RandomGenerator(seed: UInt64(size))
            let a = Tensor<Float>.uniform([size, size], low: -1, high: 1, generator: generator)
            let b = Tensor<Float>.uniform([size, size], low: -1, high: 1, generator: generator)
            var c = [Float](repeating: 0, count: size * size)
            let flops = 2 * Double(size) * Double(size) * Double(size)
            let repetitions = options.repetitions ?? max(5, min(40, Int(1e10 / flops)))
            var times: [MatmulBackend: [Double]] = [:]
            var checks: [MatmulBackend: Double] = [:]
            for repetition in 0...repetitions {
                for backend in backends {
                    let start = now()
                    switch backend {
                    case .blasDirect:
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                c.withUnsafeMutableBufferPointer { pc in
                                    blas.sgemm!(101, 111, 111, Int32(size), Int32(size), Int32(size), 1,
                                                pa.baseAddress, Int32(size), pb.baseAddress, Int32(size), 0,
                                                pc.baseAddress, Int32(size))
                                }
                            }
                        }
                        checks[backend] = Double(c[size * size / 2 + 1])
                    case .gradlabBLAS, .gradlabSwift:
                        BLAS.routing = backend == .gradlabSwift ? .swiftOnly : .automatic
                        let product = matmul(a, b)
                        BLAS.routing = .automatic
                        checks[backend] = Double(product[element: size / 2, 1])
                    }
                    let elapsed = now() - start
                    if repetition > 0 { times[backend, default: []].append(elapsed) }  // the first is a warm-up
                }
            }
            if let reference = checks[backends[0]] {
                for (backend, value) in checks where Swift.abs(value - reference) > 1e-3 * Double(size).squareRoot() {
                    log("warning: \(backend.rawValue) gives \(value) where \(backends[0].rawValue) gives \(reference)")
                }
            }
            for backend in backends {
                let summary = Summary(times[backend]!)
                results.append([
                    "size": size, "threads": threads, "backend": backend.rawValue,
                    "gflops": flops / summary.median / 1e9, "gflops_best": flops / summary.minimum / 1e9,
                    "median_ms": summary.median * 1e3, "reps": summary.count,
                ])
                log("matmul \(size) threads \(threads) \(backend.rawValue): \(fixed(flops / summary.median / 1e9)) GFLOP/s (median of \(summary.count))")
            }
        }
    }
    if options.json {
        var object = machineDescription()
        object["benchmark"] = "matmul"
        object["results"] = results
        printJSON(object)
        return
    }
    print("matmul, Float, square; GFLOP/s (median); ratios to blas_direct")
    print(machineDescription().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    let header = ["size", "threads"] + backends.map(\.rawValue) + backends.filter { $0 != .blasDirect }.map { "\($0.rawValue) %" }
    print(header.map { pad($0, 16) }.joined())
    for threads in options.threads {
        for size in options.sizes {
            func gflops(_ backend: MatmulBackend) -> Double? {
                results.first { $0["size"] as? Int == size && $0["threads"] as? Int == threads && $0["backend"] as? String == backend.rawValue }?["gflops"] as? Double
            }
            var row = [String(size), String(threads)] + backends.map { gflops($0).map { fixed($0) } ?? "-" }
            let direct = gflops(.blasDirect)
            for backend in backends where backend != .blasDirect {
                if let direct, let value = gflops(backend) { row.append(fixed(100 * value / direct, 0) + "%") } else { row.append("-") }
            }
            print(row.map { pad($0, 16) }.joined())
        }
    }
}
