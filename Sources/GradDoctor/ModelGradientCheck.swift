import Foundation
import GradNN
import GradTensor

/// A user-facing problem with a model gradient check's settings or loss.
public enum ModelGradientCheckError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The finite-difference step must be finite and positive.
    case invalidStep(Double)
    /// A tolerance must be finite and ≥ 0.
    case invalidTolerance(name: String, value: Double)
    /// The number of sampled elements per parameter must be at least 1.
    case invalidSampleSize(Int)
    /// The loss closure returned a tensor with more than one element.
    case lossNotScalar(shape: [Int])
    /// The model has no parameters to check.
    case noParameters

    public var description: String {
        switch self {
        case .invalidStep(let value): "gradient check: step must be a finite number > 0, got \(value)"
        case .invalidTolerance(let name, let value): "gradient check: \(name) must be a finite number ≥ 0, got \(value)"
        case .invalidSampleSize(let value): "gradient check: elements per parameter must be at least 1, got \(value)"
        case .lossNotScalar(let shape): "gradient check: the loss must have one element, got shape \(shape)"
        case .noParameters: "gradient check: the model has no parameters"
        }
    }
}

/// How well one parameter's autodiff gradient agrees with central finite differences.
///
/// An element passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance ·
/// max(|analytic|, |numeric|)` (the rule of GradTensor's `checkGradients`); `worstRatio` is the
/// largest error over that bound, so the parameter passes when `worstRatio ≤ 1`. Non-finite
/// numbers (a NaN gradient) are encoded in JSON as the strings "inf", "-inf" and "nan".
public struct ParameterGradientCheck: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The figures of the comparison, as GradTensor's `checkGradients` reports them for a tensor.
    let entry: GradientCheckEntry
    /// Elements in the parameter.
    public let elementCount: Int
    /// Elements compared (all, or a seeded sample).
    public let checkedElementCount: Int

    /// The parameter's name in the model (`0.weight`).
    public var name: String { entry.name }
    /// The parameter's shape.
    public var shape: [Int] { entry.shape }
    /// Largest `|analytic − numeric|` over the checked elements.
    public var maxAbsoluteError: Double { entry.maxAbsoluteError }
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    public var maxRelativeError: Double { entry.maxRelativeError }
    /// Largest `|numeric|`: a check of an all-zero gradient proves little.
    public var maxNumericMagnitude: Double { entry.maxNumericMagnitude }
    /// Largest error over its tolerance bound; infinite when a gradient is NaN or infinite.
    public var worstRatio: Double { entry.worstRatio }
    /// Multi-index of the element with the largest `worstRatio` (`[]` for a scalar).
    public var worstIndex: [Int] { entry.worstIndex }
    /// The autodiff gradient at `worstIndex` (0 where autodiff gave none).
    public var worstAnalytic: Double { entry.worstAnalytic }
    /// The central-difference gradient at `worstIndex`.
    public var worstNumeric: Double { entry.worstNumeric }
    /// Whether autodiff produced any gradient for this parameter (an unused one gets none).
    public var hasAnalyticGradient: Bool { entry.hasAnalyticGradient }

    /// Whether every checked element is within tolerance.
    public var passed: Bool { entry.passed }

    public var description: String {
        "\(name) \(shape): max abs error \(maxAbsoluteError), max rel error \(maxRelativeError), "
            + "worst at \(worstIndex): autodiff \(worstAnalytic) vs numeric \(worstNumeric)"
            + (checkedElementCount < elementCount ? " (\(checkedElementCount) of \(elementCount) elements)" : "")
            + (passed ? "" : " FAILED (\(worstRatio)× the tolerance)")
    }

    enum CodingKeys: String, CodingKey {
        case name, shape, passed
        case elementCount = "element_count", checkedElementCount = "checked_element_count"
        case maxAbsoluteError = "max_abs_error", maxRelativeError = "max_rel_error"
        case maxNumericMagnitude = "max_numeric_magnitude", worstRatio = "worst_ratio"
        case worstIndex = "worst_index", worstAnalytic = "worst_analytic", worstNumeric = "worst_numeric"
        case hasAnalyticGradient = "has_analytic_gradient"
    }

    init(
        name: String, shape: [Int], elementCount: Int, checkedElementCount: Int, maxAbsoluteError: Double,
        maxRelativeError: Double, maxNumericMagnitude: Double, worstRatio: Double, worstIndex: [Int],
        worstAnalytic: Double, worstNumeric: Double, hasAnalyticGradient: Bool
    ) {
        self.entry = GradientCheckEntry(
            name: name, shape: shape, maxAbsoluteError: maxAbsoluteError, maxRelativeError: maxRelativeError,
            maxNumericMagnitude: maxNumericMagnitude, worstRatio: worstRatio, worstIndex: worstIndex,
            worstAnalytic: worstAnalytic, worstNumeric: worstNumeric, hasAnalyticGradient: hasAnalyticGradient)
        self.elementCount = elementCount
        self.checkedElementCount = checkedElementCount
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double {
            if let value = try? c.decode(Double.self, forKey: key) { return value }
            let text = try c.decode(String.self, forKey: key)
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default:
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected a number, 'inf', '-inf' or 'nan', got '\(text)'")
            }
        }
        self.init(
            name: try c.decode(String.self, forKey: .name), shape: try c.decode([Int].self, forKey: .shape),
            elementCount: try c.decode(Int.self, forKey: .elementCount),
            checkedElementCount: try c.decode(Int.self, forKey: .checkedElementCount),
            maxAbsoluteError: try number(.maxAbsoluteError), maxRelativeError: try number(.maxRelativeError),
            maxNumericMagnitude: try number(.maxNumericMagnitude), worstRatio: try number(.worstRatio),
            worstIndex: try c.decode([Int].self, forKey: .worstIndex),
            worstAnalytic: try number(.worstAnalytic), worstNumeric: try number(.worstNumeric),
            hasAnalyticGradient: try c.decode(Bool.self, forKey: .hasAnalyticGradient))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func number(_ value: Double, _ key: CodingKeys) throws {
            if value.isFinite { try c.encode(value, forKey: key); return }
            try c.encode(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"), forKey: key)
        }
        try c.encode(name, forKey: .name)
        try c.encode(shape, forKey: .shape)
        try c.encode(elementCount, forKey: .elementCount)
        try c.encode(checkedElementCount, forKey: .checkedElementCount)
        try number(maxAbsoluteError, .maxAbsoluteError)
        try number(maxRelativeError, .maxRelativeError)
        try number(maxNumericMagnitude, .maxNumericMagnitude)
        try number(worstRatio, .worstRatio)
        try c.encode(worstIndex, forKey: .worstIndex)
        try number(worstAnalytic, .worstAnalytic)
        try number(worstNumeric, .worstNumeric)
        try c.encode(hasAnalyticGradient, forKey: .hasAnalyticGradient)
        try c.encode(passed, forKey: .passed)
    }
}

/// The result of checking every parameter of a model: entries sorted worst first.
public struct ModelGradientCheckReport: Codable, Sendable, Equatable, CustomStringConvertible {
    /// One entry per parameter, sorted by `worstRatio`, largest first (ties in model order).
    public let parameters: [ParameterGradientCheck]
    /// The loss at the checked point.
    public let loss: Double
    /// Whether two evaluations of the loss at the same point gave the same value; when not
    /// (dropout, batch statistics, random draws in the loss) finite differences are meaningless.
    public let lossIsDeterministic: Bool
    /// The finite-difference step h.
    public let step: Double
    /// The relative tolerance used.
    public let relativeTolerance: Double
    /// The absolute tolerance used.
    public let absoluteTolerance: Double

    /// Whether the loss is deterministic and every parameter passed.
    public var passed: Bool { lossIsDeterministic && parameters.allSatisfy(\.passed) }

    /// The parameter with the largest error over its tolerance, if any.
    public var worst: ParameterGradientCheck? { parameters.first }

    /// The entry for the parameter with the given name, if any.
    public subscript(name: String) -> ParameterGradientCheck? { parameters.first { $0.name == name } }

    public var description: String {
        "gradient check (central differences, step \(step), rtol \(relativeTolerance), atol \(absoluteTolerance)) "
            + (passed ? "passed" : "FAILED") + (lossIsDeterministic ? "" : " (the loss is not deterministic)") + ":\n"
            + parameters.map { "  " + $0.description }.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case parameters, loss, step, passed
        case lossIsDeterministic = "loss_is_deterministic"
        case relativeTolerance = "relative_tolerance", absoluteTolerance = "absolute_tolerance"
    }

    init(parameters: [ParameterGradientCheck], loss: Double, lossIsDeterministic: Bool, step: Double,
         relativeTolerance: Double, absoluteTolerance: Double) {
        self.parameters = parameters
        self.loss = loss
        self.lossIsDeterministic = lossIsDeterministic
        self.step = step
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let lossValue: Double
        if let value = try? c.decode(Double.self, forKey: .loss) { lossValue = value } else {
            let text = try c.decode(String.self, forKey: .loss)
            lossValue = text == "nan" ? .nan : (text == "-inf" ? -.infinity : .infinity)
        }
        self.init(
            parameters: try c.decode([ParameterGradientCheck].self, forKey: .parameters), loss: lossValue,
            lossIsDeterministic: try c.decode(Bool.self, forKey: .lossIsDeterministic),
            step: try c.decode(Double.self, forKey: .step),
            relativeTolerance: try c.decode(Double.self, forKey: .relativeTolerance),
            absoluteTolerance: try c.decode(Double.self, forKey: .absoluteTolerance))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(parameters, forKey: .parameters)
        if loss.isFinite { try c.encode(loss, forKey: .loss) } else {
            try c.encode(loss.isNaN ? "nan" : (loss > 0 ? "inf" : "-inf"), forKey: .loss)
        }
        try c.encode(lossIsDeterministic, forKey: .lossIsDeterministic)
        try c.encode(step, forKey: .step)
        try c.encode(relativeTolerance, forKey: .relativeTolerance)
        try c.encode(absoluteTolerance, forKey: .absoluteTolerance)
        try c.encode(passed, forKey: .passed)
    }
}

/// A gradient check for users' own models: compares the autodiff gradient of a scalar loss
/// with respect to every parameter with central differences `(L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h`
/// and reports the parameters worst first.
///
/// Run it in `Double` on a small batch, with the model in a deterministic state (`eval()` for
/// dropout and batch norm, or no randomness in the loss), and away from kinks (ReLU at 0),
/// where the two one-sided derivatives differ. The central-difference error is about
/// h²·|L'''| + ε·|L|/h, near 1e-10·|L| at the default step 1e-6; the tolerances cover it for
/// losses of order 1 to 100. Large parameters can be sampled: each check costs two loss
/// evaluations per checked element.
public struct ModelGradientCheck: Sendable {
    /// The finite-difference step h.
    public let step: Double
    /// Allowed error relative to `max(|analytic|, |numeric|)`.
    public let relativeTolerance: Double
    /// Allowed error near zero.
    public let absoluteTolerance: Double
    /// At most this many elements per parameter, drawn without replacement (nil: all).
    public let maximumElementsPerParameter: Int?
    /// The seed of the element sample.
    public let seed: UInt64

    /// Settings for a check.
    ///
    /// - Parameters:
    ///   - step: the finite-difference step h > 0 (default 1e-6).
    ///   - relativeTolerance: ≥ 0 (default 1e-5).
    ///   - absoluteTolerance: ≥ 0 (default 1e-8).
    ///   - maximumElementsPerParameter: sample at most this many elements of each parameter
    ///     (≥ 1), or nil to check every element.
    ///   - seed: the seed of the sample.
    public init(
        step: Double = 1e-6, relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 1e-8,
        maximumElementsPerParameter: Int? = nil, seed: UInt64 = 0
    ) throws(ModelGradientCheckError) {
        guard step.isFinite && step > 0 else { throw .invalidStep(step) }
        guard relativeTolerance.isFinite && relativeTolerance >= 0 else {
            throw .invalidTolerance(name: "relative tolerance", value: relativeTolerance)
        }
        guard absoluteTolerance.isFinite && absoluteTolerance >= 0 else {
            throw .invalidTolerance(name: "absolute tolerance", value: absoluteTolerance)
        }
        if let count = maximumElementsPerParameter, count < 1 { throw .invalidSampleSize(count) }
        self.step = step
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maximumElementsPerParameter = maximumElementsPerParameter
        self.seed = seed
    }

    /// Checks every parameter of `model` (each element, or a sample) and returns the report.
    ///
    /// `loss` is called once with recording (autodiff), twice more to test that it is
    /// deterministic, and twice per checked element without recording. The parameters' values
    /// and any gradients they held before are restored afterwards.
    ///
    /// - Parameters:
    ///   - model: the module whose `namedParameters` are checked.
    ///   - loss: computes a one-element loss from the model's current parameters.
    /// - Throws: `ModelGradientCheckError.lossNotScalar` or `.noParameters`.
    public func run<Model: Module<Double>>(
        on model: Model, loss: (Model) -> Tensor<Double>
    ) throws(ModelGradientCheckError) -> ModelGradientCheckReport {
        try run(parameters: model.namedParameters) { loss(model) }
    }

    /// Checks the given named parameters (of any module, or several) against a loss that reads
    /// them; the entries carry the names as given.
    ///
    /// - Parameters:
    ///   - parameters: names and parameters, e.g. `model.namedParameters` of an `any Module<Double>`.
    ///   - loss: computes a one-element loss from the parameters' current values.
    /// - Throws: `ModelGradientCheckError.lossNotScalar` or `.noParameters`.
    public func run(
        parameters named: [(String, Parameter<Double>)], loss: () -> Tensor<Double>
    ) throws(ModelGradientCheckError) -> ModelGradientCheckReport {
        guard !named.isEmpty else { throw .noParameters }

        // Autodiff, with the parameters' own gradients set aside.
        let saved = named.map { $0.1.grad }
        for (_, parameter) in named { parameter.zeroGrad() }
        let value = loss()
        guard value.count == 1 else {
            for ((_, parameter), gradient) in zip(named, saved) { parameter.grad = gradient }
            throw .lossNotScalar(shape: value.shape)
        }
        if value.requiresGrad { value.backward() }
        let analytic = named.map { $0.1.grad }
        for ((_, parameter), gradient) in zip(named, saved) { parameter.grad = gradient }

        func evaluate() -> Double { withoutGradient { loss().scalar } }
        let first = evaluate(), second = evaluate()
        let deterministic = first == second || (first.isNaN && second.isNaN)

        let generator = RandomGenerator(seed: seed)
        var entries: [(Int, ParameterGradientCheck)] = []
        for (position, ((name, parameter), gradient)) in zip(named, analytic).enumerated() {
            let count = parameter.value.count
            let a = gradient?.scalars ?? [Double](repeating: 0, count: count)
            var indices = Array(0..<count)
            if let limit = maximumElementsPerParameter, limit < count {
                indices = Array(generator.permutation(count).prefix(limit)).sorted()
            }
            // Make the storage the parameter's own (copy-on-write, as `update` does) so that the
            // perturbations reach it and nothing else that shared it.
            parameter.update { _ in }
            var comparison = CentralDifferenceComparison(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
            comparison.add(parameter.value, analytic: a, at: indices, step: step, evaluate: evaluate)
            // A NaN or infinite error counts as an infinite relative error even where
            // max(|analytic|, |numeric|) is not positive (a NaN gradient).
            let maxRelative = comparison.maxAbsoluteError.isFinite ? comparison.maxRelativeError : .infinity
            entries.append((position, ParameterGradientCheck(
                name: name, shape: parameter.shape, elementCount: count, checkedElementCount: indices.count,
                maxAbsoluteError: comparison.maxAbsoluteError, maxRelativeError: maxRelative,
                maxNumericMagnitude: comparison.maxNumericMagnitude, worstRatio: comparison.worstRatio,
                worstIndex: comparison.worstIndex(in: parameter.shape), worstAnalytic: comparison.worstAnalytic,
                worstNumeric: comparison.worstNumeric, hasAnalyticGradient: gradient != nil)))
        }
        let sorted = entries.sorted { $0.1.worstRatio != $1.1.worstRatio ? $0.1.worstRatio > $1.1.worstRatio : $0.0 < $1.0 }
        return ModelGradientCheckReport(
            parameters: sorted.map(\.1), loss: first, lossIsDeterministic: deterministic, step: step,
            relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
    }
}
