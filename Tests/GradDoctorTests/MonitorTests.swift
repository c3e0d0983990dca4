import Foundation
import Testing
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// Adds `NaN` to the first element of its input: a forward pass that goes non-finite here.
final class InjectNaN: Module {
    var isTraining = true
    let hooks = ModuleHooks<Float>()
    func forward(_ input: Tensor<Float>) -> Tensor<Float> {
        var poison = [Float](repeating: 0, count: input.shape.last!)
        poison[0] = .nan
        return input + Tensor(poison)
    }
}

/// The identity forward; its backward multiplies the gradient by 1e30 twice, overflowing Float.
final class GradientOverflow: Module {
    var isTraining = true
    let hooks = ModuleHooks<Float>()
    func forward(_ input: Tensor<Float>) -> Tensor<Float> {
        var out = input.detached()
        if Tensor.needsRecording([input]) {
            out.record("overflow", inputs: [input]) { g in [g * 1e30 * 1e30] }
        }
        return out
    }
}

/// Tests of the monitor's statistics, histograms, decimation and the non-finite guard.
@Suite struct MonitorTests {
    static let x = Tensor<Float>.uniform([16, 4], low: -1, high: 1, generator: RandomGenerator(seed: 1))
    static let y = Tensor<Float>.uniform([16, 1], low: -1, high: 1, generator: RandomGenerator(seed: 2))

    /// `Linear(4, 8), Tanh, Linear(8, 8), Tanh, Linear(8, 8), Tanh, Linear(8, 1)`, with `extra`
    /// inserted at `position` when given.
    static func makeNet(inserting extra: (any Module<Float>)? = nil, at position: Int = 0) -> Sequential<Float> {
        let g = RandomGenerator(seed: 3)
        var layers: [any Module<Float>] = [Linear<Float>(4, 8, generator: g), Tanh(), Linear<Float>(8, 8, generator: g), Tanh(),
                                           Linear<Float>(8, 8, generator: g), Tanh(), Linear<Float>(8, 1, generator: g)]
        if let extra { layers.insert(extra, at: position) }
        return Sequential(layers)
    }

    /// One monitored SGD step; returns what `inspectGradients` said (false: skipped).
    @discardableResult
    static func step(_ model: Sequential<Float>, _ monitor: Monitor<Float>, _ optimizer: any Optimizer<Float>,
                     x: Tensor<Float> = x) throws -> Bool {
        monitor.beginStep()
        optimizer.zeroGrad()
        let loss = meanSquaredError(predictions: model(x), targets: y)
        loss.backward()
        guard try monitor.inspectGradients(loss: loss) else { return false }
        monitor.beforeUpdate()
        optimizer.step()
        monitor.afterUpdate()
        return true
    }

    @Test func parameterStatisticsMatchTheGradients() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.1)
        monitor.beginStep()
        let loss = meanSquaredError(predictions: model(Self.x), targets: Self.y)
        loss.backward()
        try monitor.inspectGradients(loss: loss)
        let stats = try #require(monitor.record.steps.first)
        #expect(stats.parameters.map(\.name) == model.namedParameters.map(\.0))
        #expect(stats.loss == Double(loss.scalar))
        var total = 0.0
        for (entry, (_, parameter)) in zip(stats.parameters, model.namedParameters) {
            let g = try #require(parameter.grad).scalars.map(Double.init)
            let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            total += norm * norm
            #expect(Swift.abs(entry.gradientNorm - norm) <= 1e-6 * norm)
            #expect(Swift.abs(entry.gradientRMS - norm / Double(g.count).squareRoot()) <= 1e-6 * norm)
            #expect(entry.gradientMaxAbs == g.map(Swift.abs).max())
            // Float statistics are summed in Float blocks of 1024, then in Double (`finiteMomentsFloat`).
            let mean = g.reduce(0, +) / Double(g.count)
            #expect(Swift.abs(entry.gradientMean - mean) <= 1e-6 * (g.map(Swift.abs).max() ?? 1))
            #expect(entry.nonfiniteCount == 0)
            // ‖w‖: Float lanes over chunks of 128, then Double (`Parameter.squaredValueNorm`).
            let w = parameter.value.scalars.map(Double.init)
            #expect(Swift.abs(entry.weightNorm - w.reduce(0) { $0 + $1 * $1 }.squareRoot()) <= 1e-6 * entry.weightNorm)
        }
        #expect(Swift.abs(stats.globalGradientNorm - total.squareRoot()) <= 1e-6 * total.squareRoot())
        // Layers in forward order, with the gradient arriving at each output.
        #expect(stats.layers.map(\.name) == (0..<7).map(String.init))
        #expect(stats.layers.map(\.kind) == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh", "Linear"])
        #expect(stats.layers.allSatisfy { ($0.outputGradientNorm ?? 0) > 0 })
        // The update ratio of plain SGD is lr·‖g‖/‖w‖.
        monitor.beforeUpdate()
        sgd.step()
        monitor.afterUpdate()
        let after = try #require(monitor.record.steps.last)
        for entry in after.parameters {
            let expected = 0.1 * entry.gradientNorm / entry.weightNorm
            let ratio = try #require(entry.updateRatio)
            #expect(Swift.abs(ratio - expected) <= 1e-5 * expected, "\(entry.name): \(ratio) vs \(expected)")
        }
    }

    /// Gradients and updates near 1e25 are finite, but their squares overflow Float: the
    /// statistics must still come out right (the blocks are summed again in Double).
    @Test func hugeFiniteGradientsKeepFiniteStatistics() throws {
        let model = Linear<Float>(16, 1, bias: false, generator: RandomGenerator(seed: 6))
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 1))
        let sgd = try SGD(parameters: model.parameters, learningRate: 1)
        monitor.beginStep()
        let loss = model(Tensor(shape: [1, 16], repeating: 1e25)).sum()
        loss.backward()
        try monitor.inspectGradients(loss: loss)
        monitor.beforeUpdate(); sgd.step(); monitor.afterUpdate()
        let stats = try #require(monitor.record.steps.first?.parameters.first)
        #expect(Swift.abs(stats.gradientNorm / 4e25 - 1) < 1e-6, "\(stats.gradientNorm)")
        #expect(stats.gradientMaxAbs == Double(Float(1e25)))
        let ratio = try #require(stats.updateRatio)
        #expect(Swift.abs(ratio / (4e25 / stats.weightNorm) - 1) < 1e-3, "\(ratio)")
        #expect(monitor.record.histograms.first?.logCounts.last == 16)
    }

    @Test func saturationAndDeadUnits() throws {
        let g = RandomGenerator(seed: 4)
        let big = Linear<Float>(4, 6, generator: g)
        big.weight.assign(big.weight.value * 1000)
        let dead = Linear<Float>(4, 5, generator: g)
        dead.bias!.assign(Tensor(shape: [5], repeating: -100))
        let saturated = Sequential<Float>(big, Sigmoid())
        let tanhNet = Sequential<Float>(Linear<Float>(4, 6, generator: g), Tanh())
        let reluNet = Sequential<Float>(dead, ReLU())
        func lastLayer(_ model: Sequential<Float>) throws -> LayerStatistics {
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
            monitor.beginStep()
            let loss = model(Self.x).sum()
            loss.backward()
            try monitor.inspectGradients(loss: loss)
            return try #require(monitor.record.steps.first?.layers.last)
        }
        let s = try lastLayer(saturated), t = try lastLayer(tanhNet), r = try lastLayer(reluNet)
        #expect(try #require(s.saturationFraction) > 0.9, "\(s)")
        #expect(try #require(t.saturationFraction) < 0.1, "\(t)")
        #expect(r.deadFraction == 1, "\(r)")
        #expect(s.deadFraction == nil && r.saturationFraction == nil)
    }

    @Test func histogramsCountEveryElementInFixedBins() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 3))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        for _ in 0..<7 { try Self.step(model, monitor, sgd) }
        let steps = Set(monitor.record.histograms.map(\.step))
        #expect(steps == [0, 3, 6])
        for h in monitor.record.histograms {
            let count = try #require(model.namedParameters.first { $0.0 == h.name }).1.value.count
            #expect(h.zeroCount + h.logCounts.reduce(0, +) + h.nonfiniteCount == count)
            #expect(h.linearCounts.reduce(0, +) == count - h.nonfiniteCount)
            #expect(h.logCounts.count == GradientHistogram.logBinEdges.count - 1)
        }
        // A known gradient: 0.5 lies in [0.1, 1), the bin of decade −1.
        let single = Linear<Float>(1, 1, bias: false, generator: RandomGenerator(seed: 5))
        let m2 = Monitor(model: single, settings: .init(histogramsEvery: 1))
        m2.beginStep()
        let loss = single(Tensor(shape: [1, 1], scalars: [0.5])).sum()
        loss.backward()
        try m2.inspectGradients(loss: loss)
        let h = try #require(m2.record.histograms.first)
        #expect(h.logCounts[11] == 1 && h.logCounts.reduce(0, +) == 1)
        #expect(h.linearRange == 0.5 && h.linearCounts.last == 1)
    }

    @Test func longRunsStayBounded() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(every: 2, histogramsEvery: 1, capacity: 8, histogramCapacity: 40))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        for _ in 0..<300 { try Self.step(model, monitor, sgd) }
        let recorded = monitor.record.steps.map(\.step)
        #expect(recorded.count < 8 && recorded.count >= 4)
        #expect(recorded.first == 0 && recorded.last! >= 200, "the series spans the run: \(recorded)")
        #expect(recorded == recorded.sorted())
        #expect(monitor.record.stride > 1)
        #expect(monitor.record.histograms.count < 40)
        #expect(Set(monitor.record.histograms.map(\.step)).max()! >= 200)
    }

    @Test func clippingIsRecorded() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        monitor.beginStep()
        let loss = meanSquaredError(predictions: model(Self.x), targets: Self.y)
        loss.backward()
        try monitor.inspectGradients(loss: loss)
        let norm = try clipGradNorm(model.parameters, maxNorm: 1e-3)
        monitor.noteClipping(totalNorm: norm, maxNorm: 1e-3)
        monitor.beforeUpdate(); sgd.step(); monitor.afterUpdate()
        let stats = try #require(monitor.record.steps.first)
        #expect(Swift.abs(stats.globalGradientNorm - Double(norm)) <= 1e-5 * stats.globalGradientNorm)
        #expect(stats.clippedGradientNorm.map { Swift.abs($0 - 1e-3) < 1e-9 } == true)
    }

    @Test func recordIsJSON() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 2))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        for _ in 0..<4 { try Self.step(model, monitor, sgd) }
        let data = try JSONEncoder().encode(monitor.record)
        let decoded = try JSONDecoder().decode(MonitorRecord.self, from: data)
        #expect(decoded == monitor.record)
        #expect(decoded.steps.count == 4 && decoded.histograms.count == 2 * 8)
    }

    // MARK: The non-finite guard

    @Test(arguments: [0, 2, 4, 6])
    func forwardNaNIsTracedToItsLayer(position: Int) throws {
        let model = Self.makeNet(inserting: InjectNaN(), at: position)
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0, nonfinite: .raise))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        let error = #expect(throws: NonfiniteError.self) { try Self.step(model, monitor, sgd) }
        #expect(error?.origin.phase == .forward)
        #expect(error?.origin.location == String(position))
        #expect(error?.origin.kind == "InjectNaN")
        #expect(error?.origin.inputMaxAbs.map { $0.isFinite } == true)
        #expect(monitor.record.firstNonfinite == error?.origin)
    }

    @Test(arguments: [1, 3, 4, 6])
    func backwardOverflowIsTracedToItsLayer(position: Int) throws {
        let model = Self.makeNet(inserting: GradientOverflow(), at: position)
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0, nonfinite: .raise))
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        let error = #expect(throws: NonfiniteError.self) { try Self.step(model, monitor, sgd) }
        #expect(error?.origin.phase == .backward)
        #expect(error?.origin.location == String(position), "\(String(describing: error))")
        #expect(error?.origin.kind == "GradientOverflow")
    }

    @Test func nonfiniteLossTermIsNamed() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        monitor.beginStep()
        let data = meanSquaredError(predictions: model(Self.x), targets: Self.y)
        let penalty = (model.parameters[0].value * Float.infinity).sum()
        let loss = data + penalty
        loss.backward()
        let error = #expect(throws: NonfiniteError.self) {
            try monitor.inspectGradients(loss: loss, lossTerms: [("mse", data), ("penalty", penalty)])
        }
        #expect(error?.origin.phase == .loss)
        #expect(error?.origin.location == "penalty")
    }

    @Test func skipStepLeavesParametersAndOptimizerStateUntouched() throws {
        let poisoned = Tensor<Float>(shape: Self.x.shape, scalars: [.nan] + Self.x.scalars.dropFirst())
        func run(withBadStep: Bool) throws -> ([[Float]], Monitor<Float>) {
            let model = Self.makeNet()
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0, nonfinite: .skipStep))
            let adam = try Adam(parameters: model.parameters, learningRate: 0.01)
            try Self.step(model, monitor, adam)
            if withBadStep {
                let before = model.parameters.map { $0.value.scalars }
                let taken = try Self.step(model, monitor, adam, x: poisoned)
                #expect(!taken)
                #expect(model.parameters.map { $0.value.scalars } == before, "parameters changed in a skipped step")
            }
            try Self.step(model, monitor, adam)
            return (model.parameters.map { $0.value.scalars }, monitor)
        }
        let (with, monitor) = try run(withBadStep: true)
        let (without, _) = try run(withBadStep: false)
        // Adam's moments and step count did not see the skipped step either.
        #expect(with == without)
        #expect(monitor.record.skippedSteps == 1)
        #expect(monitor.record.steps.map(\.skipped) == [false, true, false])
        #expect(monitor.record.firstNonfinite?.location == "input")
    }

    @Test func warnModeGoesOnAndOffModeDoesNotLook() throws {
        for mode in [NonfiniteMode.warn, .off] {
            let model = Self.makeNet(inserting: InjectNaN(), at: 2)
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0, nonfinite: mode))
            let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
            #expect(try Self.step(model, monitor, sgd))
            #expect((monitor.record.firstNonfinite != nil) == (mode == .warn))
        }
    }

    @Test func detachRemovesTheHooks() throws {
        let model = Self.makeNet()
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        monitor.detach()
        #expect(model.layers.allSatisfy { $0.hooks.isEmpty })
    }
}
