import GradNN
import GradTensor

/// An optimizer's per-parameter state as named tensors and counters, for checkpoints that a
/// resumed run continues from bit for bit.
///
/// Names follow PyTorch's `optimizer.state_dict()["state"]`: `<index>.<field>` with `index` the
/// parameter's position in `parameters` and `field` one of `momentum_buffer`, `exp_avg`,
/// `exp_avg_sq`, `max_exp_avg_sq`, `square_avg`, `grad_avg`, `sum`; the per-parameter step
/// count `t` is the counter `<index>.step`. A parameter that never had a gradient has no
/// entries. Tensors have their parameter's shape and hold the state's exact bits.
public struct OptimizerState<Scalar: TensorScalar> {
    /// The learning rate in use when the state was taken.
    public var learningRate: Scalar
    /// The state tensors, in parameter order.
    public var tensors: [(name: String, value: Tensor<Scalar>)]
    /// The integer state (`<index>.step`), in parameter order.
    public var counters: [(name: String, value: Int)]

    /// A state from its parts.
    ///
    /// - Parameters:
    ///   - learningRate: the current learning rate.
    ///   - tensors: `<index>.<field>` tensors.
    ///   - counters: `<index>.step` counters.
    public init(learningRate: Scalar, tensors: [(name: String, value: Tensor<Scalar>)] = [],
                counters: [(name: String, value: Int)] = []) {
        self.learningRate = learningRate
        self.tensors = tensors
        self.counters = counters
    }

    /// The tensor named `name`, if present.
    public func tensor(_ name: String) -> Tensor<Scalar>? { tensors.first { $0.name == name }?.value }

    /// The counter named `name`, if present.
    public func counter(_ name: String) -> Int? { counters.first { $0.name == name }?.value }
}

/// An optimizer whose state can be saved and restored exactly (every optimizer of GradOptim).
///
/// `restoreState(exportState())` on an optimizer of the same kind, hyperparameters and
/// parameter shapes makes its next `step()` bit-identical to the original's.
public protocol CheckpointableOptimizer<Scalar>: Optimizer {
    /// The current state (copies; later steps do not change it).
    func exportState() -> OptimizerState<Scalar>

    /// Replaces the state with `state`: parameters without entries get no state (as before
    /// their first step). Nothing changes when it throws.
    ///
    /// - Throws: `OptimizerStateError` for a missing or misshapen entry or an unknown name.
    func restoreState(_ state: OptimizerState<Scalar>) throws(OptimizerStateError)
}

/// A saved optimizer state that does not fit the optimizer it is restored into.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// An entry names a parameter index or a field the optimizer does not have.
    case unexpectedEntry(name: String, optimizer: String)
    /// A parameter has some of its state but lacks `name`.
    case missingEntry(name: String, optimizer: String)
    /// A tensor's shape differs from its parameter's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A step count is negative, or zero where state exists.
    case invalidCounter(name: String, value: Int)
    /// The learning rate is negative or not finite.
    case invalidLearningRate(value: Double)

    public var description: String {
        switch self {
        case .unexpectedEntry(let name, let optimizer): "optimizer state '\(name)': \(optimizer) has no such state"
        case .missingEntry(let name, let optimizer): "optimizer state '\(name)' is missing (\(optimizer) needs it)"
        case .shapeMismatch(let name, let expected, let found):
            "optimizer state '\(name)': expected shape \(expected), found \(found)"
        case .invalidCounter(let name, let value): "optimizer state '\(name)': \(value) is not a valid step count"
        case .invalidLearningRate(let value): "optimizer state: learning rate \(value) is not a finite non-negative number"
        }
    }
}

// MARK: - Helpers shared by the optimizers

extension StateBuffer {
    /// The buffer's elements as a tensor of `shape`.
    func tensor(shape: [Int]) -> Tensor<Scalar> {
        Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: pointer, count: count)))
    }

    /// A buffer holding a copy of `tensor`'s elements.
    convenience init(copying tensor: Tensor<Scalar>) {
        self.init(count: tensor.count, repeating: 0)
        tensor.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
        }
    }
}

/// Reads an `OptimizerState` back field by field, checking names, shapes and counters, so
/// that an optimizer's `restoreState` only assigns once everything fits.
struct OptimizerStateReader<Scalar: TensorScalar> {
    let state: OptimizerState<Scalar>
    let parameters: [Parameter<Scalar>]
    let optimizer: String
    /// The fields the optimizer may have, per parameter.
    let fields: Set<String>
    private var tensors: [String: Tensor<Scalar>] = [:]
    private var counters: [String: Int] = [:]

    /// Checks that every entry names a parameter index and a known field (or `step`), and
    /// that the learning rate is usable.
    init(_ state: OptimizerState<Scalar>, parameters: [Parameter<Scalar>], optimizer: String,
         fields: Set<String>) throws(OptimizerStateError) {
        self.state = state
        self.parameters = parameters
        self.optimizer = optimizer
        self.fields = fields
        guard state.learningRate.isFinite && state.learningRate >= 0 else {
            throw .invalidLearningRate(value: Double(state.learningRate))
        }
        for (name, value) in state.tensors {
            guard let (_, field) = Self.split(name, count: parameters.count), fields.contains(field) else {
                throw .unexpectedEntry(name: name, optimizer: optimizer)
            }
            tensors[name] = value
        }
        for (name, value) in state.counters {
            guard let (_, field) = Self.split(name, count: parameters.count), field == "step" else {
                throw .unexpectedEntry(name: name, optimizer: optimizer)
            }
            guard value >= 0 else { throw .invalidCounter(name: name, value: value) }
            counters[name] = value
        }
    }

    /// `("3", "exp_avg")` for `3.exp_avg` when 3 is a parameter index.
    private static func split(_ name: String, count: Int) -> (Int, String)? {
        guard let dot = name.firstIndex(of: "."), let index = Int(name[..<dot]), index >= 0, index < count else { return nil }
        return (index, String(name[name.index(after: dot)...]))
    }

    /// Whether parameter `index` has any saved state.
    func hasState(_ index: Int) -> Bool {
        counters["\(index).step"] != nil || fields.contains { tensors["\(index).\($0)"] != nil }
    }

    /// The tensor `<index>.<field>`, checked against the parameter's shape; nil when absent
    /// and not `required`.
    func tensor(_ index: Int, _ field: String, required: Bool) throws(OptimizerStateError) -> Tensor<Scalar>? {
        let name = "\(index).\(field)"
        guard let value = tensors[name] else {
            if required { throw .missingEntry(name: name, optimizer: optimizer) }
            return nil
        }
        guard value.shape == parameters[index].shape else {
            throw .shapeMismatch(name: name, expected: parameters[index].shape, found: value.shape)
        }
        return value
    }

    /// The step count of parameter `index`, which must be at least 1 when it has state.
    func step(_ index: Int) throws(OptimizerStateError) -> Int {
        let name = "\(index).step"
        guard let value = counters[name] else { throw .missingEntry(name: name, optimizer: optimizer) }
        guard value >= 1 else { throw .invalidCounter(name: name, value: value) }
        return value
    }

    /// Throws for an entry of a field the configuration does not use (an AMSGrad maximum
    /// given to a plain Adam).
    func rejectUnused(_ index: Int, _ field: String) throws(OptimizerStateError) {
        if tensors["\(index).\(field)"] != nil { throw .unexpectedEntry(name: "\(index).\(field)", optimizer: optimizer) }
    }
}
