import Testing
import GradTensor
import GradTestSupport

/// `a · b` by the textbook triple loop, for 2-D tensors.
func naiveProduct<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let x = a.scalars, y = b.scalars
    var out = [T](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s: T = 0
            for l in 0..<k { s += x[i * k + l] * y[l * n + j] }
            out[i * n + j] = s
        }
    }
    return Tensor(shape: [m, n], scalars: out)
}

@Suite struct MatmulTests {
    @Test func twoByTwo() {
        let a = Tensor<Double>([[1, 2], [3, 4]])
        let b = Tensor<Double>([[5, 6], [7, 8]])
        #expect(matmul(a, b).scalars == [19, 22, 43, 50])
        #expect(matmul(b, a).scalars == [23, 34, 31, 46])
        #expect(matmul(a, Tensor<Double>.eye(2)).scalars == a.scalars)
    }

    @Test func rectangular() {
        let a = Tensor<Double>([[1, 0, 2], [-1, 3, 1]])
        let b = Tensor<Double>([[3], [2], [1]])
        let p = matmul(a, b)
        #expect(p.shape == [2, 1])
        #expect(p.scalars == [5, 4])
        let q = matmul(b, Tensor([[1.0, 2]]))
        #expect(q.shape == [3, 2])
        #expect(q.scalars == [3, 6, 2, 4, 1, 2])
    }

    @Test func gradientsByHand() {
        var a = Tensor<Double>([[1, 2], [3, 4]])
        a.requiresGrad = true
        var b = Tensor<Double>([[5, 6], [7, 8]])
        b.requiresGrad = true
        matmul(a, b).sum().backward()
        // dA = 1·Bᵀ: row sums of B; dB = Aᵀ·1: column sums of A.
        #expect(a.grad?.scalars == [11, 15, 11, 15])
        #expect(b.grad?.scalars == [4, 4, 6, 6])
    }

    @Test func batched() {
        let a = Tensor<Double>(shape: [2, 2, 2], scalars: [1, 0, 0, 1, 0, 1, 1, 0])
        let b = Tensor<Double>(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let p = matmul(a, b)
        #expect(p.shape == [2, 2, 2])
        // Batch 0 multiplies by the identity, batch 1 swaps the rows.
        #expect(p.scalars == [1, 2, 3, 4, 7, 8, 5, 6])
    }

    @Test func batchedWithASharedMatrix() {
        let a = Tensor<Double>(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let w = Tensor<Double>([[0, 1], [1, 0]])
        let right = matmul(a, w)
        #expect(right.shape == [2, 2, 2])
        #expect(right.scalars == [2, 1, 4, 3, 6, 5, 8, 7])
        let left = matmul(w, a)
        #expect(left.shape == [2, 2, 2])
        #expect(left.scalars == [3, 4, 1, 2, 7, 8, 5, 6])
    }

    @Test func batchedGradientOfASharedMatrixSumsOverTheBatch() {
        let a = Tensor<Double>(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        var w = Tensor<Double>([[0, 1], [1, 0]])
        w.requiresGrad = true
        matmul(a, w).sum().backward()
        // dW = Σ_batch Aᵀ·1: column sums of every A added up.
        #expect(w.grad?.scalars == [16, 16, 20, 20])
    }

    @Test func linearByHand() {
        let x = Tensor<Double>([[1, 2], [0, -1]])
        let w = Tensor<Double>([[1, 0], [0, 1], [1, 1]])
        let b = Tensor<Double>([0.5, -1, 0])
        let y = linear(x, weight: w, bias: b)
        #expect(y.shape == [2, 3])
        #expect(y.scalars == [1.5, 1, 3, 0.5, -2, -1])
        #expect(linear(x, weight: w, bias: nil).scalars == [1, 2, 3, 0, -1, -1])
        let single = linear(Tensor([1.0, 2]), weight: w, bias: b)
        #expect(single.shape == [3])
        #expect(single.scalars == [1.5, 1, 3])
        let batch = linear(Tensor(shape: [2, 1, 2], scalars: [1, 2, 0, -1]), weight: w, bias: b)
        #expect(batch.shape == [2, 1, 3])
        #expect(batch.scalars == y.scalars)
    }

    @Test func linearGradientsByHand() {
        var x = Tensor<Double>([[1, 2], [0, -1]])
        x.requiresGrad = true
        var w = Tensor<Double>([[1, 0], [0, 1], [1, 1]])
        w.requiresGrad = true
        var b = Tensor<Double>([0.5, -1, 0])
        b.requiresGrad = true
        linear(x, weight: w, bias: b).sum().backward()
        #expect(x.grad?.scalars == [2, 2, 2, 2])
        #expect(w.grad?.scalars == [1, 1, 1, 1, 1, 1])
        #expect(b.grad?.scalars == [2, 2, 2])
    }

    /// Large enough for the BLAS path when a BLAS is loaded; the result must not depend on it.
    @Test func largeProductsMatchTheTripleLoop() {
        let g = RandomGenerator(seed: 3)
        let a = Tensor<Double>.normal([64, 48], generator: g)
        let b = Tensor<Double>.normal([48, 40], generator: g)
        #expect(mismatch(matmul(a, b), naiveProduct(a, b), rtol: 1e-12, atol: 1e-12) == nil)
        let af: Tensor<Float> = a.converted(), bf: Tensor<Float> = b.converted()
        #expect(mismatch(matmul(af, bf), naiveProduct(af, bf), rtol: 1e-4, atol: 1e-4) == nil)
    }

    @Test func largeGradientsMatchTheTripleLoop() {
        let g = RandomGenerator(seed: 4)
        var a = Tensor<Double>.normal([40, 64], generator: g)
        a.requiresGrad = true
        var b = Tensor<Double>.normal([64, 50], generator: g)
        b.requiresGrad = true
        let upstream = Tensor<Double>.normal([40, 50], generator: g)
        (matmul(a, b) * upstream).sum().backward()
        #expect(mismatch(a.grad!, naiveProduct(upstream, b.detached().transposed()), rtol: 1e-12, atol: 1e-12) == nil)
        #expect(mismatch(b.grad!, naiveProduct(a.detached().transposed(), upstream), rtol: 1e-12, atol: 1e-12) == nil)
    }

    @Test func batchAxesBroadcastAsInTorchMatmul() {
        // [2, 1, 3, 4] · [5, 4, 2] → [2, 5, 3, 2]: a's axis of 1 stretches to 5, b gains an axis of 2.
        let g = RandomGenerator(seed: 6)
        var a = Tensor<Double>.normal([2, 1, 3, 4], generator: g)
        a.requiresGrad = true
        var b = Tensor<Double>.normal([5, 4, 2], generator: g)
        b.requiresGrad = true
        let upstream = Tensor<Double>.normal([2, 5, 3, 2], generator: g)
        let p = matmul(a, b)
        #expect(p.shape == [2, 5, 3, 2])
        for i in 0..<2 {
            for j in 0..<5 {
                #expect(mismatch(p[i][j], naiveProduct(a[i][0], b[j]), rtol: 1e-12, atol: 1e-12) == nil, "[\(i), \(j)]")
            }
        }
        (p * upstream).sum().backward()
        // Each side's gradient sums the products it took part in.
        for i in 0..<2 {
            var expected = Tensor<Double>.zeros([3, 4])
            for j in 0..<5 { expected = expected + naiveProduct(upstream[i][j], b[j].detached().transposed()) }
            #expect(mismatch(a.grad![i][0], expected, rtol: 1e-12, atol: 1e-12) == nil, "a.grad[\(i)]")
        }
        for j in 0..<5 {
            var expected = Tensor<Double>.zeros([4, 2])
            for i in 0..<2 { expected = expected + naiveProduct(a[i][0].detached().transposed(), upstream[i][j]) }
            #expect(mismatch(b.grad![j], expected, rtol: 1e-12, atol: 1e-12) == nil, "b.grad[\(j)]")
        }
    }

    @Test func largeBatchedProductsMatchPerBatch() {
        let g = RandomGenerator(seed: 5)
        let a = Tensor<Double>.normal([3, 40, 36], generator: g)
        let b = Tensor<Double>.normal([3, 36, 44], generator: g)
        let p = matmul(a, b)
        for i in 0..<3 {
            #expect(mismatch(p[i], naiveProduct(a[i], b[i]), rtol: 1e-12, atol: 1e-12) == nil)
        }
    }

    @Test func largeLinearMatchesTheTripleLoop() {
        let g = RandomGenerator(seed: 6)
        let x = Tensor<Float>.normal([100, 64], generator: g)
        let w = Tensor<Float>.normal([80, 64], generator: g)
        let b = Tensor<Float>.normal([80], generator: g)
        let expected = naiveProduct(x, w.transposed()) + b
        #expect(mismatch(linear(x, weight: w, bias: b), expected, rtol: 1e-4, atol: 1e-4) == nil)
    }
}
