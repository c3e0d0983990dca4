import GradKernels

/// The C vector kernels of small layers and of `exp`, `sigmoid`, `tanh`, `silu` and `relu`
/// (module `GradKernels`), compiled for the baseline target and, on x86-64, also for AVX2;
/// the AVX2 build runs when the CPU and the operating system support it.
///
/// `exp`, `sigmoid`, `tanh` and `silu` of `Float` tensors use Cephes' `expf`/`tanhf` range
/// reductions and polynomials (within 2 ulp of the correctly rounded results over the whole
/// range): scalar `expf` costs ~4 ns a call, more than the whole arithmetic of a small
/// network's step.
///
/// Both builds do the same IEEE operations in the same order on every element (AVX2 only
/// processes more lanes per instruction; neither uses fused multiply-adds), so a result does
/// not depend on the machine. `GRADLAB_SIMD=baseline` in the environment starts a process on
/// the baseline build.
public enum VectorKernels {
    /// An instruction set the kernels are compiled for.
    public enum InstructionSet: String, Sendable, CaseIterable {
        /// The target's baseline: SSE2 on x86-64, NEON on arm64.
        case baseline
        /// AVX2 without FMA (x86-64).
        case avx2
    }

    /// The instruction set in use; setting one the CPU lacks selects `.baseline`.
    /// Benchmarks and tests switch it to compare the builds on the same data.
    public static var instructionSet: InstructionSet {
        get { gl_current_isa() == Int32(GL_ISA_AVX2.rawValue) ? .avx2 : .baseline }
        set { gl_set_isa(newValue == .avx2 ? Int32(GL_ISA_AVX2.rawValue) : Int32(GL_ISA_BASELINE.rawValue)) }
    }

    /// The best instruction set this CPU supports.
    public static var bestInstructionSet: InstructionSet {
        gl_best_isa() == Int32(GL_ISA_AVX2.rawValue) ? .avx2 : .baseline
    }
}

/// The C kernel's code for a Float elementwise op, or nil when it has none.
@inline(__always)
func vectorUnaryCode(_ op: UnaryOp<Float>) -> Int32? {
    switch op {
    case .relu: Int32(GL_UNARY_RELU.rawValue)
    case .sigmoid: Int32(GL_UNARY_SIGMOID.rawValue)
    case .tanh: Int32(GL_UNARY_TANH.rawValue)
    case .exp: Int32(GL_UNARY_EXP.rawValue)
    case .silu: Int32(GL_UNARY_SILU.rawValue)
    default: nil
    }
}

/// `y = op(x)` on the vector kernels; false when `op` has none.
@inline(__always)
func vectorUnary(_ op: UnaryOp<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
    guard let code = vectorUnaryCode(op) else { return false }
    return gl_unary(code, x, y, n) != 0
}

/// `dx = dy · op'(x)` on the vector kernels; false when `op` has no vector derivative.
@inline(__always)
func vectorUnaryGradient(
    _ op: UnaryOp<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
    _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int
) -> Bool {
    guard let code = vectorUnaryCode(op), op != .silu else { return false }
    return gl_unary_gradient(code, x, y, dy, dx, n) != 0
}
