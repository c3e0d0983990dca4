import Foundation
import FuzzDriver
import GradReport

// Fuzzes the TensorBoard event-file reader (`TensorBoardEventFile.read(_:file:)`, which
// `read(contentsOf:)` and `truncate(_:keepingStepsBefore:)` call) and the truncation of its
// records, twice per input: on the input as a whole file, and on a file of two records with
// valid checksums, a file_version event and the input as the second Event's data (so the
// Event parser sees every input, not only those whose CRC-32Cs the fuzzer got right; such an
// input that fails goes into the regression corpus framed, as the file that failed).
//
// Contract: records or `TensorBoardEventFileError` (typed throws) naming the file and the
// byte, never a trap; and, when the bytes read:
// - the records tile the file from byte 0, and the last one ends at most at its end;
// - each record is exactly TensorBoardWriter's framing of its data (so checksums were checked);
// - the file cut at a step taken from the input reads again without error, not cut short,
//   holding exactly the records that `isKept` keeps, in order, with the same steps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFEvents(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = Array(fuzzInput(bytes, count))
    check(input, selector: input.first ?? 0)
    var version = ProtobufEncoder()
    version.appendString(field: 3, TensorBoardWriter.fileVersion)
    check(TensorBoardWriter.record(version.bytes) + TensorBoardWriter.record(input), selector: input.last ?? 0)
    return 0
}

/// Reads `file`, checks the records, cuts it at one of its steps (`selector` picks which) and
/// checks the cut file.
func check(_ file: [UInt8], selector: UInt8) {
    let contents: TensorBoardEventFile.Contents
    do {
        contents = try TensorBoardEventFile.read(bytes: file, file: "events.out.tfevents.fuzz")
    } catch {
        precondition(error.description.hasPrefix("events.out.tfevents.fuzz: byte \(error.offset ?? -1): "),
                     "error without the file and offset: \(error)")
        precondition(!error.description.contains("\n"), "error of several lines: \(error)")
        precondition(error.offset! >= 0 && error.offset! < file.count, "offset outside the file: \(error)")
        return
    }
    var end = 0
    for record in contents.records {
        precondition(record.offset == end, "record at \(record.offset), expected \(end)")
        precondition(record.range.upperBound <= file.count, "record \(record.range) past the end \(file.count)")
        precondition(TensorBoardWriter.record(Array(file[record.dataRange])) == Array(file[record.range]),
                     "record at \(record.offset) is not the writer's framing of its data")
        end = record.range.upperBound
    }
    precondition(end == contents.validLength && end <= file.count)
    precondition(contents.isCutShort == (end < file.count))

    let steps = contents.records.compactMap(\.step)
    let step = steps.isEmpty ? Int(selector) : Int(truncatingIfNeeded: steps[Int(selector) % steps.count])
    do {
        let cut = try TensorBoardEventFile.truncated(bytes: file, keepingStepsBefore: step, file: "cut")
        let again = try TensorBoardEventFile.read(bytes: cut, file: "cut")
        let kept = contents.records.filter { $0.isKept(keepingStepsBefore: step) }
        precondition(!again.isCutShort, "the cut file ends with a partial record")
        precondition(again.records.map(\.step) == kept.map(\.step), "steps after the cut differ from the kept records'")
        precondition(again.records.map(\.dataLength) == kept.map(\.dataLength))
        precondition(again.records.map(\.hasFileVersion) == kept.map(\.hasFileVersion))
        precondition(again.records.allSatisfy { $0.isKept(keepingStepsBefore: step) })
    } catch {
        preconditionFailure("a file that read threw when cut: \(error)")
    }
}

/// Hands `fuzzTFEvents` to libFuzzer.
@main
enum FuzzTFEventsMain {
    static func main() { runFuzzer(fuzzTFEvents) }
}
