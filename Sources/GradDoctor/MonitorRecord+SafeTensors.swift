import Foundation
import GradNN
import GradTensor

// A MonitorRecord as a `.safetensors` file (`record.safetensors` in a run folder): one column
// per statistic instead of one JSON object per parameter and step. A 40-layer run's record is
// about 3 MB this way and written in milliseconds (as JSON it was 14 MB and took half a
// second), and Python reads it with `safetensors.numpy.load_file`.
//
// Layout (S recorded steps, P parameter names, L layer names, H histograms):
// - `__metadata__`: `format` (`gradlab-monitor-record/1`), `parameters` and `layers` (JSON
//   arrays of names; layers as `[name, kind]` pairs), `stride`, `histogram_stride`,
//   `skipped_steps`, `first_nonfinite` (the origin as JSON, when there is one).
// - `step.*` [S]: `step`, `skipped` (I64), `global_gradient_norm`, `loss`,
//   `clipped_gradient_norm` (F64, with `*_present` I64 masks for the optional ones).
// - `parameter.*` [S, P]: `present` (I64: the step recorded this parameter), the nine
//   statistics of `ParameterStatistics` (`nonfinite_count` I64, the rest F64,
//   `update_ratio_present` for the optional one).
// - `layer.*` [S, L]: likewise for `LayerStatistics`; for recurrent layers' per-time-step
//   norms `hiddenGradientNorms`, `layer.hidden_gradient_norms_present` [S, L] (I64) and, for
//   each layer index j with any, `layer.hidden_gradient_norms.<j>` [S, T_max] (F64, rows padded
//   with 0 past their length) and `layer.hidden_gradient_lengths.<j>` [S] (I64: each row's T,
//   which varies under truncated BPTT). Records without these columns have no such series.
// - `histogram.*`: `step`, `name` (index into `parameters`), `zero_count`, `nonfinite_count`
//   (I64) and `linear_range` (F64) [H]; `log_counts` and `linear_counts` concatenated (I64)
//   with their lengths in `log_lengths` / `linear_lengths` [H].
// Absent values are stored as 0 with their mask 0, so NaN stays a value, never a marker.

extension MonitorRecord {
    /// The format name in `__metadata__`.
    public static let safeTensorsFormat = "gradlab-monitor-record/1"

    /// The record as safetensors columns (see the layout above).
    public func safeTensors() -> SafeTensors {
        var parameterIndex: [String: Int] = [:], parameterNames: [String] = []
        var layerIndex: [String: Int] = [:], layerNames: [(String, String)] = []
        for step in steps {
            // Names come in the same order at every step: one already at its position is known.
            for (k, p) in step.parameters.enumerated() where !(k < parameterNames.count && parameterNames[k] == p.name) {
                if parameterIndex[p.name] == nil {
                    parameterIndex[p.name] = parameterNames.count
                    parameterNames.append(p.name)
                }
            }
            for (k, l) in step.layers.enumerated() where !(k < layerNames.count && layerNames[k].0 == l.name) {
                if layerIndex[l.name] == nil {
                    layerIndex[l.name] = layerNames.count
                    layerNames.append((l.name, l.kind))
                }
            }
        }
        for h in histograms where parameterIndex[h.name] == nil {
            parameterIndex[h.name] = parameterNames.count
            parameterNames.append(h.name)
        }
        var metadata = [
            "format": Self.safeTensorsFormat,
            "parameters": jsonArray(parameterNames.map(SafeTensors.quoted)),
            "layers": jsonArray(layerNames.map { "[\(SafeTensors.quoted($0.0)),\(SafeTensors.quoted($0.1))]" }),
            "stride": "\(stride)", "histogram_stride": "\(histogramStride)", "skipped_steps": "\(skippedSteps)",
        ]
        // Sorted keys: the same record gives the same bytes in every process.
        let originEncoder = JSONEncoder()
        originEncoder.outputFormatting = [.sortedKeys]
        if let origin = firstNonfinite, let data = try? originEncoder.encode(origin) {
            metadata["first_nonfinite"] = String(decoding: data, as: UTF8.self)
        }
        let s = steps.count
        var columns = ColumnWriter(file: SafeTensors(metadata: metadata))
        columns.ints("step.step", [s], steps.map { $0.step })
        columns.ints("step.skipped", [s], steps.map { $0.skipped ? 1 : 0 })
        columns.doubles("step.global_gradient_norm", [s], steps.map { $0.globalGradientNorm })
        columns.optionals("step.loss", [s], steps.map { $0.loss })
        columns.optionals("step.clipped_gradient_norm", [s], steps.map { $0.clippedGradientNorm })

        // The [S, P] and [S, L] columns, filled in one pass over the steps (absent cells stay 0).
        let p = parameterNames.count
        var parameterPresent = [Int](repeating: 0, count: s * p), parameterNonfinite = parameterPresent
        var updateRatioPresent = parameterPresent
        var norm = [Double](repeating: 0, count: s * p), rms = norm, maxAbs = norm, mean = norm, std = norm
        var zero = norm, weightNorm = norm, updateRatio = norm
        for (i, step) in steps.enumerated() {
            for (k, stats) in step.parameters.enumerated() {
                // Parameters come in the same order at every step (the lookup is the fallback).
                let at = i * p + (k < p && parameterNames[k] == stats.name ? k : parameterIndex[stats.name]!)
                parameterPresent[at] = 1
                norm[at] = stats.gradientNorm
                rms[at] = stats.gradientRMS
                maxAbs[at] = stats.gradientMaxAbs
                mean[at] = stats.gradientMean
                std[at] = stats.gradientStd
                zero[at] = stats.zeroFraction
                parameterNonfinite[at] = stats.nonfiniteCount
                weightNorm[at] = stats.weightNorm
                updateRatio[at] = stats.updateRatio ?? 0
                updateRatioPresent[at] = stats.updateRatio == nil ? 0 : 1
            }
        }
        columns.ints("parameter.present", [s, p], parameterPresent)
        columns.doubles("parameter.gradient_norm", [s, p], norm)
        columns.doubles("parameter.gradient_rms", [s, p], rms)
        columns.doubles("parameter.gradient_max_abs", [s, p], maxAbs)
        columns.doubles("parameter.gradient_mean", [s, p], mean)
        columns.doubles("parameter.gradient_std", [s, p], std)
        columns.doubles("parameter.zero_fraction", [s, p], zero)
        columns.ints("parameter.nonfinite_count", [s, p], parameterNonfinite)
        columns.doubles("parameter.weight_norm", [s, p], weightNorm)
        columns.optionals("parameter.update_ratio", [s, p], updateRatio, present: updateRatioPresent)

        let l = layerNames.count
        var layerPresent = [Int](repeating: 0, count: s * l), layerNonfinite = layerPresent
        var saturationPresent = layerPresent, deadPresent = layerPresent, outputGradientPresent = layerPresent
        var hiddenPresent = layerPresent
        var activationMean = [Double](repeating: 0, count: s * l), activationStd = activationMean
        var saturation = activationMean, dead = activationMean, outputGradient = activationMean
        // Per layer index, its rows of per-time-step norms (nil where none was recorded).
        var hidden: [Int: [[Double]?]] = [:]
        for (i, step) in steps.enumerated() {
            for (k, stats) in step.layers.enumerated() {
                let j = k < l && layerNames[k].0 == stats.name ? k : layerIndex[stats.name]!
                let at = i * l + j
                layerPresent[at] = 1
                activationMean[at] = stats.activationMean
                activationStd[at] = stats.activationStd
                saturation[at] = stats.saturationFraction ?? 0
                saturationPresent[at] = stats.saturationFraction == nil ? 0 : 1
                dead[at] = stats.deadFraction ?? 0
                deadPresent[at] = stats.deadFraction == nil ? 0 : 1
                layerNonfinite[at] = stats.nonfiniteCount
                outputGradient[at] = stats.outputGradientNorm ?? 0
                outputGradientPresent[at] = stats.outputGradientNorm == nil ? 0 : 1
                hiddenPresent[at] = stats.hiddenGradientNorms == nil ? 0 : 1
                if hidden[j] != nil || stats.hiddenGradientNorms != nil {
                    hidden[j, default: [[Double]?](repeating: nil, count: s)][i] = stats.hiddenGradientNorms
                }
            }
        }
        columns.ints("layer.present", [s, l], layerPresent)
        columns.doubles("layer.activation_mean", [s, l], activationMean)
        columns.doubles("layer.activation_std", [s, l], activationStd)
        columns.optionals("layer.saturation_fraction", [s, l], saturation, present: saturationPresent)
        columns.optionals("layer.dead_fraction", [s, l], dead, present: deadPresent)
        columns.ints("layer.nonfinite_count", [s, l], layerNonfinite)
        columns.optionals("layer.output_gradient_norm", [s, l], outputGradient, present: outputGradientPresent)
        columns.ints("layer.hidden_gradient_norms_present", [s, l], hiddenPresent)
        for j in hidden.keys.sorted() {
            let series = hidden[j]!
            guard series.contains(where: { $0 != nil }) else { continue }
            let width = series.map { $0?.count ?? 0 }.max() ?? 0
            var values = [Double](repeating: 0, count: s * width)
            for (i, norms) in series.enumerated() {
                for (t, value) in (norms ?? []).enumerated() { values[i * width + t] = value }
            }
            columns.doubles("layer.hidden_gradient_norms.\(j)", [s, width], values)
            columns.ints("layer.hidden_gradient_lengths.\(j)", [s], series.map { $0?.count ?? 0 })
        }

        let h = histograms.count
        columns.ints("histogram.step", [h], histograms.map { $0.step })
        columns.ints("histogram.name", [h], histograms.map { parameterIndex[$0.name]! })
        columns.ints("histogram.zero_count", [h], histograms.map { $0.zeroCount })
        columns.ints("histogram.nonfinite_count", [h], histograms.map { $0.nonfiniteCount })
        columns.doubles("histogram.linear_range", [h], histograms.map { $0.linearRange })
        let logCounts = histograms.flatMap { $0.logCounts }, linearCounts = histograms.flatMap { $0.linearCounts }
        columns.ints("histogram.log_lengths", [h], histograms.map { $0.logCounts.count })
        columns.ints("histogram.log_counts", [logCounts.count], logCounts)
        columns.ints("histogram.linear_lengths", [h], histograms.map { $0.linearCounts.count })
        columns.ints("histogram.linear_counts", [linearCounts.count], linearCounts)
        return columns.file
    }

    /// Reads a record written by `safeTensors()`.
    ///
    /// - Parameters:
    ///   - file: the safetensors collection.
    ///   - path: the file's name for error messages.
    /// - Throws: `CheckpointError` naming the tensor or metadata field that is missing, of
    ///   the wrong type or shape, or inconsistent.
    public init(safeTensors file: SafeTensors, path: String) throws {
        let reader = ColumnReader(file: file, path: path)
        guard file.metadata["format"] == Self.safeTensorsFormat else {
            throw CheckpointError.invalidHeader(file: path, field: "__metadata__.format",
                                                detail: "expected '\(Self.safeTensorsFormat)', found '\(file.metadata["format"] ?? "nothing")'")
        }
        let parameterNames: [String] = try reader.metadataJSON("parameters")
        let layerPairs: [[String]] = try reader.metadataJSON("layers")
        guard layerPairs.allSatisfy({ $0.count == 2 }) else {
            throw CheckpointError.invalidHeader(file: path, field: "__metadata__.layers", detail: "expected [name, kind] pairs")
        }
        self.init()
        // The strides start at 1 and double as the record is decimated; later code divides by them.
        stride = try reader.metadataInt("stride", in: 1...(1 << 40))
        histogramStride = try reader.metadataInt("histogram_stride", in: 1...(1 << 40))
        skippedSteps = try reader.metadataInt("skipped_steps", in: 0...Int.max)
        if let origin = file.metadata["first_nonfinite"] {
            guard let value = try? JSONDecoder().decode(NonfiniteOrigin.self, from: Data(origin.utf8)) else {
                throw CheckpointError.invalidHeader(file: path, field: "__metadata__.first_nonfinite", detail: "not a non-finite origin")
            }
            firstNonfinite = value
        }

        let stepNumbers = try reader.ints("step.step")
        let s = stepNumbers.count, p = parameterNames.count, l = layerPairs.count
        let skipped = try reader.ints("step.skipped", count: s)
        let global = try reader.doubles("step.global_gradient_norm", count: s)
        let loss = try reader.optionals("step.loss", count: s)
        let clipped = try reader.optionals("step.clipped_gradient_norm", count: s)

        let parameterPresent = try reader.ints("parameter.present", count: s * p)
        let norm = try reader.doubles("parameter.gradient_norm", count: s * p)
        let rms = try reader.doubles("parameter.gradient_rms", count: s * p)
        let maxAbs = try reader.doubles("parameter.gradient_max_abs", count: s * p)
        let mean = try reader.doubles("parameter.gradient_mean", count: s * p)
        let std = try reader.doubles("parameter.gradient_std", count: s * p)
        let zero = try reader.doubles("parameter.zero_fraction", count: s * p)
        let parameterNonfinite = try reader.counts("parameter.nonfinite_count", count: s * p)
        let weightNorm = try reader.doubles("parameter.weight_norm", count: s * p)
        let updateRatio = try reader.optionals("parameter.update_ratio", count: s * p)

        let layerPresent = try reader.ints("layer.present", count: s * l)
        let activationMean = try reader.doubles("layer.activation_mean", count: s * l)
        let activationStd = try reader.doubles("layer.activation_std", count: s * l)
        let saturation = try reader.optionals("layer.saturation_fraction", count: s * l)
        let dead = try reader.optionals("layer.dead_fraction", count: s * l)
        let layerNonfinite = try reader.counts("layer.nonfinite_count", count: s * l)
        let outputGradient = try reader.optionals("layer.output_gradient_norm", count: s * l)
        // Per recurrent layer index: its [S, T_max] norms, T_max, and each row's length.
        var hiddenPresent = [Int](repeating: 0, count: s * l)
        var hidden: [Int: (values: [Double], width: Int, lengths: [Int])] = [:]
        if file["layer.hidden_gradient_norms_present"] != nil {
            hiddenPresent = try reader.ints("layer.hidden_gradient_norms_present", count: s * l)
            for j in 0..<l where (0..<s).contains(where: { hiddenPresent[$0 * l + j] != 0 }) {
                let (values, width) = try reader.matrix("layer.hidden_gradient_norms.\(j)", rows: s)
                let lengthsName = "layer.hidden_gradient_lengths.\(j)"
                let lengths = try reader.ints(lengthsName, count: s)
                guard lengths.allSatisfy({ $0 >= 0 && $0 <= width }) else {
                    throw CheckpointError.invalidShape(file: path, tensor: lengthsName, detail: "lengths must be between 0 and \(width)")
                }
                hidden[j] = (values, width, lengths)
            }
        }

        steps.reserveCapacity(s)
        for i in 0..<s {
            var parameters: [ParameterStatistics] = []
            for j in 0..<p where parameterPresent[i * p + j] != 0 {
                let k = i * p + j
                parameters.append(ParameterStatistics(
                    name: parameterNames[j], gradientNorm: norm[k], gradientRMS: rms[k], gradientMaxAbs: maxAbs[k],
                    gradientMean: mean[k], gradientStd: std[k], zeroFraction: zero[k], nonfiniteCount: parameterNonfinite[k],
                    weightNorm: weightNorm[k], updateRatio: updateRatio[k]))
            }
            var layers: [LayerStatistics] = []
            for j in 0..<l where layerPresent[i * l + j] != 0 {
                let k = i * l + j
                var norms: [Double]?
                if hiddenPresent[k] != 0, let series = hidden[j] {
                    norms = Array(series.values[(i * series.width)..<(i * series.width + series.lengths[i])])
                }
                layers.append(LayerStatistics(
                    name: layerPairs[j][0], kind: layerPairs[j][1], activationMean: activationMean[k],
                    activationStd: activationStd[k], saturationFraction: saturation[k], deadFraction: dead[k],
                    nonfiniteCount: layerNonfinite[k], outputGradientNorm: outputGradient[k], hiddenGradientNorms: norms))
            }
            steps.append(StepStatistics(step: stepNumbers[i], loss: loss[i], globalGradientNorm: global[i],
                                        clippedGradientNorm: clipped[i], parameters: parameters, layers: layers,
                                        skipped: skipped[i] != 0))
        }

        let histogramSteps = try reader.ints("histogram.step")
        let h = histogramSteps.count
        let names = try reader.ints("histogram.name", count: h)
        let zeroCounts = try reader.counts("histogram.zero_count", count: h)
        let nonfiniteCounts = try reader.counts("histogram.nonfinite_count", count: h)
        let ranges = try reader.doubles("histogram.linear_range", count: h)
        let logLengths = try reader.ints("histogram.log_lengths", count: h)
        let linearLengths = try reader.ints("histogram.linear_lengths", count: h)
        let logCounts = try reader.counts("histogram.log_counts", count: try reader.total(logLengths, "histogram.log_lengths"))
        let linearCounts = try reader.counts("histogram.linear_counts", count: try reader.total(linearLengths, "histogram.linear_lengths"))
        var logStart = 0, linearStart = 0
        for i in 0..<h {
            guard names[i] >= 0 && names[i] < p else {
                throw CheckpointError.invalidShape(file: path, tensor: "histogram.name",
                                                   detail: "index \(names[i]) is not one of the \(p) parameters")
            }
            histograms.append(GradientHistogram(
                step: histogramSteps[i], name: parameterNames[names[i]], zeroCount: zeroCounts[i],
                logCounts: Array(logCounts[logStart..<logStart + logLengths[i]]), nonfiniteCount: nonfiniteCounts[i],
                linearCounts: Array(linearCounts[linearStart..<linearStart + linearLengths[i]]), linearRange: ranges[i]))
            logStart += logLengths[i]
            linearStart += linearLengths[i]
        }
    }
}

private func jsonArray(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

/// Appends columns to a safetensors collection.
private struct ColumnWriter {
    var file: SafeTensors

    mutating func ints(_ name: String, _ shape: [Int], _ values: [Int]) {
        file[name] = .int64(shape: shape, values: values.map(Int64.init))
    }

    mutating func doubles(_ name: String, _ shape: [Int], _ values: [Double]) {
        file[name] = .float64(Tensor(shape: shape, scalars: values))
    }

    /// Values with absent ones as 0, and `name_present` (1 where present).
    mutating func optionals(_ name: String, _ shape: [Int], _ values: [Double?]) {
        optionals(name, shape, values.map { $0 ?? 0 }, present: values.map { $0 == nil ? 0 : 1 })
    }

    /// Values (0 where absent) and `name_present` (1 where present).
    mutating func optionals(_ name: String, _ shape: [Int], _ values: [Double], present: [Int]) {
        doubles(name, shape, values)
        ints(name + "_present", shape, present)
    }
}

/// Reads columns back, checking types and lengths.
private struct ColumnReader {
    let file: SafeTensors
    let path: String

    func entry(_ name: String) throws -> SafeTensors.Entry {
        guard let entry = file[name] else { throw CheckpointError.missingTensor(file: path, tensor: name) }
        return entry
    }

    func check(_ name: String, _ found: Int, _ count: Int?) throws {
        if let count, found != count {
            throw CheckpointError.invalidShape(file: path, tensor: name, detail: "expected \(count) elements, found \(found)")
        }
    }

    func ints(_ name: String, count: Int? = nil) throws -> [Int] {
        guard case .int64(_, let values) = try entry(name) else {
            throw CheckpointError.unsupportedDtype(file: path, tensor: name, dtype: try entry(name).dtype.rawValue + " (expected I64)")
        }
        try check(name, values.count, count)
        return values.map { Int(truncatingIfNeeded: $0) }
    }

    func doubles(_ name: String, count: Int) throws -> [Double] {
        guard case .float64(let tensor) = try entry(name) else {
            throw CheckpointError.unsupportedDtype(file: path, tensor: name, dtype: try entry(name).dtype.rawValue + " (expected F64)")
        }
        try check(name, tensor.count, count)
        return tensor.scalars
    }

    /// A two-axis F64 tensor with `rows` rows: its elements and its number of columns.
    func matrix(_ name: String, rows: Int) throws -> (values: [Double], columns: Int) {
        guard case .float64(let tensor) = try entry(name) else {
            throw CheckpointError.unsupportedDtype(file: path, tensor: name, dtype: try entry(name).dtype.rawValue + " (expected F64)")
        }
        guard tensor.rank == 2 && tensor.shape[0] == rows else {
            throw CheckpointError.invalidShape(file: path, tensor: name, detail: "expected shape [\(rows), T], found \(tensor.shape)")
        }
        return (tensor.scalars, tensor.shape[1])
    }

    func optionals(_ name: String, count: Int) throws -> [Double?] {
        let values = try doubles(name, count: count)
        let present = try ints(name + "_present", count: count)
        return zip(values, present).map { $1 != 0 ? $0 : nil }
    }

    /// Integers that count something, so none is negative.
    func counts(_ name: String, count: Int) throws -> [Int] {
        let values = try ints(name, count: count)
        if let index = values.firstIndex(where: { $0 < 0 }) {
            throw CheckpointError.invalidShape(file: path, tensor: name, detail: "element \(index) is \(values[index]), a negative count")
        }
        return values
    }

    /// The sum of non-negative lengths.
    func total(_ lengths: [Int], _ name: String) throws -> Int {
        guard lengths.allSatisfy({ $0 >= 0 && $0 < 1 << 32 }) else {
            throw CheckpointError.invalidShape(file: path, tensor: name, detail: "lengths must be between 0 and 2³²")
        }
        return lengths.reduce(0, +)
    }

    func metadataInt(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let text = file.metadata[key], let value = Int(text) else {
            throw CheckpointError.invalidHeader(file: path, field: "__metadata__.\(key)", detail: "expected an integer")
        }
        guard range.contains(value) else {
            throw CheckpointError.invalidHeader(
                file: path, field: "__metadata__.\(key)",
                detail: "\(value) is out of range (expected \(range.lowerBound)...\(range.upperBound))")
        }
        return value
    }

    func metadataJSON<T: Decodable>(_ key: String) throws -> T {
        guard let text = file.metadata[key], let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
            throw CheckpointError.invalidHeader(file: path, field: "__metadata__.\(key)", detail: "expected a JSON array")
        }
        return value
    }
}
