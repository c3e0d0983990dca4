import Foundation
import FuzzDriver
import GradData

// Fuzzes `CSVLoader.load(bytes:file:options:)`. The first byte picks the options (header mode,
// target column, task, delimiter, standardization, split) so that every path is reached; the
// rest is the file, gunzipped first when it starts with the gzip magic number, as files are.
// Contract: a data set or a `DataError` (typed throws), never a trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(bytes, count)
    guard let selector = input.first else { return 0 }
    var text = Array(input.dropFirst())
    let headers: [CSVOptions.Header] = [.automatic, .present, .absent]
    let targets: [CSVOptions.TargetColumn] = [.last, .index(0), .index(-2), .name("y")]
    let tasks: [CSVOptions.Task] = [.regression, .classification(.oneHot), .classification(.index)]
    let options = CSVOptions(
        header: headers[Int(selector & 3) % 3],
        target: targets[Int(selector >> 2) & 3],
        task: tasks[(Int(selector >> 4) & 3) % 3],
        delimiter: selector & 0x40 != 0 ? UInt8(ascii: ";") : UInt8(ascii: ","),
        standardize: selector & 0x80 != 0,
        validationFraction: selector & 0x20 != 0 ? 0.25 : 0)
    do {
        if Gzip.isGzip(text) { text = try Gzip.decompress(text, file: "fuzz.csv.gz") }
        let data = try CSVLoader.load(bytes: text, file: "fuzz.csv", options: options, as: Float.self)
        precondition(data.train.features.shape[0] == data.trainRows.count, "rows and features disagree")
    } catch {
        precondition(!error.description.contains("\n"), "a DataError description spans lines: \(error.description)")
    }
    return 0
}

/// Hands `fuzzCSV` to libFuzzer.
@main
enum FuzzCSVMain {
    static func main() { runFuzzer(fuzzCSV) }
}
