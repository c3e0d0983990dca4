import Foundation
import Testing
import GradTensor
import GradTestSupport

@Suite struct AutodiffTests {
    func leaf(_ values: [Double]) -> Tensor<Double> {
        var t = Tensor(values)
        t.requiresGrad = true
        return t
    }

    @Test func leavesAndOps() {
        let x = leaf([1, 2])
        #expect(x.requiresGrad)
        #expect(x.isLeaf)
        #expect(x.gradientOp == "leaf")
        #expect(x.grad == nil)
        let y = x * 2
        #expect(y.requiresGrad)
        #expect(!y.isLeaf)
        #expect(y.gradientOp == "multiplyScalar")
        #expect((x + x).gradientOp == "add")
        #expect(matmul(x.reshaped([1, 2]), x.reshaped([2, 1])).gradientOp == "matmul")
        let plain = Tensor<Double>([1, 2]) * 2
        #expect(!plain.requiresGrad)
        #expect(plain.isLeaf)
        #expect(plain.gradientOp == nil)
        var dropped = x
        dropped.requiresGrad = false
        #expect(!dropped.requiresGrad)
        #expect(x.requiresGrad)
    }

    @Test func unusedInputGetsNoGradient() {
        let x = leaf([1, 2, 3])
        let unused = leaf([4, 5])
        let loss = (x * 2).sum()
        loss.backward()
        #expect(x.grad?.scalars == [2, 2, 2])
        #expect(unused.grad == nil)
    }

    @Test func inputMultipliedByZeroGetsZeroGradient() {
        let x = leaf([1, 2])
        let y = leaf([3, 4])
        (x * 0 + y).sum().backward()
        #expect(x.grad?.scalars == [0, 0])
        #expect(y.grad?.scalars == [1, 1])
    }

    @Test func gradientsAccumulateOverBackwardCalls() {
        let x = leaf([1, 2, 3])
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [2, 4, 6])
        (x * 3).sum().backward()
        #expect(x.grad?.scalars == [5, 7, 9])
    }

    @Test func zeroGradClears() {
        let x = leaf([1, 2])
        (x * x).sum().backward()
        #expect(x.grad != nil)
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * 5).sum().backward()
        #expect(x.grad?.scalars == [5, 5])
    }

    @Test func gradCanBeSetByHand() {
        let x = leaf([1, 2])
        x.grad = Tensor([0.5, 0.25])
        (x * 2).sum().backward()
        #expect(x.grad?.scalars == [2.5, 2.25])
    }

    @Test func copiesOfALeafShareItsGradient() {
        let x = leaf([1, 2])
        let copy = x
        (copy * 4).sum().backward()
        #expect(x.grad?.scalars == [4, 4])
    }

    @Test func withoutGradientRecordsNothing() {
        let x = leaf([1, 2])
        #expect(isGradientRecordingEnabled)
        let y = withoutGradient { () -> Tensor<Double> in
            #expect(!isGradientRecordingEnabled)
            let inner = withoutGradient { x * 3 }
            #expect(!isGradientRecordingEnabled, "a nested scope must not switch recording back on")
            #expect(!inner.requiresGrad)
            return (x * 2).exp().sum()
        }
        #expect(isGradientRecordingEnabled)
        #expect(!y.requiresGrad)
        #expect(y.gradientOp == nil)
        #expect((x * 2).requiresGrad, "recording resumes after the scope")
    }

    @Test func withoutGradientRestoresRecordingWhenThrowing() {
        struct Failure: Error {}
        #expect(throws: Failure.self) { try withoutGradient { throw Failure() } }
        #expect(isGradientRecordingEnabled)
    }

    @Test func withoutGradientIsPerThread() {
        let otherThreadRecords = withoutGradient { () -> Bool in
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var result = false
            let thread = Thread {
                result = isGradientRecordingEnabled
                done.signal()
            }
            thread.start()
            done.wait()
            return result
        }
        #expect(otherThreadRecords)
    }

    @Test func detachedCutsTheGraph() {
        let x = leaf([1, 2, 3])
        let d = x.detached()
        #expect(!d.requiresGrad)
        #expect(d.isLeaf)
        #expect(d.scalars == x.scalars)
        // d/dx (c ⊙ x) with c = x held constant is c.
        (d * x).sum().backward()
        #expect(x.grad?.scalars == [1, 2, 3])
    }

    @Test func retainGradKeepsAnInnerGradient() {
        let x = leaf([1, 2])
        let y = x * 3
        y.retainGrad()
        let z = y * 2
        (z * z).sum().backward()
        // d/dz Σz² = 2z = 12x; dz/dy = 2, so d/dy = 24x; d/dx = 72x.
        #expect(y.grad?.scalars == [24, 48])
        #expect(z.grad == nil, "an inner tensor without retainGrad keeps no gradient")
        #expect(x.grad?.scalars == [72, 144])
    }

    @Test func retainedGradientsAccumulateLikeLeaves() {
        let x = leaf([1, 2])
        let y = x * 3
        y.retainGrad()
        let loss = y.sum()
        loss.backward(retainGraph: true)
        loss.backward()
        #expect(y.grad?.scalars == [2, 2])
        #expect(x.grad?.scalars == [6, 6])
    }

    @Test func retainGraphAllowsASecondBackward() {
        let x = leaf([1, 2])
        let loss = (x * x * x).sum()
        loss.backward(retainGraph: true)
        #expect(x.grad?.scalars == [3, 12])
        loss.backward(retainGraph: true)
        #expect(x.grad?.scalars == [6, 24])
        // (A second backward without retainGraph is a precondition failure; not tested in-process.)
    }

    @Test func backwardWithAnExplicitGradient() {
        let x = leaf([1, 2, 3])
        let y = x * 2
        y.backward(Tensor([1, 0, -2]))
        #expect(x.grad?.scalars == [2, 0, -4])
    }

    @Test func backwardOnALeaf() {
        let x = leaf([4])
        x.backward()
        #expect(x.grad?.scalars == [1])
    }

    @Test func diamondGraphSumsBothPaths() {
        let x = leaf([1, 2])
        let a = x * 2
        let b = x * 3
        (a * b).sum().backward()
        // d/dx 6x² = 12x.
        #expect(x.grad?.scalars == [12, 24])
    }

    @Test func longChainDoesNotOverflowTheStack() {
        let x = leaf([1])
        var y = x
        for _ in 0..<20_000 { y = y + 0.5 }
        y.sum().backward()
        #expect(y.scalars == [10_001])
        #expect(x.grad?.scalars == [1])
    }

    @Test func hookSeesAndReplacesALeafGradient() {
        let x = leaf([1, 2])
        nonisolated(unsafe) var seen: [Double] = []
        let handle = x.registerHook { g in
            seen = g.scalars
            return g * 10
        }
        (x * 2).sum().backward()
        #expect(seen == [2, 2])
        #expect(x.grad?.scalars == [20, 20])
        handle.remove()
        x.zeroGrad()
        (x * 2).sum().backward()
        #expect(x.grad?.scalars == [2, 2])
    }

    @Test func hookOnAnInnerTensorChangesWhatFlowsOn() {
        let x = leaf([1, 2])
        let y = x * 3
        y.registerHook { $0 * 0.5 }
        (y * y).sum().backward()
        // d/dy = 2y = 6x, halved to 3x; dx = 3 · 3x = 9x.
        #expect(x.grad?.scalars == [9, 18])
    }

    @Test func hookReturningNilKeepsTheGradientAndRunsOnceWithTheTotal() {
        let x = leaf([1, 2])
        let y = x * 3
        nonisolated(unsafe) var calls: [[Double]] = []
        y.registerHook { g in
            calls.append(g.scalars)
            return nil
        }
        (y + y * 2).sum().backward()
        #expect(calls == [[3, 3]])
        #expect(x.grad?.scalars == [9, 9])
    }

    @Test func hooksRunInOrderOfRegistration() {
        let x = leaf([1])
        x.registerHook { $0 + 1 }
        x.registerHook { $0 * 10 }
        (x * 2).sum().backward()
        #expect(x.grad?.scalars == [30])
    }

    @Test func customOpsRecordTheirPullback() {
        func cube(_ x: Tensor<Double>) -> Tensor<Double> {
            var out = Tensor(shape: x.shape, scalars: x.scalars.map { $0 * $0 * $0 })
            if Tensor.needsRecording([x]) {
                let saved = x.detached()
                out.record("cube", inputs: [x]) { g in [g * saved * saved * 3] }
            }
            return out
        }
        let x = leaf([1, -2])
        let y = cube(x)
        #expect(y.gradientOp == "cube")
        y.sum().backward()
        #expect(x.grad?.scalars == [3, 12])
        #expect(!cube(Tensor([1])).requiresGrad)
        #expect(!withoutGradient { cube(x) }.requiresGrad)
    }

    @Test func floatGradients() {
        var x = Tensor<Float>([0.5, -1])
        x.requiresGrad = true
        (x.squared() * 3 + x.exp()).sum().backward()
        let expected: [Float] = [3 + Float(Foundation.exp(0.5)), -6 + Float(Foundation.exp(-1.0))]
        #expect(isClose(x.grad!.scalars[0], expected[0], rtol: 1e-6))
        #expect(isClose(x.grad!.scalars[1], expected[1], rtol: 1e-6))
    }
}
