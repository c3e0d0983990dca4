// The kernels of GradKernels.h, written once and included by Kernels.c once per instruction
// set, with these defined by the includer:
//   GL_TARGET        the function attribute that enables the instruction set (or nothing)
//   GL_FN(name)      the name with the instruction set's suffix
//   GL_AFFINE_BB     vectors of rows per block of the affine kernel
//   GL_WGRAD_IB      input features per block of the weight-gradient kernel
// Blocking only decides which elements are computed together, never the operations or their
// order on one element, so every version gives the same bits.

#define GL_INLINE GL_TARGET static inline __attribute__((always_inline))

GL_INLINE glf8 GL_FN(load)(const float *p) {
    glf8 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

GL_INLINE void GL_FN(store)(float *p, glf8 v) { __builtin_memcpy(p, &v, sizeof v); }

GL_INLINE glf8 GL_FN(splat)(float s) { return (glf8){s, s, s, s, s, s, s, s}; }

/// `mask ? a : b` lane by lane (`mask` lanes all ones or all zeros).
GL_INLINE glf8 GL_FN(select)(gli8 mask, glf8 a, glf8 b) {
    return (glf8)(((gli8)a & mask) | ((gli8)b & ~mask));
}

/// `((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7))`.
GL_INLINE float GL_FN(hsum)(glf8 v) {
    float s0 = v[0] + v[4], s1 = v[1] + v[5], s2 = v[2] + v[6], s3 = v[3] + v[7];
    return (s0 + s2) + (s1 + s3);
}

// MARK: - Affine map, feature-major

#define GL_AFFINE_OB 5

/// `OB` outputs × `BB` vectors of rows starting at output `o0`, row `b0`.
GL_INLINE glf8 GL_FN(relu8)(glf8 x) {
    return GL_FN(select)((x > 0.0f) | (x != x), x, GL_FN(splat)(0.0f));
}

GL_INLINE void GL_FN(affine_block)(const float *w, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                                   const float *x, float *z, float *relu_y, ptrdiff_t depth, ptrdiff_t ld,
                                   ptrdiff_t o0, ptrdiff_t b0, const int OB, const int BB, const int STORE_Z) {
    glf8 acc[GL_AFFINE_OB][GL_AFFINE_BB];
    for (int j = 0; j < OB; j++)
        for (int v = 0; v < BB; v++) acc[j][v] = (glf8){0, 0, 0, 0, 0, 0, 0, 0};
    // `w` holds every weight eight times (`gl_splat`): a load instead of a broadcast.
    const float *wp = w + 8 * o0 * w_row;
    const float *xp = x + b0;
    for (ptrdiff_t k = 0; k < depth; k++) {
        glf8 xv[GL_AFFINE_BB];
        for (int v = 0; v < BB; v++) xv[v] = GL_FN(load)(xp + k * ld + 8 * v);
        const float *wk = wp + 8 * k * w_col;
        for (int j = 0; j < OB; j++) {
            glf8 wv = GL_FN(load)(wk + 8 * j * w_row);
            for (int v = 0; v < BB; v++) acc[j][v] = GL_MADD(acc[j][v], wv, xv[v]);
        }
    }
    for (int j = 0; j < OB; j++) {
        if (bias) {
            glf8 bv = GL_FN(splat)(bias[o0 + j]);
            for (int v = 0; v < BB; v++) acc[j][v] = acc[j][v] + bv;
        }
        if (STORE_Z) {
            float *zp = z + (o0 + j) * ld + b0;
            for (int v = 0; v < BB; v++) GL_FN(store)(zp + 8 * v, acc[j][v]);
        }
        if (relu_y) {
            float *yp = relu_y + (o0 + j) * ld + b0;
            for (int v = 0; v < BB; v++) GL_FN(store)(yp + 8 * v, GL_FN(relu8)(acc[j][v]));
        }
    }
}

GL_INLINE void GL_FN(affine_rows)(const float *w, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                                  const float *x, float *z, float *relu_y, ptrdiff_t outs, ptrdiff_t depth,
                                  ptrdiff_t ld, ptrdiff_t b0, const int BB, const int STORE_Z) {
    ptrdiff_t o = 0;
    for (; o + GL_AFFINE_OB <= outs; o += GL_AFFINE_OB)
        GL_FN(affine_block)(w, w_row, w_col, bias, x, z, relu_y, depth, ld, o, b0, GL_AFFINE_OB, BB, STORE_Z);
    switch (outs - o) {
    case 1: GL_FN(affine_block)(w, w_row, w_col, bias, x, z, relu_y, depth, ld, o, b0, 1, BB, STORE_Z); break;
    case 2: GL_FN(affine_block)(w, w_row, w_col, bias, x, z, relu_y, depth, ld, o, b0, 2, BB, STORE_Z); break;
    case 3: GL_FN(affine_block)(w, w_row, w_col, bias, x, z, relu_y, depth, ld, o, b0, 3, BB, STORE_Z); break;
    case 4: GL_FN(affine_block)(w, w_row, w_col, bias, x, z, relu_y, depth, ld, o, b0, 4, BB, STORE_Z); break;
    default: break;
    }
}

GL_TARGET static void GL_FN(affine_fm)(const float *w, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                                       const float *x, float *z, float *relu_y, ptrdiff_t outs, ptrdiff_t depth,
                                       ptrdiff_t ld) {
    ptrdiff_t b = 0;
#if GL_AFFINE_BB > 1
    for (; b + 8 * GL_AFFINE_BB <= ld; b += 8 * GL_AFFINE_BB)
        GL_FN(affine_rows)(w, w_row, w_col, bias, x, z, relu_y, outs, depth, ld, b, GL_AFFINE_BB, 1);
#endif
    for (; b < ld; b += 8) GL_FN(affine_rows)(w, w_row, w_col, bias, x, z, relu_y, outs, depth, ld, b, 1, 1);
}

/// `affine_fm` with `z` NULL (ReLU's output only): a version of its own, as a test of `z` in
/// the shared code costs the other version a quarter of its speed at -O2.
GL_TARGET static void GL_FN(affine_relu_only_fm)(const float *w, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                                                 const float *x, float *relu_y, ptrdiff_t outs, ptrdiff_t depth,
                                                 ptrdiff_t ld) {
    ptrdiff_t b = 0;
#if GL_AFFINE_BB > 1
    for (; b + 8 * GL_AFFINE_BB <= ld; b += 8 * GL_AFFINE_BB)
        GL_FN(affine_rows)(w, w_row, w_col, bias, x, NULL, relu_y, outs, depth, ld, b, GL_AFFINE_BB, 0);
#endif
    for (; b < ld; b += 8) GL_FN(affine_rows)(w, w_row, w_col, bias, x, NULL, relu_y, outs, depth, ld, b, 1, 0);
}

// MARK: - Weight gradient, feature-major

#define GL_WGRAD_OB 2

/// `OB` outputs × `IB` inputs of `dw` starting at (`o0`, `i0`).
GL_INLINE void GL_FN(wgrad_block)(const float *dz, const float *x, float *dw, ptrdiff_t ins, ptrdiff_t ld,
                                  ptrdiff_t rows, ptrdiff_t o0, ptrdiff_t i0, const int OB, const int IB) {
    glf8 acc[GL_WGRAD_OB][GL_WGRAD_IB];
    for (int j = 0; j < OB; j++)
        for (int i = 0; i < IB; i++) acc[j][i] = (glf8){0, 0, 0, 0, 0, 0, 0, 0};
    const float *dp = dz + o0 * ld, *xp = x + i0 * ld;
    ptrdiff_t full = rows & ~(ptrdiff_t)7, b = 0;
    for (; b < full; b += 8) {
        glf8 d[GL_WGRAD_OB];
        for (int j = 0; j < OB; j++) d[j] = GL_FN(load)(dp + j * ld + b);
        for (int i = 0; i < IB; i++) {
            glf8 xv = GL_FN(load)(xp + i * ld + b);
            for (int j = 0; j < OB; j++) acc[j][i] = GL_MADD(acc[j][i], d[j], xv);
        }
    }
    if (b < rows) {
        // The last, partial vector: padding lanes are cleared in both operands.
        gli8 mask = (gli8){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(rows - b);
        glf8 d[GL_WGRAD_OB];
        for (int j = 0; j < OB; j++) d[j] = (glf8)((gli8)GL_FN(load)(dp + j * ld + b) & mask);
        for (int i = 0; i < IB; i++) {
            glf8 xv = (glf8)((gli8)GL_FN(load)(xp + i * ld + b) & mask);
            for (int j = 0; j < OB; j++) acc[j][i] = GL_MADD(acc[j][i], d[j], xv);
        }
    }
    for (int j = 0; j < OB; j++)
        for (int i = 0; i < IB; i++) dw[(o0 + j) * ins + i0 + i] = GL_FN(hsum)(acc[j][i]);
}

GL_INLINE void GL_FN(wgrad_outputs)(const float *dz, const float *x, float *dw, ptrdiff_t ins, ptrdiff_t ld,
                                    ptrdiff_t rows, ptrdiff_t o0, const int OB) {
    ptrdiff_t i = 0;
    for (; i + GL_WGRAD_IB <= ins; i += GL_WGRAD_IB)
        GL_FN(wgrad_block)(dz, x, dw, ins, ld, rows, o0, i, OB, GL_WGRAD_IB);
    switch (ins - i) {
    case 1: GL_FN(wgrad_block)(dz, x, dw, ins, ld, rows, o0, i, OB, 1); break;
#if GL_WGRAD_IB > 2
    case 2: GL_FN(wgrad_block)(dz, x, dw, ins, ld, rows, o0, i, OB, 2); break;
#endif
#if GL_WGRAD_IB > 3
    case 3: GL_FN(wgrad_block)(dz, x, dw, ins, ld, rows, o0, i, OB, 3); break;
#endif
#if GL_WGRAD_IB > 4
    case 4: GL_FN(wgrad_block)(dz, x, dw, ins, ld, rows, o0, i, OB, 4); break;
#endif
    default: break;
    }
}

/// `db[o0 + j] = Σ_b dz[(o0 + j)·ld + b]` for `j < OB`, in the order of the weight gradient.
GL_INLINE void GL_FN(bgrad_block)(const float *dz, float *db, ptrdiff_t ld, ptrdiff_t rows,
                                  ptrdiff_t o0, const int OB) {
    glf8 acc[4];
    for (int j = 0; j < OB; j++) acc[j] = (glf8){0, 0, 0, 0, 0, 0, 0, 0};
    const float *dp = dz + o0 * ld;
    ptrdiff_t full = rows & ~(ptrdiff_t)7, b = 0;
    for (; b < full; b += 8)
        for (int j = 0; j < OB; j++) acc[j] = acc[j] + GL_FN(load)(dp + j * ld + b);
    if (b < rows) {
        gli8 mask = (gli8){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(rows - b);
        for (int j = 0; j < OB; j++) acc[j] = acc[j] + (glf8)((gli8)GL_FN(load)(dp + j * ld + b) & mask);
    }
    for (int j = 0; j < OB; j++) db[o0 + j] = GL_FN(hsum)(acc[j]);
}

GL_TARGET static void GL_FN(weight_gradient_fm)(const float *dz, const float *x, float *dw, float *db,
                                                ptrdiff_t outs, ptrdiff_t ins, ptrdiff_t ld, ptrdiff_t rows) {
    ptrdiff_t o = 0;
    for (; o + GL_WGRAD_OB <= outs; o += GL_WGRAD_OB) GL_FN(wgrad_outputs)(dz, x, dw, ins, ld, rows, o, GL_WGRAD_OB);
    if (o < outs) GL_FN(wgrad_outputs)(dz, x, dw, ins, ld, rows, o, 1);
    if (!db) return;
    o = 0;
    for (; o + 4 <= outs; o += 4) GL_FN(bgrad_block)(dz, db, ld, rows, o, 4);
    switch (outs - o) {
    case 1: GL_FN(bgrad_block)(dz, db, ld, rows, o, 1); break;
    case 2: GL_FN(bgrad_block)(dz, db, ld, rows, o, 2); break;
    case 3: GL_FN(bgrad_block)(dz, db, ld, rows, o, 3); break;
    default: break;
    }
}

// MARK: - Transpose

/// The 8×8 block at `src` (row stride `src_ld`) transposed into `dst` (row stride `dst_ld`).
GL_INLINE void GL_FN(transpose8x8)(const float *src, ptrdiff_t src_ld, float *dst, ptrdiff_t dst_ld) {
    glf8 r0 = GL_FN(load)(src), r1 = GL_FN(load)(src + src_ld), r2 = GL_FN(load)(src + 2 * src_ld),
         r3 = GL_FN(load)(src + 3 * src_ld), r4 = GL_FN(load)(src + 4 * src_ld), r5 = GL_FN(load)(src + 5 * src_ld),
         r6 = GL_FN(load)(src + 6 * src_ld), r7 = GL_FN(load)(src + 7 * src_ld);
    glf8 t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);
    glf8 t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);
    glf8 t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
    glf8 t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
    glf8 t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
    glf8 t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
    glf8 t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
    glf8 t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
    glf8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    glf8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    glf8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    glf8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    glf8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    glf8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    glf8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    glf8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    GL_FN(store)(dst, __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11));
    GL_FN(store)(dst + dst_ld, __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11));
    GL_FN(store)(dst + 2 * dst_ld, __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11));
    GL_FN(store)(dst + 3 * dst_ld, __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11));
    GL_FN(store)(dst + 4 * dst_ld, __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15));
    GL_FN(store)(dst + 5 * dst_ld, __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15));
    GL_FN(store)(dst + 6 * dst_ld, __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15));
    GL_FN(store)(dst + 7 * dst_ld, __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15));
}

GL_TARGET static void GL_FN(transpose)(const float *src, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t src_ld,
                                       float *dst, ptrdiff_t dst_ld) {
    if (rows < 8 || cols < 8) {
        for (ptrdiff_t r = 0; r < rows; r++)
            for (ptrdiff_t c = 0; c < cols; c++) dst[c * dst_ld + r] = src[r * src_ld + c];
        return;
    }
    // 8×8 blocks; a last partial block row or column is done as a block that overlaps the one
    // before it (its elements are written twice, with the same values).
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += 8) {
        ptrdiff_t r = r0 + 8 <= rows ? r0 : rows - 8;
        for (ptrdiff_t c0 = 0; c0 < cols; c0 += 8) {
            ptrdiff_t c = c0 + 8 <= cols ? c0 : cols - 8;
            GL_FN(transpose8x8)(src + r * src_ld + c, src_ld, dst + c * dst_ld + r, dst_ld);
        }
    }
}

// MARK: - Elementwise functions
//
// Cephes' expf and tanhf reductions and polynomials, the same operations in the same order as
// GradTensor's former Swift SIMD8 versions (so results did not change when they moved here):
// within 2 ulp of the correctly rounded results over the whole range.
// Sixteen lanes at a time: the polynomials are long chains of dependent operations, and two
// (AVX) or four (SSE2) independent chains side by side keep the pipelines busy.

GL_INLINE glfE GL_FN(loadE)(const float *p) {
    glfE v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

GL_INLINE void GL_FN(storeE)(float *p, glfE v) { __builtin_memcpy(p, &v, sizeof v); }

GL_INLINE glfE GL_FN(splatE)(float s) { return (glfE){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

GL_INLINE glfE GL_FN(selectE)(gliE mask, glfE a, glfE b) {
    return (glfE)(((gliE)a & mask) | ((gliE)b & ~mask));
}

/// `x = n·ln 2 + r` with `|r| ≤ ln2/2`: `e^r` by a degree-6 polynomial, and `n`.
GL_INLINE glfE GL_FN(exp_reduced)(glfE x, gliE *exponent) {
    // Round to the nearest integer by adding 1.5·2²³, which leaves n in the low mantissa bits.
    glfE shifted = x * 1.442695040888963f + 12582912.0f;
    glfE n = shifted - 12582912.0f;
    glfE r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    glfE p = GL_FN(splatE)(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    *exponent = (gliE)shifted - 0x4B400000;
    return p;
}

/// `e^x`; saturates to `+∞` above 88.72 and to 0 below −103; NaN stays NaN.
GL_INLINE glfE GL_FN(exp)(glfE x) {
    gliE low = x < -103.0f, high = x > 88.72f;
    glfE clamped = GL_FN(selectE)(low, GL_FN(splatE)(-103.0f), x);
    clamped = GL_FN(selectE)(high, GL_FN(splatE)(88.72f), clamped);
    gliE ni;
    glfE p = GL_FN(exp_reduced)(clamped, &ni);
    // 2^n in two factors so that n down to −149 (subnormal results) stays exact.
    gliE half = ni >> 1;
    glfE scale1 = (glfE)((gluE)(half + 127) << 23);
    glfE scale2 = (glfE)((gluE)(ni - half + 127) << 23);
    glfE result = p * scale1 * scale2;
    result = GL_FN(selectE)(high, GL_FN(splatE)(__builtin_inff()), result);
    result = GL_FN(selectE)(low, GL_FN(splatE)(0.0f), result);
    return GL_FN(selectE)(x != x, x, result);
}

/// `e^t` for `−87.33 ≤ t ≤ 0` (normal results only), without the guards of `exp`.
GL_INLINE glfE GL_FN(exp_nonpositive_normal)(glfE t) {
    gliE ni;
    glfE p = GL_FN(exp_reduced)(t, &ni);
    return p * (glfE)((gluE)(ni + 127) << 23);
}

/// `−|x|`, by setting the sign bit.
GL_INLINE glfE GL_FN(negative_magnitude)(glfE x) { return (glfE)((gluE)x | 0x80000000u); }

/// `1 / (1 + e^(−x))` for `x ≥ 0` and `e^x / (1 + e^x)` below, with `e = e^(−|x|)`; vectors
/// where `e` would be subnormal (`|x| > 87.33`) or that hold a NaN take the guarded `exp`.
GL_TARGET static __attribute__((noinline)) glfE GL_FN(exp_outlined)(glfE x) { return GL_FN(exp)(x); }

GL_INLINE glfE GL_FN(sigmoid)(glfE x) {
    glfE t = GL_FN(negative_magnitude)(x);
    glfE e;
    // A call, not a select: the compiler would otherwise compute both and blend them.
    if (__builtin_expect(__builtin_reduce_and(t >= -87.33f) != 0, 1)) e = GL_FN(exp_nonpositive_normal)(t);
    else e = GL_FN(exp_outlined)(t);
    glfE r = 1.0f / (1.0f + e);
    return GL_FN(selectE)(x < 0.0f, e * r, r);
}

/// `tanh(x)`: an odd polynomial for `|x| < 0.625`, else `(1 − e)/(1 + e)` with
/// `e = e^(−2|x|)` and the sign restored; `|x|` capped at 9. NaN for NaN.
GL_INLINE glfE GL_FN(tanh_small)(glfE x) {
    glfE z = x * x;
    glfE small = GL_FN(splatE)(-5.70498872745e-3f);
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    return small * z * x + x;
}

GL_INLINE glfE GL_FN(tanh_large)(glfE x, glfE t) {
    glfE capped = GL_FN(selectE)(t < -9.0f, GL_FN(splatE)(-9.0f), t);
    glfE e = GL_FN(exp_nonpositive_normal)(2.0f * capped);
    glfE large = (1.0f - e) / (1.0f + e);
    return (glfE)((gluE)large | ((gluE)x & 0x80000000u));
}

GL_INLINE glfE GL_FN(tanh)(glfE x) {
    glfE t = GL_FN(negative_magnitude)(x);
    gliE isSmall = t > -0.625f;
    glfE result;
    // Each lane takes one of the two forms; a vector whose lanes all take the same form
    // computes only that one (the values are the same either way).
    if (__builtin_reduce_and(isSmall)) result = GL_FN(tanh_small)(x);
    else if (!__builtin_reduce_or(isSmall)) result = GL_FN(tanh_large)(x, t);
    else result = GL_FN(selectE)(isSmall, GL_FN(tanh_small)(x), GL_FN(tanh_large)(x, t));
    return GL_FN(selectE)(x != x, x, result);
}

/// `max(x, 0)`, NaN for NaN, +0 for −0.
GL_INLINE glfE GL_FN(relu)(glfE x) {
    return GL_FN(selectE)((x > 0.0f) | (x != x), x, GL_FN(splatE)(0.0f));
}

GL_INLINE glfE GL_FN(apply)(int op, glfE x) {
    switch (op) {
    case GL_UNARY_RELU: return GL_FN(relu)(x);
    case GL_UNARY_SIGMOID: return GL_FN(sigmoid)(x);
    case GL_UNARY_TANH: return GL_FN(tanh)(x);
    case GL_UNARY_EXP: return GL_FN(exp)(x);
    default: return x * GL_FN(sigmoid)(x);  // GL_UNARY_SILU
    }
}

/// One op over `n` elements, the tail through a zero-padded vector.
GL_INLINE void GL_FN(map)(int op, const float *x, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + GL_ELEMENTWISE_LANES <= n; i += GL_ELEMENTWISE_LANES)
        GL_FN(storeE)(y + i, GL_FN(apply)(op, GL_FN(loadE)(x + i)));
    if (i < n) {
        float tail[GL_ELEMENTWISE_LANES] = {0};
        for (ptrdiff_t j = 0; j < n - i; j++) tail[j] = x[i + j];
        GL_FN(storeE)(tail, GL_FN(apply)(op, GL_FN(loadE)(tail)));
        for (ptrdiff_t j = 0; j < n - i; j++) y[i + j] = tail[j];
    }
}

GL_TARGET static void GL_FN(unary)(int op, const float *x, float *y, ptrdiff_t n) {
    // One loop per op, so that the switch is decided outside the loop.
    switch (op) {
    case GL_UNARY_RELU: GL_FN(map)(GL_UNARY_RELU, x, y, n); break;
    case GL_UNARY_SIGMOID: GL_FN(map)(GL_UNARY_SIGMOID, x, y, n); break;
    case GL_UNARY_TANH: GL_FN(map)(GL_UNARY_TANH, x, y, n); break;
    case GL_UNARY_EXP: GL_FN(map)(GL_UNARY_EXP, x, y, n); break;
    default: GL_FN(map)(GL_UNARY_SILU, x, y, n); break;
    }
}

/// `f'` as a factor of `dy`, from `x` and `y = f(x)`.
GL_INLINE glfE GL_FN(derivative)(int op, glfE x, glfE y) {
    switch (op) {
    case GL_UNARY_RELU: return GL_FN(selectE)(x > 0.0f, GL_FN(splatE)(1.0f), GL_FN(splatE)(0.0f));
    case GL_UNARY_SIGMOID: return y * (1.0f - y);
    case GL_UNARY_TANH: return 1.0f - y * y;
    default: return y;  // GL_UNARY_EXP
    }
}

GL_INLINE void GL_FN(map_gradient)(int op, const float *x, const float *y, const float *dy, float *dx, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + GL_ELEMENTWISE_LANES <= n; i += GL_ELEMENTWISE_LANES) {
        glfE f = GL_FN(derivative)(op, GL_FN(loadE)(x + i), GL_FN(loadE)(y + i));
        GL_FN(storeE)(dx + i, GL_FN(loadE)(dy + i) * f);
    }
    for (; i < n; i++) {
        float xs = x[i], ys = y[i], f;
        switch (op) {
        case GL_UNARY_RELU: f = xs > 0.0f ? 1.0f : 0.0f; break;
        case GL_UNARY_SIGMOID: f = ys * (1.0f - ys); break;
        case GL_UNARY_TANH: f = 1.0f - ys * ys; break;
        default: f = ys; break;
        }
        dx[i] = dy[i] * f;
    }
}

GL_TARGET static void GL_FN(unary_gradient)(int op, const float *x, const float *y, const float *dy, float *dx, ptrdiff_t n) {
    switch (op) {
    case GL_UNARY_RELU: GL_FN(map_gradient)(GL_UNARY_RELU, x, y, dy, dx, n); break;
    case GL_UNARY_SIGMOID: GL_FN(map_gradient)(GL_UNARY_SIGMOID, x, y, dy, dx, n); break;
    case GL_UNARY_TANH: GL_FN(map_gradient)(GL_UNARY_TANH, x, y, dy, dx, n); break;
    default: GL_FN(map_gradient)(GL_UNARY_EXP, x, y, dy, dx, n); break;
    }
}

// MARK: - Sums of squares of parameters (the update measurements)

/// A chunk's eight Float lanes added in Double: `((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))`.
GL_INLINE double GL_FN(lanes_sum)(glf8 lanes) {
    double l0 = lanes[0], l1 = lanes[1], l2 = lanes[2], l3 = lanes[3], l4 = lanes[4], l5 = lanes[5], l6 = lanes[6], l7 = lanes[7];
    return ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
}

/// `x·x` of one chunk's `count` elements (a multiple of 8) from its Float `lanes`; a chunk
/// whose lanes are not finite (overflow, or a NaN) is summed again in Double element by element.
GL_INLINE double GL_FN(chunk_squares)(glf8 lanes, const float *x, ptrdiff_t count) {
    double sum = GL_FN(lanes_sum)(lanes);
    if (sum - sum != 0) {
        sum = 0;
        for (ptrdiff_t j = 0; j < count; j++) sum += (double)x[j] * (double)x[j];
    }
    return sum;
}

/// The same for `(new − old)²` with the differences taken in Float (`new − old` rounded, as
/// the lanes summed them).
GL_INLINE double GL_FN(chunk_step_squares)(glf8 lanes, const float *new_values, const float *old, ptrdiff_t count) {
    double sum = GL_FN(lanes_sum)(lanes);
    if (sum - sum != 0) {
        sum = 0;
        for (ptrdiff_t j = 0; j < count; j++) {
            float d = new_values[j] - old[j];
            sum += (double)d * (double)d;
        }
    }
    return sum;
}

GL_TARGET static double GL_FN(sum_squares)(const float *x, ptrdiff_t n, double acc) {
    ptrdiff_t i = 0;
    while (i + 8 <= n) {
        ptrdiff_t end = i + GL_SQUARES_CHUNK <= n ? i + GL_SQUARES_CHUNK : n - n % 8, start = i;
        glf8 lanes = GL_FN(splat)(0.0f);
        for (; i < end; i += 8) {
            glf8 v = GL_FN(load)(x + i);
            lanes += v * v;
        }
        acc += GL_FN(chunk_squares)(lanes, x + start, end - start);
    }
    for (; i < n; i++) acc += (double)x[i] * (double)x[i];
    return acc;
}

// MARK: - The monitor's statistics (GradDoctor)

/// `v[0] + v[1] + … + v[7]`, added left to right from −0: Swift's `SIMD8<Float>.sum()`.
GL_INLINE float GL_FN(sum_in_order)(glf8 v) {
    float r = -0.0f;
    for (int l = 0; l < 8; l++) r += v[l];
    return r;
}

/// `squares` plus a block's `Σ x²`: its Float lanes `q` summed in order, or, when that is not
/// finite, the block's `count` elements from `x` squared in Double one by one.
GL_INLINE double GL_FN(add_block_squares)(glf8 q, const float *x, ptrdiff_t count, double squares) {
    double block = (double)GL_FN(sum_in_order)(q);
    if (__builtin_isfinite(block)) return squares + block;
    for (ptrdiff_t j = 0; j < count; j++) squares += (double)x[j] * (double)x[j];
    return squares;
}

/// The end of the block that starts at `i`: at most 1024 elements, whole vectors only.
GL_INLINE ptrdiff_t GL_FN(block_end)(ptrdiff_t i, ptrdiff_t n) {
    ptrdiff_t end = n - (n - i) % 8;
    return end < i + 1024 ? end : i + 1024;
}

/// `gl_moment_sums`; `extremes` (a constant after inlining) adds the largest |x| and the zeros.
GL_INLINE void GL_FN(moment_sums_body)(const float *x, ptrdiff_t n, const int extremes, struct gl_moment_sums *out) {
    double sum = 0, squares = 0;
    ptrdiff_t zeros = 0, i = 0;
    glf8 max_abs = GL_FN(splat)(0.0f);
    const gli8 magnitude = (gli8){0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
    while (i + 8 <= n) {
        ptrdiff_t start = i, end = GL_FN(block_end)(i, n);
        glf8 s = GL_FN(splat)(0.0f), q = s;
        gli8 z = (gli8){0, 0, 0, 0, 0, 0, 0, 0};
        for (; i < end; i += 8) {
            glf8 v = GL_FN(load)(x + i);
            s += v;
            q += v * v;
            if (extremes) {
                glf8 a = (glf8)((gli8)v & magnitude);
                max_abs = GL_FN(select)(a > max_abs, a, max_abs);
                z -= (v == GL_FN(splat)(0.0f)); // a true lane is −1
            }
        }
        sum += (double)GL_FN(sum_in_order)(s);
        squares = GL_FN(add_block_squares)(q, x + start, end - start, squares);
        if (extremes)
            for (int l = 0; l < 8; l++) zeros += z[l];
    }
    double largest = 0;
    if (extremes) {
        float m = max_abs[0];
        for (int l = 1; l < 8; l++) m = max_abs[l] > m ? max_abs[l] : m;
        largest = m;
    }
    for (; i < n; i++) {
        double v = x[i];
        sum += v;
        squares += v * v;
        if (extremes) {
            double a = __builtin_fabs(v);
            largest = a >= largest ? a : largest;
            if (v == 0) zeros++;
        }
    }
    out->sum = sum;
    out->squares = squares;
    out->max_abs = largest;
    out->zeros = zeros;
}

GL_TARGET static void GL_FN(moment_sums)(const float *x, ptrdiff_t n, int extremes, struct gl_moment_sums *out) {
    if (extremes) GL_FN(moment_sums_body)(x, n, 1, out);
    else GL_FN(moment_sums_body)(x, n, 0, out);
}

GL_TARGET static double GL_FN(squared_norm)(const float *x, ptrdiff_t n) {
    double squares = 0;
    ptrdiff_t i = 0;
    while (i + 8 <= n) {
        ptrdiff_t start = i, end = GL_FN(block_end)(i, n);
        glf8 q0 = GL_FN(splat)(0.0f), q1 = q0;
        for (; i + 16 <= end; i += 16) {
            glf8 v = GL_FN(load)(x + i), w = GL_FN(load)(x + i + 8);
            q0 += v * v;
            q1 += w * w;
        }
        if (i < end) {
            glf8 v = GL_FN(load)(x + i);
            q0 += v * v;
            i += 8;
        }
        squares = GL_FN(add_block_squares)(q0 + q1, x + start, end - start, squares);
    }
    for (; i < n; i++) squares += (double)x[i] * (double)x[i];
    return squares;
}

GL_TARGET static ptrdiff_t GL_FN(saturated_count)(const float *y, ptrdiff_t n, int sigmoid, float limit) {
    gli8 counts = (gli8){0, 0, 0, 0, 0, 0, 0, 0};
    glf8 one = GL_FN(splat)(1.0f), lim = GL_FN(splat)(limit);
    ptrdiff_t i = 0, count = 0;
    if (sigmoid) {
        for (; i + 8 <= n; i += 8) {
            glf8 v = GL_FN(load)(y + i);
            counts -= (v * (one - v) < lim);
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            glf8 v = GL_FN(load)(y + i);
            counts -= (one - v * v < lim);
        }
    }
    for (int l = 0; l < 8; l++) count += counts[l];
    for (; i < n; i++) {
        float v = y[i];
        if ((sigmoid ? v * (1.0f - v) : 1.0f - v * v) < limit) count++;
    }
    return count;
}

/// `gl_dead_unit_count` for `vectors` ≤ GL_DEAD_VECTORS vectors per stripe (see Kernels.c).
GL_TARGET static ptrdiff_t GL_FN(dead_unit_count)(const float *p, ptrdiff_t rows, ptrdiff_t units, ptrdiff_t vectors) {
    // A stripe of `vectors` vectors holds lcm(8, units) elements: element e of every stripe
    // belongs to unit e mod units, so lane l of accumulator k always sees unit (8k + l) mod units.
    gli8 seen[GL_DEAD_VECTORS];
    const gli8 all = (gli8){-1, -1, -1, -1, -1, -1, -1, -1};
    for (ptrdiff_t k = 0; k < vectors; k++) seen[k] = (gli8){0, 0, 0, 0, 0, 0, 0, 0};
    const ptrdiff_t total = rows * units, stripe = 8 * vectors, stripes = total / stripe;
    const glf8 zero = GL_FN(splat)(0.0f);
    for (ptrdiff_t s = 0; s < stripes; s++) {
        const float *q = p + s * stripe;
        // A lane is nonzero unless the value == 0 (so −0 is zero and a NaN is nonzero).
        for (ptrdiff_t k = 0; k < vectors; k++) seen[k] |= ~(GL_FN(load)(q + 8 * k) == zero);
        if (s % 8 == 7 || s == stripes - 1) {
            gli8 every = all;
            for (ptrdiff_t k = 0; k < vectors; k++) every &= seen[k];
            int done = 1;
            for (int l = 0; l < 8; l++) done &= every[l] == -1;
            if (done) return 0; // every lane, so every unit, has been nonzero
        }
    }
    unsigned char live[8 * GL_DEAD_VECTORS];
    for (ptrdiff_t u = 0; u < units; u++) live[u] = 0;
    for (ptrdiff_t k = 0; k < vectors; k++)
        for (int l = 0; l < 8; l++)
            if (seen[k][l]) live[(8 * k + l) % units] = 1;
    for (ptrdiff_t e = stripes * stripe; e < total; e++)
        if (p[e] != 0) live[e % units] = 1;
    ptrdiff_t dead = 0;
    for (ptrdiff_t u = 0; u < units; u++) dead += !live[u];
    return dead;
}

// MARK: - Adam

/// One element of the Adam/AdamW update, in GradOptim's order (PyTorch's).
#define GL_ADAM_STEP(P, G, M, V, SQRT)                                          \
    do {                                                                        \
        if (decoupled) P = P * factor;                                          \
        if (coupled) G = G + decay * P;                                         \
        M = M + b1 * (G - M);                                                   \
        V = V * b2 + omb2 * G * G;                                              \
        P = P + step * (M / (SQRT(V) / corr + eps));                            \
    } while (0)

#define GL_SQRT8(x) __builtin_elementwise_sqrt(x)

/// The update of `n` elements; `coupled`, `decoupled` and `measure` are constants after
/// inlining, so each combination gets its own loop without branches. Measuring, each chunk of
/// GL_SQUARES_CHUNK elements keeps its old values on the stack and sums `(new − old)²` and
/// `old²` in Float lanes as it goes, as `sum_squares` does (a chunk whose lanes overflow is
/// summed again from the kept old values and the new ones).
GL_INLINE void GL_FN(adam_body)(float *value, const float *grad, float *exp_avg, float *exp_avg_sq, ptrdiff_t n,
                                const struct gl_adam_factors *f, int coupled, int decoupled, int measure,
                                double *squared_step, double *squared_weight) {
    const float decay_s = f->coupled_decay, factor_s = f->decoupled_factor, b1_s = f->one_minus_beta1;
    const float b2_s = f->beta2, omb2_s = f->one_minus_beta2, corr_s = f->bias_correction2_sqrt;
    const float eps_s = f->epsilon, step_s = f->negative_step_size;
    glf8 decay = GL_FN(splat)(decay_s), factor = GL_FN(splat)(factor_s), b1 = GL_FN(splat)(b1_s);
    glf8 b2 = GL_FN(splat)(b2_s), omb2 = GL_FN(splat)(omb2_s), corr = GL_FN(splat)(corr_s);
    glf8 eps = GL_FN(splat)(eps_s), step = GL_FN(splat)(step_s);
    float kept[GL_SQUARES_CHUNK];
    double ss = 0, ws = 0;
    ptrdiff_t i = 0;
    while (i + 8 <= n) {
        ptrdiff_t end = i + GL_SQUARES_CHUNK <= n ? i + GL_SQUARES_CHUNK : n - n % 8, start = i;
        glf8 steps = GL_FN(splat)(0.0f), weights = steps;
        for (; i < end; i += 8) {
            glf8 old = GL_FN(load)(value + i), p = old;
            glf8 g = GL_FN(load)(grad + i), m = GL_FN(load)(exp_avg + i), v = GL_FN(load)(exp_avg_sq + i);
            GL_ADAM_STEP(p, g, m, v, GL_SQRT8);
            GL_FN(store)(exp_avg + i, m);
            GL_FN(store)(exp_avg_sq + i, v);
            GL_FN(store)(value + i, p);
            if (measure) {
                glf8 d = p - old;
                GL_FN(store)(kept + (i - start), old);
                steps += d * d;
                weights += old * old;
            }
        }
        if (measure) {
            ss += GL_FN(chunk_step_squares)(steps, value + start, kept, end - start);
            ws += GL_FN(chunk_squares)(weights, kept, end - start);
        }
    }
    for (; i < n; i++) {
        float old = value[i], p = old, g = grad[i], m = exp_avg[i], v = exp_avg_sq[i];
        float decay = decay_s, factor = factor_s, b1 = b1_s, b2 = b2_s, omb2 = omb2_s, corr = corr_s, eps = eps_s, step = step_s;
        GL_ADAM_STEP(p, g, m, v, __builtin_sqrtf);
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        value[i] = p;
        if (measure) {
            float d = p - old;
            ss += (double)d * (double)d;
            ws += (double)old * (double)old;
        }
    }
    if (measure) {
        *squared_step = ss;
        *squared_weight = ws;
    }
}

GL_TARGET static void GL_FN(adam)(float *value, const float *grad, float *exp_avg, float *exp_avg_sq, ptrdiff_t n,
                                  const struct gl_adam_factors *f, double *squared_step, double *squared_weight) {
    int coupled = f->coupled_decay != 0, decoupled = f->decoupled_factor != 1, measure = squared_step != 0;
    switch (coupled | decoupled << 1 | measure << 2) {
#define GL_ADAM_CASE(k) \
    case k: GL_FN(adam_body)(value, grad, exp_avg, exp_avg_sq, n, f, (k) & 1, ((k) >> 1) & 1, ((k) >> 2) & 1, squared_step, squared_weight); break;
    GL_ADAM_CASE(0) GL_ADAM_CASE(1) GL_ADAM_CASE(2) GL_ADAM_CASE(3)
    GL_ADAM_CASE(4) GL_ADAM_CASE(5) GL_ADAM_CASE(6) GL_ADAM_CASE(7)
#undef GL_ADAM_CASE
    }
}

#undef GL_ADAM_STEP
#undef GL_SQRT8

// MARK: - Batch normalization over the rows of [rows, channels]

/// Channel sums for `4·Q` channels starting at `c0` (`Q` at most 4), over every row, in Double;
/// each channel's terms added in row order from +0 (the `Q` accumulators are independent chains,
/// so the adds of a row overlap). The term is `x` (`mode` 0), `(x − center)²` (1) or `x·other`
/// (2); with `plain`, `Σ x` too. `mode`, `plain` and `Q` are constants after inlining.
GL_INLINE void GL_FN(channel_sums_block)(const float *x, const float *other, const double *center, ptrdiff_t rows,
                                          ptrdiff_t channels, ptrdiff_t c0, int Q, int mode, int plain,
                                          double *sums, double *plain_sums) {
    gld4 acc[4], pacc[4], mu[4];
    for (int q = 0; q < Q; q++) {
        acc[q] = (gld4){0, 0, 0, 0};
        pacc[q] = acc[q];
        mu[q] = acc[q];
        if (mode == 1) __builtin_memcpy(&mu[q], center + c0 + 4 * q, sizeof mu[q]);
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
        for (int q = 0; q < Q; q++) {
            glf4 v;
            __builtin_memcpy(&v, x + r * channels + c0 + 4 * q, sizeof v);
            gld4 t = __builtin_convertvector(v, gld4);
            if (plain) pacc[q] += t;
            if (mode == 1) {
                t -= mu[q];
                t = t * t;
            } else if (mode == 2) {
                glf4 w;
                __builtin_memcpy(&w, other + r * channels + c0 + 4 * q, sizeof w);
                t = t * __builtin_convertvector(w, gld4);
            }
            acc[q] += t;
        }
    }
    for (int q = 0; q < Q; q++) {
        __builtin_memcpy(sums + c0 + 4 * q, &acc[q], sizeof acc[q]);
        if (plain) __builtin_memcpy(plain_sums + c0 + 4 * q, &pacc[q], sizeof pacc[q]);
    }
}

GL_INLINE void GL_FN(channel_sums_body)(const float *x, const float *other, const double *center, ptrdiff_t rows,
                                         ptrdiff_t channels, int mode, int plain, double *sums, double *plain_sums) {
    ptrdiff_t c = 0;
    for (; c + 16 <= channels; c += 16) GL_FN(channel_sums_block)(x, other, center, rows, channels, c, 4, mode, plain, sums, plain_sums);
    for (; c + 4 <= channels; c += 4) GL_FN(channel_sums_block)(x, other, center, rows, channels, c, 1, mode, plain, sums, plain_sums);
    for (; c < channels; c++) {
        double acc = 0, pacc = 0;
        for (ptrdiff_t r = 0; r < rows; r++) {
            double t = (double)x[r * channels + c];
            if (plain) pacc += t;
            if (mode == 1) {
                t -= center[c];
                t = t * t;
            } else if (mode == 2) {
                t = t * (double)other[r * channels + c];
            }
            acc += t;
        }
        sums[c] = acc;
        if (plain) plain_sums[c] = pacc;
    }
}

GL_TARGET static void GL_FN(channel_sums)(const float *x, const float *other, const double *center, ptrdiff_t rows,
                                           ptrdiff_t channels, double *sums, double *plain_sums) {
    int mode = center ? 1 : other ? 2 : 0;
    switch (mode | (plain_sums != 0) << 2) {
#define GL_SUMS_CASE(k) \
    case k: GL_FN(channel_sums_body)(x, other, center, rows, channels, (k) & 3, (k) >> 2, sums, plain_sums); break;
    GL_SUMS_CASE(0) GL_SUMS_CASE(1) GL_SUMS_CASE(2) GL_SUMS_CASE(4) GL_SUMS_CASE(5) GL_SUMS_CASE(6)
#undef GL_SUMS_CASE
    }
}

GL_TARGET static void GL_FN(channel_normalize)(const float *x, ptrdiff_t rows, ptrdiff_t channels, const float *mean,
                                                const float *inv_std, const float *weight, const float *bias,
                                                float *normalized, float *y) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * channels;
        float *yr = y + r * channels, *nr = normalized ? normalized + r * channels : 0;
        ptrdiff_t c = 0;
        for (; c + 8 <= channels; c += 8) {
            glf8 n = (GL_FN(load)(xr + c) - GL_FN(load)(mean + c)) * GL_FN(load)(inv_std + c);
            if (nr) GL_FN(store)(nr + c, n);
            GL_FN(store)(yr + c, n * GL_FN(load)(weight + c) + GL_FN(load)(bias + c));
        }
        for (; c < channels; c++) {
            float n = (xr[c] - mean[c]) * inv_std[c];
            if (nr) nr[c] = n;
            yr[c] = n * weight[c] + bias[c];
        }
    }
}

GL_TARGET static void GL_FN(channel_normalize_gradient)(const float *dy, const float *normalized, ptrdiff_t rows,
                                                         ptrdiff_t channels, float scale, const float *factor,
                                                         const float *dy_sums, const float *dyn_sums, float *dx) {
    glf8 s = GL_FN(splat)(scale);
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *dr = dy + r * channels, *nr = normalized + r * channels;
        float *xr = dx + r * channels;
        ptrdiff_t c = 0;
        for (; c + 8 <= channels; c += 8) {
            glf8 t = s * GL_FN(load)(dr + c) - GL_FN(load)(dy_sums + c) - GL_FN(load)(nr + c) * GL_FN(load)(dyn_sums + c);
            GL_FN(store)(xr + c, GL_FN(load)(factor + c) * t);
        }
        for (; c < channels; c++) xr[c] = factor[c] * (scale * dr[c] - dy_sums[c] - nr[c] * dyn_sums[c]);
    }
}

#undef GL_INLINE
