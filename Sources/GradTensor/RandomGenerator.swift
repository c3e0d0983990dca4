import RealModule

/// A seedable random number generator (xoshiro256**, seeded through SplitMix64), so every run
/// is reproducible from one integer. Not shared between threads: give each its own.
public final class RandomGenerator: RandomNumberGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// Everything that decides the rest of a generator's stream: the four xoshiro256** words
    /// and the normal deviate `nextNormal()` keeps for its next call.
    public struct State: Codable, Sendable, Equatable {
        /// The xoshiro256** words `s0 … s3`.
        public var words: [UInt64]
        /// The second value of the last Box–Muller pair, if not yet returned.
        public var spareNormal: Double?
    }

    /// The generator's state; setting it makes the generator continue the stream it was read
    /// from (to checkpoint and resume a run exactly).
    public var state: State {
        get { State(words: [s0, s1, s2, s3], spareNormal: spareNormal) }
        set {
            precondition(newValue.words.count == 4, "RandomGenerator.state: expected 4 words, got \(newValue.words.count)")
            (s0, s1, s2, s3) = (newValue.words[0], newValue.words[1], newValue.words[2], newValue.words[3])
            spareNormal = newValue.spareNormal
        }
    }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    public func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller; the second value of each pair is kept for the next call).
    public func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u = 0.0
        repeat { u = nextUnitDouble() } while u == 0
        let v = nextUnitDouble()
        let r = (-2 * Double.log(u)).squareRoot()
        spareNormal = r * Double.sin(2 * .pi * v)
        return r * Double.cos(2 * .pi * v)
    }

    /// A random permutation of `0..<n` (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }
}

extension Tensor {
    /// Uniform on `[low, high)`.
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, generator: RandomGenerator) -> Tensor {
        let l = Double(low), span = Double(high) - Double(low)
        // Rounding to Float can land on `high`; keep the interval half-open.
        let top = low < high ? high.nextDown : high
        return Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in
            Swift.min(Scalar(l + span * generator.nextUnitDouble()), top)
        })
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1, generator: RandomGenerator) -> Tensor {
        let m = Double(mean), s = Double(std)
        return Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in Scalar(m + s * generator.nextNormal()) })
    }

    /// Normal(mean, std) truncated to `[low, high]` (as `torch.nn.init.trunc_normal_`: absolute
    /// bounds, default ±2), drawn by inverting the normal CDF on the allowed interval.
    public static func truncatedNormal(
        _ shape: [Int], mean: Scalar = 0, std: Scalar = 1, low: Scalar = -2, high: Scalar = 2,
        generator: RandomGenerator
    ) -> Tensor {
        precondition(low < high, "truncatedNormal: low \(low) must be below high \(high)")
        let m = Double(mean), s = Double(std)
        func cdf(_ x: Double) -> Double { 0.5 * (1 + Double.erf(x / 2.0.squareRoot())) }
        let lo = cdf((Double(low) - m) / s), hi = cdf((Double(high) - m) / s)
        return Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in
            let u = lo + (hi - lo) * generator.nextUnitDouble()
            let z = 2.0.squareRoot() * inverseErf(2 * u - 1)
            return Scalar(Swift.min(Swift.max(m + s * z, Double(low)), Double(high)))
        })
    }
}

/// The inverse error function, by Giles' approximation refined with two Newton steps (≈ 1e-15).
public func inverseErf(_ y: Double) -> Double {
    if y <= -1 { return -.infinity }
    if y >= 1 { return .infinity }
    var w = -Double.log((1 - y) * (1 + y))
    var x: Double
    if w < 6.25 {
        w -= 3.125
        var p = -3.6444120640178196996e-21
        for c in [-1.685059138182016589e-19, 1.2858480715256400167e-18, 1.115787767802518096e-17,
                  -1.333171662854620906e-16, 2.0972767875968561637e-17, 6.6376381343583238325e-15,
                  -4.0545662729752068639e-14, -8.1519341976054721522e-14, 2.6335093153082322977e-12,
                  -1.2975133253453532498e-11, -5.4154120542946279317e-11, 1.051212273321532285e-09,
                  -4.1126339803469836976e-09, -2.9070369957882005086e-08, 4.2347877827932403518e-07,
                  -1.3654692000834678645e-06, -1.3882523362786468719e-05, 0.0001867342080340571352,
                  -0.00074070253416626697512, -0.0060336708714301490533, 0.24015818242558961693,
                  1.6536545626831027356] { p = c + p * w }
        x = p * y
    } else if w < 16 {
        w = w.squareRoot() - 3.25
        var p = 2.2137376921775787049e-09
        for c in [9.0756561938885390979e-08, -2.7517406297064545428e-07, 1.8239629214389227755e-08,
                  1.5027403968909827627e-06, -4.013867526981545969e-06, 2.9234449089955446044e-06,
                  1.2475304481671778723e-05, -4.7318229009055733981e-05, 6.8284851459573175448e-05,
                  2.4031110387097893999e-05, -0.0003550375203628474796, 0.00095328937973738049703,
                  -0.0016882755560235047313, 0.0024914420961078508066, -0.0037512085075692412107,
                  0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635] { p = c + p * w }
        x = p * y
    } else {
        w = w.squareRoot() - 5
        var p = -2.7109920616438573243e-11
        for c in [-2.5556418169965252055e-10, 1.5076572693500548083e-09, -3.7894654401267369937e-09,
                  7.6157012080783393804e-09, -1.4960026627149240478e-08, 2.9147953450901080826e-08,
                  -6.7711997758452339498e-08, 2.2900482228026654717e-07, -9.9298272942317002539e-07,
                  4.5260625972231537039e-06, -1.9681778105531670567e-05, 7.5995277030017761139e-05,
                  -0.00021503011930044477347, -0.00013871931833623122026, 1.0103004648645343977,
                  4.8499064014085844221] { p = c + p * w }
        x = p * y
    }
    for _ in 0..<2 {
        let err = Double.erf(x) - y
        x -= err / (2 / Double.pi.squareRoot() * Double.exp(-x * x))
    }
    return x
}
