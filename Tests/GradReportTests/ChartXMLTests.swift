import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GradReport
import Testing

/// One element an XML parser read: its name, attributes and own text.
struct ParsedElement {
    var name: String
    var attributes: [String: String]
    /// Character data directly inside it (not in child elements).
    var text = ""

    /// The attribute `key`.
    subscript(_ key: String) -> String? { attributes[key] }
}

/// What an XML parser read from a chart or page: every element with its attributes, all text.
struct ParsedMarkup {
    /// Elements in document order.
    var elements: [ParsedElement] = []
    /// The parser's error, or nil when the document is well-formed.
    var error: String?

    /// Elements named `name`.
    func all(_ name: String) -> [ParsedElement] {
        elements.filter { $0.name == name }
    }

    /// Elements named `name` whose `class` list holds `className`.
    func all(_ name: String, class className: String) -> [ParsedElement] {
        all(name).filter { ($0["class"] ?? "").split(separator: " ").contains { $0 == className } }
    }

    /// The first element named `name` whose own text is `text`.
    func first(_ name: String, text: String) -> ParsedElement? {
        elements.first { $0.name == name && $0.text == text }
    }

    /// The non-blank own texts of the elements, in document order.
    var texts: [String] { elements.map(\.text).filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }

    /// All text joined with newlines.
    var text: String { texts.joined(separator: "\n") }
}

/// Parses `markup` with Foundation's `XMLParser`.
func parseMarkup(_ markup: String) -> ParsedMarkup {
    final class Collector: NSObject, XMLParserDelegate {
        var result = ParsedMarkup()
        var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            result.elements.append(ParsedElement(name: elementName, attributes: attributeDict))
            open.append(result.elements.count - 1)
        }
        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            _ = open.popLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let index = open.last { result.elements[index].text += string }
        }
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            result.error = "line \(parser.lineNumber), column \(parser.columnNumber): \(parseError)"
        }
    }
    let parser = XMLParser(data: Data(markup.utf8))
    let collector = Collector()
    parser.delegate = collector
    if !parser.parse() && collector.result.error == nil { collector.result.error = "\(parser.parserError.map { "\($0)" } ?? "parse failed")" }
    return collector.result
}

/// Whether any geometric or style attribute holds a non-finite number as text (`nan`, `inf`);
/// names and labels (`aria-label`, `font-family`, `class`) are not numbers and are skipped.
func hasNonfiniteAttribute(_ parsed: ParsedMarkup) -> Bool {
    parsed.elements.contains { element in
        element.attributes.contains { key, value in
            guard !["aria-label", "font-family", "class"].contains(key) else { return false }
            let lower = value.lowercased()
            return lower.contains("nan") || lower.contains("inf")
        }
    }
}

@Suite("SVG document and XML well-formedness")
struct ChartXMLTests {
    @Test("The document has a size, a viewBox, a title and escaped text")
    func document() throws {
        var doc = SVGDocument(width: 300, height: 200, title: "a <b> & \"c\"")
        doc.text("x < y & \"z\"", x: 10, y: 20)
        doc.line(x1: 0, y1: 0, x2: 10.126, y2: 5, stroke: "#000000")
        let parsed = parseMarkup(doc.markup)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        let svg = try #require(parsed.all("svg").first)
        #expect(svg["width"] == "300" && svg["height"] == "200" && svg["viewBox"] == "0 0 300 200")
        #expect(parsed.first("title", text: "a <b> & \"c\"") != nil)
        #expect(parsed.first("text", text: "x < y & \"z\"") != nil)
        #expect(parsed.all("line").first?["x2"] == "10.13")
    }

    @Test("Elements with a non-finite coordinate are left out")
    func nonfiniteCoordinates() {
        var doc = SVGDocument()
        doc.line(x1: .nan, y1: 0, x2: 1, y2: 1, stroke: "#000000")
        doc.circle(cx: .infinity, cy: 0, r: 2, fill: "#000000")
        doc.text("t", x: 1, y: -.infinity)
        doc.polyline([(0, 0), (.nan, 1), (2, 2)], stroke: "#000000")
        #expect(doc.elementCount == 1, "only the polyline, through its two finite points")
        let parsed = parseMarkup(doc.markup)
        #expect(parsed.all("polyline").first?["points"] == "0,0 2,2")
        #expect(!hasNonfiniteAttribute(parsed))
    }

    @Test("Short numbers for coordinates")
    func numbers() {
        #expect(svgNumber(12.3456) == "12.35")
        #expect(svgNumber(3) == "3")
        #expect(svgNumber(-0.001) == "0")
        #expect(svgNumber(-2.5) == "-2.5")
        #expect(svgNumber(.nan) == nil && svgNumber(.infinity) == nil)
    }
}
