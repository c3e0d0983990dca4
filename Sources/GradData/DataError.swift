/// A problem with a user's data file: what went wrong, in which file, and where.
///
/// `description` is one line in the style of a compiler diagnostic, so that an editor or a
/// terminal can jump to the place:
/// - text files (CSV): `file:row:column: message` or `file:row: message`, both 1-based, the
///   row being the line of the file as an editor numbers it (header included) and the column
///   the field's position in that row (`data.csv:17:3: cell 'abc' is not a number`);
/// - binary files (IDX, gzip): `file: byte offset: message`, the offset 0-based from the
///   start of the file; gzip errors count in the compressed file, IDX errors in the
///   decompressed contents of a gzipped IDX file (as `zcat file | xxd` shows them);
/// - the whole file: `file: message`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where in the file the problem is.
    public enum Location: Equatable, Sendable {
        /// The file as a whole (unreadable, empty).
        case file
        /// A row of a text file (1-based line number).
        case row(Int)
        /// A cell of a text file: 1-based line number and 1-based field position.
        case cell(row: Int, column: Int)
        /// A 0-based byte offset in a binary file.
        case byte(Int)
    }

    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// The file could not be read (missing, a directory, no permission); the system's words.
        case unreadable(String)
        /// The file holds no data at all (zero bytes, or only blank lines).
        case emptyFile
        /// The file has a header row and no data rows.
        case headerOnly
        /// A row has `found` cells where the first row has `expected`.
        case raggedRow(found: Int, expected: Int)
        /// A feature or regression-target cell is not a number.
        case notANumber(cell: String)
        /// A cell is empty where a value is needed (`expected` says which: a number, a label).
        case emptyCell(expected: String)
        /// A value is NaN or an infinity (`nan`, `inf`, `1e999` in a CSV cell; a float in IDX).
        case notFinite(value: String)
        /// A class label is not a non-negative integer below `limit`.
        case invalidLabel(cell: String, limit: Int)
        /// The target column was asked for by a name that no header cell has.
        case targetColumnNotFound(name: String, available: [String])
        /// The target column was asked for by name in a file without a header.
        case targetNameWithoutHeader(name: String)
        /// The target column index is outside the row (`index` as given, zero-based).
        case targetColumnOutOfRange(index: Int, columns: Int)
        /// The file has only the target column and no feature column.
        case noFeatureColumns
        /// A quoted field is not closed before the end of the file.
        case unterminatedQuote
        /// Something other than a delimiter or a line end follows a closing quote.
        case characterAfterQuote(String)
        /// The first four bytes of an IDX file are not a known magic number.
        case badMagic(found: UInt32, expected: String)
        /// The file ends too early; the text says inside what, with the sizes when known.
        case truncated(String)
        /// The file goes on after the data its header describes.
        case trailingBytes(count: Int)
        /// The labels file holds a different number of items than the images file.
        case labelCountMismatch(images: Int, labels: Int, imagesFile: String)
        /// The dimensions in an IDX header describe an impossible or unusable array.
        case badDimensions(String)
        /// An argument of a generated data set (a count, a length) is out of range.
        case badArgument(String)
        /// A gzip member header is malformed (wrong magic, method, reserved flags, header CRC).
        case badGzipHeader(String)
        /// The compressed (DEFLATE) data is invalid.
        case corruptDeflate(String)
        /// The stored CRC-32 of the uncompressed data does not match.
        case checksumMismatch(stored: UInt32, computed: UInt32)
        /// The stored uncompressed size (mod 2³²) does not match.
        case sizeMismatch(stored: UInt32, computed: UInt32)
        /// A data file that ships with GradLab is missing from the installation.
        case missingResource(String)
        /// The file, or its decompressed contents, is larger than the configured limit
        /// (`FileSizeLimit`); the text gives the sizes and how to change the limit.
        case tooLarge(String)
        /// A finite number too large for the element type the data are read into
        /// (`1e39` in 32-bit floats); `type` names the type, `largest` its largest value.
        case outOfRange(value: String, type: String, largest: String)
    }

    /// The file as the user named it (a path, or a resource's name).
    public let file: String
    /// The place in the file.
    public let location: Location
    /// What went wrong.
    public let reason: Reason

    /// An error about `file` at `location`.
    public init(file: String, location: Location, reason: Reason) {
        self.file = file
        self.location = location
        self.reason = reason
    }

    /// The reason in words (no file or place), one line.
    public var message: String {
        switch reason {
        case .unreadable(let why): "cannot read the file: \(why)"
        case .emptyFile: "the file is empty"
        case .headerOnly: "the file has a header row but no data rows"
        case .raggedRow(let found, let expected):
            "row has \(found) cell\(found == 1 ? "" : "s"), expected \(expected) as in the first row"
        case .notANumber(let cell): "cell '\(Self.quoted(cell))' is not a number"
        case .emptyCell(let expected): "empty cell (expected \(expected))"
        case .notFinite(let value): "value '\(Self.quoted(value))' is not a finite number (NaN and infinity are not allowed)"
        case .invalidLabel(let cell, let limit):
            "class label '\(Self.quoted(cell))' is not an integer in 0..<\(limit)"
        case .targetColumnNotFound(let name, let available):
            "no column named '\(Self.quoted(name))' (columns: \(Self.quoted(available.joined(separator: ", "))))"
        case .targetNameWithoutHeader(let name):
            "target column '\(Self.quoted(name))' is named but the file has no header row"
        case .targetColumnOutOfRange(let index, let columns):
            "target column index \(index) is out of range (the rows have \(columns) columns: 0..<\(columns), or -\(columns)..<0 from the end)"
        case .noFeatureColumns: "the rows have only the target column (expected at least one feature column)"
        case .unterminatedQuote: "quoted field is not closed before the end of the file"
        case .characterAfterQuote(let text):
            "unexpected '\(Self.quoted(text))' after a closing quote (expected a delimiter or the end of the line)"
        case .badMagic(let found, let expected):
            "bad magic number 0x\(Self.hex(found)) (expected \(expected))"
        case .truncated(let what): "truncated \(what)"
        case .trailingBytes(let count): "\(count) unexpected byte\(count == 1 ? "" : "s") after the end of the data"
        case .labelCountMismatch(let images, let labels, let imagesFile):
            "\(labels) labels for \(images) images in \(Self.quoted(imagesFile, limit: 200)) (expected one label per image)"
        case .badDimensions(let why): "bad dimensions: \(why)"
        case .badArgument(let why): "bad argument: \(why)"
        case .badGzipHeader(let why): "not a valid gzip file: \(why)"
        case .corruptDeflate(let why): "corrupt compressed data: \(why)"
        case .checksumMismatch(let stored, let computed):
            "corrupt gzip data: CRC-32 0x\(Self.hex(computed)) of the decompressed data does not match the stored 0x\(Self.hex(stored))"
        case .sizeMismatch(let stored, let computed):
            "corrupt gzip data: decompressed size \(computed) (mod 2^32) does not match the stored \(stored)"
        case .missingResource(let name): "bundled data file \(name) is missing from the installation"
        case .tooLarge(let why): why
        case .outOfRange(let value, let type, let largest):
            "value '\(Self.quoted(value))' is too large for \(type) (largest \(largest)); rescale the data, or standardize the features"
        }
    }

    /// `file:row:column: message` (see the type's documentation), always one line.
    public var description: String {
        let name = Self.quoted(file, limit: 200)
        switch location {
        case .file: return "\(name): \(message)"
        case .row(let row): return "\(name):\(row): \(message)"
        case .cell(let row, let column): return "\(name):\(row):\(column): \(message)"
        case .byte(let offset): return "\(name): byte \(offset): \(message)"
        }
    }

    /// `text` made safe for a one-line message: control characters escaped, long text cut.
    static func quoted(_ text: String, limit: Int = 40) -> String { oneLineText(text, limit: limit) }

    /// Eight uppercase hexadecimal digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}

/// `text` made safe for a one-line error message: newlines, tabs and other control characters
/// escaped (`\n`, `\t`, `\u{7}`), cut after `limit` characters with `ellipsis`.
public func oneLineText(_ text: String, limit: Int = 40, ellipsis: String = "…") -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit {
            out += ellipsis
            break
        }
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}" {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        count += 1
    }
    return out
}
