#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The POSIX file under the append-only logs (metrics.jsonl, TensorBoard event files): one
// `write(2)` per call, so what a call wrote survives the process being killed right after it.

/// An open file descriptor written with `write(2)`, with failures as the system's words.
struct LogFile {
    /// A failed system call: `strerror(errno)`.
    struct Failure: Error {
        /// The `errno` value.
        let code: Int32
        /// `strerror(code)`.
        let reason: String
        init(errno code: Int32) {
            self.code = code
            reason = String(cString: strerror(code))
        }
    }

    /// How to open the file.
    enum Mode {
        /// Create it; fail if it exists (`O_CREAT | O_EXCL`).
        case createNew
        /// Create it or empty it (`O_CREAT | O_TRUNC`).
        case truncate
        /// Create it or keep its contents and write at its end (`O_CREAT | O_APPEND`).
        case append
    }

    /// The path it was opened with.
    let path: String
    /// The descriptor, −1 once closed.
    private(set) var descriptor: Int32

    /// Opens `path` for writing (permissions 0644 when created).
    init(path: String, mode: Mode) throws(Failure) {
        let flags: Int32
        switch mode {
        case .createNew: flags = O_WRONLY | O_CREAT | O_EXCL
        case .truncate: flags = O_WRONLY | O_CREAT | O_TRUNC
        case .append: flags = O_WRONLY | O_CREAT | O_APPEND
        }
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(errno: errno) }
        self.path = path
        descriptor = fd
    }

    /// Whether the descriptor is still open.
    var isOpen: Bool { descriptor >= 0 }

    /// Writes all of `bytes`, retrying short writes and `EINTR`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        precondition(descriptor >= 0, "LogFile: write to \(path) after close")
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = systemWrite(descriptor, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(errno: errno)
            }
            base += written
            left -= written
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(Failure) {
        let failure: Failure? = bytes.withUnsafeBytes { raw in
            do throws(Failure) { try write(raw); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Shortens the file to `length` bytes.
    func truncate(to length: Int) throws(Failure) {
        if ftruncate(descriptor, off_t(length)) != 0 { throw Failure(errno: errno) }
    }

    /// Closes the descriptor (once; later calls do nothing).
    mutating func close() throws(Failure) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        if systemClose(fd) != 0 { throw Failure(errno: errno) }
    }
}

/// `write(2)` (named apart from the methods called `write`).
private func systemWrite(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, base, count)
    #elseif canImport(Musl)
    Musl.write(fd, base, count)
    #else
    Darwin.write(fd, base, count)
    #endif
}

/// `close(2)`.
private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #elseif canImport(Musl)
    Musl.close(fd)
    #else
    Darwin.close(fd)
    #endif
}

/// The machine's host name (`gethostname`), with `/` and control characters replaced so it
/// can sit in a file name; `localhost` when it is unavailable.
func hostNameForFileName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let cleaned = String(name.unicodeScalars.map { $0 == "/" || $0.value < 0x20 ? "_" : Character($0) })
    return cleaned.isEmpty ? "localhost" : cleaned
}

/// This process's id.
func currentProcessID() -> Int { Int(getpid()) }
