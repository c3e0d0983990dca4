import Foundation
import Testing
import GradTensor
import GradNN
import GradOptim
import GradTestSupport

// RNN, LSTM and GRU: names, shapes and initialization, a case computed by hand, layouts,
// truncated BPTT, the per-step hidden-gradient norms, checkpoints and a short training run,
// plus the entries these layers add to the finite-difference registry
// (`GradientCheckRegistryTests`). PyTorch's values are in `RecurrentGoldenTests`.

// MARK: - Finite-difference registry entries

/// An entry checking `run` of the module built by `make` with respect to the input, the initial
/// states (when `withState`) and every parameter, through `Σ output⊙P + 0.7·Σ h_n⊙Q (+ 1.3·Σ c_n⊙R)`.
private func recurrentCase(
    _ name: String, steps: Int = 4, batch: Int = 2, withState: Bool = true,
    _ make: @escaping @Sendable () -> any RecurrentModule<Double>
) -> GradientCase {
    GradientCase(name: name, expectsNonzeroGradient: true) {
        let model = make()
        let inputShape = model.batchFirst ? [batch, steps, model.inputSize] : [steps, batch, model.inputSize]
        var x = uniform(inputShape, seed: 700)
        x.requiresGrad = true
        var named = [("input", x)]
        var state: RecurrentState<Double>? = nil
        if withState {
            let stateShape = [model.numLayers, batch, model.hiddenSize]
            var h0 = uniform(stateShape, seed: 701, -0.8, 0.8)
            h0.requiresGrad = true
            named.append(("h0", h0))
            var c0: Tensor<Double>? = nil
            if model.cell.hasCellState {
                var c = uniform(stateShape, seed: 702, -0.8, 0.8)
                c.requiresGrad = true
                named.append(("c0", c))
                c0 = c
            }
            state = RecurrentState(hidden: h0, cell: c0)
        }
        named += model.namedParameters.map { ($0.0, $0.1.value) }
        return checkGradients(named: named) {
            let (output, final) = model.run(x, initialState: state)
            var loss = projected(output) + projected(final.hidden) * 0.7
            if let c = final.cell { loss = loss + projected(c) * 1.3 }
            return loss
        }
    }
}

/// The entries appended to `GradientRegistry.all`: every cell over several steps, two layers,
/// with non-zero initial states; batch-first, no bias, zero initial states, one step.
let recurrentGradientCases: [GradientCase] = [
    recurrentCase("RNN tanh, 2 layers, 4 steps, initial state") {
        RNN<Double>(3, 4, numLayers: 2, generator: RandomGenerator(seed: 710))
    },
    recurrentCase("RNN relu, 2 layers, 4 steps, initial state") {
        RNN<Double>(3, 4, numLayers: 2, nonlinearity: .relu, generator: RandomGenerator(seed: 711))
    },
    recurrentCase("LSTM, 2 layers, 4 steps, initial state") {
        LSTM<Double>(3, 4, numLayers: 2, generator: RandomGenerator(seed: 712))
    },
    recurrentCase("GRU, 2 layers, 4 steps, initial state") {
        GRU<Double>(3, 4, numLayers: 2, generator: RandomGenerator(seed: 713))
    },
    recurrentCase("LSTM batch-first, forget-gate bias 1, orthogonal") {
        LSTM<Double>(3, 4, numLayers: 2, batchFirst: true, forgetGateBias: 1, orthogonalRecurrentWeights: true,
                     generator: RandomGenerator(seed: 714))
    },
    recurrentCase("GRU batch-first without bias", steps: 5, batch: 3) {
        GRU<Double>(2, 3, numLayers: 2, bias: false, batchFirst: true, generator: RandomGenerator(seed: 715))
    },
    recurrentCase("RNN tanh without bias, 1 layer, zero initial state", steps: 6, withState: false) {
        RNN<Double>(3, 4, bias: false, generator: RandomGenerator(seed: 716))
    },
    recurrentCase("LSTM, 1 layer, zero initial state", withState: false) {
        LSTM<Double>(3, 4, generator: RandomGenerator(seed: 717))
    },
    recurrentCase("GRU, 1 step, initial state", steps: 1) {
        GRU<Double>(3, 4, generator: RandomGenerator(seed: 718))
    },
    moduleCase("Sequential LSTM, LastStep, Linear", input: uniform([3, 5, 2], seed: 720)) {
        let g = RandomGenerator(seed: 721)
        return Sequential(LSTM<Double>(2, 4, batchFirst: true, generator: g), LastStep(), Linear(4, 2, generator: g))
    },
    moduleCase("LastStep, time-major", input: uniform([4, 3, 2], seed: 722)) { LastStep<Double>(batchFirst: false) },
]

// MARK: - Helpers

/// `[T, B, F] ↔ [B, T, F]`.
private func swapped(_ x: Tensor<Double>) -> Tensor<Double> { x.permuted([1, 0, 2]) }

/// Every parameter's gradient, by name, as Doubles (empty for none).
private func gradients<M: Module>(_ module: M) -> [String: [Double]] {
    var out: [String: [Double]] = [:]
    for (name, p) in module.namedParameters { out[name] = p.grad?.scalars.map { Double($0) } ?? [] }
    return out
}

/// The largest |a − b| over two lists of equal length (infinity otherwise).
private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
}

// MARK: - Tests

@Suite struct RecurrentTests {
    @Test func namesShapesAndDefaultInitialization() {
        let lstm = LSTM<Float>(3, 5, numLayers: 2, generator: RandomGenerator(seed: 1))
        #expect(lstm.namedParameters.map(\.0) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                  "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"])
        #expect(lstm.namedParameters.map(\.1.shape) == [[20, 3], [20, 5], [20], [20], [20, 5], [20, 5], [20], [20]])
        let bound = 1 / Float(5).squareRoot()
        for (name, p) in lstm.namedParameters {
            let values = p.value.scalars
            #expect(values.allSatisfy { Swift.abs($0) <= bound }, "\(name) outside ±1/√H")
            // U(−b, b) has standard deviation b/√3; 20+ values land well away from 0 on average.
            let rms = (values.map { $0 * $0 }.reduce(0, +) / Float(values.count)).squareRoot()
            #expect(rms > 0.3 * bound && rms < 0.8 * bound, "\(name) rms \(rms)")
        }
        #expect(lstm.summary == "LSTM(3, 5, num_layers=2)")

        let gru = GRU<Double>(4, 2, bias: false, batchFirst: true, generator: RandomGenerator(seed: 2))
        #expect(gru.namedParameters.map(\.0) == ["weight_ih_l0", "weight_hh_l0"])
        #expect(gru.namedParameters.map(\.1.shape) == [[6, 4], [6, 2]])
        #expect(gru.summary == "GRU(4, 2, bias=False, batch_first=True)")

        let rnn = RNN<Float>(2, 7, nonlinearity: .relu, generator: RandomGenerator(seed: 3))
        #expect(rnn.cell == .rnnReLU && rnn.nonlinearity == .relu)
        #expect(rnn.namedParameters.map(\.1.shape) == [[7, 2], [7, 7], [7], [7]])
        #expect(rnn.summary == "RNN(2, 7)")
        #expect(rnn.parameterCount == 14 + 49 + 14)
    }

    @Test func forgetGateBiasAndOrthogonalRecurrentWeights() {
        let h = 6
        let lstm = LSTM<Double>(3, h, numLayers: 2, forgetGateBias: 1, orthogonalRecurrentWeights: true,
                                generator: RandomGenerator(seed: 4))
        for layer in lstm.layers {
            let bih = layer.biasIH!.value.scalars, bhh = layer.biasHH!.value.scalars
            #expect(bih[h..<(2 * h)].allSatisfy { $0 == 1 } && bhh[h..<(2 * h)].allSatisfy { $0 == 0 })
            // The other gates keep PyTorch's draw.
            #expect(bih[0..<h].allSatisfy { Swift.abs($0) <= 1 / Double(h).squareRoot() && $0 != 1 })
            // Each H × H gate block of W_hh is orthogonal: BᵀB = I.
            let w = layer.weightHH.value
            for gate in 0..<4 {
                let block = w.slice(axis: 0, (gate * h)..<((gate + 1) * h))
                let product = matmul(block.transposed(), block)
                let identity = Tensor<Double>.eye(h)
                #expect(mismatch(product, identity, rtol: 0, atol: 1e-12) == nil, "gate \(gate) block is not orthogonal")
            }
        }
        // Without the options, the forget gate's biases are ordinary draws.
        let plain = LSTM<Double>(3, h, generator: RandomGenerator(seed: 4))
        #expect(!plain.layers[0].biasIH!.value.scalars[h..<(2 * h)].contains(1))
    }

    @Test func tanhRNNByHand() {
        // One unit: h_t = tanh(0.5·x_t + 0.1 + 0.2 − 0.8·h_{t−1}), h_0 = 0.3, x = (1, −2, 0.5).
        let rnn = RNN<Double>(1, 1, generator: RandomGenerator(seed: 5))
        let l = rnn.layers[0]
        l.weightIH.assign(Tensor(shape: [1, 1], scalars: [0.5]))
        l.weightHH.assign(Tensor(shape: [1, 1], scalars: [-0.8]))
        l.biasIH!.assign(Tensor([0.1]))
        l.biasHH!.assign(Tensor([0.2]))
        let xs = [1.0, -2, 0.5]
        var h = [0.3]
        for x in xs { h.append(Foundation.tanh(0.5 * x + 0.3 - 0.8 * h.last!)) }
        var h0 = Tensor<Double>(shape: [1, 1, 1], scalars: [0.3])
        h0.requiresGrad = true
        let (output, final) = rnn.run(Tensor(shape: [3, 1, 1], scalars: xs), initialState: RecurrentState(hidden: h0))
        #expect(output.shape == [3, 1, 1] && final.hidden.shape == [1, 1, 1])
        for t in 0..<3 { #expect(isClose(output.scalars[t], h[t + 1], rtol: 1e-15, atol: 1e-15), "h_\(t + 1)") }
        #expect(final.hidden.scalar == output.scalars[2])
        // ∂h_3/∂h_0 = Π_t (1 − h_t²)·(−0.8); ∂h_3/∂w_hh = Σ_t (∂h_3/∂h_t)·(1 − h_t²)·h_{t−1}.
        final.hidden.sum().backward()
        let d = (1...3).map { 1 - h[$0] * h[$0] }
        #expect(isClose(h0.grad!.scalar, d[0] * d[1] * d[2] * -0.512, rtol: 1e-13))
        let dWhh = d[2] * h[2] + d[2] * -0.8 * d[1] * h[1] + d[2] * -0.8 * d[1] * -0.8 * d[0] * h[0]
        #expect(isClose(l.weightHH.grad!.scalar, dWhh, rtol: 1e-13))
        let dBias = d[2] + d[2] * -0.8 * d[1] + d[2] * -0.8 * d[1] * -0.8 * d[0]
        #expect(isClose(l.biasIH!.grad!.scalar, dBias, rtol: 1e-13) && l.biasHH!.grad!.scalar == l.biasIH!.grad!.scalar)
    }

    @Test(arguments: ["rnn", "lstm", "gru"])
    func batchFirstIsTheTransposeOfTimeMajor(_ kind: String) {
        func make(_ batchFirst: Bool) -> any RecurrentModule<Double> {
            let g = RandomGenerator(seed: 6)
            switch kind {
            case "lstm": return LSTM<Double>(3, 4, numLayers: 2, batchFirst: batchFirst, generator: g)
            case "gru": return GRU<Double>(3, 4, numLayers: 2, batchFirst: batchFirst, generator: g)
            default: return RNN<Double>(3, 4, numLayers: 2, batchFirst: batchFirst, generator: g)
            }
        }
        let timeMajor = make(false), batchFirst = make(true)
        var xt = uniform([5, 2, 3], seed: 7)
        xt.requiresGrad = true
        var xb = swapped(xt.detached())
        xb.requiresGrad = true
        let weights = uniform([5, 2, 4], seed: 8)
        let (yt, st) = timeMajor.run(xt, initialState: nil)
        let (yb, sb) = batchFirst.run(xb, initialState: nil)
        #expect(yt.shape == [5, 2, 4] && yb.shape == [2, 5, 4])
        #expect(mismatch(swapped(yb.detached()), yt.detached(), rtol: 0, atol: 1e-15) == nil)
        #expect(mismatch(sb.hidden.detached(), st.hidden.detached(), rtol: 0, atol: 1e-15) == nil)
        (yt * weights).sum().backward()
        (yb * swapped(weights)).sum().backward()
        #expect(mismatch(swapped(xb.grad!), xt.grad!, rtol: 1e-12, atol: 1e-14) == nil)
        let gt = gradients(timeMajor), gb = gradients(batchFirst)
        for (name, g) in gt { #expect(maxDifference(g, gb[name]!) < 1e-13, "\(kind) \(name)") }
    }

    @Test func finalStateIsTheLastStepOfEachLayer() {
        let lstm = LSTM<Double>(2, 3, numLayers: 3, batchFirst: true, generator: RandomGenerator(seed: 9))
        let x = uniform([4, 6, 2], seed: 10)
        let (output, final) = lstm.run(x)
        #expect(final.hidden.shape == [3, 4, 3] && final.cell?.shape == [3, 4, 3])
        // The last layer's h_n is the output's last step.
        let last = output.slice(axis: 1, 5..<6).reshaped([4, 3])
        #expect(final.hidden[2].scalars == last.scalars)
        // Continuing from the final state equals running the whole sequence at once.
        let (first, middle) = lstm.run(x.slice(axis: 1, 0..<4))
        let (second, _) = lstm.run(x.slice(axis: 1, 4..<6), initialState: middle)
        #expect(mismatch(Tensor.concatenate([first, second], axis: 1).detached(), output.detached(), rtol: 0, atol: 1e-15) == nil)
        #expect(lstm.forward(x).scalars == output.scalars)
    }

    @Test func truncatedBPTTWithTheWholeSequenceIsFullBPTT() {
        let model = GRU<Double>(2, 3, generator: RandomGenerator(seed: 11))
        var x = uniform([8, 2, 2], seed: 12)
        x.requiresGrad = true
        let weights = uniform([8, 2, 3], seed: 13)
        (model(x) * weights).sum().backward()
        let full = gradients(model), fullInput = x.grad!.scalars
        model.zeroGrad()
        x.zeroGrad()
        var chunks = 0
        model.runTruncated(x, chunkLength: 8) { chunk in
            chunks += 1
            #expect(chunk.timeSteps == 0..<8)
            (chunk.output * weights).sum().backward()
        }
        #expect(chunks == 1)
        for (name, g) in gradients(model) { #expect(maxDifference(g, full[name]!) == 0, "\(name)") }
        #expect(x.grad!.scalars == fullInput)
        // A longer chunk than the sequence is the same.
        model.zeroGrad()
        model.runTruncated(x, chunkLength: 50) { (($0.output * weights).sum()).backward() }
        for (name, g) in gradients(model) { #expect(maxDifference(g, full[name]!) == 0, "\(name)") }
    }

    @Test func truncatedBPTTStopsGradientsAtChunkBoundaries() {
        let model = LSTM<Double>(2, 3, generator: RandomGenerator(seed: 14))
        let steps = 8, k = 4
        var x = uniform([steps, 2, 2], seed: 15)
        x.requiresGrad = true
        // A loss on the last chunk's steps only.
        let weights = uniform([k, 2, 3], seed: 16)
        let (fullOutput, fullFinal) = model.run(x)
        (fullOutput.slice(axis: 0, k..<steps) * weights).sum().backward()
        let full = gradients(model), fullInput = x.grad!
        model.zeroGrad()
        x.zeroGrad()

        var ranges: [Range<Int>] = []
        let final = model.runTruncated(x, chunkLength: k) { chunk in
            ranges.append(chunk.timeSteps)
            if chunk.index == 1 { (chunk.output * weights).sum().backward() }
        }
        #expect(ranges == [0..<4, 4..<8])
        // Values are those of the full run; the state is carried, detached.
        #expect(mismatch(final.hidden, fullFinal.hidden.detached(), rtol: 0, atol: 1e-15) == nil)
        #expect(!final.hidden.requiresGrad)
        let truncatedInput = x.grad!
        // No gradient crosses the boundary: the first chunk's inputs get none...
        #expect(truncatedInput.slice(axis: 0, 0..<k).scalars.allSatisfy { $0 == 0 })
        #expect(fullInput.slice(axis: 0, 0..<k).scalars.contains { Swift.abs($0) > 1e-6 })
        // ...the second chunk's inputs get what full BPTT gives them (no path leaves the chunk)...
        #expect(mismatch(truncatedInput.slice(axis: 0, k..<steps), fullInput.slice(axis: 0, k..<steps), rtol: 1e-12, atol: 1e-14) == nil)
        // ...and the weights get the gradient of the second chunk run alone from the carried state.
        let truncated = gradients(model)
        model.zeroGrad()
        let (_, middle) = withoutGradient { model.run(x.detached().slice(axis: 0, 0..<k)) }
        let (second, _) = model.run(x.detached().slice(axis: 0, k..<steps), initialState: middle)
        (second * weights).sum().backward()
        let alone = gradients(model)
        for (name, g) in truncated {
            #expect(maxDifference(g, alone[name]!) < 1e-14, "\(name)")
            #expect(maxDifference(g, full[name]!) > 1e-6, "\(name) did not change with truncation")
        }
    }

    @Test func truncatedBPTTChunksTheBatchFirstTimeAxis() {
        let model = RNN<Float>(2, 3, batchFirst: true, generator: RandomGenerator(seed: 17))
        let x = Tensor<Float>.uniform([2, 10, 2], low: -1, high: 1, generator: RandomGenerator(seed: 18))
        var shapes: [[Int]] = []
        var ranges: [Range<Int>] = []
        let final = model.runTruncated(x, chunkLength: 4) { chunk in
            shapes.append(chunk.output.shape)
            ranges.append(chunk.timeSteps)
            #expect(chunk.input.shape == [2, chunk.timeSteps.count, 2])
        }
        #expect(shapes == [[2, 4, 3], [2, 4, 3], [2, 2, 3]])
        #expect(ranges == [0..<4, 4..<8, 8..<10])
        #expect(mismatch(final.hidden, model.run(x).finalState.hidden, rtol: 1e-6, atol: 1e-7) == nil)
    }

    @Test func hiddenGradientNormsDecayGeometricallyWithSmallRecurrentWeights() {
        let steps = 12, batch = 3, hidden = 4
        let rnn = RNN<Double>(2, hidden, generator: RandomGenerator(seed: 19))
        // |w| ≤ 0.15 in a 4 × 4 matrix: ‖W_hh‖₂ ≤ 0.6, and |tanh'| ≤ 1.
        rnn.layers[0].weightHH.assign(uniform([hidden, hidden], seed: 20, -0.15, 0.15))
        rnn.recordsHiddenGradients = true
        #expect(rnn.hiddenGradientNorms.isEmpty)
        let x = uniform([steps, batch, 2], seed: 21)
        let output = rnn(x)
        output.retainGrad()
        // A loss on the last step only.
        let weights = uniform([batch, hidden], seed: 22)
        let loss = (LastStep<Double>(batchFirst: false)(output) * weights).sum()
        loss.backward()
        let norms = rnn.hiddenGradientNorms
        #expect(norms.count == steps)
        // The last entry is ‖∂L/∂h_T‖ = ‖weights‖, and the output's own gradient says the same.
        let direct = weights.scalars.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(isClose(norms[steps - 1], direct, rtol: 1e-14))
        let retained = output.grad![steps - 1].scalars.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(isClose(norms[steps - 1], retained, rtol: 1e-14))
        for t in 0..<(steps - 1) {
            let ratio = norms[t] / norms[t + 1]
            #expect(ratio > 0 && ratio < 0.6, "step \(t): ratio \(ratio)")
        }
        #expect(norms[0] < norms[steps - 1] * 1e-3)
        // Overwritten by the next backward pass; not recorded when switched off.
        (rnn(x.slice(axis: 0, 0..<5)).sum()).backward()
        #expect(rnn.hiddenGradientNorms.count == 5)
        rnn.recordsHiddenGradients = false
        (rnn(x).sum()).backward()
        #expect(rnn.hiddenGradientNorms.count == 5)
    }

    @Test func hiddenGradientNormsAreTheLastLayersHiddenStateGradients() {
        // Two layers: the norms are those of ∂L/∂h_t of the top layer, which for a loss on the
        // output alone at the last step and on h_n is Σ of both at t = T − 1.
        let lstm = LSTM<Double>(2, 3, numLayers: 2, batchFirst: true, generator: RandomGenerator(seed: 23))
        lstm.recordsHiddenGradients = true
        let x = uniform([2, 5, 2], seed: 24)
        let (output, final) = lstm.run(x)
        let outWeights = uniform([2, 5, 3], seed: 25), hiddenWeights = uniform([2, 2, 3], seed: 26)
        ((output * outWeights).sum() + (final.hidden * hiddenWeights).sum()).backward()
        let norms = lstm.hiddenGradientNorms
        #expect(norms.count == 5)
        let lastOut = outWeights.slice(axis: 1, 4..<5).reshaped([2, 3]), lastHidden = hiddenWeights[1]
        let direct = (lastOut + lastHidden).scalars.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(isClose(norms[4], direct, rtol: 1e-13))
        #expect(norms.allSatisfy { $0 > 0 && $0.isFinite })
    }

    @Test func sequentialWithLastStepAndLinear() {
        let g = RandomGenerator(seed: 27)
        let model = Sequential<Float>(LSTM(3, 4, batchFirst: true, generator: g), LastStep(), Linear(4, 1, generator: g))
        #expect(model.namedParameters.map(\.0) == ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0",
                                                   "2.weight", "2.bias"])
        let x = Tensor<Float>.uniform([5, 6, 3], low: -1, high: 1, generator: g)
        let y = model(x)
        #expect(y.shape == [5, 1])
        meanSquaredError(predictions: y, targets: .zeros([5, 1])).backward()
        for (name, p) in model.namedParameters {
            #expect(p.grad != nil && p.grad!.scalars.contains { $0 != 0 }, "\(name) has no gradient")
        }
        #expect(model.summary.contains("(0): LSTM(3, 4, batch_first=True)") && model.summary.contains("(1): LastStep(batch_first=True)"))
    }

    @Test func outputGradientHookSeesTheOutputGradient() {
        let gru = GRU<Double>(2, 3, generator: RandomGenerator(seed: 28))
        var seen: [Int] = []
        gru.hooks.addOutputGradientHook { _, g in seen = g.shape }
        (gru(uniform([4, 2, 2], seed: 29)).sum()).backward()
        #expect(seen == [4, 2, 3])
    }

    @Test func checkpointRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-rnn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("gru.safetensors")
        let g = RandomGenerator(seed: 30)
        let saved = Sequential<Float>(GRU(3, 4, numLayers: 2, batchFirst: true, generator: g), LastStep(), Linear(4, 2, generator: g))
        try saveCheckpoint(saved, to: url)
        let h = RandomGenerator(seed: 31)
        let loaded = Sequential<Float>(GRU(3, 4, numLayers: 2, batchFirst: true, generator: h), LastStep(), Linear(4, 2, generator: h))
        let keys = try loadCheckpoint(into: loaded, from: url)
        #expect(keys.missingKeys.isEmpty && keys.unexpectedKeys.isEmpty)
        for ((name, a), (_, b)) in zip(saved.namedParameters, loaded.namedParameters) {
            #expect(a.value.scalars == b.value.scalars, "\(name)")
        }
        let x = Tensor<Float>.uniform([2, 5, 3], low: -1, high: 1, generator: g)
        #expect(saved(x).scalars == loaded(x).scalars)
    }

    @Test func lstmLearnsToRememberTheFirstInput() throws {
        // Predict the first input of a 6-step sequence from the last hidden state.
        let g = RandomGenerator(seed: 32)
        let model = Sequential<Float>(LSTM(1, 8, batchFirst: true, forgetGateBias: 1, generator: g), LastStep(), Linear(8, 1, generator: g))
        let x = Tensor<Float>.uniform([32, 6, 1], low: -1, high: 1, generator: g)
        let target = x.slice(axis: 1, 0..<1).reshaped([32, 1])
        let optimizer = try Adam(parameters: model.parameters, learningRate: 0.03)
        var losses: [Float] = []
        for _ in 0..<150 {
            optimizer.zeroGrad()
            let loss = meanSquaredError(predictions: model(x), targets: target)
            loss.backward()
            optimizer.step()
            losses.append(loss.scalar)
        }
        // The constant prediction's MSE is the variance of U(−1, 1), 1/3.
        #expect(losses[0] > 0.2)
        #expect(losses.last! < 0.1 * losses[0], "loss \(losses[0]) → \(losses.last!)")
    }
}
