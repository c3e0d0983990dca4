import Foundation
import Testing
import GradLab

/// The recurrent experiments of the catalog (adding problem, Pascanu clipping), each run with a
/// reduced budget, asserting what the runs computed (issue 5).
@Suite struct CatalogRecurrentTests {
    /// A fresh folder under the temporary directory.
    func temporaryFolder(_ label: String) throws -> RunFolder {
        try RunFolder(FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-\(label)-\(UUID().uuidString)"))
    }

    @Test func bothExperimentsAreListedWithParsableSpecs() throws {
        let adding = try #require(CatalogExperiment.named("adding-problem"))
        let specs = try adding.specs(seed: 3, epochs: 2)
        #expect(specs.map(\.name) == ["rnn T=50", "lstm T=50", "gru T=50", "rnn T=100", "lstm T=100", "gru T=100"])
        #expect(specs.allSatisfy { $0.train.epochs == 2 && $0.train.seed == 3 && $0.model.readsSequences })
        let pascanu = try #require(CatalogExperiment.named("pascanu-clipping"))
        let runs = try pascanu.specs()
        #expect(runs.map(\.name) == ["no clipping", "clip norm 1"])
        #expect(runs[0].train.clip == .none && runs[1].train.clip == .norm(maxNorm: 1))
    }

    /// At the start, the gradient reaching the first step of a vanilla RNN is orders of
    /// magnitude below what reaches an LSTM's or GRU's; the baseline is the targets' variance,
    /// about 1/6; every run gets its ‖∂L/∂h_t‖ chart.
    @Test func addingProblemShowsTheVanishingGradientAndCharts() throws {
        let folder = try temporaryFolder("adding")
        defer { try? FileManager.default.removeItem(at: folder.url) }
        let experiment = CatalogExperiment.addingProblem(lengths: [40], hidden: 16, count: 300, epochs: 2)
        let result = try experiment.run(seed: 0, folder: folder)
        #expect(result.runs.map(\.spec.name) == ["rnn T=40", "lstm T=40", "gru T=40"])
        let table = try #require(result.section(titled: "Adding problem: MSE against the baseline"))
        let baseline = try #require(table.figures["baseline T=40"])
        #expect(abs(baseline - 1.0 / 6.0) < 0.05, "baseline \(baseline)")
        let rnn = try #require(table.figures["rnn T=40 gradient ratio"])
        let lstm = try #require(table.figures["lstm T=40 gradient ratio"]), gru = try #require(table.figures["gru T=40 gradient ratio"])
        #expect(rnn < 1e-3, "rnn ‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ = \(rnn)")
        #expect(rnn < 1e-2 * lstm && rnn < 1e-2 * gru, "rnn \(rnn), lstm \(lstm), gru \(gru)")
        // The verdict column follows the figures.
        for row in table.rows {
            let fraction = try #require(table.figures["\(row[0]) fraction"])
            let expected = fraction < CatalogExperiment.addingSolvedFraction ? "solved"
                : fraction > CatalogExperiment.addingFailedFraction ? "near baseline" : "partly"
            #expect(row.last == expected, "\(row)")
        }
        for name in ["rnn T=40", "lstm T=40", "gru T=40"] {
            let section = try #require(result.section(titled: "‖∂L/∂h_t‖: \(name)"))
            let file = try #require(section.chart?.file)
            let svg = try String(contentsOf: folder.file(file), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("‖∂L/∂h_t‖"))
            #expect(section.rows.first?.first == "0" && section.rows.last?.first == "39")
        }
        #expect(result.conclusion.contains("T = 40, baseline"), "\(result.conclusion)")
        #expect(result.conclusion.contains("Published outcome"), "\(result.conclusion)")
    }

    /// ρ(W_hh) = 2: plain SGD diverges, clipped SGD trains.
    @Test func pascanuClippingDivergesWithoutAndTrainsWith() throws {
        let result = try CatalogExperiment.pascanuClipping(length: 30, hidden: 16, count: 300, epochs: 4).run(seed: 0)
        let section = try #require(result.section(titled: "Clipping an exploding RNN"))
        let radius = try #require(section.figures["spectral radius"])
        #expect(abs(radius - 2) < 1e-3, "ρ(W_hh) = \(radius)")
        #expect(section.figures["no clipping diverged"] == 1, "\(result.conclusion)")
        #expect(section.figures["clip norm 1 diverged"] == 0 && section.figures["clip norm 1 trained"] == 1, "\(result.conclusion)")
        let growth = try #require(section.figures["no clipping gradient ratio"])
        #expect(growth > 1, "‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ = \(growth)")
        #expect(result.conclusion.contains("reproduced."), "\(result.conclusion)")
    }
}
