import GradNN
import GradTensor

/// RMSprop: gradient descent divided by a running root mean square of the gradient
/// (Hinton, Neural Networks for Machine Learning, lecture 6e), as `torch.optim.RMSprop`.
///
/// With `g = ∇θ + λ·θ`: `v ← α·v + (1 − α)·g²`; centered: `ḡ ← α·ḡ + (1 − α)·g` and
/// `s = √(v − ḡ²) + ε`, otherwise `s = √v + ε`; with momentum μ > 0 `b ← μ·b + g/s` and
/// `θ ← θ − η·b`, otherwise `θ ← θ − η·g/s`. All state starts at zero.
/// - `learningRate`: η > 0 (default 1e-2).
/// - `alpha`: α in [0, 1], the smoothing constant (default 0.99).
/// - `epsilon`: ε ≥ 0 (default 1e-8).
/// - `weightDecay`: λ ≥ 0, added to the gradient (default 0).
/// - `momentum`: μ ≥ 0 (default 0).
/// - `centered`: normalize by the estimated variance instead of the second moment.
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates.
    public let parameters: [Parameter<Scalar>]
    /// η, the step size; schedules set it between epochs.
    public var learningRate: Scalar { didSet { checkLearningRate(learningRate, "RMSprop") } }
    /// α, the smoothing constant of the running averages.
    public let alpha: Scalar
    /// ε, added to the denominator.
    public let epsilon: Scalar
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Scalar
    /// μ, the momentum factor.
    public let momentum: Scalar
    /// Whether the gradient's running mean is subtracted (centered RMSprop).
    public let centered: Bool

    var states: [RMSpropState<Scalar>?]

    /// Makes an RMSprop optimizer; throws `OptimizerError` for a hyperparameter outside its range.
    ///
    /// `θ ← θ − η·g/(√v + ε)` in the plain form, as described on the type.
    /// - Parameters:
    ///   - parameters: the parameters to update (each listed once).
    ///   - learningRate: η > 0.
    ///   - alpha: α in [0, 1].
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: λ ≥ 0.
    ///   - momentum: μ ≥ 0.
    ///   - centered: centered RMSprop.
    public init(
        parameters: [Parameter<Scalar>], learningRate: Scalar = 1e-2, alpha: Scalar = 0.99,
        epsilon: Scalar = 1e-8, weightDecay: Scalar = 0, momentum: Scalar = 0, centered: Bool = false
    ) throws {
        try Hyperparameter.positive("learning rate", learningRate)
        try Hyperparameter.closedFraction("alpha", alpha)
        try Hyperparameter.nonNegative("epsilon", epsilon)
        try Hyperparameter.nonNegative("weight decay", weightDecay)
        try Hyperparameter.nonNegative("momentum", momentum)
        checkDistinct(parameters, "RMSprop")
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        states = Array(repeating: nil, count: parameters.count)
    }

    /// Updates every parameter that has a gradient: `θ ← θ − η·g/s` (see the type's formula).
    public func step() {
        // Run the whole step in a Float or Double specialization: generic code called across
        // modules is not specialized, and its loops run far slower (and allocate).
        if Scalar.self == Float.self {
            unsafeDowncast(self, to: RMSprop<Float>.self).performStep()
        } else if Scalar.self == Double.self {
            unsafeDowncast(self, to: RMSprop<Double>.self).performStep()
        } else {
            performStep()
        }
    }

    func performStep() {
        for index in parameters.indices {
            let parameter = parameters[index]
            guard let gradient = parameter.grad else { continue }
            if states[index] == nil {
                states[index] = RMSpropState(count: gradient.count, centered: centered, momentum: momentum > 0)
            }
            let state = states[index]!
            state.step += 1
            parameter.update(from: gradient) { value, grad, offset, count in
                let kernel = RMSpropKernel(
                    value: value, grad: grad, squareAvg: state.squareAvg.pointer + offset,
                    gradAvg: state.gradAvg.map { $0.pointer + offset },
                    momentumBuffer: state.momentumBuffer.map { $0.pointer + offset },
                    count: count, learningRate: learningRate, alpha: alpha,
                    oneMinusAlpha: Scalar(1 - Double(alpha)), epsilon: epsilon,
                    weightDecay: weightDecay, momentum: momentum)
                kernel.run()
            }
        }
    }
}

/// The state RMSprop keeps for one parameter.
final class RMSpropState<Scalar: TensorScalar> {
    /// Steps taken by this parameter.
    var step = 0
    /// `v`, the running mean of `g²`.
    let squareAvg: StateBuffer<Scalar>
    /// `ḡ`, the running mean of `g` (centered only).
    let gradAvg: StateBuffer<Scalar>?
    /// `b`, the momentum buffer (momentum only).
    let momentumBuffer: StateBuffer<Scalar>?

    init(count: Int, centered: Bool, momentum: Bool) {
        squareAvg = StateBuffer(count: count, repeating: 0)
        gradAvg = centered ? StateBuffer(count: count, repeating: 0) : nil
        momentumBuffer = momentum ? StateBuffer(count: count, repeating: 0) : nil
    }
}

/// The elementwise RMSprop update of one parameter, in the order PyTorch computes it.
struct RMSpropKernel<T: TensorScalar> {
    var value: UnsafeMutablePointer<T>
    var grad: UnsafePointer<T>
    var squareAvg: UnsafeMutablePointer<T>
    var gradAvg: UnsafeMutablePointer<T>?
    var momentumBuffer: UnsafeMutablePointer<T>?
    var count: Int
    var learningRate: T
    var alpha: T
    var oneMinusAlpha: T
    var epsilon: T
    var weightDecay: T
    var momentum: T

    @inline(__always)
    func run() {
        let decay = weightDecay != 0
        let negativeRate = -learningRate
        for i in 0..<count {
            let g = decay ? grad[i] + weightDecay * value[i] : grad[i]
            let v = squareAvg[i] * alpha + oneMinusAlpha * g * g
            squareAvg[i] = v
            var s: T
            if let gradAvg {
                let mean = gradAvg[i] + oneMinusAlpha * (g - gradAvg[i])
                gradAvg[i] = mean
                s = (v - mean * mean).squareRoot()
            } else {
                s = v.squareRoot()
            }
            s += epsilon
            if let momentumBuffer {
                let b = momentumBuffer[i] * momentum + g / s
                momentumBuffer[i] = b
                value[i] += negativeRate * b
            } else {
                value[i] += negativeRate * (g / s)
            }
        }
    }
}

extension RMSprop: CheckpointableOptimizer {
    /// The learning rate and each stepped parameter's `step`, `square_avg` (and `grad_avg`
    /// when centered, `momentum_buffer` with momentum).
    public func exportState() -> OptimizerState<Scalar> {
        var state = OptimizerState(learningRate: learningRate)
        for (index, s) in states.enumerated() {
            guard let s else { continue }
            let shape = parameters[index].shape
            state.counters.append(("\(index).step", s.step))
            state.tensors.append(("\(index).square_avg", s.squareAvg.tensor(shape: shape)))
            if let gradAvg = s.gradAvg { state.tensors.append(("\(index).grad_avg", gradAvg.tensor(shape: shape))) }
            if let buffer = s.momentumBuffer { state.tensors.append(("\(index).momentum_buffer", buffer.tensor(shape: shape))) }
        }
        return state
    }

    /// Restores what `exportState()` returned; throws `OptimizerStateError` when it does not fit.
    public func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError) {
        let reader = try OptimizerStateReader(state, parameters: parameters, optimizer: "RMSprop",
                                              fields: ["square_avg", "grad_avg", "momentum_buffer"])
        var restored: [RMSpropState<Scalar>?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices where reader.hasState(index) {
            let s = RMSpropState<Scalar>(count: parameters[index].value.count, centered: centered, momentum: momentum > 0)
            s.step = try reader.step(index)
            let pairs: [(String, StateBuffer<Scalar>?)] = [("square_avg", s.squareAvg), ("grad_avg", s.gradAvg),
                                                          ("momentum_buffer", s.momentumBuffer)]
            for (field, buffer) in pairs {
                guard let buffer else { try reader.rejectUnused(index, field); continue }
                let value = try reader.tensor(index, field, required: true)!
                value.withUnsafeBufferPointer { if let base = $0.baseAddress { buffer.pointer.update(from: base, count: $0.count) } }
            }
            restored[index] = s
        }
        states = restored
        learningRate = state.learningRate
    }
}
