/// An n-dimensional array of `Float` or `Double`, row-major, with value semantics.
///
/// Copies share their elements until one of them is written (copy-on-write). A tensor that
/// requires a gradient carries a node of the autodiff graph; see `Autodiff.swift`.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    /// The size of each axis; `[]` for a scalar (one element).
    public let shape: [Int]
    @usableFromInline var storage: TensorStorage<Scalar>
    /// The autodiff node: set when this tensor requires a gradient.
    @usableFromInline var node: GradNode<Scalar>?

    init(shape: [Int], storage: TensorStorage<Scalar>, node: GradNode<Scalar>? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor of the given shape with uninitialized elements (for kernels to fill).
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
        self.node = nil
    }

    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// Number of elements (1 for a scalar).
    @inlinable public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Scalar]) {
        let n = Tensor.elementCount(shape)
        precondition(scalars.count == n,
                     "shape \(shape) needs \(n) elements but \(scalars.count) were given")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: n) }
    }

    /// A tensor of `shape` with every element equal to `value`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(shape: [Int], repeating value: Scalar) {
        self.shape = shape
        self.storage = TensorStorage(count: Tensor.elementCount(shape), repeating: value)
        self.node = nil
    }

    /// A scalar tensor (shape `[]`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(_ value: Scalar) { self.init(shape: [], repeating: value) }

    /// A 1-D tensor.
    public init(_ scalars: [Scalar]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() {
            precondition(row.count == columns, "row \(i) has \(row.count) elements, row 0 has \(columns)")
        }
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// Ones of the given shape.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// `value` everywhere in the given shape.
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor { Tensor(shape: shape, repeating: value) }
    /// Zeros shaped like `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }
    /// Ones shaped like `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// `[start, start + step, ...]` up to but excluding `end` (as `torch.arange`).
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], scalars: (0..<n).map { start + Scalar($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (as `torch.linspace`).
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(Swift.max(count - 1, 1))
        return Tensor(shape: [count], scalars: (0..<count).map { start + Scalar($0) * step })
    }

    /// The `rows × columns` identity matrix (ones on the main diagonal).
    public static func eye(_ rows: Int, _ columns: Int? = nil) -> Tensor {
        let cols = columns ?? rows
        var t = zeros([rows, cols])
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<Swift.min(rows, cols) { p[i * cols + i] = 1 }
        }
        return t
    }

    /// The elements in row-major order.
    public var scalars: [Scalar] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The only element of a one-element tensor.
    public var scalar: Scalar {
        precondition(count == 1, "scalar: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// The element at a full multi-index.
    public subscript(element indices: Int...) -> Scalar {
        storage.pointer[flatIndex(indices)]
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "index \(indices) has \(indices.count) axes, tensor of shape \(shape) has \(rank)")
        var flat = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(indices) out of range for shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Calls `body` with the elements.
    // Inlinable, as the other accessors of a training step's hot path: called from another
    // module's specialized code, a generic function runs unspecialized, asking the runtime for
    // type metadata on every call.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Calls `body` with writable elements, copying them first if they are shared.
    /// Writing this way is not recorded by autodiff (as PyTorch's in-place ops under `no_grad`).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same elements in another element type (not recorded by autodiff).
    public func converted<Other: TensorScalar>(to type: Other.Type = Other.self) -> Tensor<Other> {
        var out = Tensor<Other>(uninitializedShape: shape)
        let p = storage.pointer
        out.withUnsafeMutableBufferPointer { o in for i in 0..<count { o[i] = Other(p[i]) } }
        return out
    }

    /// Whether every element is finite (no NaN or infinity).
    public var isFinite: Bool { Scalar.kernelAllFinite(storage.pointer, count) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        func format(_ axis: Int, _ offset: Int) -> String {
            if axis == rank { return "\(storage.pointer[offset])" }
            let stride = shape[(axis + 1)...].reduce(1, *)
            let n = shape[axis]
            let shown = n > 12 ? Array(0..<6) + [-1] + Array((n - 6)..<n) : Array(0..<n)
            let parts = shown.map { $0 < 0 ? "..." : format(axis + 1, offset + $0 * stride) }
            return "[" + parts.joined(separator: axis == rank - 1 ? ", " : ",\n ") + "]"
        }
        return "Tensor<\(Scalar.self)>(shape: \(shape), " + format(0, 0) + ")"
    }
}
