// Fixed colours: the Okabe–Ito categorical palette for lines and the viridis colour map for
// cell values, both readable with the common colour-vision deficiencies.

import Foundation

/// The colours every chart uses.
///
/// Lines: Okabe & Ito (2008), "Color Universal Design", reordered so the first colours are the
/// most distinct on white (yellow last). Cells: viridis (van der Walt & Smith, matplotlib),
/// perceptually uniform and monotone in lightness, so it also reads in grey.
public enum ChartPalette {
    /// Okabe–Ito: blue, vermillion, bluish green, reddish purple, orange, sky blue, black, yellow.
    public static let categorical = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// Fill of a cell with no value (NaN, or a non-positive value on a log colour scale).
    public static let missing = "#BDBDBD"
    /// Fill of an exact zero on a log colour scale (histogram bins with no elements).
    public static let empty = "#FFFFFF"
    /// Axis and frame colour.
    public static let axis = "#444444"
    /// Grid line colour.
    public static let grid = "#E3E3E3"
    /// Muted text (tick labels, notes).
    public static let mutedText = "#555555"

    /// The categorical colour of series `index` (cycling after eight).
    ///
    /// - Parameter index: the series' position (≥ 0).
    public static func colour(_ index: Int) -> String {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }

    /// The dash pattern that tells apart series sharing a colour: solid for the first eight,
    /// then dashed, then dotted, …
    ///
    /// - Parameter index: the series' position.
    public static func dash(_ index: Int) -> String? {
        switch (index / categorical.count) % 3 {
        case 1: "6 4"
        case 2: "2 3"
        default: nil
        }
    }

    /// Viridis control points, `t = 0, 1/8, …, 1`.
    private static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    /// The viridis colour at `t ∈ [0, 1]` (clamped; NaN gives `missing`), linearly interpolated
    /// between nine control points, as `#rrggbb`.
    ///
    /// - Parameter t: the position on the map, 0 dark purple, 1 yellow.
    public static func sequential(_ t: Double) -> String {
        guard !t.isNaN else { return missing }
        let u = Swift.min(1, Swift.max(0, t)) * Double(viridis.count - 1)
        let i = Swift.min(viridis.count - 2, Int(u))
        let f = u - Double(i)
        let a = viridis[i], b = viridis[i + 1]
        return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// Black or white, whichever reads better on viridis at `t` (white on the dark half).
    ///
    /// - Parameter t: the position on the map.
    public static func textColour(onSequential t: Double) -> String {
        t.isNaN || t > 0.55 ? "#000000" : "#FFFFFF"
    }

    private static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        var text: [UInt8] = [UInt8(ascii: "#")]
        for v in [r, g, b] {
            let n = Swift.min(255, Swift.max(0, Int(v.rounded())))
            for digit in [n / 16, n % 16] { text.append(digit < 10 ? UInt8(ascii: "0") + UInt8(digit) : UInt8(ascii: "A") + UInt8(digit - 10)) }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
