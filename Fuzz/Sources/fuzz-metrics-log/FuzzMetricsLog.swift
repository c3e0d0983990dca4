import Foundation
import FuzzDriver
import GradReport

// Fuzzes the `metrics.jsonl` reader (`MetricsLog.readLines(bytes:file:)`, which
// `readLines(url:)` calls). Contract: lines or `MetricsLogError`, never a trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetricsLog(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(bytes, count)
    do {
        _ = try MetricsLog.readLines(bytes: Array(input), file: "metrics.jsonl")
    } catch is MetricsLogError {
    } catch {
        fatalError("readLines threw an error that is not a MetricsLogError: \(error)")
    }
    return 0
}

/// Hands `fuzzMetricsLog` to libFuzzer.
@main
enum FuzzMetricsLogMain {
    static func main() { runFuzzer(fuzzMetricsLog) }
}
