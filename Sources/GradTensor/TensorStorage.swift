import GradKernels

/// glibc's malloc set up for training loops (`gl_configure_heap`), once, before the first tensor:
/// without it, 11% of a step of `gradlab-bench bn-mlp` went to faulting in the pages that the
/// previous step's freed tensors had handed back to the kernel.
private let heapConfigured = gl_configure_heap() == 1

/// The element buffer of a tensor: one heap allocation, shared between copies of a tensor
/// until one of them writes (copy-on-write).
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// Number of elements.
    public let count: Int
    /// The elements, row-major.
    public let pointer: UnsafeMutablePointer<Scalar>

    /// Allocates `count` uninitialized elements.
    init(uninitializedCount count: Int) {
        _ = heapConfigured
        self.count = count
        self.pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
    }

    /// Allocates `count` elements set to `value`.
    convenience init(count: Int, repeating value: Scalar) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    /// A new buffer with the same elements.
    @usableFromInline
    func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { pointer.deallocate() }
}
