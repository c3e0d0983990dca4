import Foundation
import GradKernels
import GradTensor
import Testing

// GradKernels' statistics loops (`gl_moment_sums`, `gl_squared_norm`, `gl_saturated_count`)
// against the Swift loops GradDoctor ran before they moved to C, kept here as the reference:
// the monitor's records must not change by a bit, on either instruction set.

/// Σx, Σx², max |x| and zeros as GradDoctor's former Swift loop computed them (Swift SIMD8).
private func referenceMomentSums(_ x: [Float]) -> (sum: Double, squares: Double, maxAbs: Double, zeros: Int) {
    let n = x.count
    var sum = 0.0, squares = 0.0, zeros = 0
    var maxAbs = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let start = i
        let end = Swift.min(n - (n - i) % 8, i + 1024)
        var s = SIMD8<Float>(), q = SIMD8<Float>(), z = SIMD8<Int32>()
        while i < end {
            let v = SIMD8<Float>(x[i..<(i + 8)])
            s += v
            q += v * v
            let a = unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
            maxAbs.replace(with: a, where: a .> maxAbs)
            z &-= unsafeBitCast(v .== 0, to: SIMD8<Int32>.self)
            i += 8
        }
        sum += Double(s.sum())
        let block = Double(q.sum())
        if block.isFinite {
            squares += block
        } else {
            for j in start..<end { squares += Double(x[j]) * Double(x[j]) }
        }
        zeros += Int(z.wrappedSum())
    }
    var largest = Double(maxAbs.max())
    while i < n {
        let v = Double(x[i])
        sum += v; squares += v * v; largest = Swift.max(largest, Swift.abs(v))
        if v == 0 { zeros += 1 }
        i += 1
    }
    return (sum, squares, largest, zeros)
}

/// Σx² as GradDoctor's former Swift loop for output gradients computed it (two lane sets).
private func referenceSquaredNorm(_ x: [Float]) -> Double {
    let n = x.count
    var squares = 0.0
    var i = 0
    while i + 8 <= n {
        let start = i
        let end = Swift.min(n - (n - i) % 8, i + 1024)
        var q0 = SIMD8<Float>(), q1 = SIMD8<Float>()
        while i + 16 <= end {
            let v = SIMD8<Float>(x[i..<(i + 8)]), w = SIMD8<Float>(x[(i + 8)..<(i + 16)])
            q0 += v * v
            q1 += w * w
            i += 16
        }
        if i < end {
            let v = SIMD8<Float>(x[i..<(i + 8)])
            q0 += v * v
            i += 8
        }
        let block = Double((q0 + q1).sum())
        if block.isFinite {
            squares += block
        } else {
            for j in start..<end { squares += Double(x[j]) * Double(x[j]) }
        }
    }
    while i < n {
        squares += Double(x[i]) * Double(x[i])
        i += 1
    }
    return squares
}

/// Bits of a Double, so that NaN == NaN and −0 ≠ +0 in the comparisons.
private func bits(_ x: Double) -> UInt64 { x.bitPattern }

@Suite(.serialized) struct StatisticsKernelOrderTests {
    /// Lengths around the vector width and the 1024-element blocks.
    static let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 24, 100, 1000, 1023, 1024, 1025, 1032, 2047, 2048, 3001, 5000]

    /// Values over many magnitudes, with exact zeros, −0 and subnormals mixed in.
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        return (0..<n).map { _ in
            let r = next()
            switch r % 16 {
            case 0: return 0
            case 1: return -0.0
            case 2: return Float.leastNonzeroMagnitude * Float(r >> 40 & 0xFF)
            default:
                let mantissa = Float(r >> 40) / Float(1 << 24) * 2 - 1
                return mantissa * Float(sign: .plus, exponent: Int(r >> 8 & 31) - 16, significand: 1)
            }
        }
    }

    /// The cases: plain values, a block whose squares overflow Float (but not Double), a NaN,
    /// an infinity, and a Float sum that overflows.
    static func cases(_ n: Int) -> [(String, [Float])] {
        var result = [("plain", values(n, seed: UInt64(n) + 1))]
        guard n > 0 else { return result }
        var big = values(n, seed: UInt64(n) + 2)
        big[n / 2] = 3e19  // its square overflows Float
        result.append(("square overflows Float", big))
        var nan = values(n, seed: UInt64(n) + 3)
        nan[n - 1] = .nan
        result.append(("NaN", nan))
        var inf = values(n, seed: UInt64(n) + 4)
        inf[0] = -.infinity
        result.append(("infinity", inf))
        result.append(("sum overflows Float", [Float](repeating: .greatestFiniteMagnitude, count: n)))
        return result
    }

    /// Runs `body` under each instruction set this CPU has (the setting is process-wide, as
    /// in `VectorKernelsTests`), then restores the one in use before.
    static func onEachISA(_ body: (VectorKernels.InstructionSet) -> Void) {
        let saved = VectorKernels.instructionSet
        defer { VectorKernels.instructionSet = saved }
        for set in Set([.baseline, VectorKernels.bestInstructionSet]).sorted(by: { $0.rawValue > $1.rawValue }) {
            VectorKernels.instructionSet = set
            body(set)
        }
    }

    @Test func momentSumsMatchTheFormerSwiftLoopBitForBit() {
        Self.onEachISA { isa in
            for n in Self.lengths {
                for (name, x) in Self.cases(n) {
                    let expected = referenceMomentSums(x)
                    for extremes: Int32 in [0, 1] {
                        var got = gl_moment_sums()
                        x.withUnsafeBufferPointer { gl_moment_sums($0.baseAddress, n, extremes, &got) }
                        let label = "isa \(isa), n \(n), \(name), extremes \(extremes)"
                        #expect(bits(got.sum) == bits(expected.sum), "Σx: \(got.sum) vs \(expected.sum), \(label)")
                        #expect(bits(got.squares) == bits(expected.squares), "Σx²: \(got.squares) vs \(expected.squares), \(label)")
                        if extremes == 1 {
                            #expect(bits(got.max_abs) == bits(expected.maxAbs), "max|x|: \(got.max_abs) vs \(expected.maxAbs), \(label)")
                            #expect(got.zeros == expected.zeros, "zeros: \(got.zeros) vs \(expected.zeros), \(label)")
                        } else {
                            #expect(got.max_abs == 0 && got.zeros == 0, "\(label)")
                        }
                    }
                }
            }
        }
    }

    @Test func squaredNormMatchesTheFormerSwiftLoopBitForBit() {
        Self.onEachISA { isa in
            for n in Self.lengths {
                for (name, x) in Self.cases(n) {
                    let got = x.withUnsafeBufferPointer { gl_squared_norm($0.baseAddress, n) }
                    let expected = referenceSquaredNorm(x)
                    #expect(bits(got) == bits(expected), "Σx²: \(got) vs \(expected), isa \(isa), n \(n), \(name)")
                }
            }
        }
    }

    @Test func saturatedCountMatchesTheDefinition() {
        Self.onEachISA { isa in
            for n in Self.lengths {
                // Outputs of sigmoid (in [0, 1]) and tanh (in [−1, 1]), many near the limits.
                let x = (0..<n).map { i in Float(1 / (1 + exp(-(Double(i * 7919 % 2401) / 100 - 12)))) }
                let t = x.map { 2 * $0 - 1 }
                for (sigmoid, y) in [(true, x), (false, t)] {
                    for threshold in [0.01, 0.5] {
                        let limit = Float(sigmoid ? 0.25 * threshold : threshold)
                        let expected = y.filter { (sigmoid ? $0 * (1 - $0) : 1 - $0 * $0) < limit }.count
                        let got = y.withUnsafeBufferPointer { gl_saturated_count($0.baseAddress, n, sigmoid ? 1 : 0, limit) }
                        #expect(got == expected, "isa \(isa), n \(n), sigmoid \(sigmoid), threshold \(threshold)")
                    }
                }
            }
        }
    }

    @Test func deadUnitCountMatchesTheDefinition() {
        Self.onEachISA { isa in
            for units in [1, 2, 3, 5, 7, 8, 10, 12, 16, 24, 40, 64, 100, 129, 1000, 1025] {
                for rows in [1, 2, 3, 7, 8, 9, 33, 100] {
                    // Units 0, 3, 6, … are dead (zeros and −0); the others are nonzero in one
                    // row only (the last, the first, or a NaN there), or in about half the rows.
                    var x = [Float](repeating: 0, count: rows * units)
                    for u in 0..<units where u % 3 != 0 {
                        switch u % 4 {
                        case 0: x[(rows - 1) * units + u] = 1e-30
                        case 1: x[u] = -2
                        case 2: x[(rows / 2) * units + u] = .nan
                        default:
                            for r in 0..<rows where (r * 7 + u) % 2 == 0 { x[r * units + u] = Float(r + 1) }
                            x[(rows - 1) * units + u] = 5
                        }
                    }
                    for u in stride(from: 0, to: units, by: 3) where rows > 1 { x[units + u] = -0.0 }
                    let expected = (0..<units).filter { u in (0..<rows).allSatisfy { x[$0 * units + u] == 0 } }.count
                    #expect(expected == (units + 2) / 3)
                    let got = x.withUnsafeBufferPointer { gl_dead_unit_count($0.baseAddress, rows, units) }
                    #expect(got == expected, "isa \(isa), rows \(rows), units \(units): \(got) vs \(expected)")
                    // No dead unit: the early exit.
                    let live = (0..<(rows * units)).map { Float($0 % 5 == 0 ? 0 : 1) + Float($0 / units == 0 ? 1 : 0) }
                    let none = live.withUnsafeBufferPointer { gl_dead_unit_count($0.baseAddress, rows, units) }
                    #expect(none == 0, "isa \(isa), rows \(rows), units \(units), no dead unit: \(none)")
                }
            }
        }
    }
}
