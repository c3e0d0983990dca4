import RealModule

/// An elementwise function of one tensor, with the parameters it needs.
///
/// The forward formula of each case is in `unaryLoop`, its derivative in `unaryGradientLoop`
/// right below, in the same order, so an op and its pullback are read together.
public enum UnaryOp<T: TensorScalar>: Sendable, Equatable {
    case negate, exp, log, log1p, sqrt, abs, sign, square, reciprocal, sin, cos
    /// `x + c`
    case addScalar(T)
    /// `c · x`
    case multiplyScalar(T)
    /// `x^p` with a constant exponent.
    case power(T)
    /// `min(max(x, low), high)`; the gradient passes where `low ≤ x ≤ high` (PyTorch `clamp`).
    case clamp(low: T, high: T)
    /// `1 / (1 + e^(−x))`
    case sigmoid
    case tanh
    /// `max(x, 0)`
    case relu
    /// `x` for `x > 0`, else `slope · x`.
    case leakyReLU(slope: T)
    /// `x` for `x > 0`, else `α(e^x − 1)`.
    case elu(alpha: T)
    /// `λ·x` for `x > 0`, else `λα(e^x − 1)` with PyTorch's λ and α.
    case selu
    /// `x·Φ(x)` with the exact normal CDF.
    case gelu
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch `approximate='tanh'`).
    case geluTanh
    /// `log(1 + e^(βx))/β`, and `x` where `βx > threshold` (PyTorch `Softplus`).
    case softplus(beta: T, threshold: T)
    /// `x · σ(x)` (swish).
    case silu
    /// `min(max(x, low), high)`; the gradient is zero at and beyond the bounds (PyTorch `Hardtanh`).
    case hardtanh(low: T, high: T)
    /// `x / (1 + |x|)`
    case softsign
}

extension UnaryOp {
    /// The case's name without its parameters (`"clamp"`), as `Tensor.gradientOp` reports it.
    /// A switch rather than `"\(op)"`, which goes through reflection and costs ~10 µs per op.
    public var name: String {
        switch self {
        case .negate: "negate"
        case .exp: "exp"
        case .log: "log"
        case .log1p: "log1p"
        case .sqrt: "sqrt"
        case .abs: "abs"
        case .sign: "sign"
        case .square: "square"
        case .reciprocal: "reciprocal"
        case .sin: "sin"
        case .cos: "cos"
        case .addScalar: "addScalar"
        case .multiplyScalar: "multiplyScalar"
        case .power: "power"
        case .clamp: "clamp"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyReLU: "leakyReLU"
        case .elu: "elu"
        case .selu: "selu"
        case .gelu: "gelu"
        case .geluTanh: "geluTanh"
        case .softplus: "softplus"
        case .silu: "silu"
        case .hardtanh: "hardtanh"
        case .softsign: "softsign"
        }
    }
}

/// PyTorch's SELU constants.
@usableFromInline let seluScale = 1.0507009873554804934193349852946
@usableFromInline let seluAlpha = 1.6732632423543772848170429916717

@inline(__always)
func map<T>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
    for i in 0..<n { y[i] = f(x[i]) }
}

@inline(__always)
func sigmoidScalar<T: TensorScalar>(_ x: T) -> T {
    // Stable on both sides: e^(−|x|) never overflows.
    let e = T.exp(-Swift.abs(x))
    return x >= 0 ? 1 / (1 + e) : e / (1 + e)
}

/// `x^y` as C's `pow`: real for a negative `x` when `y` is a whole number, and `0^0 = 1`
/// (RealModule's `pow(_:_:)` returns NaN for both, PyTorch does not).
@inline(__always)
func powScalar<T: TensorScalar>(_ x: T, _ y: T) -> T {
    if y.rounded() == y && Swift.abs(y) < 0x1p52 { return T.pow(x, Int(y)) }
    return T.pow(x, y)
}

@inline(__always)
func geluTanhInner<T: TensorScalar>(_ x: T) -> T {
    T(0.7978845608028654) * (x + T(0.044715) * x * x * x)
}

func unaryLoop<T: TensorScalar>(
    _ op: UnaryOp<T>, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int
) {
    switch op {
    case .negate: map(x, y, n) { -$0 }
    case .exp: map(x, y, n) { T.exp($0) }
    case .log: map(x, y, n) { T.log($0) }
    case .log1p: map(x, y, n) { T.log(onePlus: $0) }
    case .sqrt: map(x, y, n) { $0.squareRoot() }
    case .abs: map(x, y, n) { Swift.abs($0) }
    case .sign: map(x, y, n) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) }
    case .square: map(x, y, n) { $0 * $0 }
    case .reciprocal: map(x, y, n) { 1 / $0 }
    case .sin: map(x, y, n) { T.sin($0) }
    case .cos: map(x, y, n) { T.cos($0) }
    case .addScalar(let c): map(x, y, n) { $0 + c }
    case .multiplyScalar(let c): map(x, y, n) { $0 * c }
    case .power(let p):
        if p == 2 { map(x, y, n) { $0 * $0 } } else { map(x, y, n) { powScalar($0, p) } }
    case .clamp(let low, let high): map(x, y, n) { $0.isNaN ? $0 : Swift.min(Swift.max($0, low), high) }
    case .sigmoid: map(x, y, n) { sigmoidScalar($0) }
    case .tanh: map(x, y, n) { T.tanh($0) }
    case .relu: map(x, y, n) { $0 > 0 ? $0 : ($0.isNaN ? $0 : 0) }
    case .leakyReLU(let s): map(x, y, n) { $0 > 0 ? $0 : s * $0 }
    case .elu(let a): map(x, y, n) { $0 > 0 ? $0 : a * T.expMinusOne($0) }
    case .selu:
        let scale = T(seluScale), sa = T(seluScale * seluAlpha)
        map(x, y, n) { $0 > 0 ? scale * $0 : sa * T.expMinusOne($0) }
    case .gelu: map(x, y, n) { $0 * T(0.5) * (1 + T.erf($0 * T(0.7071067811865476))) }
    case .geluTanh: map(x, y, n) { T(0.5) * $0 * (1 + T.tanh(geluTanhInner($0))) }
    case .softplus(let beta, let threshold):
        map(x, y, n) { $0 * beta > threshold ? $0 : T.log(onePlus: T.exp($0 * beta)) / beta }
    case .silu: map(x, y, n) { $0 * sigmoidScalar($0) }
    case .hardtanh(let low, let high): map(x, y, n) { $0.isNaN ? $0 : Swift.min(Swift.max($0, low), high) }
    case .softsign: map(x, y, n) { $0 / (1 + Swift.abs($0)) }
    }
}

@inline(__always)
func mapGradient<T>(
    _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>,
    _ dx: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T
) where T: FloatingPoint {
    for i in 0..<n { dx[i] = dy[i] * f(x[i], y[i]) }
}

func unaryGradientLoop<T: TensorScalar>(
    _ op: UnaryOp<T>, x: UnsafePointer<T>, y: UnsafePointer<T>,
    dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>, _ n: Int
) {
    switch op {
    case .negate: mapGradient(x, y, dy, dx, n) { _, _ in -1 }
    case .exp: mapGradient(x, y, dy, dx, n) { _, y in y }
    case .log: mapGradient(x, y, dy, dx, n) { x, _ in 1 / x }
    case .log1p: mapGradient(x, y, dy, dx, n) { x, _ in 1 / (1 + x) }
    case .sqrt: mapGradient(x, y, dy, dx, n) { _, y in 1 / (2 * y) }
    case .abs: mapGradient(x, y, dy, dx, n) { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }
    case .sign: mapGradient(x, y, dy, dx, n) { _, _ in 0 }
    case .square: mapGradient(x, y, dy, dx, n) { x, _ in 2 * x }
    case .reciprocal: mapGradient(x, y, dy, dx, n) { _, y in -y * y }
    case .sin: mapGradient(x, y, dy, dx, n) { x, _ in T.cos(x) }
    case .cos: mapGradient(x, y, dy, dx, n) { x, _ in -T.sin(x) }
    case .addScalar: mapGradient(x, y, dy, dx, n) { _, _ in 1 }
    case .multiplyScalar(let c): mapGradient(x, y, dy, dx, n) { _, _ in c }
    case .power(let p):
        mapGradient(x, y, dy, dx, n) { x, _ in p == 0 ? 0 : p * powScalar(x, p - 1) }
    case .clamp(let low, let high): mapGradient(x, y, dy, dx, n) { x, _ in x >= low && x <= high ? 1 : 0 }
    case .sigmoid: mapGradient(x, y, dy, dx, n) { _, y in y * (1 - y) }
    case .tanh: mapGradient(x, y, dy, dx, n) { _, y in 1 - y * y }
    case .relu: mapGradient(x, y, dy, dx, n) { x, _ in x > 0 ? 1 : 0 }
    case .leakyReLU(let s): mapGradient(x, y, dy, dx, n) { x, _ in x > 0 ? 1 : s }
    case .elu(let a): mapGradient(x, y, dy, dx, n) { x, y in x > 0 ? 1 : y + a }
    case .selu:
        let scale = T(seluScale), sa = T(seluScale * seluAlpha)
        mapGradient(x, y, dy, dx, n) { x, y in x > 0 ? scale : y + sa }
    case .gelu:
        mapGradient(x, y, dy, dx, n) { x, _ in
            let cdf = T(0.5) * (1 + T.erf(x * T(0.7071067811865476)))
            let pdf = T.exp(-T(0.5) * x * x) * T(0.3989422804014327)
            return cdf + x * pdf
        }
    case .geluTanh:
        mapGradient(x, y, dy, dx, n) { x, _ in
            let t = T.tanh(geluTanhInner(x))
            let inner = T(0.7978845608028654) * (1 + 3 * T(0.044715) * x * x)
            return T(0.5) * (1 + t) + T(0.5) * x * (1 - t * t) * inner
        }
    case .softplus(let beta, let threshold):
        mapGradient(x, y, dy, dx, n) { x, _ in x * beta > threshold ? 1 : sigmoidScalar(x * beta) }
    case .silu:
        mapGradient(x, y, dy, dx, n) { x, _ in
            let s = sigmoidScalar(x)
            return s * (1 + x * (1 - s))
        }
    case .hardtanh(let low, let high): mapGradient(x, y, dy, dx, n) { x, _ in x > low && x < high ? 1 : 0 }
    case .softsign:
        mapGradient(x, y, dy, dx, n) { x, _ in
            let d = 1 + Swift.abs(x)
            return 1 / (d * d)
        }
    }
}
