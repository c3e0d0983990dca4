/// `text` safe to print on a terminal: control characters (C0 but tab and newline, DEL, C1,
/// which carry escape sequences that recolour, move the cursor or retitle the window) and the
/// bidirectional overrides and isolates (which make a line read in another order) become U+FFFD.
///
/// For strings from a user's files (run names, spec values) that reach stdout or stderr.
public func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isUnsafeOnTerminal) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars { out.append(isUnsafeOnTerminal(scalar) ? "\u{FFFD}" : scalar) }
    return String(out)
}

private func isUnsafeOnTerminal(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09, 0x0A: false
    case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
}
