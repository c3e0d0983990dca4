import GradReport
import GradTestSupport
import Testing

@Suite("Line charts")
struct ChartLineTests {
    @Test("Two series on linear axes: polylines, legend, labels, ticks")
    func basic() throws {
        let chart = LineChart(title: "Loss", xLabel: "step", yLabel: "loss", series: [
            LineSeries(name: "train", y: [1, 0.5, 0.25, 0.2]),
            LineSeries(name: "test", y: [1.1, 0.7, 0.4, 0.35]),
        ])
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.all("polyline", class: "series").count == 2)
        #expect(parsed.all("polyline", class: "series").map { $0["stroke"] } == [ChartPalette.colour(0), ChartPalette.colour(1)])
        #expect(parsed.all("text", class: "legend").count == 2)
        for word in ["Loss", "step", "loss", "train", "test", "0.0", "1.0"] {
            #expect(parsed.texts.contains(word), "missing \(word)")
        }
        let svg = try #require(parsed.all("svg").first)
        #expect(svg["viewBox"] == "0 0 640 360")
        #expect(!parsed.text.contains("no data"))
    }

    @Test("NaN and ±∞ break a line into runs; nothing non-finite reaches an attribute")
    func gaps() {
        let chart = LineChart(title: "gaps", xLabel: "x", yLabel: "y", series: [
            LineSeries(name: "a", y: [1, 2, .nan, 3, 4, .infinity, 5, -.infinity, 6, 7]),
        ])
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(!hasNonfiniteAttribute(parsed))
        // Runs [1, 2], [3, 4], [5], [6, 7]: three lines and one dot.
        #expect(parsed.all("polyline", class: "series").count == 3)
        #expect(parsed.all("circle", class: "point").count == 1)
        for line in parsed.all("polyline", class: "series") {
            #expect(line["points"]!.split(separator: " ").count == 2)
        }
    }

    @Test("Log y: values ≤ 0 leave gaps; decade labels")
    func logAxis() {
        let chart = LineChart(title: "norms", xLabel: "layer", yLabel: "norm", series: [
            LineSeries(name: "g", y: [1e-7, 1e-5, 0, 1e-3, 1e-1, 3e2]),
        ], yScale: .log, markers: true)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(!hasNonfiniteAttribute(parsed))
        #expect(parsed.all("polyline", class: "series").count == 2)
        #expect(parsed.all("circle", class: "marker").count == 5)
        #expect(parsed.texts.contains("10⁻⁷") && parsed.texts.contains("10²"))
    }

    @Test("Log x: decades along the bottom, x ≤ 0 leaves a gap")
    func logX() {
        let chart = LineChart(title: "batch size", xLabel: "batch size", yLabel: "time", series: [
            LineSeries(name: "t", x: [0, 1, 10, 100, 1000], y: [5, 4, 3, 2, 1]),
        ], xScale: .log)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("polyline", class: "series").first?["points"]?.split(separator: " ").count == 4)
        #expect(parsed.texts.contains("10³") && parsed.texts.contains("1"))
    }

    @Test("Extreme finite values do not break the chart")
    func extremes() {
        let charts = [
            LineChart(title: "huge", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [1e300, -1e300, 1e-300, 0])]),
            LineChart(title: "huge x", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", x: [-.greatestFiniteMagnitude, 0, .greatestFiniteMagnitude], y: [1, 2, 3])]),
            LineChart(title: "tiny log", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [.leastNonzeroMagnitude, 1e300])], yScale: .log),
            LineChart(title: "constant", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [0, 0, 0])]),
            LineChart(title: "one point", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", x: [3], y: [7])]),
        ]
        for chart in charts {
            let parsed = parseMarkup(chart.svg())
            #expect(parsed.error == nil, "\(chart.title)")
            #expect(!hasNonfiniteAttribute(parsed), "\(chart.title)")
            #expect(!parsed.texts.contains("no data"), "\(chart.title)")
        }
    }

    @Test("Empty data, empty series and all-NaN data say no data")
    func noData() {
        let cases = [
            LineChart(title: "empty", xLabel: "x", yLabel: "y", series: []),
            LineChart(title: "empty series", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [])]),
            LineChart(title: "all NaN", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [.nan, .nan, .infinity])]),
            LineChart(title: "log of zeros", xLabel: "x", yLabel: "y", series: [LineSeries(name: "a", y: [0, -1])], yScale: .log),
        ]
        for chart in cases {
            #expect(!chart.hasData)
            let parsed = parseMarkup(chart.svg())
            #expect(parsed.error == nil, "\(chart.title)")
            #expect(parsed.texts.contains("no data"), "\(chart.title)")
            #expect(parsed.all("polyline").isEmpty)
            #expect(!hasNonfiniteAttribute(parsed))
        }
    }

    @Test("A categorical x axis labels each position by name, rotating long names")
    func categories() {
        let names = (0..<12).map { "encoder.block\($0).linear.weight" }
        let chart = LineChart(title: "flow", xLabel: "layer", yLabel: "norm", series: [
            LineSeries(name: "step 0", x: names.indices.map(Double.init), y: names.indices.map { Double($0 + 1) }),
        ], yScale: .log, xCategories: names, markers: true)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        let ticks = parsed.all("text", class: "tick").filter { ($0["transform"] ?? "").hasPrefix("rotate(-35") }
        #expect(ticks.count == 12, "every layer labelled, rotated")
        #expect(ticks.map(\.text) == (0..<12).map { "block\($0)" }, "the shared parts go to the axis label")
        #expect(parsed.texts.contains("layer (encoder.*.linear.weight)"))
        // Rotated labels stay inside the image.
        for tick in ticks { #expect(Double(tick["x"] ?? "") ?? -1 > ChartFormat.textWidth(tick.text, size: 11) * 0.82) }

        // Short names that fit are written whole and level.
        let short = LineChart(title: "flow", xLabel: "layer", yLabel: "norm", series: [LineSeries(name: "s", y: [1, 2, 3])],
                              xCategories: ["0.weight", "2.weight", "4.weight"])
        let p2 = parseMarkup(short.svg())
        #expect(p2.all("text", class: "tick").filter { $0["transform"] == nil }.map(\.text).suffix(3) == ["0.weight", "2.weight", "4.weight"])
    }

    @Test("Reference lines are drawn and listed; a fixed domain is kept")
    func referenceLines() throws {
        let chart = LineChart(title: "fractions", xLabel: "step", yLabel: "fraction", series: [
            LineSeries(name: "dead", y: [0.1, 0.2, 0.3]),
        ], yDomain: 0...1, referenceLines: [ReferenceLine(value: 0.5, label: "threshold")])
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.all("line", class: "reference").count == 1)
        #expect(parsed.texts.contains("threshold"))
        #expect(parsed.texts.contains("1.0") && parsed.texts.contains("0.0"), "the fixed domain's ends are ticks")
    }

    @Test("Many series: the legend stays inside the image")
    func longLegend() throws {
        let series = (0..<30).map { i in LineSeries(name: "parameter \(i)", y: [Double(i + 1), Double(i + 2)]) }
        let chart = LineChart(title: "many", xLabel: "x", yLabel: "y", series: series)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.all("polyline", class: "series").count == 30)
        #expect(parsed.texts.contains { $0.hasPrefix("+") && $0.hasSuffix("more") })
        for text in parsed.all("text", class: "legend") {
            let y = try #require(Double(text["y"] ?? ""))
            #expect(y < 360)
        }
        // The ninth series reuses the first colour, dashed.
        let ninth = parsed.all("polyline", class: "series")[8]
        #expect(ninth["stroke"] == ChartPalette.colour(0) && ninth["stroke-dasharray"] != nil)
    }
}
