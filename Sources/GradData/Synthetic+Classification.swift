import GradTensor
import RealModule

extension SyntheticData {
    /// Noisy 2-D XOR: Gaussian blobs of standard deviation `noise` around the four corners
    /// `(2a − 1, 2b − 1)`, `a, b ∈ {0, 1}`, labelled `a XOR b` (1 where the coordinates' signs
    /// differ). Example `i` belongs to corner `a = i mod 2`, `b = ⌊i / 2⌋ mod 2`, so the classes
    /// are balanced; its noise `ε₁, ε₂ ~ N(0, 1)` is drawn in that order, example by example.
    /// Features `[count, 2]`, targets the class as 0/1 `[count, 1]` (for BCE), labels the class.
    ///
    /// - Parameters:
    ///   - count: number of points (≥ 1).
    ///   - noise: standard deviation of each blob (0.2 keeps the blobs apart).
    ///   - seed: fixes the noise.
    ///   - type: the element type of the tensors.
    public static func xor<Scalar: TensorScalar>(
        count: Int = 200, noise: Double = 0.2, seed: UInt64 = 0, as type: Scalar.Type = Scalar.self
    ) -> Dataset<Scalar> {
        precondition(count >= 1, "xor: count must be at least 1, got \(count)")
        precondition(noise >= 0, "xor: noise must be non-negative, got \(noise)")
        let rng = RandomGenerator(seed: seed)
        var features: [Scalar] = []
        features.reserveCapacity(2 * count)
        var labels: [Int] = []
        labels.reserveCapacity(count)
        for index in 0..<count {
            let a = index % 2, b = (index / 2) % 2
            let x = Double(2 * a - 1) + noise * rng.nextNormal()
            let y = Double(2 * b - 1) + noise * rng.nextNormal()
            features += [Scalar(x), Scalar(y)]
            labels.append(a ^ b)
        }
        return Dataset(features: Tensor(shape: [count, 2], scalars: features),
                       targets: Tensor(shape: [count, 1], scalars: labels.map { Scalar($0) }), labels: labels)
    }

    /// n-bit parity: each example is a bit pattern `k`, the features its bits, most significant
    /// first (row `k` of the full table reads as `k` in binary), the label `popcount(k) mod 2`.
    /// Without `count`, all `2^bits` patterns in order `k = 0, 1, ...`; with `count`, that many
    /// patterns drawn uniformly with replacement, `k = next() >> (64 − bits)`. Features are 0/1,
    /// or −1/+1 with `signed`. Targets the label as 0/1 `[n, 1]`, labels the label.
    ///
    /// - Parameters:
    ///   - bits: pattern length, 1...20 for the full table, 1...64 when sampling.
    ///   - count: number of sampled patterns, or nil for all of them.
    ///   - signed: features in {−1, +1} instead of {0, 1}.
    ///   - seed: fixes the sample (unused for the full table).
    ///   - type: the element type of the tensors.
    public static func parity<Scalar: TensorScalar>(
        bits: Int, count: Int? = nil, signed: Bool = false, seed: UInt64 = 0, as type: Scalar.Type = Scalar.self
    ) -> Dataset<Scalar> {
        precondition(bits >= 1 && bits <= 64, "parity: bits must be in 1...64, got \(bits)")
        let patterns: [UInt64]
        if let count {
            precondition(count >= 1, "parity: count must be at least 1, got \(count)")
            let rng = RandomGenerator(seed: seed)
            patterns = (0..<count).map { _ in rng.next() >> UInt64(64 - bits) }
        } else {
            precondition(bits <= 20, "parity: the full table of \(bits) bits is too large; pass count to sample")
            patterns = (0..<(UInt64(1) << UInt64(bits))).map { $0 }
        }
        let zero: Scalar = signed ? -1 : 0
        var features: [Scalar] = []
        features.reserveCapacity(patterns.count * bits)
        for pattern in patterns {
            for bit in stride(from: bits - 1, through: 0, by: -1) {
                features.append((pattern >> UInt64(bit)) & 1 == 1 ? 1 : zero)
            }
        }
        let labels = patterns.map { $0.nonzeroBitCount % 2 }
        return Dataset(features: Tensor(shape: [patterns.count, bits], scalars: features),
                       targets: Tensor(shape: [patterns.count, 1], scalars: labels.map { Scalar($0) }), labels: labels)
    }

    /// Two concentric circles (as scikit-learn's `make_circles`, without its shuffle): the
    /// first `⌊count / 2⌋` points lie on the unit circle (class 0) at angles `2π·i / n_outer`,
    /// the other `n_inner` points on the circle of radius `factor` (class 1) at angles
    /// `2π·i / n_inner`; then `noise·ε` with `ε ~ N(0, 1)` is added to x and y, drawn point by
    /// point in that order. Features `[count, 2]`, targets the class as 0/1 `[count, 1]`,
    /// labels the class.
    ///
    /// - Parameters:
    ///   - count: number of points (≥ 2).
    ///   - noise: standard deviation of the Gaussian noise added to each coordinate.
    ///   - factor: inner radius relative to the outer one, `0 < factor < 1`.
    ///   - seed: fixes the noise.
    ///   - type: the element type of the tensors.
    public static func circles<Scalar: TensorScalar>(
        count: Int = 200, noise: Double = 0.05, factor: Double = 0.5, seed: UInt64 = 0,
        as type: Scalar.Type = Scalar.self
    ) -> Dataset<Scalar> {
        precondition(count >= 2, "circles: count must be at least 2, got \(count)")
        precondition(noise >= 0, "circles: noise must be non-negative, got \(noise)")
        precondition(factor > 0 && factor < 1, "circles: factor must be in (0, 1), got \(factor)")
        let rng = RandomGenerator(seed: seed)
        let outer = count / 2, inner = count - outer
        var features: [Scalar] = []
        features.reserveCapacity(2 * count)
        var labels: [Int] = []
        labels.reserveCapacity(count)
        for (label, points, radius) in [(0, outer, 1.0), (1, inner, factor)] {
            for index in 0..<points {
                let angle = 2 * Double.pi * Double(index) / Double(points)
                let x = radius * Double.cos(angle) + noise * rng.nextNormal()
                let y = radius * Double.sin(angle) + noise * rng.nextNormal()
                features += [Scalar(x), Scalar(y)]
                labels.append(label)
            }
        }
        return Dataset(features: Tensor(shape: [count, 2], scalars: features),
                       targets: Tensor(shape: [count, 1], scalars: labels.map { Scalar($0) }), labels: labels)
    }
}
