import Foundation
import Testing
import GradLab

/// The catalog's experiments with their settings: each asserts what the runs computed, and
/// what the doctor says about them (issue: the doctor on the seeds' experiments).
@Suite struct CatalogTests {
    @Test func linearDataHasTheSeedsSpread() {
        let data = SyntheticData.linear(count: 100, seed: 0, as: Double.self)
        #expect(data.features.shape == [100, 1] && data.targets.shape == [100, 1])
        // y = 3x + 2 + 0.5ε: the least-squares slope of a 100-point sample is near 3.
        let x = data.features.scalars, y = data.targets.scalars
        let mx = x.reduce(0, +) / 100, my = y.reduce(0, +) / 100
        let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        #expect(abs(slope - 3) < 0.2)
        #expect(abs(my - mx * slope - 2) < 0.2)
    }

    @Test func everyExperimentHasAUniqueNameAndParsableSpecs() throws {
        #expect(Set(CatalogExperiment.all.map(\.name)).count == CatalogExperiment.all.count)
        for name in ["seed-sigmoid-vs-relu", "seed-clipping", "seed-xavier-vs-kaiming", "seed-spiral-sigmoid",
                     "seed-gradient-monitoring", "remedies"] {
            let experiment = try #require(CatalogExperiment.named(name), "\(name) missing")
            #expect(try !experiment.specs().isEmpty)
        }
    }

    @Test func sigmoidGradientVanishesTowardTheInputAndTheDoctorSaysSo() throws {
        let result = try #require(CatalogExperiment.named("seed-sigmoid-vs-relu")).run(seed: 0)
        let sigmoid = try #require(result.runs.first { $0.spec.name == "sigmoid" })
        // Orders of magnitude between the first and the last layer's gradient at the start.
        let ratio = try #require(sigmoid.summary.gradientRatio)
        #expect(ratio < 1e-3, "ratio \(ratio)")
        // The sigmoid net does not learn the line in 500 epochs: its loss stays near the
        // variance of y (≈ 9.25), as in PyTorch (≈ 9.76).
        #expect(sigmoid.result.finalLoss > 5, "final loss \(sigmoid.result.finalLoss)")
        #expect(sigmoid.result.finite)
        // The doctor: vanishing, the first layer named, a per-layer decay factor reported.
        let diagnosis = try #require(sigmoid.diagnosis)
        let vanishing = try #require(diagnosis.finding(.vanishingGradients), "findings: \(diagnosis.findings.map(\.kind))")
        #expect(vanishing.layers.contains("0"), "layers \(vanishing.layers)")
        let factor = try #require(vanishing.evidence.first { $0.name.contains("factor") }?.value, "evidence \(vanishing.evidence)")
        #expect(factor > 0 && factor < 1)
        // With PyTorch's default init the 10-layer ReLU net does not learn either (PyTorch: 9.76).
        let relu = try #require(result.runs.first { $0.spec.name == "relu" })
        #expect(relu.result.finalLoss > 5, "final loss \(relu.result.finalLoss)")
    }

    @Test func largeInitExplodesWithoutClippingAndStaysFiniteWithIt() throws {
        let result = try #require(CatalogExperiment.named("seed-clipping")).run(seed: 0)
        let plain = try #require(result.runs.first { $0.spec.name == "no clipping" })
        let clipped = try #require(result.runs.first { $0.spec.name == "clip norm 10" })
        #expect(!plain.result.finite, "without clipping the N(0, 10²) run should go non-finite")
        #expect(clipped.result.finite, "with clipping at 10 the run should stay finite")
        #expect(clipped.result.epochLosses.count == 50)
        // The starting gradient is enormous (weights of std 10 over 11 layers).
        #expect((clipped.result.stepGradientNorms.first ?? 0) > 1e6)
        // The doctor: exploding, then non-finite with its origin named.
        let diagnosis = try #require(plain.diagnosis)
        #expect(diagnosis.has(.explodingGradients), "findings: \(diagnosis.findings.map(\.kind))")
        #expect(diagnosis.has(.nonfinite), "findings: \(diagnosis.findings.map(\.kind))")
        let origin = try #require(plain.result.nonfiniteOrigin)
        #expect(!origin.location.isEmpty)
        #expect(result.conclusion.contains("non-finite at step"))
    }

    @Test func xavierAndKaimingBothLearnTheLineAndKaimingIsHealthy() throws {
        let result = try #require(CatalogExperiment.named("seed-xavier-vs-kaiming")).run(seed: 0)
        #expect(result.runs.map(\.spec.name) == ["xavier_uniform", "kaiming_uniform"])
        for run in result.runs {
            #expect(run.result.finite)
            // Both learn the line (PyTorch: both reach 0.23–0.35 with its seeds): the loss falls
            // at least five-fold from its start.
            let first = run.result.epochLosses.first ?? 0
            #expect(run.result.finalLoss < 0.2 * first, "\(run.spec.name): \(first) → \(run.result.finalLoss)")
        }
        let kaiming = result.runs[1]
        #expect(kaiming.result.finalLoss < 0.5)
        let diagnosis = try #require(kaiming.diagnosis)
        #expect(diagnosis.state == .healthy, "Kaiming/ReLU: \(diagnosis.summary)")
    }

    @Test func spiralSigmoidWithTinyInitStaysAtChance() throws {
        let result = try #require(CatalogExperiment.named("seed-spiral-sigmoid")).run(seed: 0)
        let run = try #require(result.runs.first)
        #expect(run.result.epochLosses.count == 1000)
        #expect(abs(run.result.finalLoss - log(2)) < 0.01, "final BCE \(run.result.finalLoss)")
        #expect((run.summary.gradientRatio ?? 1) < 1e-4, "ratio \(String(describing: run.summary.gradientRatio))")
        #expect(result.conclusion.contains("vanishes"))
    }

    @Test func gradientMonitoringWarnsAboutTheVanishingLayers() throws {
        let result = try #require(CatalogExperiment.named("seed-gradient-monitoring")).run(seed: 0, epochs: 50)
        let run = try #require(result.runs.first)
        let record = try #require(run.result.record)
        #expect(Set(record.histograms.map(\.step)) == Set(stride(from: 0, to: 50, by: 10)))
        let warnings = gradientNormWarnings(record)
        // The first layer's gradient of the 10×10 sigmoid net is far below 1e-5; the last is not.
        #expect(warnings.contains { $0.parameter == "0.weight" && $0.kind == "vanishing" }, "\(warnings)")
        #expect(!warnings.contains { $0.parameter == "20.weight" })
        #expect(result.conclusion.contains("0.weight vanishing"))
    }

    @Test func theTopPrescriptionForTheSigmoidNetLowersTheLossWhenRerun() throws {
        var spec = try #require(CatalogExperiment.named("seed-sigmoid-vs-relu")).specs(seed: 0, epochs: 200)[0]
        spec.name = "sigmoid"
        let baseline = try SpecRun.train(spec)
        let (report, reruns) = SpecRun.verify(baseline, top: 1)
        let entry = try #require(report.entries.first)
        #expect(entry.verdict == .helped, "\(entry.prescription.remedy.label): \(entry.reason)")
        let rerun = try #require(reruns.first)
        #expect(rerun.result.finalLoss < baseline.result.finalLoss)
        #expect(rerun.result.steps == baseline.result.steps, "same budget")
    }

    /// The deep sigmoid net with each remedy alone, 150 epochs: batch norm and residual
    /// connections rescue it; clipping (a remedy for explosions) does not, and neither does
    /// ReLU with PyTorch's default init (as in PyTorch: the seeds' ReLU run stalls too).
    @Test func remediesGetComputedVerdicts() throws {
        let result = try #require(CatalogExperiment.named("remedies")).run(seed: 0, epochs: 150)
        #expect(result.runs.map(\.spec.name) == ["baseline sigmoid", "relu", "kaiming init", "batch norm", "residual", "clip norm 1"])
        let baseline = result.runs[0].result.finalLoss
        for name in ["batch norm", "residual"] {
            let run = try #require(result.runs.first { $0.spec.name == name })
            #expect(run.result.finalLoss < 0.2 * baseline, "\(name): \(run.result.finalLoss) vs \(baseline)")
            #expect(result.conclusion.contains("\(name): helped"), "\(result.conclusion)")
        }
        #expect(result.conclusion.contains("clip norm 1: did_not_help"), "\(result.conclusion)")
        #expect(result.conclusion.contains("relu: did_not_help"), "\(result.conclusion)")
    }

    @Test func tableHasOneRowPerRun() throws {
        let result = try #require(CatalogExperiment.named("seed-clipping")).run(seed: 0, epochs: 5)
        let lines = result.table.split(separator: "\n")
        #expect(lines.count == 2 + result.runs.count)
        #expect(lines[0].hasPrefix("run"))
    }
}
