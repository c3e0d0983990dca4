extension Tensor {
    /// The same elements with another shape of equal count; one dimension may be −1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshaped: cannot reshape \(shape) to \(newShape)")
            target[inferred] = count / known
        }
        precondition(Tensor.elementCount(target) == count,
                     "reshaped: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        var out = Tensor(shape: target, storage: storage)
        if Tensor.recording(self) {
            let s = shape
            out.record("reshape", inputs: [self]) { g in [g.reshaped(s)] }
        }
        return out
    }

    /// All axes but the first flattened into one: `[n, ...] → [n, rest]`.
    public func flattened(startAxis: Int = 1) -> Tensor {
        let a = startAxis < 0 ? startAxis + rank : startAxis
        precondition(a >= 0 && a <= rank, "flattened: start axis \(startAxis) out of range for shape \(shape)")
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// Inserts an axis of size 1 at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueezed: axis \(axis) out of range for shape \(shape)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes axes of size 1 (only `axis` if given).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = normalizedAxis(axis)
            guard shape[a] == 1 else { return self }
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// The axes reordered: axis `i` of the result is axis `axes[i]` of this tensor (copies).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank),
                     "permuted: \(axes) is not a permutation of the axes of shape \(shape)")
        let newShape = axes.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let srcStrides = axes.map { strides[$0] }
        var out = Tensor(uninitializedShape: newShape)
        var index = [Int](repeating: 0, count: rank)
        var src = 0
        for o in 0..<count {
            out.storage.pointer[o] = storage.pointer[src]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                src += srcStrides[axis]
                if index[axis] < newShape[axis] { break }
                src -= srcStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        if Tensor.recording(self) {
            var inverse = [Int](repeating: 0, count: rank)
            for (i, a) in axes.enumerated() { inverse[a] = i }
            out.record("permute", inputs: [self]) { g in [g.permuted(inverse)] }
        }
        return out
    }

    /// The last two axes swapped (a matrix transpose; copies).
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: needs at least 2 axes, shape is \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// Elements `range` along `axis` (as `narrow`; copies).
    public func slice(axis: Int = 0, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(a) of shape \(shape)")
        return gathering(Array(range), axis: a)
    }

    /// The sub-tensor at `index` along the first axis, with that axis removed.
    public subscript(index: Int) -> Tensor {
        precondition(rank >= 1, "subscript: a scalar tensor cannot be indexed")
        let i = index < 0 ? index + shape[0] : index
        precondition(i >= 0 && i < shape[0], "subscript: index \(index) out of range for shape \(shape)")
        return gathering([i], axis: 0).squeezed(axis: 0)
    }

    /// The entries `indices` along `axis`, in that order, repeats allowed (as `index_select`).
    public func gathering(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = normalizedAxis(axis)
        let outer = shape[..<a].reduce(1, *), length = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        for i in indices {
            precondition(i >= 0 && i < length, "gathering: index \(i) out of range for axis \(a) of shape \(shape)")
        }
        var newShape = shape
        newShape[a] = indices.count
        var out = Tensor(uninitializedShape: newShape)
        for o in 0..<outer {
            for (j, i) in indices.enumerated() {
                (out.storage.pointer + (o * indices.count + j) * inner)
                    .update(from: storage.pointer + (o * length + i) * inner, count: inner)
            }
        }
        if Tensor.recording(self) {
            let s = shape
            out.record("gather", inputs: [self]) { g in
                let dx = Tensor.zeros(s)
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        Scalar.kernelAxpy(1, g.storage.pointer + (o * indices.count + j) * inner,
                                          dx.storage.pointer + (o * length + i) * inner, inner)
                    }
                }
                return [dx]
            }
        }
        return out
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = first.normalizedAxis(axis)
        for t in tensors {
            precondition(t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == a || $0.element == first.shape[$0.offset] },
                         "concatenate: shape \(t.shape) does not fit \(first.shape) along axis \(a)")
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let lengths = tensors.map { $0.shape[a] }
        let total = lengths.reduce(0, +)
        var newShape = first.shape
        newShape[a] = total
        var out = Tensor(uninitializedShape: newShape)
        for o in 0..<outer {
            var offset = 0
            for (t, l) in zip(tensors, lengths) {
                (out.storage.pointer + (o * total + offset) * inner)
                    .update(from: t.storage.pointer + o * l * inner, count: l * inner)
                offset += l
            }
        }
        if Tensor.needsRecording(tensors) {
            out.record("concatenate", inputs: tensors) { g in
                var start = 0
                return lengths.map { l in
                    defer { start += l }
                    return g.slice(axis: a, start..<(start + l))
                }
            }
        }
        return out
    }

    /// Stacks tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        for t in tensors {
            precondition(t.shape == tensors[0].shape, "stack: shape \(t.shape) differs from \(tensors[0].shape)")
        }
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// `[n] → [n, classes]` with a 1 at each label (labels must be in `0..<classes`).
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        let out = Tensor.zeros([labels.count, classes])
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && l < classes, "oneHot: label \(l) out of range 0..<\(classes)")
            out.storage.pointer[i * classes + l] = 1
        }
        return out
    }
}
