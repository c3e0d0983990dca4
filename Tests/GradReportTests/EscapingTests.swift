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
}
