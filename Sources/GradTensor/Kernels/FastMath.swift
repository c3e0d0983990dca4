/// Vectorized `exp`, `sigmoid` and `tanh` for `Float`, eight lanes at a time.
///
/// Scalar `expf` costs ~4 ns a call, more than the whole arithmetic of a small network's
/// step; these polynomial forms (Cephes' `expf` and `tanhf`, as used by most fast math
/// libraries) are within 2 ulp of the correctly rounded results over the whole range.

/// `e^x`: `x = n·ln 2 + r` with `|r| ≤ ln2/2`, `e^r` by a degree-6 polynomial, `2^n` by the
/// exponent bits. Saturates to `+∞` above 88.72 and to 0 below −103.97; NaN stays NaN.
@inline(__always)
func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let clamped = x.clamped(lowerBound: SIMD8(repeating: -103.0), upperBound: SIMD8(repeating: 88.72))
    // Round to the nearest integer with the 1.5·2²³ trick: adding it leaves n in the low
    // mantissa bits (vector rounding and float→int conversion are library calls on x86-64 v1).
    let shifted = clamped * 1.442695040888963 + 12_582_912
    let n = shifted - 12_582_912
    var r = clamped - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    // 2^n split in two factors so that n down to −149 (subnormal results) stays exact.
    let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let half = ni &>> 1
    let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
    let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
    var result = p * scale1 * scale2
    result.replace(with: Float.infinity, where: x .> 88.72)
    result.replace(with: 0, where: x .< -103.0)
    result.replace(with: x, where: x .!= x)
    return result
}

/// `1 / (1 + e^(−x))` for `x ≥ 0` and `e^x / (1 + e^x)` below, so neither side overflows and
/// tiny results keep their precision; NaN for NaN.
@inline(__always)
func fastSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let e = fastExp(x.replacing(with: -x, where: x .> 0))
    let r = 1 / (1 + e)
    return r.replacing(with: e * r, where: x .< 0)
}

/// `tanh(x)`: an odd polynomial for `|x| < 0.625` (no cancellation near 0), else
/// `1 − 2/(e^(2|x|) + 1)` with the sign restored.
@inline(__always)
func fastTanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let a = x.replacing(with: -x, where: x .< 0)
    let z = x * x
    var small = SIMD8<Float>(repeating: -5.70498872745e-3)
    small = small * z + 2.06390887954e-2
    small = small * z - 5.37397155531e-2
    small = small * z + 1.33314422036e-1
    small = small * z - 3.33332819422e-1
    small = small * z * x + x
    let e = fastExp(2 * a)
    var large = 1 - 2 / (e + 1)
    large.replace(with: -large, where: x .< 0)
    var result = large
    result.replace(with: small, where: a .< 0.625)
    result.replace(with: x, where: x .!= x)
    return result
}

/// Applies an eight-lane function to `n` floats; the tail goes through a padded vector.
@inline(__always)
func mapFloat8(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
               _ f: (SIMD8<Float>) -> SIMD8<Float>) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: SIMD8<Float>.self)
        i += 8
    }
    if i < n {
        var v = SIMD8<Float>()
        for j in 0..<(n - i) { v[j] = x[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { y[i + j] = r[j] }
    }
}

/// The Float unary ops that have a vectorized form; false when `op` has none.
func fastUnaryFloat(_ op: UnaryOp<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
    switch op {
    case .exp: mapFloat8(x, y, n, fastExp)
    case .sigmoid: mapFloat8(x, y, n, fastSigmoid)
    case .tanh: mapFloat8(x, y, n, fastTanh)
    case .silu: mapFloat8(x, y, n) { $0 * fastSigmoid($0) }
    default: return false
    }
    return true
}
