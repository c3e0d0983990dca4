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
    private var body = ""
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
        guard let a = svgNumber(x1), let b = svgNumber(y1), let c = svgNumber(x2), let d = svgNumber(y2),
              let w = svgNumber(strokeWidth) else { return }
        var attributes = [("x1", a), ("y1", b), ("x2", c), ("y2", d), ("stroke", stroke), ("stroke-width", w)]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        if let className { attributes.append(("class", className)) }
        appendElement("line", attributes)
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
        let written = points.compactMap { p -> String? in
            guard let x = svgNumber(p.x), let y = svgNumber(p.y) else { return nil }
            return "\(x),\(y)"
        }
        guard written.count >= 2, let w = svgNumber(strokeWidth) else { return }
        var attributes = [("points", written.joined(separator: " ")), ("fill", "none"), ("stroke", stroke),
                          ("stroke-width", w), ("stroke-linejoin", "round"), ("stroke-linecap", "round")]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        if let className { attributes.append(("class", className)) }
        appendElement("polyline", attributes, tooltip: tooltip)
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
        guard let a = svgNumber(x), let b = svgNumber(y), let c = svgNumber(Swift.max(0, width)),
              let d = svgNumber(Swift.max(0, height)), let w = svgNumber(strokeWidth) else { return }
        var attributes = [("x", a), ("y", b), ("width", c), ("height", d), ("fill", fill)]
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", w)] }
        if let className { attributes.append(("class", className)) }
        appendElement("rect", attributes, tooltip: tooltip)
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
        guard let a = svgNumber(cx), let b = svgNumber(cy), let c = svgNumber(r) else { return }
        var attributes = [("cx", a), ("cy", b), ("r", c), ("fill", fill)]
        if let stroke { attributes.append(("stroke", stroke)) }
        if let className { attributes.append(("class", className)) }
        appendElement("circle", attributes, tooltip: tooltip)
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
        guard let a = svgNumber(x), let b = svgNumber(y), let s = svgNumber(size) else { return }
        var attributes = [("x", a), ("y", b), ("font-size", s), ("fill", fill)]
        if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
        if bold { attributes.append(("font-weight", "bold")) }
        if rotation != 0, let r = svgNumber(rotation) { attributes.append(("transform", "rotate(\(r) \(a) \(b))")) }
        if let className { attributes.append(("class", className)) }
        openElement("text", attributes)
        body += ">"
        if let tooltip { appendTitle(tooltip) }
        body += escapeMarkup(text)
        body += "</text>\n"
    }

    /// The finished image: an `<svg>` element with `xmlns`, `width`, `height`, `viewBox`, a
    /// `<title>`, a white background and the elements in order.
    public var markup: String {
        let w = svgNumber(width) ?? "640", h = svgNumber(height) ?? "360"
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
        out += " role=\"img\" aria-label=\"\(escapeMarkup(title))\" font-family=\"\(escapeMarkup(fontFamily))\">\n"
        out += "<title>\(escapeMarkup(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        out += body
        return out + "</svg>"
    }

    /// Writes `<name attributes` (attribute values escaped), counting one element more.
    private mutating func openElement(_ name: String, _ attributes: [(String, String)]) {
        elementCount += 1
        body += "<"
        body += name
        for (key, value) in attributes {
            body += " "
            body += key
            body += "=\""
            body += escapeMarkup(value)
            body += "\""
        }
    }

    private mutating func appendTitle(_ tooltip: String) {
        body += "<title>"
        body += escapeMarkup(tooltip)
        body += "</title>"
    }

    /// Writes an element with its attributes, and a `<title>` child when there is a tooltip.
    private mutating func appendElement(_ name: String, _ attributes: [(String, String)], tooltip: String? = nil) {
        openElement(name, attributes)
        guard let tooltip else {
            body += "/>\n"
            return
        }
        body += ">"
        appendTitle(tooltip)
        body += "</"
        body += name
        body += ">\n"
    }
}

/// A coordinate as short SVG text (at most two decimals, no trailing zeros, `-0` written `0`),
/// or nil when `x` is NaN, infinite or beyond ±1e9 (no sensible pixel position).
///
/// `svgNumber(12.3456) == "12.35"`, `svgNumber(3) == "3"`, `svgNumber(.nan) == nil`.
/// - Parameter x: the number.
public func svgNumber(_ x: Double) -> String? {
    guard x.isFinite, Swift.abs(x) < 1e9 else { return nil }
    let rounded = (x * 100).rounded() / 100
    if rounded == 0 { return "0" }
    // Integer arithmetic on hundredths: String(format:) was a third of a report's drawing time.
    let hundredths = Int((Swift.abs(x) * 100).rounded())
    let whole = hundredths / 100, fraction = hundredths % 100
    var text = x < 0 ? "-" : ""
    text += String(whole)
    if fraction != 0 {
        text += fraction % 10 == 0 ? ".\(fraction / 10)" : (fraction < 10 ? ".0\(fraction)" : ".\(fraction)")
    }
    return text
}
