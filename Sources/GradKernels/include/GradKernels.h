// Vector kernels for small layers, in C so that each can be compiled twice: once for the
// baseline target (SSE2 on x86-64, NEON on arm64) and once with AVX2 enabled, picked at run
// time from the CPU's feature bits. Both versions do the same IEEE operations in the same
// order on every element (AVX2 only processes more lanes per instruction, and no FMA is used
// where the Swift kernels do not use one), so results do not depend on the machine.
//
// "Feature-major" (FM) arrays hold a `[features, rows]` matrix with a row stride `ld` that is
// a multiple of 8 (GL_LANES): element (feature f, row b) at `p[f * ld + b]`. Lanes from the
// number of rows up to `ld` are padding: kernels compute them but never let them reach an
// element of a real row.

#ifndef GRADKERNELS_H
#define GRADKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Lanes of one vector of the kernels; feature-major strides are multiples of it.
#define GL_LANES 8

/// The instruction sets the kernels are compiled for.
enum gl_isa {
    /// The target's baseline (SSE2 on x86-64).
    GL_ISA_BASELINE = 0,
    /// AVX2 without FMA (x86-64 only), when the CPU and the operating system support it.
    GL_ISA_AVX2 = 1,
};

/// The elementwise functions with a vector kernel (their formulas are GradTensor's `UnaryOp`).
enum gl_unary {
    GL_UNARY_RELU = 1,
    GL_UNARY_SIGMOID = 2,
    GL_UNARY_TANH = 3,
    GL_UNARY_EXP = 4,
    GL_UNARY_SILU = 5,
};

/// The best instruction set this CPU supports (GL_ISA_AVX2 or GL_ISA_BASELINE).
int gl_best_isa(void);

/// The instruction set the kernels use now (the best one unless `gl_set_isa` chose another).
int gl_current_isa(void);

/// Uses `isa` if this CPU supports it, else the baseline; returns the instruction set in use.
int gl_set_isa(int isa);

/// `splatted[8i + l] = w[i]` for `i < count`, `l < 8`: the weights as `gl_affine_fm` reads them.
void gl_splat(const float *w, ptrdiff_t count, float *splatted);

/// `z[o·ld + b] = Σ_{k<depth} w(o, k) · x[k·ld + b]`, plus `bias[o]` after the sum when `bias`
/// is not NULL, for `o < outs` and every lane `b < ld` (`ld` a multiple of 8), where
/// `w(o, k)` is the weight at index `o·w_row + k·w_col` of the array that `gl_splat` made
/// `ws` from (each weight repeated eight times, so the kernel loads rather than broadcasts).
///
/// Each sum runs over `k` in increasing order from +0, one rounded multiply and one rounded
/// add per term (a fused multiply-add on arm64, as GradTensor's Swift gemm there), so every
/// element is bit-identical to the row-major Swift gemm of the same product. `w_row = depth,
/// w_col = 1` reads a `[outs, depth]` weight (forward: `zᵀ = W·xᵀ`); `w_row = 1, w_col = outs`
/// reads its transpose (input gradient: `dxᵀ = Wᵀ·dzᵀ`). When `relu_y` is not NULL it also
/// receives `relu(z)` (`z > 0 || z ≠ z ? z : +0`), in the same layout; `z` may then be NULL,
/// to store `relu(z)` only. Neither output may overlap `x`.
void gl_affine_fm(const float *ws, ptrdiff_t w_row, ptrdiff_t w_col, const float *bias,
                  const float *x, float *z, float *relu_y, ptrdiff_t outs, ptrdiff_t depth, ptrdiff_t ld);

/// `dw[o·ins + i] = Σ_{b<rows} dz[o·ld + b] · x[i·ld + b]` and, when `db` is not NULL,
/// `db[o] = Σ_{b<rows} dz[o·ld + b]`, for feature-major `dz` (`[outs, ld]`) and `x`
/// (`[ins, ld]`); padding lanes do not contribute.
///
/// Order: eight partial sums, lane `j` adding the terms of rows `b ≡ j (mod 8)` in increasing
/// order, then `((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))`.
void gl_weight_gradient_fm(const float *dz, const float *x, float *dw, float *db,
                           ptrdiff_t outs, ptrdiff_t ins, ptrdiff_t ld, ptrdiff_t rows);

/// `y[i] = f(x[i])` for `i < n` (`x == y` allowed), `f` one of `enum gl_unary`.
/// Returns 0 (and writes nothing) for an unknown `op`.
int gl_unary(int op, const float *x, float *y, ptrdiff_t n);

/// `dx[i] = dy[i] · f'(x[i])` for `i < n`, with `y = f(x)` the forward output, for the ops
/// whose derivative is a product with `dy` (relu: `x > 0 ? 1 : 0`, sigmoid: `y(1 − y)`,
/// tanh: `1 − y²`, exp: `y`); `dx` may be `dy`. Returns 0 (and writes nothing) for an op
/// without a vector gradient.
int gl_unary_gradient(int op, const float *x, const float *y, const float *dy, float *dx, ptrdiff_t n);

/// `dst[c·dst_ld + r] = src[r·src_ld + c]` for `r < rows`, `c < cols`.
void gl_transpose(const float *src, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t src_ld,
                  float *dst, ptrdiff_t dst_ld);

/// `acc + Σ x[i]²`, the sum of squares every update measurement and the monitor use for a
/// Float parameter, so that they agree bit for bit: over chunks of 128 elements from `x[0]`,
/// eight Float lanes (lane `i mod 8`) summed in order, the lanes then added in Double as
/// `((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))` and the chunk's sum added to `acc`; a
/// chunk whose lanes are not finite is summed in Double element by element instead; the last
/// `n mod 8` elements are added one by one in Double. Relative error about 1e-7. Calling it on
/// consecutive pieces whose lengths are multiples of 128, passing the sum on, gives the same
/// bits as one call on the whole.
double gl_sum_squares(const float *x, ptrdiff_t n, double acc);

/// The factors of one Adam/AdamW step (GradOptim's `adamStep` computes them in Double, as
/// PyTorch does in Python floats, then rounds them to Float).
struct gl_adam_factors {
    /// λ of Adam's L2 decay (0 for none, and for AdamW).
    float coupled_decay;
    /// `1 − η·λ` of AdamW's decoupled decay (1 for none, and for Adam).
    float decoupled_factor;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    /// `√(1 − β₂ᵗ)`.
    float bias_correction2_sqrt;
    float epsilon;
    /// `−η / (1 − β₁ᵗ)`.
    float negative_step_size;
};

/// One Adam/AdamW step of `n` Floats, element by element in PyTorch's order with every
/// operation rounded on its own (so every instruction set gives the same bits):
///
///     p = value·decoupled_factor (AdamW only);  g = grad + coupled_decay·p (Adam's decay only)
///     exp_avg    = exp_avg + one_minus_beta1·(g − exp_avg)
///     exp_avg_sq = exp_avg_sq·beta2 + one_minus_beta2·g·g
///     value      = p + negative_step_size·(exp_avg / (√exp_avg_sq / bias_correction2_sqrt + epsilon))
///
/// When `squared_step` and `squared_weight` are given, they receive `Σ (new − old)²` and
/// `Σ old²` over the values, measured in the same pass: `Σ old²` is `gl_sum_squares(old, n, 0)`
/// bit for bit, and `Σ (new − old)²` the same sum of the Float differences.
void gl_adam(float *value, const float *grad, float *exp_avg, float *exp_avg_sq, ptrdiff_t n,
             const struct gl_adam_factors *factors, double *squared_step, double *squared_weight);

// MARK: - Batch normalization of a [rows, channels] Float matrix (row-major, channels contiguous)

/// Per-channel sums over the rows, in Double, each channel's terms added in row order from +0
/// (GradTensor's Swift loop for `[N, C]` does the same, so both give the same bits):
/// `sums[c] = Σ_r t` with `t = x[r,c]` when `center` and `other` are NULL,
/// `t = (x[r,c] − center[c])²` when `center` is given (the difference taken in Double), and
/// `t = x[r,c]·other[r,c]` when `other` is given. With `plain_sums`, `plain_sums[c] = Σ_r x[r,c]`
/// in the same pass.
void gl_channel_sums(const float *x, const float *other, const double *center, ptrdiff_t rows, ptrdiff_t channels,
                     double *sums, double *plain_sums);

/// `n = (x[r,c] − mean[c])·inv_std[c]`, stored in `normalized` (when not NULL), and
/// `y[r,c] = n·weight[c] + bias[c]`; every operation rounded on its own.
void gl_channel_normalize(const float *x, ptrdiff_t rows, ptrdiff_t channels, const float *mean, const float *inv_std,
                          const float *weight, const float *bias, float *normalized, float *y);

/// Batch normalization's input gradient:
/// `dx[r,c] = factor[c]·(scale·dy[r,c] − dy_sums[c] − normalized[r,c]·dyn_sums[c])`, evaluated
/// left to right, every operation rounded on its own.
void gl_channel_normalize_gradient(const float *dy, const float *normalized, ptrdiff_t rows, ptrdiff_t channels,
                                   float scale, const float *factor, const float *dy_sums, const float *dyn_sums,
                                   float *dx);

// MARK: - The monitor's statistics (GradDoctor's loops, moved here to run on AVX2)
//
// Blocks of up to 1024 elements (whole vectors of 8) from `x[0]`; in each block, eight Float
// lanes (lane `i mod 8`) summed in order, the lanes then added left to right from −0 in Float
// and the block's total added in Double; a block whose `Σ x²` lanes do not add up to a finite
// Float is summed again in Double element by element; the last `n mod 8` elements are added
// one by one in Double.

/// What `gl_moment_sums` finds.
struct gl_moment_sums {
    /// `Σ x` and `Σ x²` (not finite when an element is not).
    double sum, squares;
    /// The largest |x| of the finite elements (NaNs are skipped), and the elements equal to 0
    /// (with `extremes` only; else 0).
    double max_abs;
    ptrdiff_t zeros;
};
/// `Σ x`, `Σ x²` and, when `extremes` is nonzero, the largest |x| and the number of zeros of
/// `x[0..<n]`, in one pass (the order above).
void gl_moment_sums(const float *x, ptrdiff_t n, int extremes, struct gl_moment_sums *out);
/// `Σ x²` of `x[0..<n]` in the order above, except that each block's lanes alternate between
/// two sets of eight (vectors 0, 2, 4, … and 1, 3, 5, …) added lane by lane at the block's end.
double gl_squared_norm(const float *x, ptrdiff_t n);
/// How many `y[i]` have `y(1 − y) < limit` (`sigmoid` nonzero) or `1 − y² < limit`, in Float.
ptrdiff_t gl_saturated_count(const float *y, ptrdiff_t n, int sigmoid, float limit);
/// How many of the `units` columns of a row-major `[rows, units]` matrix are 0 (`== 0`, so −0
/// too and a NaN not) in every row: a ReLU layer's dead units. Stops as soon as every unit
/// has been seen nonzero. All `units` when `rows` is 0.
ptrdiff_t gl_dead_unit_count(const float *p, ptrdiff_t rows, ptrdiff_t units);

// MARK: - The heap

/// Sets glibc's malloc up for a training loop, which frees and allocates the same tensors again
/// every step: keeps up to 256 MiB of freed heap instead of handing it back to the kernel
/// (default trim threshold 128 KiB; each step would fault in fresh zeroed pages), and serves
/// blocks up to 32 MiB from the heap (setting the trim threshold turns off glibc's adaptive mmap
/// threshold, under which such blocks would soon come from the heap anyway). Does nothing, and
/// returns 0, when the user set MALLOC_TRIM_THRESHOLD_ or MALLOC_MMAP_THRESHOLD_, or off glibc;
/// returns 1 when both settings took.
int gl_configure_heap(void);

#ifdef __cplusplus
}
#endif

#endif
