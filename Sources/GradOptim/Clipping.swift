import GradNN
import GradTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The total gradient norm was NaN or infinite and `errorIfNonfinite` was set; no gradient
/// was changed.
///
/// The description names the parameters whose gradient holds NaN or ±∞ (or, when every
/// element is finite but the norm overflowed, those whose own norm is infinite).
/// - `totalNorm`: the non-finite total norm.
/// - `parameters`: the names of the offending parameters (`"parameter[i]"` when unnamed).
public enum ClipError: Error, CustomStringConvertible, Equatable {
    /// The total norm `totalNorm` is not finite because of the gradients of `parameters`.
    case nonfiniteGradient(totalNorm: Double, parameters: [String])

    /// `"gradient norm is nan: non-finite gradient in 0.weight, 2.bias …"`.
    public var description: String {
        switch self {
        case let .nonfiniteGradient(totalNorm, parameters):
            let which = parameters.isEmpty
                ? "every gradient is finite but their norm overflowed"
                : "non-finite gradient in " + parameters.joined(separator: ", ")
            return "gradient norm is \(totalNorm): \(which); "
                + "clipping would spread it to every gradient (pass errorIfNonfinite: false to clip anyway)"
        }
    }

    /// Equal when the parameters agree and the norms are equal or both NaN.
    public static func == (lhs: ClipError, rhs: ClipError) -> Bool {
        switch (lhs, rhs) {
        case let (.nonfiniteGradient(n1, p1), .nonfiniteGradient(n2, p2)):
            return p1 == p2 && (n1 == n2 || (n1.isNaN && n2.isNaN))
        }
    }
}

/// Scales all gradients together so that their global norm is at most `maxNorm`, and returns
/// the norm before clipping, as `torch.nn.utils.clip_grad_norm_`.
///
/// `N = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p` over the parameters whose gradient is not nil (computed in
/// `Double`; `p = .infinity` takes the largest `|g|`), then every gradient is multiplied by
/// `min(1, maxNorm / (N + 1e-6))`. As in PyTorch, a NaN norm makes every gradient NaN and an
/// infinite one scales them by 0, unless `errorIfNonfinite` is set. No gradients: returns 0.
/// - Parameters:
///   - parameters: the parameters whose gradients are clipped; nil gradients are skipped.
///   - maxNorm: the largest norm allowed, ≥ 0.
///   - normType: p > 0, or `.infinity` (default 2).
///   - errorIfNonfinite: throw `ClipError.nonfiniteGradient` (naming `parameter[i]`) instead
///     of clipping when N is NaN or infinite; the gradients are then left unchanged.
/// - Returns: N, the total norm before clipping.
@discardableResult
public func clipGradNorm<Scalar: TensorScalar>(
    _ parameters: [Parameter<Scalar>], maxNorm: Scalar, normType: Scalar = 2,
    errorIfNonfinite: Bool = false
) throws -> Scalar {
    try clipGradNorm(count: parameters.count, parameter: { parameters[$0] }, name: { "parameter[\($0)]" },
                     maxNorm: maxNorm, normType: normType, errorIfNonfinite: errorIfNonfinite)
}

/// Scales all gradients together so that their global norm is at most `maxNorm`, and returns
/// the norm before clipping; errors name the parameters as given.
///
/// Same as the unnamed overload: `N = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p`, `g ← g · min(1, maxNorm / (N + 1e-6))`.
/// - Parameters:
///   - namedParameters: the parameters with their names (`Module.namedParameters`).
///   - maxNorm: the largest norm allowed, ≥ 0.
///   - normType: p > 0, or `.infinity` (default 2).
///   - errorIfNonfinite: throw `ClipError.nonfiniteGradient` naming the parameters whose
///     gradient holds NaN or ±∞ instead of clipping; the gradients are then left unchanged.
/// - Returns: N, the total norm before clipping.
@discardableResult
public func clipGradNorm<Scalar: TensorScalar>(
    _ namedParameters: [(String, Parameter<Scalar>)], maxNorm: Scalar, normType: Scalar = 2,
    errorIfNonfinite: Bool = false
) throws -> Scalar {
    try clipGradNorm(count: namedParameters.count, parameter: { namedParameters[$0].1 },
                     name: { namedParameters[$0].0 },
                     maxNorm: maxNorm, normType: normType, errorIfNonfinite: errorIfNonfinite)
}

/// The global gradient norm of `parameters`, without changing any gradient.
///
/// `N = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p` in `Double` over the gradients that are not nil (0 if none),
/// as PyTorch's `torch.nn.utils.get_total_norm`.
/// - Parameters:
///   - parameters: the parameters whose gradients are measured.
///   - normType: p > 0, or `.infinity` (default 2).
public func gradNorm<Scalar: TensorScalar>(_ parameters: [Parameter<Scalar>], normType: Scalar = 2) throws -> Double {
    let p = try checkedNormType(normType)
    return totalNorm(count: parameters.count, parameter: { parameters[$0] }, p: p)
}

/// Clamps every gradient element to `[-clipValue, clipValue]`, as `torch.nn.utils.clip_grad_value_`.
///
/// `g ← min(max(g, −c), c)` elementwise; NaN stays NaN; nil gradients are skipped.
/// - Parameters:
///   - parameters: the parameters whose gradients are clamped.
///   - clipValue: c ≥ 0.
public func clipGradValue<Scalar: TensorScalar>(_ parameters: [Parameter<Scalar>], clipValue: Scalar) {
    precondition(clipValue >= 0, "clipGradValue: clipValue \(clipValue) is invalid, expected a non-negative number")
    for parameter in parameters {
        modifyGradient(of: parameter) { g, count in
            if Scalar.self == Float.self {
                clampLoop(reinterpret(g, as: UnsafeMutablePointer<Float>.self), count,
                          reinterpret(clipValue, as: Float.self))
            } else if Scalar.self == Double.self {
                clampLoop(reinterpret(g, as: UnsafeMutablePointer<Double>.self), count,
                          reinterpret(clipValue, as: Double.self))
            } else {
                clampLoop(g, count, clipValue)
            }
        }
    }
}

// MARK: - Implementation

func checkedNormType<Scalar: TensorScalar>(_ normType: Scalar) throws -> Double {
    let p = Double(normType)
    if !(p > 0) { throw Hyperparameter.error("norm type", normType, "a positive number or infinity") }
    return p
}

func clipGradNorm<Scalar: TensorScalar>(
    count: Int, parameter: (Int) -> Parameter<Scalar>, name: (Int) -> String,
    maxNorm: Scalar, normType: Scalar, errorIfNonfinite: Bool
) throws -> Scalar {
    let p = try checkedNormType(normType)
    if maxNorm.isNaN || maxNorm < 0 {
        throw Hyperparameter.error("max norm", maxNorm, "a non-negative number")
    }
    let total = totalNorm(count: count, parameter: parameter, p: p)
    if errorIfNonfinite && !total.isFinite {
        var offending: [String] = []
        for i in 0..<count {
            if let g = parameter(i).grad, !g.isFinite { offending.append(name(i)) }
        }
        if offending.isEmpty {
            for i in 0..<count {
                if let g = parameter(i).grad, !gradientNorm(g, p: p).isFinite { offending.append(name(i)) }
            }
        }
        throw ClipError.nonfiniteGradient(totalNorm: total, parameters: offending)
    }
    let coefficient = Double(maxNorm) / (total + 1e-6)
    // PyTorch clamps with `torch.clamp(max=1)`, which keeps NaN: a NaN norm makes every gradient NaN.
    let clamped = coefficient.isNaN ? coefficient : Swift.min(coefficient, 1)
    if clamped != 1 {
        let factor = Scalar(clamped)
        for i in 0..<count {
            modifyGradient(of: parameter(i)) { g, n in
                if Scalar.self == Float.self {
                    scaleLoop(reinterpret(g, as: UnsafeMutablePointer<Float>.self), n,
                              reinterpret(factor, as: Float.self))
                } else if Scalar.self == Double.self {
                    scaleLoop(reinterpret(g, as: UnsafeMutablePointer<Double>.self), n,
                              reinterpret(factor, as: Double.self))
                } else {
                    scaleLoop(g, n, factor)
                }
            }
        }
    }
    return Scalar(total)
}

/// `‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p` over the non-nil gradients, in `Double`.
func totalNorm<Scalar: TensorScalar>(count: Int, parameter: (Int) -> Parameter<Scalar>, p: Double) -> Double {
    var accumulated = 0.0
    var sawNaN = false
    for i in 0..<count {
        guard let g = parameter(i).grad else { continue }
        if p == .infinity {
            let norm = gradientNorm(g, p: p)
            if norm.isNaN { sawNaN = true } else if norm > accumulated { accumulated = norm }
        } else if p == 2 {
            accumulated += g.withUnsafeBufferPointer { sumOfSquares($0) }
        } else if p == 1 {
            accumulated += gradientNorm(g, p: p)
        } else {
            accumulated += pow(gradientNorm(g, p: p), p)
        }
    }
    if sawNaN { return .nan }
    if p == .infinity || p == 1 { return accumulated }
    if p == 2 { return accumulated.squareRoot() }
    return pow(accumulated, 1 / p)
}

/// `‖g‖_p` of one gradient, in `Double`.
func gradientNorm<Scalar: TensorScalar>(_ gradient: Tensor<Scalar>, p: Double) -> Double {
    gradient.withUnsafeBufferPointer { g -> Double in
        guard let base = g.baseAddress, g.count > 0 else { return 0 }
        if p == .infinity { return Double(Scalar.kernelMaxAbs(base, g.count)) }
        if p == 2 { return sumOfSquares(g).squareRoot() }
        let sum = sumOfPowers(g, p)
        return p == 1 ? sum : pow(sum, 1 / p)
    }
}

/// `Σ x²` accumulated in `Double` (so `Float` gradients up to `Float.greatestFiniteMagnitude`
/// cannot overflow).
func sumOfSquares<Scalar: TensorScalar>(_ x: UnsafeBufferPointer<Scalar>) -> Double {
    guard let base = x.baseAddress, x.count > 0 else { return 0 }
    if Scalar.self == Float.self {
        return sumOfSquaresLoop(reinterpret(base, as: UnsafePointer<Float>.self), x.count)
    } else if Scalar.self == Double.self {
        return sumOfSquaresLoop(reinterpret(base, as: UnsafePointer<Double>.self), x.count)
    }
    return sumOfSquaresLoop(base, x.count)
}

/// `Σ |x|^p` in `Double` (`Σ |x|` for p = 1).
func sumOfPowers<Scalar: TensorScalar>(_ x: UnsafeBufferPointer<Scalar>, _ p: Double) -> Double {
    guard let base = x.baseAddress, x.count > 0 else { return 0 }
    if Scalar.self == Float.self {
        return sumOfPowersLoop(reinterpret(base, as: UnsafePointer<Float>.self), x.count, p)
    } else if Scalar.self == Double.self {
        return sumOfPowersLoop(reinterpret(base, as: UnsafePointer<Double>.self), x.count, p)
    }
    return sumOfPowersLoop(base, x.count, p)
}

@inline(__always)
func sumOfSquaresLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
        let a = Double(x[i]), b = Double(x[i + 1]), c = Double(x[i + 2]), d = Double(x[i + 3])
        s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
        i += 4
    }
    while i < n { let a = Double(x[i]); s0 += a * a; i += 1 }
    return (s0 + s1) + (s2 + s3)
}

@inline(__always)
func sumOfPowersLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, _ p: Double) -> Double {
    var sum = 0.0
    if p == 1 {
        for i in 0..<n { sum += Swift.abs(Double(x[i])) }
    } else {
        for i in 0..<n { sum += pow(Swift.abs(Double(x[i])), p) }
    }
    return sum
}

@inline(__always)
func scaleLoop<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ n: Int, _ factor: T) {
    for i in 0..<n { x[i] *= factor }
}

@inline(__always)
func clampLoop<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, _ n: Int, _ limit: T) {
    let low = -limit
    for i in 0..<n {
        let v = x[i]
        x[i] = v > limit ? limit : (v < low ? low : v)
    }
}

/// Writes `parameter`'s gradient in place (no copy unless someone else holds it); nothing
/// happens when it is nil or empty.
@inline(__always)
func modifyGradient<Scalar: TensorScalar>(
    of parameter: Parameter<Scalar>, _ body: (UnsafeMutablePointer<Scalar>, Int) -> Void
) {
    guard var gradient = parameter.grad else { return }
    if gradient.count == 0 { return }
    // Drop the parameter's reference first so that the buffer is uniquely ours and is
    // written in place rather than copied.
    parameter.grad = nil
    gradient.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    parameter.grad = gradient
}
