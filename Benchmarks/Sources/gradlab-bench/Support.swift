import Foundation
import GradTensor

/// Seconds on a monotonic clock.
@inline(__always)
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Order statistics of a sample of timings.
struct Summary {
    let median: Double, p10: Double, p90: Double, minimum: Double, mean: Double, count: Int

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "Summary: no values")
        let s = values.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(s.count - 1)
            let low = Int(position.rounded(.down)), high = min(s.count - 1, low + 1)
            return s[low] + (s[high] - s[low]) * (position - Double(low))
        }
        median = quantile(0.5); p10 = quantile(0.1); p90 = quantile(0.9)
        minimum = s[0]; mean = s.reduce(0, +) / Double(s.count); count = s.count
    }
}

/// The machine, for the record: CPU model (with family/model numbers, since virtual machines
/// often say only "AMD EPYC"), online CPUs, and the BLAS library with its kernel choice.
func machineDescription() -> [String: Any] {
    var model = "unknown", family = "", number = ""
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
        for line in info.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name", model == "unknown" { model = parts[1] }
            if parts[0] == "cpu family", family.isEmpty { family = parts[1] }
            if parts[0] == "model", number.isEmpty { number = parts[1] }
        }
    }
    let blas = BLAS.shared
    return [
        "cpu": family.isEmpty ? model : "\(model) (family \(family), model \(number))",
        "cpus": ProcessInfo.processInfo.activeProcessorCount,
        "blas": blas.library ?? "none",
        "blas_core": blas.coreName ?? "unknown",
    ]
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Writes a line to standard error (progress, so that `--json` keeps stdout clean).
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// A number with a fixed count of decimals.
func fixed(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }

/// Pads `text` on the left to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// Keeps a value alive and opaque to the optimizer.
@inline(never)
func consume<T>(_ value: T) { withExtendedLifetime(value) {} }
