import GradNN
import GradOptim
import GradTensor
import Testing

/// A step with `measuresUpdate` set runs in blocks of 1024 elements; it must give exactly the
/// same values and state as an unmeasured step, and report ‖Δθ‖² and ‖θ_old‖².
@Suite("Measured optimizer updates")
struct MeasuredUpdateTests {
    typealias MakeOptimizer = @Sendable ([Parameter<Float>]) throws -> any Optimizer<Float>

    static let optimizers: [(String, MakeOptimizer)] = [
        ("SGD momentum nesterov", { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
        ("Adam amsgrad", { try Adam(parameters: $0, learningRate: 0.01, weightDecay: 0.01, amsgrad: true) }),
        ("AdamW", { try AdamW(parameters: $0, learningRate: 0.01) }),
        ("RMSprop centered momentum", { try RMSprop(parameters: $0, learningRate: 0.01, momentum: 0.9, centered: true) }),
        ("Adagrad", { try Adagrad(parameters: $0, learningRate: 0.1) }),
    ]

    @Test("Bit-identical to an unmeasured step, with the step's norms", arguments: optimizers.indices)
    func identical(_ index: Int) throws {
        let (name, make) = Self.optimizers[index]
        // 2500 elements: two full blocks and a partial one, so per-element state is offset.
        let start = Tensor<Float>.normal([50, 50], generator: RandomGenerator(seed: 1))
        let gradients = (0..<3).map { Tensor<Float>.normal([50, 50], generator: RandomGenerator(seed: 10 + UInt64($0))) }
        let plain = Parameter(start), measured = Parameter(start)
        let a = try make([plain]), b = try make([measured])
        for (step, g) in gradients.enumerated() {
            plain.grad = g
            measured.grad = g
            let old = measured.value.scalars
            a.step()
            measured.measuresUpdate = step != 1
            measured.lastUpdate = nil
            b.step()
            #expect(plain.value.scalars == measured.value.scalars, "\(name) step \(step): values differ")
            let new = measured.value.scalars
            if step == 1 {
                #expect(measured.lastUpdate == nil, "\(name): an unmeasured step must not report norms")
                continue
            }
            let update = try #require(measured.lastUpdate, "\(name) step \(step)")
            let expectedStep = zip(new, old).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
            let expectedWeight = old.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(update.squaredStep - expectedStep) <= 1e-5 * expectedStep, "\(name) step \(step): ‖Δθ‖² \(update.squaredStep) vs \(expectedStep)")
            #expect(abs(update.squaredWeight - expectedWeight) <= 1e-5 * expectedWeight, "\(name) step \(step): ‖θ‖² \(update.squaredWeight) vs \(expectedWeight)")
        }
    }
}
