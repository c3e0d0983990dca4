import Foundation
import FuzzDriver
import GradData

// Fuzzes `Gzip.decompress` and the raw `Deflate.inflate` under it.
// Contract: bytes out or a `DataError`, never a trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = Array(fuzzInput(bytes, count))
    do {
        _ = try Gzip.decompress(input, file: "fuzz.gz")
        precondition(Gzip.isGzip(input), "decompressed a file without the gzip magic number")
    } catch {
        precondition(!error.description.contains("\n"), "a DataError description spans lines: \(error.description)")
    }
    if let (output, consumed) = try? Deflate.inflate(input, file: "fuzz.deflate") {
        precondition(consumed <= input.count && (consumed > 0 || output.isEmpty), "inflate consumed \(consumed) of \(input.count)")
    }
    return 0
}

/// Hands `fuzzGzip` to libFuzzer.
@main
enum FuzzGzipMain {
    static func main() { runFuzzer(fuzzGzip) }
}
