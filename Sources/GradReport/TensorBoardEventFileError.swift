/// A TensorBoard event file that could not be read, is damaged before its end, or could not be
/// rewritten, in one line naming the file and, for damage, the byte offset
/// (`runs/a/events.out.tfevents.…: byte 4120: the record's data does not match its CRC-32C`).
///
/// A last record cut short by a kill is not an error (`TensorBoardEventFile.read` stops before
/// it); damage that a kill cannot cause is: a checksum that does not match, a record length
/// no `Event` can have, or record data that is not an `Event` message.
public enum TensorBoardEventFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or mapped (missing, no permission, not a regular file).
    case unreadable(file: String, reason: String)
    /// The masked CRC-32C after a record's 8-byte length does not match the length.
    case lengthChecksumMismatch(file: String, offset: Int)
    /// A record's length (with a valid checksum) is beyond `TensorBoardEventFile.maximumRecordLength`.
    case recordTooLong(file: String, offset: Int, length: UInt64)
    /// The masked CRC-32C after a record's data does not match the data.
    case dataChecksumMismatch(file: String, offset: Int)
    /// A record's data (with valid checksums) is not a well-formed `Event` message; `offset` is
    /// the byte of the bad field.
    case badEvent(file: String, offset: Int, reason: String)
    /// The truncated copy could not be written or moved into the file's place (the file is
    /// left as it was).
    case cannotWrite(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .lengthChecksumMismatch(let file, _), .recordTooLong(let file, _, _),
             .dataChecksumMismatch(let file, _), .badEvent(let file, _, _), .cannotWrite(let file, _): file
        }
    }

    /// The byte offset of the damage in the file, for the cases about damage.
    public var offset: Int? {
        switch self {
        case .lengthChecksumMismatch(_, let offset), .recordTooLong(_, let offset, _),
             .dataChecksumMismatch(_, let offset), .badEvent(_, let offset, _): offset
        case .unreadable, .cannotWrite: nil
        }
    }

    /// `file: byte N: what is wrong`, or `file: what failed: reason`.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the TensorBoard event file: \(reason)"
        case .lengthChecksumMismatch(let file, let offset):
            "\(file): byte \(offset): the record's length does not match its CRC-32C (the event file is damaged)"
        case .recordTooLong(let file, let offset, let length):
            "\(file): byte \(offset): record length \(length) is beyond the \(TensorBoardEventFile.maximumRecordLength)-byte limit of an Event (the event file is damaged)"
        case .dataChecksumMismatch(let file, let offset):
            "\(file): byte \(offset): the record's data does not match its CRC-32C (the event file is damaged)"
        case .badEvent(let file, let offset, let reason):
            "\(file): byte \(offset): the record is not an Event message: \(reason)"
        case .cannotWrite(let file, let reason):
            "\(file): cannot rewrite the TensorBoard event file: \(reason)"
        }
    }
}
