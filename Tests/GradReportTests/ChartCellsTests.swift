import GradReport
import GradTestSupport
import Testing

@Suite("Heat maps, grid charts and colour scales")
struct ChartCellsTests {
    @Test("Viridis ends and clamping; missing colour for NaN")
    func palette() {
        #expect(ChartPalette.sequential(0) == "#440154")
        #expect(ChartPalette.sequential(1) == "#FDE725")
        #expect(ChartPalette.sequential(-3) == ChartPalette.sequential(0))
        #expect(ChartPalette.sequential(.nan) == ChartPalette.missing)
        #expect(Set(ChartPalette.categorical).count == 8)
    }

    @Test("Colour scales: linear, log, zero and non-finite")
    func colourScale() {
        let linear = ChartColourScale.fitting([1, 3, .nan], kind: .linear)
        #expect(linear.lower == 1 && linear.upper == 3)
        #expect(linear.fraction(2) == 0.5)
        #expect(linear.fraction(.infinity) == nil && linear.colour(.nan) == ChartPalette.missing)
        let log = ChartColourScale.fitting([1e-4, 0, 1e-2, 1], kind: .log)
        #expect(log.lower == 1e-4 && log.upper == 1)
        #expect(log.fraction(1e-2) == 0.5)
        #expect(log.colour(0) == ChartPalette.empty)
        #expect(log.colour(-1) == ChartPalette.missing)
    }

    @Test("A heat map draws every cell, a colour bar, and marks cells without a value")
    func heatMap() throws {
        let values: [[Double]] = [[0.1, 0.2, .nan], [0.3, 0, 0.5]]
        let chart = HeatMap(title: "h", xLabel: "step", yLabel: "bin", colourLabel: "fraction", values: values,
                            rowLabels: ["low", "high"], columnLabels: ["0", "10", "20"], logColour: true)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(!hasNonfiniteAttribute(parsed))
        #expect(parsed.all("rect", class: "cell").count == 6)
        #expect(parsed.all("rect", class: "nonfinite").count == 1)
        #expect(parsed.all("rect", class: "colour-bar").count == 48)
        #expect(parsed.all("rect", class: "swatch").count == 2, "no data and 0")
        for word in ["h", "step", "bin", "fraction", "low", "high", "20", "no data", "0"] {
            #expect(parsed.texts.contains(word), "missing \(word)")
        }
        // Row 0 at the bottom: the "low" label sits below the "high" one.
        let low = try #require(parsed.first("text", text: "low")?["y"].flatMap(Double.init))
        let high = try #require(parsed.first("text", text: "high")?["y"].flatMap(Double.init))
        #expect(low > high)
    }

    @Test("All-NaN and empty heat maps say no data")
    func heatMapNoData() {
        for values in [[[Double]](), [[.nan, .nan]], [[Double]()]] {
            let chart = HeatMap(title: "h", xLabel: "x", yLabel: "y", colourLabel: "c", values: values,
                                rowLabels: [], columnLabels: [])
            #expect(!chart.hasData)
            let parsed = parseMarkup(chart.svg())
            #expect(parsed.error == nil)
            #expect(parsed.texts.contains("no data"))
            #expect(parsed.all("rect", class: "cell").isEmpty)
        }
    }

    @Test("Many columns: labels are thinned so they do not overlap")
    func thinning() throws {
        let columns = 120
        let values = [(0..<columns).map { Double($0) }]
        let chart = HeatMap(title: "wide", xLabel: "step", yLabel: "", colourLabel: "v", values: values,
                            rowLabels: ["r"], columnLabels: (0..<columns).map { String($0 * 1000) })
        let parsed = parseMarkup(chart.svg())
        let ticks = parsed.all("text", class: "tick").filter { $0["text-anchor"] == "middle" }
        #expect(ticks.count > 2 && ticks.count < 20, "\(ticks.count) column labels")
        let xs = try ticks.map { try #require(Double($0["x"] ?? "")) }.sorted()
        let widest = ChartFormat.textWidth("119000", size: 11)
        for (a, b) in zip(xs, xs.dropFirst()) { #expect(b - a > widest, "labels \(a) and \(b) overlap") }
    }

    @Test("A grid chart writes each value in its cell and marks non-finite cells")
    func grid() {
        let chart = GridChart(title: "final loss", xLabel: "setting", yLabel: "depth", colourLabel: "loss",
                              rows: ["2", "10", "50"], columns: ["sigmoid", "relu"],
                              values: [[0.01, 0.02], [0.5, 0.001], [.nan, .infinity]])
        #expect(chart.usesLogColour, "positive values spanning more than two decades")
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(!hasNonfiniteAttribute(parsed))
        #expect(parsed.all("rect", class: "cell").count == 6)
        #expect(parsed.all("rect", class: "nonfinite").count == 2)
        #expect(parsed.all("text", class: "cell-value").count == 6)
        for word in ["0.01", "0.5", "0.001", "NaN", "∞", "sigmoid", "relu", "depth", "setting", "not finite"] {
            #expect(parsed.texts.contains(word), "missing \(word)")
        }
        let linear = GridChart(title: "t", xLabel: "", yLabel: "", colourLabel: "", rows: ["a"], columns: ["b", "c"],
                               values: [[-1, 2]])
        #expect(!linear.usesLogColour)
    }
}
