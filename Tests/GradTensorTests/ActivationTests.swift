import Foundation
import Testing
import GradTensor
import GradTestSupport

@Suite struct ActivationTests {
    /// The gradient of `Σ f(x)` at `values`.
    func gradient<T: TensorScalar>(_ values: [T], _ f: (Tensor<T>) -> Tensor<T>) -> [T] {
        var x = Tensor(values)
        x.requiresGrad = true
        f(x).sum().backward()
        return x.grad!.scalars
    }

    @Test func sigmoidIsStableAtTheExtremes() {
        let d = sigmoid(Tensor<Double>([-100, 0, 100]))
        #expect(d.scalars[0] > 0 && d.scalars[0] < 1e-43)
        #expect(d.scalars[1] == 0.5)
        #expect(d.scalars[2] == 1)
        let f = sigmoid(Tensor<Float>([-100, -20, 0, 100]))
        #expect(f.isFinite)
        #expect(f.scalars[0] >= 0 && f.scalars[0] < 1e-30)
        #expect(f.scalars[2] == 0.5)
        #expect(f.scalars[3] == 1)
        let g = gradient([-100.0, 0, 100]) { sigmoid($0) }
        #expect(g.allSatisfy { $0.isFinite })
        #expect(g[1] == 0.25)
        #expect(gradient([Float(-100), 100]) { sigmoid($0) }.allSatisfy { $0.isFinite })
        #expect(isClose(sigmoid(Tensor<Double>([1])).scalar, 0.7310585786300049, rtol: 1e-15))
    }

    @Test func tanhValues() {
        let t = tanh(Tensor<Double>([-50, 0, 0.5, 50]))
        #expect(t.scalars[0] == -1 && t.scalars[1] == 0 && t.scalars[3] == 1)
        #expect(isClose(t.scalars[2], Foundation.tanh(0.5), rtol: 1e-15))
        let g = gradient([0.0, 0.5]) { tanh($0) }
        #expect(g[0] == 1)
        #expect(isClose(g[1], 1 - Foundation.tanh(0.5) * Foundation.tanh(0.5), rtol: 1e-14))
    }

    @Test func reluFamily() {
        let x: [Double] = [-2, 0, 3]
        #expect(relu(Tensor(x)).scalars == [0, 0, 3])
        #expect(gradient(x) { relu($0) } == [0, 0, 1], "the derivative at 0 is 0, as PyTorch")
        #expect(leakyReLU(Tensor(x)).scalars == [-0.02, 0, 3])
        #expect(leakyReLU(Tensor(x), negativeSlope: 0.5).scalars == [-1, 0, 3])
        #expect(gradient(x) { leakyReLU($0, negativeSlope: 0.5) } == [0.5, 0.5, 1])
        #expect(relu(Tensor<Double>([.nan])).scalar.isNaN)
    }

    @Test func eluAndSelu() {
        let e = elu(Tensor<Double>([-1, 2]), alpha: 2)
        #expect(isClose(e.scalars[0], 2 * (Foundation.exp(-1) - 1), rtol: 1e-15))
        #expect(e.scalars[1] == 2)
        let ge = gradient([-1.0, 2]) { elu($0, alpha: 2) }
        #expect(isClose(ge[0], 2 * Foundation.exp(-1), rtol: 1e-14))
        #expect(ge[1] == 1)
        let s = selu(Tensor<Double>([-1, 0, 1]))
        #expect(isClose(s.scalars[0], -1.1113307378125625, rtol: 1e-14))
        #expect(s.scalars[1] == 0)
        #expect(isClose(s.scalars[2], 1.0507009873554805, rtol: 1e-15))
    }

    @Test func geluValues() {
        #expect(isClose(gelu(Tensor<Double>([1])).scalar, 0.8413447460685429, rtol: 1e-14))
        #expect(isClose(gelu(Tensor<Double>([1]), approximateTanh: true).scalar, 0.8411919906082768, rtol: 1e-14))
        #expect(gelu(Tensor<Double>([0])).scalar == 0)
        #expect(gradient([0.0]) { gelu($0) } == [0.5])
        #expect(gradient([0.0]) { gelu($0, approximateTanh: true) } == [0.5])
        #expect(isClose(gelu(Tensor<Double>([-10])).scalar, 0, atol: 1e-20))
    }

    @Test func softplusThreshold() {
        // Above the threshold softplus returns its input exactly, and the slope is 1.
        #expect(softplus(Tensor<Double>([25])).scalar == 25)
        #expect(isClose(softplus(Tensor<Double>([19])).scalar, 19.000000005602796, rtol: 1e-15))
        #expect(softplus(Tensor<Double>([11]), beta: 2).scalar == 11)
        #expect(isClose(softplus(Tensor<Double>([0])).scalar, Foundation.log(2), rtol: 1e-15))
        #expect(isClose(softplus(Tensor<Double>([1]), beta: 2).scalar, Foundation.log1p(Foundation.exp(2)) / 2, rtol: 1e-15))
        #expect(gradient([25.0, 0]) { softplus($0) } == [1, 0.5])
        #expect(softplus(Tensor<Float>([-100, 100])).isFinite)
        #expect(softplus(Tensor<Double>([-800])).scalar >= 0)
    }

    @Test func siluSoftsignHardtanh() {
        #expect(isClose(silu(Tensor<Double>([1])).scalar, 0.7310585786300049, rtol: 1e-15))
        #expect(softsign(Tensor<Double>([-3, 1])).scalars == [-0.75, 0.5])
        #expect(gradient([1.0]) { softsign($0) } == [0.25])
        #expect(hardtanh(Tensor<Double>([-2, -0.5, 3])).scalars == [-1, -0.5, 1])
        #expect(hardtanh(Tensor<Double>([-2, 0.5, 3]), minValue: 0, maxValue: 2).scalars == [0, 0.5, 2])
        #expect(gradient([-1.0, -0.5, 1, 2]) { hardtanh($0) } == [0, 1, 0, 0], "zero at and beyond the bounds")
    }

    @Test func clampPassesTheGradientAtItsBounds() {
        let x: [Double] = [-2, -1, 0, 1, 2]
        #expect(Tensor(x).clamped(min: -1, max: 1).scalars == [-1, -1, 0, 1, 1])
        #expect(gradient(x) { $0.clamped(min: -1, max: 1) } == [0, 1, 1, 1, 0])
        #expect(Tensor(x).clamped(min: 0).scalars == [0, 0, 0, 1, 2])
        #expect(Tensor(x).clamped(max: 0).scalars == [-2, -1, 0, 0, 0])
        #expect(Tensor<Double>([.nan]).clamped(min: 0, max: 1).scalar.isNaN)
    }

    @Test func elementwiseMath() {
        let x = Tensor<Double>([0.25, 1, 4])
        #expect(x.sqrt().scalars == [0.5, 1, 2])
        #expect(x.log().scalars[1] == 0)
        #expect(x.reciprocal().scalars == [4, 1, 0.25])
        #expect(x.squared().scalars == [0.0625, 1, 16])
        #expect(Tensor<Double>([-2, 0, 3]).abs().scalars == [2, 0, 3])
        #expect(Tensor<Double>([-2, 0, 3]).sign().scalars == [-1, 0, 1])
        #expect(Tensor<Double>([0]).exp().scalar == 1)
        #expect(Tensor<Double>([1e-20]).log1p().scalar == 1e-20)
        #expect(Tensor<Double>([0]).sin().scalar == 0 && Tensor<Double>([0]).cos().scalar == 1)
        #expect(gradient([-2.0, 0, 3]) { $0.abs() } == [-1, 0, 1])
        #expect(gradient([-2.0, 3]) { $0.sign() } == [0, 0])
    }

    @Test func powersOfNegativeBasesAndZero() {
        let x = Tensor<Double>([-2, 0, 3])
        #expect(x.pow(3).scalars == [-8, 0, 27])
        #expect(x.pow(2).scalars == [4, 0, 9])
        #expect(x.pow(0).scalars == [1, 1, 1], "0⁰ = 1, as PyTorch")
        #expect(x.pow(-1).scalars[0] == -0.5)
        #expect(Tensor<Double>([-8]).pow(1.0 / 3).scalar.isNaN, "a fractional power of a negative base is NaN")
        #expect(gradient([-2.0, 0, 3]) { $0.pow(3) } == [12, 0, 27])
        #expect(gradient([-3.0, 0]) { $0.pow(2) } == [-6, 0])
        #expect(gradient([-3.0, 0]) { $0.pow(1) } == [1, 1])
        #expect(gradient([-3.0, 0]) { $0.pow(0) } == [0, 0])
        #expect(Tensor<Double>([-2, 0, 2]).pow(Tensor([3, 0, -1])).scalars == [-8, 1, 0.5])
        #expect(gradient([-2.0, 0]) { $0.pow(Tensor([3, 0])) } == [12, 0])
        #expect(Tensor<Float>([-2]).pow(3).scalar == -8)
    }

    @Test func powerGradientWithRespectToTheExponent() {
        var e = Tensor<Double>([2, 3])
        e.requiresGrad = true
        Tensor<Double>([0, 2]).pow(e).sum().backward()
        // d/db a^b = a^b·log a, taken as 0 at a = 0.
        #expect(e.grad!.scalars[0] == 0)
        #expect(isClose(e.grad!.scalars[1], 8 * Foundation.log(2), rtol: 1e-15))
    }

    @Test func logSoftmaxIsStableForLargeLogits() {
        let logits = Tensor<Double>([[1000, 1000, 999], [-1000, 0, -1000]])
        let l = logSoftmax(logits)
        #expect(l.isFinite)
        #expect(isClose(l[element: 0, 0], -0.8619948040582511, rtol: 1e-14))
        #expect(isClose(l[element: 0, 2], -1.8619948040582512, rtol: 1e-14))
        #expect(l[element: 1, 1] == 0)
        #expect(l[element: 1, 0] == -1000)
        let f = logSoftmax(Tensor<Float>([[1000, 1000, 999]]))
        #expect(f.isFinite)
        #expect(isClose(f.scalars[0], -0.86199480, rtol: 1e-6))
        let g = gradient([1000.0, 1000, 999]) { logSoftmax($0) * Tensor([1, 0, 0]) }
        #expect(g.allSatisfy { $0.isFinite })
    }

    @Test func softmaxRowsSumToOne() {
        let s = softmax(Tensor<Double>([[1, 2, 3], [0, 0, 0]]))
        #expect(mismatch(s.sum(axis: 1), Tensor([1.0, 1]), rtol: 1e-15) == nil)
        #expect(isClose(s[element: 1, 0], 1.0 / 3, rtol: 1e-15))
        let e = [1.0, 2, 3].map { Foundation.exp($0) }
        #expect(isClose(s[element: 0, 2], e[2] / (e[0] + e[1] + e[2]), rtol: 1e-15))
        let columns = softmax(Tensor<Double>([[1, 2], [1, 4]]), axis: 0)
        #expect(isClose(columns.scalars[0], 0.5, rtol: 1e-15) && isClose(columns.scalars[2], 0.5, rtol: 1e-15))
        // The gradient of Σ softmax is zero.
        #expect(gradient([1.0, 2, 3]) { softmax($0) }.allSatisfy { Swift.abs($0) < 1e-15 })
    }

    @Test func preluValues() {
        let x = Tensor<Double>([[-1, 2, -3], [4, -5, 6]])
        #expect(prelu(x, weight: Tensor([0.25])).scalars == [-0.25, 2, -0.75, 4, -1.25, 6])
        #expect(prelu(x, weight: Tensor([0.1, 0.5, 1])).scalars == [-0.1, 2, -3, 4, -2.5, 6])
        var w = Tensor<Double>([0.1, 0.5, 1])
        w.requiresGrad = true
        prelu(x, weight: w).sum().backward()
        // d/da_c = Σ of the negative inputs in channel c.
        #expect(w.grad?.scalars == [-1, -5, -3])
        let image = Tensor<Double>(shape: [1, 2, 2], scalars: [-1, -2, -3, 4])
        #expect(prelu(image, weight: Tensor([0.5, 2])).scalars == [-0.5, -1, -6, 4])
    }
}
