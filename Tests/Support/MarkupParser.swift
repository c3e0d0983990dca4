import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element an XML parser read: its name, attributes and own text.
public struct ParsedElement: Sendable {
    /// The element's name (`svg`, `text`, `h1`).
    public var name: String
    /// The element's attributes by name.
    public var attributes: [String: String]
    /// Character data directly inside it (not in child elements).
    public var text = ""

    /// An element with no text yet.
    public init(name: String, attributes: [String: String], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.text = text
    }

    /// The attribute `key`.
    public subscript(_ key: String) -> String? { attributes[key] }
}

/// What an XML parser read from a chart or page GradLab wrote (the SVG charts and the XHTML
/// report are written to parse as XML): every element with its attributes and own text.
public struct ParsedMarkup: Sendable {
    /// Elements in document order.
    public var elements: [ParsedElement] = []
    /// The parser's error, or nil when the document is well-formed.
    public var error: String?

    /// An empty result.
    public init() {}

    /// Elements named `name`.
    public func all(_ name: String) -> [ParsedElement] {
        elements.filter { $0.name == name }
    }

    /// Elements named `name` whose `class` list holds `className`.
    public func all(_ name: String, class className: String) -> [ParsedElement] {
        all(name).filter { ($0["class"] ?? "").split(separator: " ").contains { $0 == className } }
    }

    /// The first element named `name` whose own text is `text`.
    public func first(_ name: String, text: String) -> ParsedElement? {
        elements.first { $0.name == name && $0.text == text }
    }

    /// The own text of every element named `name`, blank or not, in document order.
    public func texts(_ name: String) -> [String] { all(name).map(\.text) }

    /// The non-blank own texts of the elements, in document order.
    public var texts: [String] { elements.map(\.text).filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }

    /// All text joined with newlines.
    public var text: String { texts.joined(separator: "\n") }
}

/// Parses `markup` with Foundation's `XMLParser`; a document that is not well-formed gives the
/// elements read up to the error and the error with its line and column.
public func parseMarkup(_ markup: String) -> ParsedMarkup {
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
public func hasNonfiniteAttribute(_ parsed: ParsedMarkup) -> Bool {
    parsed.elements.contains { element in
        element.attributes.contains { key, value in
            guard !["aria-label", "font-family", "class"].contains(key) else { return false }
            let lower = value.lowercased()
            return lower.contains("nan") || lower.contains("inf")
        }
    }
}
