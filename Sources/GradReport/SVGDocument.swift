// A minimal SVG writer: elements appended in drawing order, attribute numbers written short and
// always finite, every text escaped. The charts build on it; nothing here knows about data.

import Foundation

/// An SVG image under construction: a fixed size with a matching `viewBox`, and its elements in
/// drawing order (later ones on top).
///
/// Every coordinate is checked: an element with a NaN or infinite coordinate is left out, so the
/// output never holds `nan` or `inf` in an attribute. Every text (content, tooltips, colours
/// given by callers) passes through `escapeMarkup`, so the output is well-formed XML whatever
/// the strings hold.
public struct SVGDocument: Sendable {
    /// Width in user units (pixels), also the `viewBox` width.
    public let width: Double
    /// Height in user units (pixels), also the `viewBox` height.
    public let height: Double
    /// The image's accessible title (`<title>` and `aria-label`).
    public var title: String
    /// The font family of all text.
    public var fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
    /// The elements so far, one per line.
    private var body = TextBuffer(capacity: 16 * 1024)
    /// The number of elements appended so far.
    public private(set) var elementCount = 0

    /// An empty image of the given size.
    ///
    /// - Parameters:
    ///   - width: width in pixels (> 0).
    ///   - height: height in pixels (> 0).
    ///   - title: the accessible title.
    public init(width: Double = 640, height: Double = 360, title: String = "") {
        precondition(width > 0 && height > 0 && width.isFinite && height.isFinite,
                     "SVGDocument size must be positive and finite, got \(width)×\(height)")
        self.width = width
        self.height = height
        self.title = title
    }

    /// How text is aligned on its anchor point (`text-anchor`).
    public enum TextAnchor: String, Sendable {
        /// The text starts at the point.
        case start
        /// The text is centred on the point.
        case middle
        /// The text ends at the point.
        case end
    }

    /// Appends a straight line from `(x1, y1)` to `(x2, y2)`.
    ///
    /// - Parameters:
    ///   - x1: start x.
    ///   - y1: start y.
    ///   - x2: end x.
    ///   - y2: end y.
    ///   - stroke: the colour (`#rrggbb`).
    ///   - strokeWidth: the width.
    ///   - dash: a `stroke-dasharray` pattern (`4 3`), or nil for solid.
    ///   - className: a `class` attribute, or nil.
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              strokeWidth: Double = 1, dash: String? = nil, className: String? = nil) {
        guard drawable(x1), drawable(y1), drawable(x2), drawable(y2), drawable(strokeWidth) else { return }
        openElement("line")
        attribute("x1", x1)
        attribute("y1", y1)
        attribute("x2", x2)
        attribute("y2", y2)
        attribute("stroke", stroke)
        attribute("stroke-width", strokeWidth)
        if let dash { attribute("stroke-dasharray", dash) }
        if let className { attribute("class", className) }
        closeElement("line", tooltip: nil)
    }

    /// Appends an open polyline through `points` (points with a non-finite coordinate are
    /// skipped; nothing is drawn with fewer than two points left).
    ///
    /// - Parameters:
    ///   - points: the vertices in order.
    ///   - stroke: the colour.
    ///   - strokeWidth: the width.
    ///   - dash: a `stroke-dasharray` pattern, or nil for solid.
    ///   - className: a `class` attribute, or nil.
    ///   - tooltip: a `<title>` child shown on hover, or nil.
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, strokeWidth: Double = 1.5,
                                  dash: String? = nil, className: String? = nil, tooltip: String? = nil) {
        var written = 0
        for p in points where drawable(p.x) && drawable(p.y) { written += 1 }
        guard written >= 2, drawable(strokeWidth) else { return }
        openElement("polyline")
        // points="x,y x,y …" (numbers need no escaping).
        body.append(" points=\"")
        var first = true
        for p in points where drawable(p.x) && drawable(p.y) {
            if !first { body.append(" ") }
            first = false
            body.appendSVGNumber(p.x)
            body.append(",")
            body.appendSVGNumber(p.y)
        }
        body.append("\"")
        attribute("fill", "none")
        attribute("stroke", stroke)
        attribute("stroke-width", strokeWidth)
        attribute("stroke-linejoin", "round")
        attribute("stroke-linecap", "round")
        if let dash { attribute("stroke-dasharray", dash) }
        if let className { attribute("class", className) }
        closeElement("polyline", tooltip: tooltip)
    }

    /// Appends a rectangle.
    ///
    /// - Parameters:
    ///   - x: left edge.
    ///   - y: top edge.
    ///   - width: width (≥ 0).
    ///   - height: height (≥ 0).
    ///   - fill: the fill colour, or `none`.
    ///   - stroke: the outline colour, or nil for none.
    ///   - strokeWidth: the outline width.
    ///   - className: a `class` attribute, or nil.
    ///   - tooltip: a `<title>` child shown on hover, or nil.
    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, strokeWidth: Double = 1, className: String? = nil,
                              tooltip: String? = nil) {
        guard openRect(x: x, y: y, width: width, height: height, fill: fill, stroke: stroke, strokeWidth: strokeWidth,
                       className: className) else { return }
        closeElement("rect", tooltip: tooltip)
    }

    /// `rect` with a tooltip that `writeTooltip` appends to the markup, escaped (a heat map's
    /// cell, whose tooltip is put together from its row's and column's names without making a
    /// string per cell).
    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
                       strokeWidth: Double = 1, className: String? = nil, tooltip writeTooltip: (inout TextBuffer) -> Void) {
        guard openRect(x: x, y: y, width: width, height: height, fill: fill, stroke: stroke, strokeWidth: strokeWidth,
                       className: className) else { return }
        closeElement("rect", writeTooltip: writeTooltip)
    }

    /// Writes `<rect` and its attributes, or nothing (returning false) when a number is not drawable.
    private mutating func openRect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String?,
                                   strokeWidth: Double, className: String?) -> Bool {
        let width = Swift.max(0, width), height = Swift.max(0, height)
        guard drawable(x), drawable(y), drawable(width), drawable(height), drawable(strokeWidth) else { return false }
        openElement("rect")
        attribute("x", x)
        attribute("y", y)
        attribute("width", width)
        attribute("height", height)
        attribute("fill", fill)
        if let stroke {
            attribute("stroke", stroke)
            attribute("stroke-width", strokeWidth)
        }
        if let className { attribute("class", className) }
        return true
    }

    /// Appends a circle.
    ///
    /// - Parameters:
    ///   - cx: centre x.
    ///   - cy: centre y.
    ///   - r: radius.
    ///   - fill: the fill colour.
    ///   - stroke: the outline colour, or nil for none.
    ///   - className: a `class` attribute, or nil.
    ///   - tooltip: a `<title>` child shown on hover, or nil.
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
                                className: String? = nil, tooltip: String? = nil) {
        guard drawable(cx), drawable(cy), drawable(r) else { return }
        openElement("circle")
        attribute("cx", cx)
        attribute("cy", cy)
        attribute("r", r)
        attribute("fill", fill)
        if let stroke { attribute("stroke", stroke) }
        if let className { attribute("class", className) }
        closeElement("circle", tooltip: tooltip)
    }

    /// Appends a text label.
    ///
    /// - Parameters:
    ///   - text: the text (escaped here).
    ///   - x: anchor x.
    ///   - y: baseline y.
    ///   - size: font size in pixels.
    ///   - anchor: horizontal alignment on `x`.
    ///   - fill: the colour.
    ///   - bold: bold weight.
    ///   - rotation: degrees clockwise about the anchor point (−90 for a vertical axis label).
    ///   - className: a `class` attribute, or nil.
    ///   - tooltip: a `<title>` child (the full text of a shortened label), or nil.
    public mutating func text(_ text: String, x: Double, y: Double, size: Double = 12, anchor: TextAnchor = .start,
                              fill: String = "#222222", bold: Bool = false, rotation: Double = 0,
                              className: String? = nil, tooltip: String? = nil) {
        guard drawable(x), drawable(y), drawable(size) else { return }
        openElement("text")
        attribute("x", x)
        attribute("y", y)
        attribute("font-size", size)
        attribute("fill", fill)
        if anchor != .start { attribute("text-anchor", anchor.rawValue) }
        if bold { attribute("font-weight", "bold") }
        if rotation != 0 && drawable(rotation) {
            // transform="rotate(r x y)"
            body.append(" transform=\"rotate(")
            body.appendSVGNumber(rotation)
            body.append(" ")
            body.appendSVGNumber(x)
            body.append(" ")
            body.appendSVGNumber(y)
            body.append(")\"")
        }
        if let className { attribute("class", className) }
        body.append(">")
        if let tooltip { appendTitle(tooltip) }
        body.appendEscaped(text)
        body.append("</text>\n")
    }

    /// The finished image: an `<svg>` element with `xmlns`, `width`, `height`, `viewBox`, a
    /// `<title>`, a white background and the elements in order.
    public var markup: String {
        let w = svgNumber(width) ?? "640", h = svgNumber(height) ?? "360"
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
        out += " role=\"img\" aria-label=\"\(escapeMarkup(title))\" font-family=\"\(escapeMarkup(fontFamily))\">\n"
        out += "<title>\(escapeMarkup(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        out += body.string
        return out + "</svg>"
    }

    /// Whether `x` can be written as a coordinate (`svgNumber(x)` is not nil).
    private func drawable(_ x: Double) -> Bool { x.isFinite && Swift.abs(x) < 1e9 }

    /// Writes `<name`, counting one element more; the attributes follow.
    private mutating func openElement(_ name: StaticString) {
        elementCount += 1
        body.append("<")
        body.append(name)
    }

    /// Writes ` key="value"`, the value escaped.
    private mutating func attribute(_ key: StaticString, _ value: String) {
        body.append(" ")
        body.append(key)
        body.append("=\"")
        body.appendEscaped(value)
        body.append("\"")
    }

    /// Writes ` key="number"` (`svgNumber`'s text; the caller checked that it is drawable).
    private mutating func attribute(_ key: StaticString, _ value: Double) {
        body.append(" ")
        body.append(key)
        body.append("=\"")
        body.appendSVGNumber(value)
        body.append("\"")
    }

    private mutating func appendTitle(_ tooltip: String) {
        body.append("<title>")
        body.appendEscaped(tooltip)
        body.append("</title>")
    }

    /// Ends an element opened by `openElement`: `/>`, or with a tooltip a `<title>` child and
    /// the closing tag.
    private mutating func closeElement(_ name: StaticString, tooltip: String?) {
        if let tooltip {
            closeElement(name) { $0.appendEscaped(tooltip) }
        } else {
            body.append("/>\n")
        }
    }

    /// Ends an element with a `<title>` child that `writeTooltip` appends, and the closing tag.
    private mutating func closeElement(_ name: StaticString, writeTooltip: (inout TextBuffer) -> Void) {
        body.append("><title>")
        writeTooltip(&body)
        body.append("</title></")
        body.append(name)
        body.append(">\n")
    }
}

/// A coordinate as short SVG text (at most two decimals, no trailing zeros, `-0` written `0`),
/// or nil when `x` is NaN, infinite or beyond ±1e9 (no sensible pixel position).
///
/// `svgNumber(12.3456) == "12.35"`, `svgNumber(3) == "3"`, `svgNumber(.nan) == nil`.
/// - Parameter x: the number.
public func svgNumber(_ x: Double) -> String? {
    guard x.isFinite, Swift.abs(x) < 1e9 else { return nil }
    // Integer arithmetic on hundredths (`TextBuffer.appendSVGNumber`): String(format:) was a
    // third of a report's drawing time.
    var text = TextBuffer(capacity: 16)
    text.appendSVGNumber(x)
    return text.string
}
