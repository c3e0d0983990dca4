import GradKernels
import GradNN
import GradTensor

/// An algorithm that updates parameters from their gradients, one `step()` at a time.
///
/// `θ ← update(θ, ∇θ, state)` for every parameter whose gradient is not nil, as PyTorch's
/// `torch.optim.Optimizer.step()`; state (momentum, moment estimates, step counts) is kept per
/// parameter and allocated the first time that parameter has a gradient.
/// - `parameters`: the parameters updated, in the order given at construction.
/// - `learningRate`: the current learning rate; schedules set it between epochs.
public protocol Optimizer<Scalar>: AnyObject {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// The parameters this optimizer updates.
    var parameters: [Parameter<Scalar>] { get }
    /// The learning rate used by the next `step()`; must be finite and non-negative.
    var learningRate: Scalar { get set }
    /// Updates every parameter that has a gradient; parameters whose gradient is nil are skipped
    /// and keep their state, as in PyTorch.
    func step()
    /// Clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`).
    func zeroGrad()
}

extension Optimizer {
    /// Clears every parameter's gradient: `grad ← nil` (PyTorch's `zero_grad(set_to_none=True)`).
    @inlinable
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }
}

/// A hyperparameter that cannot be used, found when an optimizer, schedule or clip is made.
///
/// The description reads `"<name> <value> is invalid: expected <expected>"`, for example
/// `learning rate -0.1 is invalid: expected a positive number`.
/// - `name`: the hyperparameter in words (`"learning rate"`, `"beta1"`).
/// - `value`: the value given, as the shortest decimal that reads back as the given scalar.
/// - `expected`: what would have been accepted.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// `name` was given `value`, but only `expected` is accepted.
    case invalidHyperparameter(name: String, value: Double, expected: String)

    /// `"<name> <value> is invalid: expected <expected>"`.
    public var description: String {
        switch self {
        case let .invalidHyperparameter(name, value, expected):
            return "\(name) \(formatHyperparameter(value)) is invalid: expected \(expected)"
        }
    }

    /// Equal when names, expectations and values agree; two NaN values count as equal.
    public static func == (lhs: OptimizerError, rhs: OptimizerError) -> Bool {
        switch (lhs, rhs) {
        case let (.invalidHyperparameter(n1, v1, e1), .invalidHyperparameter(n2, v2, e2)):
            return n1 == n2 && e1 == e2 && (v1 == v2 || (v1.isNaN && v2.isNaN))
        }
    }
}

/// Whole numbers print without a fractional part (`0`, `-1`), others as Swift prints them.
func formatHyperparameter(_ value: Double) -> String {
    if value.isFinite && value == value.rounded() && Swift.abs(value) < 1e15 {
        return String(Int64(value))
    }
    return "\(value)"
}

// MARK: - Validation

/// Checks hyperparameters and throws `OptimizerError.invalidHyperparameter` with readable text.
enum Hyperparameter {
    /// The value as a `Double` that prints as the scalar does (`Float(0.1)` gives `0.1`, not
    /// `0.10000000149011612`), so that error messages show what the user wrote.
    static func reported<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T) -> Double {
        if let t = value as? Double { return t }
        return Double(value.description) ?? Double(value)
    }

    static func error<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ name: String, _ value: T, _ expected: String
    ) -> OptimizerError {
        .invalidHyperparameter(name: name, value: reported(value), expected: expected)
    }

    static func finite<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, _ value: T) throws {
        if !value.isFinite { throw error(name, value, "a finite number") }
    }

    /// `0 < value < ∞`.
    static func positive<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, _ value: T) throws {
        try finite(name, value)
        if !(value > 0) { throw error(name, value, "a positive number") }
    }

    /// `0 ≤ value < ∞`.
    static func nonNegative<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, _ value: T) throws {
        try finite(name, value)
        if !(value >= 0) { throw error(name, value, "a non-negative number") }
    }

    /// `0 ≤ value < 1`.
    static func fraction<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, _ value: T) throws {
        try finite(name, value)
        if !(value >= 0 && value < 1) { throw error(name, value, "a number in [0, 1)") }
    }

    /// `0 ≤ value ≤ 1`.
    static func closedFraction<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, _ value: T) throws {
        try finite(name, value)
        if !(value >= 0 && value <= 1) { throw error(name, value, "a number in [0, 1]") }
    }

    /// `value ≥ 1` for whole-number arguments (epochs, step sizes).
    static func positiveCount(_ name: String, _ value: Int) throws {
        if value < 1 {
            throw OptimizerError.invalidHyperparameter(
                name: name, value: Double(value), expected: "a positive whole number")
        }
    }
}

/// Stops on a learning rate that an optimizer cannot use (set by code, not read from a file).
@inline(__always)
func checkLearningRate<T: TensorScalar>(_ value: T, _ optimizer: String) {
    precondition(value.isFinite && value >= 0,
                 "\(optimizer).learningRate: \(value) is invalid, expected a finite non-negative number")
}

/// Stops when the same parameter is listed twice (it would be updated twice per step).
func checkDistinct<T: TensorScalar>(_ parameters: [Parameter<T>], _ optimizer: String) {
    var seen = Set<ObjectIdentifier>()
    for (index, parameter) in parameters.enumerated() {
        precondition(seen.insert(ObjectIdentifier(parameter)).inserted,
                     "\(optimizer): parameter[\(index)] (shape \(parameter.shape)) is listed more than once")
    }
}

// MARK: - State and specialization

/// One state tensor of one parameter (a momentum or a moment estimate), allocated once.
///
/// A class holding a raw buffer, so that `step()` writes it through a stable pointer without
/// copy-on-write checks or allocation.
final class StateBuffer<Scalar: TensorScalar> {
    let pointer: UnsafeMutablePointer<Scalar>
    let count: Int

    init(count: Int, repeating value: Scalar) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: value, count: count)
    }

    deinit { pointer.deallocate() }

    /// The elements, for inspection.
    var scalars: [Scalar] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// The same bits as another type: hands a pointer or scalar of a generic `Scalar` to a
/// `Float` or `Double` loop once `Scalar.self == Float.self` has been checked.
///
/// Generic loops called from unspecialized generic code run about 100× slower (and their
/// iterators may allocate), so each optimizer's `step()` runs its whole body on `self` viewed
/// as its `Float` or `Double` specialization (`unsafeDowncast(self, to: SGD<Float>.self)`),
/// and free functions such as the clipping loops pass their buffers through `reinterpret`.
@inline(__always)
func reinterpret<A, B>(_ value: A, as type: B.Type) -> B {
    unsafeBitCast(value, to: B.self)
}

extension Parameter {
    /// Runs `body` with the values' elements (writable) and `gradient`'s elements (read only);
    /// nothing runs for an empty parameter. Not recorded by autodiff.
    ///
    /// `body(value, grad, offset, count)` updates `count` elements starting at element `offset`
    /// (`value` and `grad` already point there; per-element optimizer state must be offset by
    /// the kernel). Normally one call covers the whole parameter; when `measuresUpdate` is set
    /// the update runs in blocks of `updateBlock` elements, each block's old values kept in a
    /// small buffer that stays in cache, and `lastUpdate` receives `‖Δθ‖²` and `‖θ_old‖²`.
    @inline(__always)
    func update(
        from gradient: Tensor<Scalar>,
        _ body: (_ value: UnsafeMutablePointer<Scalar>, _ grad: UnsafePointer<Scalar>, _ offset: Int, _ count: Int) -> Void
    ) {
        precondition(gradient.shape == shape,
                     "optimizer: gradient shape \(gradient.shape) does not match parameter shape \(shape)")
        if gradient.count == 0 { return }
        let measuring = measuresUpdate
        var norms = UpdateNorms(squaredStep: 0, squaredWeight: 0)
        gradient.withUnsafeBufferPointer { g in
            update { v in
                guard measuring else { return body(v.baseAddress!, g.baseAddress!, 0, v.count) }
                // No larger than the parameter: a small one's block then stays on the stack
                // (a 1024-element buffer goes to the heap, once per parameter and step).
                withUnsafeTemporaryAllocation(of: Scalar.self, capacity: Swift.min(updateBlock, v.count)) { old in
                    var offset = 0
                    while offset < v.count {
                        let n = Swift.min(updateBlock, v.count - offset)
                        let values = v.baseAddress! + offset
                        old.baseAddress!.update(from: values, count: n)
                        body(values, g.baseAddress! + offset, offset, n)
                        norms.squaredStep += squaredStep(values, old.baseAddress!, n)
                        norms.squaredWeight = sumOfSquares(old.baseAddress!, n, adding: norms.squaredWeight)
                        offset += n
                    }
                }
            }
        }
        if measuring { lastUpdate = norms }
    }

    /// Runs `body` once over all of the values and `gradient`'s elements, for a kernel that
    /// measures its own step in its pass (`body` returns `‖Δθ‖²` and `‖θ_old‖²`, which go to
    /// `lastUpdate`). Nothing runs for an empty parameter (`lastUpdate` is then zeros). Not
    /// recorded by autodiff.
    @inline(__always)
    func measuredUpdate(
        from gradient: Tensor<Scalar>,
        _ body: (_ value: UnsafeMutablePointer<Scalar>, _ grad: UnsafePointer<Scalar>, _ count: Int) -> UpdateNorms
    ) {
        precondition(gradient.shape == shape,
                     "optimizer: gradient shape \(gradient.shape) does not match parameter shape \(shape)")
        var norms = UpdateNorms(squaredStep: 0, squaredWeight: 0)
        if gradient.count > 0 {
            gradient.withUnsafeBufferPointer { g in
                update { v in norms = body(v.baseAddress!, g.baseAddress!, v.count) }
            }
        }
        lastUpdate = norms
    }
}

/// Elements per block of a measured update: small enough that the block's old values stay in
/// the first-level cache.
let updateBlock = 1024

/// `Σ (new − old)²` over `n` elements: for Float, an eight-lane Float sum (redone in Double when
/// it overflows); Double otherwise.
@inline(__always)
func squaredStep<Scalar: TensorScalar>(_ new: UnsafePointer<Scalar>, _ old: UnsafePointer<Scalar>, _ n: Int) -> Double {
    if Scalar.self == Float.self {
        let a = UnsafeRawPointer(new).assumingMemoryBound(to: Float.self)
        let b = UnsafeRawPointer(old).assumingMemoryBound(to: Float.self)
        var step = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            step += d * d
            i += 8
        }
        var s = Double(step.sum())
        while i < n {
            let d = Double(a[i]) - Double(b[i])
            s += d * d
            i += 1
        }
        if s.isFinite { return s }
    }
    var s = 0.0
    for i in 0..<n {
        let d = Double(new[i]) - Double(old[i])
        s += d * d
    }
    return s
}

/// `acc + Σ x²` over `n` elements, as every update measurement sums `‖θ_old‖²` (and the monitor
/// `‖θ‖²`, so that the two agree bit for bit): for Float GradKernels' `gl_sum_squares` (Float
/// lanes over chunks of 128, then Double); for Double one element after another. Pieces whose
/// lengths are multiples of 128, each passed the sum so far, give the bits of one call.
@inline(__always)
func sumOfSquares<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ n: Int, adding acc: Double) -> Double {
    if Scalar.self == Float.self {
        return gl_sum_squares(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), n, acc)
    }
    var s = acc
    for i in 0..<n {
        let o = Double(x[i])
        s += o * o
    }
    return s
}

extension Parameter {
    /// `‖θ‖²` summed as the optimizers' measured updates sum `‖θ_old‖²` (`sumOfSquares`):
    /// what a monitor reports as the weight norm when it reads the values itself.
    public func squaredValueNorm() -> Double {
        value.withUnsafeBufferPointer { p in p.baseAddress.map { sumOfSquares($0, p.count, adding: 0) } ?? 0 }
    }
}
