import Foundation
import FuzzDriver
import GradDoctor
import GradNN

// Fuzzes `MonitorRecord(safeTensors:path:)` on whatever `SafeTensors` parses (seed: a real
// `record.safetensors`). Contract: a record is read or `CheckpointError` is thrown.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMonitorRecord(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(bytes, count)
    guard let file = try? SafeTensors(data: Data(buffer: input), file: "record.safetensors") else {
        return 0
    }
    do {
        let record = try MonitorRecord(safeTensors: file, path: "record.safetensors")
        // Resuming and decimation divide by the strides; reports draw the counts.
        precondition(record.stride >= 1 && record.histogramStride >= 1 && record.skippedSteps >= 0, "bad strides")
        precondition(record.histograms.allSatisfy { h in
            h.zeroCount >= 0 && h.nonfiniteCount >= 0 && (h.logCounts + h.linearCounts).allSatisfy { $0 >= 0 }
        }, "negative histogram count")
        // What was read must write and read back.
        _ = try MonitorRecord(safeTensors: record.safeTensors(), path: "again.safetensors")
    } catch is CheckpointError {
    } catch {
        fatalError("MonitorRecord threw an error that is not a CheckpointError: \(error)")
    }
    return 0
}

/// Hands `fuzzMonitorRecord` to libFuzzer.
@main
enum FuzzMonitorRecordMain {
    static func main() { runFuzzer(fuzzMonitorRecord) }
}
