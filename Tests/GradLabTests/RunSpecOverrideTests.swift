import Foundation
import Testing
import GradLab
import GradTestSupport

/// The MLP of a spec (fails the test for a layer list).
private func mlp(_ s: RunSpec) throws -> MLPSpec {
    guard case .mlp(let mlp) = s.model else { throw SpecError.invalid(file: "", location: nil, path: "model", problem: "not an MLP") }
    return mlp
}

/// The doctor's remedies and `--grid` overrides applied to specs.
@Suite struct RunSpecOverrideTests {
    let base: RunSpec
    let layerList: RunSpec

    init() throws {
        base = try spec("""
            model: {mlp: {input: 1, hidden: [10, 20, 30], output: 1, activation: sigmoid, init: xavier_uniform}}
            train: {optimizer: {type: sgd, lr: 0.1, momentum: 0.9}, epochs: 50, schedule: cosine}
            """)
        layerList = try spec("model: {layers: [{linear: {in: 1, out: 4}}, relu, {linear: {in: 4, out: 1}}]}\ntrain: {optimizer: {type: adam, lr: 0.01}}")
    }

    @Test func everyRemedy() throws {
        let activation = try base.applying(.useActivation(.relu, weightInitialization: .kaimingUniform()))
        #expect(try mlp(activation).activation == .relu && mlp(activation).initializer == .kaimingUniform())
        let keepInit = try base.applying(.useActivation(.tanh, weightInitialization: nil))
        #expect(try mlp(keepInit).activation == .tanh && mlp(keepInit).initializer == .xavierUniform())
        let initialization = try base.applying(.initialization(weight: .orthogonal(gain: 2), bias: .zeros))
        #expect(try mlp(initialization).initializer == .orthogonal(gain: 2) && mlp(initialization).biasInitializer == .zeros)
        #expect(try mlp(base.applying(.batchNorm)).batchNorm)
        let residual = try spec("model: {mlp: {input: 1, hidden: [8, 8], output: 1}}").applying(.residualConnections)
        #expect(try mlp(residual).residual)
        #expect(try base.applying(.clipGradNorm(maxNorm: 3.5, rule: .averageNorm)).train.clip == .norm(maxNorm: 3.5))
        #expect(isClose(try base.applying(.lowerLearningRate(factor: 0.1)).train.optimizer.learningRate, 0.01))
        #expect(isClose(try base.applying(.raiseLearningRate(factor: 10)).train.optimizer.learningRate, 1.0))
        // Only the remedy's part changes.
        let clipped = try base.applying(.clipGradNorm(maxNorm: 1, rule: .autoClip(percentile: 10)))
        #expect(clipped.model == base.model && clipped.data == base.data && clipped.train.optimizer == base.train.optimizer)
    }

    @Test func remediesThatCannotApplySayWhy() throws {
        let lstm = try #require(throws: SpecError.self) { try base.applying(.useLSTMOrGRU) }
        #expect(lstm.description.hasPrefix("spec.yaml: remedy use_lstm_or_gru cannot be applied: "))
        #expect(lstm.message.contains("recurrent"))
        let layers = try #require(throws: SpecError.self) { try layerList.applying(.batchNorm) }
        #expect(layers.message.contains("remedy batch_norm") && layers.message.contains("model.layers"))
        #expect(throws: SpecError.self) { try layerList.applying(.useActivation(.relu, weightInitialization: nil)) }
        // Training remedies work on layer lists.
        #expect(try layerList.applying(.clipGradNorm(maxNorm: 5, rule: .averageNorm)).train.clip == .norm(maxNorm: 5))
        #expect(isClose(try layerList.applying(.lowerLearningRate(factor: 0.5)).train.optimizer.learningRate, 0.005))
        // Residual blocks need a hidden layer of unchanged width; GELU has no Kaiming gain.
        let unequal = try #require(throws: SpecError.self) { try base.applying(.residualConnections) }
        #expect(unequal.message.contains("model.mlp.residual"))
        let kaiming = try spec("model: {mlp: {input: 1, hidden: [4], output: 1, init: kaiming_uniform}}")
        #expect(throws: SpecError.self) { try kaiming.applying(.useActivation(.gelu, weightInitialization: nil)) }
    }

    @Test func everyGridKey() throws {
        #expect(try mlp(base.overriding("depth", with: "5")).hidden == [10, 10, 10, 10, 10])
        #expect(try mlp(base.overriding("width", with: "7")).hidden == [7, 7, 7])
        #expect(try mlp(base.overriding("activation", with: "relu")).activation == .relu)
        #expect(try mlp(base.overriding("init", with: "xavier")).initializer == .xavierUniform())
        #expect(try mlp(base.overriding("init", with: "kaiming")).initializer == .kaimingUniform())
        #expect(try mlp(base.overriding("init", with: "kaiming_normal")).initializer == .kaimingNormal())
        #expect(try mlp(base.overriding("init", with: "orthogonal")).initializer == .orthogonal())
        #expect(try base.overriding("lr", with: "0.003").train.optimizer == .sgd(lr: 0.003, momentum: 0.9))
        #expect(try base.overriding("optimizer", with: "adam").train.optimizer == .adam(lr: 0.1))
        #expect(try mlp(base.overriding("batch_norm", with: "true")).batchNorm)
        #expect(try mlp(base.overriding("residual", with: "true").overriding("width", with: "4")).residual)
        #expect(try base.overriding("clip", with: "10").train.clip == .norm(maxNorm: 10))
        #expect(try base.overriding("clip", with: "none").train.clip == GradientClipping.none)
        let epochs = try base.overriding("epochs", with: "80")
        #expect(epochs.train.epochs == 80)
        #expect(epochs.train.schedule == .cosine(tMax: 80, etaMin: 0))
        #expect(try base.overriding("batch_size", with: "16").train.batchSize == 16)
        #expect(try base.overriding("batch_size", with: "full").train.batchSize == nil)
        #expect(try base.overriding("seed", with: "42").train.seed == 42)
        // A grid point is a chain of overrides.
        let point = try base.overriding("depth", with: "2").overriding("activation", with: "relu").overriding("init", with: "kaiming")
        #expect(try mlp(point) == MLPSpec(input: 1, hidden: [10, 10], output: 1, activation: .relu, initializer: .kaimingUniform()))
        #expect(try RunSpec.parse(point.yaml, file: "point.yaml") == point)
    }

    @Test func badGridValuesNameTheGridAndTheKey() throws {
        let cases: [(String, String, String)] = [
            ("depth", "two", "--grid: depth: expected a whole number ≥ 1, found 'two'"),
            ("depth", "0", "--grid: depth: expected a whole number ≥ 1, found 0"),
            ("width", "-3", "--grid: width: expected a whole number ≥ 1, found -3"),
            ("activation", "sigmod", "--grid: activation: unknown value 'sigmod' (expected one of sigmoid, tanh, relu, leaky_relu, prelu, elu, selu, gelu, softplus, silu, hardtanh, softsign, linear); did you mean 'sigmoid'?"),
            ("init", "xavierr", "--grid: init: unknown value 'xavierr' (expected one of default, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal, normal, uniform, zeros, ones, constant, truncated_normal, sparse, eye)"),
            ("init", "constant", "--grid: init: constant needs a parameter: write {type: constant, value: 0.1}"),
            ("lr", "0", "--grid: lr: expected a positive number, found 0"),
            ("lr", "fast", "--grid: lr: expected a positive number, found 'fast'"),
            ("optimizer", "lbfgs", "--grid: optimizer: unknown value 'lbfgs' (expected one of sgd, adam, adamw, rmsprop, adagrad)"),
            ("batch_norm", "maybe", "--grid: batch_norm: expected true or false, found 'maybe'"),
            ("clip", "-1", "--grid: clip: expected a positive number, found -1"),
            ("epochs", "1.5", "--grid: epochs: expected a whole number ≥ 1, found 1.5"),
            ("batch_size", "half", "--grid: batch_size: expected full or a whole number ≥ 1, found 'half'"),
            ("seed", "-1", "--grid: seed: expected a whole number in 0...18446744073709551615, found -1"),
            ("dept", "3", "--grid: dept: unknown key 'dept' (expected one of depth, width, activation, init, lr, optimizer, batch_norm, residual, clip, epochs, batch_size, seed); did you mean 'depth'?"),
        ]
        for (key, value, expected) in cases {
            let error = try #require(throws: SpecError.self) { try base.overriding(key, with: value) }
            #expect(error.description == expected)
            #expect(error == .badOverride(key: key, value: value, problem: error.message))
        }
        // Model keys need the MLP shorthand.
        let layers = try #require(throws: SpecError.self) { try layerList.overriding("depth", with: "3") }
        #expect(layers.description.hasPrefix("--grid: depth: needs the MLP shorthand"))
        let noHidden = try #require(throws: SpecError.self) { try spec("model: {mlp: {input: 1, output: 1}}").overriding("depth", with: "3") }
        #expect(noHidden.message.contains("no hidden layer"))
        // Combinations are checked on the finished grid point (validate, and makeModel), so the
        // order of the keys does not matter.
        let kaiming = try spec("model:\n  mlp: {input: 1, hidden: [4], output: 1, init: kaiming_uniform}\n")
        let gelu = try kaiming.overriding("activation", with: "gelu")
        let inconsistent = try #require(throws: SpecError.self) { try gelu.validate() }
        #expect(inconsistent.description.hasPrefix("spec.yaml:2:49: model.mlp.init: kaiming_uniform takes its gain from the activation"))
        #expect(throws: SpecError.self) { try gelu.makeModel(generator: RandomGenerator(seed: 0)) }
        try gelu.overriding("init", with: "xavier_uniform").overriding("init", with: "default").validate()
        let unequal = try base.overriding("residual", with: "true")
        #expect(throws: SpecError.self) { try unequal.validate() }
        try unequal.overriding("width", with: "8").validate()
        // Training keys work on layer lists.
        #expect(try layerList.overriding("lr", with: "0.5").train.optimizer == .adam(lr: 0.5))
    }
}
