import Foundation
import GradDoctor

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
    /// Writes the table to `url` atomically (a temporary file beside it, then renamed).
    ///
    /// - Parameters:
    ///   - record: the monitor's record (gradient norms and update ratios per recorded step).
    ///   - losses: the loss per step; when empty, the record's per-step losses are used.
    ///   - url: the CSV file to write.
    /// - Throws: `MetricsLogError.cannotWrite` naming the file.
    public static func write(record: MonitorRecord, losses: [(step: Int, value: Double)], to url: URL) throws {
        let text = table(record: record, losses: losses)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw MetricsLogError.cannotWrite(file: url.relativePath, reason: TensorBoardWriter.reason(error))
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw MetricsLogError.cannotWrite(file: url.relativePath, reason: reason)
        }
    }

    /// The CSV text `write` writes (header and rows, each line ending in `\n`).
    ///
    /// - Parameters:
    ///   - record: the monitor's record.
    ///   - losses: the loss per step (empty: the record's losses).
    public static func table(record: MonitorRecord, losses: [(step: Int, value: Double)]) -> String {
        var names: [String] = []
        var known: Set<String> = []
        for s in record.steps {
            for p in s.parameters where !known.contains(p.name) {
                known.insert(p.name)
                names.append(p.name)
            }
        }
        var lossAt: [Int: Double] = [:]
        if losses.isEmpty {
            for s in record.steps { if let loss = s.loss { lossAt[s.step] = loss } }
        } else {
            for entry in losses { lossAt[entry.step] = entry.value }
        }
        var statistics: [Int: StepStatistics] = [:]
        for s in record.steps { statistics[s.step] = s }
        let steps = Set(lossAt.keys).union(statistics.keys).sorted()

        var text = (["step", "loss", "grad_norm_global"] + names.map { "grad_norm_\($0)" } + names.map { "update_ratio_\($0)" })
            .map(field).joined(separator: ",") + "\n"
        for step in steps {
            var cells = [String(step), lossAt[step].map(number) ?? ""]
            let s = statistics[step]
            cells.append(s.map { number($0.globalGradientNorm) } ?? "")
            var norms: [String: Double] = [:], ratios: [String: Double] = [:]
            for p in s?.parameters ?? [] {
                norms[p.name] = p.gradientNorm
                ratios[p.name] = p.updateRatio
            }
            cells += names.map { norms[$0].map(number) ?? "" }
            cells += names.map { ratios[$0].map(number) ?? "" }
            text += cells.joined(separator: ",") + "\n"
        }
        return text
    }

    /// A number cell: Swift's shortest round-trip text, or `nan`, `inf`, `-inf`.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }

    /// A text cell, quoted (quotes doubled) when it holds a comma, quote or line break.
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
