import Foundation

/// libFuzzer's entry for programs that have their own `main` (compiler-rt, LLVM 11 and later).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer on `testOneInput` with the process's command line, then exits with its status.
///
/// SwiftPM renames an executable's `main` (so that tests can import it), which hides the `main`
/// that `-sanitize=fuzzer` links in; each target's `@main` therefore hands over to libFuzzer here.
/// - Parameter testOneInput: the target's `LLVMFuzzerTestOneInput`: `(bytes, count) -> 0`.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// The fuzzer's input as a buffer (empty when libFuzzer passes no pointer).
public func fuzzInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: count > 0 ? bytes : nil, count: count)
}
