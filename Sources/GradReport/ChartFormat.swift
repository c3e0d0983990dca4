// Numbers and labels as charts and reports print them, and the text-width estimate the chart
// layouts use to keep labels from overlapping.

import Foundation

/// Number formatting and text measurement for charts and reports.
public enum ChartFormat {
    /// A number with `significant` digits in a short form: fixed notation for
    /// `1e-3 ≤ |x| < 1e5` (`0.25`, `12.3`, `1234`), otherwise `1.23e-7`; `0` for zero; `NaN`,
    /// `∞`, `−∞` for the non-finite; a minus sign `−` (U+2212).
    ///
    /// - Parameters:
    ///   - x: the number.
    ///   - significant: significant digits (default 3).
    public static func number(_ x: Double, significant: Int = 3) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "∞" : "−∞" }
        if x == 0 { return "0" }
        let digits = Swift.max(1, significant)
        let a = Swift.abs(x)
        let sign = x < 0 ? "−" : ""
        var exponent = Int(Foundation.floor(Foundation.log10(a)))
        // Rounding to `digits` may carry into the next decade (9.996 → 10.0).
        let mantissa = (a / Foundation.pow(10, Double(exponent)) * Foundation.pow(10, Double(digits - 1))).rounded()
            / Foundation.pow(10, Double(digits - 1))
        var m = mantissa
        if m >= 10 { m /= 10; exponent += 1 }
        if a >= 1e-3 && a < 1e5 && exponent < 5 {
            let decimals = Swift.max(0, digits - 1 - exponent)
            return sign + trimmed(String(format: "%.\(decimals)f", m * Foundation.pow(10, Double(exponent))))
        }
        return sign + trimmed(String(format: "%.\(digits - 1)f", m)) + "e" + (exponent < 0 ? "-" : "") + String(Swift.abs(exponent))
    }

    /// Tick labels for linear ticks: all with the decimals of the step between them (`0.0`,
    /// `0.2`, … ; `−4`, `−2`, …), or in `number` form when the ticks are tiny or huge.
    ///
    /// - Parameter ticks: ascending tick values.
    public static func linearTickLabels(_ ticks: [Double]) -> [String] {
        guard ticks.count >= 2 else { return ticks.map { number($0) } }
        let step = ticks[1] - ticks[0]
        let largest = ticks.map(Swift.abs).max() ?? 0
        if step < 1e-3 || largest >= 1e5 { return ticks.map { number($0) } }
        let decimals = Swift.max(0, Int(-Foundation.floor(Foundation.log10(step) + 1e-9)))
        return ticks.map { v in
            let text = String(format: "%.\(decimals)f", v == 0 ? 0 : v)
            return text.hasPrefix("-") ? "−" + text.dropFirst() : text
        }
    }

    /// A log-axis tick label: `10ᵏ` with a superscript exponent for decades (`10⁻⁷`, `1`, `10`,
    /// `10²`), otherwise `number(v)`.
    ///
    /// - Parameter v: the tick value (> 0).
    public static func logTickLabel(_ v: Double) -> String {
        guard v > 0, v.isFinite else { return number(v) }
        let k = Int(Foundation.log10(v).rounded())
        guard ChartTicks.decade(k) == v else { return number(v) }
        switch k {
        case 0: return "1"
        case 1: return "10"
        default: return "10" + superscript(k)
        }
    }

    /// An integer in Unicode superscript digits (`−7` → `⁻⁷`).
    ///
    /// - Parameter k: the integer.
    public static func superscript(_ k: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return (k < 0 ? "⁻" : "") + String(Swift.abs(k)).compactMap { $0.wholeNumberValue.map { digits[$0] } }
    }

    /// The approximate width of `text` in pixels at `size` (a sans-serif average of 0.6 em per
    /// character, 0.35 em for narrow ones), for layout only.
    ///
    /// - Parameters:
    ///   - text: the text.
    ///   - size: the font size in pixels.
    public static func textWidth(_ text: String, size: Double) -> Double {
        var em = 0.0
        // ASCII without a carriage return (which joins a following newline into one character):
        // one character per byte, so the same widths, added in the same order, from the bytes.
        let asciiWidth: Double? = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) else { return nil }
            for byte in bytes { em += asciiCharacterWidth(byte) }
            return em * size
        } ?? nil
        if let asciiWidth { return asciiWidth }
        for c in text { em += characterWidth(c) }
        return em * size
    }

    /// The width of one character in em, as `textWidth` counts it: 0.32 for `ijlI.,:;|!'()` and
    /// space, 0.72 for capitals and `m`, `w`, 0.58 for the rest (characters compared as Swift
    /// compares them, by canonical equivalence).
    private static func characterWidth(_ c: Character) -> Double {
        if let ascii = c.asciiValue { return asciiCharacterWidth(ascii) }
        if c.unicodeScalars.count == 1 {
            // The only single scalars equal to an ASCII character are U+037E (";"), U+1FEF ("`")
            // and U+212A ("K"); of those, only ";" is narrow and only "K" is a capital.
            if c.unicodeScalars.first!.value == 0x037E { return 0.32 }
            return c.isUppercase ? 0.72 : 0.58
        }
        if "ijlI.,:;|!'() ".contains(c) { return 0.32 } else if c.isUppercase || "mwMW".contains(c) { return 0.72 } else { return 0.58 }
    }

    /// `characterWidth` of an ASCII character.
    private static func asciiCharacterWidth(_ byte: UInt8) -> Double {
        switch byte {
        case UInt8(ascii: "i"), UInt8(ascii: "j"), UInt8(ascii: "l"), UInt8(ascii: "I"), UInt8(ascii: "."),
             UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "|"), UInt8(ascii: "!"),
             UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "):
            0.32
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "m"), UInt8(ascii: "w"):
            0.72
        default:
            0.58
        }
    }

    /// `text` cut to fit `width` pixels at `size`, ending in `…` when cut.
    ///
    /// - Parameters:
    ///   - text: the text.
    ///   - width: the room in pixels.
    ///   - size: the font size.
    public static func fitted(_ text: String, width: Double, size: Double) -> String {
        if textWidth(text, size: size) <= width { return text }
        // textWidth(out + c + "…"), its sum kept from one character to the next.
        var out = ""
        var em = 0.0
        let ellipsis = characterWidth("…")
        for c in text {
            let longer = em + characterWidth(c)
            if (longer + ellipsis) * size > width { break }
            out.append(c)
            em = longer
        }
        return out + "…"
    }

    /// The dotted components that all `names` share at the start and at the end, and what
    /// remains of each name: `["enc.block0.fc.weight", "enc.block1.fc.weight"]` gives the
    /// pattern `enc.*.fc.weight` and the cores `block0`, `block1`.
    ///
    /// Every core keeps at least one component; with nothing shared (or fewer than two names)
    /// the pattern is empty and the cores are the names.
    /// - Parameter names: dotted names.
    public static func distinctParts(_ names: [String]) -> (pattern: String, cores: [String]) {
        let split = names.map { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        guard split.count >= 2, let shortest = split.map(\.count).min() else { return ("", names) }
        var head = 0
        while head < shortest - 1, split.allSatisfy({ $0[head] == split[0][head] }) { head += 1 }
        var tail = 0
        while tail < shortest - 1 - head, split.allSatisfy({ $0[$0.count - 1 - tail] == split[0][split[0].count - 1 - tail] }) { tail += 1 }
        guard head + tail > 0 else { return ("", names) }
        let cores = split.map { $0[head..<($0.count - tail)].joined(separator: ".") }
        let pattern = (split[0].prefix(head) + ["*"] + split[0].suffix(tail)).joined(separator: ".")
        return (pattern, cores)
    }

    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
