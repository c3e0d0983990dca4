import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The largest files GradLab reads, so that a wrong path (a disk image, `/dev/zero`) or a
/// hostile file is refused with a message instead of filling memory.
///
/// Defaults: 2 GiB for data files (CSV and IDX, and separately the decompressed contents of a
/// gzip-compressed one) and checkpoints, 16 MiB for spec files. The environment variable
/// `GRADLAB_MAX_FILE_BYTES` (a byte count with an optional `K`, `M`, `G` or `T` suffix for
/// powers of 1024: `65536`, `64M`, `4G`) replaces both limits. An unparsable value is ignored
/// by the library (the defaults apply); the `gradlab` commands refuse it as bad usage.
public enum FileSizeLimit {
    /// The environment variable that sets the limit: `GRADLAB_MAX_FILE_BYTES`.
    public static let environmentVariable = "GRADLAB_MAX_FILE_BYTES"
    /// The default limit for data files and checkpoints: 2 GiB.
    public static let defaultDataBytes = 2 << 30
    /// The default limit for spec files: 16 MiB.
    public static let defaultSpecBytes = 16 << 20

    /// The limit for data files, their decompressed contents and checkpoints: the environment
    /// variable's value, or 2 GiB.
    public static var dataBytes: Int { configuredBytes ?? defaultDataBytes }

    /// The limit for spec files: the environment variable's value, or 16 MiB.
    public static var specBytes: Int { configuredBytes ?? defaultSpecBytes }

    /// The environment variable's value in bytes, or nil when it is unset or unparsable.
    public static var configuredBytes: Int? {
        // getenv rather than ProcessInfo, which may cache the environment of the launch.
        guard let value = getenv(environmentVariable) else { return nil }
        return parse(String(cString: value))
    }

    /// A byte count written as digits with an optional binary suffix (`K`, `M`, `G`, `T`, also
    /// `KiB`, `MB` and the like, all powers of 1024; case-insensitive), at least 1; nil for
    /// anything else or a count beyond `Int.max`.
    ///
    /// - Parameter text: `1048576`, `64M`, `2GiB`.
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit = ""
        while let last = digits.last, last.isLetter {
            unit = String(last) + unit
            digits.removeLast()
        }
        digits = Substring(digits.trimmingCharacters(in: .whitespaces))
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits), count >= 1 else {
            return nil
        }
        let shift: Int
        switch unit.lowercased() {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        case "t", "tb", "tib": shift = 40
        default: return nil
        }
        guard count <= Int.max >> shift else { return nil }
        return count << shift
    }

    /// A byte count for messages: `512 bytes`, `64.0 KiB`, `2.0 GiB`.
    ///
    /// - Parameter bytes: the count (≥ 0).
    public static func describe(_ bytes: Double) -> String {
        if bytes < 1024 { return "\(Int(bytes)) byte\(bytes == 1 ? "" : "s")" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = bytes / 1024
        var index = 0
        while value >= 1024 && index < units.count - 1 {
            value /= 1024
            index += 1
        }
        return String(format: "%.1f %@", value, units[index])
    }

    /// `describe` for an integer count.
    public static func describe(_ bytes: Int) -> String { describe(Double(bytes)) }

    /// `describe` with the exact count after it when it is rounded: `3.0 GiB (3221225472 bytes)`,
    /// `100 bytes`.
    public static func describeExactly(_ bytes: Int) -> String {
        bytes < 1024 ? describe(bytes) : "\(describe(bytes)) (\(bytes) bytes)"
    }

    /// The advice every size message ends with.
    static var advice: String { "set \(environmentVariable) to change the limit" }
}

/// Why `BoundedFile.read` did not return a file's bytes.
public enum FileReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing exists at the path.
    case noSuchFile
    /// The path names a directory.
    case isDirectory
    /// The system refused to read it; its words.
    case unreadable(String)
    /// The file holds more than `limit` bytes (`size` when the file system knows it, nil for a
    /// pipe or a device that went on past the limit).
    case tooLarge(size: Int?, limit: Int)

    /// The reason in words, one line (`the file is 3.0 GiB (3221225472 bytes), larger than the
    /// limit of 2.0 GiB (2147483648 bytes); set GRADLAB_MAX_FILE_BYTES to change the limit`).
    public var description: String {
        switch self {
        case .noSuchFile: "no such file"
        case .isDirectory: "it is a directory"
        case .unreadable(let why): why
        case .tooLarge(let size, let limit):
            (size.map { "the file is \(FileSizeLimit.describeExactly($0))" } ?? "the file goes on past the limit")
                + ", larger than the limit of \(FileSizeLimit.describeExactly(limit)); \(FileSizeLimit.advice)"
        }
    }
}

/// Reading a whole file without reading past a size limit.
public enum BoundedFile {
    /// The bytes of the file at `url`, or the reason they were not read.
    ///
    /// A regular file larger than `limit` is refused from its size alone, before anything is
    /// read or allocated; a pipe or a device (whose size is unknown) is read up to `limit + 1`
    /// bytes and refused when that many arrive.
    ///
    /// - Parameters:
    ///   - url: a file URL.
    ///   - limit: the most bytes accepted (≥ 0).
    /// - Throws: `FileReadError`.
    public static func read(_ url: URL, limit: Int) throws(FileReadError) -> [UInt8] {
        precondition(limit >= 0, "BoundedFile.read: negative limit \(limit)")
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(errno) }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFDIR { throw .isDirectory }
        let isRegular = kind == S_IFREG
        let knownSize = isRegular ? Int(status.st_size) : nil
        if let knownSize, knownSize > limit { throw .tooLarge(size: knownSize, limit: limit) }

        // Read to the end (a regular file may have grown since fstat), never past limit + 1.
        var bytes = [UInt8](repeating: 0, count: min((knownSize ?? 0) + 1, limit + 1))
        var count = 0
        while count <= limit {
            if count == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: min(max(bytes.count, 1 << 16), limit + 1 - count)))
            }
            let wanted = bytes.count - count
            let got = bytes.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress! + count, wanted)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            if got == 0 { break }
            count += got
        }
        if count > limit { throw .tooLarge(size: knownSize.map { max($0, count) }, limit: limit) }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// The error for a failed system call.
    private static func failure(_ code: Int32) -> FileReadError {
        switch code {
        case ENOENT, ENOTDIR: .noSuchFile
        case EISDIR: .isDirectory
        default: .unreadable(String(cString: strerror(code)).lowercased())
        }
    }
}

/// `read(2)` under one name on Linux and macOS.
@inline(__always)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(descriptor, buffer, count)
    #else
    Darwin.read(descriptor, buffer, count)
    #endif
}
