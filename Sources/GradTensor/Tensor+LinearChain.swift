// A chain of linear layers with elementwise activations, as one recorded op.
//
// A small MLP step is dominated by per-op overhead, not arithmetic: each `linear` and each
// activation makes a graph node, a closure and its captured tensors, and backward visits them
// one by one. Recording the whole chain as one node does the same arithmetic, with the same
// kernels in the same order (so results are bit-identical to the unfused ops), at a fraction
// of the bookkeeping. `Sequential` uses it for runs of `Linear` and activation layers.

/// One stage of a fused chain: `y = φ(x·Wᵀ + b)`.
public struct LinearChainStage<Scalar: TensorScalar> {
    /// `[out, in]`.
    public var weight: Tensor<Scalar>
    /// `[out]`, or nil for no bias.
    public var bias: Tensor<Scalar>?
    /// The elementwise activation φ applied after the affine map, or nil for none.
    public var activation: UnaryOp<Scalar>?

    /// A stage computing `activation(x·weightᵀ + bias)`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, activation: UnaryOp<Scalar>?) {
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }
}

/// Callbacks that let a fused chain report what the unfused layers would show to their hooks.
public struct LinearChainObserver<Scalar: TensorScalar> {
    /// After stage `stage`'s forward pass: its input, its affine output `z` and its output
    /// `φ(z)` (the same tensor as `z` without activation). The tensors are not recorded.
    public var forward: ((_ stage: Int, _ input: Tensor<Scalar>, _ affineOutput: Tensor<Scalar>, _ output: Tensor<Scalar>) -> Void)?
    /// During `backward()`, once stage `stage`'s gradients are known: with respect to its
    /// output `φ(z)`, then with respect to its affine output `z` (the same tensor without
    /// activation). Called for the last stage first, as the unfused graph would.
    public var outputGradients: ((_ stage: Int, _ outputGradient: Tensor<Scalar>, _ affineOutputGradient: Tensor<Scalar>) -> Void)?

    /// An observer with the given callbacks.
    public init(
        forward: ((Int, Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) -> Void)? = nil,
        outputGradients: ((Int, Tensor<Scalar>, Tensor<Scalar>) -> Void)? = nil
    ) {
        self.forward = forward
        self.outputGradients = outputGradients
    }
}

/// `φₙ(… φ₁(x·W₁ᵀ + b₁) … ·Wₙᵀ + bₙ)` as one op: the same values and gradients as applying
/// `linear` and the activations one after another, recorded as a single graph node.
///
/// Shapes: `x` `[..., in₁]`, stage `i`'s weight `[outᵢ, inᵢ]` with `inᵢ₊₁ = outᵢ`; result
/// `[..., outₙ]`. Pullback, from the last stage back: `dz = dy ⊙ φ'(z)`, `dW = dzᵀ·input`,
/// `db = Σ_rows dz`, `d input = dz·W`.
public func linearChain<T: TensorScalar>(
    _ x: Tensor<T>, _ stages: [LinearChainStage<T>], observer: LinearChainObserver<T>? = nil
) -> Tensor<T> {
    precondition(!stages.isEmpty, "linearChain: needs at least one stage")
    // Layers call this from generic code; run the Float body specialized (see `Specialization.swift`).
    if T.self == Float.self {
        return asScalar(linearChainBody(asFloat(x), unsafeBitCast(stages, to: [LinearChainStage<Float>].self),
                                        observer: unsafeBitCast(observer, to: LinearChainObserver<Float>?.self)))
    }
    return linearChainBody(x, stages, observer: observer)
}

func linearChainBody<T: TensorScalar>(
    _ x: Tensor<T>, _ stages: [LinearChainStage<T>], observer: LinearChainObserver<T>?
) -> Tensor<T> {
    precondition(x.rank >= 1, "linearChain: input must have at least one axis, got shape \(x.shape)")
    if x.rank != 2 {
        let lead = Array(x.shape.dropLast())
        let out = linearChainBody(x.reshaped([-1, x.shape[x.rank - 1]]), stages, observer: observer)
        return out.reshaped(lead + [out.shape[1]])
    }
    let rows = x.shape[0]
    // Each stage's input, affine output and output, kept for the pullback.
    var inputs: [Tensor<T>] = [], affine: [Tensor<T>] = [], outputs: [Tensor<T>] = []
    inputs.reserveCapacity(stages.count); affine.reserveCapacity(stages.count); outputs.reserveCapacity(stages.count)
    var current = x.detached()
    for (index, stage) in stages.enumerated() {
        let weight = stage.weight
        precondition(weight.rank == 2, "linear: weight must be [out, in], got shape \(weight.shape)")
        precondition(current.shape[1] == weight.shape[1],
                     "linear: input shape \(current.shape) does not fit weight shape \(weight.shape) (expected last dimension \(weight.shape[1]))")
        let outFeatures = weight.shape[0]
        let z = Tensor<T>(uninitializedShape: [rows, outFeatures])
        if let bias = stage.bias {
            precondition(bias.shape == [outFeatures], "linear: bias shape \(bias.shape) does not fit weight shape \(weight.shape)")
            for r in 0..<rows { (z.storage.pointer + r * outFeatures).update(from: bias.storage.pointer, count: outFeatures) }
        }
        T.kernelGemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: weight.shape[1], alpha: 1,
                     current.storage.pointer, lda: weight.shape[1], weight.storage.pointer, ldb: weight.shape[1],
                     beta: stage.bias == nil ? 0 : 1, z.storage.pointer, ldc: outFeatures)
        var y = z
        if let op = stage.activation {
            y = Tensor<T>(uninitializedShape: z.shape)
            T.kernelUnary(op, z.storage.pointer, y.storage.pointer, z.count)
        }
        observer?.forward?(index, current, z, y)
        inputs.append(current)
        affine.append(z)
        outputs.append(y)
        current = y
    }
    var out = current
    var recordedInputs: [Tensor<T>] = [x]
    for stage in stages {
        recordedInputs.append(stage.weight)
        if let bias = stage.bias { recordedInputs.append(bias) }
    }
    guard Tensor.needsRecording(recordedInputs) else { return out }
    let xNeedsGradient = x.node != nil
    out.record("linearChain", inputs: recordedInputs) { g in
        var grads = [Tensor<T>?](repeating: nil, count: recordedInputs.count)
        var slot = recordedInputs.count  // one past the current stage's last input
        var dy = g
        for index in stages.indices.reversed() {
            let stage = stages[index]
            var dz = dy
            if let op = stage.activation {
                dz = Tensor<T>(uninitializedShape: dy.shape)
                let z = affine[index], y = outputs[index]
                T.kernelUnaryGradient(op, x: z.storage.pointer, y: y.storage.pointer,
                                      dy: dy.storage.pointer, dx: dz.storage.pointer, dz.count)
            }
            observer?.outputGradients?(index, dy, dz)
            if let bias = stage.bias {
                slot -= 1
                if bias.node != nil { grads[slot] = dz.sum(axis: 0) }
            }
            slot -= 1
            if stage.weight.node != nil { grads[slot] = gemm(dz, inputs[index], transposeA: true) }
            if index > 0 || xNeedsGradient { dy = gemm(dz, stage.weight) }
        }
        if xNeedsGradient { grads[0] = dy }
        return grads
    }
    return out
}
