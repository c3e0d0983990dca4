import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

@Suite("Learning-rate schedules")
struct LearningRateScheduleTests {
    /// η₀ = 0.1, step 3, γ = 0.5: epochs 0–2 use 0.1, 3–5 use 0.05, 6–8 use 0.025.
    @Test func stepLR() throws {
        let schedule = try StepLR(initial: 0.1, stepSize: 3, gamma: 0.5)
        #expect(schedule.learningRate(atEpoch: 0) == 0.1)
        #expect(schedule.learningRate(atEpoch: 2) == 0.1)
        #expect(schedule.learningRate(atEpoch: 3) == 0.05)
        #expect(schedule.learningRate(atEpoch: 8) == 0.025)
        #expect(isClose(try StepLR(initial: 1, stepSize: 2).learningRate(atEpoch: 4), 0.01, rtol: 1e-12))
    }

    /// η₀ = 2, γ = 0.5: 2, 1, 0.5, 0.25.
    @Test func exponentialLR() throws {
        let schedule = try ExponentialLR(initial: 2, gamma: 0.5)
        #expect(schedule.learningRates(epochs: 4) == [2, 1, 0.5, 0.25])
    }

    /// η₀ = 1, η_min = 0, T_max = 4: (1 + cos(π·e/4))/2 = 1, 0.853553, 0.5, 0.146447, 0,
    /// then rising again past T_max (0.146447 at epoch 5), as PyTorch's.
    @Test func cosineAnnealingLR() throws {
        let schedule = try CosineAnnealingLR(initial: 1, tMax: 4)
        expectClose(schedule.learningRates(epochs: 6), [1, 0.8535533906, 0.5, 0.1464466094, 0, 0.1464466094],
                    rtol: 0, atol: 1e-10)
        let floor = try CosineAnnealingLR(initial: 0.1, tMax: 10, etaMin: 0.01)
        #expect(isClose(floor.learningRate(atEpoch: 5), 0.055, rtol: 1e-12))
        #expect(isClose(floor.learningRate(atEpoch: 10), 0.01, rtol: 1e-12))
    }

    /// η₀ = 0.1, 4 epochs from factor 0.25: 0.025, 0.04375, 0.0625, 0.08125, then 0.1 onwards.
    @Test func linearWarmup() throws {
        let schedule = try LinearWarmup(initial: 0.1, warmupEpochs: 4, startFactor: 0.25)
        expectClose(schedule.learningRates(epochs: 7), [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1],
                    rtol: 1e-12)
    }

    /// `apply(to:epoch:)` sets the optimizer's learning rate, in its own precision.
    @Test func applySetsTheOptimizersRate() throws {
        let p = makeParameter([1], as: Float.self)
        let sgd = try SGD(parameters: [p], learningRate: 0.1)
        let schedule = try StepLR(initial: 0.1, stepSize: 1, gamma: 0.5)
        schedule.apply(to: sgd, epoch: 2)
        #expect(sgd.learningRate == Float(0.025))
        let optimizer: any Optimizer<Float> = sgd
        schedule.apply(to: optimizer, epoch: 1)
        #expect(sgd.learningRate == Float(0.05))
    }

    @Test func invalidArgumentsAreTypedErrors() throws {
        #expect(throws: OptimizerError.invalidHyperparameter(name: "step size", value: 0, expected: "a positive whole number")) {
            try StepLR(initial: 0.1, stepSize: 0)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "initial learning rate", value: -1, expected: "a positive number")) {
            try ExponentialLR(initial: -1, gamma: 0.9)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "gamma", value: 0, expected: "a positive number")) {
            try ExponentialLR(initial: 0.1, gamma: 0)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "tMax", value: -3, expected: "a positive whole number")) {
            try CosineAnnealingLR(initial: 0.1, tMax: -3)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "etaMin", value: -0.01, expected: "a non-negative number")) {
            try CosineAnnealingLR(initial: 0.1, tMax: 3, etaMin: -0.01)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "start factor", value: 0, expected: "a number in (0, 1]")) {
            try LinearWarmup(initial: 0.1, warmupEpochs: 3, startFactor: 0)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "warmup epochs", value: 0, expected: "a positive whole number")) {
            try LinearWarmup(initial: 0.1, warmupEpochs: 0, startFactor: 0.5)
        }
        let message = OptimizerError.invalidHyperparameter(name: "step size", value: 0, expected: "a positive whole number")
        #expect(message.description == "step size 0 is invalid: expected a positive whole number")
    }
}
