import Foundation

// metrics.jsonl: one JSON object per logged step, written a line at a time so that a killed
// run keeps every line it completed.

/// Appends `MetricsLine`s to a JSON-lines file (`runs/<name>/metrics.jsonl`), one object per
/// line, each line handed to the system in a single `write(2)` as soon as it is appended (no
/// buffering in the process), so a run that is killed keeps every complete line. At most the
/// line being written when the process died is cut short; `readLines(url:)` ignores such an
/// incomplete last line, and opening the file again with `.append` removes it before the
/// first new line (resume after a crash).
///
/// Not thread-safe: append from one thread at a time.
public final class MetricsLog {
    /// What to do with an existing file.
    public enum Mode: Sendable {
        /// Start an empty file (an existing one is emptied).
        case create
        /// Keep the lines already there and add after them (resuming a run). A last line
        /// without its newline is completed with one if it holds a whole JSON metrics object,
        /// and otherwise (a line cut short by a crash) removed.
        case append
    }

    /// The file.
    public let url: URL
    /// Whether opening in `.append` mode removed an incomplete last line.
    public private(set) var removedIncompleteLine = false
    private var file: LogFile

    /// Opens `url` for logging.
    ///
    /// - Parameters:
    ///   - url: the file (its folder must exist).
    ///   - mode: `.create` (empty the file) or `.append` (keep its lines).
    /// - Throws: `MetricsLogError.cannotOpen` or `.unreadable` naming the file.
    public init(url: URL, mode: Mode = .create) throws {
        self.url = url
        let name = url.relativePath
        do throws(LogFile.Failure) {
            file = try LogFile(path: url.path, mode: mode == .create ? .truncate : .append)
        } catch {
            throw MetricsLogError.cannotOpen(file: name, reason: error.reason)
        }
        if mode == .append { try repairLastLine() }
    }

    deinit {
        try? file.close()
    }

    /// Writes `line` as one JSON object and a newline (`MetricsLine.json`), in one system call.
    ///
    /// - Parameter line: the step's figures.
    /// - Throws: `MetricsLogError.cannotWrite` naming the file.
    public func append(_ line: MetricsLine) throws {
        precondition(file.isOpen, "MetricsLog: append after close() to \(url.path)")
        do throws(LogFile.Failure) {
            try file.write(Array((line.json + "\n").utf8))
        } catch {
            throw MetricsLogError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
    }

    /// Closes the file (later calls do nothing).
    ///
    /// - Throws: `MetricsLogError.cannotWrite` when the system reports a failure on close.
    public func close() throws {
        do throws(LogFile.Failure) {
            try file.close()
        } catch {
            throw MetricsLogError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
    }

    /// Reads a metrics file back, line by line.
    ///
    /// Blank lines are skipped. A last line without its newline is the one a killed run was
    /// writing: it is returned if it holds a whole metrics object and ignored otherwise. Every
    /// other line must decode (`"nan"`, `"inf"`, `"-inf"` read as the non-finite Doubles).
    /// - Parameter url: the `metrics.jsonl` file.
    /// - Returns: the lines in file order.
    /// - Throws: `MetricsLogError.unreadable`, or `.badLine` with the 1-based line number.
    public static func readLines(url: URL) throws -> [MetricsLine] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MetricsLogError.unreadable(file: url.relativePath, reason: TensorBoardWriter.reason(error))
        }
        return try readLines(bytes: [UInt8](data), file: url.relativePath)
    }

    /// Reads the bytes of a metrics file, as `readLines(url:)` does.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - file: the file's name for error messages.
    /// - Returns: the lines in file order.
    /// - Throws: `MetricsLogError.badLine` with the 1-based line number.
    public static func readLines(bytes: [UInt8], file: String) throws -> [MetricsLine] {
        let decoder = MetricsLine.decoder()
        var lines: [MetricsLine] = []
        var start = 0, number = 1
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: 0x0A)
            let end = newline ?? bytes.count
            let text = bytes[start..<end]
            if !text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                do {
                    lines.append(try decoder.decode(MetricsLine.self, from: Data(text)))
                } catch where newline == nil {
                    // An incomplete last line, cut short by a crash.
                } catch {
                    throw MetricsLogError.badLine(file: file, line: number, reason: describe(error))
                }
            }
            start = end + 1
            number += 1
        }
        return lines
    }

    // MARK: Resuming

    /// In append mode: completes or removes a last line that has no newline.
    private func repairLastLine() throws {
        let name = url.relativePath
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw MetricsLogError.unreadable(file: name, reason: TensorBoardWriter.reason(error))
        }
        defer { try? handle.close() }
        do {
            let size = Int(try handle.seekToEnd())
            guard size > 0 else { return }
            // Find the start of the last line, reading backwards in 64 KiB chunks.
            var tail: [UInt8] = []
            var position = size
            var lineStart = 0
            search: while position > 0 {
                let chunkStart = Swift.max(0, position - 65_536)
                try handle.seek(toOffset: UInt64(chunkStart))
                let chunk = [UInt8](try handle.read(upToCount: position - chunkStart) ?? Data())
                if let last = chunk.lastIndex(of: 0x0A) {
                    lineStart = chunkStart + last + 1
                    tail = Array(chunk[(last + 1)...]) + tail
                    break search
                }
                tail = chunk + tail
                position = chunkStart
            }
            guard lineStart < size else { return }
            let whole = !tail.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
                && (try? MetricsLine.decoder().decode(MetricsLine.self, from: Data(tail))) != nil
            do throws(LogFile.Failure) {
                if whole {
                    try file.write(Array("\n".utf8))
                } else {
                    try file.truncate(to: lineStart)
                    removedIncompleteLine = true
                }
            } catch {
                throw MetricsLogError.cannotWrite(file: name, reason: error.reason)
            }
        } catch let error as MetricsLogError {
            throw error
        } catch {
            throw MetricsLogError.unreadable(file: name, reason: TensorBoardWriter.reason(error))
        }
    }
}

/// A decoding error in a few words: which key and what was expected.
private func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the line" : "\"" + keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "\""
    }
    switch error {
    case .keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
    case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
    case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(type), found null"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "invalid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
}
