import Testing
import GradTensor
import GradTestSupport

@Suite struct BroadcastingTests {
    @Test func layoutShapes() {
        #expect(BroadcastLayout([3, 1], [1, 4])?.shape == [3, 4])
        #expect(BroadcastLayout([2, 3], [3])?.shape == [2, 3])
        #expect(BroadcastLayout([3], [2, 3])?.shape == [2, 3])
        #expect(BroadcastLayout([], [2, 3])?.shape == [2, 3])
        #expect(BroadcastLayout([], [])?.shape == [])
        #expect(BroadcastLayout([5, 1, 3], [4, 1])?.shape == [5, 4, 3])
        #expect(BroadcastLayout([0, 3], [1, 3])?.shape == [0, 3])
        #expect(BroadcastLayout([2, 3], [2, 3])?.count == 6)
    }

    @Test func incompatibleShapesGiveNil() {
        #expect(BroadcastLayout([2, 3], [4]) == nil)
        #expect(BroadcastLayout([2, 3], [3, 2]) == nil)
        #expect(BroadcastLayout([2, 1, 3], [4, 2]) == nil)
        #expect(BroadcastLayout([0], [2]) == nil)
    }

    @Test func layoutStrides() {
        let layout = BroadcastLayout([3, 1], [1, 4])
        #expect(layout?.stridesA == [1, 0])
        #expect(layout?.stridesB == [0, 1])
        let scalar = BroadcastLayout([], [2, 3])
        #expect(scalar?.stridesA == [0, 0])
        #expect(scalar?.stridesB == [3, 1])
    }

    @Test func columnPlusRow() {
        let a = Tensor<Double>([[1], [2], [3]])
        let b = Tensor<Double>([[10, 20, 30, 40]])
        let sum = a + b
        #expect(sum.shape == [3, 4])
        #expect(sum.scalars == [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43])
        let difference = b - a
        #expect(difference.shape == [3, 4])
        #expect(difference.scalars == [9, 19, 29, 39, 8, 18, 28, 38, 7, 17, 27, 37])
    }

    @Test func matrixWithVectorAndScalar() {
        let m = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let v = Tensor<Double>([10, 20, 30])
        #expect((m + v).scalars == [11, 22, 33, 14, 25, 36])
        #expect((v * m).scalars == [10, 40, 90, 40, 100, 180])
        #expect((m / v).scalars == [0.1, 0.1, 0.1, 0.4, 0.25, 0.2])
        #expect((Tensor(1.0) - m).scalars == [0, -1, -2, -3, -4, -5])
        #expect((Tensor(1.0) - m).shape == [2, 3])
        #expect((m - 1).scalars == [0, 1, 2, 3, 4, 5])
        #expect((2 - m).scalars == [1, 0, -1, -2, -3, -4])
        #expect(mismatch(12 / m, Tensor([[12, 6, 4], [3, 2.4, 2]]), rtol: 1e-15) == nil)
        #expect((m * 2).scalars == [2, 4, 6, 8, 10, 12])
        #expect((m / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect((-m).scalars == [-1, -2, -3, -4, -5, -6])
    }

    @Test func threeDimensionalBroadcast() {
        let a = Tensor<Double>(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Double>([[1], [10], [100], [1000]])
        let product = a * b
        #expect(product.shape == [2, 4, 3])
        for i in 0..<2 {
            for j in 0..<4 {
                for k in 0..<3 {
                    #expect(product[element: i, j, k] == a[element: i, 0, k] * b[element: j, 0])
                }
            }
        }
    }

    @Test func otherBinaryOps() {
        let a = Tensor<Double>([[1, 4], [9, -2]])
        let b = Tensor<Double>([2, 0.5])
        let p = a.pow(b)
        #expect(p.scalars[0] == 1 && p.scalars[1] == 2 && p.scalars[2] == 81)
        #expect(p.scalars[3].isNaN, "a negative base with a fractional exponent is NaN, as in PyTorch")
        #expect(a.maximum(Tensor(3.0)).scalars == [3, 4, 9, 3])
        #expect(a.minimum(b).scalars == [1, 0.5, 2, -2])
        #expect(Tensor<Double>([1, .nan]).maximum(Tensor([0, 0])).scalars[1].isNaN)
        #expect(Tensor<Double>([1, 2]).minimum(Tensor([.nan, 0])).scalars[0].isNaN)
    }

    @Test func comparisonsGiveMasks() {
        let a = Tensor<Double>([1, 2, 3])
        let b = Tensor<Double>([3, 2, 1])
        #expect((a .== b).scalars == [0, 1, 0])
        #expect((a .!= b).scalars == [1, 0, 1])
        #expect((a .< b).scalars == [1, 0, 0])
        #expect((a .<= b).scalars == [1, 1, 0])
        #expect((a .> b).scalars == [0, 0, 1])
        #expect((a .>= b).scalars == [0, 1, 1])
        #expect((a .> 1.5).scalars == [0, 1, 1])
        #expect((a .< 2).scalars == [1, 0, 0])
        #expect((a .>= 2).scalars == [0, 1, 1])
        #expect((a .<= 2).scalars == [1, 1, 0])
        #expect((a .== 3).scalars == [0, 0, 1])
        #expect((Tensor<Double>([[1], [2]]) .< Tensor([1.5, 2.5])).scalars == [1, 1, 0, 1])
    }

    @Test func gradientsOfBroadcastAddReduce() {
        var a = Tensor<Double>([[1], [2], [3]]); a.requiresGrad = true
        var b = Tensor<Double>([[10, 20, 30, 40]]); b.requiresGrad = true
        (a + b).sum().backward()
        #expect(a.grad?.shape == [3, 1])
        #expect(a.grad?.scalars == [4, 4, 4])
        #expect(b.grad?.shape == [1, 4])
        #expect(b.grad?.scalars == [3, 3, 3, 3])
    }

    @Test func gradientsOfBroadcastProductReduce() {
        var a = Tensor<Double>([[1], [2], [3]]); a.requiresGrad = true
        var b = Tensor<Double>([[10, 20, 30, 40]]); b.requiresGrad = true
        (a * b).sum().backward()
        // d/da_i Σ_j a_i b_j = Σ_j b_j; d/db_j = Σ_i a_i.
        #expect(a.grad?.scalars == [100, 100, 100])
        #expect(b.grad?.scalars == [6, 6, 6, 6])
    }

    @Test func gradientsOfVectorAndScalarBroadcasts() {
        var m = Tensor<Double>([[1, 2, 3], [4, 5, 6]]); m.requiresGrad = true
        var v = Tensor<Double>([10, 20, 30]); v.requiresGrad = true
        var s = Tensor<Double>(2); s.requiresGrad = true
        ((m - v) * s).sum().backward()
        #expect(m.grad?.scalars == [2, 2, 2, 2, 2, 2])
        #expect(v.grad?.shape == [3])
        #expect(v.grad?.scalars == [-4, -4, -4])
        #expect(s.grad?.shape == [])
        #expect(s.grad?.scalar == -99.0)
    }

    @Test func gradientsOfDivisionBroadcast() {
        var a = Tensor<Double>([[2, 4], [6, 8]]); a.requiresGrad = true
        var b = Tensor<Double>([1, 2]); b.requiresGrad = true
        (a / b).sum().backward()
        #expect(a.grad?.scalars == [1, 0.5, 1, 0.5])
        // d/db_j Σ_i a_ij / b_j = −Σ_i a_ij / b_j².
        #expect(b.grad?.scalars == [-8, -3])
    }

    @Test func sumToShape() {
        let t = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])
        #expect(t.sum(toShape: [2, 3, 4]).scalars == t.scalars)
        let rows = t.sum(toShape: [3, 1])
        #expect(rows.shape == [3, 1])
        // Σ over i, k of 12i + 4j + k = 48 + 32j + 12.
        #expect(rows.scalars == [60, 92, 124])
        #expect(t.sum(toShape: [4]).scalars == [60, 66, 72, 78])
        #expect(t.sum(toShape: []).scalar == 276)
        #expect(t.sum(toShape: [2, 1, 1]).scalars == [66, 210])
    }

    @Test func expandedCopiesAndItsGradientSums() {
        var v = Tensor<Double>([[1], [2]]); v.requiresGrad = true
        let e = v.expanded(to: [3, 2, 2])
        #expect(e.shape == [3, 2, 2])
        #expect(e.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2])
        (e * Tensor([1.0, 10])).sum().backward()
        #expect(v.grad?.scalars == [33, 33])
    }

    @Test func whereSelectsWithoutMixing() {
        let condition = Tensor<Double>([[1, 0, 1], [0, 0, 2]])
        let a = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let b = Tensor<Double>([.infinity, -1, .nan])
        let chosen = Tensor.where(condition, a, b)
        #expect(chosen.shape == [2, 3])
        #expect(chosen[element: 0, 0] == 1)
        #expect(chosen[element: 0, 1] == -1)
        #expect(chosen[element: 0, 2] == 3)
        #expect(chosen[element: 1, 0] == .infinity)
        #expect(chosen[element: 1, 1] == -1)
        #expect(chosen[element: 1, 2] == 6)
    }

    @Test func whereGradientsGoToTheChosenSide() {
        var a = Tensor<Double>([[1, 2, 3], [4, 5, 6]]); a.requiresGrad = true
        var b = Tensor<Double>([7, 8, 9]); b.requiresGrad = true
        let condition = Tensor<Double>([[1, 0, 1], [0, 0, 1]])
        Tensor.where(condition, a, b).sum().backward()
        #expect(a.grad?.scalars == [1, 0, 1, 0, 0, 1])
        #expect(b.grad?.scalars == [1, 2, 0])
    }
}
