import GradReport
import GradTestSupport
import Testing

@Suite("Chart ticks, scales and number formats")
struct ChartTicksTests {
    @Test("Linear nice ticks in 1-2-5 steps")
    func linearTicks() {
        #expect(ChartTicks.linear(lower: 0, upper: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(ChartTicks.linear(lower: 0.3, upper: 7.2) == [1, 2, 3, 4, 5, 6, 7])
        #expect(ChartTicks.linear(lower: -5, upper: 5) == [-4, -2, 0, 2, 4])
        #expect(ChartTicks.linear(lower: 0, upper: 1000, count: 4) == [0, 200, 400, 600, 800, 1000])
        #expect(ChartTicks.linear(lower: 0.001, upper: 0.0042) == [0.001, 0.0015, 0.002, 0.0025, 0.003, 0.0035, 0.004])
        #expect(ChartTicks.niceStep(lower: 0, upper: 1) == 0.2)
        #expect(ChartTicks.niceStep(lower: 0.3, upper: 7.2) == 1)
        #expect(ChartTicks.niceStep(lower: -5, upper: 5) == 2)
        #expect(ChartTicks.niceStep(lower: 0, upper: 30) == 5)
        #expect(ChartTicks.niceStep(lower: 0, upper: 45) == 10)
    }

    @Test("Empty or non-finite intervals give no ticks")
    func degenerate() {
        #expect(ChartTicks.linear(lower: 1, upper: 1).isEmpty)
        #expect(ChartTicks.linear(lower: 2, upper: 1).isEmpty)
        #expect(ChartTicks.linear(lower: .nan, upper: 1).isEmpty)
        #expect(ChartTicks.linear(lower: 0, upper: .infinity).isEmpty)
        #expect(ChartTicks.log(lower: 0, upper: 10).isEmpty)
        #expect(ChartTicks.log(lower: -1, upper: 10).isEmpty)
    }

    @Test("Log ticks at decades, thinned when many, 1-2-5 within one decade")
    func logTicks() {
        #expect(ChartTicks.log(lower: 1e-7, upper: 3e2) == [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100])
        #expect(ChartTicks.log(lower: 1e-12, upper: 1e4, maxCount: 10) == [1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1, 100, 1e4])
        #expect(ChartTicks.log(lower: 2, upper: 30) == [2, 5, 10, 20])
        #expect(ChartTicks.log(lower: 0.015, upper: 0.4) == [0.02, 0.05, 0.1, 0.2])
        #expect(ChartTicks.log(lower: 0.36, upper: 1) == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
        #expect(ChartTicks.log(lower: 1.5, upper: 1.9) == [1.5, 1.6, 1.7, 1.8, 1.9])
        #expect(ChartTicks.decade(-7) == 1e-7 && ChartTicks.decade(3) == 1000 && ChartTicks.decade(0) == 1)
    }

    @Test("Tick labels: shared decimals, superscript decades")
    func labels() {
        #expect(ChartFormat.linearTickLabels([0, 0.2, 0.4]) == ["0.0", "0.2", "0.4"])
        #expect(ChartFormat.linearTickLabels([-4, -2, 0, 2]) == ["−4", "−2", "0", "2"])
        #expect(ChartFormat.logTickLabel(1e-7) == "10⁻⁷")
        #expect(ChartFormat.logTickLabel(1) == "1")
        #expect(ChartFormat.logTickLabel(10) == "10")
        #expect(ChartFormat.logTickLabel(100) == "10²")
        #expect(ChartFormat.logTickLabel(20) == "20")
        #expect(ChartFormat.superscript(-12) == "⁻¹²")
        let log = ChartScale(kind: .log, lower: 0.015, upper: 0.4, start: 0, end: 1)
        #expect(log.labels(log.ticks()) == ["0.02", "0.05", "0.1", "0.2"])
        let decades = ChartScale(kind: .log, lower: 1e-3, upper: 10, start: 0, end: 1)
        #expect(decades.labels(decades.ticks()) == ["10⁻³", "10⁻²", "10⁻¹", "1", "10"])
    }

    @Test("Short numbers with three significant digits")
    func numbers() {
        #expect(ChartFormat.number(0.25) == "0.25")
        #expect(ChartFormat.number(12.345) == "12.3")
        #expect(ChartFormat.number(1234.5) == "1230")
        #expect(ChartFormat.number(3.2e-7) == "3.2e-7")
        #expect(ChartFormat.number(-1.5e12) == "−1.5e12")
        #expect(ChartFormat.number(9.9996) == "10")
        #expect(ChartFormat.number(99_999) == "1e5")
        #expect(ChartFormat.number(0) == "0")
        #expect(ChartFormat.number(.nan) == "NaN" && ChartFormat.number(-.infinity) == "−∞")
    }

    @Test("Coordinate mapping, linear and log, y growing upward")
    func mapping() throws {
        let x = ChartScale(kind: .linear, lower: 0, upper: 10, start: 50, end: 550)
        #expect(x.position(5) == 300)
        #expect(x.position(0) == 50 && x.position(10) == 550)
        #expect(x.position(-2) == -50)
        #expect(x.position(.nan) == nil && x.position(.infinity) == nil)
        let y = ChartScale(kind: .log, lower: 1, upper: 100, start: 300, end: 0)
        #expect(isClose(try #require(y.position(10)), 150))
        #expect(isClose(try #require(y.position(1)), 300))
        #expect(y.position(0) == nil && y.position(-1) == nil)
        #expect(y.accepts(1e-30) && !y.accepts(0))
    }

    @Test("Fitted domains: padded linear, decade-aligned log, defaults without data")
    func fitting() {
        let linear = ChartScale.fitting([0, 10, .nan], kind: .linear, start: 0, end: 1)
        #expect(isClose(linear.lower, -0.4) && isClose(linear.upper, 10.4))
        let constant = ChartScale.fitting([5, 5], kind: .linear, start: 0, end: 1)
        #expect(isClose(constant.lower, 4.5) && isClose(constant.upper, 5.5))
        let log = ChartScale.fitting([1.2e-6, 0, -3, 8e1], kind: .log, start: 0, end: 1)
        #expect(log.lower == 1e-6 && log.upper == 100)
        let none = ChartScale.fitting([.nan, .infinity], kind: .log, start: 0, end: 1)
        #expect(none.lower == 1 && none.upper == 10)
    }

    @Test("Shared dotted parts of names are found")
    func distinctParts() {
        let parts = ChartFormat.distinctParts(["enc.block0.fc.weight", "enc.block1.fc.weight", "enc.block12.fc.weight"])
        #expect(parts.pattern == "enc.*.fc.weight" && parts.cores == ["block0", "block1", "block12"])
        let weights = ChartFormat.distinctParts(["0.weight", "2.weight", "20.weight"])
        #expect(weights.pattern == "*.weight" && weights.cores == ["0", "2", "20"])
        #expect(ChartFormat.distinctParts(["a.weight", "a.weight"]).cores == ["weight", "weight"], "a core keeps one component")
        #expect(ChartFormat.distinctParts(["x", "y"]).pattern.isEmpty)
        #expect(ChartFormat.distinctParts(["only.one"]).cores == ["only.one"])
    }

    @Test("Text fitting cuts with an ellipsis")
    func fittedText() {
        let long = "a very long layer name that does not fit"
        let cut = ChartFormat.fitted(long, width: 60, size: 11)
        #expect(cut.hasSuffix("…") && cut.count < long.count)
        #expect(ChartFormat.textWidth(cut, size: 11) <= 60)
        #expect(ChartFormat.fitted("short", width: 60, size: 11) == "short")
    }
}
