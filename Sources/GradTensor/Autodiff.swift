#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node of the define-by-run autodiff graph.
///
/// Each op that has an input requiring a gradient makes a node holding its inputs' nodes and
/// its pullback: a closure from the gradient of its output to the gradients of its inputs.
/// `backward()` visits the nodes in reverse topological order. Leaves (tensors that had
/// `requiresGrad` set) accumulate their gradient in `grad` until it is zeroed, as in PyTorch.
public final class GradNode<Scalar: TensorScalar> {
    /// The op that made this node (`"matmul"`, `"sigmoid"`, ...), or `"leaf"`.
    public let op: String
    /// Shape of the tensor this node stands for.
    public let shape: [Int]
    // The hot stored properties skip the run-time exclusivity checks (each access would cost a
    // call into the runtime); no access to them overlaps another.
    @exclusivity(unchecked) var inputs: [GradNode?]
    @exclusivity(unchecked) var pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
    /// Accumulated gradient of a leaf, or the retained gradient of an inner node.
    @exclusivity(unchecked) @usableFromInline var grad: Tensor<Scalar>?
    /// Gradient summed from consumers during one backward pass.
    @exclusivity(unchecked) var pending: Tensor<Scalar>?
    @exclusivity(unchecked) var hooks: [(id: Int, body: (Tensor<Scalar>) -> Tensor<Scalar>?)] = []
    @exclusivity(unchecked) var retainsGrad = false
    var nextHookID = 0
    let isLeaf: Bool
    /// Set while `topologicalOrder` runs, for the nodes it has reached.
    @exclusivity(unchecked) var isVisited = false
    /// The buffer of the gradient that `zeroGrad()` last cleared, for the next backward pass
    /// to fill again instead of allocating one (see `gradientBuffer(shape:)`).
    @exclusivity(unchecked) @usableFromInline var spareGradient: TensorStorage<Scalar>?

    init(op: String, shape: [Int], inputs: [GradNode?], pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?) {
        self.op = op
        self.shape = shape
        self.inputs = inputs
        self.pullback = pullback
        self.isLeaf = pullback == nil
    }
}

extension GradNode {
    /// `grad = nil`, keeping its buffer as the spare for the next gradient of this node.
    @usableFromInline
    func clearGradient() {
        if let storage = grad?.storage { spareGradient = storage }
        grad = nil
    }

    /// A tensor of `shape` (uninitialized) to hold this node's next gradient: the buffer that
    /// `zeroGrad()` cleared when nothing else holds it any more, else a new one.
    func gradientBuffer(shape: [Int]) -> Tensor<Scalar> {
        if spareGradient != nil && isKnownUniquelyReferenced(&spareGradient),
           let storage = spareGradient.take(), storage.count == Tensor<Scalar>.elementCount(shape) {
            return Tensor(shape: shape, storage: storage)
        }
        spareGradient = nil
        return Tensor(uninitializedShape: shape)
    }
}

/// Removes a hook when `remove()` is called.
public struct HookHandle: @unchecked Sendable {
    let removeAction: () -> Void
    /// A handle whose `remove()` runs `remove`.
    public init(remove: @escaping () -> Void) { removeAction = remove }
    /// Unregisters the hook.
    public func remove() { removeAction() }
}

// MARK: - Grad mode

private let gradDisabledKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Whether ops on this thread record the autodiff graph (false inside `withoutGradient`).
public var isGradientRecordingEnabled: Bool { pthread_getspecific(gradDisabledKey) == nil }

/// Runs `body` without recording the autodiff graph (PyTorch's `torch.no_grad()`), on this thread.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    let previous = pthread_getspecific(gradDisabledKey)
    pthread_setspecific(gradDisabledKey, UnsafeRawPointer(bitPattern: 1))
    defer { pthread_setspecific(gradDisabledKey, previous) }
    return try body()
}

// MARK: - Tensor autodiff API

extension Tensor {
    /// Whether operations on this tensor are recorded so that gradients flow back to it.
    /// Setting it on a tensor makes it a leaf whose gradient accumulates in `grad`.
    public var requiresGrad: Bool {
        @inlinable get { node != nil }
        set {
            if newValue {
                if node == nil { node = GradNode(op: "leaf", shape: shape, inputs: [], pullback: nil) }
            } else {
                node = nil
            }
        }
    }

    /// Whether this tensor was created by the user rather than by a recorded op.
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The op that produced this tensor in the graph, or nil if it is not recorded.
    public var gradientOp: String? { node?.op }

    /// The accumulated gradient of a leaf (or of an inner tensor after `retainGrad()`).
    public var grad: Tensor? {
        @inlinable get { node?.grad }
        nonmutating set {
            precondition(node != nil, "grad: tensor of shape \(shape) does not require grad")
            if let g = newValue {
                precondition(g.shape == shape, "grad: gradient shape \(g.shape) does not match tensor shape \(shape)")
            }
            node?.grad = newValue
        }
    }

    /// Clears the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`): `grad` is
    /// nil afterwards; its buffer is kept for the next backward pass to fill if nothing else
    /// holds it by then.
    @inlinable public func zeroGrad() { node?.clearGradient() }

    /// Keeps this inner tensor's gradient in `grad` after `backward()`.
    public func retainGrad() { node?.retainsGrad = true }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, node: nil) }

    /// Registers `hook`, called with this tensor's gradient during `backward()` once it is
    /// complete; a non-nil return value replaces the gradient (as `Tensor.register_hook`).
    @discardableResult
    public func registerHook(_ hook: @escaping (Tensor) -> Tensor?) -> HookHandle {
        guard let node else {
            preconditionFailure("registerHook: tensor of shape \(shape) does not require grad")
        }
        node.nextHookID += 1
        let id = node.nextHookID
        node.hooks.append((id, hook))
        return HookHandle(remove: { [weak node] in node?.hooks.removeAll { $0.id == id } })
    }

    /// Whether an op on `inputs` must be recorded.
    @inline(__always)
    static func recording(_ inputs: Tensor...) -> Bool {
        for t in inputs where t.node != nil { return isGradientRecordingEnabled }
        return false
    }

    /// Attaches a graph node to this op result, with `pullback` mapping the output gradient to
    /// one gradient (or nil) per input. Call only when `recording(inputs)` is true.
    // Pre-specialized (as the other entry points that layers and losses in other modules call
    // on every step): unspecialized, each call asks the runtime for type metadata.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public mutating func record(
        _ op: String, inputs: [Tensor], pullback: @escaping (Tensor) -> [Tensor?]
    ) {
        node = GradNode(op: op, shape: shape, inputs: inputs.map { $0.node }, pullback: pullback)
    }

    /// `record` with the inputs' nodes given directly (for ops with many inputs).
    mutating func record(
        _ op: String, inputNodes: [GradNode<Scalar>?], pullback: @escaping (Tensor) -> [Tensor?]
    ) {
        node = GradNode(op: op, shape: shape, inputs: inputNodes, pullback: pullback)
    }

    /// Whether an op on `inputs` must be recorded (for ops defined outside this module).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func needsRecording(_ inputs: [Tensor]) -> Bool {
        inputs.contains { $0.node != nil } && isGradientRecordingEnabled
    }

    /// Computes the gradient of this tensor with respect to every leaf that requires one and
    /// adds it to the leaf's `grad`. Without `gradient` the tensor must have one element
    /// (a loss). The graph is freed afterwards unless `retainGraph` is set.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        guard let root = node else {
            preconditionFailure("backward: tensor of shape \(shape) does not require grad and has no graph")
        }
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape,
                         "backward: gradient shape \(gradient.shape) does not match tensor shape \(shape)")
            seed = gradient.detached()
        } else {
            precondition(count == 1, "backward: tensor of shape \(shape) is not a scalar; pass a gradient")
            seed = Tensor.ones(shape)
        }
        let order = GradNode.topologicalOrder(from: root)
        withoutGradient {
            root.pending = seed
            for node in order.reversed() {
                // Gradients are moved (`take()`) rather than copied: each copy of a tensor
                // costs three reference-count updates.
                guard var g = node.pending.take() else { continue }
                if !node.hooks.isEmpty {
                    for hook in node.hooks {
                        if let replaced = hook.body(g) { g = replaced }
                    }
                }
                if node.isLeaf {
                    if let existing = node.grad { node.grad = existing.adding(g) } else { node.grad = g }
                    continue
                }
                if node.retainsGrad {
                    // Accumulates over backward passes, as a leaf's does (PyTorch's retain_grad).
                    if let existing = node.grad { node.grad = existing.adding(g) } else { node.grad = g }
                }
                guard let pullback = node.pullback else {
                    preconditionFailure("backward: trying to go through the graph of '\(node.op)' a second time; pass retainGraph: true the first time")
                }
                var inputGrads = pullback(g)
                // Index loop rather than zip: in unspecialized generic code zip's iterator costs
                // a runtime metadata lookup per element.
                for i in 0..<Swift.min(node.inputs.count, inputGrads.count) {
                    guard let input = node.inputs[i], let inputGrad = inputGrads[i].take() else { continue }
                    if inputGrad.shape != input.shape {
                        preconditionFailure("backward: pullback of '\(node.op)' gave gradient shape \(inputGrad.shape) for an input of shape \(input.shape)")
                    }
                    if let p = input.pending.take() { input.pending = p.adding(inputGrad) } else { input.pending = inputGrad }
                }
                if !retainGraph {
                    node.pullback = nil
                    node.inputs = []
                }
            }
        }
    }

    /// Elementwise sum of two tensors of the same shape, without recording; reuses a
    /// uniquely held buffer.
    consuming func adding(_ other: Tensor) -> Tensor {
        var out = self
        out.node = nil
        out.withUnsafeMutableBufferPointer { o in
            other.withUnsafeBufferPointer { p in Scalar.kernelAxpy(1, p.baseAddress!, o.baseAddress!, o.count) }
        }
        return out
    }
}

extension GradNode {
    /// Nodes reachable from `root`, each after all of its inputs (iterative, so long graphs
    /// such as unrolled RNNs do not overflow the stack).
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        // Visited nodes are marked on the nodes themselves (cleared again below) rather than
        // kept in a set: hashing was a tenth of a small network's backward pass.
        var order: [GradNode] = []
        order.reserveCapacity(32)
        var stack: [(GradNode, Int)] = []
        stack.reserveCapacity(32)
        stack.append((root, 0))
        root.isVisited = true
        while let (node, start) = stack.popLast() {
            var next = start
            var pushedChild = false
            while next < node.inputs.count {
                let child = node.inputs[next]
                next += 1
                if let child, !child.isVisited {
                    child.isVisited = true
                    stack.append((node, next))
                    stack.append((child, 0))
                    pushedChild = true
                    break
                }
            }
            if !pushedChild { order.append(node) }
        }
        for node in order { node.isVisited = false }
        return order
    }
}
