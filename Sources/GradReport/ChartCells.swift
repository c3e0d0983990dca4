// The drawing shared by the heat map and the grid chart: a matrix of coloured cells with row and
// column labels, a colour bar, and swatches for the cells without a colour.

import Foundation

/// A matrix of coloured cells with labelled rows and columns, drawn into an `SVGDocument`.
struct CellLayout {
    var title: String
    var xLabel: String
    var yLabel: String
    var colourLabel: String
    /// `values[row][column]`.
    var values: [[Double]]
    var rowLabels: [String]
    var columnLabels: [String]
    var colours: ChartColourScale
    /// Write each cell's value in it.
    var annotate: Bool
    /// Row 0 at the bottom (a value axis growing upward) rather than at the top.
    var rowsUpward: Bool
    var width: Double
    var height: Double
    /// Name of the swatch for NaN/±∞ cells.
    var missingLabel: String
    /// Tooltip prefix words for a cell (`row`, `column`).
    var rowWord: String
    var columnWord: String

    var hasData: Bool { values.contains { $0.contains { colours.fraction($0) != nil } } }

    func svg() -> String {
        var doc = SVGDocument(width: width, height: height, title: title)
        ChartDrawing.title(&doc, title)
        let top = 38.0
        let rows = values.count, columns = values.first?.count ?? 0
        guard rows > 0, columns > 0, hasData else {
            ChartDrawing.noData(&doc, x: 60, y: top, width: width - 80, height: height - top - 30,
                                reason: rows > 0 && columns > 0 ? "no finite values to draw" : nil)
            return doc.markup
        }
        let flat = values.flatMap { $0 }
        let anyMissing = flat.contains { !$0.isFinite || (colours.kind == .log && $0 < 0) }
        let anyEmpty = colours.kind == .log && flat.contains { $0 == 0 }

        // Right: colour bar, its labels, the colour label; the swatches below the bar.
        let swatchWords = [anyMissing ? missingLabel : nil, anyEmpty ? "0" : nil].compactMap { $0 }
        let swatchRoom = swatchWords.isEmpty ? 0 : 18 + ChartDrawing.widest(swatchWords, size: ChartDrawing.legendSize)
        let barBlock = Swift.max(colours.barRoom(), swatchRoom) + (colourLabel.isEmpty ? 0 : 20)
        let right = width - 12 - barBlock - 16

        // Left: row labels (thinned when rows are thin).
        let maxRowLabel = 110.0
        let fittedRows = rowLabels.map { ChartFormat.fitted($0, width: maxRowLabel, size: ChartDrawing.tickSize) }
        let left = 14 + (yLabel.isEmpty ? 0 : 18) + Swift.min(maxRowLabel, ChartDrawing.widest(fittedRows)) + 10

        // Bottom: column labels, horizontal when they fit, else rotated; thinned when narrow.
        let slot = (right - left) / Double(columns)
        let every = Swift.max(1, Int((14 / slot).rounded(.up)))
        let shownColumns = Array(stride(from: 0, to: columns, by: every))
        let fullColumns = shownColumns.map { $0 < columnLabels.count ? columnLabels[$0] : "" }
        var columnEvery = every
        var rotate = false
        var columnTexts = fullColumns
        var bottomMargin = 48.0
        if ChartDrawing.widest(fullColumns) + 8 > slot * Double(every) {
            // Prefer thinning numeric-looking labels (steps) over rotating them.
            let numeric = fullColumns.allSatisfy { Double($0) != nil }
            if numeric {
                columnEvery = Swift.max(every, Int(((ChartDrawing.widest(fullColumns) + 12) / slot).rounded(.up)))
                columnTexts = stride(from: 0, to: columns, by: columnEvery).map { $0 < columnLabels.count ? columnLabels[$0] : "" }
            } else {
                rotate = true
                columnTexts = fullColumns.map { ChartFormat.fitted($0, width: 92, size: ChartDrawing.tickSize) }
                bottomMargin = 30 + Swift.min(92, ChartDrawing.widest(columnTexts)) * 0.6 + 14
            }
        }
        let bottom = height - bottomMargin
        let cellWidth = (right - left) / Double(columns)
        let cellHeight = (bottom - top) / Double(rows)

        func rowTop(_ r: Int) -> Double {
            rowsUpward ? bottom - Double(r + 1) * cellHeight : top + Double(r) * cellHeight
        }

        // Cells.
        let fontSize = Swift.min(12, cellHeight * 0.45, cellWidth / 5.2)
        for r in 0..<rows {
            precondition(values[r].count == columns, "cell chart \(title): row \(r) has \(values[r].count) values, row 0 has \(columns)")
            let rowName = r < rowLabels.count ? rowLabels[r] : "\(r)"
            // Tooltip: "<rowWord> <rowName>, <columnWord> <columnName>: <value>".
            let tooltipStart = "\(rowWord) \(rowName), \(columnWord) "
            for c in 0..<columns {
                let v = values[r][c]
                let x = left + Double(c) * cellWidth, y = rowTop(r)
                let columnName = c < columnLabels.count ? columnLabels[c] : "\(c)"
                let colourless = colours.fraction(v) == nil
                doc.rect(x: x, y: y, width: cellWidth + (annotate ? 0 : 0.4), height: cellHeight + (annotate ? 0 : 0.4),
                         fill: colours.colour(v), stroke: annotate ? "#FFFFFF" : nil,
                         className: colourless && !(colours.kind == .log && v == 0) ? "cell nonfinite" : "cell") { tooltip in
                    tooltip.appendEscaped(tooltipStart)
                    tooltip.appendEscaped(columnName)
                    tooltip.append(": ")
                    tooltip.appendEscaped(ChartFormat.number(v))
                }
                if annotate && fontSize >= 7 {
                    let text = ChartFormat.number(v)
                    doc.text(ChartFormat.fitted(text, width: cellWidth - 4, size: fontSize), x: x + cellWidth / 2,
                             y: y + cellHeight / 2 + fontSize * 0.35, size: fontSize, anchor: .middle,
                             fill: colours.textColour(v), className: "cell-value")
                }
            }
        }
        doc.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "none", stroke: ChartPalette.axis)

        // Row labels.
        let rowEvery = Swift.max(1, Int((12 / cellHeight).rounded(.up)))
        for r in stride(from: 0, to: rows, by: rowEvery) {
            let y = rowTop(r) + cellHeight / 2
            let full = r < rowLabels.count ? rowLabels[r] : ""
            let text = r < fittedRows.count ? fittedRows[r] : ""
            doc.text(text, x: left - 6, y: y + ChartDrawing.tickSize * 0.35, size: ChartDrawing.tickSize, anchor: .end,
                     fill: ChartPalette.mutedText, className: "tick", tooltip: text == full ? nil : full)
        }
        // Column labels.
        for (i, c) in stride(from: 0, to: columns, by: columnEvery).enumerated() where i < columnTexts.count {
            let x = left + (Double(c) + 0.5) * cellWidth
            doc.line(x1: x, y1: bottom, x2: x, y2: bottom + 4, stroke: ChartPalette.axis)
            if rotate {
                doc.text(columnTexts[i], x: x + 3, y: bottom + 12, size: ChartDrawing.tickSize, anchor: .end,
                         fill: ChartPalette.mutedText, rotation: -35, className: "tick")
            } else {
                doc.text(columnTexts[i], x: x, y: bottom + 17, size: ChartDrawing.tickSize, anchor: .middle,
                         fill: ChartPalette.mutedText, className: "tick")
            }
        }
        ChartDrawing.xLabel(&doc, xLabel, centre: (left + right) / 2, y: height - 10, width: right - left)
        ChartDrawing.yLabel(&doc, yLabel, x: 14 + 9, centre: (top + bottom) / 2, height: bottom - top)

        // Colour bar, swatches and the colour label.
        let barX = right + 16
        let barBottom = bottom - (swatchWords.isEmpty ? 0 : Double(swatchWords.count) * 18 + 6)
        let labelWidth = colours.drawBar(&doc, x: barX, top: top, bottom: Swift.max(top + 40, barBottom))
        for (i, word) in swatchWords.enumerated() {
            let y = bottom - Double(swatchWords.count - i) * 18 + 4
            let fill = word == "0" ? ChartPalette.empty : ChartPalette.missing
            doc.rect(x: barX, y: y, width: 12, height: 12, fill: fill, stroke: ChartPalette.axis, className: "swatch")
            doc.text(word, x: barX + 18, y: y + 10, size: ChartDrawing.legendSize, className: "legend")
        }
        if !colourLabel.isEmpty {
            let x = Swift.min(width - 10, barX + 12 + 7 + Swift.max(labelWidth, swatchRoom - 18) + 12)
            ChartDrawing.yLabel(&doc, colourLabel, x: x, centre: (top + bottom) / 2, height: bottom - top)
        }
        return doc.markup
    }
}
