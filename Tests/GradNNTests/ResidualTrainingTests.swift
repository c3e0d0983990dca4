import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Seeded training outcomes: batch norm rescues a deep sigmoid MLP, and a deep ReZero MLP (the
// identity map at the start) trains. Plain full-batch SGD (`w ← w − lr·∇w`) on the seeds' line
// `y = 3x + 2 + 0.5ε`, 100 points. GradNNTests depends on neither GradOptim nor GradData, so
// the update and the draw of `SyntheticData.linear(seed:)` are written out here;
// `ResidualMonitorTests` checks both against the real ones when those modules are available.

/// The points of `SyntheticData.linear(count:seed:)`: all `x ~ N(0, 1)`, then all `ε`.
func seedLine(count: Int = 100, seed: UInt64 = 0) -> (x: Tensor<Double>, y: Tensor<Double>) {
    let rng = RandomGenerator(seed: seed)
    let x = (0..<count).map { _ in rng.nextNormal() }
    let y = x.map { 3 * $0 + 2 + 0.5 * rng.nextNormal() }
    return (Tensor(shape: [count, 1], scalars: x), Tensor(shape: [count, 1], scalars: y))
}

/// `steps` full-batch SGD steps on the MSE; the loss before each step.
func trainWithSGD(_ model: some Module<Double>, x: Tensor<Double>, y: Tensor<Double>, steps: Int, learningRate: Double) -> [Double] {
    var losses: [Double] = []
    for _ in 0..<steps {
        model.zeroGrad()
        let loss = meanSquaredError(predictions: model(x), targets: y)
        loss.backward()
        losses.append(loss.scalar)
        for p in model.parameters {
            guard let g = p.grad else { continue }
            g.withUnsafeBufferPointer { grad in p.update { w in for i in w.indices { w[i] -= learningRate * grad[i] } } }
        }
    }
    return losses
}

@Suite struct ResidualTrainingTests {
    @Test func batchNormRescuesADeepSigmoidMLP() {
        let (x, y) = seedLine()
        let variance = y.variance(unbiased: false).scalar
        /// The last 10 training losses' largest (batch statistics), and the loss in evaluation
        /// mode after training (running statistics).
        func run(batchNorm: Bool) -> (training: Double, evaluation: Double) {
            let model = Sequential<Double>.mlp(inputSize: 1, hiddenSizes: Array(repeating: 32, count: 20), outputSize: 1,
                                               activation: .sigmoid, batchNorm: batchNorm, generator: RandomGenerator(seed: 0))
            let losses = trainWithSGD(model, x: x, y: y, steps: 100, learningRate: 0.05)
            model.eval()
            let final = meanSquaredError(predictions: withoutGradient { model(x) }, targets: y).scalar
            return (losses.suffix(10).max()!, final)
        }
        let plain = run(batchNorm: false), normalized = run(batchNorm: true)
        // Without batch norm the gradient vanishes: the net learns the mean and no more (MSE ≈ Var y).
        #expect(plain.training > 0.9 * variance, "plain: \(plain), Var y \(variance)")
        #expect(plain.evaluation > 0.9 * variance, "plain: \(plain), Var y \(variance)")
        // With it, the same 100 steps fit the line (the noise alone gives 0.25): the training
        // loss falls below a tenth of Var y (0.70 with OpenBLAS's products, 0.90 with the
        // pure-Swift ones). In evaluation mode the running statistics (momentum 0.1) still lag
        // weights that move at this learning rate, so that loss is higher and varies with the
        // last bits of the products (0.87 and 2.31 here): a looser bound.
        #expect(normalized.training < 0.15 * variance, "batch norm: \(normalized), Var y \(variance)")
        #expect(normalized.training < 0.15 * plain.training)
        #expect(normalized.evaluation < 0.35 * variance, "batch norm: \(normalized), Var y \(variance)")
    }

    @Test func deepReZeroMLPTrains() {
        let (x, y) = seedLine()
        let model = Sequential<Double>.mlp(inputSize: 1, hiddenSizes: Array(repeating: 32, count: 20), outputSize: 1,
                                           activation: .relu, batchNorm: false, residual: true, residualScaling: .reZero,
                                           generator: RandomGenerator(seed: 0))
        // At the start the 19 blocks are the identity.
        let first = model.layers[0] as! Linear<Double>, last = model.layers.last as! Linear<Double>
        #expect(withoutGradient { model(x) }.scalars == withoutGradient { last(relu(first(x))) }.scalars)
        let losses = trainWithSGD(model, x: x, y: y, steps: 100, learningRate: 0.02)
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(losses.last! < 0.05 * losses[0], "first \(losses[0]), last \(losses.last!)")
        // The blocks have been switched on: α moved away from 0.
        let alphas = model.residualBlocks.map { Swift.abs($0.1.alpha!.value.scalar) }
        #expect(alphas.allSatisfy { $0 > 0 } && alphas.max()! > 1e-3, "\(alphas)")
    }
}
