import RealModule

// Elementwise ops: forward through the kernels, pullback right beside.

extension Tensor {
    /// Applies an elementwise function; its derivative comes from the same `UnaryOp`.
    public func applying(_ op: UnaryOp<Scalar>) -> Tensor {
        // Layers call this from generic code; run the Float body specialized (see `Specialization.swift`).
        if Scalar.self == Float.self {
            return asScalar(asFloat(self).applyingBody(unsafeBitCast(op, to: UnaryOp<Float>.self)))
        }
        return applyingBody(op)
    }

    func applyingBody(_ op: UnaryOp<Scalar>) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        Scalar.kernelUnary(op, storage.pointer, out.storage.pointer, count)
        if Tensor.recording(self) {
            let x = self, y = out.detached()
            out.record(op.name, inputs: [self]) { g in
                let dx = Tensor(uninitializedShape: x.shape)
                Scalar.kernelUnaryGradient(op, x: x.storage.pointer, y: y.storage.pointer,
                                           dy: g.storage.pointer, dx: dx.storage.pointer, x.count)
                return [dx]
            }
        }
        return out
    }

    /// Sums `self` down to `target` by adding over the axes that broadcasting expanded
    /// (the gradient of a broadcast).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        var result = self
        // Leading axes that the target lacks.
        while result.rank > target.count { result = result.sum(axis: 0) }
        for axis in 0..<target.count where target[axis] == 1 && result.shape[axis] != 1 {
            result = result.sum(axis: axis, keepingDimension: true)
        }
        precondition(result.shape == target, "sum(toShape:): cannot reduce shape \(shape) to \(target)")
        return result
    }

    /// Elementwise op with NumPy broadcasting; both shapes are printed when they do not fit.
    public func broadcasting(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        if Scalar.self == Float.self {
            return asScalar(asFloat(self).broadcastingBody(op, asFloat(other)))
        }
        return broadcastingBody(op, other)
    }

    func broadcastingBody(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        guard let layout = BroadcastLayout(shape, other.shape) else {
            preconditionFailure("\(op): shapes \(shape) and \(other.shape) cannot be broadcast together")
        }
        var out = Tensor(uninitializedShape: layout.shape)
        Scalar.kernelBinary(op, storage.pointer, other.storage.pointer, out.storage.pointer, layout)
        guard Tensor.recording(self, other) else { return out }
        let a = self, b = other, sa = shape, sb = other.shape
        switch op {
        case .add:
            out.record("add", inputs: [a, b]) { g in [g.sum(toShape: sa), g.sum(toShape: sb)] }
        case .subtract:
            out.record("subtract", inputs: [a, b]) { g in [g.sum(toShape: sa), (-g).sum(toShape: sb)] }
        case .multiply:
            out.record("multiply", inputs: [a, b]) { g in
                [a.node == nil ? nil : (g * b).sum(toShape: sa), b.node == nil ? nil : (g * a).sum(toShape: sb)]
            }
        case .divide:
            out.record("divide", inputs: [a, b]) { g in
                [a.node == nil ? nil : (g / b).sum(toShape: sa),
                 b.node == nil ? nil : (-(g * a) / (b * b)).sum(toShape: sb)]
            }
        case .power:
            let y = out.detached()
            out.record("power", inputs: [a, b]) { g in
                // d/da a^b = b·a^(b−1); d/db a^b = a^b·log(a) (0 where a = 0, as PyTorch).
                // An exponent of 0 gives 0, not 0·0^(−1) = NaN at a = 0 (as PyTorch).
                let da = a.node == nil ? nil
                    : Tensor.where(b .== 0, Tensor(0), g * b * a.broadcasting(.power, b - 1)).sum(toShape: sa)
                let logA = a.applying(.log)
                let safeLog = Tensor.where(a.broadcasting(.equal, Tensor(0)), Tensor(0), logA)
                let db = b.node == nil ? nil : (g * y * safeLog).sum(toShape: sb)
                return [da, db]
            }
        case .maximum, .minimum:
            out.record(op == .maximum ? "maximum" : "minimum", inputs: [a, b]) { g in
                // Ties split the gradient evenly, as torch.maximum.
                let pick = op == .maximum ? BinaryOp.greater : BinaryOp.less
                let aWins = a.broadcasting(pick, b), tie = a.broadcasting(.equal, b)
                let wa = aWins + tie * 0.5, wb = (1 - aWins) - tie * 0.5
                return [(g * wa).sum(toShape: sa), (g * wb).sum(toShape: sb)]
            }
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            break  // Comparisons are not differentiable: the result does not require grad.
        }
        return out
    }

    /// `condition ? a : b` elementwise with broadcasting; `condition` holds 0 or non-zero.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let mask = condition.broadcasting(.notEqual, Tensor(0))
        // mask·a + (1−mask)·b would turn 0·∞ into NaN; select instead.
        guard let l1 = BroadcastLayout(mask.shape, a.shape), let layout = BroadcastLayout(l1.shape, b.shape) else {
            preconditionFailure("where: shapes \(condition.shape), \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let m = mask.expanded(to: layout.shape), ea = a.expanded(to: layout.shape), eb = b.expanded(to: layout.shape)
        var out = Tensor(uninitializedShape: layout.shape)
        for i in 0..<out.count {
            out.storage.pointer[i] = m.storage.pointer[i] != 0 ? ea.storage.pointer[i] : eb.storage.pointer[i]
        }
        if Tensor.recording(a, b) {
            let sa = a.shape, sb = b.shape
            out.record("where", inputs: [a, b]) { g in
                [(g * m).sum(toShape: sa), (g * (1 - m)).sum(toShape: sb)]
            }
        }
        return out
    }

    /// This tensor broadcast to `target` (copying), differentiable.
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        guard let layout = BroadcastLayout(shape, target), layout.shape == target else {
            preconditionFailure("expanded(to:): shape \(shape) cannot be broadcast to \(target)")
        }
        var out = Tensor(uninitializedShape: target)
        let zero = Tensor.zeros(target)
        Scalar.kernelBinary(.add, storage.pointer, zero.storage.pointer, out.storage.pointer, layout)
        if Tensor.recording(self) {
            let s = shape
            out.record("expand", inputs: [self]) { g in [g.sum(toShape: s)] }
        }
        return out
    }
}

// MARK: - Operators

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.subtract, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.multiply, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.divide, b) }
    public static prefix func - (a: Tensor) -> Tensor { a.applying(.negate) }

    public static func + (a: Tensor, s: Scalar) -> Tensor { a.applying(.addScalar(s)) }
    public static func + (s: Scalar, a: Tensor) -> Tensor { a.applying(.addScalar(s)) }
    public static func - (a: Tensor, s: Scalar) -> Tensor { a.applying(.addScalar(-s)) }
    public static func - (s: Scalar, a: Tensor) -> Tensor { a.applying(.negate).applying(.addScalar(s)) }
    public static func * (a: Tensor, s: Scalar) -> Tensor { a.applying(.multiplyScalar(s)) }
    public static func * (s: Scalar, a: Tensor) -> Tensor { a.applying(.multiplyScalar(s)) }
    public static func / (a: Tensor, s: Scalar) -> Tensor { a.applying(.multiplyScalar(1 / s)) }
    public static func / (s: Scalar, a: Tensor) -> Tensor { a.applying(.reciprocal).applying(.multiplyScalar(s)) }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// `self^exponent` elementwise, broadcast.
    public func pow(_ exponent: Tensor) -> Tensor { broadcasting(.power, exponent) }
    /// `self^p` with a constant exponent.
    public func pow(_ p: Scalar) -> Tensor { applying(.power(p)) }
    /// Elementwise maximum (NaN if either is NaN).
    public func maximum(_ other: Tensor) -> Tensor { broadcasting(.maximum, other) }
    /// Elementwise minimum (NaN if either is NaN).
    public func minimum(_ other: Tensor) -> Tensor { broadcasting(.minimum, other) }

    public func exp() -> Tensor { applying(.exp) }
    public func log() -> Tensor { applying(.log) }
    /// `log(1 + x)`, accurate for small `x`.
    public func log1p() -> Tensor { applying(.log1p) }
    public func sqrt() -> Tensor { applying(.sqrt) }
    public func abs() -> Tensor { applying(.abs) }
    /// −1, 0 or 1 by the sign of each element.
    public func sign() -> Tensor { applying(.sign) }
    public func squared() -> Tensor { applying(.square) }
    public func reciprocal() -> Tensor { applying(.reciprocal) }
    public func sin() -> Tensor { applying(.sin) }
    public func cos() -> Tensor { applying(.cos) }
    /// Each element limited to `[low, high]`; the gradient passes where `low ≤ x ≤ high`.
    public func clamped(min low: Scalar = -.infinity, max high: Scalar = .infinity) -> Tensor {
        applying(.clamp(low: low, high: high))
    }

    // Comparisons give masks of 0 and 1 with broadcasting.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.equal, b) }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.notEqual, b) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.less, b) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.lessEqual, b) }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.greater, b) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.broadcasting(.greaterEqual, b) }
    public static func .> (a: Tensor, s: Scalar) -> Tensor { a.broadcasting(.greater, Tensor(s)) }
    public static func .< (a: Tensor, s: Scalar) -> Tensor { a.broadcasting(.less, Tensor(s)) }
    public static func .>= (a: Tensor, s: Scalar) -> Tensor { a.broadcasting(.greaterEqual, Tensor(s)) }
    public static func .<= (a: Tensor, s: Scalar) -> Tensor { a.broadcasting(.lessEqual, Tensor(s)) }
    public static func .== (a: Tensor, s: Scalar) -> Tensor { a.broadcasting(.equal, Tensor(s)) }

    /// A mask: 1 where the element is finite, 0 where it is NaN or infinite.
    public func finiteMask() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        for i in 0..<count { out.storage.pointer[i] = storage.pointer[i].isFinite ? 1 : 0 }
        return out
    }
}

