import Testing
import GradTensor
import GradTestSupport

/// `x³` with a pullback that is wrong by `error` at flat index `wrongAt` (to see the check fail).
func cubeWithFaultyPullback(_ x: Tensor<Double>, error: Double, wrongAt: Int) -> Tensor<Double> {
    var out = Tensor(shape: x.shape, scalars: x.scalars.map { $0 * $0 * $0 })
    if Tensor.needsRecording([x]) {
        let saved = x.detached()
        out.record("faultyCube", inputs: [x]) { g in
            var d = (g * saved * saved * 3).scalars
            d[wrongAt] += error
            return [Tensor(shape: saved.shape, scalars: d)]
        }
    }
    return out
}

@Suite struct GradientCheckTests {
    @Test func aCorrectGradientPasses() {
        let x = Tensor<Double>([[0.5, -1, 2], [1.5, 0.3, -0.7]])
        let report = checkGradients(at: [x]) { ($0[0] * $0[0]).exp().sum() }
        #expect(report.passed, "\(report)")
        #expect(report.entries.count == 1)
        #expect(report.entries[0].name == "input 0")
        #expect(report.entries[0].shape == [2, 3])
        #expect(report.entries[0].maxAbsoluteError < 1e-6)
        #expect(report.entries[0].maxRelativeError < 1e-8)
        #expect(report.entries[0].hasAnalyticGradient)
        #expect(report.step == 1e-6)
        #expect(report.description.contains("passed"))
    }

    @Test func aWrongGradientFailsAndIsLocated() {
        let x = Tensor<Double>([[0.5, -1, 2], [1.5, 0.3, -0.7]])
        let report = checkGradients(at: [x]) { cubeWithFaultyPullback($0[0], error: 1e-3, wrongAt: 5).sum() }
        #expect(!report.passed)
        let entry = report.entries[0]
        #expect(entry.worstIndex == [1, 2])
        #expect(isClose(entry.worstNumeric, 3 * 0.49, rtol: 1e-8))
        #expect(isClose(entry.worstAnalytic, 3 * 0.49 + 1e-3, rtol: 1e-12))
        #expect(isClose(entry.maxAbsoluteError, 1e-3, rtol: 1e-5))
        #expect(entry.worstRatio > 1)
        #expect(report.description.contains("FAILED"))
        #expect(entry.description.contains("[1, 2]"))
    }

    @Test func aSmallErrorWithinToleranceStillPasses() {
        let x = Tensor<Double>([1, 2])
        let report = checkGradients(at: [x]) { cubeWithFaultyPullback($0[0], error: 1e-9, wrongAt: 0).sum() }
        #expect(report.passed, "\(report)")
        let strict = checkGradients(at: [x], relativeTolerance: 1e-12, absoluteTolerance: 1e-12) {
            cubeWithFaultyPullback($0[0], error: 1e-6, wrongAt: 0).sum()
        }
        #expect(!strict.passed)
    }

    @Test func anUnusedInputHasNoGradientAndPasses() {
        let report = checkGradients(at: [Tensor([1.0, 2]), Tensor([3.0])]) { $0[0].squared().sum() }
        #expect(report.passed, "\(report)")
        #expect(report.entries[1].name == "input 1")
        #expect(!report.entries[1].hasAnalyticGradient)
        #expect(report.entries[1].maxNumericMagnitude == 0)
        #expect(report.entries[0].maxNumericMagnitude > 3.9)
    }

    @Test func aNaNGradientFails() {
        // √x at 0: autodiff gives ∞, central differences give NaN (√−h); neither is finite.
        let report = checkGradients(at: [Tensor([0.0, 1])]) { $0[0].sqrt().sum() }
        #expect(!report.passed)
        #expect(report.entries[0].worstRatio == .infinity)
        #expect(report.entries[0].worstIndex == [0])
    }

    @Test func inputsAreLeftUntouched() {
        var x = Tensor<Double>([1, 2, 3])
        x.requiresGrad = true
        let report = checkGradients(at: [x]) { ($0[0] * $0[0]).sum() }
        #expect(report.passed)
        #expect(x.scalars == [1, 2, 3])
        #expect(x.grad == nil)
    }

    @Test func namedCheckRestoresValuesAndGradients() {
        var w = Tensor<Double>([[0.5, -0.25], [1, 2]])
        w.requiresGrad = true
        var b = Tensor<Double>([0.1, -0.2])
        b.requiresGrad = true
        b.grad = Tensor([7, 8])
        let x = Tensor<Double>([[1, 2], [3, -1], [0.5, 0.5]])
        let report = checkGradients(named: [("weight", w), ("bias", b)]) {
            tanh(linear(x, weight: w, bias: b)).squared().sum()
        }
        #expect(report.passed, "\(report)")
        #expect(report.entries.map(\.name) == ["weight", "bias"])
        #expect(report["bias"]?.shape == [2])
        #expect(report["missing"] == nil)
        #expect(w.scalars == [0.5, -0.25, 1, 2])
        #expect(b.scalars == [0.1, -0.2])
        #expect(w.grad == nil)
        #expect(b.grad?.scalars == [7, 8])
    }

    @Test func worstEntriesComeFirst() {
        let report = checkGradients(at: [Tensor([1.0, 2]), Tensor([0.5, 1.5])]) {
            cubeWithFaultyPullback($0[0], error: 0, wrongAt: 0).sum() + cubeWithFaultyPullback($0[1], error: 0.1, wrongAt: 1).sum()
        }
        #expect(!report.passed)
        #expect(report.worstEntries.map(\.name) == ["input 1", "input 0"])
        #expect(report.entries[0].passed)
        #expect(!report.entries[1].passed)
    }
}
