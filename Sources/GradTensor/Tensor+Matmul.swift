/// Row-major `op(a) · op(b)` for 2-D tensors, not recorded.
func gemm<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool = false, transposeB: Bool = false) -> Tensor<T> {
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kb, "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") do not fit (\(k) ≠ \(kb))")
    let out = Tensor<T>(uninitializedShape: [m, n])
    T.kernelGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                 a.storage.pointer, lda: a.shape[1], b.storage.pointer, ldb: b.shape[1], beta: 0,
                 out.storage.pointer, ldc: n)
    return out
}

/// Matrix product: `[m, k] · [k, n] → [m, n]`; with more axes, a batch of products over the
/// leading axes, which broadcast as in `torch.matmul` (aligned from the right, a size 1 or a
/// missing axis stretches: `[j, 1, m, k] · [b, k, n] → [j, b, m, n]`; a 2-D side is shared by
/// the whole batch). The gradient of a broadcast side is summed over the axes it was stretched on.
public func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs tensors of rank ≥ 2, got shapes \(a.shape) and \(b.shape)")
    if a.rank == 2 && b.rank == 2 {
        var out = gemm(a, b)
        if Tensor.recording(a, b) {
            out.record("matmul", inputs: [a, b]) { g in
                [a.node == nil ? nil : gemm(g, b, transposeB: true), b.node == nil ? nil : gemm(a, g, transposeA: true)]
            }
        }
        return out
    }
    if b.rank == 2 {
        // [..., m, k] · [k, n]: one product over the flattened batch.
        let lead = Array(a.shape.dropLast())
        return matmul(a.reshaped([-1, a.shape[a.rank - 1]]), b).reshaped(lead + [b.shape[1]])
    }
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    if batchA != batchB {
        guard let batch = BroadcastLayout(batchA, batchB)?.shape else {
            preconditionFailure("matmul: batch shapes of \(a.shape) and \(b.shape) do not broadcast")
        }
        return matmul(a.expanded(to: batch + a.shape.suffix(2)), b.expanded(to: batch + b.shape.suffix(2)))
    }
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
    precondition(b.shape[b.rank - 2] == k, "matmul: shapes \(a.shape) and \(b.shape) do not fit (\(k) ≠ \(b.shape[b.rank - 2]))")
    let batch = batchA.reduce(1, *)
    func batched(_ x: Tensor<T>, _ y: Tensor<T>, _ ta: Bool, _ tb: Bool, _ outShape: [Int]) -> Tensor<T> {
        let rows = ta ? x.shape[x.rank - 1] : x.shape[x.rank - 2], depth = ta ? x.shape[x.rank - 2] : x.shape[x.rank - 1]
        let cols = tb ? y.shape[y.rank - 2] : y.shape[y.rank - 1]
        let xs = x.shape[x.rank - 2] * x.shape[x.rank - 1], ys = y.shape[y.rank - 2] * y.shape[y.rank - 1]
        let out = Tensor<T>(uninitializedShape: outShape)
        for i in 0..<batch {
            T.kernelGemm(transposeA: ta, transposeB: tb, m: rows, n: cols, k: depth, alpha: 1,
                         x.storage.pointer + i * xs, lda: x.shape[x.rank - 1],
                         y.storage.pointer + i * ys, ldb: y.shape[y.rank - 1], beta: 0,
                         out.storage.pointer + i * rows * cols, ldc: cols)
        }
        return out
    }
    var out = batched(a, b, false, false, batchA + [m, n])
    if Tensor.recording(a, b) {
        out.record("matmul", inputs: [a, b]) { g in
            [a.node == nil ? nil : batched(g, b, false, true, a.shape),
             b.node == nil ? nil : batched(a, g, true, false, b.shape)]
        }
    }
    return out
}

/// The affine map of a linear layer, `y = x·Wᵀ + b`, as one op (PyTorch's `F.linear`).
///
/// Shapes: `x` `[..., in]`, `weight` `[out, in]`, `bias` `[out]` or nil; result `[..., out]`.
/// Pullback: `dx = dy·W`, `dW = dyᵀ·x`, `db = Σ_rows dy`.
public func linear<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> Tensor<T> {
    // Layers call this from generic code; run the Float body specialized (see `Specialization.swift`).
    if T.self == Float.self {
        return asScalar(linearBody(asFloat(x), weight: asFloat(weight), bias: bias.map(asFloat)))
    }
    return linearBody(x, weight: weight, bias: bias)
}

func linearBody<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> Tensor<T> {
    precondition(weight.rank == 2, "linear: weight must be [out, in], got shape \(weight.shape)")
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
                 "linear: input shape \(x.shape) does not fit weight shape \(weight.shape) (expected last dimension \(weight.shape[1]))")
    if let bias {
        precondition(bias.shape == [weight.shape[0]], "linear: bias shape \(bias.shape) does not fit weight shape \(weight.shape)")
    }
    if x.rank != 2 {
        let lead = Array(x.shape.dropLast())
        return linearBody(x.reshaped([-1, weight.shape[1]]), weight: weight, bias: bias).reshaped(lead + [weight.shape[0]])
    }
    let rows = x.shape[0], outFeatures = weight.shape[0]
    var out = Tensor<T>(uninitializedShape: [rows, outFeatures])
    if let bias {
        for r in 0..<rows { (out.storage.pointer + r * outFeatures).update(from: bias.storage.pointer, count: outFeatures) }
    }
    // The same kernels as a fused chain (`SmallLinear.swift`), so that both give the same bits.
    linearForwardProduct(rows: rows, inFeatures: weight.shape[1], outFeatures: outFeatures,
                         x.storage.pointer, weight.storage.pointer, beta: bias == nil ? 0 : 1, out.storage.pointer)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    if Tensor.needsRecording(inputs) {
        out.record("linear", inputs: inputs) { g in
            let parameters = linearParameterGradients(g, x, weight: weight.node != nil, bias: bias?.node != nil)
            var grads: [Tensor<T>?] = [x.node == nil ? nil : linearInputGradient(g, weight), parameters.weight]
            if bias != nil { grads.append(parameters.bias) }
            return grads
        }
    }
    return out
}
