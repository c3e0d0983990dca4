// Grid charts: categorical rows × categorical columns, each cell coloured by its value and
// labelled with it (the sweep phase diagram: depth × setting, colour = final loss).

import Foundation

/// A grid of categorical rows × categorical columns; each cell shows its value as a colour and
/// as a number, non-finite cells grey and marked `NaN`, `∞` or `−∞`.
///
/// Colour: viridis, log when `logColour` is true, or, when nil, when the finite values are all
/// positive and span more than two decades. Row 0 is at the top.
public struct GridChart: Chart {
    /// The title.
    public var title: String
    /// The label under the columns.
    public var xLabel: String
    /// The label beside the rows.
    public var yLabel: String
    /// What the colour (and number) means.
    public var colourLabel: String
    /// The row names, top to bottom.
    public var rows: [String]
    /// The column names, left to right.
    public var columns: [String]
    /// `values[row][column]`.
    public var values: [[Double]]
    /// Log colour (true), linear (false) or chosen from the data (nil).
    public var logColour: Bool?
    /// Width in pixels.
    public var width: Double
    /// Height in pixels.
    public var height: Double

    /// A grid chart.
    ///
    /// - Parameters:
    ///   - title: the title.
    ///   - xLabel: the label under the columns.
    ///   - yLabel: the label beside the rows.
    ///   - colourLabel: what the colour means.
    ///   - rows: the row names (one per row of `values`).
    ///   - columns: the column names (one per value in a row).
    ///   - values: `values[row][column]`.
    ///   - logColour: log colour, linear, or nil to choose.
    ///   - width: width in pixels (default 640).
    ///   - height: height in pixels (default 360).
    public init(title: String, xLabel: String, yLabel: String, colourLabel: String, rows: [String], columns: [String],
                values: [[Double]], logColour: Bool? = nil, width: Double = 640, height: Double = 360) {
        precondition(values.count == rows.count, "GridChart \(title): \(values.count) rows of values for \(rows.count) row names")
        precondition(values.allSatisfy { $0.count == columns.count },
                     "GridChart \(title): rows of \(values.map(\.count)) values for \(columns.count) column names")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colourLabel = colourLabel
        self.rows = rows
        self.columns = columns
        self.values = values
        self.logColour = logColour
        self.width = width
        self.height = height
    }

    /// Whether the colour is logarithmic: `logColour`, or when nil, whether the finite values
    /// are all > 0 and `max / min > 100`.
    public var usesLogColour: Bool {
        if let logColour { return logColour }
        return RunCharts.spansDecades(values.flatMap { $0 }, decades: 2)
    }

    /// The colour scale the cells use.
    public var colourScale: ChartColourScale {
        ChartColourScale.fitting(values.flatMap { $0 }, kind: usesLogColour ? .log : .linear)
    }

    /// Whether any cell has a colour.
    public var hasData: Bool { layout.hasData }

    /// The grid as an SVG image.
    public func svg() -> String { layout.svg() }

    private var layout: CellLayout {
        CellLayout(title: title, xLabel: xLabel, yLabel: yLabel, colourLabel: colourLabel, values: values,
                   rowLabels: rows, columnLabels: columns, colours: colourScale, annotate: true, rowsUpward: false,
                   width: width, height: height, missingLabel: "not finite",
                   rowWord: yLabel.isEmpty ? "row" : yLabel, columnWord: xLabel.isEmpty ? "column" : xLabel)
    }
}
