// Batch and layer normalization as single recorded ops with closed-form pullbacks.
//
// Written with the primitive ops, batch normalization records about a dozen nodes (mean,
// centering, square, sum, sqrt, division, scale, shift) and its backward pass walks them all;
// as one op it makes two passes forward and two backward over the data. Sums are accumulated
// in Double, so the Float results are as accurate as PyTorch's float32 ones.

/// What `batchNormalized(_:weight:bias:epsilon:)` computes: the output and the batch statistics.
public struct BatchNormalization<Scalar: TensorScalar> {
    /// The normalized, scaled and shifted input (recorded by autodiff), shaped like the input.
    public var output: Tensor<Scalar>
    /// The mean of each channel over the batch (and length) axes, `[C]`; not recorded.
    public var mean: Tensor<Scalar>
    /// The biased variance (divided by the count `M`) of each channel, `[C]`; not recorded.
    public var variance: Tensor<Scalar>
    /// The number of values per channel, `M = N·L`.
    public var countPerChannel: Int
}

/// Batch normalization with the batch's own statistics (training mode, as `F.batch_norm` with
/// `training=True`), as one recorded op.
///
/// Shapes: `x` is `[N, C]` or `[N, C, L...]` (channels on axis 1); `weight` (γ) and `bias` (β)
/// are `[C]` or nil (γ = 1, β = 0). Per channel `c`, over its `M = N·L` values,
/// `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased), `x̂ = (x − μ)/√(σ² + ε)`, `y = γ·x̂ + β`.
/// Pullback (exact, through μ and σ²): `dβ = Σ dy`, `dγ = Σ dy·x̂`,
/// `dx = γ/(M·√(σ² + ε)) · (M·dy − dβ − x̂·dγ)`.
/// - Parameters:
///   - x: the input; `M` must be at least 2 (PyTorch raises "Expected more than 1 value per
///     channel when training" otherwise).
///   - weight: γ, or nil.
///   - bias: β, or nil.
///   - epsilon: ε added to the variance.
public func batchNormalized<T: TensorScalar>(
    _ x: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> BatchNormalization<T> {
    // Layers call this from generic code; run a body compiled for the element type (see `Specialization.swift`).
    if T.self == Float.self {
        let r = batchNormBody(asFloat(x), weight: weight.map(asFloat), bias: bias.map(asFloat), epsilon: unsafeBitCast(epsilon, to: Float.self))
        return unsafeBitCast(r, to: BatchNormalization<T>.self)
    }
    if T.self == Double.self {
        let r = batchNormBody(asDouble(x), weight: weight.map(asDouble), bias: bias.map(asDouble), epsilon: unsafeBitCast(epsilon, to: Double.self))
        return unsafeBitCast(r, to: BatchNormalization<T>.self)
    }
    return batchNormBody(x, weight: weight, bias: bias, epsilon: epsilon)
}

/// Batch normalization with given statistics (evaluation mode, as `F.batch_norm` with
/// `training=False` and the running statistics), as one recorded op.
///
/// `y = γ·(x − μ)/√(σ² + ε) + β` per channel (axis 1). `mean` and `variance` are constants
/// (running statistics): no gradient flows to them. Pullback: `dx = dy·γ/√(σ² + ε)`,
/// `dγ = Σ dy·x̂`, `dβ = Σ dy`.
/// - Parameters:
///   - x: `[N, C]` or `[N, C, L...]`.
///   - mean: μ, `[C]`.
///   - variance: σ², `[C]`.
///   - weight: γ `[C]`, or nil.
///   - bias: β `[C]`, or nil.
///   - epsilon: ε added to the variance.
public func batchNormalized<T: TensorScalar>(
    _ x: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> Tensor<T> {
    if T.self == Float.self {
        return asScalar(batchNormFixedBody(asFloat(x), mean: asFloat(mean), variance: asFloat(variance),
                                           weight: weight.map(asFloat), bias: bias.map(asFloat), epsilon: unsafeBitCast(epsilon, to: Float.self)))
    }
    if T.self == Double.self {
        return fromDouble(batchNormFixedBody(asDouble(x), mean: asDouble(mean), variance: asDouble(variance),
                                             weight: weight.map(asDouble), bias: bias.map(asDouble), epsilon: unsafeBitCast(epsilon, to: Double.self)))
    }
    return batchNormFixedBody(x, mean: mean, variance: variance, weight: weight, bias: bias, epsilon: epsilon)
}

/// Layer normalization over the trailing axes (as `F.layer_norm`), as one recorded op.
///
/// Shapes: `x` `[..., D₁, ..., Dₖ]` whose last `k` axes are `normalizedShape`; `weight` (γ) and
/// `bias` (β) have shape `normalizedShape` or are nil. Per row (the `D = ∏ Dᵢ` trailing values),
/// `x̂ = (x − μ)/√(σ² + ε)` with the biased variance, `y = γ ⊙ x̂ + β`. Pullback per row:
/// `g = dy ⊙ γ`, `dx = (D·g − Σg − x̂·Σ g·x̂)/(D·√(σ² + ε))`; `dγ = Σ_rows dy ⊙ x̂`, `dβ = Σ_rows dy`.
/// - Parameters:
///   - x: the input.
///   - normalizedShape: the trailing shape normalized over (non-empty).
///   - weight: γ, or nil.
///   - bias: β, or nil.
///   - epsilon: ε added to the variance.
public func layerNormalized<T: TensorScalar>(
    _ x: Tensor<T>, normalizedShape: [Int], weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> Tensor<T> {
    if T.self == Float.self {
        return asScalar(layerNormBody(asFloat(x), normalizedShape: normalizedShape, weight: weight.map(asFloat),
                                      bias: bias.map(asFloat), epsilon: unsafeBitCast(epsilon, to: Float.self)))
    }
    if T.self == Double.self {
        return fromDouble(layerNormBody(asDouble(x), normalizedShape: normalizedShape, weight: weight.map(asDouble),
                                        bias: bias.map(asDouble), epsilon: unsafeBitCast(epsilon, to: Double.self)))
    }
    return layerNormBody(x, normalizedShape: normalizedShape, weight: weight, bias: bias, epsilon: epsilon)
}

// MARK: - Bodies

@inline(__always)
private func asDouble<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<Double> {
    assert(T.self == Double.self)
    return unsafeBitCast(x, to: Tensor<Double>.self)
}

@inline(__always)
private func fromDouble<T: TensorScalar>(_ x: Tensor<Double>) -> Tensor<T> {
    assert(T.self == Double.self)
    return unsafeBitCast(x, to: Tensor<T>.self)
}

/// `x` viewed as `[outer, channels, inner]` with channels on axis 1.
private func channelLayout<T: TensorScalar>(_ x: Tensor<T>, _ function: String) -> (outer: Int, channels: Int, inner: Int) {
    precondition(x.rank >= 2, "\(function): input must be [N, C] or [N, C, L], got shape \(x.shape)")
    return (x.shape[0], x.shape[1], x.shape[2...].reduce(1, *))
}

private func checkChannelParameter<T: TensorScalar>(_ p: Tensor<T>?, _ name: String, channels: Int, input: [Int], _ function: String) {
    if let p {
        precondition(p.shape == [channels],
                     "\(function): \(name) shape \(p.shape) does not fit input shape \(input) (expected [\(channels)])")
    }
}

/// Sums over the outer and inner axes of `[outer, channels, inner]`, per channel, in Double.
@inline(__always)
private func channelSums(
    _ count: (outer: Int, channels: Int, inner: Int), _ value: (Int) -> Double
) -> [Double] {
    var sums = [Double](repeating: 0, count: count.channels)
    sums.withUnsafeMutableBufferPointer { s in
        for o in 0..<count.outer {
            for c in 0..<count.channels {
                let base = (o * count.channels + c) * count.inner
                var acc = 0.0
                for i in 0..<count.inner { acc += value(base + i) }
                s[c] += acc
            }
        }
    }
    return sums
}

func batchNormBody<T: TensorScalar>(
    _ x: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> BatchNormalization<T> {
    let layout = channelLayout(x, "batchNormalized")
    let (outer, channels, inner) = layout
    let m = outer * inner
    precondition(m > 1, "Expected more than 1 value per channel when training, got input size \(x.shape)")
    checkChannelParameter(weight, "weight", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(bias, "bias", channels: channels, input: x.shape, "batchNormalized")
    let xp = x.storage.pointer
    // Two passes (mean, then squared deviations), as PyTorch: accurate for large means.
    let means = channelSums(layout) { Double(xp[$0]) }.map { $0 / Double(m) }
    let squares = means.withUnsafeBufferPointer { mu in
        channelSums(layout) { i in
            let d = Double(xp[i]) - mu[(i / inner) % channels]
            return d * d
        }
    }
    let variances = squares.map { $0 / Double(m) }
    let invStd = variances.map { T(1 / ($0 + Double(epsilon)).squareRoot()) }
    let meanT = means.map { T($0) }
    var out = Tensor<T>(uninitializedShape: x.shape)
    let normalized = Tensor<T>(uninitializedShape: x.shape)
    let yp = out.storage.pointer, np = normalized.storage.pointer
    let gp = weight?.storage.pointer, bp = bias?.storage.pointer
    for o in 0..<outer {
        for c in 0..<channels {
            let mu = meanT[c], s = invStd[c], g = gp?[c] ?? 1, b = bp?[c] ?? 0
            let base = (o * channels + c) * inner
            for i in base..<(base + inner) {
                let n = (xp[i] - mu) * s
                np[i] = n
                yp[i] = n * g + b
            }
        }
    }
    let statistics = BatchNormalization(
        output: out, mean: Tensor(shape: [channels], scalars: meanT),
        variance: Tensor(shape: [channels], scalars: variances.map { T($0) }), countPerChannel: m)
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    guard Tensor.needsRecording(inputs) else { return statistics }
    let hasWeight = weight != nil, hasBias = bias != nil
    out.record("batchNorm", inputs: inputs) { dy in
        // Pointers taken here, from tensors this closure holds (the forward pass's may be freed).
        let np = normalized.storage.pointer, gp = weight?.storage.pointer
        let gradients = batchNormGradients(dy, normalized: normalized, layout: layout)
        var grads: [Tensor<T>?] = []
        if x.node != nil {
            let dx = Tensor<T>(uninitializedShape: x.shape)
            let dyp = dy.storage.pointer, dxp = dx.storage.pointer
            let scale = T(m)
            for o in 0..<outer {
                for c in 0..<channels {
                    let factor = (gp?[c] ?? 1) * invStd[c] / scale
                    let db = gradients.bias[c], dg = gradients.weight[c]
                    let base = (o * channels + c) * inner
                    for i in base..<(base + inner) { dxp[i] = factor * (scale * dyp[i] - db - np[i] * dg) }
                }
            }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        if hasWeight { grads.append(weight!.node == nil ? nil : Tensor(shape: [channels], scalars: gradients.weight)) }
        if hasBias { grads.append(bias!.node == nil ? nil : Tensor(shape: [channels], scalars: gradients.bias)) }
        return grads
    }
    return BatchNormalization(output: out, mean: statistics.mean, variance: statistics.variance, countPerChannel: m)
}

/// `Σ dy·x̂` and `Σ dy` per channel.
private func batchNormGradients<T: TensorScalar>(
    _ dy: Tensor<T>, normalized: Tensor<T>, layout: (outer: Int, channels: Int, inner: Int)
) -> (weight: [T], bias: [T]) {
    let dyp = dy.storage.pointer, np = normalized.storage.pointer
    let dWeight = channelSums(layout) { Double(dyp[$0]) * Double(np[$0]) }
    let dBias = channelSums(layout) { Double(dyp[$0]) }
    return (dWeight.map { T($0) }, dBias.map { T($0) })
}

func batchNormFixedBody<T: TensorScalar>(
    _ x: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> Tensor<T> {
    let layout = channelLayout(x, "batchNormalized")
    let (outer, channels, inner) = layout
    checkChannelParameter(mean, "mean", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(variance, "variance", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(weight, "weight", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(bias, "bias", channels: channels, input: x.shape, "batchNormalized")
    let vp = variance.storage.pointer, mp = mean.storage.pointer
    let invStd = (0..<channels).map { T(1 / (Double(vp[$0]) + Double(epsilon)).squareRoot()) }
    var out = Tensor<T>(uninitializedShape: x.shape)
    let xp = x.storage.pointer, yp = out.storage.pointer
    let gp = weight?.storage.pointer, bp = bias?.storage.pointer
    for o in 0..<outer {
        for c in 0..<channels {
            let mu = mp[c], s = invStd[c], g = gp?[c] ?? 1, b = bp?[c] ?? 0
            let base = (o * channels + c) * inner
            for i in base..<(base + inner) { yp[i] = (xp[i] - mu) * s * g + b }
        }
    }
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    guard Tensor.needsRecording(inputs) else { return out }
    let hasWeight = weight != nil, hasBias = bias != nil
    out.record("batchNorm", inputs: inputs) { dy in
        // Pointers taken here, from tensors this closure holds (the forward pass's may be freed).
        let dyp = dy.storage.pointer, xp = x.storage.pointer, mp = mean.storage.pointer, gp = weight?.storage.pointer
        var grads: [Tensor<T>?] = []
        if x.node != nil {
            let dx = Tensor<T>(uninitializedShape: x.shape)
            let dxp = dx.storage.pointer
            for o in 0..<outer {
                for c in 0..<channels {
                    let factor = (gp?[c] ?? 1) * invStd[c]
                    let base = (o * channels + c) * inner
                    for i in base..<(base + inner) { dxp[i] = dyp[i] * factor }
                }
            }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        if hasWeight {
            if weight!.node == nil {
                grads.append(nil)
            } else {
                let sums = channelSums(layout) { i in
                    let c = (i / inner) % channels
                    return Double(dyp[i]) * Double((xp[i] - mp[c]) * invStd[c])
                }
                grads.append(Tensor(shape: [channels], scalars: sums.map { T($0) }))
            }
        }
        if hasBias {
            grads.append(bias!.node == nil ? nil : Tensor(shape: [channels], scalars: channelSums(layout) { Double(dyp[$0]) }.map { T($0) }))
        }
        return grads
    }
    return out
}

func layerNormBody<T: TensorScalar>(
    _ x: Tensor<T>, normalizedShape: [Int], weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> Tensor<T> {
    let k = normalizedShape.count
    precondition(k >= 1 && k <= x.rank && Array(x.shape.suffix(k)) == normalizedShape,
                 "layerNormalized: input shape \(x.shape) does not end with normalized shape \(normalizedShape)")
    for (name, p) in [("weight", weight), ("bias", bias)] {
        if let p {
            precondition(p.shape == normalizedShape,
                         "layerNormalized: \(name) shape \(p.shape) does not match normalized shape \(normalizedShape)")
        }
    }
    let d = normalizedShape.reduce(1, *)
    let rows = d == 0 ? 0 : x.count / d
    let xp = x.storage.pointer
    var out = Tensor<T>(uninitializedShape: x.shape)
    let normalized = Tensor<T>(uninitializedShape: x.shape)
    let yp = out.storage.pointer, np = normalized.storage.pointer
    let gp = weight?.storage.pointer, bp = bias?.storage.pointer
    var invStd = [T](repeating: 0, count: rows)
    for r in 0..<rows {
        let base = r * d
        var sum = 0.0
        for i in base..<(base + d) { sum += Double(xp[i]) }
        let mu = sum / Double(d)
        var squares = 0.0
        for i in base..<(base + d) {
            let dev = Double(xp[i]) - mu
            squares += dev * dev
        }
        let s = T(1 / (squares / Double(d) + Double(epsilon)).squareRoot())
        invStd[r] = s
        let muT = T(mu)
        for j in 0..<d {
            let n = (xp[base + j] - muT) * s
            np[base + j] = n
            yp[base + j] = n * (gp?[j] ?? 1) + (bp?[j] ?? 0)
        }
    }
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    guard Tensor.needsRecording(inputs) else { return out }
    let hasWeight = weight != nil, hasBias = bias != nil
    out.record("layerNorm", inputs: inputs) { dy in
        // Pointers taken here, from tensors this closure holds (the forward pass's may be freed).
        let dyp = dy.storage.pointer, np = normalized.storage.pointer, gp = weight?.storage.pointer
        var grads: [Tensor<T>?] = []
        if x.node != nil {
            let dx = Tensor<T>(uninitializedShape: x.shape)
            let dxp = dx.storage.pointer
            let scale = T(d)
            for r in 0..<rows {
                let base = r * d
                var sumG = 0.0, sumGN = 0.0
                for j in 0..<d {
                    let g = Double(dyp[base + j]) * Double(gp?[j] ?? 1)
                    sumG += g
                    sumGN += g * Double(np[base + j])
                }
                let sg = T(sumG), sgn = T(sumGN), factor = invStd[r] / scale
                for j in 0..<d {
                    let g = dyp[base + j] * (gp?[j] ?? 1)
                    dxp[base + j] = factor * (scale * g - sg - np[base + j] * sgn)
                }
            }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        if hasWeight || hasBias {
            var dWeight = [Double](repeating: 0, count: d), dBias = [Double](repeating: 0, count: d)
            for r in 0..<rows {
                let base = r * d
                for j in 0..<d {
                    let g = Double(dyp[base + j])
                    dWeight[j] += g * Double(np[base + j])
                    dBias[j] += g
                }
            }
            if hasWeight {
                grads.append(weight!.node == nil ? nil : Tensor(shape: normalizedShape, scalars: dWeight.map { T($0) }))
            }
            if hasBias {
                grads.append(bias!.node == nil ? nil : Tensor(shape: normalizedShape, scalars: dBias.map { T($0) }))
            }
        }
        return grads
    }
    return out
}
