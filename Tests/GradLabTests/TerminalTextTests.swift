import GradLab
import Testing

/// Strings from a user's files are printed on the terminal without their escape sequences.
@Suite struct TerminalTextTests {
    @Test func controlAndBidiCharactersAreReplaced() {
        let hostile = "run\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\u{202E}gnp.exe\u{2066}x\u{7F}"
        let safe = terminalSafe(hostile)
        for scalar in safe.unicodeScalars {
            #expect(!(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                      || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)),
                    "U+\(String(scalar.value, radix: 16)) left in \(safe.debugDescription)")
        }
        #expect(safe == "run\u{FFFD}]0;owned\u{FFFD}\u{FFFD}[2J\u{FFFD}31m\u{FFFD}gnp.exe\u{FFFD}x\u{FFFD}")
    }

    @Test func ordinaryTextIsUnchanged() {
        for text in ["deep-sigmoid", "tab\tand\nnewline", "Ünïcödé 深度 שָׁלוֹם مرحبا", ""] {
            #expect(terminalSafe(text) == text)
        }
    }
}
