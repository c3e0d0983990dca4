import GradNN
import GradKernels
import GradTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam: gradient descent scaled by running estimates of the gradient's first and second
/// moments, with bias correction (Kingma & Ba 2015, "Adam: A Method for Stochastic
/// Optimization"), as `torch.optim.Adam`.
///
/// With `g = ∇θ + λ·θ` (L2 weight decay λ) and `t` the parameter's step count:
/// `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²`;
/// with AMSGrad `v̂ ← max(v̂, v)` and `v̂` used in place of `v` below;
/// `θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)`.
/// - `learningRate`: η > 0 (default 1e-3).
/// - `beta1`, `beta2`: β₁, β₂ in [0, 1) (defaults 0.9, 0.999).
/// - `epsilon`: ε ≥ 0 (default 1e-8).
/// - `weightDecay`: λ ≥ 0, added to the gradient (default 0); see `AdamW` for decoupled decay.
/// - `amsgrad`: keep the running maximum of `v` (Reddi et al. 2018).
public final class Adam<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates.
    public let parameters: [Parameter<Scalar>]
    /// η, the step size; schedules set it between epochs.
    public var learningRate: Scalar { didSet { checkLearningRate(learningRate, "Adam") } }
    /// β₁, the decay rate of the first-moment estimate.
    public let beta1: Scalar
    /// β₂, the decay rate of the second-moment estimate.
    public let beta2: Scalar
    /// ε, added to the denominator.
    public let epsilon: Scalar
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Scalar
    /// Whether the running maximum of the second moment is used (AMSGrad).
    public let amsgrad: Bool

    var states: [AdamState<Scalar>?]

    /// Makes an Adam optimizer; throws `OptimizerError` for a hyperparameter outside its range.
    ///
    /// `θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)` as described on the type.
    /// - Parameters:
    ///   - parameters: the parameters to update (each listed once).
    ///   - learningRate: η > 0.
    ///   - beta1: β₁ in [0, 1).
    ///   - beta2: β₂ in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: λ ≥ 0, added to the gradient.
    ///   - amsgrad: use the running maximum of the second moment.
    public init(
        parameters: [Parameter<Scalar>], learningRate: Scalar = 1e-3, beta1: Scalar = 0.9,
        beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 0, amsgrad: Bool = false
    ) throws {
        try validateAdam(learningRate, beta1, beta2, epsilon, weightDecay)
        checkDistinct(parameters, "Adam")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        states = Array(repeating: nil, count: parameters.count)
    }

    /// Updates every parameter that has a gradient: `θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)` (see the type's formula).
    public func step() {
        // Run the whole step in a Float or Double specialization: generic code called across
        // modules is not specialized, and its loops run far slower (and allocate).
        if Scalar.self == Float.self {
            unsafeDowncast(self, to: Adam<Float>.self).performStep()
        } else if Scalar.self == Double.self {
            unsafeDowncast(self, to: Adam<Double>.self).performStep()
        } else {
            performStep()
        }
    }

    func performStep() {
        adamStep(parameters, &states, learningRate: learningRate, beta1: beta1, beta2: beta2,
                 epsilon: epsilon, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
    }
}

/// AdamW: Adam with weight decay decoupled from the gradient (Loshchilov & Hutter 2019,
/// "Decoupled Weight Decay Regularization"), as `torch.optim.AdamW`.
///
/// First `θ ← θ·(1 − η·λ)`, then Adam's update with the raw gradient `g = ∇θ`:
/// `m ← β₁·m + (1 − β₁)·g`, `v ← β₂·v + (1 − β₂)·g²` (AMSGrad: `v̂ ← max(v̂, v)`),
/// `θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)`.
/// - `learningRate`: η > 0 (default 1e-3).
/// - `beta1`, `beta2`: β₁, β₂ in [0, 1) (defaults 0.9, 0.999).
/// - `epsilon`: ε ≥ 0 (default 1e-8).
/// - `weightDecay`: λ ≥ 0, applied to the weights directly (default 1e-2).
/// - `amsgrad`: keep the running maximum of `v`.
public final class AdamW<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates.
    public let parameters: [Parameter<Scalar>]
    /// η, the step size; schedules set it between epochs.
    public var learningRate: Scalar { didSet { checkLearningRate(learningRate, "AdamW") } }
    /// β₁, the decay rate of the first-moment estimate.
    public let beta1: Scalar
    /// β₂, the decay rate of the second-moment estimate.
    public let beta2: Scalar
    /// ε, added to the denominator.
    public let epsilon: Scalar
    /// λ, the decoupled weight decay: the weights shrink by `η·λ` of themselves each step.
    public let weightDecay: Scalar
    /// Whether the running maximum of the second moment is used (AMSGrad).
    public let amsgrad: Bool

    var states: [AdamState<Scalar>?]

    /// Makes an AdamW optimizer; throws `OptimizerError` for a hyperparameter outside its range.
    ///
    /// `θ ← θ·(1 − η·λ)`, then Adam's update, as described on the type.
    /// - Parameters:
    ///   - parameters: the parameters to update (each listed once).
    ///   - learningRate: η > 0.
    ///   - beta1: β₁ in [0, 1).
    ///   - beta2: β₂ in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: λ ≥ 0, decoupled.
    ///   - amsgrad: use the running maximum of the second moment.
    public init(
        parameters: [Parameter<Scalar>], learningRate: Scalar = 1e-3, beta1: Scalar = 0.9,
        beta2: Scalar = 0.999, epsilon: Scalar = 1e-8, weightDecay: Scalar = 1e-2, amsgrad: Bool = false
    ) throws {
        try validateAdam(learningRate, beta1, beta2, epsilon, weightDecay)
        checkDistinct(parameters, "AdamW")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        states = Array(repeating: nil, count: parameters.count)
    }

    /// Updates every parameter that has a gradient: `θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)` (see the type's formula).
    public func step() {
        // Run the whole step in a Float or Double specialization: generic code called across
        // modules is not specialized, and its loops run far slower (and allocate).
        if Scalar.self == Float.self {
            unsafeDowncast(self, to: AdamW<Float>.self).performStep()
        } else if Scalar.self == Double.self {
            unsafeDowncast(self, to: AdamW<Double>.self).performStep()
        } else {
            performStep()
        }
    }

    func performStep() {
        adamStep(parameters, &states, learningRate: learningRate, beta1: beta1, beta2: beta2,
                 epsilon: epsilon, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
    }
}

func validateAdam<T: TensorScalar>(_ learningRate: T, _ beta1: T, _ beta2: T, _ epsilon: T, _ weightDecay: T) throws {
    try Hyperparameter.positive("learning rate", learningRate)
    try Hyperparameter.fraction("beta1", beta1)
    try Hyperparameter.fraction("beta2", beta2)
    try Hyperparameter.nonNegative("epsilon", epsilon)
    try Hyperparameter.nonNegative("weight decay", weightDecay)
}

/// The state Adam and AdamW keep for one parameter.
final class AdamState<Scalar: TensorScalar> {
    /// Steps taken by this parameter (`t`).
    var step = 0
    /// `m`, the first-moment estimate.
    let expAvg: StateBuffer<Scalar>
    /// `v`, the second-moment estimate.
    let expAvgSq: StateBuffer<Scalar>
    /// `v̂`, the running maximum of `v` (AMSGrad only).
    let maxExpAvgSq: StateBuffer<Scalar>?

    init(count: Int, amsgrad: Bool) {
        expAvg = StateBuffer(count: count, repeating: 0)
        expAvgSq = StateBuffer(count: count, repeating: 0)
        maxExpAvgSq = amsgrad ? StateBuffer(count: count, repeating: 0) : nil
    }
}

/// One Adam or AdamW step over `parameters`; scalar factors are computed in `Double` as
/// PyTorch computes them in Python floats. Call it from a `Float` or `Double` context.
@inline(__always)
func adamStep<Scalar: TensorScalar>(
    _ parameters: [Parameter<Scalar>], _ states: inout [AdamState<Scalar>?],
    learningRate: Scalar, beta1: Scalar, beta2: Scalar, epsilon: Scalar, weightDecay: Scalar,
    amsgrad: Bool, decoupled: Bool
) {
    let lr = Double(learningRate), b1 = Double(beta1), b2 = Double(beta2)
    // The states first, so that the parameters can then be updated on several threads (each
    // parameter's update is computed as it would be alone).
    let gradients = parameters.map(\.grad)
    for index in parameters.indices where states[index] == nil {
        if let gradient = gradients[index] { states[index] = AdamState(count: gradient.count, amsgrad: amsgrad) }
    }
    let states = states
    forEachIndex(parameters.count, work: { gradients[$0]?.count ?? 0 }) { index in
        let parameter = parameters[index]
        guard let gradient = gradients[index], let state = states[index] else { return }
        state.step += 1
        let t = Double(state.step)
        let biasCorrection1 = 1 - pow(b1, t)
        let biasCorrection2 = 1 - pow(b2, t)
        func kernel(_ value: UnsafeMutablePointer<Scalar>, _ grad: UnsafePointer<Scalar>, _ offset: Int, _ count: Int) -> AdamKernel<Scalar> {
            AdamKernel(
                value: value, grad: grad, expAvg: state.expAvg.pointer + offset, expAvgSq: state.expAvgSq.pointer + offset,
                maxExpAvgSq: state.maxExpAvgSq.map { $0.pointer + offset }, count: count,
                coupledDecay: decoupled ? 0 : weightDecay,
                decoupledFactor: Scalar(decoupled && weightDecay != 0 ? 1 - lr * Double(weightDecay) : 1),
                oneMinusBeta1: Scalar(1 - b1), beta2: beta2, oneMinusBeta2: Scalar(1 - b2),
                biasCorrection2Sqrt: Scalar(biasCorrection2.squareRoot()), epsilon: epsilon,
                negativeStepSize: Scalar(-lr / biasCorrection1))
        }
        if Scalar.self == Float.self && !amsgrad {
            // GradKernels' vector loop, which measures the step in the same pass when asked
            // (no separate copy or second pass).
            if parameter.measuresUpdate {
                parameter.measuredUpdate(from: gradient) { value, grad, count in kernel(value, grad, 0, count).runFloat(measuring: true) }
            } else {
                parameter.update(from: gradient) { value, grad, offset, count in _ = kernel(value, grad, offset, count).runFloat(measuring: false) }
            }
        } else {
            parameter.update(from: gradient) { value, grad, offset, count in kernel(value, grad, offset, count).run() }
        }
    }
}

/// The elementwise Adam/AdamW update of one parameter, in the order PyTorch computes it.
struct AdamKernel<T: TensorScalar> {
    var value: UnsafeMutablePointer<T>
    var grad: UnsafePointer<T>
    var expAvg: UnsafeMutablePointer<T>
    var expAvgSq: UnsafeMutablePointer<T>
    var maxExpAvgSq: UnsafeMutablePointer<T>?
    var count: Int
    /// λ for Adam's L2 decay (0 for AdamW).
    var coupledDecay: T
    /// `1 − η·λ` for AdamW (1 for Adam).
    var decoupledFactor: T
    var oneMinusBeta1: T
    var beta2: T
    var oneMinusBeta2: T
    var biasCorrection2Sqrt: T
    var epsilon: T
    var negativeStepSize: T

    /// The update, element by element (Double, or AMSGrad).
    @inline(__always)
    func run() {
        let coupled = coupledDecay != 0
        let decoupled = decoupledFactor != 1
        for i in 0..<count {
            var p = value[i]
            if decoupled { p *= decoupledFactor }
            let g = coupled ? grad[i] + coupledDecay * p : grad[i]
            let m = expAvg[i] + oneMinusBeta1 * (g - expAvg[i])
            expAvg[i] = m
            var v = expAvgSq[i] * beta2 + oneMinusBeta2 * g * g
            expAvgSq[i] = v
            if let maxExpAvgSq {
                let largest = maxExpAvgSq[i] >= v ? maxExpAvgSq[i] : v
                maxExpAvgSq[i] = largest
                v = largest
            }
            let denominator = v.squareRoot() / biasCorrection2Sqrt + epsilon
            value[i] = p + negativeStepSize * (m / denominator)
        }
    }

    /// The same update for Float without AMSGrad, by GradKernels' `gl_adam`: the same
    /// operations in the same order, eight lanes at a time (IEEE square root and division are
    /// correctly rounded lane by lane, so the result is bit-identical to `run()`, whose
    /// scalar `sqrtf` calls made it 4× slower).
    /// - Parameter measuring: whether to sum `‖θ_new − θ_old‖²` and `‖θ_old‖²` (in Double, in
    ///   the same pass); zeros otherwise.
    @inline(__always)
    func runFloat(measuring: Bool) -> UpdateNorms {
        precondition(T.self == Float.self && maxExpAvgSq == nil, "AdamKernel.runFloat: Float without AMSGrad only")
        var factors = gl_adam_factors(
            coupled_decay: reinterpret(coupledDecay, as: Float.self), decoupled_factor: reinterpret(decoupledFactor, as: Float.self),
            one_minus_beta1: reinterpret(oneMinusBeta1, as: Float.self), beta2: reinterpret(beta2, as: Float.self),
            one_minus_beta2: reinterpret(oneMinusBeta2, as: Float.self),
            bias_correction2_sqrt: reinterpret(biasCorrection2Sqrt, as: Float.self), epsilon: reinterpret(epsilon, as: Float.self),
            negative_step_size: reinterpret(negativeStepSize, as: Float.self))
        let floats = { (p: UnsafeMutablePointer<T>) in UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) }
        let g = UnsafeRawPointer(grad).assumingMemoryBound(to: Float.self)
        var step = 0.0, weight = 0.0
        if measuring {
            gl_adam(floats(value), g, floats(expAvg), floats(expAvgSq), count, &factors, &step, &weight)
        } else {
            gl_adam(floats(value), g, floats(expAvg), floats(expAvgSq), count, &factors, nil, nil)
        }
        return UpdateNorms(squaredStep: step, squaredWeight: weight)
    }
}

extension AdamState {
    /// This state as `<index>.step`, `<index>.exp_avg`, `<index>.exp_avg_sq` (and
    /// `<index>.max_exp_avg_sq`) entries of `state`.
    func export(index: Int, shape: [Int], into state: inout OptimizerState<Scalar>) {
        state.counters.append(("\(index).step", step))
        state.tensors.append(("\(index).exp_avg", expAvg.tensor(shape: shape)))
        state.tensors.append(("\(index).exp_avg_sq", expAvgSq.tensor(shape: shape)))
        if let maxExpAvgSq { state.tensors.append(("\(index).max_exp_avg_sq", maxExpAvgSq.tensor(shape: shape))) }
    }

    /// The states `reader` holds, one per parameter (nil where a parameter has none).
    static func restore(_ reader: OptimizerStateReader<Scalar>, count: Int, amsgrad: Bool) throws(OptimizerStateError) -> [AdamState?] {
        var states: [AdamState?] = Array(repeating: nil, count: count)
        for index in 0..<count where reader.hasState(index) {
            let state = AdamState(count: reader.parameters[index].value.count, amsgrad: amsgrad)
            state.step = try reader.step(index)
            let m = try reader.tensor(index, "exp_avg", required: true)!
            let v = try reader.tensor(index, "exp_avg_sq", required: true)!
            m.withUnsafeBufferPointer { if let base = $0.baseAddress { state.expAvg.pointer.update(from: base, count: $0.count) } }
            v.withUnsafeBufferPointer { if let base = $0.baseAddress { state.expAvgSq.pointer.update(from: base, count: $0.count) } }
            if let maximum = state.maxExpAvgSq {
                let saved = try reader.tensor(index, "max_exp_avg_sq", required: true)!
                saved.withUnsafeBufferPointer { if let base = $0.baseAddress { maximum.pointer.update(from: base, count: $0.count) } }
            } else {
                try reader.rejectUnused(index, "max_exp_avg_sq")
            }
            states[index] = state
        }
        return states
    }
}

extension Adam: CheckpointableOptimizer {
    /// The learning rate and each stepped parameter's `step`, `exp_avg`, `exp_avg_sq` (and
    /// `max_exp_avg_sq` with AMSGrad).
    public func exportState() -> OptimizerState<Scalar> {
        var state = OptimizerState(learningRate: learningRate)
        for (index, s) in states.enumerated() { s?.export(index: index, shape: parameters[index].shape, into: &state) }
        return state
    }

    /// Restores what `exportState()` returned; throws `OptimizerStateError` when it does not fit.
    public func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError) {
        let reader = try OptimizerStateReader(state, parameters: parameters, optimizer: "Adam",
                                              fields: ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"])
        states = try AdamState.restore(reader, count: parameters.count, amsgrad: amsgrad)
        learningRate = state.learningRate
    }
}

extension AdamW: CheckpointableOptimizer {
    /// The learning rate and each stepped parameter's `step`, `exp_avg`, `exp_avg_sq` (and
    /// `max_exp_avg_sq` with AMSGrad).
    public func exportState() -> OptimizerState<Scalar> {
        var state = OptimizerState(learningRate: learningRate)
        for (index, s) in states.enumerated() { s?.export(index: index, shape: parameters[index].shape, into: &state) }
        return state
    }

    /// Restores what `exportState()` returned; throws `OptimizerStateError` when it does not fit.
    public func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError) {
        let reader = try OptimizerStateReader(state, parameters: parameters, optimizer: "AdamW",
                                              fields: ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"])
        states = try AdamState.restore(reader, count: parameters.count, amsgrad: amsgrad)
        learningRate = state.learningRate
    }
}
