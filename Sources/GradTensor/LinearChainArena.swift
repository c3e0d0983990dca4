import GradKernels

// The fused chain of small Float layers (`SmallLinear`: widths ≤ 16) on the C kernels, in a
// feature-major layout: each activation is `[features, ld]` with `ld` the rows padded to a
// multiple of 8, so that the vectors run along the batch (long) rather than along the features
// (few). The buffers of a pass live in a `LinearChainArena`, which a `LinearChainWorkspace`
// keeps for the next pass once this pass's graph is gone. Same bits as `linearChainRowMajor`.

/// One stage as raw pointers and sizes, so that the loops over the stages touch no reference
/// counts; valid while the stage's tensors live (the chain's pullback keeps them).
struct ChainStageInfo {
    var weight: UnsafePointer<Float>
    var bias: UnsafePointer<Float>?
    var inFeatures: Int
    var outFeatures: Int
    var activation: UnaryOp<Float>?
    /// The weight's and the bias's graph nodes, nil where no gradient is needed; the chain's
    /// graph node holds them while its pullback runs.
    unowned(unsafe) var weightNode: GradNode<Float>?
    unowned(unsafe) var biasNode: GradNode<Float>?
    var weightNeedsGradient: Bool { weightNode != nil }
    var biasNeedsGradient: Bool { biasNode != nil }

    /// Stage `index` of `stages`, read in place.
    @inline(__always)
    init(_ stages: [LinearChainStage<Float>], _ index: Int) {
        weight = UnsafePointer(stages[index].weight.storage.pointer)
        bias = stages[index].hasBias ? UnsafePointer(stages[index].biasValue.storage.pointer) : nil
        inFeatures = stages[index].weight.shape[1]
        outFeatures = stages[index].weight.shape[0]
        activation = stages[index].activation
        weightNode = stages[index].weight.node
        biasNode = stages[index].hasBias ? stages[index].biasValue.node : nil
    }
}

/// The feature-major buffers of one forward pass: the input, each stage's affine output and
/// output, and three gradient buffers for the backward pass, all `[features, ld]`; and the
/// stages' descriptions.
final class LinearChainArena {
    let rows: Int
    /// The row stride: `rows` padded to a multiple of 8.
    let ld: Int
    let stageCount: Int
    /// `in₁, out₁, …, outₙ`.
    let widths: [Int]
    /// Whether each stage has an activation (its output then has a buffer of its own).
    let activated: [Bool]
    let memory: UnsafeMutableRawPointer
    /// The stages of the pass that owns the arena, filled by each forward pass.
    let stages: UnsafeMutablePointer<ChainStageInfo>
    private let affineOffsets: [Int], outputOffsets: [Int], splatOffsets: [Int]
    private let gradientOffset: Int, gradientSize: Int

    init(rows: Int, stages: [LinearChainStage<Float>], inFeatures: Int) {
        self.rows = rows
        ld = SmallLinear.paddedRows(rows)
        stageCount = stages.count
        var widths = [inFeatures], activated: [Bool] = []
        var affineOffsets: [Int] = [], outputOffsets: [Int] = [], splatOffsets: [Int] = []
        var offset = inFeatures * ld, widest = inFeatures
        for stage in stages {
            let out = stage.weight.shape[0]
            splatOffsets.append(offset)
            offset += stage.weight.count * Int(GL_LANES)
            widths.append(out)
            activated.append(stage.activation != nil)
            widest = Swift.max(widest, out)
            affineOffsets.append(offset)
            offset += out * ld
            if stage.activation != nil {
                outputOffsets.append(offset)
                offset += out * ld
            } else {
                outputOffsets.append(affineOffsets.last!)
            }
        }
        gradientOffset = offset
        gradientSize = widest * ld
        offset += 3 * gradientSize
        self.widths = widths
        self.activated = activated
        self.affineOffsets = affineOffsets
        self.outputOffsets = outputOffsets
        self.splatOffsets = splatOffsets
        memory = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(offset, 1) * MemoryLayout<Float>.stride, alignment: 64)
        self.stages = .allocate(capacity: stages.count)
        hookTensors = .allocate(capacity: 4 * stages.count)
        hookTensors.initialize(repeating: nil, count: 4 * stages.count)
    }

    deinit {
        memory.deallocate()
        stages.deallocate()
        hookTensors.deinitialize(count: 4 * stageCount)
        hookTensors.deallocate()
    }

    /// Whether this arena has the buffers of a pass of `rows` rows through `stages`.
    func fits(rows: Int, stages: [LinearChainStage<Float>], inFeatures: Int) -> Bool {
        guard rows == self.rows, stages.count == stageCount, widths[0] == inFeatures else { return false }
        for index in 0..<stageCount {
            if stages[index].weight.shape[0] != widths[index + 1] || (stages[index].activation != nil) != activated[index] {
                return false
            }
        }
        return true
    }

    @inline(__always) var base: UnsafeMutablePointer<Float> { memory.assumingMemoryBound(to: Float.self) }
    /// The chain's input, `[in₁, ld]`.
    @inline(__always) var input: UnsafeMutablePointer<Float> { base }
    /// Stage `stage`'s `z`, `[outᵢ, ld]`.
    @inline(__always) func affine(_ stage: Int) -> UnsafeMutablePointer<Float> { base + affineOffsets[stage] }
    /// Stage `stage`'s `φ(z)` (its `z` without activation).
    @inline(__always) func output(_ stage: Int) -> UnsafeMutablePointer<Float> { base + outputOffsets[stage] }
    /// Stage `stage`'s weights as `gl_splat` writes them (each repeated 8 times).
    @inline(__always) func splat(_ stage: Int) -> UnsafeMutablePointer<Float> { base + splatOffsets[stage] }
    /// Stage `stage`'s input: the chain's input or the previous stage's output.
    @inline(__always) func stageInput(_ stage: Int) -> UnsafeMutablePointer<Float> { stage == 0 ? input : output(stage - 1) }
    /// Gradient buffer `index` (0, 1 or 2), `[widest, ld]`.
    @inline(__always) func gradient(_ index: Int) -> UnsafeMutablePointer<Float> { base + gradientOffset + index * gradientSize }

    /// Clears the padding lanes (rows `rows..<ld`) of a `[features, ld]` buffer.
    @inline(__always)
    func clearPadding(_ buffer: UnsafeMutablePointer<Float>, features: Int) {
        if ld == rows { return }
        for f in 0..<features { (buffer + f * ld + rows).update(repeating: 0, count: ld - rows) }
    }

    /// A `[features, ld]` buffer as a row-major `[rows, features]` tensor (a copy).
    func rowMajor(_ buffer: UnsafePointer<Float>, features: Int) -> Tensor<Float> {
        let out = Tensor<Float>(uninitializedShape: [rows, features])
        gl_transpose(buffer, features, rows, ld, out.storage.pointer, features)
        return out
    }

    /// The tensors last handed to hooks, by slot (`4·stage + kind`), kept so that the next
    /// pass can fill them again once the hooks have let go of them. (Raw memory rather than an
    /// array property: a class's array is checked for exclusive access at every use.)
    private let hookTensors: UnsafeMutablePointer<Tensor<Float>?>

    /// `rowMajor(buffer, features:)` for a hook, in the storage of the tensor that the same
    /// slot held on the last pass when nothing else holds it any more (hooks that keep their
    /// tensors get new ones): the monitor's hooks see four tensors per layer and step.
    func hookTensor(_ buffer: UnsafePointer<Float>, features: Int, slot: Int) -> Tensor<Float> {
        precondition(slot >= 0 && slot < 4 * stageCount, "LinearChainArena.hookTensor: slot \(slot) of \(4 * stageCount)")
        if var kept = hookTensors[slot].take(), kept.shape[1] == features, isKnownUniquelyReferenced(&kept.storage) {
            gl_transpose(buffer, features, rows, ld, kept.storage.pointer, features)
            hookTensors[slot] = kept
            return kept
        }
        let out = rowMajor(buffer, features: features)
        hookTensors[slot] = out
        return out
    }
}

/// The chain on the feature-major C kernels; the same bits as `linearChainRowMajor`.
func linearChainFeatureMajor(
    _ x: Tensor<Float>, _ stages: [LinearChainStage<Float>], observer: LinearChainObserver<Float>?,
    workspace: LinearChainWorkspace?
) -> Tensor<Float> {
    let rows = x.shape[0], inFeatures = x.shape[1]
    let arena: LinearChainArena
    if let workspace, isKnownUniquelyReferenced(&workspace.arena),
       let kept = workspace.arena, kept.fits(rows: rows, stages: stages, inFeatures: inFeatures) {
        arena = kept
    } else {
        arena = LinearChainArena(rows: rows, stages: stages, inFeatures: inFeatures)
        workspace?.arena = arena
    }
    // The graph node's inputs: x, then each stage's weight and bias.
    var inputNodes: [GradNode<Float>?] = []
    inputNodes.reserveCapacity(1 + 2 * stages.count)
    inputNodes.append(x.node)
    var anyNode = x.node != nil
    for index in 0..<stages.count {
        let info = ChainStageInfo(stages, index)
        arena.stages[index] = info
        inputNodes.append(info.weightNode)
        if info.bias != nil { inputNodes.append(info.biasNode) }
        anyNode = anyNode || info.weightNode != nil || info.biasNode != nil
    }
    let ld = arena.ld, info = arena.stages
    gl_transpose(x.storage.pointer, rows, inFeatures, inFeatures, arena.input, ld)
    arena.clearPadding(arena.input, features: inFeatures)
    let forwardHook = observer?.forward
    var hookInput = forwardHook == nil ? nil : x.detached()
    var current = UnsafePointer(arena.input)
    for index in 0..<arena.stageCount {
        let stage = info[index]
        let z = arena.affine(index), splat = arena.splat(index)
        gl_splat(stage.weight, stage.inFeatures * stage.outFeatures, splat)
        let y = stage.activation == nil ? z : arena.output(index)
        // ReLU is applied as the kernel stores z (and z itself is stored only for the hooks: the
        // pullback takes ReLU's derivative from y, as y > 0 exactly where z > 0); other
        // activations take a pass of their own.
        let fusedReLU = stage.activation == .relu
        gl_affine_fm(splat, stage.inFeatures, 1, stage.bias, current, fusedReLU && forwardHook == nil ? nil : z, fusedReLU ? y : nil,
                     stage.outFeatures, stage.inFeatures, ld)
        if let op = stage.activation, !fusedReLU { Float.kernelUnary(op, z, y, stage.outFeatures * ld) }
        if let forwardHook, let input = hookInput {
            let zTensor = arena.hookTensor(z, features: stage.outFeatures, slot: 4 * index)
            let yTensor = stage.activation == nil ? zTensor : arena.hookTensor(y, features: stage.outFeatures, slot: 4 * index + 1)
            forwardHook(index, input, zTensor, yTensor)
            hookInput = yTensor
        }
        current = UnsafePointer(y)
    }
    var out: Tensor<Float>
    if let last = hookInput, forwardHook != nil {
        out = last
    } else {
        out = arena.rowMajor(current, features: arena.widths[arena.stageCount])
    }
    guard anyNode && isGradientRecordingEnabled else { return out }
    let xNeedsGradient = x.node != nil
    let inputCount = inputNodes.count
    let gradientHook = observer?.outputGradients
    out.record("linearChain", inputNodes: inputNodes) { g in
        linearChainFeatureMajorPullback(g, stages, arena: arena, inputCount: inputCount,
                                        xNeedsGradient: xNeedsGradient, gradientHook: gradientHook)
    }
    return out
}

/// The pullback of `linearChainFeatureMajor`: from the output gradient `g` (`[rows, outₙ]`)
/// back through the stages, on the arena's buffers.
func linearChainFeatureMajorPullback(
    _ g: Tensor<Float>, _ stages: [LinearChainStage<Float>], arena: LinearChainArena, inputCount: Int,
    xNeedsGradient: Bool, gradientHook: ((Int, Tensor<Float>, Tensor<Float>) -> Void)?
) -> [Tensor<Float>?] {
    let rows = arena.rows, ld = arena.ld, info = arena.stages
    var grads = [Tensor<Float>?](repeating: nil, count: inputCount)
    var slot = inputCount  // one past the current stage's last input
    // dy, dz and the next dy rotate through the three gradient buffers.
    var dyIndex = 0
    var dy = arena.gradient(0)
    let lastWidth = arena.widths[arena.stageCount]
    gl_transpose(g.storage.pointer, rows, lastWidth, lastWidth, dy, ld)
    arena.clearPadding(dy, features: lastWidth)
    var hookGradient: Tensor<Float>? = gradientHook == nil ? nil : g
    for index in (0..<arena.stageCount).reversed() {
        let stage = info[index]
        var dz = dy
        var dzIndex = dyIndex
        if let op = stage.activation {
            dzIndex = (dyIndex + 1) % 3
            dz = arena.gradient(dzIndex)
            // ReLU's derivative from y (see the forward pass): z may not have been stored.
            Float.kernelUnaryGradient(op, x: op == .relu ? arena.output(index) : arena.affine(index),
                                      y: arena.output(index), dy: dy, dx: dz,
                                      stage.outFeatures * ld)
        }
        if let gradientHook {
            let dyTensor = hookGradient ?? arena.hookTensor(dy, features: stage.outFeatures, slot: 4 * index + 2)
            let dzTensor = stage.activation == nil ? dyTensor : arena.hookTensor(dz, features: stage.outFeatures, slot: 4 * index + 3)
            gradientHook(index, dyTensor, dzTensor)
            hookGradient = nil
        }
        if stage.weightNeedsGradient || stage.biasNeedsGradient {
            // The leaves' buffers from the last step when `zeroGrad()` freed them, and the
            // parameters' own shape arrays: no allocation in a training loop.
            let dw = stage.weightNode?.gradientBuffer(shape: stages[index].weight.shape)
                ?? Tensor<Float>(uninitializedShape: stages[index].weight.shape)
            let db = stage.biasNode?.gradientBuffer(shape: stages[index].biasValue.shape)
            gl_weight_gradient_fm(dz, arena.stageInput(index), dw.storage.pointer, db?.storage.pointer,
                                  stage.outFeatures, stage.inFeatures, ld, rows)
            if stage.bias != nil {
                slot -= 1
                grads[slot] = db
            }
            slot -= 1
            if stage.weightNeedsGradient { grads[slot] = dw }
        } else {
            slot -= stage.bias == nil ? 1 : 2
        }
        if index > 0 || xNeedsGradient {
            // Into the buffer that holds neither dz nor (when it differs) dy.
            let dxIndex = dzIndex == dyIndex ? (dyIndex + 1) % 3 : 3 - dzIndex - dyIndex
            let dx = arena.gradient(dxIndex)
            // The weights as the forward pass splatted them.
            gl_affine_fm(arena.splat(index), 1, stage.inFeatures, nil, dz, dx, nil, stage.inFeatures, stage.outFeatures, ld)
            dy = dx
            dyIndex = dxIndex
        }
    }
    if xNeedsGradient { grads[0] = arena.rowMajor(dy, features: arena.widths[0]) }
    return grads
}
