import Testing
import GradTensor
import GradTestSupport

@Suite struct TrainingSmokeTests {
    /// Plain gradient descent through the tape fits `y = 3x + 2`.
    @Test func linearFitLearns() {
        let rng = RandomGenerator(seed: 1)
        let x = Tensor<Double>.normal([64, 1], generator: rng)
        let y = x * 3 + 2
        var w = Tensor<Double>.zeros([1, 1]); w.requiresGrad = true
        var b = Tensor<Double>.zeros([1]); b.requiresGrad = true
        for _ in 0..<200 {
            let loss = (linear(x, weight: w, bias: b) - y).squared().mean()
            loss.backward()
            w = (w.detached() - w.grad! * 0.1); w.requiresGrad = true
            b = (b.detached() - b.grad! * 0.1); b.requiresGrad = true
        }
        #expect(isClose(w.scalar, 3, rtol: 1e-3))
        #expect(isClose(b.scalar, 2, rtol: 1e-3))
    }

    /// The same fit in Float.
    @Test func linearFitLearnsInFloat() {
        let rng = RandomGenerator(seed: 2)
        let x = Tensor<Float>.normal([64, 1], generator: rng)
        let y = x * -1.5 + 0.5
        var w = Tensor<Float>.zeros([1, 1]); w.requiresGrad = true
        var b = Tensor<Float>.zeros([1]); b.requiresGrad = true
        for _ in 0..<200 {
            let loss = (linear(x, weight: w, bias: b) - y).squared().mean()
            loss.backward()
            w = (w.detached() - w.grad! * 0.1); w.requiresGrad = true
            b = (b.detached() - b.grad! * 0.1); b.requiresGrad = true
        }
        #expect(isClose(w.scalar, -1.5, rtol: 1e-3))
        #expect(isClose(b.scalar, 0.5, rtol: 1e-3))
    }
}
