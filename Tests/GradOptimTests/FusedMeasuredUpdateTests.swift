import GradNN
import GradOptim
import GradTensor
import Testing

/// Adam and AdamW (Float, without AMSGrad) measure a step in their own update loop, in Float
/// blocks of 1024 elements; a block whose Float sums overflow is summed again in Double from
/// the old values kept by the loop. The values must be those of an unmeasured step, and the
/// norms those of the weights before and after.
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
            #expect(abs(update.squaredStep - expectedStep) <= 1e-5 * expectedStep,
                    "\(name) step \(step): ‖Δθ‖² \(update.squaredStep) vs \(expectedStep)")
            #expect(abs(update.squaredWeight - expectedWeight) <= 1e-5 * expectedWeight,
                    "\(name) step \(step): ‖θ‖² \(update.squaredWeight) vs \(expectedWeight)")
        }
    }
}
