import Testing
import GradTensor
import GradTestSupport

@Suite struct TensorTests {
    @Test func initializersAndAccessors() {
        let t = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(t.shape == [2, 3])
        #expect(t.rank == 2)
        #expect(t.count == 6)
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
        #expect(t[element: 1, 2] == 6)
        #expect(t[element: 0, 1] == 2)
        let s = Tensor<Float>(2.5)
        #expect(s.shape == [])
        #expect(s.rank == 0)
        #expect(s.count == 1)
        #expect(s.scalar == 2.5)
        #expect(Tensor<Double>([7, 8]).shape == [2])
        #expect(Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]).scalars == [1, 2, 3, 4])
        #expect(Tensor<Double>(shape: [0, 3], scalars: []).count == 0)
    }

    @Test func factories() {
        #expect(Tensor<Double>.zeros([2]).scalars == [0, 0])
        #expect(Tensor<Float>.ones([2, 2]).scalars == [1, 1, 1, 1])
        #expect(Tensor<Double>.full([3], 7).scalars == [7, 7, 7])
        #expect(Tensor<Double>(shape: [2], repeating: -1).scalars == [-1, -1])
        let like = Tensor<Double>.ones(like: Tensor<Double>.zeros([2, 3]))
        #expect(like.shape == [2, 3] && like.scalars.allSatisfy { $0 == 1 })
        #expect(Tensor<Double>.zeros(like: like).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor<Double>.eye(2).scalars == [1, 0, 0, 1])
        #expect(Tensor<Double>.eye(2, 3).scalars == [1, 0, 0, 0, 1, 0])
        #expect(Tensor<Double>.eye(3, 2).scalars == [1, 0, 0, 1, 0, 0])
        #expect(Tensor<Double>.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(Tensor<Double>.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor<Double>.arange(3, 0, step: -1).scalars == [3, 2, 1])
        #expect(Tensor<Double>.arange(0, 0).count == 0)
        #expect(Tensor<Double>.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor<Double>.linspace(2, 3, count: 1).scalars == [2])
        #expect(Tensor<Double>.linspace(2, 3, count: 0).count == 0)
    }

    @Test func copyOnWrite() {
        let a = Tensor<Double>([1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 10 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
        // A reshaped view shares the elements until one side writes.
        var c = a.reshaped([3, 1])
        c.withUnsafeMutableBufferPointer { $0[1] = 20 }
        #expect(a.scalars == [1, 2, 3])
        #expect(c.scalars == [1, 20, 3])
        var d = a.detached()
        d.withUnsafeMutableBufferPointer { $0[2] = 30 }
        #expect(a.scalars == [1, 2, 3])
        #expect(d.scalars == [1, 2, 30])
        // Writing the original leaves the copies alone too.
        var e = Tensor<Double>([4, 5])
        let f = e
        e.withUnsafeMutableBufferPointer { $0[1] = 50 }
        #expect(f.scalars == [4, 5])
        #expect(e.scalars == [4, 50])
    }

    @Test func uniquelyHeldElementsAreWrittenInPlace() {
        var t = Tensor<Double>.zeros([4])
        let before = t.withUnsafeBufferPointer { $0.baseAddress }
        t.withUnsafeMutableBufferPointer { $0[0] = 1 }
        let after = t.withUnsafeBufferPointer { $0.baseAddress }
        #expect(before == after)
        #expect(t.scalars == [1, 0, 0, 0])
    }

    @Test func writesDoNotChangeValuesRecordedByAutodiff() {
        var w = Tensor<Double>([2, 3]); w.requiresGrad = true
        var x = Tensor<Double>([5, 7]); x.requiresGrad = true
        let loss = (x * w).sum()
        var changed = w
        changed.withUnsafeMutableBufferPointer { $0[0] = 100 }
        loss.backward()
        #expect(x.grad?.scalars == [2, 3])
        #expect(w.scalars == [2, 3])
    }

    @Test func conversionAndFiniteness() {
        let d = Tensor<Double>([1.5, -2.25, 1e300])
        let f: Tensor<Float> = d.converted()
        #expect(f.scalars[0] == 1.5 && f.scalars[1] == -2.25)
        #expect(f.scalars[2].isInfinite)
        #expect(d.isFinite)
        #expect(!f.isFinite)
        #expect(!Tensor<Double>([1, .nan]).isFinite)
        #expect(!Tensor<Double>(shape: [9], repeating: 1).reshaped([3, 3]).applying(.log).applying(.reciprocal).isFinite)
        #expect(Tensor<Double>(shape: [17], repeating: 2).isFinite)
        let mask = Tensor<Double>([1, .nan, -.infinity, 0]).finiteMask()
        #expect(mask.scalars == [1, 0, 0, 1])
    }

    @Test func descriptionOutput() {
        #expect(Tensor<Double>([[1, 2], [3, 4]]).description == "Tensor<Double>(shape: [2, 2], [[1.0, 2.0],\n [3.0, 4.0]])")
        #expect(Tensor<Float>(1.5).description == "Tensor<Float>(shape: [], 1.5)")
        #expect(Tensor<Double>(shape: [0], scalars: []).description == "Tensor<Double>(shape: [0], [])")
        let long = Tensor<Double>.arange(0, 20).description
        #expect(long == "Tensor<Double>(shape: [20], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, ..., 14.0, 15.0, 16.0, 17.0, 18.0, 19.0])")
    }

    /// The same basic arithmetic in both element types.
    func arithmetic<T: TensorScalar>(_ type: T.Type) -> [T] {
        let a = Tensor<T>([1, 2, 4])
        let b = Tensor<T>([2, 8, 2])
        return (a * b + a / b - b).scalars + (a.squared() - 1).scalars + [a.sum().scalar, a.mean().scalar]
    }

    @Test func floatAndDoubleAgree() {
        let expected: [Double] = [0.5, 8.25, 8, 0, 3, 15, 7, 7.0 / 3]
        let d = arithmetic(Double.self)
        let f = arithmetic(Float.self)
        for i in expected.indices {
            #expect(isClose(d[i], expected[i], rtol: 1e-15), "Double element \(i): \(d[i]) vs \(expected[i])")
            #expect(isClose(f[i], Float(expected[i]), rtol: 1e-6), "Float element \(i): \(f[i]) vs \(expected[i])")
        }
    }
}
