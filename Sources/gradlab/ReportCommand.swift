import ArgumentParser
import Foundation
import GradLab

/// `gradlab report DIR...`: rebuild `report.html` (and the charts) of run folders, experiment
/// folders or sweeps; several sweep folders (shards) are merged into one summary.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild report.html for run folders, experiments or sweeps (merging sweep shards).")

    @Argument(help: "Run, experiment or sweep folders.")
    var folders: [String]

    @Option(help: "Where a merged sweep report goes (default: the first sweep folder).")
    var out: String?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if folders.isEmpty { throw ValidationError("give at least one folder") }
    }

    func run() throws {
        try runReportingErrors("report") {
            var written: [String] = []
            var sweeps: [(RunFolder, SweepManifest)] = []
            for path in folders {
                let url = URL(fileURLWithPath: path)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw RunFolderError.missing(path: url.path)
                }
                let folder = try RunFolder(url)
                if folder.contains("sweep.json") {
                    sweeps.append((folder, try folder.readJSON(SweepManifest.self, from: "sweep.json")))
                } else if folder.contains("result.json") {
                    try SpecRun.rebuildReport(folder)
                    written.append(folder.file("report.html").path)
                } else {
                    // An experiment folder: every run folder inside it.
                    let children = try FileManager.default.contentsOfDirectory(at: folder.url, includingPropertiesForKeys: nil)
                        .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("result.json").path) }
                        .sorted { $0.path < $1.path }
                    if children.isEmpty { throw RunFolderError.missing(path: folder.file("result.json").path) }
                    for child in children {
                        let run = try RunFolder(child)
                        try SpecRun.rebuildReport(run)
                        written.append(run.file("report.html").path)
                    }
                }
            }
            if let (first, manifest) = sweeps.first {
                guard sweeps.allSatisfy({ $0.1.grid == manifest.grid && $0.1.seeds == manifest.seeds && $0.1.baseSpec == manifest.baseSpec }) else {
                    throw RunFolderError.corrupt(path: sweeps.map { $0.0.file("sweep.json").path }.joined(separator: ", "),
                                                 reason: "the sweep folders come from different sweeps (spec, grid or seeds differ)")
                }
                let (grid, entries) = try manifest.plan(file: first.file("sweep.json").path)
                // Each run's result from whichever shard folder holds it.
                var results: [SweepRunResult] = []
                for entry in entries {
                    if let found = sweeps.lazy.compactMap({ Sweep.results([entry], in: $0.0).first }).first { results.append(found) }
                }
                let target = try out.map { try RunFolder(URL(fileURLWithPath: $0)) } ?? first
                let base = try RunSpec.parse(manifest.baseSpec, file: "sweep.json")
                try Sweep.writeSummary(grid: grid, entries: entries, results: results, folder: target, title: "Sweep of \(base.name)")
                written.append(target.file("report.html").path)
            }
            if output.json {
                try printJSON(["reports": written])
            } else {
                for path in written { print(path) }
            }
        }
    }
}
