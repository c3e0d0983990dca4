// The map from data values to pixel positions along one axis, linear or logarithmic, with the
// axis's ticks and their labels.

import Foundation

/// A map from a data interval to a pixel interval, linear or base-10 logarithmic.
///
/// Linear: `p = start + (v − lower) / (upper − lower) · (end − start)`. Log:
/// the same on `log₁₀ v`. `end < start` is allowed (a y axis grows upward).
public struct ChartScale: Sendable, Equatable {
    /// How values are spaced.
    public enum Kind: String, Sendable {
        /// Equal differences, equal distances.
        case linear
        /// Equal ratios, equal distances (values must be > 0).
        case log
    }

    /// Linear or log.
    public let kind: Kind
    /// The data value at `start`.
    public let lower: Double
    /// The data value at `end`.
    public let upper: Double
    /// The pixel position of `lower`.
    public let start: Double
    /// The pixel position of `upper`.
    public let end: Double

    /// A scale from its parts.
    ///
    /// - Parameters:
    ///   - kind: linear or log.
    ///   - lower: the data value at `start` (finite; > 0 on a log scale).
    ///   - upper: the data value at `end` (> lower).
    ///   - start: its pixel position.
    ///   - end: its pixel position.
    public init(kind: Kind, lower: Double, upper: Double, start: Double, end: Double) {
        precondition(lower.isFinite && upper.isFinite && lower < upper, "ChartScale needs lower < upper, got [\(lower), \(upper)]")
        precondition(kind == .linear || lower > 0, "a log ChartScale needs lower > 0, got \(lower)")
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.start = start
        self.end = end
    }

    /// The pixel position of `value`, or nil when it cannot be drawn (NaN, ±∞, or ≤ 0 on a log
    /// scale). Values outside `[lower, upper]` map outside `[start, end]`.
    ///
    /// - Parameter value: the data value.
    public func position(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let t: Double
        switch kind {
        case .linear:
            t = (value - lower) / (upper - lower)
        case .log:
            guard value > 0 else { return nil }
            t = (Foundation.log10(value) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        let p = start + t * (end - start)
        return p.isFinite ? p : nil
    }

    /// Whether `value` can be drawn on this scale (finite, and > 0 on a log scale).
    ///
    /// - Parameter value: the data value.
    public func accepts(_ value: Double) -> Bool {
        value.isFinite && (kind == .linear || value > 0)
    }

    /// The tick values inside the domain: `ChartTicks.linear` with about `count` intervals, or
    /// `ChartTicks.log`.
    ///
    /// - Parameter count: the wanted number of intervals on a linear scale (default 5).
    public func ticks(count: Int = 5) -> [Double] {
        switch kind {
        case .linear: ChartTicks.linear(lower: lower, upper: upper, count: count)
        case .log: ChartTicks.log(lower: lower, upper: upper, maxCount: Swift.max(2, count * 2))
        }
    }

    /// Labels for `ticks`: shared decimals on a linear scale; on a log scale `10ᵏ` when every
    /// tick is a decade, otherwise short numbers for all (`0.02`, `0.05`, `0.1`).
    ///
    /// - Parameter ticks: values from `ticks(count:)`.
    public func labels(_ ticks: [Double]) -> [String] {
        switch kind {
        case .linear:
            return ChartFormat.linearTickLabels(ticks)
        case .log:
            let decades = ticks.allSatisfy { $0 > 0 && ChartTicks.decade(Int(Foundation.log10($0).rounded())) == $0 }
            return decades ? ticks.map(ChartFormat.logTickLabel) : ticks.map { ChartFormat.number($0) }
        }
    }

    /// A scale whose domain holds every drawable value of `values`, with a margin.
    ///
    /// Linear: `[min − m, max + m]` with `m = padding·(max − min)`; a single value `v` gets
    /// `v ± max(|v|/10, 1e-12)` (±1 for 0). Log: on `log₁₀`, a margin `m` of at least 0.05
    /// decade, except that each end goes to the next decade beyond the data (at least 0.02
    /// decade away) when that is within `m + 0.3` decade, so the axis ends on a labelled tick. With no drawable value the domain is
    /// `[0, 1]` (`[1, 10]` on log).
    ///
    /// - Parameters:
    ///   - values: the data (undrawable values are ignored).
    ///   - kind: linear or log.
    ///   - start: the pixel position of the low end.
    ///   - end: the pixel position of the high end.
    ///   - padding: the margin as a fraction of the data's span (default 0.04).
    public static func fitting(_ values: [Double], kind: Kind, start: Double, end: Double, padding: Double = 0.04) -> ChartScale {
        let usable = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else {
            return kind == .linear ? ChartScale(kind: .linear, lower: 0, upper: 1, start: start, end: end)
                : ChartScale(kind: .log, lower: 1, upper: 10, start: start, end: end)
        }
        switch kind {
        case .linear:
            if hi - lo <= Swift.max(Swift.abs(hi), Swift.abs(lo)) * 1e-12 {
                let half = lo == 0 ? 1 : Swift.max(Swift.abs(lo) / 10, 1e-12)
                lo -= half; hi += half
            } else {
                let margin = padding * (hi - lo)
                lo -= margin; hi += margin
            }
            if !(hi - lo).isFinite { lo = -Double.greatestFiniteMagnitude / 4; hi = Double.greatestFiniteMagnitude / 4 }
            return ChartScale(kind: .linear, lower: lo, upper: hi, start: start, end: end)
        case .log:
            var a = Foundation.log10(lo), b = Foundation.log10(hi)
            if b - a < 1e-9 { a -= 0.5; b += 0.5 }
            let margin = Swift.max(0.05, padding * (b - a))
            let below = Foundation.floor(a - 0.02), above = Foundation.ceil(b + 0.02)
            a = a - below <= margin + 0.3 ? below : a - margin
            b = above - b <= margin + 0.3 ? above : b + margin
            a = Swift.max(a, -300); b = Swift.min(b, 300)
            func exp10(_ e: Double) -> Double { e == e.rounded() ? ChartTicks.decade(Int(e)) : Foundation.pow(10, e) }
            return ChartScale(kind: .log, lower: exp10(a), upper: exp10(b), start: start, end: end)
        }
    }

    /// The same domain mapped to another pixel interval.
    ///
    /// - Parameters:
    ///   - start: the new pixel position of `lower`.
    ///   - end: the new pixel position of `upper`.
    public func mapped(start: Double, end: Double) -> ChartScale {
        ChartScale(kind: kind, lower: lower, upper: upper, start: start, end: end)
    }
}
