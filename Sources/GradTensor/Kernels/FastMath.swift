/// Vectorized `exp`, `sigmoid` and `tanh` for `Float`, eight lanes at a time.
///
/// Scalar `expf` costs ~4 ns a call, more than the whole arithmetic of a small network's
/// step; these polynomial forms (Cephes' `expf` and `tanhf`, as used by most fast math
/// libraries) are within 2 ulp of the correctly rounded results over the whole range.

/// `e^x`: `x = n·ln 2 + r` with `|r| ≤ ln2/2`, `e^r` by a degree-6 polynomial, `2^n` by the
/// exponent bits. Saturates to `+∞` above 88.72 and to 0 below −103.97; NaN stays NaN.
@inline(__always)
func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamped with masks: `clamped(lowerBound:upperBound:)` is an out-of-line generic call.
    var clamped = x
    clamped.replace(with: -103.0, where: x .< -103.0)
    clamped.replace(with: 88.72, where: x .> 88.72)
    let (p, ni) = expReduced(clamped)
    // 2^n split in two factors so that n down to −149 (subnormal results) stays exact.
    let half = ni &>> 1
    let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
    let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
    var result = p * scale1 * scale2
    result.replace(with: Float.infinity, where: x .> 88.72)
    result.replace(with: 0, where: x .< -103.0)
    result.replace(with: x, where: x .!= x)
    return result
}

/// `x = n·ln 2 + r` with `|r| ≤ ln2/2`: `e^r` by a degree-6 polynomial, and `n`.
@inline(__always)
func expReduced(_ x: SIMD8<Float>) -> (polynomial: SIMD8<Float>, exponent: SIMD8<Int32>) {
    // Round to the nearest integer with the 1.5·2²³ trick: adding it leaves n in the low
    // mantissa bits (vector rounding and float→int conversion are library calls on x86-64 v1).
    let shifted = x * 1.442695040888963 + 12_582_912
    let n = shifted - 12_582_912
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    return (p, unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000)
}

/// `e^t` for `−87.33 ≤ t ≤ 0` (normal results only), without the range and NaN guards of
/// `fastExp`: the same reduction and polynomial, one exponent scale.
@inline(__always)
func fastExpNonPositiveNormal(_ t: SIMD8<Float>) -> SIMD8<Float> {
    let (p, ni) = expReduced(t)
    return p * unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
}

/// `−|x|`, by setting the sign bit.
@inline(__always)
func negativeMagnitude(_ x: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) | 0x8000_0000, to: SIMD8<Float>.self)
}

/// `1 / (1 + e^(−x))` for `x ≥ 0` and `e^x / (1 + e^x)` below, so neither side overflows and
/// tiny results keep their precision; NaN for NaN. With `e = e^(−|x|)`; vectors where `e`
/// would be subnormal (`|x| > 87.33`) or that hold a NaN take the guarded `fastExp`.
@inline(__always)
func fastSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let t = negativeMagnitude(x)
    let e = any(.!(t .>= -87.33)) ? fastExp(t) : fastExpNonPositiveNormal(t)
    let r = 1 / (1 + e)
    return r.replacing(with: e * r, where: x .< 0)
}

/// `tanh(x)`: an odd polynomial for `|x| < 0.625` (no cancellation near 0), else
/// `(1 − e)/(1 + e)` with `e = e^(−2|x|)` and the sign restored; `|x|` is capped at 9, where
/// `tanh` is 1 in `Float`. NaN for NaN.
@inline(__always)
func fastTanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let t = negativeMagnitude(x)
    let z = x * x
    var small = SIMD8<Float>(repeating: -5.70498872745e-3)
    small = small * z + 2.06390887954e-2
    small = small * z - 5.37397155531e-2
    small = small * z + 1.33314422036e-1
    small = small * z - 3.33332819422e-1
    small = small * z * x + x
    var capped = t
    capped.replace(with: -9, where: t .< -9)
    let e = fastExpNonPositiveNormal(2 * capped)
    let large = (1 - e) / (1 + e)
    let signBit = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
    var result = unsafeBitCast(unsafeBitCast(large, to: SIMD8<UInt32>.self) | signBit, to: SIMD8<Float>.self)
    result.replace(with: small, where: t .> -0.625)
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
