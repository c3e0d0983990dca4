// GradDoctor's Monitor on models with batch norm and residual blocks, trained with GradOptim's
// SGD on GradData's `SyntheticData.linear`.
import Foundation
import Testing
import GradTensor
import GradNN
import GradOptim
import GradData
import GradDoctor
import GradTestSupport

@Suite struct ResidualMonitorTests {
    /// Three SGD steps with the monitor's calls in the documented order.
    private func train(_ model: Sequential<Double>, _ monitor: Monitor<Double>, steps: Int) throws {
        let data = SyntheticData.linear(count: 50, seed: 3, as: Double.self)
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.01)
        for _ in 0..<steps {
            monitor.beginStep()
            sgd.zeroGrad()
            let loss = meanSquaredError(predictions: model(data.features), targets: data.targets)
            loss.backward()
            try monitor.inspectGradients(loss: loss)
            monitor.beforeUpdate()
            sgd.step()
            monitor.afterUpdate()
        }
    }

    @Test func monitorRecordsBatchNormAndResidualLayers() throws {
        let model = Sequential<Double>.mlp(inputSize: 1, hiddenSizes: [8, 8, 8], outputSize: 1, activation: .relu,
                                           batchNorm: true, residual: true, residualScaling: .reZero,
                                           generator: RandomGenerator(seed: 1))
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 1))
        try train(model, monitor, steps: 3)
        #expect(monitor.record.steps.map(\.step) == [0, 1, 2])
        let step = try #require(monitor.record.steps.last)
        // Every leaf module, in forward order, named as in the state_dict.
        #expect(step.layers.map(\.name) == [
            "0", "1", "2", "3.body.0", "3.body.1", "3.body.2", "4.body.0", "4.body.1", "4.body.2", "5",
        ])
        #expect(step.layers.map(\.kind) == [
            "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear",
        ])
        #expect(step.layers.allSatisfy { $0.outputGradientNorm != nil && $0.nonfiniteCount == 0 })
        // The batch-normalized outputs have mean ≈ 0 and std ≈ 1 (β = 0, γ = 1 plus three small steps).
        for layer in step.layers where layer.kind == "BatchNorm1d" {
            #expect(Swift.abs(layer.activationMean) < 0.05 && Swift.abs(layer.activationStd - 1) < 0.05, "\(layer)")
        }
        // Parameters by their nested names, α included (it is learned from the first step).
        #expect(step.parameters.map(\.name) == model.namedParameters.map(\.0))
        let alpha = try #require(step.parameters.first { $0.name == "3.alpha" })
        #expect(alpha.gradientNorm > 0)
        #expect(Set(monitor.record.histograms.map(\.name)).isSuperset(of: ["3.alpha", "1.weight", "4.body.1.bias"]))
        #expect(monitor.record.firstNonfinite == nil)
    }

    @Test func monitorSeesProjectionsAndPostActivations() throws {
        let g = RandomGenerator(seed: 2)
        let model = Sequential<Double>(
            Linear(1, 6, generator: g), Tanh(),
            Residual.block(inFeatures: 6, outFeatures: 4, activation: .tanh, variant: .postActivation, batchNorm: true, generator: g),
            Linear(4, 1, generator: g))
        let monitor = Monitor(model: model, settings: .init(histogramsEvery: 0))
        try train(model, monitor, steps: 2)
        let names = try #require(monitor.record.steps.last).layers.map(\.name)
        #expect(names == ["0", "1", "2.projection", "2.body.0", "2.body.1", "2.body.2", "2.body.3", "2.body.4", "2.activation", "3"])
    }

    @Test func handWrittenSGDAndDataAreTheRealOnes() throws {
        // ResidualTrainingTests writes the update and the draw out; they must be GradOptim's and GradData's.
        let data = SyntheticData.linear(seed: 0, as: Double.self)
        let local = seedLine()
        #expect(data.features.scalars == local.x.scalars && data.targets.scalars == local.y.scalars)
        let make = { Sequential<Double>.mlp(inputSize: 1, hiddenSizes: [4, 4], outputSize: 1, activation: .sigmoid,
                                            batchNorm: true, generator: RandomGenerator(seed: 5)) }
        let a = make(), b = make()
        _ = trainWithSGD(a, x: local.x, y: local.y, steps: 3, learningRate: 0.1)
        let sgd = try SGD(parameters: b.parameters, learningRate: 0.1)
        for _ in 0..<3 {
            sgd.zeroGrad()
            meanSquaredError(predictions: b(data.features), targets: data.targets).backward()
            sgd.step()
        }
        #expect(a.parameters.map(\.value.scalars) == b.parameters.map(\.value.scalars))
    }
}
