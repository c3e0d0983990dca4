import Foundation
import GradTensor

/// Times `Float.kernelGemm` with every product on the Swift kernel and with every product on
/// BLAS, for the shapes where the choice is close, to place `BLAS.worthCalling`'s threshold.
/// Each shape is timed in short bursts, alternating the two, and the fastest burst counts
/// (the least disturbed by other work on the machine).
func runCrossover(_ options: Options) {
    guard BLAS.shared.sgemm != nil else { log("no BLAS loaded: nothing to compare"); exit(1) }
    var shapes: [(String, Bool, Bool, Int, Int, Int)] = []
    for s in [4, 8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 192, 256] { shapes.append(("square", false, false, s, s, s)) }
    for s in [16, 32, 64, 128] { shapes.append(("square Bᵀ", false, true, s, s, s)); shapes.append(("square Aᵀ", true, false, s, s, s)) }
    for (m, n, k) in [(100, 10, 10), (100, 10, 1), (100, 1, 10), (10, 10, 100), (10, 1, 100), (1, 10, 100),
                      (1000, 10, 10), (1000, 16, 64), (10000, 10, 10), (100, 16, 256), (100, 16, 512), (64, 8, 512),
                      (10, 100, 100), (16, 256, 64), (100, 32, 32), (100, 64, 64), (100, 100, 100), (256, 32, 256),
                      (1, 256, 256), (256, 1, 256), (4, 1024, 1024), (1024, 4, 1024)] {
        shapes.append(("rect", false, false, m, n, k))
    }
    shapes.append(("mlp fwd", false, true, 100, 10, 10))
    shapes.append(("mlp dW", true, false, 10, 10, 100))
    // The products of workload 4's layers (batch 256, width 64): forward, weight gradient, input gradient.
    shapes.append(("bn fwd", false, true, 256, 64, 64))
    shapes.append(("bn dW", true, false, 64, 64, 256))
    shapes.append(("bn dx", false, false, 256, 64, 64))
    var results: [[String: Any]] = []
    let emit: (String) -> Void = options.json ? { log($0) } : { print($0) }
    emit(["shape", "m", "n", "k", "thr", "swift µs", "blas µs", "blas/swift", "routed"].map { pad($0, 11) }.joined())
    for threads in options.threads {
        BLAS.shared.setThreadCount(threads)
        for (label, ta, tb, m, n, k) in shapes {
            let a = [Float](repeating: 0.5, count: max(1, m * k)), b = [Float](repeating: 0.25, count: max(1, k * n))
            var c = [Float](repeating: 0, count: max(1, m * n))
            let flops = 2.0 * Double(m * n * k)
            let burst = max(1, min(2000, Int(2e6 / max(flops, 1))))
            func time(_ routing: BLAS.Routing) -> Double {
                BLAS.routing = routing
                defer { BLAS.routing = .automatic }
                let start = now()
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            for _ in 0..<burst {
                                Float.kernelGemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1,
                                                 pa.baseAddress!, lda: ta ? m : k, pb.baseAddress!, ldb: tb ? k : n,
                                                 beta: 0, pc.baseAddress!, ldc: n)
                            }
                        }
                    }
                }
                return (now() - start) / Double(burst)
            }
            var swift = Double.infinity, blas = Double.infinity
            for _ in 0..<(options.repetitions ?? 30) {
                swift = min(swift, time(.swiftOnly))
                blas = min(blas, time(.blasOnly))
            }
            let routed = BLAS.worthCalling(m: m, n: n, k: k) ? "blas" : "swift"
            emit([label, String(m), String(n), String(k), String(threads), fixed(swift * 1e6, 2), fixed(blas * 1e6, 2),
                   fixed(blas / swift, 2), routed].map { pad($0, 11) }.joined())
            results.append(["shape": label, "m": m, "n": n, "k": k, "transpose_a": ta, "transpose_b": tb, "threads": threads,
                            "swift_us": swift * 1e6, "blas_us": blas * 1e6, "routed": routed])
        }
    }
    if options.json {
        var object = machineDescription()
        object["benchmark"] = "crossover"
        object["results"] = results
        printJSON(object)
    }
}
