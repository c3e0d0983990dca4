import RealModule

extension Tensor {
    func normalizedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Applies `op` along `axis`, keeping it as size 1 or dropping it.
    func reduced(_ op: ReduceOp, axis: Int, keepingDimension: Bool) -> Tensor {
        let a = normalizedAxis(axis)
        let outer = shape[..<a].reduce(1, *), length = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        precondition(length > 0 || op == .sum, "\(op): cannot reduce an empty axis \(a) of shape \(shape)")
        var keptShape = shape
        keptShape[a] = 1
        var out = Tensor(uninitializedShape: keptShape)
        Scalar.kernelReduce(op, storage.pointer, out.storage.pointer, outer: outer, length: length, inner: inner)
        if !keepingDimension {
            var dropped = shape
            dropped.remove(at: a)
            out = Tensor(shape: dropped, storage: out.storage)
        }
        return out
    }

    /// Sum of all elements (a scalar tensor).
    public func sum() -> Tensor {
        if Scalar.self == Float.self { return asScalar(asFloat(self).sumBody()) }
        return sumBody()
    }

    func sumBody() -> Tensor {
        var out = Tensor(sumLoop(storage.pointer, count))
        if Tensor.recording(self) {
            let s = shape
            out.record("sum", inputs: [self]) { g in [Tensor(shape: s, repeating: g.scalar)] }
        }
        return out
    }

    /// Sum along `axis` (negative counts from the end).
    public func sum(axis: Int, keepingDimension: Bool = false) -> Tensor {
        var out = reduced(.sum, axis: axis, keepingDimension: keepingDimension)
        if Tensor.recording(self) {
            let s = shape, a = normalizedAxis(axis)
            out.record("sum", inputs: [self]) { g in
                var kept = s
                kept[a] = 1
                return [g.reshaped(kept).expanded(to: s)]
            }
        }
        return out
    }

    /// Sum over several axes.
    public func sum(axes: [Int], keepingDimension: Bool = false) -> Tensor {
        var out = self
        for a in Set(axes.map(normalizedAxis)).sorted(by: >) {
            out = out.sum(axis: a, keepingDimension: keepingDimension)
        }
        return out
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Scalar(count)) }

    /// Mean along `axis`.
    public func mean(axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(axis: axis, keepingDimension: keepingDimension) * (1 / Scalar(shape[normalizedAxis(axis)]))
    }

    /// Mean over several axes.
    public func mean(axes: [Int], keepingDimension: Bool = false) -> Tensor {
        let n = Set(axes.map(normalizedAxis)).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepingDimension: keepingDimension) * (1 / Scalar(n))
    }

    /// Largest element (a scalar tensor); the gradient is split evenly among ties (as `amax`).
    public func max() -> Tensor { reshaped([count]).extremum(.max, axis: 0, keepingDimension: false).reshaped([]) }
    /// Smallest element; the gradient is split evenly among ties.
    public func min() -> Tensor { reshaped([count]).extremum(.min, axis: 0, keepingDimension: false).reshaped([]) }
    /// Largest element along `axis` (as `torch.amax`).
    public func max(axis: Int, keepingDimension: Bool = false) -> Tensor {
        extremum(.max, axis: axis, keepingDimension: keepingDimension)
    }
    /// Smallest element along `axis` (as `torch.amin`).
    public func min(axis: Int, keepingDimension: Bool = false) -> Tensor {
        extremum(.min, axis: axis, keepingDimension: keepingDimension)
    }

    func extremum(_ op: ReduceOp, axis: Int, keepingDimension: Bool) -> Tensor {
        var out = reduced(op, axis: axis, keepingDimension: keepingDimension)
        if Tensor.recording(self) {
            let x = self.detached(), a = normalizedAxis(axis)
            let kept = out.detached().reshaped(shape.enumerated().map { $0.offset == a ? 1 : $0.element })
            out.record(op == .max ? "max" : "min", inputs: [self]) { g in
                let mask = x .== kept
                let share = mask / mask.sum(axis: a, keepingDimension: true)
                return [share * g.reshaped(kept.shape)]
            }
        }
        return out
    }

    /// Variance of all elements; `unbiased` divides by `n − 1` (PyTorch's default) instead of `n`.
    public func variance(unbiased: Bool = true) -> Tensor {
        let centered = self - mean()
        return centered.squared().sum() * (1 / Scalar(Swift.max(count - (unbiased ? 1 : 0), 0)))
    }

    /// Variance along `axis`.
    public func variance(axis: Int, unbiased: Bool = true, keepingDimension: Bool = false) -> Tensor {
        let n = shape[normalizedAxis(axis)]
        let centered = self - mean(axis: axis, keepingDimension: true)
        return centered.squared().sum(axis: axis, keepingDimension: keepingDimension)
            * (1 / Scalar(Swift.max(n - (unbiased ? 1 : 0), 0)))
    }

    /// Standard deviation of all elements.
    public func standardDeviation(unbiased: Bool = true) -> Tensor { variance(unbiased: unbiased).sqrt() }

    /// The p-norm of all elements: `p = 2` Euclidean, `p = 1` sum of magnitudes,
    /// `p = .infinity` largest magnitude, other `p > 0` as `(Σ|x|^p)^(1/p)`.
    public func norm(_ p: Scalar = 2) -> Tensor {
        if p == 2 {
            // Pullback x/‖x‖ (0 where ‖x‖ = 0, as PyTorch).
            var out = Tensor(Scalar(Double.sqrt(Scalar.kernelSumOfSquares(storage.pointer, count))))
            if Tensor.recording(self) {
                let x = self.detached(), n = out.scalar
                out.record("norm", inputs: [self]) { g in [n == 0 ? Tensor.zeros(x.shape) : x * (g.scalar / n)] }
            }
            return out
        }
        if p == 1 { return abs().sum() }
        if p == .infinity { return abs().max() }
        return abs().pow(p).sum().pow(1 / p)
    }

    /// The p-norm along `axis`.
    public func norm(_ p: Scalar = 2, axis: Int, keepingDimension: Bool = false) -> Tensor {
        if p == 2 {
            // Pullback x/‖x‖ per slice, 0 for a slice of zeros (as PyTorch; the chain rule through
            // √ would give ∞·0 = NaN there).
            let x = detached()
            var out = x.squared().sum(axis: axis, keepingDimension: keepingDimension).sqrt()
            if Tensor.recording(self) {
                var kept = shape
                kept[normalizedAxis(axis)] = 1
                let n = out.detached().reshaped(kept)
                let divisor = Tensor.where(n .== 0, Tensor(1), n)
                out.record("norm", inputs: [self]) { g in [x * (g.reshaped(kept) / divisor)] }
            }
            return out
        }
        if p == 1 { return abs().sum(axis: axis, keepingDimension: keepingDimension) }
        if p == .infinity { return abs().max(axis: axis, keepingDimension: keepingDimension) }
        return abs().pow(p).sum(axis: axis, keepingDimension: keepingDimension).pow(1 / p)
    }

    /// Index of the largest element along `axis` (default the last) for each position of the
    /// other axes, in row-major order; the first on ties, and a NaN counts as largest (as `torch.argmax`).
    public func argmax(axis: Int = -1) -> [Int] {
        let a = normalizedAxis(axis)
        let outer = shape[..<a].reduce(1, *), length = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                var bestValue = storage.pointer[o * length * inner + j]
                for l in 1..<Swift.max(length, 1) {
                    let v = storage.pointer[(o * length + l) * inner + j]
                    if v > bestValue || (v.isNaN && !bestValue.isNaN) { best = l; bestValue = v }
                }
                result[o * inner + j] = best
            }
        }
        return result
    }
}
