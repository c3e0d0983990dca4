// A chain of linear layers with elementwise activations, as one recorded op.
//
// A small MLP step is dominated by per-op overhead, not arithmetic: each `linear` and each
// activation makes a graph node, a closure and its captured tensors, and backward visits them
// one by one. Recording the whole chain as one node does the same arithmetic, with the same
// kernels in the same order (so results are bit-identical to the unfused ops), at a fraction
// of the bookkeeping. `Sequential` uses it for runs of `Linear` and activation layers.
//
// When every layer is small (`SmallLinear`: Float, widths ≤ 16) the chain runs on the C
// kernels in a feature-major layout, in buffers that a `LinearChainWorkspace` keeps from one
// step to the next (`LinearChainArena.swift`); otherwise layer by layer on row-major tensors
// with `linear`'s products (`linearChainRowMajor`).

/// One stage of a fused chain: `y = φ(x·Wᵀ + b)`.
public struct LinearChainStage<Scalar: TensorScalar> {
    /// `[out, in]`.
    public var weight: Tensor<Scalar>
    /// `[out]`, or nil for no bias.
    public var bias: Tensor<Scalar>? {
        get { hasBias ? biasValue : nil }
        set {
            hasBias = newValue != nil
            biasValue = newValue ?? weight
        }
    }
    /// The elementwise activation φ applied after the affine map, or nil for none.
    public var activation: UnaryOp<Scalar>?
    /// The bias when `hasBias`, else a stand-in (the weight). Stored without an Optional so
    /// that the chain reads its fields in place: unwrapping an Optional copies the tensor,
    /// which costs three reference-count updates.
    var biasValue: Tensor<Scalar>
    var hasBias: Bool

    /// A stage computing `activation(x·weightᵀ + bias)`.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, activation: UnaryOp<Scalar>?) {
        self.weight = weight
        self.biasValue = bias ?? weight
        self.hasBias = bias != nil
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

/// Buffers that a fused chain keeps from one call to the next, so that a training loop does
/// not allocate them every step (`Sequential` keeps one per fused run).
///
/// The buffers of a forward pass belong to its graph until `backward()` has run (or the graph
/// is dropped); a call made while they are still in use gets new ones. Not for use by two
/// threads at once.
public final class LinearChainWorkspace: @unchecked Sendable {
    /// The buffers of the last forward pass, shared with its pullback while its graph lives.
    @exclusivity(unchecked) var arena: LinearChainArena?

    /// An empty workspace; the first call sizes it.
    public init() {}
}

/// `φₙ(… φ₁(x·W₁ᵀ + b₁) … ·Wₙᵀ + bₙ)` as one op: the same values and gradients as applying
/// `linear` and the activations one after another, recorded as a single graph node.
///
/// Shapes: `x` `[..., in₁]`, stage `i`'s weight `[outᵢ, inᵢ]` with `inᵢ₊₁ = outᵢ`; result
/// `[..., outₙ]`. Pullback, from the last stage back: `dz = dy ⊙ φ'(z)`, `dW = dzᵀ·input`,
/// `db = Σ_rows dz`, `d input = dz·W`.
/// - Parameters:
///   - x: the input.
///   - stages: the layers, first to last.
///   - observer: callbacks standing in for the layers' hooks.
///   - workspace: buffers reused across calls (see `LinearChainWorkspace`); nil allocates
///     them for this call.
@_specialize(exported: true, where T == Float)
@_specialize(exported: true, where T == Double)
public func linearChain<T: TensorScalar>(
    _ x: Tensor<T>, _ stages: [LinearChainStage<T>], observer: LinearChainObserver<T>? = nil,
    workspace: LinearChainWorkspace? = nil
) -> Tensor<T> {
    precondition(!stages.isEmpty, "linearChain: needs at least one stage")
    // Layers call this from generic code; run the Float body specialized (see `Specialization.swift`).
    if T.self == Float.self {
        return asScalar(linearChainBody(asFloat(x), unsafeBitCast(stages, to: [LinearChainStage<Float>].self),
                                        observer: unsafeBitCast(observer, to: LinearChainObserver<Float>?.self),
                                        workspace: workspace))
    }
    return linearChainBody(x, stages, observer: observer, workspace: workspace)
}

func linearChainBody<T: TensorScalar>(
    _ x: Tensor<T>, _ stages: [LinearChainStage<T>], observer: LinearChainObserver<T>?,
    workspace: LinearChainWorkspace?
) -> Tensor<T> {
    precondition(x.rank >= 1, "linearChain: input must have at least one axis, got shape \(x.shape)")
    if x.rank != 2 {
        let lead = Array(x.shape.dropLast())
        let out = linearChainBody(x.reshaped([-1, x.shape[x.rank - 1]]), stages, observer: observer, workspace: workspace)
        return out.reshaped(lead + [out.shape[1]])
    }
    var inFeatures = x.shape[1]
    var small = T.self == Float.self && x.shape[0] > 0
    for index in stages.indices {
        // By index and borrowed: a `for stage in stages` loop would copy every stage.
        checkChainStage(stages, index, rows: x.shape[0], inFeatures: &inFeatures, small: &small)
    }
    if small {
        return asScalar(linearChainFeatureMajor(
            asFloat(x), unsafeBitCast(stages, to: [LinearChainStage<Float>].self),
            observer: unsafeBitCast(observer, to: LinearChainObserver<Float>?.self), workspace: workspace))
    }
    return linearChainRowMajor(x, stages, observer: observer)
}

/// Checks that `stage` takes `inFeatures` inputs, notes whether it is small, and sets
/// `inFeatures` to its outputs. Reads sizes only: copying the stage would cost reference counts.
@inline(__always)
func checkChainStage<T: TensorScalar>(
    _ stages: [LinearChainStage<T>], _ index: Int, rows: Int, inFeatures: inout Int, small: inout Bool
) {
    let fits = stages[index].weight.rank == 2 && stages[index].weight.shape[1] == inFeatures
        && (!stages[index].hasBias
            || (stages[index].biasValue.rank == 1 && stages[index].biasValue.shape[0] == stages[index].weight.shape[0]))
    if !fits { chainStageMismatch(stages[index], rows: rows, inFeatures: inFeatures) }
    small = small && SmallLinear.applies(T.self, inFeatures: inFeatures, outFeatures: stages[index].weight.shape[0])
    inFeatures = stages[index].weight.shape[0]
}

/// Stops with the message for a stage whose shapes do not fit.
@inline(never)
func chainStageMismatch<T: TensorScalar>(_ stage: LinearChainStage<T>, rows: Int, inFeatures: Int) -> Never {
    let weight = stage.weight
    precondition(weight.rank == 2, "linear: weight must be [out, in], got shape \(weight.shape)")
    precondition(inFeatures == weight.shape[1],
                 "linear: input shape \([rows, inFeatures]) does not fit weight shape \(weight.shape) (expected last dimension \(weight.shape[1]))")
    preconditionFailure("linear: bias shape \(stage.bias!.shape) does not fit weight shape \(weight.shape)")
}

// MARK: - Row-major chain (any widths, Float or Double)

/// The chain layer by layer on row-major tensors, with the products of `linear`.
func linearChainRowMajor<T: TensorScalar>(
    _ x: Tensor<T>, _ stages: [LinearChainStage<T>], observer: LinearChainObserver<T>?
) -> Tensor<T> {
    let rows = x.shape[0]
    // Each stage's input, affine output and output, kept for the pullback.
    var inputs: [Tensor<T>] = [], affine: [Tensor<T>] = [], outputs: [Tensor<T>] = []
    inputs.reserveCapacity(stages.count); affine.reserveCapacity(stages.count); outputs.reserveCapacity(stages.count)
    var current = x.detached()
    for (index, stage) in stages.enumerated() {
        let weight = stage.weight
        let outFeatures = weight.shape[0]
        let z = Tensor<T>(uninitializedShape: [rows, outFeatures])
        if let bias = stage.bias {
            for r in 0..<rows { (z.storage.pointer + r * outFeatures).update(from: bias.storage.pointer, count: outFeatures) }
        }
        linearForwardProduct(rows: rows, inFeatures: weight.shape[1], outFeatures: outFeatures,
                             current.storage.pointer, weight.storage.pointer, beta: stage.bias == nil ? 0 : 1,
                             z.storage.pointer)
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
    let recordedInputs = chainRecordedInputs(x, stages)
    guard Tensor.needsRecording(recordedInputs) else { return out }
    let xNeedsGradient = x.node != nil
    let inputCount = recordedInputs.count
    out.record("linearChain", inputs: recordedInputs) { g in
        var grads = [Tensor<T>?](repeating: nil, count: inputCount)
        var slot = inputCount  // one past the current stage's last input
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
            let parameters = linearParameterGradients(dz, inputs[index], weight: stage.weight.node != nil,
                                                      bias: stage.bias?.node != nil)
            if stage.bias != nil {
                slot -= 1
                grads[slot] = parameters.bias
            }
            slot -= 1
            grads[slot] = parameters.weight
            if index > 0 || xNeedsGradient { dy = linearInputGradient(dz, stage.weight) }
        }
        if xNeedsGradient { grads[0] = dy }
        return grads
    }
    return out
}

/// The tensors a chain's node records as its inputs: `x`, then each stage's weight and bias.
func chainRecordedInputs<T: TensorScalar>(_ x: Tensor<T>, _ stages: [LinearChainStage<T>]) -> [Tensor<T>] {
    var recorded: [Tensor<T>] = [x]
    recorded.reserveCapacity(1 + 2 * stages.count)
    for stage in stages {
        recorded.append(stage.weight)
        if let bias = stage.bias { recorded.append(bias) }
    }
    return recorded
}
