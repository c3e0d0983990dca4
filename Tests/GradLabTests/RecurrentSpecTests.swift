import Foundation
import Testing
import GradLab
import GradTestSupport

/// The message of the `SpecError` that `body` throws, or nil when it throws none.
private func specMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as SpecError {
        return error.description
    } catch {
        return "not a SpecError: \(error)"
    }
}

/// An LSTM/GRU/RNN spec on a sequence task: the recurrent layer, `last_step` or not, and a linear head.
private func recurrentSpec(_ layer: String, head: String, data: String, loss: String = "mse", epochs: Int = 2,
                           extra: String = "") -> String {
    """
    name: rec
    model:
      layers:
        - \(layer)
        \(head)
    data: \(data)
    train: {loss: \(loss), optimizer: {type: adam, lr: 0.01}, epochs: \(epochs), batch_size: 50, seed: 1\(extra)}
    doctor: {every: 1, histograms_every: 0}
    """
}

/// Recurrent layers (`rnn`, `lstm`, `gru`, `last_step`) in spec files: parsing and its errors,
/// the YAML round trip, the built modules and their PyTorch names, per-step cross-entropy on the
/// copy task, the recurrent remedies and the `--grid` keys.
@Suite struct RecurrentSpecTests {
    static let addingLSTM = recurrentSpec("{lstm: {input: 2, hidden: 8}}", head: "- last_step\n    - {linear: {in: 8, out: 1}}",
                                          data: "{kind: adding, count: 100, length: 12}")

    @Test func parsesRecurrentLayersWithPyTorchDefaults() throws {
        let s = try spec(Self.addingLSTM)
        guard case .layers(let layers) = s.model else { Issue.record("not a layer list"); return }
        #expect(layers == [.recurrent(RecurrentLayerSpec(cell: .lstm, input: 2, hidden: 8)), .lastStep,
                           .linear(inFeatures: 8, outFeatures: 1, bias: true, initializer: .default, biasInitializer: nil)])
        #expect(s.model.inputWidth == 2 && s.model.outputWidth == 1)
        #expect(s.model.readsSequences && !s.model.writesSequences)
        let r = try spec("model: {layers: [{rnn: {input: 3, hidden: 5, layers: 2, nonlinearity: relu, bias: false, init: {type: orthogonal, gain: 1.5}}}]}")
        #expect(r.model == .layers([.recurrent(RecurrentLayerSpec(cell: .rnn, input: 3, hidden: 5, layers: 2, bias: false, orthogonal: true,
                                                                   orthogonalGain: 1.5, nonlinearity: .relu))]))
        #expect(r.model.writesSequences && r.model.outputWidth == 5)
        let g = try spec("model: {layers: [{gru: {input: 1, hidden: 4, init: orthogonal, batch_first: true}}, {linear: {in: 4, out: 2}}]}")
        #expect(g.model == .layers([.recurrent(RecurrentLayerSpec(cell: .gru, input: 1, hidden: 4, orthogonal: true)),
                                    .linear(inFeatures: 4, outFeatures: 2, bias: true, initializer: .default, biasInitializer: nil)]))
        #expect(g.model.writesSequences)
    }

    @Test func yamlRoundTripsEveryRecurrentOption() throws {
        let texts = [
            Self.addingLSTM,
            "model: {layers: [{lstm: {input: 2, hidden: 6, layers: 2, forget_bias: 1.0, init: orthogonal}}, {gru: {input: 6, hidden: 3, bias: false}}, last_step, {linear: {in: 3, out: 1}}]}",
            "model: {layers: [{rnn: {input: 2, hidden: 4, nonlinearity: relu, init: {type: orthogonal, gain: 2.5}}}, {linear: {in: 4, out: 10}}, {layer_norm: {features: 10}}]}",
        ]
        for text in texts {
            let s = try spec(text)
            let again = try RunSpec.parse(s.yaml, file: "again.yaml")
            #expect(again == s, "\(s.yaml)")
        }
        #expect(try spec(texts[1]).yaml.contains("forget_bias: 1.0"))
        #expect(try spec(texts[2]).yaml.contains("gain: 2.5"))
    }

    @Test func badRecurrentLayersGiveOneLineErrorsNamingTheField() {
        let cases: [(String, String)] = [
            ("model: {layers: [{lstm: {input: 2, hiden: 8}}]}", "model.layers[0].lstm.hiden: unknown key 'hiden'"),
            ("model: {layers: [{lstm: {input: 2, hiden: 8}}]}", "did you mean 'hidden'?"),
            ("model: {layers: [{rnn: {input: 2, hidden: 8, nonlinearity: sigmoid}}]}", "model.layers[0].rnn.nonlinearity: unknown value 'sigmoid'"),
            ("model: {layers: [{rnn: {input: 2, hidden: 8, forget_bias: 1}}]}", "model.layers[0].rnn.forget_bias: unknown key"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8, bias: false, forget_bias: 1}}]}", "model.layers[0].lstm.forget_bias: forget_bias sets a bias"),
            ("model: {layers: [{gru: {input: 2, hidden: 8, batch_first: false}}]}", "model.layers[0].gru.batch_first: expected true"),
            ("model: {layers: [{gru: {input: 0, hidden: 8}}]}", "model.layers[0].gru.input: expected a whole number ≥ 1, found 0"),
            ("model: {layers: [{gru: {hidden: 8}}]}", "model.layers[0].gru.input: missing key 'input'"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8, init: xavier_uniform}}]}", "model.layers[0].lstm.init: unknown value 'xavier_uniform'"),
            ("model: {layers: [lstm]}", "lstm needs parameters: write {lstm: {input: 2, hidden: 32}}"),
            ("model: {layers: [{linear: {in: 4, out: 2}}, {lstm: {input: 2, hidden: 8}}]}", "model.layers[1]: a lstm layer reads sequences: put it first"),
            ("model: {layers: [{linear: {in: 4, out: 2}}, last_step]}", "model.layers[1]: last_step takes the last time step"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8}}, {linear: {in: 6, out: 1}}]}", "model.layers[1].linear.in: expected 8 (the output width of the layer before), found 6"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8}}, {gru: {input: 4, hidden: 3}}]}", "model.layers[1].gru.input: expected 8"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8}}, {batch_norm: {features: 8}}]}", "model.layers[1]: batch_norm normalizes rows"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8}}, flatten]}", "model.layers[1]: flatten would merge the time steps"),
            ("model: {layers: [{lstm: {input: 2, hidden: 8}}, last_step, {lstm: {input: 8, hidden: 8}}]}", "model.layers[2]: a lstm layer reads sequences"),
        ]
        for (text, expected) in cases {
            let message = specError(text)?.description ?? "parsed"
            #expect(message.contains(expected), "\(text) → \(message)")
            #expect(!message.contains("\n"), "\(message)")
        }
    }

    @Test func dataWidthsAreCheckedAgainstStepsAndChannels() throws {
        let cases: [(String, String)] = [
            (recurrentSpec("{lstm: {input: 3, hidden: 8}}", head: "- last_step\n    - {linear: {in: 8, out: 1}}", data: "{kind: adding, count: 10, length: 12}"),
             "model.layers[0].lstm.input: expected 2 to match the data (adding has 12 steps × 2 channels per example, flattened to 24 features), found 3"),
            (recurrentSpec("{rnn: {input: 4, hidden: 8}}", head: "- last_step\n    - {linear: {in: 8, out: 1}}", data: "{kind: parity, bits: 6}"),
             "model.layers[0].rnn.input: expected a divisor of 6"),
            (recurrentSpec("{lstm: {input: 2, hidden: 8}}", head: "- last_step\n    - {linear: {in: 8, out: 2}}", data: "{kind: adding, count: 10, length: 12}"),
             "model.layers[2].linear.out: expected 1 to match the data (adding has 1 target per example), found 2"),
            (recurrentSpec("{gru: {input: 6, hidden: 8}}", head: "- {linear: {in: 8, out: 4}}",
                           data: "{kind: copy, count: 10, symbols: 4, length: 3, delay: 5}", loss: "cross_entropy"),
             "model.layers[1].linear.out: expected at least 5 to match the data (copy's per-step targets are classes 0…4), found 4"),
            (recurrentSpec("{gru: {input: 6, hidden: 8}}", head: "- last_step\n    - {linear: {in: 8, out: 6}}",
                           data: "{kind: copy, count: 10, symbols: 4, length: 3, delay: 5}", loss: "cross_entropy"),
             "train.loss: cross_entropy needs class labels"),
            (recurrentSpec("{rnn: {input: 1, hidden: 8}}", head: "- {linear: {in: 8, out: 2}}",
                           data: "{kind: parity_sequence, count: 10, length: 7, running: true}", loss: "bce_with_logits"),
             "model.layers[1].linear.out: expected 1 to match the data (parity_sequence has 7 targets per example (1 per step) and the model outputs 7 steps), found 2"),
        ]
        for (text, expected) in cases {
            let message = specMessage { _ = try spec(text).loadData() } ?? "no error"
            #expect(message.contains(expected), "\(message)")
        }
        // The widths that fit load.
        #expect(specMessage { _ = try spec(Self.addingLSTM).loadData() } == nil)
    }

    @Test func builtModelHasPyTorchNamesAndMatchesTheHandBuiltNetwork() throws {
        let s = try spec(Self.addingLSTM)
        let model = try s.makeModel(generator: RandomGenerator(seed: 4))
        #expect(model.namedParameters.map(\.0) == ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0", "2.weight", "2.bias"])
        #expect(model.namedParameters.map(\.1.shape) == [[32, 2], [32, 8], [32], [32], [1, 8], [1]])
        #expect(model.summary == """
            Sequential(
              (0): LSTM(2, 8, batch_first=True)
              (1): LastStep(batch_first=True)
              (2): Linear(in_features=8, out_features=1, bias=True)
            )
            """)
        // The recurrent network is the leaf under the layer's own index, with its own type.
        let leaves = model.namedModules.filter { $0.1.children.isEmpty }
        #expect(leaves.map(\.0) == ["0", "1", "2"])
        #expect(leaves.first?.1 is LSTM<Float>)
        // The same draws and the same outputs as Sequential(LSTM, LastStep, Linear) run on [n, T, 2].
        let g = RandomGenerator(seed: 4)
        let lstm = LSTM<Float>(2, 8, batchFirst: true, generator: g)
        let reference = Sequential<Float>(lstm, LastStep(), Linear(8, 1, generator: g))
        let data = try s.loadData().train
        let ours = model(data.features), theirs = reference(data.sequences(channels: 2))
        #expect(ours.shape == [100, 1])
        #expect(ours.scalars == theirs.scalars)
    }

    @Test func recurrentInitOptionsReachTheWeights() throws {
        let s = try spec("model: {layers: [{rnn: {input: 2, hidden: 6, init: {type: orthogonal, gain: 1.5}}}, {lstm: {input: 6, hidden: 4, forget_bias: 1.0}}]}")
        let model = try s.makeModel(generator: RandomGenerator(seed: 2))
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.0, $0.1.value) })
        // W_hhᵀ·W_hh = 1.5²·I: every singular value (and the spectral radius) is 1.5.
        let w = try #require(parameters["0.weight_hh_l0"])
        let product = matmul(w.transposed(), w).scalars
        for i in 0..<6 {
            for j in 0..<6 { #expect(abs(Double(product[i * 6 + j]) - (i == j ? 2.25 : 0)) < 1e-4) }
        }
        // The forget gate (rows H..<2H) starts at b_if = 1, b_hf = 0.
        let bih = try #require(parameters["1.bias_ih_l0"]).scalars, bhh = try #require(parameters["1.bias_hh_l0"]).scalars
        #expect(bih[4..<8].allSatisfy { $0 == 1 } && bhh[4..<8].allSatisfy { $0 == 0 })
        #expect(bih[0..<4].contains { $0 != 1 })
    }

    @Test func sequenceCrossEntropyAveragesEveryStep() {
        // n = 1, T = 2, 3 classes: steps with labels 2 and 0.
        let logits = Tensor<Double>(shape: [1, 2, 3], scalars: [1, 2, 3, 0.5, -1, 0])
        let loss = sequenceCrossEntropy(logits: logits, labels: [2, 0])
        func term(_ z: [Double], _ label: Int) -> Double { log(z.map(exp).reduce(0, +)) - z[label] }
        let expected = (term([1, 2, 3], 2) + term([0.5, -1, 0], 0)) / 2
        #expect(abs(loss.scalar - expected) < 1e-12)
        // As LossKind sees it: the targets [n, T] hold the class indices.
        let data = Dataset(features: Tensor<Double>(shape: [1, 1], scalars: [0]), targets: Tensor(shape: [1, 2], scalars: [2, 0]))
        #expect(abs(LossKind.crossEntropy(logits, data).scalar - expected) < 1e-12)
        // The other losses compare [n, T, 1] outputs with [n, T] targets.
        let values = Tensor<Double>(shape: [1, 2, 1], scalars: [1, 3])
        #expect(abs(LossKind.mse(values, data).scalar - 5) < 1e-12)
    }

    @Test func copyTaskTrainsFromASpecWithPerStepCrossEntropy() throws {
        let text = recurrentSpec("{gru: {input: 6, hidden: 24}}", head: "- {linear: {in: 24, out: 6}}",
                                 data: "{kind: copy, count: 200, symbols: 4, length: 3, delay: 4}", loss: "cross_entropy", epochs: 40)
        let output = try SpecRun.train(try spec(text))
        let result = output.result
        let first = try #require(result.stepLosses.first)
        #expect(abs(first - log(6)) < 0.3, "initial per-step cross-entropy \(first) ≈ ln 6")
        #expect(result.finite)
        // Below half the start, and below the memoryless baseline (blanks, then a guess).
        let baseline = SyntheticData.copyTaskBaselineCrossEntropy(symbols: 4, length: 3, delay: 4)
        #expect(result.finalLoss < 0.5 * first, "\(first) → \(result.finalLoss)")
        #expect(result.finalLoss < baseline, "\(result.finalLoss) vs memoryless \(baseline)")
    }

    @Test func monitorRecordsTheRecurrentLayerAndItsHiddenGradients() throws {
        let output = try SpecRun.train(try spec(Self.addingLSTM))
        let record = try #require(output.result.record)
        let layer = try #require(record.steps.first?.layers.first)
        #expect(layer.name == "0" && layer.kind == "LSTM")
        let norms = try #require(layer.hiddenGradientNorms)
        #expect(norms.count == 12)
        #expect(norms.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(record.steps.first?.parameters.map(\.name).first == "0.weight_ih_l0")
        // The summary's first and last layer are the LSTM's input weights and the linear head.
        let parameters = try #require(record.steps.first?.parameters)
        #expect(output.summary.firstLayerGradientNorm == parameters.first { $0.name == "0.weight_ih_l0" }?.gradientNorm)
        #expect(output.summary.lastLayerGradientNorm == parameters.first { $0.name == "2.weight" }?.gradientNorm)
    }

    @Test func recurrentRemediesChangeTheLayers() throws {
        let rnn = try spec(recurrentSpec("{rnn: {input: 2, hidden: 8, nonlinearity: relu}}", head: "- last_step\n    - {linear: {in: 8, out: 1}}",
                                         data: "{kind: adding, count: 100, length: 12}"))
        let lstm = try rnn.applying(.useLSTMOrGRU)
        #expect(lstm.model == .layers([.recurrent(RecurrentLayerSpec(cell: .lstm, input: 2, hidden: 8, forgetBias: 1)), .lastStep,
                                       .linear(inFeatures: 8, outFeatures: 1, bias: true, initializer: .default, biasInitializer: nil)]))
        let orthogonal = try rnn.applying(.orthogonalRecurrentWeights)
        guard case .layers(let layers) = orthogonal.model, case .recurrent(let r) = layers[0] else { Issue.record("no layers"); return }
        #expect(r.orthogonal && r.orthogonalGain == 1 && r.cell == .rnn && r.nonlinearity == .relu)
        let opened = try lstm.applying(.forgetGateBias(2))
        guard case .layers(let openedLayers) = opened.model, case .recurrent(let o) = openedLayers[0] else { Issue.record("no layers"); return }
        #expect(o.cell == .lstm && o.forgetBias == 2)
        let clipped = try rnn.applying(.clipGradNorm(maxNorm: 1, rule: .averageNorm))
        #expect(clipped.train.clip == .norm(maxNorm: 1))
        // The reruns train.
        #expect(try SpecRun.train(lstm).result.finite)
        // Not applicable: no rnn to replace, no weights left to orthogonalize, an MLP.
        let notApplicable: [(RunSpec, Remedy, String)] = [
            (lstm, .useLSTMOrGRU, "no vanilla rnn layer"), (orthogonal, .orthogonalRecurrentWeights, "orthogonal already"),
            (lstm, .forgetGateBias(1), "no lstm layer whose forget-gate bias is not 1"), (rnn, .forgetGateBias(1), "no lstm layer"),
            (try spec("model: {mlp: {input: 1, output: 1}}"), .useLSTMOrGRU, "is an MLP"),
        ]
        for (s, remedy, expected) in notApplicable {
            let message = specMessage { _ = try s.applying(remedy) } ?? "applied"
            #expect(message.contains("cannot be applied") && message.contains(expected), "\(message)")
        }
    }

    @Test func gridKeysChangeRecurrentLayersAndSequenceLength() throws {
        let s = try spec(Self.addingLSTM)
        let gru = try s.overriding("cell", with: "gru")
        guard case .layers(let layers) = gru.model, case .recurrent(let r) = layers[0] else { Issue.record("no layers"); return }
        #expect(r.cell == .gru && r.hidden == 8)
        let wide = try s.overriding("hidden", with: "16")
        #expect(wide.model == .layers([.recurrent(RecurrentLayerSpec(cell: .lstm, input: 2, hidden: 16)), .lastStep,
                                       .linear(inFeatures: 16, outFeatures: 1, bias: true, initializer: .default, biasInitializer: nil)]))
        try wide.validate()
        let ortho = try s.overriding("recurrent_init", with: "orthogonal")
        guard case .layers(let orthoLayers) = ortho.model, case .recurrent(let o) = orthoLayers[0] else { Issue.record("no layers"); return }
        #expect(o.orthogonal)
        let longer = try s.overriding("length", with: "30")
        #expect(longer.data.source == .adding(count: 100, length: 30))
        #expect(longer.data.source.sequenceLayout == SequenceLayout(steps: 30, channels: 2))
        let bad: [(RunSpec, String, String, String)] = [
            (s, "cell", "transformer", "unknown value 'transformer'"),
            (try spec("model: {mlp: {input: 1, output: 1}}"), "hidden", "8", "needs a layer list with recurrent layers"),
            (try spec("model: {mlp: {input: 1, output: 1}}"), "length", "8", "needs a sequence task"),
            (s, "length", "1", "one marked step in each half"),
        ]
        for (base, key, value, expected) in bad {
            let message = specMessage { _ = try base.overriding(key, with: value) } ?? "accepted"
            #expect(message.contains("--grid") && message.contains(expected), "\(message)")
        }
        #expect(RunSpec.overrideKeys.contains("cell") && RunSpec.overrideKeys.contains("hidden"))
        // An unknown key lists the recurrent and sequence keys for a spec they apply to only.
        let listed = specMessage { _ = try s.overriding("cel", with: "gru") } ?? ""
        #expect(listed.contains("seed, cell, hidden, recurrent_init, length)") && listed.contains("did you mean 'cell'?"), "\(listed)")
        let mlpListed = specMessage { _ = try spec("model: {mlp: {input: 1, output: 1}}").overriding("cel", with: "gru") } ?? ""
        #expect(mlpListed.contains("seed)") && !mlpListed.contains("recurrent_init"), "\(mlpListed)")
    }
}
