// Tick positions: "nice" 1-2-5 steps on linear axes, decades on log axes.

import Foundation

/// Tick values for chart axes.
public enum ChartTicks {
    /// The 1-2-5 step for about `count` intervals over `[lower, upper]`.
    ///
    /// `raw = (upper − lower) / count`, `base = 10^⌊log₁₀ raw⌋`; the step is `base`, `2·base`,
    /// `5·base` or `10·base`, whichever is nearest `raw` on a log scale (thresholds √2, √10, √50,
    /// as in d3). Returns nil when the interval is empty or not finite.
    ///
    /// - Parameters:
    ///   - lower: the low end.
    ///   - upper: the high end (> lower).
    ///   - count: the wanted number of intervals (≥ 1).
    public static func niceStep(lower: Double, upper: Double, count: Int = 5) -> Double? {
        let span = upper - lower
        guard lower.isFinite, upper.isFinite, span > 0, span.isFinite else { return nil }
        let raw = span / Double(Swift.max(1, count))
        let base = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let error = raw / base
        if error >= 50.0.squareRoot() { return 10 * base }
        if error >= 10.0.squareRoot() { return 5 * base }
        if error >= 2.0.squareRoot() { return 2 * base }
        return base
    }

    /// Tick values on a linear axis: the multiples of `niceStep(lower:upper:count:)` inside
    /// `[lower, upper]`, ascending, each rounded to the step's decimals (so `0.30000000000000004`
    /// comes out `0.3`); `[0, 1]` gives `0, 0.2, …, 1`, `[−5, 5]` gives `−4, −2, 0, 2, 4`.
    ///
    /// Empty when the interval is empty or not finite.
    /// - Parameters:
    ///   - lower: the low end.
    ///   - upper: the high end.
    ///   - count: the wanted number of intervals (default 5).
    public static func linear(lower: Double, upper: Double, count: Int = 5) -> [Double] {
        guard let step = niceStep(lower: lower, upper: upper, count: count) else { return [] }
        let first = Foundation.ceil(lower / step - 1e-9), last = Foundation.floor(upper / step + 1e-9)
        guard first <= last, last - first < 1000 else { return [] }
        let decimals = Swift.max(0, Int(-Foundation.floor(Foundation.log10(step) + 1e-9)))
        let scale = Foundation.pow(10, Double(decimals))
        return stride(from: first, through: last, by: 1).map { k in
            let v = (k * step * scale).rounded() / scale
            return v == 0 ? 0 : v
        }
    }

    /// Tick values on a log axis over `[lower, upper]` (both > 0).
    ///
    /// The decades `10^k` inside the interval, every `m`-th decade with `m` the smallest of
    /// 1, 2, 3, 5, 10, 20, … that leaves at most `maxCount` ticks (`[1e-7, 3e2]` gives
    /// `1e-7, 1e-6, …, 1e2`). When fewer than three decades fall inside, the 1-2-5 multiples
    /// inside the interval (`[0.015, 0.4]` gives `0.02, 0.05, 0.1, 0.2`); when fewer than three
    /// of those, the multiples 1…9 of each decade if they are 3 to `maxCount` (`[0.36, 1]`
    /// gives `0.4, 0.5, …, 1`), else the 1-2-5 ones if two; else linear ticks.
    ///
    /// - Parameters:
    ///   - lower: the low end (> 0).
    ///   - upper: the high end (> lower).
    ///   - maxCount: the most ticks wanted (default 10).
    public static func log(lower: Double, upper: Double, maxCount: Int = 10) -> [Double] {
        guard lower > 0, upper > lower, lower.isFinite, upper.isFinite else { return [] }
        let lo = Int(Foundation.ceil(Foundation.log10(lower) - 1e-9))
        let hi = Int(Foundation.floor(Foundation.log10(upper) + 1e-9))
        if hi - lo + 1 >= 3 {
            let steps = [1, 2, 3, 5, 10, 20, 30, 50, 100]
            let every = steps.first { (hi - lo) / $0 + 1 <= Swift.max(2, maxCount) } ?? 100
            let start = Int(Foundation.ceil(Double(lo) / Double(every))) * every
            return stride(from: start, through: hi, by: every).map { decade($0) }
        }
        var multiples: [Double] = []
        for k in (lo - 1)...(hi + 1) {
            for m in [1, 2, 5] {
                // Parsed, so 5e-6 is the double nearest 5·10⁻⁶ (5 · 1e-6 is one ulp off).
                let v = Double("\(m)e\(k)") ?? Double(m) * decade(k)
                if v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9) { multiples.append(v) }
            }
        }
        if multiples.count >= 3 { return multiples }
        var all: [Double] = []
        for k in (lo - 1)...(hi + 1) {
            for m in 1...9 {
                let v = Double("\(m)e\(k)") ?? Double(m) * decade(k)
                if v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9) { all.append(v) }
            }
        }
        if all.count >= 3 && all.count <= Swift.max(3, maxCount) { return all }
        if multiples.count >= 2 { return multiples }
        return linear(lower: lower, upper: upper, count: 4).filter { $0 > 0 }
    }

    /// `10^k` computed exactly for integer `k` in the representable range (by repeated
    /// multiplication rather than `pow`, so `decade(-7) == 1e-7`).
    ///
    /// - Parameter k: the exponent.
    public static func decade(_ k: Int) -> Double {
        if k >= 0 {
            var v = 1.0
            for _ in 0..<Swift.min(k, 400) { v *= 10 }
            return v
        }
        var v = 1.0
        for _ in 0..<Swift.min(-k, 400) { v *= 10 }
        return 1 / v
    }
}
