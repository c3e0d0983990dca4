import Foundation
import Testing
import GradDoctor
import GradNN
import GradOptim
import GradTensor

// The monitor's vector loops against the definitions computed element by element here, in
// Double: histogram bins at and around every decade edge, tails that are not a multiple of the
// vector width, non-finite elements, Double models, the per-layer activation statistics, and
// the weight norms and update ratios against the weights read before and after each step.

/// The histogram of `values` by `GradientHistogram`'s definition, element by element.
private func referenceHistogram(_ values: [Double]) -> (zeros: Int, log: [Int], nonfinite: Int, linear: [Int], range: Double) {
    let edges = GradientHistogram.logBinEdges, bins = GradientHistogram.linearBinCount
    var log = [Int](repeating: 0, count: edges.count - 1), linear = [Int](repeating: 0, count: bins)
    var zeros = 0, nonfinite = 0
    let range = values.filter(\.isFinite).map(abs).max() ?? 0
    for x in values {
        guard x.isFinite else { nonfinite += 1; continue }
        if x == 0 {
            zeros += 1
        } else {
            log[edges[1..<(edges.count - 1)].filter { abs(x) >= $0 }.count] += 1
        }
        let bin = range > 0 ? Int(((x + range) * Double(bins) / (2 * range)).rounded(.down)) : bins / 2
        linear[min(max(bin, 0), bins - 1)] += 1
    }
    return (zeros, log, nonfinite, linear, range)
}

/// The monitor's histogram of the weight gradient of `Linear(n, 1)` under `loss = Σ model(x)`
/// with `x = values` (one row): the gradient is `values` itself.
private func monitoredHistogram<S: TensorScalar>(_ values: [S], nonfinite: NonfiniteMode = .raise) throws -> (GradientHistogram, [Double]) {
    let model = Linear<S>(values.count, 1, bias: false, generator: RandomGenerator(seed: 1))
    let monitor = Monitor(model: model, settings: .init(histogramsEvery: 1, nonfinite: nonfinite))
    monitor.beginStep()
    let loss = model(Tensor(shape: [1, values.count], scalars: values)).sum()
    loss.backward()
    try monitor.inspectGradients(loss: loss)
    let gradient = try #require(model.weight.grad).scalars.map { Double($0) }
    return (try #require(monitor.record.histograms.first), gradient)
}

@Suite struct MonitorKernelTests {
    /// Values on, just below and just above every decade edge, both signs, zeros, a subnormal,
    /// and tails beyond both ends: 107 of them, so the vector loop leaves a remainder.
    static let edgeValues: [Float] = {
        var values: [Float] = [0, -0, .leastNonzeroMagnitude, 1e-30, -1e-20, 3e6, -1e9]
        for e in -12...4 {
            let edge = Float(GradientHistogram.logBinEdges[e + 12])
            values += [edge, edge.nextDown, edge.nextUp]
            values += [-edge, -edge.nextDown, -edge.nextUp]
        }
        return values
    }()

    @Test func floatHistogramsMatchTheDefinitionAtEveryEdge() throws {
        let (h, gradient) = try monitoredHistogram(Self.edgeValues)
        #expect(gradient == Self.edgeValues.map(Double.init), "the weight gradient is the input row")
        let expected = referenceHistogram(gradient)
        #expect(h.zeroCount == expected.zeros && h.nonfiniteCount == 0)
        #expect(h.logCounts == expected.log, "\(h.logCounts) vs \(expected.log)")
        #expect(h.linearCounts == expected.linear, "\(h.linearCounts) vs \(expected.linear)")
        #expect(h.linearRange == expected.range)
    }

    @Test(arguments: [1, 7, 8, 1001, 10_003])
    func floatHistogramsOfRandomGradients(count: Int) throws {
        // Magnitudes spread over 1e-14 … 1e6, with zeros.
        let g = RandomGenerator(seed: UInt64(count))
        let mantissas = Tensor<Float>.normal([count], generator: g).scalars
        let exponents = Tensor<Float>.uniform([count], low: -14, high: 6, generator: g).scalars
        let values = zip(mantissas, exponents).enumerated().map { i, pair in i % 13 == 5 ? 0 : pair.0 * Float(pow(10, Double(pair.1))) }
        let (h, gradient) = try monitoredHistogram(values)
        let expected = referenceHistogram(gradient)
        #expect(h.zeroCount == expected.zeros)
        #expect(h.logCounts == expected.log)
        #expect(h.linearCounts == expected.linear)
        #expect(h.linearRange == expected.range)
    }

    @Test func nonfiniteElementsAreCountedApart() throws {
        var values = Self.edgeValues
        values[3] = .nan
        values[50] = .infinity
        values[90] = -.infinity
        let (h, gradient) = try monitoredHistogram(values, nonfinite: .warn)
        let expected = referenceHistogram(gradient)
        #expect(h.nonfiniteCount == 3)
        #expect(h.zeroCount == expected.zeros && h.logCounts == expected.log && h.linearCounts == expected.linear)
        #expect(h.linearRange == expected.range && h.linearRange.isFinite)
    }

    @Test(arguments: [1, 7, 8, 13, 1001])
    func saturationFractionsMatchTheDefinition(count: Int) throws {
        // Inputs over ±10, so that many outputs sit near the 1% threshold (|x| ≈ 6 for
        // sigmoid, ≈ 3 for tanh), and a NaN, which is not saturated.
        var x = Tensor<Float>.uniform([1, count], low: -10, high: 10, generator: RandomGenerator(seed: UInt64(count))).scalars
        if count > 3 { x[2] = .nan }
        for sigmoid in [true, false] {
            let model = Sequential<Float>(sigmoid ? Sigmoid<Float>() as any Module<Float> : Tanh<Float>())
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0, nonfinite: .warn))
            monitor.beginStep()
            var input = Tensor<Float>(shape: [1, count], scalars: x)
            input.requiresGrad = true  // the activation alone has no parameters
            let output = model(input)
            let loss = output.sum()
            loss.backward()
            try monitor.inspectGradients(loss: loss)
            let stats = try #require(monitor.record.steps.first?.layers.first)
            monitor.detach()
            // The definition, element by element in Float: the derivative from y below 1% of its maximum.
            let threshold = 0.01
            let limit = Float(sigmoid ? 0.25 * threshold : threshold)
            let saturated = output.scalars.filter { y in (sigmoid ? y * (1 - y) : 1 - y * y) < limit }.count
            #expect(stats.saturationFraction == Double(saturated) / Double(count), "\(sigmoid ? "sigmoid" : "tanh") n=\(count)")
        }
    }

    @Test func doubleModelsGetTheSameHistogramsAndStatistics() throws {
        let values = Self.edgeValues.map(Double.init)
        let (h, gradient) = try monitoredHistogram(values)
        let expected = referenceHistogram(gradient)
        #expect(h.zeroCount == expected.zeros && h.logCounts == expected.log && h.linearCounts == expected.linear)

        let model = Linear<Double>(values.count, 1, bias: false, generator: RandomGenerator(seed: 1))
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        monitor.beginStep()
        let loss = model(Tensor(shape: [1, values.count], scalars: values)).sum()
        loss.backward()
        try monitor.inspectGradients(loss: loss)
        let stats = try #require(monitor.record.steps.first?.parameters.first)
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(stats.gradientNorm - norm) <= 1e-12 * norm)
        #expect(stats.gradientMaxAbs == values.map(abs).max())
        #expect(stats.zeroFraction == 2 / Double(values.count))
        let w = model.weight.value.scalars
        let weightNorm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(stats.weightNorm - weightNorm) <= 1e-12 * weightNorm)
    }

    /// `weightNorm` is ‖w‖ before the update and `updateRatio` ‖Δw‖/‖w‖, both from the
    /// optimizer's own pass (Adam and AdamW measure in their update loop, SGD in blocks), against
    /// the weights read here before and after each step, on parameters of 1073 elements (two
    /// blocks of a measured update, chunks of 128 and a tail). Float sums of squares (Float
    /// lanes over chunks of 128, then Double) are good to about 1e-7. The record must not depend
    /// on whether it was read between the inspection and the update: read before, the monitor
    /// sums the values itself exactly as the update would.
    @Test(arguments: ["Adam", "AdamW", "SGD"])
    func weightNormsAndUpdateRatiosAreTheWeightsOwn(optimizer name: String) throws {
        func run(readingBeforeEachUpdate: Bool) throws -> MonitorRecord {
            let g = RandomGenerator(seed: 21)
            let model = Sequential<Float>(Linear<Float>(37, 29, generator: g), Tanh(), Linear<Float>(29, 1, generator: g))
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
            let optimizer: any Optimizer<Float> = switch name {
            case "Adam": try Adam(parameters: model.parameters, learningRate: 0.01, weightDecay: 0.1)
            case "AdamW": try AdamW(parameters: model.parameters, learningRate: 0.01)
            default: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9)
            }
            let x = Tensor<Float>.normal([16, 37], generator: g), y = Tensor<Float>.normal([16, 1], generator: g)
            for _ in 0..<4 {
                monitor.beginStep()
                optimizer.zeroGrad()
                let loss = meanSquaredError(predictions: model(x), targets: y)
                loss.backward()
                try monitor.inspectGradients(loss: loss)
                let before = model.parameters.map { $0.value.scalars.map(Double.init) }
                if readingBeforeEachUpdate { _ = monitor.record }
                monitor.beforeUpdate()
                optimizer.step()
                monitor.afterUpdate()
                let entry = try #require(monitor.record.steps.last)
                for (stats, (old, parameter)) in zip(entry.parameters, zip(before, model.parameters)) {
                    let new = parameter.value.scalars.map(Double.init)
                    let norm = old.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    let step = zip(new, old).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                    #expect(abs(stats.weightNorm - norm) <= 1e-6 * norm, "\(name) step \(entry.step) \(stats.name): \(stats.weightNorm) vs \(norm)")
                    let ratio = try #require(stats.updateRatio)
                    #expect(abs(ratio - step / norm) <= 1e-5 * ratio, "\(name) step \(entry.step) \(stats.name): ratio \(ratio) vs \(step / norm)")
                }
            }
            return monitor.record
        }
        let read = try run(readingBeforeEachUpdate: true), unread = try run(readingBeforeEachUpdate: false)
        #expect(read.steps.count == 4)
        #expect(read == unread, "the record depends on when it was read")
    }

    /// Above `forEachIndex`'s threshold the monitor's per-parameter passes and Adam's update
    /// run on several threads: the record and the weights are the same bits as on one. (The
    /// gradients are set, not computed: matrix products may split their sums by thread count.)
    @Test func largeModelsGiveTheSameRecordOnOneThreadOrTwo() throws {
        func train(threads: Int) throws -> (MonitorRecord, [[Float]]) {
            let previous = BLAS.swiftThreadCount
            BLAS.shared.setThreadCount(threads)
            defer { BLAS.shared.setThreadCount(previous) }
            let g = RandomGenerator(seed: 21)
            let model = Sequential<Float>(Linear(600, 300, generator: g), ReLU(), Linear(300, 10, generator: g))
            let optimizer = try Adam(parameters: model.parameters, learningRate: 1e-3)
            let monitor = Monitor(model: model, settings: .init(histogramsEvery: 1))
            defer { monitor.detach() }
            for _ in 0..<3 {
                monitor.beginStep()
                for parameter in model.parameters {
                    parameter.grad = Tensor<Float>.normal(parameter.shape, mean: 0, std: 0.01, generator: g)
                }
                try monitor.inspectGradients()
                monitor.beforeUpdate()
                optimizer.step()
                monitor.afterUpdate()
            }
            return (monitor.record, model.parameters.map(\.value.scalars))
        }
        let (oneRecord, oneWeights) = try train(threads: 1), (twoRecord, twoWeights) = try train(threads: 2)
        #expect(oneRecord.steps.count == 3 && oneRecord.histograms.count == 12)
        #expect(oneRecord.steps.allSatisfy { $0.parameters.allSatisfy { $0.updateRatio != nil } })
        #expect(oneRecord == twoRecord, "the record depends on the thread count")
        #expect(oneWeights == twoWeights, "the weights depend on the thread count")
    }

    @Test func layerStatisticsMatchTheLayersOutputs() throws {
        let g = RandomGenerator(seed: 8)
        let first = Linear<Float>(5, 12, generator: g), second = Linear<Float>(12, 3, generator: g)
        // Two of the twelve units dead for every input.
        first.bias!.assign(Tensor(shape: [12], scalars: (0..<12).map { $0 == 2 || $0 == 9 ? -100 : 0 }))
        let model = Sequential<Float>(first, ReLU(), second)
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        let x = Tensor<Float>.normal([37, 5], generator: g)
        monitor.beginStep()
        let loss = model(x).sum()
        loss.backward()
        try monitor.inspectGradients(loss: loss)
        let layers = try #require(monitor.record.steps.first?.layers)
        monitor.detach()
        let affine = first(x), hidden = relu(affine), output = second(hidden)
        for (stats, tensor) in zip(layers, [affine, hidden, output]) {
            let v = tensor.scalars.map(Double.init)
            let mean = v.reduce(0, +) / Double(v.count)
            let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot()
            #expect(abs(stats.activationMean - mean) <= 1e-6 * max(1, abs(mean)), "\(stats.name): mean \(stats.activationMean) vs \(mean)")
            #expect(abs(stats.activationStd - std) <= 1e-5 * std, "\(stats.name): std \(stats.activationStd) vs \(std)")
            #expect(stats.nonfiniteCount == 0)
        }
        #expect(layers.map(\.deadFraction) == [nil, 2.0 / 12, nil])
    }
}
