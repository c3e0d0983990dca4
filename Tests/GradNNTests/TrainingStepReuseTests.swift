import Testing
import GradTensor
import GradNN
import GradOptim

/// A training step reuses buffers from the step before (a fused chain's workspace, the
/// gradient buffers `zeroGrad()` released); nothing a caller can see may change because of it.
@Suite struct TrainingStepReuseTests {
    /// `1 → 10 → 10 → 1` with the given activation, seeded.
    static func makeNet(_ activation: Activation, width: Int = 10, seed: UInt64 = 21) -> Sequential<Float> {
        let g = RandomGenerator(seed: seed)
        return Sequential<Float>(Linear<Float>(1, width, generator: g), activation.makeLayer(Float.self),
                                 Linear<Float>(width, width, generator: g), activation.makeLayer(Float.self),
                                 Linear<Float>(width, 1, generator: g))
    }

    static func input(_ rows: Int, seed: UInt64) -> Tensor<Float> {
        Tensor<Float>.uniform([rows, 1], low: -2, high: 2, generator: RandomGenerator(seed: seed))
    }

    /// Output, loss and the gradients of one pass of `model` on `x` against zeros.
    static func pass(_ model: Sequential<Float>, _ x: Tensor<Float>) -> (output: [Float], grads: [[Float]]) {
        model.zeroGrad()
        let y = model(x)
        meanSquaredError(predictions: y, targets: Tensor.zeros(y.shape)).backward()
        return (y.scalars, model.parameters.map { $0.grad!.scalars })
    }

    @Test func aSecondForwardPassBeforeBackwardDoesNotDisturbTheFirst() {
        let model = Self.makeNet(.tanh)
        let x1 = Self.input(9, seed: 1), x2 = Self.input(9, seed: 2)
        let expected = Self.pass(Self.makeNet(.tanh), x1)
        model.zeroGrad()
        let y1 = model(x1)
        let y1Values = y1.scalars
        let y2 = model(x2)  // same shapes: would reuse the first pass's buffers if they were free
        #expect(y1.scalars == y1Values)
        #expect(y2.scalars != y1Values)
        meanSquaredError(predictions: y1, targets: Tensor.zeros(y1.shape)).backward()
        #expect(y1Values == expected.output)
        #expect(model.parameters.map { $0.grad!.scalars } == expected.grads)
    }

    @Test func outputsKeepTheirValuesAfterLaterSteps() throws {
        let model = Self.makeNet(.relu)
        let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1)
        let x = Self.input(20, seed: 3)
        let kept = withoutGradient { model(x) }
        let keptValues = kept.scalars
        for _ in 0..<3 {
            optimizer.zeroGrad()
            meanSquaredError(predictions: model(x), targets: Tensor.ones([20, 1])).backward()
            optimizer.step()
        }
        #expect(kept.scalars == keptValues)
        #expect(withoutGradient { model(x) }.scalars != keptValues)
    }

    @Test func aGradientHeldAcrossZeroGradKeepsItsValues() {
        let model = Self.makeNet(.sigmoid)
        let x = Self.input(16, seed: 4)
        let first = Self.pass(model, x)
        let held = model.parameters[0].grad!
        let second = Self.pass(model, Self.input(16, seed: 5))
        #expect(held.scalars == first.grads[0])
        #expect(second.grads[0] != first.grads[0])
        // Recycled buffers start from scratch: the same pass again gives the same gradients.
        let third = Self.pass(model, x)
        #expect(third.grads == first.grads)
        #expect(model.parameters.allSatisfy { $0.grad != nil })
    }

    @Test func gradientsStillAccumulateWithoutZeroGrad() {
        let model = Self.makeNet(.relu)
        let x = Self.input(12, seed: 6)
        let once = Self.pass(model, x).grads
        let y = model(x)
        meanSquaredError(predictions: y, targets: Tensor.zeros(y.shape)).backward()
        for (parameter, g) in zip(model.parameters, once) {
            #expect(parameter.grad!.scalars == g.map { $0 + $0 })
        }
    }

    @Test func tensorsThatHooksKeepAreNotOverwritten() {
        let model = Self.makeNet(.sigmoid)
        var outputs: [Tensor<Float>] = [], gradients: [Tensor<Float>] = []
        model.layers[1].hooks.addForwardHook { _, _, output in outputs.append(output) }
        model.layers[2].hooks.addOutputGradientHook { _, gradient in gradients.append(gradient) }
        let first = (Self.input(8, seed: 10), Self.input(8, seed: 11))
        _ = Self.pass(model, first.0)
        let kept = (outputs[0].scalars, gradients[0].scalars)
        _ = Self.pass(model, first.1)
        _ = Self.pass(model, first.0)
        #expect(outputs.count == 3 && gradients.count == 3)
        #expect(outputs[0].scalars == kept.0)
        #expect(gradients[0].scalars == kept.1)
        #expect(outputs[1].scalars != kept.0)
        #expect(outputs[2].scalars == kept.0)
        #expect(gradients[2].scalars == kept.1)
    }

    @Test(arguments: [Reduction.mean, .sum])
    func meanSquaredErrorIsTheCompositeBitForBit(reduction: Reduction) {
        let g = RandomGenerator(seed: 8)
        var p = Tensor<Float>.uniform([7, 3], low: -2, high: 2, generator: g)
        var t = Tensor<Float>.uniform([7, 3], low: -2, high: 2, generator: g)
        p.requiresGrad = true
        t.requiresGrad = true
        let fused = meanSquaredError(predictions: p, targets: t, reduction: reduction)
        #expect(fused.gradientOp == "meanSquaredError")
        fused.backward(Tensor(Float(1.5)))
        let (fp, ft) = (p.grad!.scalars, t.grad!.scalars)
        p.zeroGrad()
        t.zeroGrad()
        let squares = (p - t).squared()
        let composite = reduction == .mean ? squares.mean() : squares.sum()
        composite.backward(Tensor(Float(1.5)))
        #expect(fused.scalar == composite.scalar)
        #expect(fp == p.grad!.scalars)
        #expect(ft == t.grad!.scalars)
    }

    /// Fused and unfused passes of the same net: output and every gradient, bit for bit.
    static func fusedAndUnfused(_ build: () -> Sequential<Float>, _ x: Tensor<Float>) -> (Bool, Bool) {
        let fused = build(), unfused = build()
        unfused.fusesLinearChains = false
        let a = pass(fused, x), b = pass(unfused, x)
        return (a.output == b.output, a.grads == b.grads)
    }

    @Test func wideLayersAndLargeBatchesStayBitIdenticalToTheUnfusedLayers() {
        // Widths above 16 take the row-major chain (BLAS where it pays); the spiral's net on
        // 1000 points takes the small-layer kernels with a deep weight-gradient sum.
        let wide = Self.fusedAndUnfused({ Self.makeNet(.tanh, width: 40, seed: 30) }, Self.input(50, seed: 31))
        #expect(wide.0 && wide.1)
        let spiral = Self.fusedAndUnfused({
            let g = RandomGenerator(seed: 32)
            return Sequential<Float>(Linear<Float>(1, 10, generator: g), Sigmoid(), Linear<Float>(10, 10, generator: g),
                                     Sigmoid(), Linear<Float>(10, 10, generator: g), Sigmoid(), Linear<Float>(10, 1, generator: g))
        }, Self.input(1000, seed: 33))
        #expect(spiral.0 && spiral.1)
    }
}
