// Dispatch of the kernels in KernelsBody.h between the baseline build and the AVX2 build.

#include "GradKernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Every multiply and add is rounded on its own, as in the Swift kernels: no contraction into
// fused multiply-adds behind our back (GL_MADD says where one is wanted).
#pragma STDC FP_CONTRACT OFF

// The baseline build's helpers take and return 8-lane vectors, which clang warns would be
// passed differently with AVX enabled; they are static (never called across builds or from
// outside this file), so the calling convention is this file's own choice.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float glf8 __attribute__((vector_size(32)));
typedef int32_t gli8 __attribute__((vector_size(32)));
typedef uint32_t glu8 __attribute__((vector_size(32)));
typedef double gld4 __attribute__((vector_size(32)));
typedef float glf4 __attribute__((vector_size(16)));
// Elementwise functions run on vectors of GL_ELEMENTWISE_LANES lanes.
#define GL_ELEMENTWISE_LANES 16
typedef float glfE __attribute__((vector_size(64)));
typedef int32_t gliE __attribute__((vector_size(64)));
typedef uint32_t gluE __attribute__((vector_size(64)));

// `acc + a·b` in the gemm kernels: fused on arm64, where GradTensor's Swift gemm fuses too
// (so the two agree bit for bit), a separate multiply and add elsewhere.
#if defined(__aarch64__) || defined(__arm64__)
#define GL_MADD(acc, a, b) __builtin_elementwise_fma((a), (b), (acc))
#else
#define GL_MADD(acc, a, b) ((acc) + (a) * (b))
#endif

// Most vectors per stripe of `gl_dead_unit_count` (wider layers are walked column by column).
#define GL_DEAD_VECTORS 128

// Elements per chunk of `gl_sum_squares` and of the measured Adam step (a multiple of 8).
#define GL_SQUARES_CHUNK 128

// MARK: - Baseline build

#define GL_TARGET
#define GL_FN(name) gl_##name##_baseline
#define GL_AFFINE_BB 1
#define GL_WGRAD_IB 2
#include "KernelsBody.h"
#undef GL_TARGET
#undef GL_FN
#undef GL_AFFINE_BB
#undef GL_WGRAD_IB

// MARK: - AVX2 build (no FMA: the same roundings as the baseline)

#if defined(__x86_64__)
#define GL_HAS_AVX2_BUILD 1
#define GL_TARGET __attribute__((target("avx2")))
#define GL_FN(name) gl_##name##_avx2
#define GL_AFFINE_BB 2
#define GL_WGRAD_IB 5
#include "KernelsBody.h"
#undef GL_TARGET
#undef GL_FN
#undef GL_AFFINE_BB
#undef GL_WGRAD_IB

#include <cpuid.h>

/// AVX and AVX2 in the CPU (CPUID.1:ECX bit 28, CPUID.7.0:EBX bit 5) and the vector
/// registers saved by the OS (OSXSAVE, XCR0 bits 1 and 2).
static int gl_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 6u) != 6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;
}
#else
#define GL_HAS_AVX2_BUILD 0
static int gl_cpu_has_avx2(void) { return 0; }
#endif

// MARK: - Choice of instruction set

static int gl_isa_in_use = -1;

int gl_best_isa(void) { return gl_cpu_has_avx2() ? GL_ISA_AVX2 : GL_ISA_BASELINE; }

/// The best instruction set, or the baseline when GRADLAB_SIMD is "baseline" (or "sse2").
static int gl_initial_isa(void) {
    const char *setting = getenv("GRADLAB_SIMD");
    if (setting && (strcmp(setting, "baseline") == 0 || strcmp(setting, "sse2") == 0)) return GL_ISA_BASELINE;
    return gl_best_isa();
}

int gl_current_isa(void) {
    int isa = __atomic_load_n(&gl_isa_in_use, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = gl_initial_isa();
        __atomic_store_n(&gl_isa_in_use, isa, __ATOMIC_RELAXED);
    }
    return isa;
}

int gl_set_isa(int isa) {
    int chosen = (isa == GL_ISA_AVX2 && gl_best_isa() == GL_ISA_AVX2) ? GL_ISA_AVX2 : GL_ISA_BASELINE;
    __atomic_store_n(&gl_isa_in_use, chosen, __ATOMIC_RELAXED);
    return chosen;
}

#if GL_HAS_AVX2_BUILD
#define GL_DISPATCH(name, ...)                                                    \
    do {                                                                          \
        if (gl_current_isa() == GL_ISA_AVX2) gl_##name##_avx2(__VA_ARGS__);        \
        else gl_##name##_baseline(__VA_ARGS__);                                   \
    } while (0)
#else
#define GL_DISPATCH(name, ...) gl_##name##_baseline(__VA_ARGS__)
#endif

// MARK: - Entry points

void gl_affine_fm(const float *ws, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                  const float *x, float *z, float *relu_y, ptrdiff_t outs, ptrdiff_t depth, ptrdiff_t ld) {
    if (outs <= 0 || ld <= 0) return;
    if (!z && relu_y) GL_DISPATCH(affine_relu_only_fm, ws, w_row, w_col, bias, x, relu_y, outs, depth, ld);
    else GL_DISPATCH(affine_fm, ws, w_row, w_col, bias, x, z, relu_y, outs, depth, ld);
}

void gl_splat(const float *w, ptrdiff_t count, float *splatted) {
    for (ptrdiff_t i = 0; i < count; i++) {
        float v = w[i];
        for (int l = 0; l < GL_LANES; l++) splatted[i * GL_LANES + l] = v;
    }
}

void gl_weight_gradient_fm(const float *dz, const float *x, float *dw, float *db,
                           ptrdiff_t outs, ptrdiff_t ins, ptrdiff_t ld, ptrdiff_t rows) {
    if (outs <= 0) return;
    GL_DISPATCH(weight_gradient_fm, dz, x, dw, db, outs, ins, ld, rows);
}

int gl_unary(int op, const float *x, float *y, ptrdiff_t n) {
    if (op < GL_UNARY_RELU || op > GL_UNARY_SILU) return 0;
    if (n > 0) GL_DISPATCH(unary, op, x, y, n);
    return 1;
}

int gl_unary_gradient(int op, const float *x, const float *y, const float *dy, float *dx, ptrdiff_t n) {
    if (op < GL_UNARY_RELU || op > GL_UNARY_EXP) return 0;
    if (n > 0) GL_DISPATCH(unary_gradient, op, x, y, dy, dx, n);
    return 1;
}

void gl_transpose(const float *src, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t src_ld,
                  float *dst, ptrdiff_t dst_ld) {
    if (rows <= 0 || cols <= 0) return;
    if (cols == 1) {
        for (ptrdiff_t r = 0; r < rows; r++) dst[r] = src[r * src_ld];
        return;
    }
    if (rows == 1) {
        for (ptrdiff_t c = 0; c < cols; c++) dst[c * dst_ld] = src[c];
        return;
    }
    GL_DISPATCH(transpose, src, rows, cols, src_ld, dst, dst_ld);
}

void gl_adam(float *value, const float *grad, float *exp_avg, float *exp_avg_sq, ptrdiff_t n,
             const struct gl_adam_factors *factors, double *squared_step, double *squared_weight) {
    if (squared_step) *squared_step = 0;
    if (squared_weight) *squared_weight = 0;
    if (n <= 0) return;
    if (!squared_weight) squared_step = 0;
    GL_DISPATCH(adam, value, grad, exp_avg, exp_avg_sq, n, factors, squared_step, squared_weight);
}

double gl_sum_squares(const float *x, ptrdiff_t n, double acc) {
    if (n <= 0) return acc;
#if GL_HAS_AVX2_BUILD
    if (gl_current_isa() == GL_ISA_AVX2) return gl_sum_squares_avx2(x, n, acc);
#endif
    return gl_sum_squares_baseline(x, n, acc);
}

void gl_channel_sums(const float *x, const float *other, const double *center, ptrdiff_t rows, ptrdiff_t channels,
                     double *sums, double *plain_sums) {
    if (channels <= 0) return;
    GL_DISPATCH(channel_sums, x, other, center, rows, channels, sums, plain_sums);
}

void gl_channel_normalize(const float *x, ptrdiff_t rows, ptrdiff_t channels, const float *mean, const float *inv_std,
                          const float *weight, const float *bias, float *normalized, float *y) {
    if (rows <= 0 || channels <= 0) return;
    GL_DISPATCH(channel_normalize, x, rows, channels, mean, inv_std, weight, bias, normalized, y);
}

void gl_channel_normalize_gradient(const float *dy, const float *normalized, ptrdiff_t rows, ptrdiff_t channels,
                                   float scale, const float *factor, const float *dy_sums, const float *dyn_sums,
                                   float *dx) {
    if (rows <= 0 || channels <= 0) return;
    GL_DISPATCH(channel_normalize_gradient, dy, normalized, rows, channels, scale, factor, dy_sums, dyn_sums, dx);
}

void gl_moment_sums(const float *x, ptrdiff_t n, int extremes, struct gl_moment_sums *out) {
    GL_DISPATCH(moment_sums, x, n < 0 ? 0 : n, extremes, out);
}

double gl_squared_norm(const float *x, ptrdiff_t n) {
    if (n <= 0) return 0;
#if GL_HAS_AVX2_BUILD
    if (gl_current_isa() == GL_ISA_AVX2) return gl_squared_norm_avx2(x, n);
#endif
    return gl_squared_norm_baseline(x, n);
}

ptrdiff_t gl_saturated_count(const float *y, ptrdiff_t n, int sigmoid, float limit) {
    if (n <= 0) return 0;
#if GL_HAS_AVX2_BUILD
    if (gl_current_isa() == GL_ISA_AVX2) return gl_saturated_count_avx2(y, n, sigmoid, limit);
#endif
    return gl_saturated_count_baseline(y, n, sigmoid, limit);
}

ptrdiff_t gl_dead_unit_count(const float *p, ptrdiff_t rows, ptrdiff_t units) {
    if (rows <= 0 || units <= 0) return units > 0 ? units : 0;
    ptrdiff_t a = units, b = 8;
    while (b) { ptrdiff_t t = a % b; a = b; b = t; }
    ptrdiff_t vectors = units / a; // lcm(8, units) / 8
    if (vectors <= GL_DEAD_VECTORS) {
#if GL_HAS_AVX2_BUILD
        if (gl_current_isa() == GL_ISA_AVX2) return gl_dead_unit_count_avx2(p, rows, units, vectors);
#endif
        return gl_dead_unit_count_baseline(p, rows, units, vectors);
    }
    // Column by column, each read down until its first nonzero value.
    ptrdiff_t dead = 0;
    for (ptrdiff_t u = 0; u < units; u++) {
        ptrdiff_t r = 0;
        while (r < rows && p[r * units + u] == 0) r++;
        dead += r == rows;
    }
    return dead;
}

// MARK: - The heap

int gl_configure_heap(void) {
#if defined(__GLIBC__)
    if (getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_")) return 0;
    return mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
#else
    return 0;
#endif
}
