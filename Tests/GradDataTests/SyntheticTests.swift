import Testing
import GradData
import GradTensor

@Suite("Synthetic data sets")
struct SyntheticTests {
    @Test("XOR: balanced corners, label = sign disagreement, seeded noise")
    func xor() {
        let data = SyntheticData.xor(count: 400, noise: 0.2, seed: 3, as: Double.self)
        #expect(data.features.shape == [400, 2])
        #expect(data.targets.shape == [400, 1])
        let labels = data.labels ?? []
        #expect(labels.filter { $0 == 1 }.count == 200)
        #expect(data.targets.scalars == labels.map(Double.init))
        let points = rows(data.features)
        // Corner i mod 4: (−1,−1), (1,−1), (−1,1), (1,1); labels 0, 1, 1, 0.
        #expect(Array(labels.prefix(4)) == [0, 1, 1, 0])
        var agree = 0
        for (point, label) in zip(points, labels) where (point[0] * point[1] < 0) == (label == 1) { agree += 1 }
        // With σ = 0.2 a coordinate crosses 0 with probability Φ(−5) ≈ 3e-7.
        #expect(agree == 400)
        let noiseless = SyntheticData.xor(count: 4, noise: 0, as: Double.self)
        #expect(rows(noiseless.features) == [[-1, -1], [1, -1], [-1, 1], [1, 1]])
        #expect(SyntheticData.xor(count: 50, seed: 3, as: Float.self).features.scalars
                == SyntheticData.xor(count: 50, seed: 3, as: Float.self).features.scalars)
        #expect(SyntheticData.xor(count: 50, seed: 3, as: Float.self).features.scalars
                != SyntheticData.xor(count: 50, seed: 4, as: Float.self).features.scalars)
    }

    @Test("parity: the full 3-bit table, exactly")
    func parityTable() {
        let data = SyntheticData.parity(bits: 3, as: Float.self)
        #expect(rows(data.features) == [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1],
                                        [1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]])
        #expect(data.labels == [0, 1, 1, 0, 1, 0, 0, 1])
        #expect(data.targets.scalars == [0, 1, 1, 0, 1, 0, 0, 1])
        let signed = SyntheticData.parity(bits: 2, signed: true, as: Float.self)
        #expect(rows(signed.features) == [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    }

    @Test("parity: sampled patterns carry the parity of their bits and follow the seed")
    func paritySampled() {
        let data = SyntheticData.parity(bits: 30, count: 500, seed: 8, as: Double.self)
        #expect(data.features.shape == [500, 30])
        for (row, label) in zip(rows(data.features), data.labels ?? []) {
            #expect(Int(row.reduce(0, +)) % 2 == label)
        }
        let ones = (data.labels ?? []).filter { $0 == 1 }.count
        #expect(ones > 200 && ones < 300)
        #expect(SyntheticData.parity(bits: 30, count: 20, seed: 8, as: Double.self).features.scalars
                != SyntheticData.parity(bits: 30, count: 20, seed: 9, as: Double.self).features.scalars)
    }

    @Test("circles: radii 1 and factor without noise, classes split as scikit-learn does")
    func circles() {
        let clean = SyntheticData.circles(count: 101, noise: 0, factor: 0.3, as: Double.self)
        #expect(clean.features.shape == [101, 2])
        let labels = clean.labels ?? []
        #expect(labels.filter { $0 == 0 }.count == 50)
        #expect(labels.filter { $0 == 1 }.count == 51)
        for (point, label) in zip(rows(clean.features), labels) {
            let radius = (point[0] * point[0] + point[1] * point[1]).squareRoot()
            #expect(abs(radius - (label == 0 ? 1 : 0.3)) < 1e-12)
        }
        #expect(rows(clean.features)[0] == [1, 0])
        let noisy = SyntheticData.circles(count: 200, noise: 0.1, seed: 2, as: Double.self)
        let again = SyntheticData.circles(count: 200, noise: 0.1, seed: 2, as: Double.self)
        #expect(noisy.features.scalars == again.features.scalars)
        #expect(noisy.features.scalars != SyntheticData.circles(count: 200, noise: 0.1, seed: 3, as: Double.self).features.scalars)
        // Noise of 0.1 moves points off their circles, on average by about 0.1.
        let offsets = zip(rows(noisy.features), noisy.labels ?? []).map { point, label in
            abs((point[0] * point[0] + point[1] * point[1]).squareRoot() - (label == 0 ? 1 : 0.5))
        }
        let meanOffset = offsets.reduce(0, +) / Double(offsets.count)
        #expect(meanOffset > 0.04 && meanOffset < 0.15)
    }

    @Test("the seeds' linear and spiral sets keep their first values")
    func seedSetsUnchanged() {
        let linear = SyntheticData.linear(count: 3, seed: 0, as: Double.self)
        let rng = RandomGenerator(seed: 0)
        let x = (0..<3).map { _ in rng.nextNormal() }
        let y = x.map { 3 * $0 + 2 + 0.5 * rng.nextNormal() }
        #expect(linear.features.scalars == x)
        #expect(linear.targets.scalars == y)
        let spiral = SyntheticData.spiral(count: 10, seed: 0, as: Double.self)
        #expect(spiral.labels == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        #expect(spiral.features.scalars[0] == 0 && spiral.features.scalars[1] == 0)
    }
}
