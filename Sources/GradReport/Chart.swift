// What every chart shares: the protocol the report embeds, and the drawing of titles, the
// "no data" panel and the axes' tick labels.

import Foundation

/// A chart that draws itself as a standalone SVG image.
public protocol Chart: Sendable {
    /// The title drawn at the top (also the image's accessible name).
    var title: String { get }
    /// Whether there is at least one value to draw; without, `svg()` draws a "no data" panel.
    var hasData: Bool { get }
    /// The chart as one `<svg>` element (well-formed XML, fixed size with a `viewBox`).
    func svg() -> String
}

/// Drawing steps shared by the charts.
enum ChartDrawing {
    static let titleSize = 15.0
    static let labelSize = 12.5
    static let tickSize = 11.0
    static let legendSize = 11.5

    /// The title, centred at the top, shortened to the image's width.
    static func title(_ doc: inout SVGDocument, _ title: String) {
        let text = ChartFormat.fitted(title, width: doc.width - 24, size: titleSize)
        doc.text(text, x: doc.width / 2, y: 22, size: titleSize, anchor: .middle, bold: true, className: "title",
                 tooltip: text == title ? nil : title)
    }

    /// A framed panel saying "no data" (and why, when `reason` is given).
    static func noData(_ doc: inout SVGDocument, x: Double, y: Double, width: Double, height: Double, reason: String? = nil) {
        doc.rect(x: x, y: y, width: width, height: height, fill: "#FAFAFA", stroke: ChartPalette.grid)
        doc.text("no data", x: x + width / 2, y: y + height / 2, size: 16, anchor: .middle, fill: ChartPalette.mutedText,
                 className: "no-data")
        if let reason {
            doc.text(ChartFormat.fitted(reason, width: width - 20, size: labelSize), x: x + width / 2, y: y + height / 2 + 22,
                     size: labelSize, anchor: .middle, fill: ChartPalette.mutedText)
        }
    }

    /// The horizontal axis label, centred under the plot.
    static func xLabel(_ doc: inout SVGDocument, _ label: String, centre: Double, y: Double, width: Double) {
        guard !label.isEmpty else { return }
        doc.text(ChartFormat.fitted(label, width: width, size: labelSize), x: centre, y: y, size: labelSize,
                 anchor: .middle, className: "axis-label")
    }

    /// The vertical axis label, rotated, centred beside the plot.
    static func yLabel(_ doc: inout SVGDocument, _ label: String, x: Double, centre: Double, height: Double) {
        guard !label.isEmpty else { return }
        doc.text(ChartFormat.fitted(label, width: height, size: labelSize), x: x, y: centre, size: labelSize,
                 anchor: .middle, rotation: -90, className: "axis-label")
    }

    /// Tick marks, grid lines and labels of a numeric y axis at the plot's left edge.
    static func yTicks(_ doc: inout SVGDocument, scale: ChartScale, ticks: [Double], labels: [String],
                       left: Double, right: Double) {
        for (value, label) in zip(ticks, labels) {
            guard let y = scale.position(value) else { continue }
            doc.line(x1: left, y1: y, x2: right, y2: y, stroke: ChartPalette.grid, className: "grid")
            doc.line(x1: left - 4, y1: y, x2: left, y2: y, stroke: ChartPalette.axis)
            doc.text(label, x: left - 7, y: y + tickSize * 0.35, size: tickSize, anchor: .end, fill: ChartPalette.mutedText,
                     className: "tick")
        }
    }

    /// The widest of `labels` at the tick size.
    static func widest(_ labels: [String], size: Double = tickSize) -> Double {
        labels.map { ChartFormat.textWidth($0, size: size) }.max() ?? 0
    }
}
