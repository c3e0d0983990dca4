import Foundation
import FuzzDriver
import GradLab

// Fuzzes `RunSpec.parse(_:file:baseDirectory:)`, the entry behind every spec file (YAML or
// JSON). Contract: a validated spec or a `SpecError` (typed throws), never a trap.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(bytes, count)
    let text = String(decoding: input, as: UTF8.self)
    do {
        _ = try RunSpec.parse(text, file: "fuzz.yaml", baseDirectory: URL(fileURLWithPath: "/nonexistent"))
    } catch {
        _ = error.description
    }
    return 0
}

/// Hands `fuzzSpec` to libFuzzer.
@main
enum FuzzSpecMain {
    static func main() { runFuzzer(fuzzSpec) }
}
