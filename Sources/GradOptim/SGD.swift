import GradNN
import GradTensor

/// Stochastic gradient descent with optional momentum, dampening, L2 weight decay and
/// Nesterov momentum, as `torch.optim.SGD`.
///
/// With `g = ∇θ + λ·θ` (λ the weight decay), and momentum μ > 0:
/// `b ← g` on a parameter's first step, otherwise `b ← μ·b + (1 − τ)·g` (τ the dampening);
/// then `d = g + μ·b` with Nesterov momentum (Sutskever et al. 2013, in PyTorch's
/// formulation) or `d = b` without; with μ = 0, `d = g`. Finally `θ ← θ − η·d`.
/// - `parameters`: the parameters to update (each listed once).
/// - `learningRate`: η > 0.
/// - `momentum`: μ ≥ 0 (0 turns momentum off and keeps no state).
/// - `dampening`: τ in [0, 1]; must be 0 with Nesterov momentum.
/// - `weightDecay`: λ ≥ 0, added to the gradient (L2 penalty).
/// - `nesterov`: use Nesterov momentum; needs μ > 0 and τ = 0.
public final class SGD<Scalar: TensorScalar>: Optimizer {
    /// The parameters this optimizer updates.
    public let parameters: [Parameter<Scalar>]
    /// η, the step size; schedules set it between epochs.
    public var learningRate: Scalar { didSet { checkLearningRate(learningRate, "SGD") } }
    /// μ, the momentum factor.
    public let momentum: Scalar
    /// τ, the dampening of the gradient added to the momentum buffer.
    public let dampening: Scalar
    /// λ, the L2 penalty added to the gradient.
    public let weightDecay: Scalar
    /// Whether Nesterov momentum is used.
    public let nesterov: Bool

    /// The momentum buffer of each parameter, made on its first step (nil without momentum).
    var momentumBuffers: [StateBuffer<Scalar>?]

    /// Makes an SGD optimizer; throws `OptimizerError` for a hyperparameter outside its range.
    ///
    /// `θ ← θ − η·d` with `d` as described on the type.
    /// - Parameters:
    ///   - parameters: the parameters to update (each listed once).
    ///   - learningRate: η > 0.
    ///   - momentum: μ ≥ 0.
    ///   - dampening: τ in [0, 1].
    ///   - weightDecay: λ ≥ 0.
    ///   - nesterov: Nesterov momentum (needs μ > 0 and τ = 0).
    public init(
        parameters: [Parameter<Scalar>], learningRate: Scalar, momentum: Scalar = 0,
        dampening: Scalar = 0, weightDecay: Scalar = 0, nesterov: Bool = false
    ) throws {
        try Hyperparameter.positive("learning rate", learningRate)
        try Hyperparameter.nonNegative("momentum", momentum)
        try Hyperparameter.closedFraction("dampening", dampening)
        try Hyperparameter.nonNegative("weight decay", weightDecay)
        if nesterov && momentum == 0 {
            throw Hyperparameter.error("momentum", momentum, "a positive number when nesterov is on")
        }
        if nesterov && dampening != 0 {
            throw Hyperparameter.error("dampening", dampening, "0 when nesterov is on")
        }
        checkDistinct(parameters, "SGD")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    /// Updates every parameter that has a gradient: `θ ← θ − η·d` (see the type's formula).
    public func step() {
        // Run the whole step in a Float or Double specialization: generic code called across
        // modules is not specialized, and its loops run far slower (and allocate).
        if Scalar.self == Float.self {
            unsafeDowncast(self, to: SGD<Float>.self).performStep()
        } else if Scalar.self == Double.self {
            unsafeDowncast(self, to: SGD<Double>.self).performStep()
        } else {
            performStep()
        }
    }

    func performStep() {
        let learningRate = learningRate  // read once, not once per parameter
        for index in parameters.indices {
            let parameter = parameters[index]
            guard let gradient = parameter.grad else { continue }
            var buffer: UnsafeMutablePointer<Scalar>? = nil
            var isFirstStep = false
            if momentum != 0 {
                if momentumBuffers[index] == nil {
                    momentumBuffers[index] = StateBuffer(count: gradient.count, repeating: 0)
                    isFirstStep = true
                }
                buffer = momentumBuffers[index]!.pointer
            }
            parameter.update(from: gradient) { value, grad, offset, count in
                let kernel = SGDKernel(
                    value: value, grad: grad, buffer: buffer.map { $0 + offset }, count: count,
                    learningRate: learningRate, momentum: momentum,
                    dampeningComplement: 1 - dampening, weightDecay: weightDecay,
                    nesterov: nesterov, isFirstStep: isFirstStep)
                kernel.run()
            }
        }
    }
}

/// The elementwise SGD update of one parameter, in the order PyTorch computes it.
struct SGDKernel<T: TensorScalar> {
    var value: UnsafeMutablePointer<T>
    var grad: UnsafePointer<T>
    var buffer: UnsafeMutablePointer<T>?
    var count: Int
    var learningRate: T
    var momentum: T
    var dampeningComplement: T
    var weightDecay: T
    var nesterov: Bool
    var isFirstStep: Bool

    @inline(__always)
    func run() {
        let decay = weightDecay != 0
        let negativeRate = -learningRate
        guard let buffer else {
            for i in 0..<count {
                let g = decay ? grad[i] + weightDecay * value[i] : grad[i]
                value[i] += negativeRate * g
            }
            return
        }
        for i in 0..<count {
            let g = decay ? grad[i] + weightDecay * value[i] : grad[i]
            let b = isFirstStep ? g : buffer[i] * momentum + dampeningComplement * g
            buffer[i] = b
            value[i] += negativeRate * (nesterov ? g + momentum * b : b)
        }
    }
}

extension SGD: CheckpointableOptimizer {
    /// The learning rate and each parameter's `<index>.momentum_buffer` (when momentum is on
    /// and the parameter has taken a step).
    public func exportState() -> OptimizerState<Scalar> {
        var state = OptimizerState(learningRate: learningRate)
        for (index, buffer) in momentumBuffers.enumerated() {
            guard let buffer else { continue }
            state.tensors.append(("\(index).momentum_buffer", buffer.tensor(shape: parameters[index].shape)))
        }
        return state
    }

    /// Restores what `exportState()` returned; throws `OptimizerStateError` when it does not fit.
    public func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError) {
        let reader = try OptimizerStateReader(state, parameters: parameters, optimizer: "SGD", fields: ["momentum_buffer"])
        var buffers: [StateBuffer<Scalar>?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices {
            guard let value = try reader.tensor(index, "momentum_buffer", required: false) else { continue }
            if momentum == 0 { try reader.rejectUnused(index, "momentum_buffer") }
            buffers[index] = StateBuffer(copying: value)
        }
        momentumBuffers = buffers
        learningRate = state.learningRate
    }
}
