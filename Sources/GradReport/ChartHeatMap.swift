// Heat maps: a matrix of values as coloured cells (viridis, linear or log), with row and column
// labels and a colour bar; cells without a value are grey.

import Foundation

/// A heat map: `values[row][column]` as coloured cells, rows and columns labelled, with a colour
/// bar at the right.
///
/// Colour: viridis over the colourable values (`ChartColourScale.fitting`), linear or log.
/// NaN/±∞ cells are grey and listed as `missingLabel` beside the colour bar; on a log scale an
/// exact 0 is white and listed as `0`. All-missing or empty data draws "no data".
public struct HeatMap: Chart {
    /// The title.
    public var title: String
    /// The label under the columns.
    public var xLabel: String
    /// The label beside the rows.
    public var yLabel: String
    /// The colour bar's label (what the colour means).
    public var colourLabel: String
    /// `values[row][column]`; every row has the same count.
    public var values: [[Double]]
    /// One label per row.
    public var rowLabels: [String]
    /// One label per column (thinned when they do not fit).
    public var columnLabels: [String]
    /// Colour by `log₁₀` of the value.
    public var logColour: Bool
    /// Row 0 at the bottom (default), as on a value axis; false puts it at the top.
    public var rowsUpward: Bool
    /// The swatch name of cells without a value (default `no data`).
    public var missingLabel: String
    /// A fixed colour domain instead of the data's range.
    public var colourDomain: ClosedRange<Double>?
    /// Width in pixels.
    public var width: Double
    /// Height in pixels.
    public var height: Double

    /// A heat map.
    ///
    /// - Parameters:
    ///   - title: the title.
    ///   - xLabel: the label under the columns.
    ///   - yLabel: the label beside the rows.
    ///   - colourLabel: what the colour means.
    ///   - values: `values[row][column]` (rows of equal length).
    ///   - rowLabels: one per row.
    ///   - columnLabels: one per column.
    ///   - logColour: colour by `log₁₀` (default false).
    ///   - rowsUpward: row 0 at the bottom (default true).
    ///   - missingLabel: the swatch name of cells without a value.
    ///   - colourDomain: a fixed colour domain, or nil for the data's range.
    ///   - width: width in pixels (default 640).
    ///   - height: height in pixels (default 360).
    public init(title: String, xLabel: String, yLabel: String, colourLabel: String, values: [[Double]],
                rowLabels: [String], columnLabels: [String], logColour: Bool = false, rowsUpward: Bool = true,
                missingLabel: String = "no data", colourDomain: ClosedRange<Double>? = nil,
                width: Double = 640, height: Double = 360) {
        precondition(values.allSatisfy { $0.count == values.first?.count }, "HeatMap \(title): rows of unequal length \(values.map(\.count))")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colourLabel = colourLabel
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.logColour = logColour
        self.rowsUpward = rowsUpward
        self.missingLabel = missingLabel
        self.colourDomain = colourDomain
        self.width = width
        self.height = height
    }

    /// The colour scale the cells use.
    public var colourScale: ChartColourScale {
        let kind: ChartScale.Kind = logColour ? .log : .linear
        if let d = colourDomain, d.lowerBound < d.upperBound, !logColour || d.lowerBound > 0 {
            return ChartColourScale(kind: kind, lower: d.lowerBound, upper: d.upperBound)
        }
        return ChartColourScale.fitting(values.flatMap { $0 }, kind: kind)
    }

    /// Whether any cell has a colour.
    public var hasData: Bool { layout.hasData }

    /// The heat map as an SVG image.
    public func svg() -> String { layout.svg() }

    private var layout: CellLayout {
        CellLayout(title: title, xLabel: xLabel, yLabel: yLabel, colourLabel: colourLabel, values: values,
                   rowLabels: rowLabels, columnLabels: columnLabels, colours: colourScale, annotate: false,
                   rowsUpward: rowsUpward, width: width, height: height, missingLabel: missingLabel,
                   rowWord: yLabel.isEmpty ? "row" : yLabel, columnWord: xLabel.isEmpty ? "column" : xLabel)
    }
}
