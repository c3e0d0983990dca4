// Escaping of user-provided text (run names, column names, spec values) for HTML and SVG, so a
// report made from any input is safe to open and share.

/// `text` with the five XML special characters replaced by entities: `&` → `&amp;`,
/// `<` → `&lt;`, `>` → `&gt;`, `"` → `&quot;`, `'` → `&#39;`.
///
/// Safe in element content and in quoted attribute values of HTML and SVG. Control characters
/// other than tab, newline and carriage return (not allowed in XML 1.0), the noncharacters
/// U+FFFE and U+FFFF, and the explicit bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069: an unclosed right-to-left override in a run name would
/// reverse the rest of a caption or a table row and make the page say something else) become
/// U+FFFD. Right-to-left text itself (Hebrew, Arabic) is kept and laid out by the browser.
///
/// `escapeMarkup("<b>\u{202E}x") == "&lt;b&gt;\u{FFFD}x"`.
/// - Parameter text: the text as given.
public func escapeMarkup(_ text: String) -> String {
    // Most text (numbers, path data, names) needs nothing: one pass over its bytes says so.
    // Every byte that may start a change is a special character, a control character, or the
    // lead byte of U+2000–U+2FFF (0xE2: the bidirectional controls) or U+F000–U+FFFF (0xEF).
    let plain = text.utf8.withContiguousStorageIfAvailable { !$0.contains(where: mayNeedEscaping) }
        ?? !text.utf8.contains(where: mayNeedEscaping)
    if plain { return text }
    var out = TextBuffer(capacity: text.utf8.count + 16)
    out.appendEscaped(text)
    return out.string
}

/// Whether a UTF-8 byte may begin something `escapeMarkup` changes.
@inline(__always)
private func mayNeedEscaping(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x09, 0x0A, 0x0D: false
    case 0x00..<0x20, 0x7F, UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), 0xE2, 0xEF: true
    default: false
    }
}
