import GradReport
import Testing

@Suite("Markup escaping")
struct EscapingTests {
    @Test("The five XML specials become entities")
    func specials() {
        #expect(escapeMarkup(#"<script>alert("x" & 'y')</script>"#)
            == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;")
    }

    @Test("Plain text, non-ASCII and whitespace pass through; control characters do not")
    func passThrough() {
        #expect(escapeMarkup("σ_w = 1.5\tdepth\n10") == "σ_w = 1.5\tdepth\n10")
        #expect(escapeMarkup("a\u{0}b\u{1B}c") == "a\u{FFFD}b\u{FFFD}c")
    }

    @Test("Every scalar of the BMP's first three and last blocks, alone and in text, maps as the rule says")
    func everyScalar() {
        // The rule, written out independently of the escaping's fast path.
        func expected(_ s: Unicode.Scalar) -> String {
            switch s.value {
            case 0x26: "&amp;"
            case 0x3C: "&lt;"
            case 0x3E: "&gt;"
            case 0x22: "&quot;"
            case 0x27: "&#39;"
            case 0x09, 0x0A, 0x0D: String(s)
            case 0x00..<0x20, 0x7F, 0xFFFE, 0xFFFF, 0x202A...0x202E, 0x2066...0x2069: "\u{FFFD}"
            default: String(s)
            }
        }
        let values = Array(0..<0x3000) + Array(0xE000...0xFFFF) + [0x1F600, 0x10FFFF]
        var wrong: [String] = []
        for value in values {
            guard let s = Unicode.Scalar(value) else { continue }
            if escapeMarkup("x\(s)y") != "x\(expected(s))y" { wrong.append(String(value, radix: 16)) }
        }
        #expect(wrong.isEmpty, "scalars escaped wrongly: \(wrong.prefix(10))")
        // Text needing nothing comes back as it was.
        let plain = "M 0 0 L 1.5 2.25 σ ü 中文 🙂"
        #expect(escapeMarkup(plain) == plain)
    }
}
