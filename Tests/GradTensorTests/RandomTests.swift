import Foundation
import Testing
import GradTensor
import GradTestSupport

@Suite struct RandomTests {
    /// The first outputs of the reference C xoshiro256** seeded by SplitMix64, as this generator
    /// is (computed with Vigna's reference code).
    @Test func matchesTheReferenceStream() {
        let zero = RandomGenerator(seed: 0)
        #expect((0..<4).map { _ in zero.next() } == [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0, 0x6aa594f1262d2d2c])
        let answer = RandomGenerator(seed: 42)
        #expect((0..<4).map { _ in answer.next() } == [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1])
    }

    @Test func sameSeedSameStream() {
        let a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        let x = Tensor<Double>.normal([50], generator: RandomGenerator(seed: 9))
        let y = Tensor<Double>.normal([50], generator: RandomGenerator(seed: 9))
        #expect(x.scalars == y.scalars)
        let u = Tensor<Float>.uniform([50], generator: RandomGenerator(seed: 9))
        let v = Tensor<Float>.uniform([50], generator: RandomGenerator(seed: 9))
        #expect(u.scalars == v.scalars)
    }

    @Test func differentSeedsDiffer() {
        let a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        let sa = (0..<16).map { _ in a.next() }, sb = (0..<16).map { _ in b.next() }
        #expect(zip(sa, sb).allSatisfy { $0 != $1 })
        #expect(Tensor<Double>.normal([8], generator: RandomGenerator(seed: 1)).scalars
            != Tensor<Double>.normal([8], generator: RandomGenerator(seed: 2)).scalars)
    }

    @Test func bitsAreBalanced() {
        let g = RandomGenerator(seed: 11)
        var ones = [Int](repeating: 0, count: 64)
        let n = 20_000
        for _ in 0..<n {
            let v = g.next()
            for bit in 0..<64 where v >> UInt64(bit) & 1 == 1 { ones[bit] += 1 }
        }
        // Each bit is set half the time: 10,000 ± 5σ (σ ≈ 71).
        #expect(ones.allSatisfy { Swift.abs($0 - n / 2) < 360 }, "\(ones)")
    }

    @Test func unitDoublesAreInRange() {
        let g = RandomGenerator(seed: 12)
        let values = (0..<10_000).map { _ in g.nextUnitDouble() }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    /// Mean and variance of the elements.
    func moments(_ t: Tensor<Double>) -> (mean: Double, variance: Double) {
        let mean = t.mean().scalar
        return (mean, t.variance(unbiased: false).scalar)
    }

    @Test func uniformMoments() {
        let t = Tensor<Double>.uniform([100_000], low: -1, high: 3, generator: RandomGenerator(seed: 13))
        let (mean, variance) = moments(t)
        // U(−1, 3): mean 1, variance 16/12; standard error of the mean ≈ 0.0037.
        #expect(Swift.abs(mean - 1) < 0.02)
        #expect(Swift.abs(variance - 16.0 / 12) < 0.02)
        #expect(t.min().scalar >= -1 && t.max().scalar < 3)
    }

    @Test func floatUniformStaysBelowTheUpperBound() {
        // Between 1 and the next Float every draw rounds to one of the two; `high` is excluded.
        let high = Float(1).nextUp
        let t = Tensor<Float>.uniform([1000], low: 1, high: high, generator: RandomGenerator(seed: 14))
        #expect(t.scalars.allSatisfy { $0 == 1 })
    }

    @Test func normalMoments() {
        let t = Tensor<Double>.normal([100_000], mean: 2, std: 3, generator: RandomGenerator(seed: 15))
        let (mean, variance) = moments(t)
        // Standard error of the mean 0.0095, of the variance ≈ 0.04.
        #expect(Swift.abs(mean - 2) < 0.05)
        #expect(Swift.abs(variance - 9) < 0.2)
        // About 68.3% within one standard deviation.
        let inside = Double(t.scalars.filter { Swift.abs($0 - 2) < 3 }.count) / 100_000
        #expect(Swift.abs(inside - 0.6827) < 0.01)
    }

    @Test func truncatedNormalStaysInBounds() {
        let t = Tensor<Double>.truncatedNormal([50_000], generator: RandomGenerator(seed: 16))
        #expect(t.min().scalar >= -2 && t.max().scalar <= 2)
        let (mean, variance) = moments(t)
        // The standard normal truncated to [−2, 2] has variance 1 − 4φ(2)/(Φ(2) − Φ(−2)) ≈ 0.7737.
        #expect(Swift.abs(mean) < 0.02)
        #expect(Swift.abs(variance - 0.7737413035499232) < 0.02)
        let shifted = Tensor<Float>.truncatedNormal([5000], mean: 0, std: 1, low: 0.5, high: 1, generator: RandomGenerator(seed: 17))
        #expect(shifted.scalars.allSatisfy { $0 >= 0.5 && $0 <= 1 })
        let wide = Tensor<Double>.truncatedNormal([5000], mean: 10, std: 0.1, low: 9.9, high: 10.3, generator: RandomGenerator(seed: 18))
        #expect(wide.scalars.allSatisfy { $0 >= 9.9 && $0 <= 10.3 })
    }

    @Test func inverseErfInvertsErf() {
        for x in stride(from: -4.0, through: 4.0, by: 0.25) {
            #expect(isClose(inverseErf(Foundation.erf(x)), x, rtol: 1e-9, atol: 1e-12), "x = \(x)")
        }
        // Farther out erf is within 1e-10 of ±1 and its inverse ill-conditioned: check the residual.
        for x in stride(from: 4.25, through: 5.5, by: 0.25) {
            let y = Foundation.erf(x)
            #expect(Swift.abs(Foundation.erf(inverseErf(y)) - y) <= 2 * y.ulp, "x = \(x)")
            #expect(Swift.abs(Foundation.erf(inverseErf(-y)) + y) <= 2 * y.ulp, "x = −\(x)")
        }
        #expect(inverseErf(0) == 0)
        #expect(inverseErf(1) == .infinity)
        #expect(inverseErf(-1) == -.infinity)
    }

    @Test func permutationsArePermutations() {
        let p = RandomGenerator(seed: 19).permutation(100)
        #expect(p.sorted() == Array(0..<100))
        #expect(p != Array(0..<100))
        #expect(RandomGenerator(seed: 19).permutation(100) == p)
        #expect(RandomGenerator(seed: 1).permutation(0) == [])
        #expect(RandomGenerator(seed: 1).permutation(1) == [0])
    }

    @Test("A generator given another's state continues its stream, the kept normal deviate included")
    func stateContinuesTheStream() throws {
        let a = RandomGenerator(seed: 11)
        for _ in 0..<5 { _ = a.next() }
        _ = a.nextNormal()  // leaves the pair's second value for the next call
        let saved = a.state
        #expect(saved.spareNormal != nil)
        let b = RandomGenerator(seed: 999)
        b.state = try JSONDecoder().decode(RandomGenerator.State.self, from: JSONEncoder().encode(saved))
        #expect(b.nextNormal() == a.nextNormal())
        #expect((0..<50).map { _ in b.next() } == (0..<50).map { _ in a.next() })
    }
}
