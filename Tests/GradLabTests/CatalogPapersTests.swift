import Foundation
import Testing
import GradLab

/// The papers' experiments of the catalog, each run with a reduced budget, asserting what the
/// runs computed (issue 5).
@Suite struct CatalogPapersTests {
    static let names = ["he2015-depth30", "glorot2010-saturation", "residual-depth", "batchnorm-sigmoid", "edge-of-chaos",
                        "atlas", "mnist1d"]

    /// A fresh folder under the temporary directory.
    func temporaryFolder(_ label: String) throws -> RunFolder {
        try RunFolder(FileManager.default.temporaryDirectory.appendingPathComponent("papers-\(label)-\(UUID().uuidString)"))
    }

    @Test func everyPaperExperimentIsListedWithParsableSpecs() throws {
        #expect(Set(CatalogExperiment.all.map(\.name)).count == CatalogExperiment.all.count)
        for name in Self.names {
            let experiment = try #require(CatalogExperiment.named(name), "\(name) missing")
            let specs = try experiment.specs(seed: 3, epochs: 2)
            #expect(!specs.isEmpty)
            #expect(specs.allSatisfy { $0.train.epochs == 2 && $0.train.seed == 3 })
            #expect(Set(specs.map(\.name)).count == specs.count, "\(name): run names must differ (they name the folders)")
        }
        let atlas = try CatalogExperiment.atlas().specs()
        #expect(atlas.count == 45)
    }

    /// He et al. 2015 at depth 30: Xavier (gain 1) stalls with a first-layer gradient orders of
    /// magnitude below Kaiming's, Kaiming learns.
    @Test func he2015XavierStallsAndKaimingLearns() throws {
        let result = try CatalogExperiment.he2015Depth30(epochs: 8).run(seed: 0)
        let xavier = try #require(result.run(named: "xavier")), kaiming = try #require(result.run(named: "kaiming"))
        let initial = try #require(xavier.result.stepLosses.first)
        #expect(xavier.result.finalLoss > 0.9 * initial, "xavier \(initial) → \(xavier.result.finalLoss)")
        #expect(kaiming.result.finalLoss < 0.5 * (kaiming.result.stepLosses.first ?? 0), "kaiming → \(kaiming.result.finalLoss)")
        let xavierGradient = try #require(xavier.summary.firstLayerGradientNorm)
        let kaimingGradient = try #require(kaiming.summary.firstLayerGradientNorm)
        #expect(xavierGradient < 1e-3 * kaimingGradient, "first-layer gradients \(xavierGradient) vs \(kaimingGradient)")
        #expect(result.conclusion.contains("reproduced here"), "\(result.conclusion)")
    }

    /// Glorot & Bengio 2010: with the standard init the top hidden sigmoid layer's mean
    /// activation falls toward 0 while the net does not learn; with normalized init it dips less
    /// and the net learns.
    @Test func glorotStandardInitSaturatesTheTopLayer() throws {
        let result = try CatalogExperiment.glorot2010Saturation(epochs: 20).run(seed: 0)
        let section = try #require(result.section(titled: "Top hidden layer mean activation"))
        let start = try #require(section.figures["standard start"])
        let standardLowest = try #require(section.figures["standard lowest"])
        let normalizedLowest = try #require(section.figures["normalized lowest"])
        let normalizedFinal = try #require(section.figures["normalized final"])
        #expect(abs(start - 0.5) < 0.05, "a sigmoid layer with zero biases starts near 0.5, got \(start)")
        #expect(standardLowest < 0.2, "standard init: lowest mean \(standardLowest)")
        #expect(standardLowest < normalizedLowest, "\(standardLowest) vs \(normalizedLowest)")
        #expect(normalizedFinal > normalizedLowest + 0.1, "normalized init recovers: \(normalizedLowest) → \(normalizedFinal)")
        let normalized = try #require(result.run(named: "normalized")).result
        #expect(normalized.finalLoss < 0.5 * (normalized.stepLosses.first ?? 0))
        #expect(section.chart?.file == "top_activation.svg")
        #expect(section.rows.first?.first == "0")
    }

    /// Plain vs residual vs ReZero: only the plain net gets worse with depth.
    @Test func residualDepthOnlyThePlainNetDegrades() throws {
        let result = try CatalogExperiment.residualDepth(epochs: 15, depths: [10, 50]).run(seed: 0)
        #expect(result.runs.count == 6)
        let section = try #require(result.section(titled: "Final loss by depth"))
        let figures = section.figures
        let plain10 = try #require(figures["plain 10"]), plain50 = try #require(figures["plain 50"])
        #expect(plain50 > plain10 + 0.5, "plain: \(plain10) → \(plain50)")
        for family in ["residual", "rezero"] {
            let shallow = try #require(figures["\(family) 10"]), deep = try #require(figures["\(family) 50"])
            #expect(deep < plain50 / 2, "\(family) 50: \(deep) vs plain 50: \(plain50)")
            #expect(deep - shallow < 0.25, "\(family): \(shallow) → \(deep)")
        }
        #expect(result.conclusion.contains("plain: final loss") && result.conclusion.contains("(worse with depth: up "))
        #expect(result.conclusion.contains("reproduced."), "\(result.conclusion)")
    }

    /// A 20-layer sigmoid net: without batch norm the first layer gets a vanishing gradient and
    /// the loss stalls; with it the net learns.
    @Test func batchNormRescuesTheDeepSigmoidNet() throws {
        let result = try CatalogExperiment.batchNormSigmoid(epochs: 8).run(seed: 0)
        let plain = try #require(result.run(named: "plain")), normed = try #require(result.run(named: "batch norm"))
        #expect((plain.summary.gradientRatio ?? 1) < 1e-8, "plain ratio \(String(describing: plain.summary.gradientRatio))")
        #expect(plain.result.finalLoss > 0.9 * (plain.result.stepLosses.first ?? 0))
        #expect(normed.result.finalLoss < 0.5 * (normed.result.stepLosses.first ?? 0), "batch norm → \(normed.result.finalLoss)")
        #expect(result.conclusion.contains("Batch norm rescues the deep sigmoid net."), "\(result.conclusion)")
    }

    /// The edge of chaos: the measured factor follows √χ₁ across σ_w, and only the critical
    /// initialization trains at depth 50.
    @Test func edgeOfChaosTheoryMatchesAndOnlyTheCriticalNetTrains() throws {
        let result = try CatalogExperiment.edgeOfChaos(sigmaWs: [0.5, 1.0, 2.0], trainSigmaWs: [0.5, 1.0, 2.0], depth: 50, epochs: 6,
                                                       measurementWidth: 128).run(seed: 0)
        let theory = try #require(result.sections.first)
        for sigmaW in ["0.5", "1", "2"] {
            let predicted = try #require(theory.figures["predicted \(sigmaW)"])
            let measured = try #require(theory.figures["measured \(sigmaW)"])
            #expect(abs(measured / predicted - 1) < 0.05, "σ_w = \(sigmaW): theory \(predicted), measured \(measured)")
        }
        #expect(abs((theory.figures["predicted 1"] ?? 0) - 1) < 1e-6)
        #expect(abs((theory.figures["critical sigma_w"] ?? 0) - 1) < 1e-6)
        let training = try #require(result.section(titled: "Trainability at depth 50"))
        #expect(training.rows.map { $0.last } == ["no", "yes", "no"], "\(training.rows)")
        #expect(training.rows.map { $0[1] } == ["ordered", "critical", "chaotic"])
        #expect(result.conclusion.contains("only the critical initialization trains"), "\(result.conclusion)")
    }

    /// The atlas: one heat map of final loss over depth × activation/init, written as atlas.svg.
    @Test func atlasDrawsThePhaseDiagram() throws {
        let folder = try temporaryFolder("atlas")
        defer { try? FileManager.default.removeItem(at: folder.url) }
        let experiment = CatalogExperiment.atlas(depths: [2, 20], activations: ["sigmoid", "relu"],
                                                 initializers: ["default", "kaiming_uniform"], epochs: 150)
        let result = try experiment.run(seed: 0, folder: folder)
        #expect(result.runs.count == 8)
        let section = try #require(result.sections.first)
        #expect(section.columns == ["depth", "sigmoid/default", "sigmoid/kaiming", "relu/default", "relu/kaiming"])
        #expect(section.rows.map(\.first) == ["2", "20"])
        let reluShallow = try #require(section.figures["relu/kaiming depth 2"])
        let sigmoidDeep = try #require(section.figures["sigmoid/default depth 20"])
        #expect(reluShallow < 1, "relu/kaiming at depth 2: \(reluShallow)")
        #expect(sigmoidDeep > 5, "sigmoid/default at depth 20: \(sigmoidDeep)")
        #expect(result.conclusion.contains("relu/kaiming up to depth"), "\(result.conclusion)")
        #expect(result.conclusion.contains("sigmoid/default at no depth"), "\(result.conclusion)")
        let svg = try String(contentsOf: folder.file("atlas.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("relu/kaiming"))
        let html = try String(contentsOf: folder.file("report.html"), encoding: .utf8)
        #expect(html.contains("Trainability atlas (final loss)"))
        // The comparison's JSON carries the section.
        let summary = try JSONDecoder().decode(ExperimentSummary.self, from: Data(contentsOf: folder.file("summary.json")))
        #expect(summary.sections?.first?.chart == "atlas.svg")
        #expect(summary.sections?.first?.rows.count == 2)
        let text = try String(contentsOf: folder.file("summary.txt"), encoding: .utf8)
        #expect(text.contains("Trainability atlas (final loss)") && text.contains(result.conclusion))
    }

    /// MNIST-1D: the deep sigmoid net stays at chance on the test set; the doctor's top
    /// prescription, rerun for the same budget, classifies far better.
    @Test func mnist1dTheDoctorsRemedyBeatsTheBaselineOnTheTestSet() throws {
        let result = try CatalogExperiment.mnist1d(epochs: 4, prescriptions: 1).run(seed: 0)
        #expect(result.runs.count == 2)
        #expect(result.testScores.count == 2)
        let baseline = try #require(result.testScores[0]?.accuracy)
        let remedy = try #require(result.testScores[1]?.accuracy)
        #expect(baseline < 0.2, "baseline test accuracy \(baseline)")
        #expect(remedy > baseline + 0.2, "remedy \(result.runs[1].spec.name): \(remedy) vs \(baseline)")
        #expect(result.testScores[1]?.epoch == 3)
        let diagnosis = try #require(result.runs[0].diagnosis)
        #expect(result.runs[1].spec.name == diagnosis.prescriptions.first?.remedy.label)
        #expect(result.table.contains("test acc"))
        #expect(result.conclusion.contains("Best remedy: \(result.runs[1].spec.name)"), "\(result.conclusion)")
        let summary = ExperimentSummary(result)
        #expect(summary.testScores?.count == 2)
    }
}

/// The sequence data kinds and `residual_scaling` in spec files.
@Suite struct RunSpecSequenceDataTests {
    @Test func sequenceKindsParseWithDefaultsRoundTripAndLoad() throws {
        #expect(try spec("model: {mlp: {input: 100, output: 1}}\ndata: {kind: adding}").data.source == .adding(count: 1000, length: 50))
        #expect(try spec("model: {mlp: {input: 1, output: 1}}\ndata: {kind: copy}").data.source
                == .copy(count: 1000, symbols: 8, length: 10, delay: 20))
        #expect(try spec("model: {mlp: {input: 1, output: 1}}\ndata: {kind: parity_sequence}").data.source
                == .paritySequence(count: 1000, length: 20, running: false, signed: false))
        let texts = [
            "model: {mlp: {input: 20, hidden: [8], output: 1}}\ndata: {kind: adding, length: 10, count: 30, seed: 4}",
            "model: {mlp: {input: 42, hidden: [8], output: 7}}\ndata: {kind: copy, symbols: 4, length: 2, delay: 3, count: 5}\ntrain: {loss: mse}",
            "model: {mlp: {input: 12, hidden: [8], output: 12}}\ndata: {kind: parity_sequence, length: 12, count: 9, running: true, signed: true}",
            "model: {mlp: {input: 6, hidden: [8], output: 1}}\ndata: {kind: parity_sequence, length: 6, count: 9}\ntrain: {loss: bce_with_logits}",
        ]
        for text in texts {
            let original = try spec(text)
            let again = try RunSpec.parse(original.yaml, file: "resolved.yaml")
            #expect(again == original, "round trip changed:\n\(original.yaml)")
            #expect(original.data.source.sequenceLayout != nil)
            let (train, validation) = try original.loadData()
            #expect(validation == nil)
            #expect(train.features.shape[1] == original.data.source.sequenceLayout?.width)
        }
        let adding = try spec(texts[0])
        #expect(adding.data.source.sequenceLayout == SequenceLayout(steps: 10, channels: 2))
        let data = try adding.loadData().train
        #expect(data.features.shape == [30, 20] && data.targets.shape == [30, 1])
        let direct = try SyntheticData.adding(count: 30, length: 10, seed: 4, as: Float.self)
        #expect(data.features.scalars == direct.features.scalars)
        let copy = try spec(texts[1]).loadData().train
        #expect(copy.targets.shape == [5, 7])
        // A model whose input does not fit says what the data's rows are.
        let wrong = try spec("model: {mlp: {input: 10, output: 1}}\ndata: {kind: adding, length: 10, count: 5}")
        #expect(throws: SpecError.self) { try wrong.loadData() }
        do {
            _ = try wrong.loadData()
        } catch let error as SpecError {
            #expect(error.description.contains("model.mlp.input: expected 20 to match the data (adding has 20 features per example (10 steps × 2 channels, flattened)), found 10"),
                    "\(error.description)")
        }
    }

    @Test func badSequenceValuesNameTheFileLineAndColumn() throws {
        let cases: [(String, String)] = [
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: adding, length: 1}",
             "spec.yaml:2:30: data.length: expected a whole number ≥ 2, found 1"),
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: copy, symbols: 0}",
             "spec.yaml:2:29: data.symbols: expected a whole number in 1...100000, found 0"),
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: copy, delay: ten}",
             "spec.yaml:2:27: data.delay: expected a whole number in 1...1000000, found 'ten'"),
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: parity_sequence, running: maybe}",
             "spec.yaml:2:40: data.running: expected true or false, found 'maybe'"),
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: parity_sequence, bits: 4}",
             "spec.yaml:2:31: data.bits: unknown key 'bits' (allowed here: kind, validation, standardize, seed, count, length, running, signed)"),
            ("model: {mlp: {input: 1, output: 1}}\ndata: {kind: adding, count: 0}",
             "spec.yaml:2:29: data.count: expected a whole number ≥ 1, found 0"),
        ]
        for (text, message) in cases {
            let error = try #require(specError(text), "\(text) parsed")
            #expect(error.description == message)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func residualScalingParsesBuildsAndRoundTrips() throws {
        let text = "model: {mlp: {input: 2, hidden: [4, 4, 4], output: 1, activation: tanh, residual: true, residual_scaling: rezero}}"
        let s = try spec(text)
        guard case .mlp(let mlp) = s.model else { Issue.record("not an MLP"); return }
        #expect(mlp.residualScaling == .reZero)
        #expect(try spec(text.replacingOccurrences(of: "rezero", with: "skip_init")).model == s.model)
        #expect(try RunSpec.parse(s.yaml, file: "again.yaml") == s)
        #expect(s.yaml.contains("residual_scaling: rezero"))
        let model = try s.makeModel(generator: RandomGenerator(seed: 1))
        let alphas = model.namedParameters.filter { $0.0.hasSuffix("alpha") }
        #expect(alphas.map(\.0) == ["2.alpha", "3.alpha"])
        #expect(alphas.allSatisfy { $0.1.value.scalars == [0] })
        #expect(try spec("model: {mlp: {input: 2, hidden: [4, 4], output: 1}}").yaml.contains("residual_scaling: none"))
        let error = try #require(specError("model: {mlp: {input: 2, hidden: [4, 4], output: 1, residual_scaling: rezero}}"))
        #expect(error.description == "spec.yaml:1:70: model.mlp.residual_scaling: residual_scaling scales the branch of residual blocks; set residual: true too")
        let unknown = try #require(specError("model: {mlp: {input: 2, hidden: [4, 4], output: 1, residual: true, residual_scaling: fixup}}"))
        #expect(unknown.description.contains("model.mlp.residual_scaling: unknown value 'fixup' (expected one of none, rezero, skip_init)"))
    }
}
