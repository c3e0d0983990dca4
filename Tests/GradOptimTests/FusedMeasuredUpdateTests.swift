import GradNN
import GradOptim
import GradTensor
import Testing

/// Adam and AdamW (Float, without AMSGrad) measure a step in their own update loop
/// (GradKernels' `gl_adam`), in Float lanes over chunks of 128 elements; a chunk whose Float
/// sums overflow is summed again in Double from the old values and differences the loop keeps.
/// The values must be those of an unmeasured step, the norms those of the weights before and
/// after, and `‖θ_old‖²` exactly what `Parameter.squaredValueNorm()` gives for the old values.
@Suite("Measured Adam updates in the update loop")
struct FusedMeasuredUpdateTests {
    static let optimizers: [(String, @Sendable ([Parameter<Float>]) throws -> any Optimizer<Float>)] = [
        ("Adam", { try Adam(parameters: $0, learningRate: 0.01) }),
        ("Adam with L2 decay", { try Adam(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }),
        ("AdamW", { try AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }),
        ("Adam, huge step", { try Adam(parameters: $0, learningRate: 1e19) }),
    ]

    /// `(Σ (new − old)², Σ old²)` in Double.
    static func norms(_ new: [Float], _ old: [Float]) -> (Double, Double) {
        (zip(new, old).reduce(0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) },
         old.reduce(0) { $0 + Double($1) * Double($1) })
    }

    /// 2083 elements (two full blocks, a partial one and a tail of 3), with weights of ordinary
    /// size and, with `huge`, some near 1e20 in the second block, whose squares overflow Float.
    @Test(arguments: optimizers.indices, [false, true])
    func sameValuesAndTheStepsNorms(_ index: Int, huge: Bool) throws {
        let (name, make) = Self.optimizers[index]
        var start = Tensor<Float>.normal([2083], generator: RandomGenerator(seed: 3)).scalars
        if huge { for i in 1100..<1110 { start[i] *= 1e20 } }
        let plain = Parameter(Tensor(shape: [2083], scalars: start)), measured = Parameter(Tensor(shape: [2083], scalars: start))
        let a = try make([plain]), b = try make([measured])
        for step in 0..<3 {
            let g = Tensor<Float>.normal([2083], generator: RandomGenerator(seed: 10 + UInt64(step)))
            plain.grad = g
            measured.grad = g
            let old = measured.value.scalars
            let oldSquares = measured.squaredValueNorm()
            a.step()
            measured.measuresUpdate = true
            measured.lastUpdate = nil
            b.step()
            measured.measuresUpdate = false
            let new = measured.value.scalars
            #expect(plain.value.scalars == new, "\(name) step \(step): values differ from an unmeasured step")
            let update = try #require(measured.lastUpdate, "\(name) step \(step)")
            let (expectedStep, expectedWeight) = Self.norms(new, old)
            #expect(update.squaredWeight.isFinite && update.squaredStep.isFinite)
            #expect(update.squaredWeight == oldSquares, "\(name) step \(step): ‖θ‖² of the update differs from the values' own")
            #expect(abs(update.squaredStep - expectedStep) <= 1e-5 * expectedStep,
                    "\(name) step \(step): ‖Δθ‖² \(update.squaredStep) vs \(expectedStep)")
            #expect(abs(update.squaredWeight - expectedWeight) <= 1e-5 * expectedWeight,
                    "\(name) step \(step): ‖θ‖² \(update.squaredWeight) vs \(expectedWeight)")
        }
    }

    /// The documented sum of squares of a Float parameter, written out: chunks of 128 from the
    /// start, eight Float lanes each, lanes added in Double as ((0+4)+(2+6))+((1+5)+(3+7)), a
    /// chunk whose lanes are not finite summed in Double, the last n mod 8 one by one.
    static func documentedSquares(_ x: [Float]) -> Double {
        var acc = 0.0, i = 0
        let n = x.count
        while i + 8 <= n {
            let start = i, end = i + 128 <= n ? i + 128 : n - n % 8
            var lanes = [Float](repeating: 0, count: 8)
            while i < end {
                for l in 0..<8 { lanes[l] += x[i + l] * x[i + l] }
                i += 8
            }
            let d = lanes.map(Double.init)
            var chunk = ((d[0] + d[4]) + (d[2] + d[6])) + ((d[1] + d[5]) + (d[3] + d[7]))
            if !chunk.isFinite { chunk = x[start..<end].reduce(0) { $0 + Double($1) * Double($1) } }
            acc += chunk
        }
        while i < n { acc += Double(x[i]) * Double(x[i]); i += 1 }
        return acc
    }

    @Test("Σθ² is the documented sum, bit for bit, under every instruction set", arguments: [0, 5, 128, 1073, 2083])
    func squaredValueNormIsTheDocumentedSum(count: Int) {
        var values = Tensor<Float>.normal([count], generator: RandomGenerator(seed: 7)).scalars
        if count > 300 { for i in 200..<210 { values[i] *= 1e20 } }  // a chunk that overflows Float
        let parameter = Parameter(Tensor(shape: [count], scalars: values))
        let saved = VectorKernels.instructionSet
        defer { VectorKernels.instructionSet = saved }
        var sets: [VectorKernels.InstructionSet] = [.baseline]
        if VectorKernels.bestInstructionSet == .avx2 { sets.append(.avx2) }
        for set in sets {
            VectorKernels.instructionSet = set
            #expect(parameter.squaredValueNorm() == Self.documentedSquares(values), "\(set) \(count)")
        }
    }

    @Test("Adam's Float step gives the same bits under every instruction set")
    func adamAgreesAcrossInstructionSets() throws {
        let saved = VectorKernels.instructionSet
        defer { VectorKernels.instructionSet = saved }
        var sets: [VectorKernels.InstructionSet] = [.baseline]
        if VectorKernels.bestInstructionSet == .avx2 { sets.append(.avx2) }
        var results: [[Float]] = []
        for set in sets {
            VectorKernels.instructionSet = set
            let parameter = Parameter(Tensor<Float>.normal([1003], generator: RandomGenerator(seed: 8)))
            let adam = try AdamW(parameters: [parameter], learningRate: 0.01, weightDecay: 0.1)
            for step in 0..<3 {
                parameter.grad = Tensor<Float>.normal([1003], generator: RandomGenerator(seed: 20 + UInt64(step)))
                parameter.measuresUpdate = step == 1
                adam.step()
            }
            results.append(parameter.value.scalars)
        }
        #expect(Set(results.map { $0.map(\.bitPattern) }).count == 1)
    }
}
