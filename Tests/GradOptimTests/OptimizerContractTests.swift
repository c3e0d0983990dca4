import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

/// One optimizer of each kind over `parameters`, with momentum-like state switched on.
func everyOptimizer<T: TensorScalar>(_ parameters: [Parameter<T>]) throws -> [(String, any Optimizer<T>)] {
    [
        ("SGD", try SGD(parameters: parameters, learningRate: T(0.1), momentum: T(0.9), weightDecay: T(0.01))),
        ("Adam", try Adam(parameters: parameters, learningRate: T(0.1), amsgrad: true)),
        ("AdamW", try AdamW(parameters: parameters, learningRate: T(0.1))),
        ("RMSprop", try RMSprop(parameters: parameters, momentum: T(0.5), centered: true)),
        ("Adagrad", try Adagrad(parameters: parameters, learningRate: T(0.1), learningRateDecay: T(0.1))),
    ]
}

@Suite("Optimizer contract")
struct OptimizerContractTests {
    /// A parameter whose gradient is nil is left exactly as it was, as PyTorch does, while the
    /// others move.
    @Test(arguments: bothPrecisions)
    func stepSkipsNilGradients(_ type: any TensorScalar.Type) throws {
        try checkSkipsNil(type)
    }
    func checkSkipsNil<T: TensorScalar>(_: T.Type) throws {
        let a = makeParameter([1, -2], as: T.self)
        let frozen = makeParameter([3, 4, 5], as: T.self)
        for (name, optimizer) in try everyOptimizer([a, frozen]) {
            let before = valuesOf(a)
            setGradient(a, [0.5, -0.25])
            setGradient(frozen, nil)
            optimizer.step()
            optimizer.step()
            #expect(valuesOf(frozen) == [3, 4, 5], "\(name) moved a parameter without gradient")
            #expect(valuesOf(a) != before, "\(name) did not move a parameter with a gradient")
            #expect(frozen.grad == nil, "\(name) created a gradient")
        }
    }

    /// `zeroGrad()` sets every gradient to nil (PyTorch's `set_to_none=True`).
    @Test func zeroGradClearsGradients() throws {
        let a = makeParameter([1, 2], as: Float.self)
        let b = makeParameter([3], as: Float.self)
        for (name, optimizer) in try everyOptimizer([a, b]) {
            setGradient(a, [1, 1])
            setGradient(b, [2])
            optimizer.zeroGrad()
            #expect(a.grad == nil && b.grad == nil, "\(name)")
        }
    }

    /// The first step with a gradient of zero leaves SGD, Adam, RMSprop and Adagrad where they
    /// are (nothing divides by zero: ε or the zero numerator keeps every value finite).
    @Test func zeroGradientIsFinite() throws {
        let a = makeParameter([1, -2], as: Double.self)
        for (name, optimizer) in try everyOptimizer([a]) {
            setGradient(a, [0, 0])
            optimizer.step()
            #expect(a.value.isFinite, "\(name) produced \(valuesOf(a))")
        }
        let plain = makeParameter([1, -2], as: Double.self)
        for optimizer in [try Adam(parameters: [plain]) as any Optimizer<Double>,
                          try RMSprop(parameters: [plain]), try Adagrad(parameters: [plain])] {
            setGradient(plain, [0, 0])
            optimizer.step()
        }
        #expect(valuesOf(plain) == [1, -2])
    }

    /// The optimizer keeps the parameters it was given, in order, and they are the same objects
    /// the model owns (updates are visible through the model).
    @Test func parametersAreShared() throws {
        let a = makeParameter([1], as: Double.self)
        let b = makeParameter([2], as: Double.self)
        let sgd = try SGD(parameters: [a, b], learningRate: 0.5)
        #expect(sgd.parameters.count == 2 && sgd.parameters[0] === a && sgd.parameters[1] === b)
        setGradient(b, [2])
        sgd.step()
        #expect(valuesOf(b) == [1])
    }

    /// A value type stays a value: a copy of a parameter's values taken before `step()` keeps
    /// the old values.
    @Test func stepDoesNotChangeCopies() throws {
        let a = makeParameter([1, 2], as: Float.self)
        let copy = a.value
        let sgd = try SGD(parameters: [a], learningRate: 1)
        setGradient(a, [1, 1])
        sgd.step()
        #expect(copy.scalars == [1, 2])
        #expect(valuesOf(a) == [0, 1])
    }
}

@Suite("Hyperparameter validation")
struct ValidationTests {
    @Test func nonPositiveLearningRateIsATypedError() throws {
        let p = makeParameter([1], as: Double.self)
        let negative = OptimizerError.invalidHyperparameter(name: "learning rate", value: -0.1, expected: "a positive number")
        #expect(throws: negative) { try SGD(parameters: [p], learningRate: -0.1) }
        #expect(throws: negative) { try Adam(parameters: [p], learningRate: -0.1) }
        #expect(throws: negative) { try AdamW(parameters: [p], learningRate: -0.1) }
        #expect(throws: negative) { try RMSprop(parameters: [p], learningRate: -0.1) }
        #expect(throws: negative) { try Adagrad(parameters: [p], learningRate: -0.1) }
        #expect(negative.description == "learning rate -0.1 is invalid: expected a positive number")
        let zero = OptimizerError.invalidHyperparameter(name: "learning rate", value: 0, expected: "a positive number")
        #expect(throws: zero) { try SGD(parameters: [p], learningRate: 0) }
        #expect(zero.description == "learning rate 0 is invalid: expected a positive number")
    }

    /// A `Float` hyperparameter is reported as written (−0.1, not −0.10000000149011612).
    @Test func floatValuesAreReportedAsWritten() throws {
        let p = makeParameter([1], as: Float.self)
        do {
            _ = try SGD(parameters: [p], learningRate: -0.1)
            Issue.record("expected an error")
        } catch let error as OptimizerError {
            #expect(error.description == "learning rate -0.1 is invalid: expected a positive number")
        }
    }

    @Test func nonFiniteValuesAreRejected() throws {
        let p = makeParameter([1], as: Double.self)
        #expect(throws: OptimizerError.invalidHyperparameter(name: "learning rate", value: .nan, expected: "a finite number")) {
            try Adam(parameters: [p], learningRate: .nan)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "weight decay", value: .infinity, expected: "a finite number")) {
            try SGD(parameters: [p], learningRate: 0.1, weightDecay: .infinity)
        }
        let error = OptimizerError.invalidHyperparameter(name: "learning rate", value: .nan, expected: "a finite number")
        #expect(error.description == "learning rate nan is invalid: expected a finite number")
    }

    @Test func sgdRules() throws {
        let p = makeParameter([1], as: Double.self)
        #expect(throws: OptimizerError.invalidHyperparameter(name: "momentum", value: -0.5, expected: "a non-negative number")) {
            try SGD(parameters: [p], learningRate: 0.1, momentum: -0.5)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "weight decay", value: -1, expected: "a non-negative number")) {
            try SGD(parameters: [p], learningRate: 0.1, weightDecay: -1)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "dampening", value: 1.5, expected: "a number in [0, 1]")) {
            try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, dampening: 1.5)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "momentum", value: 0, expected: "a positive number when nesterov is on")) {
            try SGD(parameters: [p], learningRate: 0.1, nesterov: true)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "dampening", value: 0.1, expected: "0 when nesterov is on")) {
            try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)
        }
        #expect(throws: Never.self) { try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, nesterov: true) }
    }

    @Test func adamRules() throws {
        let p = makeParameter([1], as: Float.self)
        #expect(throws: OptimizerError.invalidHyperparameter(name: "beta1", value: 1, expected: "a number in [0, 1)")) {
            try Adam(parameters: [p], beta1: 1)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "beta2", value: -0.1, expected: "a number in [0, 1)")) {
            try AdamW(parameters: [p], beta2: -0.1)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "epsilon", value: -1e-8, expected: "a non-negative number")) {
            try Adam(parameters: [p], epsilon: -1e-8)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "weight decay", value: -0.01, expected: "a non-negative number")) {
            try AdamW(parameters: [p], weightDecay: -0.01)
        }
        #expect(throws: Never.self) { try Adam(parameters: [p], beta1: 0, beta2: 0, epsilon: 0) }
    }

    @Test func rmspropAndAdagradRules() throws {
        let p = makeParameter([1], as: Double.self)
        #expect(throws: OptimizerError.invalidHyperparameter(name: "alpha", value: 1.5, expected: "a number in [0, 1]")) {
            try RMSprop(parameters: [p], alpha: 1.5)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "momentum", value: -0.9, expected: "a non-negative number")) {
            try RMSprop(parameters: [p], momentum: -0.9)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "learning rate decay", value: -1, expected: "a non-negative number")) {
            try Adagrad(parameters: [p], learningRateDecay: -1)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "initial accumulator value", value: -0.5, expected: "a non-negative number")) {
            try Adagrad(parameters: [p], initialAccumulatorValue: -0.5)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "epsilon", value: -1, expected: "a non-negative number")) {
            try Adagrad(parameters: [p], epsilon: -1)
        }
    }
}
