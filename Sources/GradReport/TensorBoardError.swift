/// A TensorBoard event file that could not be created or written: which file and the
/// system's reason, in one line (`runs/a/events.out.tfevents.…: cannot write: No space left on device`).
public enum TensorBoardError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder or the file could not be created (missing parent, no permission, a file in
    /// the folder's place).
    case cannotCreate(file: String, reason: String)
    /// Writing buffered events to the file failed (disk full, I/O error).
    case cannotWrite(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .cannotCreate(let file, _), .cannotWrite(let file, _): file
        }
    }

    /// `file: what failed: reason`.
    public var description: String {
        switch self {
        case .cannotCreate(let file, let reason): "\(file): cannot create the TensorBoard event file: \(reason)"
        case .cannotWrite(let file, let reason): "\(file): cannot write TensorBoard events: \(reason)"
        }
    }
}
