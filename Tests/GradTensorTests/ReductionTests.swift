import Testing
import GradTensor
import GradTestSupport

@Suite struct ReductionTests {
    let m = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    /// `t[i, j, k] = 12i + 4j + k`.
    let cube = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])

    @Test func sums() {
        #expect(m.sum().shape == [])
        #expect(m.sum().scalar == 21)
        #expect(m.sum(axis: 0).shape == [3])
        #expect(m.sum(axis: 0).scalars == [5, 7, 9])
        #expect(m.sum(axis: 1).scalars == [6, 15])
        let kept = m.sum(axis: -1, keepingDimension: true)
        #expect(kept.shape == [2, 1])
        #expect(kept.scalars == [6, 15])
        #expect(m.sum(axes: [0, 1]).shape == [])
        #expect(m.sum(axes: [0, 1]).scalar == 21)
        #expect(m.sum(axes: [1, 0], keepingDimension: true).shape == [1, 1])
        let middle = cube.sum(axes: [0, 2])
        #expect(middle.shape == [3])
        #expect(middle.scalars == [60, 92, 124])
        let middleKept = cube.sum(axes: [2, 0], keepingDimension: true)
        #expect(middleKept.shape == [1, 3, 1])
        #expect(middleKept.scalars == [60, 92, 124])
        #expect(cube.sum(axes: [-1, 0]).scalars == [60, 92, 124])
        #expect(cube.sum(axis: 1).scalars == [12, 15, 18, 21, 48, 51, 54, 57])
    }

    @Test func sumOfManyFloats() {
        // Eight accumulators plus a tail: 1001 elements.
        let t = Tensor<Float>(shape: [1001], repeating: 0.5)
        #expect(t.sum().scalar == 500.5)
        let ramp = Tensor<Float>.arange(0, 1001)
        #expect(ramp.sum().scalar == 500_500)
    }

    @Test func means() {
        #expect(m.mean().scalar == 3.5)
        #expect(m.mean(axis: 0).scalars == [2.5, 3.5, 4.5])
        #expect(m.mean(axis: 1, keepingDimension: true).shape == [2, 1])
        #expect(m.mean(axis: 1, keepingDimension: true).scalars == [2, 5])
        let both = cube.mean(axes: [0, 1], keepingDimension: true)
        #expect(both.shape == [1, 1, 4])
        #expect(both.scalars == [10, 11, 12, 13])
    }

    @Test func meanGradientIsOneOverCount() {
        var x = m
        x.requiresGrad = true
        x.mean().backward()
        #expect(x.grad?.scalars == [Double](repeating: 1.0 / 6, count: 6))
        x.zeroGrad()
        x.mean(axis: 1).sum().backward()
        #expect(x.grad?.scalars == [Double](repeating: 1.0 / 3, count: 6))
    }

    @Test func extrema() {
        #expect(m.max().scalar == 6)
        #expect(m.min().scalar == 1)
        #expect(m.max().shape == [])
        #expect(m.max(axis: 1).scalars == [3, 6])
        #expect(m.max(axis: 0).scalars == [4, 5, 6])
        let kept = m.min(axis: 0, keepingDimension: true)
        #expect(kept.shape == [1, 3])
        #expect(kept.scalars == [1, 2, 3])
        #expect(Tensor<Double>([[3, -1], [-7, 2]]).min(axis: 1).scalars == [-1, -7])
        #expect(Tensor<Double>(5).max().scalar == 5)
    }

    @Test func extremaPropagateNaN() {
        #expect(Tensor<Double>([1, .nan, 3]).max().scalar.isNaN)
        #expect(Tensor<Double>([.nan, 1, 3]).min().scalar.isNaN)
        let rows = Tensor<Double>([[1, 2], [.nan, 0]]).max(axis: 1).scalars
        #expect(rows[0] == 2 && rows[1].isNaN)
    }

    @Test func maxGradientGoesToTheMaximum() {
        var x = Tensor<Double>([[1, 5, 2], [7, 0, 3]])
        x.requiresGrad = true
        x.max(axis: 1).sum().backward()
        #expect(x.grad?.scalars == [0, 1, 0, 1, 0, 0])
        x.zeroGrad()
        x.min().backward()
        #expect(x.grad?.scalars == [0, 0, 0, 0, 1, 0])
    }

    @Test func tiesSplitTheGradientEvenly() {
        var x = Tensor<Double>([1, 3, 3, 2])
        x.requiresGrad = true
        x.max().backward()
        #expect(x.grad?.scalars == [0, 0.5, 0.5, 0])
        var y = Tensor<Double>([4, 4, 4])
        y.requiresGrad = true
        y.min().backward()
        #expect(y.grad?.scalars == [1.0 / 3, 1.0 / 3, 1.0 / 3])
        var z = Tensor<Double>([[2, 2], [1, 5]])
        z.requiresGrad = true
        (z.max(axis: 1, keepingDimension: true) * Tensor([[10], [1]])).sum().backward()
        #expect(z.grad?.scalars == [5, 5, 0, 1])
    }

    @Test func variances() {
        let v = Tensor<Double>([1, 2, 3, 4])
        #expect(isClose(v.variance().scalar, 5.0 / 3, rtol: 1e-15))
        #expect(v.variance(unbiased: false).scalar == 1.25)
        #expect(isClose(v.standardDeviation().scalar, 1.2909944487358056, rtol: 1e-15))
        #expect(v.standardDeviation(unbiased: false).scalar == 1.25.squareRoot())
        let rows = Tensor<Double>([[1, 2, 3], [4, 6, 8]])
        #expect(rows.variance(axis: 1).scalars == [1, 4])
        let biased = rows.variance(axis: 1, unbiased: false, keepingDimension: true)
        #expect(biased.shape == [2, 1])
        #expect(mismatch(biased, Tensor([[2.0 / 3], [8.0 / 3]]), rtol: 1e-15) == nil)
        #expect(rows.variance(axis: 0).scalars == [4.5, 8, 12.5])
    }

    @Test func varianceGradient() {
        var x = Tensor<Double>([1, 2, 3, 4])
        x.requiresGrad = true
        x.variance(unbiased: false).backward()
        // d/dx_i (1/n)Σ(x − x̄)² = 2(x_i − x̄)/n.
        #expect(x.grad?.scalars == [-0.75, -0.25, 0.25, 0.75])
    }

    @Test func norms() {
        let v = Tensor<Double>([3, -4])
        #expect(v.norm().scalar == 5)
        #expect(v.norm(2).scalar == 5)
        #expect(v.norm(1).scalar == 7)
        #expect(v.norm(.infinity).scalar == 4)
        #expect(isClose(v.norm(3).scalar, 4.497941445275415, rtol: 1e-14))
        let rows = Tensor<Double>([[3, 4], [-6, 8]])
        #expect(rows.norm(2, axis: 1).scalars == [5, 10])
        #expect(rows.norm(1, axis: 0).scalars == [9, 12])
        #expect(rows.norm(.infinity, axis: 1, keepingDimension: true).shape == [2, 1])
        #expect(rows.norm(.infinity, axis: 1, keepingDimension: true).scalars == [4, 8])
        #expect(Tensor<Float>([3, -4]).norm().scalar == 5)
    }

    @Test func normGradients() {
        var x = Tensor<Double>([3, -4])
        x.requiresGrad = true
        x.norm().backward()
        #expect(mismatch(x.grad!, Tensor([0.6, -0.8]), rtol: 1e-15) == nil)
        x.zeroGrad()
        x.norm(1).backward()
        #expect(x.grad?.scalars == [1, -1])
        x.zeroGrad()
        x.norm(.infinity).backward()
        #expect(x.grad?.scalars == [0, -1])
    }

    @Test func euclideanNormGradientAtZeroIsZero() {
        var x = Tensor<Double>.zeros([3])
        x.requiresGrad = true
        let n = x.norm()
        #expect(n.scalar == 0)
        n.backward()
        #expect(x.grad?.scalars == [0, 0, 0])
    }

    @Test func euclideanNormAlongAnAxisHasZeroGradientForAZeroRow() {
        var x = Tensor<Double>([[0, 0], [3, -4]])
        x.requiresGrad = true
        let n = x.norm(2, axis: 1)
        #expect(n.scalars == [0, 5])
        n.sum().backward()
        #expect(mismatch(x.grad!, Tensor([[0, 0], [0.6, -0.8]]), rtol: 1e-15) == nil)
    }

    @Test func argmax() {
        let t = Tensor<Double>([[1, 5, 5], [7, 0, 2]])
        #expect(t.argmax() == [1, 0], "first index on ties")
        #expect(t.argmax(axis: -1) == [1, 0])
        #expect(t.argmax(axis: 0) == [1, 0, 0])
        #expect(Tensor<Double>([1, .nan, 3]).argmax() == [1], "NaN counts as the largest, as in PyTorch")
        #expect(cube.argmax(axis: 1) == [2, 2, 2, 2, 2, 2, 2, 2])
        #expect(Tensor<Float>([-3, -1, -2]).argmax() == [1])
    }
}
