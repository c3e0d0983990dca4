// The byte buffer the SVG, HTML and CSV writers append to: text written by this module as is,
// user text escaped for markup (`escapeMarkup`), numbers as `svgNumber` writes them; one
// `String` at the end.

/// UTF-8 text under construction.
///
/// A chart or a table appends thousands of small pieces (an element, an attribute, a number);
/// appending them to one byte array, with no `String` made per piece, is what keeps a report
/// cheap.
struct TextBuffer {
    /// The text is `storage[0..<count]`; the rest is room, grown by doubling. Each piece is
    /// copied into the room in one step (an `Array.append` per byte or per piece costs several
    /// times more than the copy).
    private var storage: [UInt8]
    /// The number of bytes of text.
    private(set) var count = 0

    /// An empty text with room for `capacity` bytes.
    init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: Swift.max(16, capacity))
    }

    /// The text as a `String`.
    var string: String { String(decoding: storage[0..<count], as: UTF8.self) }

    /// Appends the `length` bytes that `write` stores at the pointer it is given.
    private mutating func write(_ length: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Void) {
        if count + length > storage.count {
            storage.append(contentsOf: repeatElement(0, count: Swift.max(storage.count, count + length - storage.count)))
        }
        let start = count
        storage.withUnsafeMutableBufferPointer { write($0.baseAddress! + start) }
        count += length
    }

    /// Appends `bytes` as they are.
    private mutating func append(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        write(bytes.count) { $0.update(from: source, count: bytes.count) }
    }

    /// Appends markup written in this module's source.
    mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { append(utf8: $0) }
    }

    /// Appends `text` as it is (text made by this module, never user text in markup).
    mutating func appendUnescaped(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { append(utf8: $0) }
        if done == nil { Array(text.utf8).withUnsafeBufferPointer { append(utf8: $0) } }
    }

    /// Appends `escapeMarkup(text)`.
    mutating func appendEscaped(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { appendEscaped(utf8: $0) }
        if done == nil { Array(text.utf8).withUnsafeBufferPointer { appendEscaped(utf8: $0) } }
    }

    /// Appends an integer in decimal.
    mutating func append(_ value: Int) {
        if value < 0 { append("-") }
        appendDigits(value.magnitude)
    }

    /// Appends `svgNumber(x)`; `x` must be one it accepts (finite, `|x| < 1e9`).
    mutating func appendSVGNumber(_ x: Double) {
        precondition(x.isFinite && Swift.abs(x) < 1e9, "TextBuffer.appendSVGNumber: \(x) is not drawable")
        // At most two decimals, no trailing zeros, `-0` written `0`: integer arithmetic on the
        // rounded hundredths.
        let hundredths = UInt((Swift.abs(x) * 100).rounded())
        if hundredths == 0 {
            append("0")
            return
        }
        if x < 0 { append("-") }
        appendDigits(hundredths / 100)
        let fraction = hundredths % 100
        if fraction != 0 {
            let tenths = UInt8(fraction / 10), last = UInt8(fraction % 10)
            write(last == 0 ? 2 : 3) { text in
                text[0] = UInt8(ascii: ".")
                text[1] = UInt8(ascii: "0") + tenths
                if last != 0 { text[2] = UInt8(ascii: "0") + last }
            }
        }
    }

    /// Appends `value` in decimal, most significant digit first.
    private mutating func appendDigits(_ value: UInt) {
        var digits = 1, power: UInt = 1
        while power <= value / 10 {
            power *= 10
            digits += 1
        }
        write(digits) { text in
            var rest = value, at = digits
            repeat {
                at -= 1
                text[at] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while at > 0
        }
    }

    /// The byte-level form of `escapeMarkup` over valid UTF-8: the five special characters as
    /// entities; C0 controls other than tab, newline and carriage return, DEL, U+FFFE, U+FFFF and
    /// the bidirectional controls U+202A–U+202E, U+2066–U+2069 as U+FFFD; the rest copied.
    private mutating func appendEscaped(utf8 text: UnsafeBufferPointer<UInt8>) {
        var plainStart = 0, i = 0
        let n = text.count
        while i < n {
            let byte = text[i]
            var entity: StaticString?
            var replacedLength = 0
            switch byte {
            case UInt8(ascii: "&"): entity = "&amp;"
            case UInt8(ascii: "<"): entity = "&lt;"
            case UInt8(ascii: ">"): entity = "&gt;"
            case UInt8(ascii: "\""): entity = "&quot;"
            case UInt8(ascii: "'"): entity = "&#39;"
            case 0x09, 0x0A, 0x0D: break
            case 0x00..<0x20, 0x7F: replacedLength = 1
            case 0xE2:
                // U+202A–U+202E is E2 80 AA–AE; U+2066–U+2069 is E2 81 A6–A9.
                let second = text[i + 1], third = text[i + 2]
                if (second == 0x80 && (0xAA...0xAE).contains(third)) || (second == 0x81 && (0xA6...0xA9).contains(third)) {
                    replacedLength = 3
                }
            case 0xEF:
                // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
                if text[i + 1] == 0xBF && (text[i + 2] == 0xBE || text[i + 2] == 0xBF) { replacedLength = 3 }
            default: break
            }
            guard entity != nil || replacedLength > 0 else {
                i += 1
                continue
            }
            append(utf8: UnsafeBufferPointer(rebasing: text[plainStart..<i]))
            if let entity {
                append(entity)
                i += 1
            } else {
                append("\u{FFFD}")
                i += replacedLength
            }
            plainStart = i
        }
        append(utf8: UnsafeBufferPointer(rebasing: text[plainStart..<n]))
    }
}
