// Batch and layer normalization as single recorded ops with closed-form pullbacks.
//
// Written with the primitive ops, batch normalization records about a dozen nodes (mean,
// centering, square, sum, sqrt, division, scale, shift) and its backward pass walks them all;
// as one op it makes two passes forward and two backward over the data. Sums are accumulated
// in Double, so the Float results are as accurate as PyTorch's float32 ones.

import GradKernels

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

/// Calls `body(i, c)` for every element index `i` of `[outer, channels, inner]` with its channel
/// `c`, in memory order. For `[N, C]` (inner 1) the loop over a row's channels has no inner loop,
/// so the compiler vectorizes it.
@inline(__always)
private func forEachElement(_ count: (outer: Int, channels: Int, inner: Int), _ body: (_ i: Int, _ c: Int) -> Void) {
    if count.inner == 1 {
        // Wrapping index arithmetic (the indices are those of an allocated tensor): an overflow
        // check in the loop would stop vectorization.
        for o in 0..<count.outer {
            let base = o &* count.channels
            for c in 0..<count.channels { body(base &+ c, c) }
        }
    } else {
        for o in 0..<count.outer {
            for c in 0..<count.channels {
                let base = (o * count.channels + c) * count.inner
                for i in base..<(base + count.inner) { body(i, c) }
            }
        }
    }
}

/// Sums of `value(i, c)` over the outer and inner axes of `[outer, channels, inner]`, per
/// channel, in Double (each outer index's inner run summed first, then added to its channel).
@inline(__always)
private func channelSums(
    _ count: (outer: Int, channels: Int, inner: Int), _ value: (_ i: Int, _ c: Int) -> Double
) -> [Double] {
    var sums = [Double](repeating: 0, count: count.channels)
    sums.withUnsafeMutableBufferPointer { s in
        let s = s.baseAddress!
        if count.inner == 1 {
            forEachElement(count) { i, c in s[c] += value(i, c) }
            return
        }
        for o in 0..<count.outer {
            for c in 0..<count.channels {
                let base = (o * count.channels + c) * count.inner
                var acc = 0.0
                for i in base..<(base + count.inner) { acc += value(i, c) }
                s[c] += acc
            }
        }
    }
    return sums
}

/// Per-channel values in a buffer the caller frees: raw pointers keep the element loops free of
/// array bounds checks (which stop vectorization).
private func channelBuffer<T: TensorScalar>(_ values: [T]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
    p.initialize(from: values, count: values.count)
    return p
}

/// Whether batch normalization runs on GradKernels' loops: Float `[N, C]` (or `[N, C, 1]`),
/// AVX2 where the CPU has it. They do the same operations in the same order as the Swift loops
/// (`forEachElement`, `channelSums`), so the choice does not change a bit of the results.
@inline(__always)
private func usesChannelKernels<T: TensorScalar>(_: T.Type, _ layout: (outer: Int, channels: Int, inner: Int)) -> Bool {
    T.self == Float.self && layout.inner == 1
}

/// A Float view of a pointer whose element type is Float (`usesChannelKernels`).
@inline(__always)
private func floats<T: TensorScalar>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

/// `gl_channel_sums` over the rows of a Float `[N, C]` tensor: `Σ x`, or `Σ (x − center)²`, or
/// `Σ x·other`; with `withPlainSums`, `Σ x` too.
private func kernelChannelSums<T: TensorScalar>(
    _ x: UnsafeMutablePointer<T>, _ layout: (outer: Int, channels: Int, inner: Int),
    center: UnsafeMutablePointer<Double>? = nil, times other: UnsafeMutablePointer<T>? = nil, withPlainSums: Bool
) -> (sums: [Double], plain: [Double]) {
    var sums = [Double](repeating: 0, count: layout.channels), plain = withPlainSums ? sums : []
    sums.withUnsafeMutableBufferPointer { s in
        plain.withUnsafeMutableBufferPointer { p in
            gl_channel_sums(floats(x), other.map(floats), center, layout.outer, layout.channels, s.baseAddress,
                            withPlainSums ? p.baseAddress : nil)
        }
    }
    return (sums, plain)
}

private func kernelChannelSums<T: TensorScalar>(
    _ x: UnsafeMutablePointer<T>, _ layout: (outer: Int, channels: Int, inner: Int), center: UnsafeMutablePointer<Double>? = nil
) -> [Double] {
    kernelChannelSums(x, layout, center: center, times: nil, withPlainSums: false).sums
}

func batchNormBody<T: TensorScalar>(
    _ x: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> BatchNormalization<T> {
    let layout = channelLayout(x, "batchNormalized")
    let channels = layout.channels
    let m = layout.outer * layout.inner
    precondition(m > 1, "Expected more than 1 value per channel when training, got input size \(x.shape)")
    checkChannelParameter(weight, "weight", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(bias, "bias", channels: channels, input: x.shape, "batchNormalized")
    let xp = x.storage.pointer
    let kernels = usesChannelKernels(T.self, layout)
    // Two passes (mean, then squared deviations), as PyTorch: accurate for large means.
    let means = (kernels ? kernelChannelSums(xp, layout) : channelSums(layout) { i, _ in Double(xp[i]) }).map { $0 / Double(m) }
    let mu = channelBuffer(means)
    defer { mu.deallocate() }
    let squares = kernels ? kernelChannelSums(xp, layout, center: mu) : channelSums(layout) { i, c in
        let d = Double(xp[i]) - mu[c]
        return d * d
    }
    let variances = squares.map { $0 / Double(m) }
    let invStd = variances.map { T(1 / ($0 + Double(epsilon)).squareRoot()) }
    let meanT = means.map { T($0) }
    var out = Tensor<T>(uninitializedShape: x.shape)
    let normalized = Tensor<T>(uninitializedShape: x.shape)
    let yp = out.storage.pointer, np = normalized.storage.pointer
    let gp = weight?.storage.pointer, bp = bias?.storage.pointer
    // Per channel: mean, 1/σ, γ, β.
    let table = channelBuffer(meanT + invStd + (0..<channels).map { gp?[$0] ?? 1 } + (0..<channels).map { bp?[$0] ?? 0 })
    defer { table.deallocate() }
    let (tMean, tInvStd, tWeight, tBias) = (table, table + channels, table + 2 * channels, table + 3 * channels)
    if kernels {
        gl_channel_normalize(floats(xp), layout.outer, channels, floats(tMean), floats(tInvStd), floats(tWeight), floats(tBias),
                             floats(np), floats(yp))
    } else {
        forEachElement(layout) { i, c in
            let n = (xp[i] - tMean[c]) * tInvStd[c]
            np[i] = n
            yp[i] = n * tWeight[c] + tBias[c]
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
        let dyp = dy.storage.pointer
        let (dWeight, dBias): ([T], [T])
        if kernels {
            let sums = kernelChannelSums(dyp, layout, times: np, withPlainSums: true)
            (dWeight, dBias) = (sums.sums.map { T($0) }, sums.plain.map { T($0) })
        } else {
            dWeight = channelSums(layout) { i, _ in Double(dyp[i]) * Double(np[i]) }.map { T($0) }
            dBias = channelSums(layout) { i, _ in Double(dyp[i]) }.map { T($0) }
        }
        var grads: [Tensor<T>?] = []
        if x.node != nil {
            let dx = Tensor<T>(uninitializedShape: x.shape)
            let dxp = dx.storage.pointer
            let scale = T(m)
            // Per channel: γ/(M·σ), Σ dy, Σ dy·x̂.
            let factors = (0..<channels).map { (gp?[$0] ?? 1) * invStd[$0] / scale }
            let table = channelBuffer(factors + dBias + dWeight)
            defer { table.deallocate() }
            let (tFactor, tBias, tWeight) = (table, table + channels, table + 2 * channels)
            if kernels {
                gl_channel_normalize_gradient(floats(dyp), floats(np), layout.outer, channels, unsafeBitCast(scale, to: Float.self),
                                              floats(tFactor), floats(tBias), floats(tWeight), floats(dxp))
            } else {
                forEachElement(layout) { i, c in dxp[i] = tFactor[c] * (scale * dyp[i] - tBias[c] - np[i] * tWeight[c]) }
            }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        if hasWeight { grads.append(weight!.node == nil ? nil : Tensor(shape: [channels], scalars: dWeight)) }
        if hasBias { grads.append(bias!.node == nil ? nil : Tensor(shape: [channels], scalars: dBias)) }
        return grads
    }
    return BatchNormalization(output: out, mean: statistics.mean, variance: statistics.variance, countPerChannel: m)
}

func batchNormFixedBody<T: TensorScalar>(
    _ x: Tensor<T>, mean: Tensor<T>, variance: Tensor<T>, weight: Tensor<T>?, bias: Tensor<T>?, epsilon: T
) -> Tensor<T> {
    let layout = channelLayout(x, "batchNormalized")
    let channels = layout.channels
    checkChannelParameter(mean, "mean", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(variance, "variance", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(weight, "weight", channels: channels, input: x.shape, "batchNormalized")
    checkChannelParameter(bias, "bias", channels: channels, input: x.shape, "batchNormalized")
    let vp = variance.storage.pointer, mp = mean.storage.pointer
    let invStd = (0..<channels).map { T(1 / (Double(vp[$0]) + Double(epsilon)).squareRoot()) }
    var out = Tensor<T>(uninitializedShape: x.shape)
    let xp = x.storage.pointer, yp = out.storage.pointer
    let gp = weight?.storage.pointer, bp = bias?.storage.pointer
    // Per channel: 1/σ, γ, β.
    let table = channelBuffer(invStd + (0..<channels).map { gp?[$0] ?? 1 } + (0..<channels).map { bp?[$0] ?? 0 })
    defer { table.deallocate() }
    let (tInvStd, tWeight, tBias) = (table, table + channels, table + 2 * channels)
    forEachElement(layout) { i, c in yp[i] = (xp[i] - mp[c]) * tInvStd[c] * tWeight[c] + tBias[c] }
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
            let factors = channelBuffer((0..<channels).map { (gp?[$0] ?? 1) * invStd[$0] })
            defer { factors.deallocate() }
            forEachElement(layout) { i, c in dxp[i] = dyp[i] * factors[c] }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        if hasWeight {
            if weight!.node == nil {
                grads.append(nil)
            } else {
                let sums = channelSums(layout) { i, c in Double(dyp[i]) * Double((xp[i] - mp[c]) * invStd[c]) }
                grads.append(Tensor(shape: [channels], scalars: sums.map { T($0) }))
            }
        }
        if hasBias {
            grads.append(bias!.node == nil ? nil : Tensor(shape: [channels], scalars: channelSums(layout) { i, _ in Double(dyp[i]) }.map { T($0) }))
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
