import Foundation
import GradDoctor
import GradNN
import GradOptim
import GradReport
import GradTensor
import GradTestSupport
import Testing

/// Monitor records for the report's tests, built through their JSON form (the record types'
/// public face; `"nan"`/`"inf"` strings for non-finite numbers), and one from real training.
enum ReportRecords {
    static func number(_ x: Double) -> Any {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return x
    }

    static func parameter(_ name: String, norm: Double) -> [String: Any] {
        ["name": name, "gradientNorm": number(norm), "gradientRMS": number(norm / 10), "gradientMaxAbs": norm.isFinite ? norm : 0,
         "gradientMean": 0.0, "gradientStd": 0.1, "zeroFraction": 0.0, "nonfiniteCount": norm.isFinite ? 0 : 1,
         "weightNorm": 1.0, "updateRatio": 1e-3]
    }

    static func layer(_ name: String, kind: String, saturation: Double? = nil, dead: Double? = nil) -> [String: Any] {
        var l: [String: Any] = ["name": name, "kind": kind, "activationMean": 0.0, "activationStd": 1.0, "nonfiniteCount": 0]
        if let saturation { l["saturationFraction"] = saturation }
        if let dead { l["deadFraction"] = dead }
        return l
    }

    static func histogram(step: Int, name: String, bin: Int, nonfinite: Int = 0) -> [String: Any] {
        var counts = [Int](repeating: 0, count: 16)
        counts[bin] = 60
        counts[Swift.min(15, bin + 1)] += 30
        return ["step": step, "name": name, "zeroCount": 10, "logCounts": counts, "nonfiniteCount": nonfinite,
                "linearCounts": [Int](repeating: 0, count: 41), "linearRange": 1.0]
    }

    static func decode(_ object: [String: Any]) throws -> MonitorRecord {
        let data = try JSONSerialization.data(withJSONObject: object)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(MonitorRecord.self, from: data)
    }

    /// Twenty steps of `Linear, Sigmoid, Linear, Sigmoid, Linear, ReLU, Linear` whose weight
    /// gradients fall tenfold per layer toward the input; `2.weight`'s norm is NaN at step
    /// `nanStep` (7 by default; nil for none).
    /// Histograms of `0.weight` and `6.weight` at steps 0, 5, 10, 15 (the last with 4
    /// non-finite elements). Layer names are given by `prefix` + index.
    static func vanishing(prefix: String = "", nanStep: Int? = 7) throws -> MonitorRecord {
        let kinds = ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear", "ReLU", "Linear"]
        var steps: [[String: Any]] = []
        for step in 0..<20 {
            var parameters: [[String: Any]] = []
            var layers: [[String: Any]] = []
            for (i, kind) in kinds.enumerated() {
                let name = "\(prefix)\(i)"
                switch kind {
                case "Linear":
                    var norm = pow(10, Double(i / 2) - 4) * (1 - 0.02 * Double(step))
                    if i == 2 && step == nanStep { norm = .nan }
                    parameters.append(parameter("\(name).weight", norm: norm))
                    parameters.append(parameter("\(name).bias", norm: norm / 2))
                    layers.append(layer(name, kind: kind))
                case "Sigmoid":
                    layers.append(layer(name, kind: kind, saturation: 0.1 + 0.02 * Double(step) + 0.1 * Double(i)))
                default:
                    layers.append(layer(name, kind: kind, dead: 0.05 * Double(step % 5)))
                }
            }
            steps.append(["step": step, "loss": 1.0 / Double(step + 1), "globalGradientNorm": 0.1,
                          "parameters": parameters, "layers": layers, "skipped": false])
        }
        var histograms: [[String: Any]] = []
        for step in stride(from: 0, to: 20, by: 5) {
            histograms.append(histogram(step: step, name: "\(prefix)0.weight", bin: 8, nonfinite: step == 15 ? 4 : 0))
            histograms.append(histogram(step: step, name: "\(prefix)6.weight", bin: 11))
        }
        return try decode(["steps": steps, "histograms": histograms, "stride": 1, "histogramStride": 1, "skippedSteps": 0])
    }

    /// `Linear(4, 8), Tanh, Linear(8, 8), ReLU, Linear(8, 1)` trained 30 steps of SGD on a
    /// random regression under a `Monitor` recording every step, histograms every 5.
    static func trained() throws -> MonitorRecord {
        let g = RandomGenerator(seed: 11)
        let model = Sequential<Float>(Linear<Float>(4, 8, generator: g), Tanh(), Linear<Float>(8, 8, generator: g), ReLU(),
                                      Linear<Float>(8, 1, generator: g))
        let x = Tensor<Float>.uniform([32, 4], low: -1, high: 1, generator: RandomGenerator(seed: 12))
        let y = Tensor<Float>.uniform([32, 1], low: -1, high: 1, generator: RandomGenerator(seed: 13))
        let monitor = Monitor(model: model, settings: .init(every: 1, histogramsEvery: 5))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.05)
        for _ in 0..<30 {
            monitor.beginStep()
            sgd.zeroGrad()
            let loss = meanSquaredError(predictions: model(x), targets: y)
            loss.backward()
            guard try monitor.inspectGradients(loss: loss) else { continue }
            monitor.beforeUpdate()
            sgd.step()
            monitor.afterUpdate()
        }
        return monitor.record
    }
}

@Suite("Run charts from monitor records")
struct RunChartsTests {
    @Test("Weight parameters: weights in forward order, no normalization scales")
    func weightParameters() throws {
        let record = try ReportRecords.vanishing()
        #expect(RunCharts.weightParameters(in: record) == ["0.weight", "2.weight", "4.weight", "6.weight"])
        let withNorm = try ReportRecords.decode(["steps": [[
            "step": 0, "globalGradientNorm": 1.0, "skipped": false,
            "parameters": [ReportRecords.parameter("0.weight", norm: 1), ReportRecords.parameter("1.weight", norm: 1),
                           ReportRecords.parameter("1.bias", norm: 1), ReportRecords.parameter("3.weight_hh_l0", norm: 1)],
            "layers": [ReportRecords.layer("0", kind: "Linear"), ReportRecords.layer("1", kind: "BatchNorm1d"),
                       ReportRecords.layer("3", kind: "RNN")],
        ]], "histograms": [], "stride": 1, "histogramStride": 1, "skippedSteps": 0])
        #expect(RunCharts.weightParameters(in: withNorm) == ["0.weight", "3.weight_hh_l0"])
        #expect(RunCharts.weightParameters(in: MonitorRecord()).isEmpty)
    }

    @Test("Loss curves: one line per run, log y when the losses span decades")
    func lossCurves() {
        let spanning = RunCharts.lossCurves(series: [("baseline", [10, 1, 0.1, 0.01, .nan, 0.001]), ("", [5, 4, 3])])
        #expect(spanning.yScale == .log)
        let parsed = parseMarkup(spanning.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("polyline", class: "series").count == 2, "the NaN leaves the baseline's last loss alone")
        #expect(parsed.all("circle", class: "point").count == 1)
        #expect(parsed.texts.contains("baseline") && parsed.texts.contains("run 2"))
        #expect(!hasNonfiniteAttribute(parsed))
        #expect(RunCharts.lossCurves(series: [("a", [3, 2, 1])]).yScale == .linear)
        #expect(RunCharts.lossCurves(series: [("a", [-1, 100, 0.001])]).yScale == .linear, "not all positive")
        #expect(RunCharts.lossCurves(series: [("a", [3, 2, 1])], logScale: true).yScale == .log)
        let empty = RunCharts.lossCurves(series: [])
        #expect(parseMarkup(empty.svg()).texts.contains("no data"))
    }

    @Test("Gradient flow: one line per chosen step, layers labelled by name, log y")
    func gradientFlow() throws {
        let record = try ReportRecords.vanishing()
        let chart = RunCharts.gradientFlow(record: record)
        #expect(chart.series.map(\.name) == ["step 0", "step 5", "step 10", "step 14", "step 19"])
        #expect(chart.xCategories == ["0.weight", "2.weight", "4.weight", "6.weight"])
        #expect(chart.yScale == .log)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("polyline", class: "series").count == 5)
        for label in ["0.weight", "6.weight", "step 0", "step 19"] { #expect(parsed.texts.contains(label), "missing \(label)") }
        #expect(parsed.texts.contains("10⁻⁴") && parsed.texts.contains("10⁻¹"))

        // Chosen steps: the recorded step nearest each; step 7 has a NaN at the second layer.
        let chosen = RunCharts.gradientFlow(record: record, steps: [7, 100])
        #expect(chosen.series.map(\.name) == ["step 7", "step 19"])
        let p2 = parseMarkup(chosen.svg())
        #expect(p2.all("polyline", class: "series").count == 2, "step 7: a lone point and a line of two; step 19: one line")
        #expect(p2.all("circle", class: "marker").count == 7)
        #expect(!hasNonfiniteAttribute(p2))
        #expect(parseMarkup(RunCharts.gradientFlow(record: MonitorRecord()).svg()).texts.contains("no data"))
    }

    @Test("Gradient norms over time: one line per weight, gaps at NaN")
    func normsOverTime() throws {
        let chart = RunCharts.gradientNormsOverTime(record: try ReportRecords.vanishing())
        #expect(chart.series.map(\.name) == ["0.weight", "2.weight", "4.weight", "6.weight"])
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("polyline", class: "series").count == 5)
        #expect(parsed.texts.contains("step"))
    }

    @Test("Histogram heat map: snapshots × bins with zero and non-finite rows")
    func histogramHeatmap() throws {
        let record = try ReportRecords.vanishing()
        let chart = RunCharts.histogramHeatmap(record: record, parameter: "0.weight")
        #expect(chart.values.count == 18 && chart.values.allSatisfy { $0.count == 4 })
        #expect(chart.columnLabels == ["0", "5", "10", "15"])
        #expect(chart.rowLabels.first == "0" && chart.rowLabels.last == "non-finite")
        #expect(chart.rowLabels[1] == "<10⁻¹¹" && chart.rowLabels[16] == "≥10³" && chart.rowLabels[9] == "10⁻⁴–10⁻³")
        // Bin 8 holds 60 of 100 elements at step 0; 4 of 104 are non-finite at step 15.
        #expect(chart.values[9][0] == 0.6 && chart.values[0][0] == 0.1)
        #expect(chart.values[17][3] == 4.0 / 104)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("rect", class: "cell").count == 72)
        for label in ["0", "non-finite", "<10⁻¹¹", "step", "fraction of elements"] {
            #expect(parsed.texts.contains(label), "missing \(label)")
        }
        let missing = RunCharts.histogramHeatmap(record: record, parameter: "no.such")
        #expect(parseMarkup(missing.svg()).texts.contains("no data"))
    }

    @Test("Unit health: saturated and dead fractions per layer over time")
    func unitHealth() throws {
        let chart = RunCharts.unitHealth(record: try ReportRecords.vanishing())
        #expect(chart.series.map(\.name) == ["1 Sigmoid saturated", "3 Sigmoid saturated", "5 ReLU dead"])
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.all("polyline", class: "series").count == 3)
        #expect(parsed.texts.contains("fraction of units"))
        let none = try ReportRecords.decode(["steps": [[
            "step": 0, "globalGradientNorm": 1.0, "skipped": false,
            "parameters": [ReportRecords.parameter("0.weight", norm: 1)], "layers": [ReportRecords.layer("0", kind: "Linear")],
        ]], "histograms": [], "stride": 1, "histogramStride": 1, "skippedSteps": 0])
        #expect(!RunCharts.unitHealth(record: none).hasData)
    }

    @Test("Theory against measurement: measured factors and the predicted line")
    func theory() {
        let chart = RunCharts.theoryVsMeasured(predicted: 0.5, measured: [("0", 0.45), ("2", 0.52), ("4", .nan), ("6", 0.49)])
        #expect(chart.yScale == .log)
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("line", class: "reference").count == 2)
        #expect(parsed.all("polyline", class: "series").count == 1, "layers 0 and 2 joined; 6 alone after the NaN")
        #expect(parsed.all("circle", class: "marker").count == 3)
        #expect(parsed.texts.contains("predicted √χ₁ = 0.5"))
        #expect(!hasNonfiniteAttribute(parsed))
    }

    @Test("Phase diagram wraps a grid chart")
    func phase() {
        let chart = RunCharts.phaseDiagram(rows: ["5", "20"], columns: ["tanh σw=1", "tanh σw=2"],
                                           values: [[0.1, 0.2], [.nan, 3e-4]], title: "final loss", colourLabel: "loss",
                                           rowAxis: "depth", columnAxis: "setting")
        let parsed = parseMarkup(chart.svg())
        #expect(parsed.error == nil)
        #expect(parsed.all("rect", class: "cell").count == 4)
        #expect(parsed.texts.contains("tanh σw=2") && parsed.texts.contains("depth") && parsed.texts.contains("NaN"))
    }

    @Test("Every chart of a really trained MLP parses and names its layers")
    func trainedRecord() throws {
        let record = try ReportRecords.trained()
        #expect(record.steps.count == 30)
        #expect(RunCharts.weightParameters(in: record) == ["0.weight", "2.weight", "4.weight"])
        let flow = parseMarkup(RunCharts.gradientFlow(record: record).svg())
        #expect(flow.error == nil)
        #expect(flow.all("polyline", class: "series").count == 5)
        #expect(flow.texts.contains("0.weight") && flow.texts.contains("4.weight"))
        let norms = parseMarkup(RunCharts.gradientNormsOverTime(record: record).svg())
        #expect(norms.error == nil && norms.all("polyline", class: "series").count == 3)
        let heat = RunCharts.histogramHeatmap(record: record, parameter: "0.weight")
        #expect(heat.columnLabels == ["0", "5", "10", "15", "20", "25"])
        let heatParsed = parseMarkup(heat.svg())
        #expect(heatParsed.error == nil && heatParsed.all("rect", class: "cell").count == 18 * 6)
        let units = RunCharts.unitHealth(record: record)
        #expect(units.series.map(\.name) == ["1 Tanh saturated", "3 ReLU dead"])
        let unitsParsed = parseMarkup(units.svg())
        #expect(unitsParsed.error == nil && unitsParsed.all("polyline", class: "series").count == 2)
        let loss = parseMarkup(RunCharts.lossCurves(series: [("mlp", record.steps.compactMap(\.loss))]).svg())
        #expect(loss.error == nil && loss.all("polyline", class: "series").count == 1)
        for parsed in [flow, norms, heatParsed, unitsParsed, loss] { #expect(!hasNonfiniteAttribute(parsed)) }
    }
}
