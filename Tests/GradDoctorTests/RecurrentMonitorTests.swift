import Foundation
import Testing
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradTensor

// The monitor on recurrent networks: at each recorded step it stores ‖∂L/∂h_t‖ per time step of
// every RNN/LSTM/GRU leaf, the same numbers the module computed in its own backward pass, only
// at recorded steps, and for each chunk of truncated BPTT.

/// Small recurrent models on the adding problem, trained with the monitor.
enum RecurrentFixture {
    /// The recurrent cell of a fixture model.
    enum Cell: String, CaseIterable, Sendable {
        case tanh, relu, lstm, gru
    }

    /// `Sequential(cell(2, hidden, batchFirst), LastStep(), Linear(hidden, 1))`; with
    /// `recurrentGain`, `weight_hh_l0` is an orthogonal matrix times the gain (spectral radius
    /// = gain).
    static func model(_ cell: Cell, hidden: Int = 16, recurrentGain: Double? = nil, seed: UInt64 = 7)
        -> (model: Sequential<Float>, recurrent: any RecurrentModule<Float>) {
        let g = RandomGenerator(seed: seed)
        let recurrent: any RecurrentModule<Float> = switch cell {
        case .tanh: RNN<Float>(2, hidden, nonlinearity: .tanh, batchFirst: true, generator: g)
        case .relu: RNN<Float>(2, hidden, nonlinearity: .relu, batchFirst: true, generator: g)
        case .lstm: LSTM<Float>(2, hidden, batchFirst: true, generator: g)
        case .gru: GRU<Float>(2, hidden, batchFirst: true, generator: g)
        }
        if let gain = recurrentGain {
            let weight = recurrent.layers[0].weightHH
            let blocks = weight.shape[0] / hidden
            var parts: [Tensor<Float>] = []
            for _ in 0..<blocks {
                parts.append(try! Init.orthogonal(shape: [hidden, hidden], gain: gain, generator: g))
            }
            weight.assign(Tensor.concatenate(parts, axis: 0))
        }
        let model = Sequential<Float>(recurrent, LastStep<Float>(batchFirst: true), Linear<Float>(hidden, 1, generator: g))
        return (model, recurrent)
    }

    /// Trains `model` with SGD on the adding problem (`count` examples of `length` steps, in
    /// batches of `batch`) for `steps` steps under a monitor; clips at `clip` when given.
    static func train(_ model: Sequential<Float>, steps: Int, length: Int = 50, batch: Int = 16, learningRate: Float = 0.05,
                      clip: Float? = nil, settings: Monitor<Float>.Settings = .init(histogramsEvery: 0, nonfinite: .warn),
                      afterBackward: ((Int) -> Void)? = nil) throws -> MonitorRecord {
        let data = try SyntheticData.adding(count: batch * 4, length: length, seed: 3, as: Float.self)
        let x = data.sequences(channels: 2)
        let monitor = Monitor(model: model, settings: settings)
        let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)
        for step in 0..<steps {
            let start = (step % 4) * batch
            let xb = x.slice(axis: 0, start..<(start + batch))
            let yb = data.targets.slice(axis: 0, start..<(start + batch))
            monitor.beginStep()
            optimizer.zeroGrad()
            let loss = meanSquaredError(predictions: model(xb), targets: yb)
            loss.backward()
            afterBackward?(step)
            guard try monitor.inspectGradients(loss: loss) else { continue }
            if let clip {
                let norm = try clipGradNorm(model.parameters, maxNorm: clip)
                monitor.noteClipping(totalNorm: norm, maxNorm: clip)
            }
            monitor.beforeUpdate()
            optimizer.step()
            monitor.afterUpdate()
        }
        return monitor.record
    }
}

@Suite struct RecurrentMonitorTests {
    /// The monitor stores, at each recorded step, exactly the norms the module computed in its
    /// own backward pass, one per time step; other layers get none.
    @Test(arguments: [RecurrentFixture.Cell.tanh, .lstm, .gru])
    func recordedNormsAreTheModulesOwn(cell: RecurrentFixture.Cell) throws {
        let (model, recurrent) = RecurrentFixture.model(cell)
        var seen: [[Double]] = []
        let record = try RecurrentFixture.train(model, steps: 3, length: 12) { _ in seen.append(recurrent.hiddenGradientNorms) }
        #expect(record.steps.count == 3)
        for (step, norms) in zip(record.steps, seen) {
            let layer = try #require(step.layers.first { $0.name == "0" })
            #expect(layer.kind == (cell == .lstm ? "LSTM" : cell == .gru ? "GRU" : "RNN"))
            #expect(norms.count == 12 && norms.allSatisfy { $0 > 0 && $0.isFinite })
            #expect(layer.hiddenGradientNorms == norms)
            #expect(step.layers.filter { $0.name != "0" }.allSatisfy { $0.hiddenGradientNorms == nil })
        }
        // Only the last step receives the loss's gradient (LastStep): its norm is the head's.
        let last = try #require(record.steps[0].layers.first { $0.name == "0" }?.hiddenGradientNorms?.last)
        let head = try #require(record.steps[0].layers.first { $0.name == "1" }?.outputGradientNorm)
        #expect(abs(last - head) <= 1e-5 * head)
    }

    /// With `every: 2` only even steps record: the module records at those steps only, and the
    /// flag is given back on detach.
    @Test func recordsOnlyAtRecordedSteps() throws {
        let (model, recurrent) = RecurrentFixture.model(.tanh)
        var flags: [Bool] = [], counts: [Int] = []
        let record = try RecurrentFixture.train(model, steps: 4, length: 8,
                                                settings: .init(every: 2, histogramsEvery: 0, nonfinite: .warn)) { _ in
            flags.append(recurrent.recordsHiddenGradients)
            counts.append(recurrent.hiddenGradientNorms.count)
        }
        #expect(record.steps.map(\.step) == [0, 2])
        #expect(flags == [true, false, true, false])
        // Steps 1 and 3 ran without recording: the norms stayed empty after step 0's were read?
        // No: they are the last recorded pass's (step 0's, step 2's) until recording resumes.
        #expect(counts == [8, 8, 8, 8])
        #expect(record.steps.allSatisfy { $0.layers.first { $0.name == "0" }?.hiddenGradientNorms?.count == 8 })
        // The monitor is gone (train returned): the module no longer records.
        #expect(!recurrent.recordsHiddenGradients)
    }

    /// Truncated BPTT: each chunk is one monitored step (`beginStep` before the run and at the
    /// end of each chunk, since the next chunk's forward pass runs before its body), and the
    /// last, shorter chunk records its own length.
    @Test func truncatedChunksRecordTheirOwnLength() throws {
        let g = RandomGenerator(seed: 5)
        let rnn = RNN<Float>(2, 8, batchFirst: true, generator: g)
        let head = Linear<Float>(8, 1, generator: g)
        let model = Sequential<Float>(rnn, LastStep<Float>(batchFirst: true), head)
        let data = try SyntheticData.adding(count: 8, length: 20, seed: 1, as: Float.self)
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        var lengths: [Int] = []
        monitor.beginStep()
        rnn.runTruncated(data.sequences(channels: 2), chunkLength: 8) { chunk in
            let loss = meanSquaredError(predictions: head(LastStep<Float>(batchFirst: true)(chunk.output)), targets: data.targets)
            loss.backward()
            _ = try? monitor.inspectGradients(loss: loss)
            model.zeroGrad()
            lengths.append(rnn.hiddenGradientNorms.count)
            monitor.beginStep()
        }
        #expect(lengths == [8, 8, 4])
        #expect(monitor.record.steps.map { $0.layers.first { $0.name == "0" }?.hiddenGradientNorms?.count } == [8, 8, 4])
    }

    /// Variable sequence lengths and absent series survive the safetensors round trip.
    @Test func hiddenNormsRoundTripThroughSafeTensors() throws {
        let (model, _) = RecurrentFixture.model(.lstm)
        var record = try RecurrentFixture.train(model, steps: 3, length: 10)
        record.steps[1].layers[0].hiddenGradientNorms = [1, .nan, .infinity]
        record.steps[2].layers[0].hiddenGradientNorms = nil
        let file = record.safeTensors()
        #expect(file["layer.hidden_gradient_norms.0"]?.shape == [3, 10])
        #expect(file["layer.hidden_gradient_norms.1"] == nil)
        let back = try MonitorRecord(safeTensors: SafeTensors(data: file.serialized(), file: "r"), path: "r")
        #expect(back.steps[0] == record.steps[0])
        let middle = try #require(back.steps[1].layers[0].hiddenGradientNorms)
        #expect(middle.count == 3 && middle[0] == 1 && middle[1].isNaN && middle[2] == .infinity)
        #expect(back.steps[2].layers[0].hiddenGradientNorms == nil)
        #expect(back.steps[2].layers[1] == record.steps[2].layers[1])
    }

    /// Damaged series columns name the tensor; a record without them (older writers) reads
    /// back without series.
    @Test func damagedSeriesNameTheTensor() throws {
        let (model, _) = RecurrentFixture.model(.tanh)
        let record = try RecurrentFixture.train(model, steps: 2, length: 6)
        func message(_ change: (inout SafeTensors) -> Void) -> String {
            var file = record.safeTensors()
            change(&file)
            do { _ = try MonitorRecord(safeTensors: file, path: "record.safetensors"); return "read" } catch { return "\(error)" }
        }
        #expect(message { $0["layer.hidden_gradient_norms.0"] = nil }.contains("layer.hidden_gradient_norms.0"))
        #expect(message { $0["layer.hidden_gradient_norms.0"] = .float64(Tensor<Double>(shape: [6], repeating: 0)) }
            .contains("expected shape [2, T]"))
        #expect(message { $0["layer.hidden_gradient_lengths.0"] = .int64(shape: [2], values: [6, 7]) }
            .contains("layer.hidden_gradient_lengths.0"))
        #expect(message { $0["layer.hidden_gradient_lengths.0"] = .int64(shape: [1], values: [6]) }.contains("expected 2 elements"))
        var old = record.safeTensors()
        old["layer.hidden_gradient_norms_present"] = nil
        old["layer.hidden_gradient_norms.0"] = nil
        old["layer.hidden_gradient_lengths.0"] = nil
        let back = try MonitorRecord(safeTensors: old, path: "r")
        #expect(back.steps.allSatisfy { $0.layers.allSatisfy { $0.hiddenGradientNorms == nil } })
    }
}
