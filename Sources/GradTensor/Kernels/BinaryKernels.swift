import RealModule

/// An elementwise function of two tensors, broadcast as in NumPy.
/// Comparisons give 1 where true and 0 where false, in the tensors' element type.
public enum BinaryOp: Sendable, Equatable {
    case add, subtract, multiply, divide, power, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual
}

/// How two shapes broadcast to one output shape: per-input strides, 0 along broadcast axes.
public struct BroadcastLayout: Sendable, Equatable {
    /// The broadcast result's shape.
    public let shape: [Int]
    /// Element strides of the first input in the result's axes (0 where it is broadcast).
    public let stridesA: [Int]
    /// Element strides of the second input in the result's axes (0 where it is broadcast).
    public let stridesB: [Int]
    /// Number of elements of the result.
    public let count: Int
    let aCount: Int
    let bCount: Int

    /// Returns the layout, or nil when the shapes are incompatible (a dimension differs and neither is 1).
    public init?(_ a: [Int], _ b: [Int]) {
        let rank = Swift.max(a.count, b.count)
        var shape = [Int](repeating: 1, count: rank)
        var sa = [Int](repeating: 0, count: rank)
        var sb = [Int](repeating: 0, count: rank)
        var strideA = 1, strideB = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let ia = axis - (rank - a.count), ib = axis - (rank - b.count)
            let da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1
            guard da == db || da == 1 || db == 1 else { return nil }
            shape[axis] = da == 1 ? db : da
            sa[axis] = da == 1 ? 0 : strideA
            sb[axis] = db == 1 ? 0 : strideB
            strideA *= da
            strideB *= db
        }
        self.shape = shape
        self.stridesA = sa
        self.stridesB = sb
        self.count = shape.reduce(1, *)
        self.aCount = strideA
        self.bCount = strideB
    }
}

@inline(__always)
func zip2<T>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
    _ layout: BroadcastLayout, _ f: (T, T) -> T
) {
    let n = layout.count
    if layout.aCount == n && layout.bCount == n {
        for i in 0..<n { out[i] = f(a[i], b[i]) }
        return
    }
    if layout.bCount == 1 && layout.aCount == n {
        let s = b[0]
        for i in 0..<n { out[i] = f(a[i], s) }
        return
    }
    if layout.aCount == 1 && layout.bCount == n {
        let s = a[0]
        for i in 0..<n { out[i] = f(s, b[i]) }
        return
    }
    if n == 0 { return }
    // General case: walk the output in row-major order; the last axis is the inner loop.
    let rank = layout.shape.count
    let inner = layout.shape[rank - 1]
    let ia = layout.stridesA[rank - 1], ib = layout.stridesB[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var offA = 0, offB = 0, o = 0
    while o < n {
        for j in 0..<inner { out[o + j] = f(a[offA + j * ia], b[offB + j * ib]) }
        o += inner
        // Advance the multi-index over the outer axes.
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            offA += layout.stridesA[axis]
            offB += layout.stridesB[axis]
            if index[axis] < layout.shape[axis] { break }
            offA -= layout.stridesA[axis] * index[axis]
            offB -= layout.stridesB[axis] * index[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

func binaryLoop<T: TensorScalar>(
    _ op: BinaryOp, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
    _ out: UnsafeMutablePointer<T>, _ layout: BroadcastLayout
) {
    switch op {
    case .add: zip2(a, b, out, layout) { $0 + $1 }
    case .subtract: zip2(a, b, out, layout) { $0 - $1 }
    case .multiply: zip2(a, b, out, layout) { $0 * $1 }
    case .divide: zip2(a, b, out, layout) { $0 / $1 }
    case .power: zip2(a, b, out, layout) { powScalar($0, $1) }
    case .maximum: zip2(a, b, out, layout) { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
    case .minimum: zip2(a, b, out, layout) { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
    case .equal: zip2(a, b, out, layout) { $0 == $1 ? 1 : 0 }
    case .notEqual: zip2(a, b, out, layout) { $0 != $1 ? 1 : 0 }
    case .less: zip2(a, b, out, layout) { $0 < $1 ? 1 : 0 }
    case .lessEqual: zip2(a, b, out, layout) { $0 <= $1 ? 1 : 0 }
    case .greater: zip2(a, b, out, layout) { $0 > $1 ? 1 : 0 }
    case .greaterEqual: zip2(a, b, out, layout) { $0 >= $1 ? 1 : 0 }
    }
}

/// A reduction along one axis.
public enum ReduceOp: Sendable, Equatable {
    case sum, max, min
}

func reduceLoop<T: TensorScalar>(
    _ op: ReduceOp, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
    outer: Int, length: Int, inner: Int
) {
    for o in 0..<outer {
        let base = x + o * length * inner
        let dst = out + o * inner
        switch op {
        case .sum:
            if inner == 1 {
                dst[0] = sumLoop(base, length)
            } else {
                // Columns eight at a time in a register (the compiler cannot vectorize
                // `dst[j] += row[j]`: dst may alias x); each column is summed in row order.
                var j = 0
                while j + 8 <= inner {
                    var acc = SIMD8<T>()
                    for l in 0..<length { acc += UnsafeRawPointer(base + l * inner + j).loadUnaligned(as: SIMD8<T>.self) }
                    UnsafeMutableRawPointer(dst + j).storeBytes(of: acc, as: SIMD8<T>.self)
                    j += 8
                }
                while j < inner {
                    var acc: T = 0
                    for l in 0..<length { acc += base[l * inner + j] }
                    dst[j] = acc
                    j += 1
                }
            }
        case .max, .min:
            let isMax = op == .max
            for j in 0..<inner { dst[j] = base[j] }
            for l in 1..<Swift.max(length, 1) {
                let row = base + l * inner
                for j in 0..<inner {
                    let v = row[j]
                    if v.isNaN || dst[j].isNaN { dst[j] = .nan; continue }
                    if isMax ? v > dst[j] : v < dst[j] { dst[j] = v }
                }
            }
        }
    }
}

/// Sum with eight independent accumulators (the compiler may not reassociate float sums).
@inline(__always)
func sumLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    var acc = SIMD8<T>()
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

func axpyLoop<T: TensorScalar>(_ alpha: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int) {
    for i in 0..<n { y[i] += alpha * x[i] }
}

/// Σ x², accumulated in Double lanes: squares of Float values above ~1.8e19 overflow Float,
/// and gradient norms of exploding networks reach that range while staying finite.
func sumOfSquaresLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> Double {
    var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self)
        let lo = SIMD4<Double>(SIMD4(v[0], v[1], v[2], v[3])), hi = SIMD4<Double>(SIMD4(v[4], v[5], v[6], v[7]))
        acc0 += lo * lo
        acc1 += hi * hi
        i += 8
    }
    var total = (acc0 + acc1).sum()
    while i < n {
        let d = Double(x[i])
        total += d * d
        i += 1
    }
    return total
}

func maxAbsLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    var m: T = 0
    for i in 0..<n {
        let v = Swift.abs(x[i])
        if v.isNaN { return .nan }
        if v > m { m = v }
    }
    return m
}

func allFiniteLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> Bool {
    // x − x is 0 for finite x and NaN for ±∞ and NaN; summing keeps the loop branch-free.
    var acc = SIMD8<T>()
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self)
        acc += v - v
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] - x[i]; i += 1 }
    return s == 0
}
