// Checks autodiff gradients against central finite differences, in Double.

/// How well the autodiff gradient of one tensor agrees with central finite differences.
///
/// An element passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance ·
/// max(|analytic|, |numeric|)`; `worstRatio` is the largest `|analytic − numeric|` divided by
/// that bound over all elements, so the tensor passes when `worstRatio ≤ 1`.
public struct GradientCheckEntry: Sendable, Equatable, CustomStringConvertible {
    /// The input's position (`"input 0"`) or the parameter's name (`"0.weight"`).
    public let name: String
    /// The tensor's shape.
    public let shape: [Int]
    /// Largest `|analytic − numeric|` over the elements.
    public let maxAbsoluteError: Double
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    public let maxRelativeError: Double
    /// Largest `|numeric|`: a check whose gradient is all zeros proves little.
    public let maxNumericMagnitude: Double
    /// Largest error over its tolerance bound; infinite when a gradient is NaN or infinite.
    public let worstRatio: Double
    /// Multi-index of the element with the largest `worstRatio` (`[]` for a scalar or empty tensor).
    public let worstIndex: [Int]
    /// The autodiff gradient at `worstIndex` (0 where autodiff gave no gradient).
    public let worstAnalytic: Double
    /// The finite-difference gradient at `worstIndex`.
    public let worstNumeric: Double
    /// Whether autodiff produced a gradient for this tensor at all (an unused input gets none).
    public let hasAnalyticGradient: Bool

    /// An entry from its figures (as `checkGradients` reports them, or as read back from a file).
    public init(
        name: String, shape: [Int], maxAbsoluteError: Double, maxRelativeError: Double, maxNumericMagnitude: Double,
        worstRatio: Double, worstIndex: [Int], worstAnalytic: Double, worstNumeric: Double, hasAnalyticGradient: Bool
    ) {
        self.name = name
        self.shape = shape
        self.maxAbsoluteError = maxAbsoluteError
        self.maxRelativeError = maxRelativeError
        self.maxNumericMagnitude = maxNumericMagnitude
        self.worstRatio = worstRatio
        self.worstIndex = worstIndex
        self.worstAnalytic = worstAnalytic
        self.worstNumeric = worstNumeric
        self.hasAnalyticGradient = hasAnalyticGradient
    }

    /// Whether every element is within tolerance.
    public var passed: Bool { worstRatio <= 1 }

    public var description: String {
        "\(name) \(shape): max abs error \(maxAbsoluteError), max rel error \(maxRelativeError), "
            + "worst at \(worstIndex): autodiff \(worstAnalytic) vs numeric \(worstNumeric)"
            + (passed ? "" : " (FAILED, \(worstRatio)× the tolerance)")
    }
}

/// The result of a gradient check: one entry per input or parameter, in the order given.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
    /// One entry per checked tensor, in the order they were given.
    public let entries: [GradientCheckEntry]
    /// The finite-difference step used.
    public let step: Double

    /// Whether every tensor passed.
    public var passed: Bool { entries.allSatisfy(\.passed) }

    /// The entries sorted from worst to best agreement (largest `worstRatio` first).
    public var worstEntries: [GradientCheckEntry] { entries.sorted { $0.worstRatio > $1.worstRatio } }

    /// The entry with the given name, if any.
    public subscript(name: String) -> GradientCheckEntry? { entries.first { $0.name == name } }

    public var description: String {
        "gradient check (central differences, step \(step)) "
            + (passed ? "passed" : "FAILED") + ":\n"
            + worstEntries.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// Compares the autodiff gradients of a scalar-valued `function` with central finite
/// differences `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`, one element at a time.
///
/// The function is called once with copies of `inputs` that require gradients (autodiff), then
/// twice per input element without recording (finite differences). It must be deterministic and
/// return a one-element tensor. Keep inputs at least a few `step`s away from kinks (`relu` at 0,
/// clamp bounds), where the two one-sided derivatives differ.
///
/// - Parameters:
///   - inputs: the point at which to compare; any values, `requiresGrad` is ignored.
///   - step: the finite-difference step `h`.
///   - relativeTolerance: allowed error relative to `max(|analytic|, |numeric|)`.
///   - absoluteTolerance: allowed error near zero.
///   - function: the scalar function of the inputs, in their order.
/// - Returns: one entry per input, named `"input 0"`, `"input 1"`, ...
public func checkGradients(
    at inputs: [Tensor<Double>],
    step: Double = 1e-6,
    relativeTolerance: Double = 1e-6,
    absoluteTolerance: Double = 1e-8,
    of function: ([Tensor<Double>]) -> Tensor<Double>
) -> GradientCheckReport {
    let leaves = inputs.map { input -> Tensor<Double> in
        var leaf = Tensor<Double>(shape: input.shape, storage: input.storage.copy())
        leaf.requiresGrad = true
        return leaf
    }
    return checkGradients(
        named: leaves.enumerated().map { ("input \($0.offset)", $0.element) },
        step: step, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance
    ) { function(leaves) }
}

/// Compares the autodiff gradients of a scalar `loss` with respect to named leaf tensors (a
/// model's parameters) with central finite differences, perturbing each element in place.
///
/// `tensors` must require gradients and be the very tensors `loss` reads (copies that share
/// their elements, such as a parameter's `value`), since the check writes `x ± h` into their
/// shared storage and restores it afterwards. Gradients the tensors held before the check are
/// restored too.
///
/// - Parameters:
///   - tensors: names (reported as given, e.g. `"0.weight"`) and leaf tensors.
///   - step: the finite-difference step `h`.
///   - relativeTolerance: allowed error relative to `max(|analytic|, |numeric|)`.
///   - absoluteTolerance: allowed error near zero.
///   - loss: computes the scalar loss from the current values of `tensors`.
public func checkGradients(
    named tensors: [(String, Tensor<Double>)],
    step: Double = 1e-6,
    relativeTolerance: Double = 1e-6,
    absoluteTolerance: Double = 1e-8,
    loss: () -> Tensor<Double>
) -> GradientCheckReport {
    precondition(step > 0, "checkGradients: step must be positive, got \(step)")
    for (name, t) in tensors {
        precondition(t.requiresGrad && t.isLeaf, "checkGradients: '\(name)' of shape \(t.shape) must be a leaf that requires grad")
    }
    // Autodiff, with the tensors' own gradients set aside.
    let saved = tensors.map { $0.1.grad }
    for (_, t) in tensors { t.zeroGrad() }
    let value = loss()
    precondition(value.count == 1, "checkGradients: the loss must have one element, got shape \(value.shape)")
    if value.requiresGrad { value.backward() }
    let analytic = tensors.map { $0.1.grad }
    for ((_, t), g) in zip(tensors, saved) { t.grad = g }

    func evaluate() -> Double { withoutGradient { loss().scalar } }

    var entries: [GradientCheckEntry] = []
    for ((name, t), grad) in zip(tensors, analytic) {
        var comparison = CentralDifferenceComparison(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
        comparison.add(t, analytic: grad?.scalars ?? [Double](repeating: 0, count: t.count), at: 0..<t.count,
                       step: step, evaluate: evaluate)
        entries.append(GradientCheckEntry(
            name: name, shape: t.shape, maxAbsoluteError: comparison.maxAbsoluteError,
            maxRelativeError: comparison.maxRelativeError, maxNumericMagnitude: comparison.maxNumericMagnitude,
            worstRatio: comparison.worstRatio, worstIndex: comparison.worstIndex(in: t.shape),
            worstAnalytic: comparison.worstAnalytic, worstNumeric: comparison.worstNumeric, hasAnalyticGradient: grad != nil))
    }
    return GradientCheckReport(entries: entries, step: step)
}

/// The central-difference derivative `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h` of a scalar function
/// with respect to one element of a `Double` tensor's storage.
///
/// Writes `x + h`, then `x − h` into element `element` (a flat, row-major position) of
/// `tensor`'s storage, calls `evaluate` after each, and writes `x` back. The writes go straight
/// to the storage, so every tensor that shares it (the copies `evaluate` reads, a parameter's
/// `value`) sees them; autodiff records nothing.
///
/// - Parameters:
///   - evaluate: the scalar function, reading the current values of `tensor`.
///   - element: the flat position, in `0..<tensor.count`.
///   - tensor: the tensor whose storage is perturbed.
///   - step: the finite-difference step `h`.
public func centralDifference(
    of evaluate: () -> Double, element: Int, of tensor: Tensor<Double>, step: Double
) -> Double {
    precondition(element >= 0 && element < tensor.count,
                 "centralDifference: element \(element) out of range for shape \(tensor.shape)")
    let p = tensor.storage.pointer
    let original = p[element]
    p[element] = original + step
    let plus = evaluate()
    p[element] = original - step
    let minus = evaluate()
    p[element] = original
    return (plus - minus) / (2 * step)
}

/// A running comparison of autodiff derivatives with central differences, element by element:
/// the figures of a `GradientCheckEntry` (and of GradDoctor's per-parameter check).
///
/// An element passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance ·
/// max(|analytic|, |numeric|)`; `worstRatio` is the largest error over that bound.
public struct CentralDifferenceComparison: Sendable {
    /// Allowed error relative to `max(|analytic|, |numeric|)`.
    public let relativeTolerance: Double
    /// Allowed error near zero.
    public let absoluteTolerance: Double
    /// Largest `|analytic − numeric|` so far (infinite for a NaN).
    public private(set) var maxAbsoluteError = 0.0
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` over the elements where that
    /// scale is positive (0 where both are 0).
    public private(set) var maxRelativeError = 0.0
    /// Largest `|numeric|` so far.
    public private(set) var maxNumericMagnitude = 0.0
    /// Flat position of the element with the largest error over its bound (0 before any).
    public private(set) var worstPosition = 0
    /// The autodiff derivative at `worstPosition`.
    public private(set) var worstAnalytic = 0.0
    /// The central-difference derivative at `worstPosition`.
    public private(set) var worstNumeric = 0.0
    /// The largest ratio so far; below every real ratio (≥ 0) before the first element.
    private var largestRatio = -1.0

    /// Largest error over its tolerance bound (0 before any element); infinite when a derivative
    /// is NaN or infinite.
    public var worstRatio: Double { Swift.max(largestRatio, 0) }

    /// An empty comparison under the given tolerances.
    public init(relativeTolerance: Double, absoluteTolerance: Double) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
    }

    /// Adds one element: its autodiff derivative, its central difference and its flat position.
    public mutating func add(analytic: Double, numeric: Double, at position: Int) {
        let difference = Swift.abs(analytic - numeric)
        let scale = Swift.max(Swift.abs(analytic), Swift.abs(numeric))
        let ratio = difference == 0 ? 0
            : difference.isFinite ? difference / (absoluteTolerance + relativeTolerance * scale) : .infinity
        maxAbsoluteError = Swift.max(maxAbsoluteError, difference.isNaN ? .infinity : difference)
        if scale > 0 { maxRelativeError = Swift.max(maxRelativeError, difference.isFinite ? difference / scale : .infinity) }
        maxNumericMagnitude = Swift.max(maxNumericMagnitude, Swift.abs(numeric))
        if ratio > largestRatio {
            largestRatio = ratio
            worstPosition = position; worstAnalytic = analytic; worstNumeric = numeric
        }
    }

    /// Adds the elements `indices` of `tensor`, in order: `analytic[i]` against
    /// `centralDifference(of: evaluate, element: i, of: tensor, step: step)` (two calls of
    /// `evaluate` per element, with `tensor`'s storage perturbed in place).
    ///
    /// - Parameters:
    ///   - tensor: the tensor whose storage is perturbed, one element at a time.
    ///   - analytic: the autodiff derivatives, one per element of `tensor`.
    ///   - indices: the flat positions to compare.
    ///   - step: the finite-difference step `h`.
    ///   - evaluate: the scalar function, reading the current values of `tensor`.
    public mutating func add(
        _ tensor: Tensor<Double>, analytic: [Double], at indices: some Sequence<Int>, step: Double, evaluate: () -> Double
    ) {
        precondition(analytic.count == tensor.count,
                     "CentralDifferenceComparison: \(analytic.count) derivatives for shape \(tensor.shape)")
        for i in indices {
            add(analytic: analytic[i], numeric: centralDifference(of: evaluate, element: i, of: tensor, step: step), at: i)
        }
    }

    /// `worstPosition` as a multi-index into `shape` (`[]` for a scalar or an empty shape).
    public func worstIndex(in shape: [Int]) -> [Int] {
        guard shape.reduce(1, *) > 0 else { return [] }
        var index: [Int] = [], rest = worstPosition
        for d in shape.reversed() { index.insert(rest % d, at: 0); rest /= d }
        return index
    }
}
