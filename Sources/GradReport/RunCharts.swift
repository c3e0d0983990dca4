// The charts of a training run, drawn from what the doctor's monitor recorded: loss curves,
// gradient flow per layer, gradient norms over time, histogram heat maps, unit health, theory
// against measurement, and the sweep's phase diagram.

import Foundation
import GradDoctor

/// Charts of training runs from `MonitorRecord`s and loss series.
///
/// Each returns a chart value (call `svg()` for the image); a record without the needed
/// statistics gives a chart that says "no data".
public enum RunCharts {
    /// Loss against step for several runs in one chart.
    ///
    /// Log y when `logScale` is true, or, when nil, when the finite losses are all positive and
    /// span more than two decades (`max / min > 100`). Non-finite losses (a run that diverged)
    /// leave gaps. A run without a name is called `run 1`, `run 2`, ….
    ///
    /// - Parameters:
    ///   - series: per run, its name and its loss per step (index = step).
    ///   - logScale: log y, linear y, or nil to choose.
    public static func lossCurves(series: [(name: String, losses: [Double])], logScale: Bool? = nil) -> LineChart {
        let all = series.flatMap(\.losses)
        let log = logScale ?? spansDecades(all, decades: 2)
        let lines = series.enumerated().map { i, s in
            LineSeries(name: s.name.isEmpty ? "run \(i + 1)" : s.name, y: s.losses)
        }
        return LineChart(title: "Training loss", xLabel: "step", yLabel: log ? "loss (log scale)" : "loss",
                         series: lines, yScale: log ? .log : .linear)
    }

    /// The gradient norm of each weight parameter at a few steps: x = layer in forward order
    /// (labelled by parameter name), log y, one line per step.
    ///
    /// Steps: for each of `steps`, the recorded step nearest it; by default the first and last
    /// recorded steps and three evenly spaced between (fewer when fewer are recorded). Lines are
    /// coloured early (dark) to late (light) along viridis. Weight parameters as
    /// `weightParameters(in:)`.
    ///
    /// - Parameters:
    ///   - record: the run's record.
    ///   - steps: the steps to draw, or nil for the default choice.
    public static func gradientFlow(record: MonitorRecord, steps: [Int]? = nil) -> LineChart {
        let entries = record.steps.filter { !$0.parameters.isEmpty }
        let names = weightParameters(in: record)
        var chosen: [StepStatistics] = []
        if let steps {
            for wanted in steps {
                guard let nearest = entries.min(by: { Swift.abs($0.step - wanted) < Swift.abs($1.step - wanted) }) else { continue }
                if !chosen.contains(where: { $0.step == nearest.step }) { chosen.append(nearest) }
            }
            chosen.sort { $0.step < $1.step }
        } else if !entries.isEmpty {
            let count = Swift.min(5, entries.count)
            var indices: [Int] = []
            for i in 0..<count {
                let index = count == 1 ? 0 : Int((Double(i) * Double(entries.count - 1) / Double(count - 1)).rounded())
                if !indices.contains(index) { indices.append(index) }
            }
            chosen = indices.map { entries[$0] }
        }
        let lines = chosen.enumerated().map { i, entry in
            let norms = names.map { name in entry.parameters.first { $0.name == name }?.gradientNorm ?? .nan }
            let t = chosen.count == 1 ? 0 : 0.85 * Double(i) / Double(chosen.count - 1)
            return LineSeries(name: "step \(entry.step)", x: names.indices.map(Double.init), y: norms,
                              colour: ChartPalette.sequential(t))
        }
        return LineChart(title: "Gradient flow: weight-gradient norm per layer", xLabel: "layer (input → output)",
                         yLabel: "‖∇W‖₂ (log scale)", series: lines, yScale: .log, xCategories: names, markers: true)
    }

    /// The gradient norm of each weight parameter against the step, log y, one line per
    /// parameter.
    ///
    /// - Parameter record: the run's record.
    public static func gradientNormsOverTime(record: MonitorRecord) -> LineChart {
        let entries = record.steps.filter { !$0.parameters.isEmpty }
        let lines = weightParameters(in: record).map { name in
            var lookup = NamedLookup()
            return LineSeries(name: name, x: entries.map { Double($0.step) },
                              y: entries.map { e in lookup.find(name, in: e.parameters, \.name)?.gradientNorm ?? .nan })
        }
        return LineChart(title: "Weight-gradient norm over time", xLabel: "step", yLabel: "‖∇W‖₂ (log scale)",
                         series: lines, yScale: .log)
    }

    /// The gradient through time in a recurrent layer: `‖∂L/∂h_t‖` against the time step `t`
    /// (log y), one line per recorded step: the first, the middle and the last recorded steps
    /// with the layer's norms by default, coloured early (dark) to late (light) along viridis.
    /// A line falling toward `t = 0` is a gradient vanishing through time; rising, exploding.
    ///
    /// - Parameters:
    ///   - record: the run's record.
    ///   - layer: the recurrent module's name, or nil for the first in the record
    ///     (`recurrentLayers(in:)`).
    ///   - steps: the steps to draw (the recorded step nearest each), or nil for the default.
    public static func hiddenGradientNorms(record: MonitorRecord, layer: String? = nil, steps: [Int]? = nil) -> LineChart {
        let name = layer ?? recurrentLayers(in: record).first
        let entries: [(step: Int, norms: [Double])] = record.steps.compactMap { entry in
            guard let name, let norms = entry.layers.first(where: { $0.name == name })?.hiddenGradientNorms, !norms.isEmpty else { return nil }
            return (entry.step, norms)
        }
        var chosen: [(step: Int, norms: [Double])] = []
        if let steps {
            for wanted in steps {
                guard let nearest = entries.min(by: { Swift.abs($0.step - wanted) < Swift.abs($1.step - wanted) }) else { continue }
                if !chosen.contains(where: { $0.step == nearest.step }) { chosen.append(nearest) }
            }
            chosen.sort { $0.step < $1.step }
        } else if !entries.isEmpty {
            for index in [0, (entries.count - 1) / 2, entries.count - 1] where !chosen.contains(where: { $0.step == entries[index].step }) {
                chosen.append(entries[index])
            }
        }
        let lines = chosen.enumerated().map { i, entry in
            let t = chosen.count == 1 ? 0 : 0.85 * Double(i) / Double(chosen.count - 1)
            return LineSeries(name: "step \(entry.step)", x: entry.norms.indices.map(Double.init), y: entry.norms,
                              colour: ChartPalette.sequential(t))
        }
        let title = "Gradient through time" + (name.map { ": layer \($0)" } ?? "")
        return LineChart(title: title, xLabel: "time step t", yLabel: "‖∂L/∂h_t‖ (log scale)", series: lines, yScale: .log)
    }

    /// The recurrent layers of a record (those with `hiddenGradientNorms`), in forward order.
    ///
    /// - Parameter record: the run's record.
    public static func recurrentLayers(in record: MonitorRecord) -> [String] {
        var names: [String] = []
        for entry in record.steps {
            for layer in entry.layers where layer.hiddenGradientNorms != nil && !names.contains(layer.name) { names.append(layer.name) }
        }
        return names
    }

    /// The gradient histograms of one parameter over time: x = snapshot step, y = the
    /// log-magnitude bins (`GradientHistogram.logBinEdges`, decades 1e-12 … 1e4) with a row for
    /// exact zeros below and one for non-finite elements above; colour = the fraction of the
    /// parameter's elements in the bin (log colour; empty bins white).
    ///
    /// - Parameters:
    ///   - record: the run's record.
    ///   - parameter: the parameter's name (`0.weight`).
    public static func histogramHeatmap(record: MonitorRecord, parameter: String) -> HeatMap {
        let snapshots = record.histograms.filter { $0.name == parameter }.sorted { $0.step < $1.step }
        let binCount = snapshots.first?.logCounts.count ?? (GradientHistogram.logBinEdges.count - 1)
        let rowLabels = ["0"] + histogramBinLabels(count: binCount) + ["non-finite"]
        var values = Array(repeating: [Double](), count: rowLabels.count)
        for h in snapshots {
            let counts = [h.zeroCount] + (0..<binCount).map { $0 < h.logCounts.count ? h.logCounts[$0] : 0 } + [h.nonfiniteCount]
            let total = Double(counts.reduce(0, +))
            for (row, count) in counts.enumerated() {
                values[row].append(total > 0 ? Double(count) / total : .nan)
            }
        }
        if snapshots.isEmpty { values = [] }
        return HeatMap(title: "Gradient histogram of \(parameter)", xLabel: "step", yLabel: "|gradient|",
                       colourLabel: "fraction of elements", values: values, rowLabels: rowLabels,
                       columnLabels: snapshots.map { String($0.step) }, logColour: true, rowsUpward: true)
    }

    /// Per layer over time, the fraction of saturated units (sigmoid/tanh layers) and of dead
    /// units (ReLU-family layers), y from 0 to 1; one line per layer and kind of fraction.
    ///
    /// - Parameter record: the run's record.
    public static func unitHealth(record: MonitorRecord) -> LineChart {
        var order: [(name: String, kind: String, saturation: Bool)] = []
        var saturating = Set<String>(), dying = Set<String>()
        for entry in record.steps {
            for layer in entry.layers {
                if layer.saturationFraction != nil, saturating.insert(layer.name).inserted {
                    order.append((layer.name, layer.kind, true))
                }
                if layer.deadFraction != nil, dying.insert(layer.name).inserted {
                    order.append((layer.name, layer.kind, false))
                }
            }
        }
        let lines = order.map { item in
            var lookup = NamedLookup()
            let values = record.steps.map { entry -> Double in
                guard let layer = lookup.find(item.name, in: entry.layers, \.name) else { return .nan }
                return (item.saturation ? layer.saturationFraction : layer.deadFraction) ?? .nan
            }
            return LineSeries(name: "\(item.name) \(item.kind) \(item.saturation ? "saturated" : "dead")",
                              x: record.steps.map { Double($0.step) }, y: values)
        }
        return LineChart(title: "Unit health: saturated and dead units", xLabel: "step", yLabel: "fraction of units",
                         series: lines, yDomain: 0...1)
    }

    /// The measured per-layer gradient factor of each layer, with the mean-field prediction
    /// `√χ₁` as a horizontal line and the critical value 1 as a dotted one; log y when every
    /// value is positive.
    ///
    /// - Parameters:
    ///   - predicted: the predicted per-layer factor `√χ₁` (`MeanFieldPrediction.perLayerGradientFactor`).
    ///   - measured: per layer (input side first), its measured factor.
    public static func theoryVsMeasured(predicted: Double, measured: [(layer: String, factor: Double)]) -> LineChart {
        let values = measured.map(\.factor).filter(\.isFinite) + (predicted.isFinite ? [predicted] : [])
        let log = !values.isEmpty && values.allSatisfy { $0 > 0 }
        let series = LineSeries(name: "measured", x: measured.indices.map(Double.init), y: measured.map(\.factor),
                                colour: ChartPalette.colour(0))
        return LineChart(title: "Per-layer gradient factor: theory and measurement", xLabel: "layer (input → output)",
                         yLabel: "gradient factor per layer" + (log ? " (log scale)" : ""), series: [series],
                         yScale: log ? .log : .linear, xCategories: measured.map(\.layer), markers: true,
                         referenceLines: [
                             ReferenceLine(value: predicted, label: "predicted √χ₁ = \(ChartFormat.number(predicted))",
                                           colour: ChartPalette.colour(1)),
                             ReferenceLine(value: 1, label: "1 (critical)", colour: "#888888", dash: "2 3"),
                         ])
    }

    /// The sweep's phase diagram: rows × columns of settings, each cell coloured by its value
    /// (log colour when the finite values are positive and span more than two decades),
    /// non-finite cells marked.
    ///
    /// - Parameters:
    ///   - rows: the row settings (e.g. depths), top to bottom.
    ///   - columns: the column settings (e.g. activation/init), left to right.
    ///   - values: `values[row][column]` (e.g. the final loss, or the gradient ratio).
    ///   - title: the title.
    ///   - colourLabel: what the value is.
    ///   - rowAxis: the rows' axis label (default empty).
    ///   - columnAxis: the columns' axis label (default empty).
    public static func phaseDiagram(rows: [String], columns: [String], values: [[Double]], title: String,
                                    colourLabel: String, rowAxis: String = "", columnAxis: String = "") -> GridChart {
        GridChart(title: title, xLabel: columnAxis, yLabel: rowAxis, colourLabel: colourLabel, rows: rows,
                  columns: columns, values: values)
    }

    /// The weight parameters of a record, in the record's (forward) order: parameters whose
    /// last name component starts with `weight` (`0.weight`, `rnn.weight_hh_l0`) and whose
    /// module is not a normalization layer (kind containing `Norm`); all parameters when none
    /// qualifies.
    ///
    /// - Parameter record: the run's record.
    public static func weightParameters(in record: MonitorRecord) -> [String] {
        guard let entry = record.steps.first(where: { !$0.parameters.isEmpty }) else { return [] }
        let kinds = Dictionary(entry.layers.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        let weights = entry.parameters.map(\.name).filter { name in
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard let last = parts.last, last.hasPrefix("weight") else { return false }
            let module = parts.dropLast().joined(separator: ".")
            return !(kinds[module]?.contains("Norm") ?? false)
        }
        return weights.isEmpty ? entry.parameters.map(\.name) : weights
    }

    /// Whether the finite values of `values` are all positive and `max / min > 10^decades`.
    ///
    /// - Parameters:
    ///   - values: the data.
    ///   - decades: the span that counts.
    public static func spansDecades(_ values: [Double], decades: Double) -> Bool {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), lo > 0 else { return false }
        return Foundation.log10(hi) - Foundation.log10(lo) > decades
    }

    /// Labels of the log-magnitude bins: `<10⁻¹¹` for the first (which also catches smaller
    /// values), `10ᵃ–10ᵇ` between, `≥10³` for the last.
    static func histogramBinLabels(count: Int) -> [String] {
        let edges = GradientHistogram.logBinEdges
        return (0..<count).map { i in
            guard i + 1 < edges.count else { return "bin \(i)" }
            if i == 0 { return "<" + ChartFormat.logTickLabel(edges[1]) }
            if i == count - 1 { return "≥" + ChartFormat.logTickLabel(edges[i]) }
            return ChartFormat.logTickLabel(edges[i]) + "–" + ChartFormat.logTickLabel(edges[i + 1])
        }
    }
}

/// Finds an element by its unique name in each of a run of arrays that usually keep a name at
/// the same index (the parameters or layers of a record's steps): tries the index of the last
/// find first, so that a chart over n steps and p names costs n·p comparisons, not n·p².
struct NamedLookup {
    private var hint = 0

    /// The element of `items` named `name`, or nil.
    mutating func find<T>(_ name: String, in items: [T], _ key: (T) -> String) -> T? {
        if hint < items.count, key(items[hint]) == name { return items[hint] }
        guard let index = items.firstIndex(where: { key($0) == name }) else { return nil }
        hint = index
        return items[index]
    }
}
