import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// LSUV (Mishkin & Matas 2016): orthonormal start, then each layer's output variance on a data
// batch brought to 1.

/// The variance (biased) of every `Linear` output of `model` on `data`, by layer name.
private func outputVariances(_ model: some Module<Double>, _ data: Tensor<Double>) -> [String: Double] {
    var variances: [String: Double] = [:]
    var handles: [HookHandle] = []
    for (name, module) in model.namedModules where module is Linear<Double> {
        handles.append(module.hooks.addForwardHook { _, _, output in
            variances[name] = output.variance(unbiased: false).scalar
        })
    }
    _ = withoutGradient { model(data) }
    for handle in handles { handle.remove() }
    return variances
}

@Suite struct LSUVTests {
    static let data = Tensor<Double>.normal([256, 10], mean: 0.3, std: 2, generator: RandomGenerator(seed: 1))

    @Test func everyLayerReachesUnitVariance() throws {
        let model = Sequential<Double>.mlp(inputSize: 10, hiddenSizes: Array(repeating: 32, count: 6), outputSize: 3,
                                           activation: .tanh, generator: RandomGenerator(seed: 2))
        let before = outputVariances(model, Self.data)
        #expect(before.values.contains { Swift.abs($0 - 1) > 0.1 }, "the default init is not already LSUV's")
        let results = try lsuvInitialize(model, data: Self.data, generator: RandomGenerator(seed: 3))
        #expect(results.map(\.name) == ["0", "2", "4", "6", "8", "10", "12"])
        #expect(results.allSatisfy { $0.converged })
        let after = outputVariances(model, Self.data)
        for result in results {
            #expect(Swift.abs(result.variance - 1) < 0.1, "\(result)")
            // The reported variance is what the layer now produces.
            #expect(isClose(after[result.name]!, result.variance, rtol: 1e-12), "\(result.name)")
            #expect(result.iterations <= 10)
        }
        #expect(results.contains { $0.iterations > 0 })
    }

    @Test func tighterToleranceTakesMoreIterationsAndStopsAtTheLimit() throws {
        let make = { Sequential<Double>.mlp(inputSize: 10, hiddenSizes: [32, 32], outputSize: 1, activation: .relu,
                                            generator: RandomGenerator(seed: 4)) }
        let loose = try lsuvInitialize(make(), data: Self.data, tolerance: 0.1, generator: RandomGenerator(seed: 5))
        let tight = try lsuvInitialize(make(), data: Self.data, tolerance: 1e-6, maxIterations: 50, generator: RandomGenerator(seed: 5))
        #expect(tight.map(\.iterations).reduce(0, +) > loose.map(\.iterations).reduce(0, +))
        #expect(tight.allSatisfy { Swift.abs($0.variance - 1) < 1e-6 })
        let capped = try lsuvInitialize(make(), data: Self.data, tolerance: 1e-9, maxIterations: 1, generator: RandomGenerator(seed: 5))
        #expect(capped.allSatisfy { $0.iterations <= 1 })
        #expect(capped.contains { !$0.converged })
    }

    @Test func startsFromOrthonormalWeights() throws {
        let model = Sequential<Double>.mlp(inputSize: 10, hiddenSizes: [6], outputSize: 4, activation: .tanh,
                                           generator: RandomGenerator(seed: 6))
        let results = try lsuvInitialize(model, data: Self.data, maxIterations: 0, generator: RandomGenerator(seed: 7))
        #expect(results.allSatisfy { $0.iterations == 0 })
        for (_, layer) in model.linearLayers {
            // Rows orthonormal when out ≤ in (W·Wᵀ = I), columns otherwise (Wᵀ·W = I).
            let w = layer.weight.value
            let gram = layer.outFeatures <= layer.inFeatures ? matmul(w, w.transposed()) : matmul(w.transposed(), w)
            let n = gram.shape[0]
            #expect(mismatch(gram, Tensor.eye(n), rtol: 0, atol: 1e-12) == nil)
        }
    }

    @Test func batchNormStatisticsAreLeftAsTheyWere() throws {
        let model = Sequential<Double>.mlp(inputSize: 10, hiddenSizes: [16, 16], outputSize: 1, activation: .relu,
                                           batchNorm: true, generator: RandomGenerator(seed: 8))
        let bn = model.layers[1] as! BatchNorm1d<Double>
        let results = try lsuvInitialize(model, data: Self.data, generator: RandomGenerator(seed: 9))
        #expect(results.count == 3)
        #expect(bn.numBatchesTracked == 0 && bn.runningMean.scalars.allSatisfy { $0 == 0 })
        #expect(bn.runningVar.scalars.allSatisfy { $0 == 1 })
    }

    @Test func residualBranchesAreVisitedInModuleOrder() throws {
        let model = Sequential<Double>.mlp(inputSize: 10, hiddenSizes: [12, 12, 12], outputSize: 2, activation: .tanh,
                                           batchNorm: false, residual: true, generator: RandomGenerator(seed: 10))
        let results = try lsuvInitialize(model, data: Self.data, generator: RandomGenerator(seed: 11))
        #expect(results.map(\.name) == ["0", "2.body.0", "3.body.0", "4"])
        #expect(results.allSatisfy { $0.converged })
    }

    @Test func errorsNameTheProblem() {
        let noLinear = Sequential<Double>(ReLU())
        #expect(throws: LSUVError.noLinearLayers) {
            try lsuvInitialize(noLinear, data: Self.data, generator: RandomGenerator(seed: 1))
        }
        // Zero data through a layer without bias: variance 0, nothing to rescale.
        let g = RandomGenerator(seed: 12)
        let model = Sequential<Double>(Linear(10, 4, bias: false, generator: g), Tanh(), Linear(4, 1, generator: g))
        #expect(throws: LSUVError.degenerateOutput(layer: "0", variance: 0)) {
            try lsuvInitialize(model, data: Tensor.zeros([8, 10]), generator: RandomGenerator(seed: 1))
        }
        #expect(LSUVError.degenerateOutput(layer: "0", variance: 0).description.contains("'0'"))
        // A layer the forward pass never reaches.
        let container = UnusedLayerModel(unused: Linear(10, 2, generator: g))
        #expect(throws: LSUVError.layerNotReached(layer: "unused")) {
            try lsuvInitialize(container, data: Self.data, generator: RandomGenerator(seed: 1))
        }
    }
}

/// A module holding a `Linear` its forward pass never runs.
private final class UnusedLayerModel: Module {
    typealias Scalar = Double
    var isTraining = true
    let hooks = ModuleHooks<Double>()
    let unused: Linear<Double>
    init(unused: Linear<Double>) { self.unused = unused }
    func forward(_ input: Tensor<Double>) -> Tensor<Double> { input }
    var children: [(String, any Module<Double>)] { [("unused", unused)] }
}
