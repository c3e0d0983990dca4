import GradReport
import GradTestSupport
import Testing

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
