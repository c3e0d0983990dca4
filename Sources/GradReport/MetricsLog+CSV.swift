import Foundation
import GradDoctor
import GradNN

/// A run's per-step series as one CSV table, for spreadsheets and pandas.
///
/// Header: `step,loss,grad_norm_global,grad_norm_<param>…,update_ratio_<param>…`, parameters
/// in the record's order (`namedParameters` order; a parameter first seen in a later step
/// is added after the others). One row per step that has a loss or a recorded statistic, in
/// step order; a value that was not recorded at that step is an empty cell. Numbers as Swift
/// prints them (shortest text that reads back to the same Double); NaN as `nan`, ±∞ as `inf`,
/// `-inf` (what `numpy.genfromtxt`, `pandas.read_csv` and `float()` read). Header cells with
/// a comma, quote or line break are quoted as RFC 4180 says.
public enum CSVExport {
    /// Writes the table to `url` atomically (`AtomicFile.write`: a temporary file beside it, then
    /// renamed).
    ///
    /// - Parameters:
    ///   - record: the monitor's record (gradient norms and update ratios per recorded step).
    ///   - losses: the loss per step; when empty, the record's per-step losses are used.
    ///   - url: the CSV file to write.
    /// - Throws: `MetricsLogError.cannotWrite` naming the file.
    public static func write(record: MonitorRecord, losses: [(step: Int, value: Double)], to url: URL) throws {
        let text = table(record: record, losses: losses)
        do {
            try AtomicFile.write(Data(text.utf8), to: url)
        } catch {
            throw MetricsLogError.cannotWrite(file: url.relativePath, reason: error.reason)
        }
    }

    /// The CSV text `write` writes (header and rows, each line ending in `\n`).
    ///
    /// - Parameters:
    ///   - record: the monitor's record.
    ///   - losses: the loss per step (empty: the record's losses).
    public static func table(record: MonitorRecord, losses: [(step: Int, value: Double)]) -> String {
        var names: [String] = []
        var columnOf: [String: Int] = [:]
        for s in record.steps {
            for p in s.parameters where columnOf[p.name] == nil {
                columnOf[p.name] = names.count
                names.append(p.name)
            }
        }
        var lossAt: [Int: Double] = [:]
        if losses.isEmpty {
            for s in record.steps { if let loss = s.loss { lossAt[s.step] = loss } }
        } else {
            for entry in losses { lossAt[entry.step] = entry.value }
        }
        // The last recorded statistics of each step, by index into `record.steps`.
        var statistics: [Int: Int] = [:]
        for (index, s) in record.steps.enumerated() { statistics[s.step] = index }
        let steps = Set(lossAt.keys).union(statistics.keys).sorted()

        let header = (["step", "loss", "grad_norm_global"] + names.map { "grad_norm_\($0)" } + names.map { "update_ratio_\($0)" })
            .map(field).joined(separator: ",")
        // About a dozen bytes per cell.
        var text = TextBuffer(capacity: header.utf8.count + 1 + steps.count * (3 + 2 * names.count) * 12)
        text.appendUnescaped(header)
        text.append("\n")
        // One row: step, loss, global norm, then the norms and the update ratios by column.
        var norms = [Double?](repeating: nil, count: names.count), ratios = norms
        for step in steps {
            text.append(step)
            text.append(",")
            if let loss = lossAt[step] { text.appendUnescaped(number(loss)) }
            text.append(",")
            for j in names.indices {
                norms[j] = nil
                ratios[j] = nil
            }
            if let index = statistics[step] {
                let s = record.steps[index]
                text.appendUnescaped(number(s.globalGradientNorm))
                for (k, p) in s.parameters.enumerated() {
                    // Parameters come in the same order at every step (the lookup is the fallback).
                    let j = k < names.count && names[k] == p.name ? k : columnOf[p.name]!
                    norms[j] = p.gradientNorm
                    ratios[j] = p.updateRatio
                }
            }
            for value in norms {
                text.append(",")
                if let value { text.appendUnescaped(number(value)) }
            }
            for value in ratios {
                text.append(",")
                if let value { text.appendUnescaped(number(value)) }
            }
            text.append("\n")
        }
        return text.string
    }

    /// A number cell: Swift's shortest round-trip text, or `nan`, `inf`, `-inf`.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return x.description
    }

    /// A text cell, quoted (quotes doubled) when it holds a comma, quote or line break.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
