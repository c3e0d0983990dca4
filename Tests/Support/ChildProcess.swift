import Foundation

/// What a child process left: its exit status, its output, and whether it ran out of time.
public struct ProcessOutput: Sendable {
    /// The exit status (or the signal's number when it was stopped).
    public let status: Int32
    /// Everything it wrote to stdout, as UTF-8 (invalid bytes replaced).
    public let stdout: String
    /// Everything it wrote to stderr, as UTF-8 (invalid bytes replaced).
    public let stderr: String
    /// Whether it was stopped after running past its time limit.
    public let timedOut: Bool
}

/// Runs `executable` with `arguments` and waits for it, stopping it (SIGTERM) after `timeout`
/// seconds.
///
/// Stdout and stderr go to files, not pipes: a program that writes a lot (Chromium's log on
/// stderr) would otherwise fill a pipe nobody reads and stall. Stdin is `/dev/null`.
///
/// - Parameters:
///   - executable: the program.
///   - arguments: its arguments.
///   - cwd: its working folder (nil: this process's).
///   - environment: its environment (nil: this process's).
///   - timeout: seconds before it is stopped.
public func runProcess(
    _ executable: URL, _ arguments: [String], in cwd: URL? = nil, environment: [String: String]? = nil, timeout: Double
) throws -> ProcessOutput {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-process-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = cwd }
    if let environment { process.environment = environment }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    var timedOut = false
    if done.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        process.terminate()
        _ = done.wait(timeout: .now() + 5)
    }
    return ProcessOutput(
        status: process.terminationStatus, stdout: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
        stderr: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self), timedOut: timedOut)
}

/// The first of `names` that is an executable file in a folder of `PATH` (names in order, each
/// looked for in every folder), or nil.
public func executableOnPath(_ names: [String]) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for name in names {
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
    }
    return nil
}
