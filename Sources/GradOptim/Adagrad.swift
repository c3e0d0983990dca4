import GradNN
import GradTensor

/// Adagrad: gradient descent divided by the root of the sum of all past squared gradients
/// (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization"), as `torch.optim.Adagrad`.
///
/// With `g = ∇θ + λ·θ` and `t` the parameter's step count: `η_t = η / (1 + (t − 1)·δ)`,
/// `s ← s + g²` (starting at `s₀`), `θ ← θ − η_t · g / (√s + ε)`.
/// - `learningRate`: η > 0 (default 1e-2).
/// - `learningRateDecay`: δ ≥ 0 (default 0).
/// - `weightDecay`: λ ≥ 0, added to the gradient (default 0).
/// - `initialAccumulatorValue`: s₀ ≥ 0 (default 0).
/// - `epsilon`: ε ≥ 0 (default 1e-10).
public final class Adagrad<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates.
    public let parameters: [Parameter<Scalar>]
    /// η, the step size before decay; schedules set it between epochs.
    public var learningRate: Scalar { didSet { checkLearningRate(learningRate, "Adagrad") } }
    /// δ, the per-step decay of the learning rate.
    public let learningRateDecay: Scalar
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Scalar
    /// s₀, the starting value of the sum of squared gradients.
    public let initialAccumulatorValue: Scalar
    /// ε, added to the denominator.
    public let epsilon: Scalar

    var states: [AdagradState<Scalar>?]

    /// Makes an Adagrad optimizer; throws `OptimizerError` for a hyperparameter outside its range.
    ///
    /// `θ ← θ − η/(1 + (t − 1)·δ) · g / (√s + ε)` as described on the type.
    /// - Parameters:
    ///   - parameters: the parameters to update (each listed once).
    ///   - learningRate: η > 0.
    ///   - learningRateDecay: δ ≥ 0.
    ///   - weightDecay: λ ≥ 0.
    ///   - initialAccumulatorValue: s₀ ≥ 0.
    ///   - epsilon: ε ≥ 0.
    public init(
        parameters: [Parameter<Scalar>], learningRate: Scalar = 1e-2, learningRateDecay: Scalar = 0,
        weightDecay: Scalar = 0, initialAccumulatorValue: Scalar = 0, epsilon: Scalar = 1e-10
    ) throws {
        try Hyperparameter.positive("learning rate", learningRate)
        try Hyperparameter.nonNegative("learning rate decay", learningRateDecay)
        try Hyperparameter.nonNegative("weight decay", weightDecay)
        try Hyperparameter.nonNegative("initial accumulator value", initialAccumulatorValue)
        try Hyperparameter.nonNegative("epsilon", epsilon)
        checkDistinct(parameters, "Adagrad")
        self.parameters = parameters
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        states = Array(repeating: nil, count: parameters.count)
    }

    /// Updates every parameter that has a gradient: `θ ← θ − η_t·g/(√s + ε)` (see the type's formula).
    public func step() {
        // Run the whole step in a Float or Double specialization: generic code called across
        // modules is not specialized, and its loops run far slower (and allocate).
        if Scalar.self == Float.self {
            unsafeDowncast(self, to: Adagrad<Float>.self).performStep()
        } else if Scalar.self == Double.self {
            unsafeDowncast(self, to: Adagrad<Double>.self).performStep()
        } else {
            performStep()
        }
    }

    func performStep() {
        let lr = Double(learningRate), decay = Double(learningRateDecay)
        for index in parameters.indices {
            let parameter = parameters[index]
            guard let gradient = parameter.grad else { continue }
            if states[index] == nil {
                states[index] = AdagradState(count: gradient.count, initial: initialAccumulatorValue)
            }
            let state = states[index]!
            state.step += 1
            let clr = lr / (1 + Double(state.step - 1) * decay)
            parameter.update(from: gradient) { value, grad, offset, count in
                let kernel = AdagradKernel(
                    value: value, grad: grad, sum: state.sum.pointer + offset, count: count,
                    negativeRate: Scalar(-clr), weightDecay: weightDecay, epsilon: epsilon)
                kernel.run()
            }
        }
    }
}

/// The state Adagrad keeps for one parameter.
final class AdagradState<Scalar: TensorScalar> {
    /// Steps taken by this parameter (`t`).
    var step = 0
    /// `s`, the sum of squared gradients.
    let sum: StateBuffer<Scalar>

    init(count: Int, initial: Scalar) {
        sum = StateBuffer(count: count, repeating: initial)
    }
}

/// The elementwise Adagrad update of one parameter, in the order PyTorch computes it.
struct AdagradKernel<T: TensorScalar> {
    var value: UnsafeMutablePointer<T>
    var grad: UnsafePointer<T>
    var sum: UnsafeMutablePointer<T>
    var count: Int
    var negativeRate: T
    var weightDecay: T
    var epsilon: T

    @inline(__always)
    func run() {
        let decay = weightDecay != 0
        for i in 0..<count {
            let g = decay ? grad[i] + weightDecay * value[i] : grad[i]
            let s = sum[i] + g * g
            sum[i] = s
            value[i] += negativeRate * (g / (s.squareRoot() + epsilon))
        }
    }
}

extension Adagrad: CheckpointableOptimizer {
    /// The learning rate and each stepped parameter's `step` and `sum`.
    public func exportState() -> OptimizerState<Scalar> {
        var state = OptimizerState(learningRate: learningRate)
        for (index, s) in states.enumerated() {
            guard let s else { continue }
            state.counters.append(("\(index).step", s.step))
            state.tensors.append(("\(index).sum", s.sum.tensor(shape: parameters[index].shape)))
        }
        return state
    }

    /// Restores what `exportState()` returned; throws `OptimizerStateError` when it does not fit.
    public func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError) {
        let reader = try OptimizerStateReader(state, parameters: parameters, optimizer: "Adagrad", fields: ["sum"])
        var restored: [AdagradState<Scalar>?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices where reader.hasState(index) {
            let s = AdagradState<Scalar>(count: parameters[index].value.count, initial: 0)
            s.step = try reader.step(index)
            let sum = try reader.tensor(index, "sum", required: true)!
            sum.withUnsafeBufferPointer { if let base = $0.baseAddress { s.sum.pointer.update(from: base, count: $0.count) } }
            restored[index] = s
        }
        states = restored
        learningRate = state.learningRate
    }
}
