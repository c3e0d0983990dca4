import GradTensor

/// How a loss combines its per-element terms (PyTorch's `reduction`).
public enum Reduction: String, Sendable, Codable {
    case mean, sum, none

    func apply<T: TensorScalar>(_ terms: Tensor<T>) -> Tensor<T> {
        switch self {
        case .mean: terms.mean()
        case .sum: terms.sum()
        case .none: terms
        }
    }
}

private func checkSameShape<T>(_ name: String, _ predictions: Tensor<T>, _ targets: Tensor<T>) {
    precondition(predictions.shape == targets.shape,
                 "\(name): predictions shape \(predictions.shape) does not match targets shape \(targets.shape)")
}

/// Mean squared error `mean((p − t)²)` (`nn.MSELoss`).
///
/// With a `.mean` or `.sum` reduction, one graph node: the values and gradients of
/// `(p − t).squared().mean()` (`.sum()`), in the same operations and order,
/// `∂/∂p = (g·c)·(2(p − t))` with `c = 1/n` (1 for a sum) and `∂/∂t` its negation.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func meanSquaredError<T: TensorScalar>(
    predictions: Tensor<T>, targets: Tensor<T>, reduction: Reduction = .mean
) -> Tensor<T> {
    checkSameShape("meanSquaredError", predictions, targets)
    if reduction == .none { return (predictions - targets).squared() }
    // Written on the buffers (whose accessors are inlinable, so this runs specialized) rather
    // than as four recorded ops: a loss on a small network's batch is mostly op overhead.
    var difference = Tensor<T>(shape: predictions.shape, repeating: 0)
    var total: T = 0
    difference.withUnsafeMutableBufferPointer { d in
        predictions.withUnsafeBufferPointer { p in
            targets.withUnsafeBufferPointer { t in
                for i in 0..<d.count { d[i] = p[i] - t[i] }
            }
        }
        total = sumOfSquares(UnsafeBufferPointer(d))
    }
    let scale = reduction == .mean ? 1 / T(predictions.count) : 1
    var loss = Tensor<T>(reduction == .mean ? total * scale : total)
    let needsTargets = targets.requiresGrad
    if (predictions.requiresGrad || needsTargets) && isGradientRecordingEnabled {
        loss.record("meanSquaredError", inputs: [predictions, targets]) { g in
            let upstream = reduction == .mean ? g.scalar * scale : g.scalar
            var dp = Tensor<T>(shape: difference.shape, repeating: 0)
            var dt: Tensor<T>? = needsTargets ? Tensor<T>(shape: difference.shape, repeating: 0) : nil
            difference.withUnsafeBufferPointer { d in
                dp.withUnsafeMutableBufferPointer { o in
                    for i in 0..<d.count { o[i] = (d[i] * 2) * upstream }
                    if dt != nil {
                        dt!.withUnsafeMutableBufferPointer { ot in for i in 0..<d.count { ot[i] = -o[i] } }
                    }
                }
            }
            return [dp, dt]
        }
    }
    return loss
}

/// `Σ x²` in the order of `Tensor.sum()` on the squares: eight-lane partial sums, the lanes
/// added by `SIMD8.sum()`, then the tail in order.
@inline(__always)
func sumOfSquares<T: TensorScalar>(_ x: UnsafeBufferPointer<T>) -> T {
    var acc = SIMD8<T>()
    var i = 0
    while i + 8 <= x.count {
        var v = SIMD8<T>()
        for j in 0..<8 { v[j] = x[i + j] * x[i + j] }
        acc += v
        i += 8
    }
    var s = acc.sum()
    while i < x.count {
        s += x[i] * x[i]
        i += 1
    }
    return s
}

/// Mean absolute error `mean(|p − t|)` (`nn.L1Loss`).
public func l1Loss<T: TensorScalar>(
    predictions: Tensor<T>, targets: Tensor<T>, reduction: Reduction = .mean
) -> Tensor<T> {
    checkSameShape("l1Loss", predictions, targets)
    return reduction.apply((predictions - targets).abs())
}

/// Huber loss (`nn.HuberLoss`): `½d²` where `|d| < δ`, else `δ(|d| − ½δ)`, with `d = p − t`.
public func huberLoss<T: TensorScalar>(
    predictions: Tensor<T>, targets: Tensor<T>, delta: T = 1, reduction: Reduction = .mean
) -> Tensor<T> {
    checkSameShape("huberLoss", predictions, targets)
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = predictions - targets
    let a = d.abs()
    let quadratic = d.squared() * T(0.5)
    let linearPart = (a - T(0.5) * delta) * delta
    return reduction.apply(Tensor.where(a .< delta, quadratic, linearPart))
}

/// Binary cross-entropy on probabilities (`nn.BCELoss`):
/// `−[t·log p + (1 − t)·log(1 − p)]`, each log clamped at −100 as PyTorch does.
public func binaryCrossEntropy<T: TensorScalar>(
    predictions: Tensor<T>, targets: Tensor<T>, reduction: Reduction = .mean
) -> Tensor<T> {
    checkSameShape("binaryCrossEntropy", predictions, targets)
    let p = predictions.detached(), t = targets.detached()
    let logP = p.log().clamped(min: -100)
    let logOneMinusP = (1 - p).log().clamped(min: -100)
    var terms = -(t * logP + (1 - t) * logOneMinusP)
    if Tensor.needsRecording([predictions, targets]) {
        // Pullback as PyTorch's: d/dp = (p − t) / max(p(1 − p), 1e-12), finite at p = 0 and 1
        // (the chain rule through the clamped logs would give 0·∞ = NaN there);
        // d/dt = log(1 − p) − log p with the same clamps.
        terms.record("binaryCrossEntropy", inputs: [predictions, targets]) { g in
            [g * (p - t) / (p * (1 - p)).clamped(min: T(1e-12)), g * (logOneMinusP - logP)]
        }
    }
    return reduction.apply(terms)
}

/// Binary cross-entropy on logits (`nn.BCEWithLogitsLoss`), stable for any logit:
/// `max(z, 0) − z·t + log(1 + e^(−|z|))`.
public func binaryCrossEntropyWithLogits<T: TensorScalar>(
    logits: Tensor<T>, targets: Tensor<T>, reduction: Reduction = .mean
) -> Tensor<T> {
    checkSameShape("binaryCrossEntropyWithLogits", logits, targets)
    let z = logits.detached(), t = targets.detached()
    var terms = relu(z) - z * t + (-z.abs()).exp().log1p()
    if Tensor.needsRecording([logits, targets]) {
        // d/dz = σ(z) − t, d/dt = −z: exact also at z = 0, where the kinks of max and |·|
        // in the stable formula would give −t instead of ½ − t.
        terms.record("binaryCrossEntropyWithLogits", inputs: [logits, targets]) { g in
            [g * (sigmoid(z) - t), -(g * z)]
        }
    }
    return reduction.apply(terms)
}

/// Cross-entropy of logits `[n, classes]` against integer labels (`nn.CrossEntropyLoss`):
/// `−log softmax(z)[label]`, through a stable log-softmax.
public func crossEntropy<T: TensorScalar>(
    logits: Tensor<T>, labels: [Int], reduction: Reduction = .mean
) -> Tensor<T> {
    precondition(logits.rank == 2, "crossEntropy: logits must be [n, classes], got shape \(logits.shape)")
    precondition(labels.count == logits.shape[0],
                 "crossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
    let classes = logits.shape[1]
    for l in labels { precondition(l >= 0 && l < classes, "crossEntropy: label \(l) out of range 0..<\(classes)") }
    // Select rather than multiply by the one-hot mask: a logit of −∞ (a masked class) would
    // turn 0·(−∞) into NaN.
    let picked = Tensor.where(Tensor.oneHot(labels, classes: classes), logSoftmax(logits, axis: 1), Tensor(0))
        .sum(axis: 1)
    return reduction.apply(-picked)
}

/// Cross-entropy at every time step: logits `[n, T, classes]` (batch-first, the output of a
/// recurrent layer and a `Linear` applied per step) against one class index per example and step,
/// `labels[i·T + t]`, averaged over all `n·T` steps with `.mean`.
///
/// The same loss as PyTorch's `nn.CrossEntropyLoss()(logits.permute(0, 2, 1), targets)` with
/// targets `[n, T]` (PyTorch puts the classes on axis 1); computed as `crossEntropy` on the
/// logits reshaped to `[n·T, classes]`, so gradients flow back per step.
/// - Parameters:
///   - logits: `[n, T, classes]`.
///   - labels: `n·T` class indices in `0 ..< classes`, example-major (row `i`, step `t` at `i·T + t`).
///   - reduction: `.mean` over the `n·T` steps, `.sum`, or `.none` (`[n·T]` terms).
public func sequenceCrossEntropy<T: TensorScalar>(
    logits: Tensor<T>, labels: [Int], reduction: Reduction = .mean
) -> Tensor<T> {
    precondition(logits.rank == 3, "sequenceCrossEntropy: logits must be [n, T, classes], got shape \(logits.shape)")
    precondition(labels.count == logits.shape[0] * logits.shape[1],
                 "sequenceCrossEntropy: \(labels.count) labels for logits of shape \(logits.shape) (expected n·T = \(logits.shape[0] * logits.shape[1]))")
    return crossEntropy(logits: logits.reshaped([-1, logits.shape[2]]), labels: labels, reduction: reduction)
}
