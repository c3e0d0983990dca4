// Activation functions. Formulas and derivatives are in `Kernels/UnaryKernels.swift`.

/// Logistic sigmoid `1 / (1 + e^(−x))`; derivative `σ(1 − σ) ≤ 0.25`.
public func sigmoid<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.sigmoid) }
/// Hyperbolic tangent; derivative `1 − tanh² ≤ 1`.
public func tanh<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.tanh) }
/// `max(x, 0)`; derivative 1 for `x > 0`, else 0 (also at 0, as PyTorch).
public func relu<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.relu) }
/// `x` for `x > 0`, else `negativeSlope · x` (PyTorch default slope 0.01).
public func leakyReLU<T: TensorScalar>(_ x: Tensor<T>, negativeSlope: T = 0.01) -> Tensor<T> {
    x.applying(.leakyReLU(slope: negativeSlope))
}
/// `x` for `x > 0`, else `α(e^x − 1)`.
public func elu<T: TensorScalar>(_ x: Tensor<T>, alpha: T = 1) -> Tensor<T> { x.applying(.elu(alpha: alpha)) }
/// Scaled ELU with λ ≈ 1.0507 and α ≈ 1.6733 (self-normalizing networks).
public func selu<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.selu) }
/// Gaussian error linear unit `x·Φ(x)`; `approximateTanh` uses PyTorch's tanh form.
public func gelu<T: TensorScalar>(_ x: Tensor<T>, approximateTanh: Bool = false) -> Tensor<T> {
    x.applying(approximateTanh ? .geluTanh : .gelu)
}
/// `log(1 + e^(βx))/β`, linear where `βx > threshold` (PyTorch defaults β = 1, threshold = 20).
public func softplus<T: TensorScalar>(_ x: Tensor<T>, beta: T = 1, threshold: T = 20) -> Tensor<T> {
    x.applying(.softplus(beta: beta, threshold: threshold))
}
/// `x·σ(x)` (SiLU, swish).
public func silu<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.silu) }
/// `x` clamped to `[minValue, maxValue]` (PyTorch defaults −1, 1).
public func hardtanh<T: TensorScalar>(_ x: Tensor<T>, minValue: T = -1, maxValue: T = 1) -> Tensor<T> {
    x.applying(.hardtanh(low: minValue, high: maxValue))
}
/// `x / (1 + |x|)`.
public func softsign<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T> { x.applying(.softsign) }
/// Parametric ReLU: `x` for `x > 0`, else `a·x` with a learnable `a` of shape `[1]` or `[channels]`
/// (channels on axis 1 of the input, as PyTorch).
public func prelu<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>) -> Tensor<T> {
    precondition(weight.rank == 1, "prelu: weight must be 1-D, got shape \(weight.shape)")
    var a = weight
    if weight.count > 1 {
        precondition(x.rank >= 2 && x.shape[1] == weight.count,
                     "prelu: weight of \(weight.count) channels does not fit input shape \(x.shape) (channels on axis 1)")
        a = weight.reshaped([1, weight.count] + [Int](repeating: 1, count: x.rank - 2))
    }
    let positive = x .> T(0)
    return Tensor.where(positive, x, a * x)
}

/// `log(softmax(x))` along `axis`, computed stably as `x − max − log Σ e^(x − max)`.
public func logSoftmax<T: TensorScalar>(_ x: Tensor<T>, axis: Int = -1) -> Tensor<T> {
    let a = x.normalizedAxis(axis)
    let shifted = x.detached() - x.detached().max(axis: a, keepingDimension: true)
    let logSum = shifted.exp().sum(axis: a, keepingDimension: true).log()
    var out = shifted - logSum
    if Tensor.recording(x) {
        let y = out.detached()
        out.record("logSoftmax", inputs: [x]) { g in
            // d/dx: g − softmax · Σ g
            [g - y.exp() * g.sum(axis: a, keepingDimension: true)]
        }
    }
    return out
}

/// `softmax(x)` along `axis`.
public func softmax<T: TensorScalar>(_ x: Tensor<T>, axis: Int = -1) -> Tensor<T> {
    logSoftmax(x, axis: axis).exp()
}
