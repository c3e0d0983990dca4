import Testing
import GradTensor

/// The C kernels behind small layers and the Float activations: the baseline (SSE2) and AVX2
/// builds give the same bits, and the fused chain computes exactly the sums its kernels
/// document. Serialized: the tests switch the process-wide instruction set.
@Suite(.serialized) struct VectorKernelsTests {
    /// `body`'s result under each instruction set this CPU has, baseline first.
    static func underEachInstructionSet<R>(_ body: () -> R) -> [R] {
        let saved = VectorKernels.instructionSet
        defer { VectorKernels.instructionSet = saved }
        var results: [R] = []
        var sets: [VectorKernels.InstructionSet] = [.baseline]
        if VectorKernels.bestInstructionSet == .avx2 { sets.append(.avx2) }
        for set in sets {
            VectorKernels.instructionSet = set
            #expect(VectorKernels.instructionSet == set)
            results.append(body())
        }
        return results
    }

    /// Bit patterns, so that NaNs compare (the sign of a NaN is not specified).
    static func bits(_ values: [Float]) -> [UInt32] { values.map { $0.isNaN ? 0x7FC0_0000 : $0.bitPattern } }

    @Test func choosingASetTheCPULacksGivesTheBaseline() {
        let saved = VectorKernels.instructionSet
        defer { VectorKernels.instructionSet = saved }
        VectorKernels.instructionSet = .avx2
        #expect(VectorKernels.instructionSet == VectorKernels.bestInstructionSet)
        VectorKernels.instructionSet = .baseline
        #expect(VectorKernels.instructionSet == .baseline)
    }

    @Test(arguments: ["exp", "sigmoid", "tanh", "silu", "relu"])
    func elementwiseFunctionsAndGradientsAgreeAcrossInstructionSets(function: String) {
        // 1003 values (not a multiple of the 16 lanes): a range, the tails, awkward points and
        // arbitrary bit patterns.
        let g = RandomGenerator(seed: 5)
        var xs: [Float] = (0..<700).map { _ in Float(-60 + 120 * g.nextUnitDouble()) }
        xs += (0..<280).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: g.next())) }
        xs += [0, -0.0, .nan, .infinity, -.infinity, 88.72, 88.73, -87.33, -87.34, -103, -104, 0.625, -0.625, 9, -9,
               1e-30, -1e-30, 3.4e38, -3.4e38, 1, -1, 0.5, -0.5]
        let results = Self.underEachInstructionSet { () -> ([UInt32], [UInt32]) in
            var x = Tensor<Float>(xs)
            x.requiresGrad = true
            let y: Tensor<Float>
            switch function {
            case "exp": y = x.exp()
            case "sigmoid": y = sigmoid(x)
            case "tanh": y = tanh(x)
            case "silu": y = silu(x)
            default: y = relu(x)
            }
            y.backward(Tensor<Float>((0..<xs.count).map { Float($0 % 7) - 3 }))
            return (Self.bits(y.scalars), Self.bits(x.grad!.scalars))
        }
        #expect(results.count >= 1)
        for r in results.dropFirst() {
            #expect(r.0 == results[0].0, "\(function) forward")
            #expect(r.1 == results[0].1, "\(function) gradient")
        }
    }

    @Test func chainAgreesAcrossInstructionSets() {
        for (trial, (rows, widths)) in [(1, [3, 4, 2]), (7, [1, 10, 10, 1]), (37, [16, 5, 16, 9]), (100, [2, 10, 3])].enumerated() {
            let results = Self.underEachInstructionSet { () -> [[UInt32]] in
                let g = RandomGenerator(seed: UInt64(40 + trial))
                var x = Tensor<Float>.uniform([rows, widths[0]], low: -2, high: 2, generator: g)
                x.requiresGrad = true
                var stages: [LinearChainStage<Float>] = []
                var leaves: [Tensor<Float>] = [x]
                for i in 1..<widths.count {
                    var w = Tensor<Float>.uniform([widths[i], widths[i - 1]], low: -1, high: 1, generator: g)
                    var b = Tensor<Float>.uniform([widths[i]], low: -1, high: 1, generator: g)
                    w.requiresGrad = true
                    b.requiresGrad = true
                    leaves += [w, b]
                    stages.append(LinearChainStage(weight: w, bias: b, activation: i % 2 == 1 ? .sigmoid : .relu))
                }
                let y = linearChain(x, stages)
                y.backward(Tensor<Float>.uniform(y.shape, low: -1, high: 1, generator: g))
                return [Self.bits(y.scalars)] + leaves.map { Self.bits($0.grad!.scalars) }
            }
            for r in results.dropFirst() { #expect(r == results[0], "rows \(rows), widths \(widths)") }
        }
    }

    /// `acc + a·b` as the kernels compute it: fused on arm64, where the Swift gemm fuses too.
    static func multiplyAdd(_ acc: Float, _ a: Float, _ b: Float) -> Float {
        #if arch(arm64)
        return acc.addingProduct(a, b)
        #else
        return acc + a * b
        #endif
    }

    /// `Σ_b u[b]·v[b]` in eight partial sums (lane `b mod 8`), combined as
    /// `((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))`.
    static func laneSum(_ u: [Float], _ v: [Float]) -> Float {
        var s = [Float](repeating: 0, count: 8)
        for b in u.indices { s[b % 8] = multiplyAdd(s[b % 8], u[b], v[b]) }
        return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
    }

    @Test func chainComputesTheDocumentedSums() {
        // x [13, 3] → Linear(3, 5) → ReLU → Linear(5, 2), output gradient G.
        let rows = 13
        let g = RandomGenerator(seed: 9)
        let x = Tensor<Float>.uniform([rows, 3], low: -2, high: 2, generator: g)
        var w1 = Tensor<Float>.uniform([5, 3], low: -1, high: 1, generator: g)
        var b1 = Tensor<Float>.uniform([5], low: -1, high: 1, generator: g)
        var w2 = Tensor<Float>.uniform([2, 5], low: -1, high: 1, generator: g)
        var b2 = Tensor<Float>.uniform([2], low: -1, high: 1, generator: g)
        w1.requiresGrad = true
        b1.requiresGrad = true
        w2.requiresGrad = true
        b2.requiresGrad = true
        let gradient = Tensor<Float>.uniform([rows, 2], low: -1, high: 1, generator: g)
        let y = linearChain(x, [LinearChainStage(weight: w1, bias: b1, activation: .relu),
                                LinearChainStage(weight: w2, bias: b2, activation: nil)])
        y.backward(gradient)

        // The reference, element by element.
        let xs = x.scalars, w1s = w1.scalars, b1s = b1.scalars, w2s = w2.scalars, b2s = b2.scalars, gs = gradient.scalars
        func affine(_ input: [Float], _ inputs: Int, _ w: [Float], _ b: [Float], _ outputs: Int) -> [Float] {
            var z = [Float](repeating: 0, count: rows * outputs)
            for r in 0..<rows {
                for o in 0..<outputs {
                    var acc: Float = 0
                    for i in 0..<inputs { acc = Self.multiplyAdd(acc, input[r * inputs + i], w[o * inputs + i]) }
                    z[r * outputs + o] = acc + b[o]
                }
            }
            return z
        }
        let z1 = affine(xs, 3, w1s, b1s, 5)
        let h = z1.map { $0 > 0 ? $0 : 0 }
        let out = affine(h, 5, w2s, b2s, 2)
        #expect(y.scalars == out)
        func column(_ m: [Float], _ width: Int, _ c: Int) -> [Float] { (0..<rows).map { m[$0 * width + c] } }
        let ones = [Float](repeating: 1, count: rows)
        let dw2 = (0..<2).flatMap { o in (0..<5).map { i in Self.laneSum(column(gs, 2, o), column(h, 5, i)) } }
        let db2 = (0..<2).map { Self.laneSum(column(gs, 2, $0), ones) }
        #expect(w2.grad!.scalars == dw2)
        #expect(b2.grad!.scalars == db2)
        // dh = G·W2, sequential over the outputs; dz1 = dh · relu'(z1).
        var dz1 = [Float](repeating: 0, count: rows * 5)
        for r in 0..<rows {
            for i in 0..<5 {
                var acc: Float = 0
                for o in 0..<2 { acc = Self.multiplyAdd(acc, gs[r * 2 + o], w2s[o * 5 + i]) }
                dz1[r * 5 + i] = acc * (z1[r * 5 + i] > 0 ? 1 : 0)
            }
        }
        let dw1 = (0..<5).flatMap { o in (0..<3).map { i in Self.laneSum(column(dz1, 5, o), column(xs, 3, i)) } }
        let db1 = (0..<5).map { Self.laneSum(column(dz1, 5, $0), ones) }
        #expect(w1.grad!.scalars == dw1)
        #expect(b1.grad!.scalars == db1)
    }

    /// Float `[N, C]` batch normalization runs on `gl_channel_sums`, `gl_channel_normalize` and
    /// `gl_channel_normalize_gradient`: under each instruction set, the output and every gradient
    /// are the bits of the documented operations, restated here element by element. Channel
    /// counts cover the kernels' blocks of 16 and 4 channels and the single-channel tail.
    @Test(arguments: [3, 21, 64])
    func batchNormOnRowsComputesTheDocumentedOperations(channels: Int) {
        let rows = 37, epsilon: Float = 1e-5
        let g = RandomGenerator(seed: UInt64(channels))
        let xs = (0..<rows * channels).map { _ in Float(3 + 2 * g.nextUnitDouble()) }
        let gammas = (0..<channels).map { _ in Float(0.5 + g.nextUnitDouble()) }
        let betas = (0..<channels).map { _ in Float(g.nextUnitDouble() - 0.5) }
        let dys = (0..<rows * channels).map { _ in Float(g.nextUnitDouble() - 0.5) }

        // The documented operations: sums in Double in row order, every Float operation rounded.
        let m = Double(rows)
        var y = [Float](repeating: 0, count: xs.count), n = y, dx = y
        var dGamma = [Float](repeating: 0, count: channels), dBeta = dGamma
        for c in 0..<channels {
            var sum = 0.0
            for r in 0..<rows { sum += Double(xs[r * channels + c]) }
            let mean = sum / m
            var squares = 0.0
            for r in 0..<rows {
                let d = Double(xs[r * channels + c]) - mean
                squares += d * d
            }
            let invStd = Float(1 / (squares / m + Double(epsilon)).squareRoot()), meanF = Float(mean)
            var sumDy = 0.0, sumDyN = 0.0
            for r in 0..<rows {
                let i = r * channels + c
                n[i] = (xs[i] - meanF) * invStd
                y[i] = n[i] * gammas[c] + betas[c]
                sumDy += Double(dys[i])
                sumDyN += Double(dys[i]) * Double(n[i])
            }
            (dBeta[c], dGamma[c]) = (Float(sumDy), Float(sumDyN))
            let factor = gammas[c] * invStd / Float(rows)
            for r in 0..<rows {
                let i = r * channels + c
                dx[i] = factor * (Float(rows) * dys[i] - dBeta[c] - n[i] * dGamma[c])
            }
        }

        let results = Self.underEachInstructionSet { () -> [[UInt32]] in
            var x = Tensor<Float>(shape: [rows, channels], scalars: xs)
            var weight = Tensor<Float>(gammas), bias = Tensor<Float>(betas)
            x.requiresGrad = true
            weight.requiresGrad = true
            bias.requiresGrad = true
            let out = batchNormalized(x, weight: weight, bias: bias, epsilon: epsilon).output
            out.backward(Tensor<Float>(shape: [rows, channels], scalars: dys))
            return [out.scalars, x.grad!.scalars, weight.grad!.scalars, bias.grad!.scalars].map(Self.bits)
        }
        let expected = [y, dx, dGamma, dBeta].map(Self.bits)
        for result in results {
            for (k, name) in ["output", "input gradient", "weight gradient", "bias gradient"].enumerated() {
                #expect(result[k] == expected[k], "\(name), \(channels) channels")
            }
        }
    }
}
