/// The cells of a CSV text, split but not yet interpreted (RFC 4180, read leniently).
///
/// Rules: records end at LF, CRLF or a lone CR; a UTF-8 byte-order mark at the start is
/// skipped; blank lines (empty or only spaces and tabs) are skipped wherever they are; spaces
/// and tabs around an unquoted cell are trimmed; a cell that starts with `"` is quoted: it
/// may hold delimiters and line breaks, `""` stands for one `"`, and only spaces may follow the
/// closing quote before the delimiter or the line end. A `"` inside an unquoted cell is kept.
struct CSVTable {
    let bytes: [UInt8]
    let file: String
    /// Per cell: the byte range of its text (inside the quotes for a quoted cell).
    private(set) var cellStart: [Int] = []
    private(set) var cellEnd: [Int] = []
    /// Per cell: whether it was quoted (its text may contain `""` to unescape).
    private(set) var cellQuoted: [Bool] = []
    /// Per record: the index of its first cell; one more entry at the end.
    private(set) var recordFirstCell: [Int] = [0]
    /// Per record: the 1-based line of the file where it starts.
    private(set) var recordLine: [Int] = []

    /// Number of records (rows), blank lines not counted.
    var recordCount: Int { recordLine.count }

    /// Number of cells in `record`.
    func cellCount(_ record: Int) -> Int { recordFirstCell[record + 1] - recordFirstCell[record] }

    /// Splits `bytes` into records and cells.
    init(bytes: [UInt8], file: String, delimiter: UInt8) throws(DataError) {
        self.bytes = bytes
        self.file = file
        var cells = Cells()
        let failure = bytes.withUnsafeBufferPointer { buffer in
            Self.split(buffer, file: file, delimiter: delimiter, into: &cells)
        }
        if let failure { throw failure }
        cellStart = cells.start
        cellEnd = cells.end
        cellQuoted = cells.quoted
        recordFirstCell = cells.recordFirstCell
        recordLine = cells.recordLine
    }

    /// The cells found by `split`, as the arrays of the same names above.
    struct Cells {
        var start: [Int] = []
        var end: [Int] = []
        var quoted: [Bool] = []
        var recordFirstCell: [Int] = [0]
        var recordLine: [Int] = []
    }

    /// Splits the text into `cells`; returns the error that stops it, or nil.
    static func split(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String, delimiter: UInt8, into cells: inout Cells
    ) -> DataError? {
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        func isPadding(_ byte: UInt8) -> Bool { (byte == space || byte == tab) && byte != delimiter }
        let count = bytes.count
        var index = 0
        if count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { index = 3 }
        var line = 1
        // One iteration per record.
        while index < count {
            let firstLine = line
            let firstCell = cells.start.count
            var column = 1
            var recordEnded = false
            while !recordEnded {
                while index < count && isPadding(bytes[index]) { index += 1 }
                if index < count && bytes[index] == quote {
                    let quoteLine = line
                    index += 1
                    let start = index
                    var closed = false
                    while index < count {
                        let byte = bytes[index]
                        if byte == quote {
                            if index + 1 < count && bytes[index + 1] == quote {
                                index += 2
                                continue
                            }
                            closed = true
                            break
                        }
                        if byte == newline || (byte == carriageReturn && !(index + 1 < count && bytes[index + 1] == newline)) {
                            line += 1
                        }
                        index += 1
                    }
                    guard closed else {
                        return DataError(file: file, location: .cell(row: quoteLine, column: column), reason: .unterminatedQuote)
                    }
                    cells.start.append(start)
                    cells.end.append(index)
                    cells.quoted.append(true)
                    index += 1
                    while index < count && isPadding(bytes[index]) { index += 1 }
                    if index < count && bytes[index] != delimiter && bytes[index] != newline && bytes[index] != carriageReturn {
                        var end = index
                        while end < count && end - index < 20 && bytes[end] != delimiter && bytes[end] != newline
                            && bytes[end] != carriageReturn { end += 1 }
                        return DataError(file: file, location: .cell(row: line, column: column),
                                        reason: .characterAfterQuote(String(decoding: bytes[index..<end], as: UTF8.self)))
                    }
                } else {
                    let start = index
                    while index < count && bytes[index] != delimiter && bytes[index] != newline && bytes[index] != carriageReturn {
                        index += 1
                    }
                    var end = index
                    while end > start && isPadding(bytes[end - 1]) { end -= 1 }
                    cells.start.append(start)
                    cells.end.append(end)
                    cells.quoted.append(false)
                }
                // After a cell: a delimiter, a line end, or the end of the text.
                if index < count && bytes[index] == delimiter {
                    index += 1
                    column += 1
                    // A delimiter at the very end of the text still opens one (empty) cell.
                    if index == count {
                        cells.start.append(index)
                        cells.end.append(index)
                        cells.quoted.append(false)
                        recordEnded = true
                    }
                } else {
                    if index < count && bytes[index] == carriageReturn {
                        index += 1
                        if index < count && bytes[index] == newline { index += 1 }
                    } else if index < count && bytes[index] == newline {
                        index += 1
                    }
                    line += 1
                    recordEnded = true
                }
            }
            // A blank line is one empty unquoted cell: drop it.
            if cells.start.count - firstCell == 1 && !cells.quoted[firstCell] && cells.start[firstCell] == cells.end[firstCell] {
                cells.start.removeLast()
                cells.end.removeLast()
                cells.quoted.removeLast()
                continue
            }
            cells.recordFirstCell.append(cells.start.count)
            cells.recordLine.append(firstLine)
        }
        return nil
    }

    /// The flat index of a cell.
    @inline(__always)
    func cellIndex(_ record: Int, _ column: Int) -> Int { recordFirstCell[record] + column }

    /// Whether the cell has no text (and was not quoted: `""` is an empty string, also empty).
    func isEmpty(_ record: Int, _ column: Int) -> Bool {
        let cell = cellIndex(record, column)
        return cellStart[cell] == cellEnd[cell]
    }

    /// The cell's text, quotes removed and `""` unescaped.
    func text(_ record: Int, _ column: Int) -> String {
        let cell = cellIndex(record, column)
        let raw = bytes[cellStart[cell]..<cellEnd[cell]]
        guard cellQuoted[cell] else { return String(decoding: raw, as: UTF8.self) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        var previousWasQuote = false
        for byte in raw {
            if byte == UInt8(ascii: "\"") && previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = byte == UInt8(ascii: "\"")
            unescaped.append(byte)
        }
        return String(decoding: unescaped, as: UTF8.self)
    }

    /// The cell's value as a number, or nil when its text is not one. NaN and infinities
    /// (`nan`, `inf`, `1e999`) are returned as such; the caller decides.
    func number(_ record: Int, _ column: Int) -> Double? {
        let cell = cellIndex(record, column)
        if cellQuoted[cell] {
            return Double(text(record, column).trimmingSpaces())
        }
        let start = cellStart[cell], end = cellEnd[cell]
        return bytes.withUnsafeBufferPointer { CSVTable.parseNumber($0, start, end) }
    }

    static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A decimal number from `bytes[start..<end]`.
    ///
    /// Fast path (Clinger): when the digits form an integer `m ≤ 2⁵³` and the decimal exponent
    /// `e` has `|e| ≤ 22`, `m · 10^e` (or `m / 10^−e`) is one correctly rounded operation on
    /// exact operands, so the result equals the correctly rounded decimal. Anything else goes
    /// through `Double(String)`.
    static func parseNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        precondition(start >= 0 && start <= end && end <= bytes.count, "parseNumber: range \(start)..<\(end) outside the text")
        var index = start
        guard index < end else { return nil }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var digitCount = 0
        var exponent = 0
        var fast = true
        while index < end, bytes[index] &- 48 < 10 {
            let digit = UInt64(bytes[index] &- 48)
            if mantissa != 0 || digit != 0 { significantDigits += 1 }
            if significantDigits <= 19 { mantissa = mantissa &* 10 &+ digit } else { exponent += 1 }
            digitCount += 1
            index += 1
        }
        if index < end && bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < end, bytes[index] &- 48 < 10 {
                let digit = UInt64(bytes[index] &- 48)
                if mantissa != 0 || digit != 0 { significantDigits += 1 }
                if significantDigits <= 19 {
                    mantissa = mantissa &* 10 &+ digit
                    exponent -= 1
                }
                digitCount += 1
                index += 1
            }
        }
        if digitCount == 0 { fast = false }
        if fast && index < end && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            index += 1
            var exponentNegative = false
            if index < end && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var explicit = 0
            var exponentDigits = 0
            while index < end, bytes[index] &- 48 < 10 {
                if explicit < 100_000 { explicit = explicit * 10 + Int(bytes[index] &- 48) }
                exponentDigits += 1
                index += 1
            }
            if exponentDigits == 0 { fast = false }
            exponent += exponentNegative ? -explicit : explicit
        }
        if fast && index == end && significantDigits <= 19 && mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent >= 0 { value *= powersOfTen[exponent] } else { value /= powersOfTen[-exponent] }
            return negative ? -value : value
        }
        return Double(String(decoding: bytes[start..<end], as: UTF8.self))
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
