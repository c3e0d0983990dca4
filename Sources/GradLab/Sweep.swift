import Foundation
import GradReport

/// A sweep grid: `depth=2,5,10 activation=sigmoid,relu` — keys in order, each with its values.
public struct SweepGrid: Sendable, Equatable {
    /// The axes in the order written.
    public var axes: [(key: String, values: [String])]

    /// Parses `key=v1,v2 key2=w1,...` (axes separated by spaces).
    ///
    /// - Throws: `SpecError` naming `--grid` for an empty grid, an axis without `=`, an empty
    ///   value or a key given twice.
    public init(parsing text: String) throws(SpecError) {
        axes = []
        for part in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw SpecError.badOverride(key: String(part), value: "", problem: "expected key=value1,value2,...")
            }
            let key = String(part[..<eq])
            let values = part[part.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if values.contains(where: \.isEmpty) { throw SpecError.badOverride(key: key, value: String(part), problem: "empty value") }
            if axes.contains(where: { $0.key == key }) { throw SpecError.badOverride(key: key, value: String(part), problem: "the key is given twice") }
            axes.append((key, values))
        }
        if axes.isEmpty { throw SpecError.badOverride(key: "", value: text, problem: "empty grid (expected e.g. 'depth=2,5,10 activation=sigmoid,relu')") }
    }

    public static func == (a: SweepGrid, b: SweepGrid) -> Bool {
        a.axes.map(\.key) == b.axes.map(\.key) && a.axes.map(\.values) == b.axes.map(\.values)
    }

    /// Every combination, the first axis varying slowest.
    public var combinations: [[(key: String, value: String)]] {
        axes.reduce([[]]) { partial, axis in
            partial.flatMap { prefix in axis.values.map { prefix + [(axis.key, $0)] } }
        }
    }
}

/// One run of a sweep: its settings, seed, spec and folder name.
public struct SweepEntry: Sendable {
    /// The grid's values for this run, in axis order.
    public var settings: [(key: String, value: String)]
    /// The seed index (0 ..< seeds).
    public var seedIndex: Int
    /// The spec with the settings and seed applied.
    public var spec: RunSpec
    /// The run's folder name inside the sweep folder (`depth-2_activation-sigmoid_seed-0`).
    public var folderName: String
}

/// What a finished sweep run reported, read back from its `summary.json`.
public struct SweepRunResult: Sendable {
    public var entry: SweepEntry
    public var summary: RunSummary
}

/// `gradlab sweep`: every combination of a grid × seeds, each in its own run folder; resumable
/// (a run whose folder has `summary.json` is finished and skipped); shardable.
public enum Sweep {
    /// The runs of a sweep, in order.
    ///
    /// - Parameters:
    ///   - base: the spec every run starts from.
    ///   - grid: the settings to combine (keys as `RunSpec.overriding(_:with:)` knows them).
    ///   - seeds: runs per combination, with seeds `base.seed + 0 ..< seeds`.
    public static func plan(base: RunSpec, grid: SweepGrid, seeds: Int) throws(SpecError) -> [SweepEntry] {
        var entries: [SweepEntry] = []
        for combination in grid.combinations {
            var spec = base
            for (key, value) in combination { spec = try spec.overriding(key, with: value) }
            try spec.validate()
            for k in 0..<seeds {
                var run = spec
                run.train.seed = base.train.seed &+ UInt64(k)
                let label = combination.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " seed=\(k)"
                run.name = "\(base.name) \(label)"
                let folder = (combination.map { "\(slug($0.key))-\(slug($0.value))" } + ["seed-\(k)"]).joined(separator: "_")
                entries.append(SweepEntry(settings: combination, seedIndex: k, spec: run, folderName: folder))
            }
        }
        return entries
    }

    /// The entries of shard `index` (1-based) of `count`: every `count`-th entry.
    public static func shard(_ entries: [SweepEntry], index: Int, count: Int) -> [SweepEntry] {
        entries.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    /// Whether the entry's folder holds a finished run: a readable `summary.json` of a run that
    /// was not interrupted (a run stopped by Ctrl-C is run again when the sweep resumes).
    public static func isFinished(_ entry: SweepEntry, in folder: RunFolder) -> Bool {
        let run = RunFolder(unchecked: folder.url.appendingPathComponent(entry.folderName))
        guard let summary = try? run.readJSON(RunSummary.self, from: "summary.json") else { return false }
        return summary.status != .interrupted
    }

    /// Whether the entry's folder holds an unfinished run of this very spec (stopped by Ctrl-C,
    /// or killed) with a training checkpoint (`--checkpoint-every`), so that `SpecRun.resume` can
    /// continue it where it stopped instead of starting it again.
    public static func isResumable(_ entry: SweepEntry, in folder: RunFolder) -> Bool {
        let run = RunFolder(unchecked: folder.url.appendingPathComponent(entry.folderName))
        guard run.contains(TrainingCheckpoint.fileName), !isFinished(entry, in: folder),
              let spec = try? String(contentsOf: run.file("spec.yaml"), encoding: .utf8) else { return false }
        return spec == entry.spec.yaml
    }

    /// Prepares an unfinished entry's folder: removes what a killed earlier attempt left, then
    /// writes its spec. Returns the folder.
    public static func prepare(_ entry: SweepEntry, in folder: RunFolder) throws -> RunFolder {
        let url = folder.url.appendingPathComponent(entry.folderName)
        if FileManager.default.fileExists(atPath: url.path) {
            do { try FileManager.default.removeItem(at: url) } catch {
                throw RunFolderError.cannotWrite(path: url.path, reason: RunFolder.reason(error))
            }
        }
        let run = try RunFolder(url)
        try run.write(entry.spec.yaml, to: "spec.yaml")
        return run
    }

    /// Reads back every finished run of the sweep (entries whose run has not finished are left out).
    public static func results(_ entries: [SweepEntry], in folder: RunFolder) -> [SweepRunResult] {
        entries.compactMap { entry in
            let run = RunFolder(unchecked: folder.url.appendingPathComponent(entry.folderName))
            guard let summary = try? run.readJSON(RunSummary.self, from: "summary.json") else { return nil }
            return SweepRunResult(entry: entry, summary: summary)
        }
    }

    /// Writes the sweep's `summary.json`, `summary.csv`, `phase_diagram.svg` and `report.html`
    /// (a table of runs linking to their reports, and the phase diagram).
    ///
    /// The phase diagram's rows are the `depth` axis (or the first axis), its columns the
    /// combinations of the other axes, and each cell the median final loss over seeds (marked
    /// non-finite when any seed's run went non-finite).
    @discardableResult
    public static func writeSummary(grid: SweepGrid, entries: [SweepEntry], results: [SweepRunResult],
                                    folder: RunFolder, title: String) throws -> String {
        let table = SweepTable(grid: grid, results: results)
        try folder.writeJSON(table.rows, to: "summary.json")
        try folder.write(table.csv, to: "summary.csv")
        let chart = table.phaseDiagram
        try folder.write(chart.svg(), to: "phase_diagram.svg")
        let links = results.map { r in
            HTMLRunLink(name: r.entry.folderName, href: r.entry.folderName + "/report.html",
                        values: r.entry.settings.map(\.value) + ["\(r.entry.seedIndex)", formatNumber(r.summary.finalLoss),
                                                                 formatNumber(r.summary.gradientRatio ?? .nan), r.summary.finite ? "yes" : "no"])
        }
        let missing = entries.count - results.count
        let html = HTMLReport.sweepIndex(
            title: title,
            description: "\(results.count) of \(entries.count) runs finished" + (missing > 0 ? " (\(missing) not yet run or unfinished)." : "."),
            columns: grid.axes.map(\.key) + ["seed", "final loss", "first/last |∇W|", "finite"], runs: links,
            phaseDiagram: chart, caption: "Median final loss over seeds; crossed cells went non-finite.")
        try folder.write(html, to: "report.html")
        return table.text
    }
}

/// The sweep's results as rows (one per run) and as a phase diagram.
struct SweepTable {
    struct Row: Codable {
        var run: String
        var settings: [String: String]
        var seed: UInt64
        var finalLoss: Double
        var gradientRatio: Double?
        var finite: Bool
        var trainSeconds: Double

        enum CodingKeys: String, CodingKey {
            case run, settings, seed, finite
            case finalLoss = "final_loss", gradientRatio = "gradient_ratio", trainSeconds = "train_seconds"
        }
    }

    let grid: SweepGrid
    let results: [SweepRunResult]

    var rows: [Row] {
        results.map { r in
            Row(run: r.entry.folderName, settings: Dictionary(uniqueKeysWithValues: r.entry.settings.map { ($0.key, $0.value) }),
                seed: r.entry.spec.train.seed, finalLoss: r.summary.finalLoss, gradientRatio: r.summary.gradientRatio,
                finite: r.summary.finite, trainSeconds: r.summary.trainSeconds)
        }
    }

    var csv: String {
        let header = grid.axes.map(\.key) + ["seed", "final_loss", "gradient_ratio", "finite", "train_seconds"]
        return ([header.joined(separator: ",")] + results.map { r in
            (r.entry.settings.map(\.value) + ["\(r.entry.spec.train.seed)", "\(r.summary.finalLoss)",
                                              r.summary.gradientRatio.map { "\($0)" } ?? "", "\(r.summary.finite)",
                                              "\(r.summary.trainSeconds)"]).joined(separator: ",")
        }).joined(separator: "\n") + "\n"
    }

    /// The row axis (depth when swept) and the column axes.
    var rowAxis: Int { grid.axes.firstIndex { $0.key == "depth" } ?? 0 }

    var phaseDiagram: GridChart {
        let rowValues = grid.axes[rowAxis].values
        let otherAxes = grid.axes.indices.filter { $0 != rowAxis }
        let columnCombos: [[String]] = otherAxes.reduce([[]]) { partial, a in partial.flatMap { p in grid.axes[a].values.map { p + [$0] } } }
        let columnLabels = columnCombos.map { $0.isEmpty ? "all" : $0.joined(separator: " · ") }
        var values = Array(repeating: Array(repeating: Double.nan, count: columnCombos.count), count: rowValues.count)
        for (r, rowValue) in rowValues.enumerated() {
            for (c, combo) in columnCombos.enumerated() {
                let matching = results.filter { result in
                    let settings = result.entry.settings
                    return settings[rowAxis].value == rowValue && zip(otherAxes, combo).allSatisfy { settings[$0].value == $1 }
                }
                guard !matching.isEmpty else { continue }
                if matching.contains(where: { !$0.summary.finite || !$0.summary.finalLoss.isFinite }) {
                    values[r][c] = .infinity
                    continue
                }
                let losses = matching.map(\.summary.finalLoss).sorted()
                values[r][c] = losses[losses.count / 2]
            }
        }
        return RunCharts.phaseDiagram(rows: rowValues, columns: columnLabels, values: values,
                                      title: "Final loss by \(grid.axes[rowAxis].key) and setting", colourLabel: "final loss",
                                      rowAxis: grid.axes[rowAxis].key, columnAxis: otherAxes.map { grid.axes[$0].key }.joined(separator: " · "))
    }

    /// A fixed-width text table of the runs.
    var text: String {
        var lines = [(grid.axes.map(\.key) + ["seed", "final loss", "first/last", "finite"]).joined(separator: "\t")]
        for r in results {
            lines.append((r.entry.settings.map(\.value) + ["\(r.entry.seedIndex)", formatNumber(r.summary.finalLoss),
                                                           formatNumber(r.summary.gradientRatio ?? .nan), r.summary.finite ? "yes" : "no"])
                .joined(separator: "\t"))
        }
        return lines.joined(separator: "\n")
    }
}

extension RunFolder {
    /// A folder value for reading, without creating or checking it.
    public init(unchecked url: URL) { self.url = url.standardizedFileURL }
}

/// What a sweep folder was made from (`sweep.json`), so that `gradlab report` can rebuild and
/// merge its summary from the run folders alone.
public struct SweepManifest: Codable, Sendable {
    /// The base spec, resolved.
    public var baseSpec: String
    /// The grid as given to `--grid`.
    public var grid: String
    /// Runs per combination.
    public var seeds: Int

    enum CodingKeys: String, CodingKey {
        case grid, seeds
        case baseSpec = "base_spec"
    }

    /// A manifest.
    public init(baseSpec: String, grid: String, seeds: Int) {
        self.baseSpec = baseSpec
        self.grid = grid
        self.seeds = seeds
    }

    /// The sweep's runs, planned again from the manifest.
    public func plan(file: String) throws -> (SweepGrid, [SweepEntry]) {
        let base = try RunSpec.parse(baseSpec, file: file)
        let grid = try SweepGrid(parsing: self.grid)
        return (grid, try Sweep.plan(base: base, grid: grid, seeds: seeds))
    }
}
