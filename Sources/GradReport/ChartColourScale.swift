// The map from a cell's value to a colour (viridis, linear or log), and its colour bar.

import Foundation

/// A map from values to viridis colours over `[lower, upper]`, linear or base-10 logarithmic.
///
/// NaN and ±∞ (and negative values on a log scale) get `ChartPalette.missing`; an exact 0 on a
/// log scale gets `ChartPalette.empty`; values outside the domain take the end colours.
public struct ChartColourScale: Sendable, Equatable {
    /// Linear or log spacing of the values along the colour map.
    public let kind: ChartScale.Kind
    /// The value at the dark end.
    public let lower: Double
    /// The value at the bright end.
    public let upper: Double

    /// A colour scale from its parts.
    ///
    /// - Parameters:
    ///   - kind: linear or log.
    ///   - lower: the value at the dark end (> 0 on log).
    ///   - upper: the value at the bright end (> lower).
    public init(kind: ChartScale.Kind, lower: Double, upper: Double) {
        precondition(lower.isFinite && upper.isFinite && lower < upper, "ChartColourScale needs lower < upper, got [\(lower), \(upper)]")
        precondition(kind == .linear || lower > 0, "a log ChartColourScale needs lower > 0, got \(lower)")
        self.kind = kind
        self.lower = lower
        self.upper = upper
    }

    /// The scale spanning the colourable values of `values` exactly (log: the positive finite
    /// ones); one distinct value `v` gets `[v − 1, v + 1]` (log: `[v/10, v·10]`); none gives
    /// `[0, 1]` (log: `[1, 10]`).
    ///
    /// - Parameters:
    ///   - values: the cell values.
    ///   - kind: linear or log.
    public static func fitting(_ values: [Double], kind: ChartScale.Kind) -> ChartColourScale {
        let usable = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        guard let lo = usable.min(), let hi = usable.max() else {
            return kind == .linear ? ChartColourScale(kind: .linear, lower: 0, upper: 1) : ChartColourScale(kind: .log, lower: 1, upper: 10)
        }
        if lo < hi && (hi - lo).isFinite { return ChartColourScale(kind: kind, lower: lo, upper: hi) }
        switch kind {
        case .linear:
            let half = Swift.max(1, Swift.abs(lo) / 10)
            return ChartColourScale(kind: .linear, lower: lo - half, upper: lo + half)
        case .log:
            return ChartColourScale(kind: .log, lower: lo / 10, upper: lo * 10)
        }
    }

    /// The position of `value` on the colour map in `[0, 1]` (clamped), or nil when it has no
    /// colour (non-finite, or ≤ 0 on a log scale).
    ///
    /// - Parameter value: the cell value.
    public func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let t: Double
        switch kind {
        case .linear:
            t = (value - lower) / (upper - lower)
        case .log:
            guard value > 0 else { return nil }
            t = (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        return t.isFinite ? Swift.min(1, Swift.max(0, t)) : nil
    }

    /// The fill colour of `value`.
    ///
    /// - Parameter value: the cell value.
    public func colour(_ value: Double) -> String {
        if let t = fraction(value) { return ChartPalette.sequential(t) }
        return kind == .log && value == 0 ? ChartPalette.empty : ChartPalette.missing
    }

    /// The text colour that reads on `value`'s fill.
    ///
    /// - Parameter value: the cell value.
    public func textColour(_ value: Double) -> String {
        fraction(value).map(ChartPalette.textColour(onSequential:)) ?? "#000000"
    }

    /// Draws a vertical colour bar with ticks from `top` to `bottom` at `x`, and returns the
    /// widest tick label's width.
    @discardableResult
    func drawBar(_ doc: inout SVGDocument, x: Double, top: Double, bottom: Double, barWidth: Double = 12) -> Double {
        let pieces = 48
        let h = (bottom - top) / Double(pieces)
        for i in 0..<pieces {
            let t = (Double(i) + 0.5) / Double(pieces)
            doc.rect(x: x, y: bottom - Double(i + 1) * h, width: barWidth, height: h + 0.6, fill: ChartPalette.sequential(t),
                     className: "colour-bar")
        }
        doc.rect(x: x, y: top, width: barWidth, height: bottom - top, fill: "none", stroke: ChartPalette.axis)
        let axis = ChartScale(kind: kind, lower: lower, upper: upper, start: bottom, end: top)
        let ticks = axis.ticks(count: Swift.max(2, Int((bottom - top) / 45)))
        let labels = axis.labels(ticks)
        for (value, label) in zip(ticks, labels) {
            guard let y = axis.position(value) else { continue }
            doc.line(x1: x + barWidth, y1: y, x2: x + barWidth + 4, y2: y, stroke: ChartPalette.axis)
            doc.text(label, x: x + barWidth + 7, y: y + ChartDrawing.tickSize * 0.35, size: ChartDrawing.tickSize,
                     fill: ChartPalette.mutedText, className: "tick")
        }
        return ChartDrawing.widest(labels)
    }

    /// The room a colour bar with its tick labels needs beside the plot.
    func barRoom() -> Double {
        let axis = ChartScale(kind: kind, lower: lower, upper: upper, start: 200, end: 0)
        return 12 + 7 + ChartDrawing.widest(axis.labels(axis.ticks(count: 4)))
    }
}
