/// A metrics log or CSV export that could not be opened, written or read, in one line:
/// `file: message`, or `file:line: message` for a bad line of `metrics.jsonl` (1-based, as an
/// editor numbers lines).
public enum MetricsLogError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or created (missing folder, no permission).
    case cannotOpen(file: String, reason: String)
    /// Writing failed (disk full, I/O error).
    case cannotWrite(file: String, reason: String)
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// A complete line (one ending in a newline) is not a metrics object.
    case badLine(file: String, line: Int, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .cannotOpen(let file, _), .cannotWrite(let file, _), .unreadable(let file, _),
             .badLine(let file, _, _): file
        }
    }

    /// The error in one line, the file first.
    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "\(file): cannot open for writing: \(reason)"
        case .cannotWrite(let file, let reason): "\(file): cannot write: \(reason)"
        case .unreadable(let file, let reason): "\(file): cannot read the file: \(reason)"
        case .badLine(let file, let line, let reason):
            "\(file):\(line): not a metrics line (expected a JSON object with at least \"step\" and \"loss\"): \(reason)"
        }
    }
}
