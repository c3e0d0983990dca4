// Checks autodiff gradients against central finite differences, in Double.

/// How well the autodiff gradient of one tensor agrees with central finite differences.
///
/// An element passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance ·
/// max(|analytic|, |numeric|)`; `worstRatio` is the largest `|analytic − numeric|` divided by
/// that bound over all elements, so the tensor passes when `worstRatio ≤ 1`.
public struct GradientCheckEntry: Sendable, CustomStringConvertible {
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
        let p = t.storage.pointer
        let a = grad?.scalars ?? [Double](repeating: 0, count: t.count)
        var maxAbs = 0.0, maxRel = 0.0, maxNumeric = 0.0
        var worstRatio = -1.0, worst = 0, worstA = 0.0, worstN = 0.0
        for i in 0..<t.count {
            let original = p[i]
            p[i] = original + step
            let plus = evaluate()
            p[i] = original - step
            let minus = evaluate()
            p[i] = original
            let numeric = (plus - minus) / (2 * step)
            let difference = Swift.abs(a[i] - numeric)
            let scale = Swift.max(Swift.abs(a[i]), Swift.abs(numeric))
            let ratio = difference == 0 ? 0
                : difference.isFinite ? difference / (absoluteTolerance + relativeTolerance * scale) : .infinity
            maxAbs = Swift.max(maxAbs, difference.isNaN ? .infinity : difference)
            if scale > 0 { maxRel = Swift.max(maxRel, difference.isFinite ? difference / scale : .infinity) }
            maxNumeric = Swift.max(maxNumeric, Swift.abs(numeric))
            if ratio > worstRatio {
                worstRatio = ratio
                worst = i; worstA = a[i]; worstN = numeric
            }
        }
        var index: [Int] = []
        if t.count > 0 {
            var rest = worst
            for d in t.shape.reversed() { index.insert(rest % d, at: 0); rest /= d }
        }
        entries.append(GradientCheckEntry(
            name: name, shape: t.shape, maxAbsoluteError: maxAbs, maxRelativeError: maxRel,
            maxNumericMagnitude: maxNumeric, worstRatio: Swift.max(worstRatio, 0), worstIndex: index,
            worstAnalytic: worstA, worstNumeric: worstN, hasAnalyticGradient: grad != nil))
    }
    return GradientCheckReport(entries: entries, step: step)
}
