import GradNN
import GradOptim
import GradTensor
import Testing

/// Every optimizer's state survives `exportState` / `restoreState` bit for bit: an optimizer
/// restored after some steps continues exactly as the original, and a state that does not fit
/// is refused with a message naming the entry.
@Suite struct OptimizerStateTests {
    /// A named optimizer factory over given parameters.
    struct Kind: CustomStringConvertible, Sendable {
        let description: String
        let make: @Sendable ([Parameter<Float>]) throws -> any CheckpointableOptimizer<Float>
    }

    static let kinds: [Kind] = [
        Kind(description: "sgd") { try SGD(parameters: $0, learningRate: 0.1) },
        Kind(description: "sgd momentum nesterov decay") {
            try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        },
        Kind(description: "sgd momentum dampening") { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.8, dampening: 0.3) },
        Kind(description: "adam") { try Adam(parameters: $0, learningRate: 0.01, weightDecay: 0.001) },
        Kind(description: "adam amsgrad") { try Adam(parameters: $0, learningRate: 0.01, amsgrad: true) },
        Kind(description: "adamw") { try AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) },
        Kind(description: "adamw amsgrad") { try AdamW(parameters: $0, learningRate: 0.01, amsgrad: true) },
        Kind(description: "rmsprop") { try RMSprop(parameters: $0, learningRate: 0.01) },
        Kind(description: "rmsprop centered momentum") {
            try RMSprop(parameters: $0, learningRate: 0.01, weightDecay: 0.01, momentum: 0.9, centered: true)
        },
        Kind(description: "adagrad") { try Adagrad(parameters: $0, learningRate: 0.1, learningRateDecay: 0.01, initialAccumulatorValue: 0.1) },
    ]

    /// Three parameters (the last one never gets a gradient, so it has no state).
    static func parameters(seed: UInt64) -> [Parameter<Float>] {
        let generator = RandomGenerator(seed: seed)
        return [Parameter(.normal([3, 5], generator: generator)), Parameter(.normal([5], generator: generator)),
                Parameter(.normal([2, 2], generator: generator))]
    }

    /// Gives the first two parameters a gradient that depends on their values and `step`.
    static func setGradients(_ parameters: [Parameter<Float>], step: Int) {
        for parameter in parameters.prefix(2) {
            let values = parameter.value.scalars.enumerated().map { i, v in Float.sin(v * 3 + Float(i + step)) + 0.1 * v }
            parameter.grad = Tensor(shape: parameter.shape, scalars: values)
        }
    }

    static func bits(_ parameters: [Parameter<Float>]) -> [[UInt32]] {
        parameters.map { $0.value.scalars.map(\.bitPattern) }
    }

    @Test(arguments: kinds)
    func restoredOptimizerContinuesBitForBit(_ kind: Kind) throws {
        let original = Self.parameters(seed: 5)
        let optimizer = try kind.make(original)
        for step in 0..<4 {
            Self.setGradients(original, step: step)
            optimizer.step()
        }
        optimizer.learningRate *= 0.5
        let state = optimizer.exportState()
        #expect(!state.tensors.isEmpty || kind.description == "sgd", "no state exported")
        #expect(!state.tensors.contains { $0.name.hasPrefix("2.") }, "the parameter without gradients has state")

        // A second optimizer over copies of the weights, restored from the state.
        let copies = original.map { Parameter(Tensor<Float>(shape: $0.shape, scalars: $0.value.scalars)) }
        let restored = try kind.make(copies)
        try restored.restoreState(state)
        #expect(restored.learningRate == optimizer.learningRate)
        for step in 4..<9 {
            Self.setGradients(original, step: step)
            Self.setGradients(copies, step: step)
            optimizer.step()
            restored.step()
        }
        #expect(Self.bits(original) == Self.bits(copies))
        // Exporting again gives the same tensors, bit for bit.
        let again = restored.exportState(), reference = optimizer.exportState()
        #expect(again.tensors.map(\.name) == reference.tensors.map(\.name))
        #expect(again.tensors.map { $0.value.scalars.map(\.bitPattern) } == reference.tensors.map { $0.value.scalars.map(\.bitPattern) })
        #expect(again.counters.map(\.value) == reference.counters.map(\.value))
    }

    @Test(arguments: kinds)
    func exportedStateIsACopy(_ kind: Kind) throws {
        let parameters = Self.parameters(seed: 9)
        let optimizer = try kind.make(parameters)
        Self.setGradients(parameters, step: 0)
        optimizer.step()
        let before = optimizer.exportState()
        Self.setGradients(parameters, step: 1)
        optimizer.step()
        let after = optimizer.exportState()
        if !before.tensors.isEmpty {
            #expect(before.tensors.map { $0.value.scalars } != after.tensors.map { $0.value.scalars })
        }
        if let step = before.counter("0.step") { #expect(after.counter("0.step") == step + 1) }
    }

    @Test func misfitStatesAreRefusedWithTheEntryNamed() throws {
        let parameters = Self.parameters(seed: 1)
        let adam = try Adam(parameters: parameters)
        Self.setGradients(parameters, step: 0)
        adam.step()
        var state = adam.exportState()

        var wrongShape = state
        wrongShape.tensors[0].value = Tensor<Float>.zeros([4])
        #expect(throws: OptimizerStateError.shapeMismatch(name: "0.exp_avg", expected: [3, 5], found: [4])) {
            try adam.restoreState(wrongShape)
        }
        var missing = state
        missing.tensors.removeAll { $0.name == "1.exp_avg_sq" }
        #expect(throws: OptimizerStateError.missingEntry(name: "1.exp_avg_sq", optimizer: "Adam")) { try adam.restoreState(missing) }
        var unknown = state
        unknown.tensors.append(("7.exp_avg", Tensor<Float>.zeros([1])))
        #expect(throws: OptimizerStateError.unexpectedEntry(name: "7.exp_avg", optimizer: "Adam")) { try adam.restoreState(unknown) }
        var amsgradOnly = state
        amsgradOnly.tensors.append(("0.max_exp_avg_sq", Tensor<Float>.zeros([3, 5])))
        #expect(throws: OptimizerStateError.unexpectedEntry(name: "0.max_exp_avg_sq", optimizer: "Adam")) {
            try adam.restoreState(amsgradOnly)
        }
        state.counters[0].value = 0
        #expect(throws: OptimizerStateError.invalidCounter(name: "0.step", value: 0)) { try adam.restoreState(state) }
        #expect("\(OptimizerStateError.missingEntry(name: "1.exp_avg_sq", optimizer: "Adam"))"
                == "optimizer state '1.exp_avg_sq' is missing (Adam needs it)")

        let sgd = try SGD(parameters: parameters, learningRate: 0.1)
        let buffer = OptimizerState<Float>(learningRate: 0.1, tensors: [("0.momentum_buffer", Tensor<Float>.zeros([3, 5]))])
        #expect(throws: OptimizerStateError.unexpectedEntry(name: "0.momentum_buffer", optimizer: "SGD")) {
            try sgd.restoreState(buffer)
        }
    }

    @Test func aFailedRestoreLeavesTheStateAlone() throws {
        let parameters = Self.parameters(seed: 2)
        let rmsprop = try RMSprop(parameters: parameters, momentum: 0.5)
        Self.setGradients(parameters, step: 0)
        rmsprop.step()
        let before = rmsprop.exportState()
        var bad = before
        bad.tensors.removeAll { $0.name == "1.momentum_buffer" }
        #expect(throws: OptimizerStateError.self) { try rmsprop.restoreState(bad) }
        let after = rmsprop.exportState()
        #expect(after.tensors.map(\.name) == before.tensors.map(\.name))
        #expect(after.tensors.map { $0.value.scalars } == before.tensors.map { $0.value.scalars })
    }

    @Test func autoClipHistoryRoundTrips() throws {
        let parameters = Self.parameters(seed: 3)
        let named = parameters.enumerated().map { ("\($0.offset).weight", $0.element) }
        let clipper = try GradientClipper(.autoClip(percentile: 30), namedParameters: named)
        for step in 0..<6 {
            Self.setGradients(parameters, step: step)
            _ = clipper.clip()
        }
        #expect(clipper.normHistory.count == 6)
        #expect(clipper.normHistory == clipper.normHistory.sorted())
        let copy = try GradientClipper(.autoClip(percentile: 30), namedParameters: named)
        copy.restoreNormHistory(clipper.normHistory.reversed())
        Self.setGradients(parameters, step: 6)
        let a = clipper.clip()
        Self.setGradients(parameters, step: 6)
        let b = copy.clip()
        #expect(a == b)
        #expect(a.maxNorm != nil)
    }
}
