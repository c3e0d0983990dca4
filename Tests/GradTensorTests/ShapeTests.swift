import Testing
import GradTensor
import GradTestSupport

@Suite struct ShapeTests {
    /// `t[i, j, k] = 12i + 4j + k`.
    let cube = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])

    @Test func reshapes() {
        let r = cube.reshaped([4, -1])
        #expect(r.shape == [4, 6])
        #expect(r.scalars == cube.scalars)
        #expect(cube.reshaped([-1]).shape == [24])
        #expect(cube.flattened().shape == [2, 12])
        #expect(cube.flattened(startAxis: 0).shape == [24])
        #expect(cube.flattened(startAxis: -2).shape == [2, 12])
        #expect(Tensor<Double>(7).reshaped([1, 1]).shape == [1, 1])
        #expect(Tensor<Double>([7]).reshaped([]).scalar == 7)
    }

    @Test func squeezeAndUnsqueeze() {
        let t = Tensor<Double>([1, 2, 3])
        #expect(t.unsqueezed(axis: 0).shape == [1, 3])
        #expect(t.unsqueezed(axis: 1).shape == [3, 1])
        #expect(t.unsqueezed(axis: -1).shape == [3, 1])
        let padded = Tensor<Double>(shape: [1, 3, 1], scalars: [1, 2, 3])
        #expect(padded.squeezed().shape == [3])
        #expect(padded.squeezed(axis: 0).shape == [3, 1])
        #expect(padded.squeezed(axis: -1).shape == [1, 3])
        #expect(padded.squeezed(axis: 1).shape == [1, 3, 1], "an axis that is not 1 stays")
    }

    @Test func transposeValues() {
        let m = Tensor<Double>([[0, 1, 2], [3, 4, 5]])
        let t = m.transposed()
        #expect(t.shape == [3, 2])
        #expect(t.scalars == [0, 3, 1, 4, 2, 5])
        let batch = cube.transposed()
        #expect(batch.shape == [2, 4, 3])
        #expect(batch[element: 1, 3, 2] == cube[element: 1, 2, 3])
    }

    @Test func permuteValues() {
        let p = cube.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        for i in 0..<2 {
            for j in 0..<3 {
                for k in 0..<4 {
                    #expect(p[element: k, i, j] == Double(12 * i + 4 * j + k))
                }
            }
        }
        #expect(cube.permuted([0, 1, 2]).scalars == cube.scalars)
        #expect(Tensor<Double>(3).permuted([]).scalar == 3)
    }

    @Test func permuteGradientGoesBack() {
        var x = cube
        x.requiresGrad = true
        let weights = Tensor<Double>.arange(0, 24).reshaped([4, 2, 3])
        (x.permuted([2, 0, 1]) * weights).sum().backward()
        // The gradient at x[i, j, k] is the weight at [k, i, j] = 6k + 3i + j.
        for i in 0..<2 {
            for j in 0..<3 {
                for k in 0..<4 {
                    #expect(x.grad![element: i, j, k] == Double(6 * k + 3 * i + j))
                }
            }
        }
    }

    @Test func slices() {
        let s = cube.slice(axis: 1, 1..<3)
        #expect(s.shape == [2, 2, 4])
        #expect(s[element: 1, 0, 2] == cube[element: 1, 1, 2])
        #expect(cube.slice(0..<1).shape == [1, 3, 4])
        #expect(cube.slice(axis: -1, 3..<4).scalars == [3, 7, 11, 15, 19, 23])
        #expect(cube.slice(axis: 2, 2..<2).count == 0)
    }

    @Test func subscripts() {
        let m = Tensor<Double>([[1, 2], [3, 4]])
        #expect(m[1].shape == [2])
        #expect(m[1].scalars == [3, 4])
        #expect(m[-1].scalars == [3, 4])
        #expect(m[0].scalars == [1, 2])
        #expect(m[0][1].shape == [])
        #expect(m[0][1].scalar == 2)
        #expect(cube[1].shape == [3, 4])
        #expect(cube[1][2].scalars == [20, 21, 22, 23])
    }

    @Test func gatheringWithRepeats() {
        let m = Tensor<Double>([[1, 2], [3, 4], [5, 6]])
        let g = m.gathering([2, 0, 2])
        #expect(g.shape == [3, 2])
        #expect(g.scalars == [5, 6, 1, 2, 5, 6])
        #expect(m.gathering([1, 1, 0], axis: 1).scalars == [2, 2, 1, 4, 4, 3, 6, 6, 5])
        #expect(m.gathering([]).shape == [0, 2])
    }

    @Test func gatheringGradientAddsRepeats() {
        var x = Tensor<Double>([10, 20, 30])
        x.requiresGrad = true
        x.gathering([2, 0, 2]).sum().backward()
        #expect(x.grad?.scalars == [1, 0, 2])
    }

    @Test func concatenateValues() {
        let a = Tensor<Double>([[1, 2]])
        let b = Tensor<Double>([[3, 4], [5, 6]])
        let rows = Tensor.concatenate([a, b])
        #expect(rows.shape == [3, 2])
        #expect(rows.scalars == [1, 2, 3, 4, 5, 6])
        let c = Tensor<Double>([[1], [2]])
        let columns = Tensor.concatenate([c, b], axis: 1)
        #expect(columns.shape == [2, 3])
        #expect(columns.scalars == [1, 3, 4, 2, 5, 6])
        #expect(Tensor.concatenate([b, c, c], axis: -1).scalars == [3, 4, 1, 1, 5, 6, 2, 2])
        #expect(Tensor.concatenate([Tensor<Double>([1, 2])]).scalars == [1, 2])
    }

    @Test func concatenateGradientSplits() {
        var a = Tensor<Double>([[1], [2]])
        a.requiresGrad = true
        var b = Tensor<Double>([[3, 4], [5, 6]])
        b.requiresGrad = true
        let weights = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        (Tensor.concatenate([a, b], axis: 1) * weights).sum().backward()
        #expect(a.grad?.scalars == [1, 4])
        #expect(b.grad?.scalars == [2, 3, 5, 6])
    }

    @Test func stackValues() {
        let a = Tensor<Double>([1, 2])
        let b = Tensor<Double>([3, 4])
        let rows = Tensor.stack([a, b])
        #expect(rows.shape == [2, 2])
        #expect(rows.scalars == [1, 2, 3, 4])
        let columns = Tensor.stack([a, b], axis: 1)
        #expect(columns.shape == [2, 2])
        #expect(columns.scalars == [1, 3, 2, 4])
        #expect(Tensor.stack([a, b], axis: -1).scalars == [1, 3, 2, 4])
        #expect(Tensor.stack([Tensor<Double>(1), Tensor(2), Tensor(3)]).scalars == [1, 2, 3])
    }

    @Test func stackGradient() {
        var a = Tensor<Double>([1, 2])
        a.requiresGrad = true
        var b = Tensor<Double>([3, 4])
        b.requiresGrad = true
        (Tensor.stack([a, b], axis: 1) * Tensor([[1, 2], [3, 4]])).sum().backward()
        #expect(a.grad?.scalars == [1, 3])
        #expect(b.grad?.scalars == [2, 4])
    }

    @Test func reshapeGradientKeepsShape() {
        var x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        x.requiresGrad = true
        (x.reshaped([3, 2]) * Tensor([[1, 2], [3, 4], [5, 6]])).sum().backward()
        #expect(x.grad?.shape == [2, 3])
        #expect(x.grad?.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func oneHot() {
        let h = Tensor<Double>.oneHot([2, 0, 1], classes: 3)
        #expect(h.shape == [3, 3])
        #expect(h.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        #expect(Tensor<Float>.oneHot([], classes: 2).shape == [0, 2])
    }
}
