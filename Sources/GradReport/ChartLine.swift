// Line charts: several series on linear or log axes (or a categorical x axis), with a legend,
// optional markers and horizontal reference lines. Non-finite points break a line.

import Foundation

/// One line of a `LineChart`: a name for the legend and its points.
public struct LineSeries: Sendable, Equatable {
    /// The legend entry.
    public var name: String
    /// The x values (for a categorical x axis: the category indices 0, 1, …).
    public var x: [Double]
    /// The y values, one per x; NaN, ±∞ (and values ≤ 0 on a log axis) leave a gap.
    public var y: [Double]
    /// The line colour, or nil for the palette's colour of the series' position.
    public var colour: String?
    /// A `stroke-dasharray` pattern, or nil for the palette's choice.
    public var dash: String?

    /// A series from its points.
    ///
    /// - Parameters:
    ///   - name: the legend entry.
    ///   - x: the x values.
    ///   - y: the y values (same count as `x`).
    ///   - colour: the colour, or nil for the palette's.
    ///   - dash: a dash pattern, or nil.
    public init(name: String, x: [Double], y: [Double], colour: String? = nil, dash: String? = nil) {
        precondition(x.count == y.count, "LineSeries \(name): \(x.count) x values but \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
        self.colour = colour
        self.dash = dash
    }

    /// A series over the indices `0, 1, …, y.count − 1`.
    ///
    /// - Parameters:
    ///   - name: the legend entry.
    ///   - y: the y values.
    public init(name: String, y: [Double]) {
        self.init(name: name, x: y.indices.map(Double.init), y: y)
    }
}

/// A horizontal line across a chart at a fixed y value (a prediction, a threshold), listed in
/// the legend.
public struct ReferenceLine: Sendable, Equatable {
    /// The y value.
    public var value: Double
    /// The legend entry.
    public var label: String
    /// The colour.
    public var colour: String
    /// The dash pattern.
    public var dash: String

    /// A reference line.
    ///
    /// - Parameters:
    ///   - value: the y value (a non-finite value is not drawn).
    ///   - label: the legend entry.
    ///   - colour: the colour (default dark grey).
    ///   - dash: the dash pattern (default `6 4`).
    public init(value: Double, label: String, colour: String = "#555555", dash: String = "6 4") {
        self.value = value
        self.label = label
        self.colour = colour
        self.dash = dash
    }
}

/// A line chart: series over a numeric (linear or log) or categorical x axis and a linear or
/// log y axis, with nice ticks, axis labels, a title and a legend at the right.
///
/// Each series is drawn as one `<polyline class="series">` per run of consecutive drawable
/// points (a non-finite value, or one ≤ 0 on a log axis, ends a run); a run of a single point is
/// drawn as a dot. With no drawable point at all the chart says "no data".
public struct LineChart: Chart {
    /// The title.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// The lines, drawn in order.
    public var series: [LineSeries]
    /// Linear or log x (ignored with `xCategories`).
    public var xScale: ChartScale.Kind
    /// Linear or log y.
    public var yScale: ChartScale.Kind
    /// Names of the x positions 0, 1, …: a categorical x axis labelled by name. When the names
    /// do not fit side by side, the dotted components all names share at the start and end are
    /// moved into the axis label (`layer (encoder.*.weight)`), and names still too wide are
    /// rotated and shortened.
    public var xCategories: [String]?
    /// A fixed y domain instead of one fitted to the data (e.g. `0...1` for fractions; drawn
    /// with a 2% margin on a linear axis).
    public var yDomain: ClosedRange<Double>?
    /// Whether to draw a dot on every point.
    public var markers: Bool
    /// Horizontal lines across the plot.
    public var referenceLines: [ReferenceLine]
    /// Width in pixels.
    public var width: Double
    /// Height in pixels.
    public var height: Double

    /// A line chart.
    ///
    /// - Parameters:
    ///   - title: the title.
    ///   - xLabel: the x axis label.
    ///   - yLabel: the y axis label.
    ///   - series: the lines.
    ///   - xScale: linear (default) or log x.
    ///   - yScale: linear (default) or log y.
    ///   - xCategories: names of x positions 0, 1, … for a categorical axis, or nil.
    ///   - yDomain: a fixed y domain, or nil to fit the data.
    ///   - markers: dots on every point (default false).
    ///   - referenceLines: horizontal lines.
    ///   - width: width in pixels (default 640).
    ///   - height: height in pixels (default 360).
    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries],
                xScale: ChartScale.Kind = .linear, yScale: ChartScale.Kind = .linear, xCategories: [String]? = nil,
                yDomain: ClosedRange<Double>? = nil, markers: Bool = false, referenceLines: [ReferenceLine] = [],
                width: Double = 640, height: Double = 360) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xScale = xScale
        self.yScale = yScale
        self.xCategories = xCategories
        self.yDomain = yDomain
        self.markers = markers
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    private var xKind: ChartScale.Kind { xCategories == nil ? xScale : .linear }

    private func drawable(_ x: Double, _ y: Double) -> Bool {
        x.isFinite && y.isFinite && (xKind == .linear || x > 0) && (yScale == .linear || y > 0)
    }

    /// Whether any series has a drawable point.
    public var hasData: Bool {
        series.contains { s in zip(s.x, s.y).contains { drawable($0, $1) } }
    }

    /// The runs of consecutive drawable points of series `s`, as index ranges.
    func runs(of s: LineSeries) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start: Int?
        for i in s.x.indices {
            if drawable(s.x[i], s.y[i]) {
                if start == nil { start = i }
            } else if let first = start {
                out.append(first..<i)
                start = nil
            }
        }
        if let first = start { out.append(first..<s.x.count) }
        return out
    }

    /// The chart as an SVG image.
    public func svg() -> String {
        var doc = SVGDocument(width: width, height: height, title: title)
        ChartDrawing.title(&doc, title)
        let top = 38.0
        let legend = legendEntries
        let legendWidth = legend.isEmpty ? 0 : Swift.min(190, legend.map { ChartFormat.textWidth($0.label, size: ChartDrawing.legendSize) }.max()! + 36)

        guard hasData else {
            ChartDrawing.noData(&doc, x: 60, y: top, width: width - 80, height: height - top - 30,
                                reason: series.isEmpty ? nil : "no finite values to draw")
            return doc.markup
        }

        // y scale first (its labels set the left margin).
        let points = series.flatMap { s in zip(s.x, s.y).filter { drawable($0, $1) } }
        var yValues = points.map(\.1)
        yValues += referenceLines.map(\.value).filter { $0.isFinite && (yScale == .linear || $0 > 0) }
        var y: ChartScale
        if let d = yDomain, d.lowerBound < d.upperBound, yScale == .linear || d.lowerBound > 0 {
            // A 2% margin keeps values at the ends off the frame; the ticks stay inside.
            let margin = yScale == .linear ? 0.02 * (d.upperBound - d.lowerBound) : 0
            y = ChartScale(kind: yScale, lower: d.lowerBound - margin, upper: d.upperBound + margin, start: 1, end: 0)
        } else {
            y = ChartScale.fitting(yValues, kind: yScale, start: 1, end: 0)
        }
        let bottomGuess = height - 50
        // About one tick per 55 px on a linear axis; on a log axis up to one decade per 22 px.
        let yTickCount = Swift.max(2, Int((bottomGuess - top) / (yScale == .log ? 44 : 55)))
        let yTicks = y.ticks(count: yTickCount)
        let yLabels = y.labels(yTicks)
        var left = 14 + (yLabel.isEmpty ? 0 : 18) + ChartDrawing.widest(yLabels) + 10
        let right = width - 14 - (legendWidth > 0 ? legendWidth + 8 : 0)

        // x axis: categories or numbers; its labels set the bottom margin.
        let xTicks: [Double], xLabels: [String]
        var x: ChartScale
        var rotate = false
        var bottomMargin = 50.0
        var axisLabel = xLabel
        if let categories = xCategories {
            let n = Swift.max(1, categories.count)
            x = ChartScale(kind: .linear, lower: -0.5, upper: Double(n) - 0.5, start: left, end: right)
            let slot = (right - left) / Double(n)
            let every = Swift.max(1, Int((14 / slot).rounded(.up)))
            let shown = Array(stride(from: 0, to: categories.count, by: every))
            xTicks = shown.map(Double.init)
            var full = shown.map { categories[$0] }
            let room = slot * Double(every) - 8
            if ChartDrawing.widest(full) > room {
                // Long dotted names (`encoder.block3.linear.weight`): show the parts that differ,
                // the shared ones once in the axis label.
                let parts = ChartFormat.distinctParts(categories)
                if !parts.pattern.isEmpty {
                    full = shown.map { parts.cores[$0] }
                    axisLabel = xLabel.isEmpty ? parts.pattern : "\(xLabel) (\(parts.pattern))"
                }
            }
            if ChartDrawing.widest(full) <= room {
                xLabels = full
            } else {
                rotate = true
                let fit = 92.0
                xLabels = full.map { ChartFormat.fitted($0, width: fit, size: ChartDrawing.tickSize) }
                let widest = Swift.min(fit, ChartDrawing.widest(xLabels))
                bottomMargin = 30 + widest * 0.6 + 14
                // The first label reaches left of its tick by its width · cos 35°.
                let reach = widest * 0.82 - slot / 2 + 6
                if reach > left {
                    left = reach
                    x = x.mapped(start: left, end: right)
                }
            }
        } else {
            x = ChartScale.fitting(points.map(\.0), kind: xKind, start: left, end: right, padding: 0.02)
            var count = Swift.max(2, Int((right - left) / 90))
            var ticks = x.ticks(count: count), labels = x.labels(ticks)
            while count > 1, ticks.count > 1, ChartDrawing.widest(labels) + 12 > (right - left) / Double(ticks.count) {
                count -= 1
                ticks = x.ticks(count: count)
                labels = x.labels(ticks)
            }
            xTicks = ticks
            xLabels = labels
        }
        let bottom = height - bottomMargin
        y = y.mapped(start: bottom, end: top)
        x = x.mapped(start: left, end: right)

        // Axes, grid, ticks.
        ChartDrawing.yTicks(&doc, scale: y, ticks: yTicks, labels: yLabels, left: left, right: right)
        for (value, label) in zip(xTicks, xLabels) {
            guard let px = x.position(value) else { continue }
            if xCategories == nil {
                doc.line(x1: px, y1: top, x2: px, y2: bottom, stroke: ChartPalette.grid, className: "grid")
            }
            doc.line(x1: px, y1: bottom, x2: px, y2: bottom + 4, stroke: ChartPalette.axis)
            if rotate {
                doc.text(label, x: px + 3, y: bottom + 12, size: ChartDrawing.tickSize, anchor: .end,
                         fill: ChartPalette.mutedText, rotation: -35, className: "tick")
            } else {
                doc.text(label, x: px, y: bottom + 17, size: ChartDrawing.tickSize, anchor: .middle,
                         fill: ChartPalette.mutedText, className: "tick")
            }
        }
        doc.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "none", stroke: ChartPalette.axis)
        ChartDrawing.xLabel(&doc, axisLabel, centre: (left + right) / 2, y: height - 10, width: right - left)
        ChartDrawing.yLabel(&doc, yLabel, x: 14 + 9, centre: (top + bottom) / 2, height: bottom - top)

        // Reference lines under the data.
        for line in referenceLines {
            guard let py = y.position(line.value) else { continue }
            doc.line(x1: left, y1: py, x2: right, y2: py, stroke: line.colour, strokeWidth: 1.5, dash: line.dash,
                     className: "reference")
        }

        // The series.
        for (index, s) in series.enumerated() {
            let colour = s.colour ?? ChartPalette.colour(index)
            let dash = s.dash ?? ChartPalette.dash(index)
            for run in runs(of: s) {
                let pts = run.compactMap { i -> (x: Double, y: Double)? in
                    guard let px = x.position(s.x[i]), let py = y.position(s.y[i]) else { return nil }
                    return (px, py)
                }
                if pts.count >= 2 {
                    doc.polyline(pts, stroke: colour, strokeWidth: 1.8, dash: dash, className: "series", tooltip: s.name)
                } else if let p = pts.first, !markers {
                    doc.circle(cx: p.x, cy: p.y, r: 2.6, fill: colour, className: "point", tooltip: s.name)
                }
                if markers {
                    for (p, i) in zip(pts, run) {
                        doc.circle(cx: p.x, cy: p.y, r: 2.8, fill: colour, className: "marker",
                                   tooltip: "\(s.name): \(ChartFormat.number(s.y[i]))")
                    }
                }
            }
        }

        // Legend at the right.
        if !legend.isEmpty {
            let lx = right + 12
            let rowHeight = 16.0
            let capacity = Swift.max(1, Int((bottom - top - 4) / rowHeight))
            let shown = legend.count <= capacity ? legend : Array(legend.prefix(capacity - 1))
            for (i, entry) in shown.enumerated() {
                let ly = top + 8 + Double(i) * rowHeight
                doc.line(x1: lx, y1: ly, x2: lx + 20, y2: ly, stroke: entry.colour, strokeWidth: 2.2, dash: entry.dash,
                         className: "legend-swatch")
                let text = ChartFormat.fitted(entry.label, width: legendWidth - 30, size: ChartDrawing.legendSize)
                doc.text(text, x: lx + 26, y: ly + 4, size: ChartDrawing.legendSize, className: "legend",
                         tooltip: text == entry.label ? nil : entry.label)
            }
            if shown.count < legend.count {
                doc.text("+\(legend.count - shown.count) more", x: lx + 26, y: top + 8 + Double(shown.count) * rowHeight + 4,
                         size: ChartDrawing.legendSize, fill: ChartPalette.mutedText, className: "legend")
            }
        }
        return doc.markup
    }

    private var legendEntries: [(label: String, colour: String, dash: String?)] {
        var out = series.enumerated().map { i, s in
            (label: s.name, colour: s.colour ?? ChartPalette.colour(i), dash: s.dash ?? ChartPalette.dash(i))
        }
        out += referenceLines.filter { $0.value.isFinite }.map { (label: $0.label, colour: $0.colour, dash: Optional($0.dash)) }
        return out.filter { !$0.label.isEmpty }
    }
}
