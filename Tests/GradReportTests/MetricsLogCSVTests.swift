import Foundation
import GradDoctor
import GradReport
import Testing

@Suite("CSV export of the per-step series")
struct MetricsLogCSVTests {
    /// Parameter statistics with the given norm and update ratio (the other figures unused here).
    func parameter(_ name: String, norm: Double, ratio: Double?) -> [String: Any] {
        var p: [String: Any] = ["name": name, "gradientNorm": norm, "gradientRMS": 0.0, "gradientMaxAbs": 0.0,
                                "gradientMean": 0.0, "gradientStd": 0.0, "zeroFraction": 0.0,
                                "nonfiniteCount": 0, "weightNorm": 1.0]
        if let ratio { p["updateRatio"] = ratio }
        return p
    }

    func step(_ step: Int, loss: Double?, global: Double, _ parameters: [[String: Any]]) throws -> StepStatistics {
        var s: [String: Any] = ["step": step, "globalGradientNorm": global, "parameters": parameters, "layers": [Any](), "skipped": false]
        if let loss { s["loss"] = loss }
        return try decoded(s)
    }

    @Test("header, one row per step, empty cells where nothing was recorded, nan/inf as text")
    func table() throws {
        var record = MonitorRecord()
        record.steps = [
            try step(0, loss: 9, global: 5, [parameter("0.weight", norm: 4, ratio: 0.001), parameter("0.bias", norm: 3, ratio: nil)]),
            try step(2, loss: 9, global: .infinity, [parameter("0.weight", norm: .infinity, ratio: nil),
                                                     parameter("0.bias", norm: .nan, ratio: 0.5)]),
        ]
        let text = CSVExport.table(record: record, losses: [(0, 2.0), (1, .nan), (2, 1.25), (3, -.infinity)])
        #expect(text == """
            step,loss,grad_norm_global,grad_norm_0.weight,grad_norm_0.bias,update_ratio_0.weight,update_ratio_0.bias
            0,2.0,5.0,4.0,3.0,0.001,
            1,nan,,,,,
            2,1.25,inf,inf,nan,,0.5
            3,-inf,,,,,

            """)
    }

    @Test("without losses the record's own losses fill the loss column; odd names are quoted")
    func recordLossesAndQuoting() throws {
        var record = MonitorRecord()
        record.steps = [try step(4, loss: 0.5, global: 1, [parameter("w,\"x\"", norm: 1, ratio: nil)])]
        #expect(CSVExport.table(record: record, losses: []) == """
            step,loss,grad_norm_global,"grad_norm_w,""x""\","update_ratio_w,""x""\"
            4,0.5,1.0,1.0,

            """)
    }

    @Test("write puts the table in the file atomically; an unwritable place is an error naming the file")
    func write() throws {
        let folder = try temporaryFolder("csv")
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = MonitorRecord()
        record.steps = [try step(0, loss: 1, global: 2, [parameter("0.weight", norm: 2, ratio: 0.25)])]
        let url = folder.appendingPathComponent("metrics.csv")
        try CSVExport.write(record: record, losses: [(0, 1.0)], to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == CSVExport.table(record: record, losses: [(0, 1.0)]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["metrics.csv"])

        let bad = folder.appendingPathComponent("missing/metrics.csv")
        let error = #expect(throws: MetricsLogError.self) { try CSVExport.write(record: record, losses: [], to: bad) }
        #expect(error?.description.hasPrefix(bad.relativePath + ": cannot write") == true)
    }
}
