#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Recurrent layers (Elman RNN, LSTM, GRU) over a whole sequence, as one recorded op per layer.
//
// Unrolled into primitive ops, one LSTM layer over 100 steps records more than a thousand graph
// nodes, each with its closure and its small tensors. Here the input projection of all steps
// is one matrix product (`[T·B, in] · [in, G·H]`), each step is one `[B, H] · [H, G·H]` product
// followed by one fused pass over the gates, and the pullback walks the sequence backwards
// once (backpropagation through time), leaving the weight gradients to three large products
// over all steps: `dW_ih = dGᵀ·X`, `dW_hh = Σ_t dG_tᵀ·h_{t−1}`, `dX = dG·W_ih`.
//
// Measured with OpenBLAS 0.3.21 on a Zen 1 core (LSTM, B = 32, H = 128, T = 100; CPU time):
// products with a wide right-hand side run 1.4–3× faster than their transposes, so the weights
// are used transposed (`[in, G·H]` and `[H, G·H]`, copied once per forward pass: a step's
// `h·W_hhᵀ` takes 0.15 ms instead of 0.22 ms, its `dG·W_hh` 0.16 ms instead of 0.28 ms) and
// the weight gradients are computed transposed (`dW_hhᵀ = Hᵀ·dG`: 12 ms instead of 40 ms) and
// turned back. The products are then about 3/4 of an LSTM step. An LSTM runs one sigmoid pass
// over all four gates of a step, the g block doubled, since tanh(g) = 2σ(2g) − 1, and adds its
// bias in that pass; the large buffers come from a pool, since fresh pages cost a fault each on
// first touch.
//
// Several results (the output sequence, `h_n`, `c_n`) come from one computation. Each is a
// recorded op on a one-element "anchor" tensor that stands for the layer: their pullbacks hand
// their gradient to the anchor's pullback (which runs after them, since the anchor is their
// input) and return a zero gradient for it. Results the loss does not use get no gradient,
// which the layer's pullback treats as zero.

/// The cell of a recurrent layer, with PyTorch's equations and gate order.
///
/// With `x` the input at one step, `h` the previous hidden state and `c` the previous cell state:
/// - `rnnTanh`, `rnnReLU`: `h' = φ(W_ih·x + b_ih + W_hh·h + b_hh)` with φ = tanh or ReLU.
/// - `lstm` (gates i, f, g, o): `i = σ(·)`, `f = σ(·)`, `g = tanh(·)`, `o = σ(·)` of
///   `W_i*·x + b_i* + W_h*·h + b_h*`; `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
/// - `gru` (gates r, z, n): `r = σ(W_ir·x + b_ir + W_hr·h + b_hr)`, `z` alike,
///   `n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
public enum RecurrentCell: String, Sendable, CaseIterable {
    case rnnTanh = "rnn_tanh"
    case rnnReLU = "rnn_relu"
    case lstm
    case gru

    /// The number of gate blocks stacked in the weights: 1 (RNN), 4 (LSTM), 3 (GRU).
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnReLU: 1
        case .lstm: 4
        case .gru: 3
        }
    }

    /// Whether the cell carries a cell state `c` besides `h` (LSTM only).
    public var hasCellState: Bool { self == .lstm }
}

/// What `recurrentLayer` returns: the hidden state at every step and the final states.
public struct RecurrentLayerOutput<Scalar: TensorScalar> {
    /// `h_t` for every step: `[T, B, H]`, or `[B, T, H]` batch-first.
    public var output: Tensor<Scalar>
    /// The final hidden state `h_T`, `[B, H]`.
    public var hidden: Tensor<Scalar>
    /// The final cell state `c_T`, `[B, H]` (LSTM), or nil.
    public var cell: Tensor<Scalar>?
}

/// One recurrent layer run over a whole sequence, as one op: the same values and gradients as
/// applying the cell step by step (backpropagation through the whole sequence).
///
/// Shapes: `input` `[T, B, in]` (`[B, T, in]` with `batchFirst`); `weightIH` `[G·H, in]`,
/// `weightHH` `[G·H, H]`, biases `[G·H]` or nil, with `G = cell.gateCount` blocks in PyTorch's
/// order (i, f, g, o for LSTM; r, z, n for GRU); `initialHidden` and `initialCell` `[B, H]` or nil
/// (zeros). Every result is recorded; gradients flow to the input, the weights, the biases and
/// the initial states from any of the results the loss uses.
/// - Parameters:
///   - input: the sequence.
///   - cell: the cell's equations (see `RecurrentCell`).
///   - weightIH: `W_ih`, the input-to-hidden weights.
///   - weightHH: `W_hh`, the hidden-to-hidden weights.
///   - biasIH: `b_ih`, or nil.
///   - biasHH: `b_hh`, or nil.
///   - initialHidden: `h_0`, or nil for zeros.
///   - initialCell: `c_0` (LSTM only), or nil for zeros.
///   - batchFirst: whether the batch axis comes before the time axis (input and output).
///   - hiddenGradientNorms: called during `backward()` with `‖∂L/∂h_t‖` (Frobenius norm over the
///     batch) for `t = 0 ..< T`: the gradient with respect to each step's hidden state, from
///     the output at that step and from the steps after it (and from `h_T`'s own use).
public func recurrentLayer<T: TensorScalar>(
    _ input: Tensor<T>, cell: RecurrentCell, weightIH: Tensor<T>, weightHH: Tensor<T>,
    biasIH: Tensor<T>?, biasHH: Tensor<T>?, initialHidden: Tensor<T>? = nil, initialCell: Tensor<T>? = nil,
    batchFirst: Bool = false, hiddenGradientNorms: (([Double]) -> Void)? = nil
) -> RecurrentLayerOutput<T> {
    // Layers call this from generic code; run a body compiled for the element type (see `Specialization.swift`).
    if T.self == Float.self {
        let r = recurrentBody(
            asFloat(input), cell: cell, weightIH: asFloat(weightIH), weightHH: asFloat(weightHH),
            biasIH: biasIH.map(asFloat), biasHH: biasHH.map(asFloat), initialHidden: initialHidden.map(asFloat),
            initialCell: initialCell.map(asFloat), batchFirst: batchFirst, hiddenGradientNorms: hiddenGradientNorms)
        return unsafeBitCast(r, to: RecurrentLayerOutput<T>.self)
    }
    if T.self == Double.self {
        let r = recurrentBody(
            recurrentAsDouble(input), cell: cell, weightIH: recurrentAsDouble(weightIH), weightHH: recurrentAsDouble(weightHH),
            biasIH: biasIH.map(recurrentAsDouble), biasHH: biasHH.map(recurrentAsDouble),
            initialHidden: initialHidden.map(recurrentAsDouble), initialCell: initialCell.map(recurrentAsDouble),
            batchFirst: batchFirst, hiddenGradientNorms: hiddenGradientNorms)
        return unsafeBitCast(r, to: RecurrentLayerOutput<T>.self)
    }
    return recurrentBody(input, cell: cell, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                         initialHidden: initialHidden, initialCell: initialCell, batchFirst: batchFirst,
                         hiddenGradientNorms: hiddenGradientNorms)
}

// MARK: - Helpers

@inline(__always)
private func recurrentAsDouble<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<Double> {
    assert(T.self == Double.self)
    return unsafeBitCast(x, to: Tensor<Double>.self)
}

/// The gradients the layer's results received, collected for the layer's pullback.
private final class RecurrentResultGradients<T: TensorScalar> {
    var output: Tensor<T>?
    var hidden: Tensor<T>?
    var cell: Tensor<T>?
}

/// Large work buffers of recurrent layers, kept for reuse across training steps.
///
/// A step allocates the same buffers every time (several MB for an LSTM of 128 units over 100
/// steps), and memory fresh from the system costs a page fault and a page clear per 4 KiB on
/// first touch: about a tenth of the step. Buffers come back when the layer's saved state is
/// freed (with its graph) and nothing else holds them; the pool keeps at most `capacity` bytes,
/// dropping the oldest buffers first.
private final class RecurrentBufferPool: @unchecked Sendable {
    private struct Entry {
        let type: ObjectIdentifier
        let count: Int
        let bytes: Int
        let storage: AnyObject
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var entries: [Entry] = []
    private var bytes = 0
    private let capacity = 128 << 20
    /// Buffers smaller than this come from the allocator (which keeps them itself).
    private let minimumBytes = 64 << 10

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    /// A buffer of exactly `count` elements, reused when one is free.
    func take<T: TensorScalar>(_ count: Int, _: T.Type = T.self) -> TensorStorage<T> {
        if count * MemoryLayout<T>.stride >= minimumBytes {
            let type = ObjectIdentifier(T.self)
            pthread_mutex_lock(mutex)
            if let i = entries.lastIndex(where: { $0.type == type && $0.count == count }) {
                let entry = entries.remove(at: i)
                bytes -= entry.bytes
                pthread_mutex_unlock(mutex)
                return unsafeDowncast(entry.storage, to: TensorStorage<T>.self)
            }
            pthread_mutex_unlock(mutex)
        }
        return TensorStorage(uninitializedCount: count)
    }

    /// Keeps `storage` for reuse; the caller must hold the only reference.
    func give<T: TensorScalar>(_ storage: TensorStorage<T>) {
        let size = storage.count * MemoryLayout<T>.stride
        guard size >= minimumBytes && size <= capacity else { return }
        pthread_mutex_lock(mutex)
        entries.append(Entry(type: ObjectIdentifier(T.self), count: storage.count, bytes: size, storage: storage))
        bytes += size
        var dropped = 0
        while bytes > capacity {
            bytes -= entries[dropped].bytes
            dropped += 1
        }
        entries.removeFirst(dropped)
        pthread_mutex_unlock(mutex)
    }
}

private let recurrentBufferPool = RecurrentBufferPool()

/// Buffers taken from the pool, given back when this object goes (those nothing else holds).
private final class RecurrentBuffers<T: TensorScalar> {
    private var storages: [TensorStorage<T>] = []

    /// `count` uninitialized elements on a pooled buffer, valid while this object lives.
    func make(_ count: Int) -> UnsafeMutablePointer<T> {
        let storage = recurrentBufferPool.take(count, T.self)
        storages.append(storage)
        return storage.pointer
    }

    /// The buffer `make` returned last.
    var lastStorage: TensorStorage<T> { storages[storages.count - 1] }

    /// Gives the buffers back now (those nothing else holds).
    func release() {
        for i in storages.indices where isKnownUniquelyReferenced(&storages[i]) { recurrentBufferPool.give(storages[i]) }
        storages = []
    }

    deinit { release() }
}

/// What the forward pass keeps for the pullback: pointers into its pooled buffers (which
/// return to the pool when the graph is freed, unless the output still shares one) and the
/// tensors it needs besides.
private final class RecurrentSaved<T: TensorScalar> {
    let buffers: RecurrentBuffers<T>
    /// Tensors kept alive for the pointers below: the input and the transposed weights.
    let kept: [Tensor<T>]
    /// The input in time-major order, `[T·B, in]`.
    let xs: UnsafeMutablePointer<T>
    /// `W_ihᵀ`, `[in, G·H]`, and `W_hhᵀ`, `[H, G·H]`.
    let weightIHT: UnsafeMutablePointer<T>
    let weightHHT: UnsafeMutablePointer<T>
    /// The gate activations of every step, `[T·B, G·H]` (for an RNN, the hidden states).
    let gates: UnsafeMutablePointer<T>
    /// The hidden state of every step, time-major `[T·B, H]`.
    let hidden: UnsafeMutablePointer<T>
    /// LSTM: `c_t` and `tanh(c_t)`; GRU: `W_hn·h_{t−1} + b_hn`; each `[T·B, H]`.
    var cells: UnsafeMutablePointer<T>?
    var tanhCells: UnsafeMutablePointer<T>?
    var hiddenN: UnsafeMutablePointer<T>?

    init(buffers: RecurrentBuffers<T>, kept: [Tensor<T>], xs: UnsafeMutablePointer<T>, weightIHT: UnsafeMutablePointer<T>,
         weightHHT: UnsafeMutablePointer<T>, gates: UnsafeMutablePointer<T>, hidden: UnsafeMutablePointer<T>) {
        self.buffers = buffers
        self.kept = kept
        self.xs = xs
        self.weightIHT = weightIHT
        self.weightHHT = weightHHT
        self.gates = gates
        self.hidden = hidden
    }
}

/// Eight lanes from `p + j`, the lanes past `n` zero (the tail of a row).
@inline(__always)
private func lanes<T: TensorScalar>(_ p: UnsafePointer<T>, _ j: Int, _ n: Int) -> SIMD8<T> {
    if j + 8 <= n { return UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<T>.self) }
    var v = SIMD8<T>()
    for k in 0..<(n - j) { v[k] = p[j + k] }
    return v
}

/// Stores the lanes of `v` that fall before `n` at `p + j`.
@inline(__always)
private func store<T: TensorScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>, _ j: Int, _ n: Int) {
    if j + 8 <= n {
        UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: SIMD8<T>.self)
    } else {
        for k in 0..<(n - j) { p[j + k] = v[k] }
    }
}

/// `[a, b, width] → [b, a, width]` (swaps the time and batch axes), row by row, into `out`.
private func swapLeadingAxes<T: TensorScalar>(
    _ source: UnsafePointer<T>, _ a: Int, _ b: Int, _ width: Int, into out: UnsafeMutablePointer<T>
) {
    for i in 0..<a {
        for j in 0..<b {
            (out + (j * a + i) * width).update(from: source + (i * b + j) * width, count: width)
        }
    }
}

/// `[a, b, width] → [b, a, width]` as a new tensor.
private func swapLeadingAxes<T: TensorScalar>(_ source: UnsafePointer<T>, _ a: Int, _ b: Int, _ width: Int) -> Tensor<T> {
    let out = Tensor<T>(uninitializedShape: [b, a, width])
    swapLeadingAxes(source, a, b, width, into: out.storage.pointer)
    return out
}

/// The transpose of a row-major `[rows, columns]` matrix into `out` (`[columns, rows]`), in tiles.
private func transpose<T: TensorScalar>(_ p: UnsafePointer<T>, rows: Int, columns: Int, into out: UnsafeMutablePointer<T>) {
    let tile = 32
    for r0 in stride(from: 0, to: rows, by: tile) {
        for c0 in stride(from: 0, to: columns, by: tile) {
            for r in r0..<Swift.min(r0 + tile, rows) {
                for c in c0..<Swift.min(c0 + tile, columns) { out[c * rows + r] = p[r * columns + c] }
            }
        }
    }
}

/// `[rows, columns]` column sums, `[columns]`.
private func columnSums<T: TensorScalar>(_ p: UnsafePointer<T>, rows: Int, columns: Int) -> Tensor<T> {
    let out = Tensor<T>(shape: [columns], repeating: 0)
    for r in 0..<rows { T.kernelAxpy(1, p + r * columns, out.storage.pointer, columns) }
    return out
}

/// A copy of `count` elements as a tensor of `shape`.
private func tensorCopy<T: TensorScalar>(_ p: UnsafePointer<T>, _ shape: [Int]) -> Tensor<T> {
    let out = Tensor<T>(uninitializedShape: shape)
    out.storage.pointer.update(from: p, count: out.count)
    return out
}

// MARK: - Body

func recurrentBody<T: TensorScalar>(
    _ x: Tensor<T>, cell: RecurrentCell, weightIH: Tensor<T>, weightHH: Tensor<T>, biasIH: Tensor<T>?, biasHH: Tensor<T>?,
    initialHidden: Tensor<T>?, initialCell: Tensor<T>?, batchFirst: Bool, hiddenGradientNorms: (([Double]) -> Void)?
) -> RecurrentLayerOutput<T> {
    let name = "recurrentLayer(\(cell.rawValue))"
    precondition(x.rank == 3,
                 "\(name): input must be \(batchFirst ? "[B, T, in]" : "[T, B, in]"), got shape \(x.shape)")
    let gateCount = cell.gateCount
    precondition(weightHH.rank == 2 && weightHH.shape[0] == gateCount * weightHH.shape[1] && weightHH.shape[1] > 0,
                 "\(name): weight_hh must be [\(gateCount)·H, H], got shape \(weightHH.shape)")
    let hidden = weightHH.shape[1], gates = gateCount * hidden
    let steps = batchFirst ? x.shape[1] : x.shape[0], batch = batchFirst ? x.shape[0] : x.shape[1]
    let inSize = x.shape[2]
    precondition(weightIH.rank == 2 && weightIH.shape[0] == gates,
                 "\(name): weight_ih shape \(weightIH.shape) does not fit weight_hh shape \(weightHH.shape) (expected [\(gates), in])")
    precondition(weightIH.shape[1] == inSize,
                 "\(name): input shape \(x.shape) does not fit weight_ih shape \(weightIH.shape) (expected last dimension \(weightIH.shape[1]))")
    precondition(steps > 0 && batch > 0 && inSize > 0, "\(name): input shape \(x.shape) has an empty axis")
    for (label, bias) in [("bias_ih", biasIH), ("bias_hh", biasHH)] {
        if let bias { precondition(bias.shape == [gates], "\(name): \(label) shape \(bias.shape), expected [\(gates)]") }
    }
    if let h0 = initialHidden {
        precondition(h0.shape == [batch, hidden],
                     "\(name): initial hidden state shape \(h0.shape) does not fit input shape \(x.shape) (expected [\(batch), \(hidden)])")
    }
    if let c0 = initialCell {
        precondition(cell.hasCellState, "\(name): only an LSTM has a cell state, got one of shape \(c0.shape)")
        precondition(c0.shape == [batch, hidden],
                     "\(name): initial cell state shape \(c0.shape) does not fit input shape \(x.shape) (expected [\(batch), \(hidden)])")
    }

    let rows = steps * batch, stepSize = batch * hidden
    let buffers = RecurrentBuffers<T>()
    // The input in time-major order, `[T·B, in]`, and the transposed weights.
    let xs: UnsafeMutablePointer<T>
    if batchFirst {
        xs = buffers.make(rows * inSize)
        swapLeadingAxes(x.storage.pointer, batch, steps, inSize, into: xs)
    } else {
        xs = x.storage.pointer
    }
    let weightIHT = Tensor<T>(uninitializedShape: [inSize, gates]), weightHHT = Tensor<T>(uninitializedShape: [hidden, gates])
    transpose(weightIH.storage.pointer, rows: gates, columns: inSize, into: weightIHT.storage.pointer)
    transpose(weightHH.storage.pointer, rows: gates, columns: hidden, into: weightHHT.storage.pointer)
    let whhT = UnsafePointer(weightHHT.storage.pointer)
    // Zeros standing for an absent initial state.
    let zeros = Tensor<T>(shape: [batch, hidden], repeating: 0)
    let h0p = UnsafePointer((initialHidden ?? zeros).storage.pointer)
    let c0p = UnsafePointer((initialCell ?? zeros).storage.pointer)

    // Pre-activations of every step: `X·W_ihᵀ + b` (both biases for RNN and LSTM, `b_ih` for
    // GRU, whose `b_hn` sits inside `r ⊙ (·)`); the steps overwrite them with the gate activations.
    let pp = buffers.make(rows * gates)
    var rowBias: [T]? = nil
    if cell == .gru {
        rowBias = biasIH?.scalars
    } else if biasIH != nil || biasHH != nil {
        let a = biasIH?.scalars ?? [T](repeating: 0, count: gates), b = biasHH?.scalars ?? [T](repeating: 0, count: gates)
        rowBias = (0..<gates).map { a[$0] + b[$0] }
    }
    // An LSTM adds its bias in the pass over each step's gates (while they are in cache); the
    // others start from it.
    let biasInStep = cell == .lstm
    let rowBiasTensor = rowBias.map { Tensor<T>(shape: [gates], scalars: $0) }
    if let rowBias, !biasInStep {
        rowBias.withUnsafeBufferPointer { b in
            for r in 0..<rows { (pp + r * gates).update(from: b.baseAddress!, count: gates) }
        }
    }
    T.kernelGemm(transposeA: false, transposeB: false, m: rows, n: gates, k: inSize, alpha: 1,
                 xs, lda: inSize, weightIHT.storage.pointer, ldb: gates,
                 beta: rowBias == nil || biasInStep ? 0 : 1, pp, ldc: gates)

    // The hidden state of every step, time-major `[T·B, H]` (the pre-activations themselves for an RNN).
    let hsp = gateCount == 1 ? pp : buffers.make(rows * hidden)
    let hiddenStorage = buffers.lastStorage
    /// `h_{t−1}` for step `t`.
    func previousHidden(_ t: Int) -> UnsafePointer<T> { t == 0 ? h0p : UnsafePointer(hsp + (t - 1) * stepSize) }
    let hasInitialHidden = initialHidden != nil
    let saved = RecurrentSaved(buffers: buffers, kept: [x, weightIHT, weightHHT, zeros], xs: xs, weightIHT: weightIHT.storage.pointer,
                               weightHHT: weightHHT.storage.pointer, gates: pp, hidden: hsp)

    switch cell {
    case .rnnTanh, .rnnReLU:
        let op: UnaryOp<T> = cell == .rnnTanh ? .tanh : .relu
        for t in 0..<steps {
            let y = pp + t * stepSize
            if t > 0 || hasInitialHidden {
                T.kernelGemm(transposeA: false, transposeB: false, m: batch, n: hidden, k: hidden, alpha: 1,
                             previousHidden(t), lda: hidden, whhT, ldb: gates, beta: 1, y, ldc: hidden)
            }
            T.kernelUnary(op, y, y, stepSize)
        }
    case .lstm:
        let csp = buffers.make(rows * hidden), tcp = buffers.make(rows * hidden)
        let hasInitialCell = initialCell != nil
        for t in 0..<steps {
            let g = pp + t * batch * gates
            if t > 0 || hasInitialHidden {
                T.kernelGemm(transposeA: false, transposeB: false, m: batch, n: gates, k: hidden, alpha: 1,
                             previousHidden(t), lda: hidden, whhT, ldb: gates, beta: 1, g, ldc: gates)
            }
            let c = csp + t * stepSize, tc = tcp + t * stepSize, h = hsp + t * stepSize
            let cPrev = t == 0 ? c0p : UnsafePointer(csp + (t - 1) * stepSize)
            // The bias, and one sigmoid pass over all gates: with the g block doubled,
            // tanh(g) = 2σ(2g) − 1.
            for b in 0..<batch {
                let row = g + b * gates, gg = row + 2 * hidden
                if let bias = rowBiasTensor?.storage.pointer {
                    var j = 0
                    while j < gates {
                        store(lanes(row, j, gates) + lanes(bias, j, gates), row, j, gates)
                        j += 8
                    }
                }
                var j = 0
                while j < hidden {
                    store(lanes(gg, j, hidden) * 2, gg, j, hidden)
                    j += 8
                }
            }
            T.kernelUnary(.sigmoid, g, g, batch * gates)
            let withPrevious = t > 0 || hasInitialCell
            for b in 0..<batch {
                let gi = g + b * gates, gf = gi + hidden, gg = gi + 2 * hidden
                let cb = c + b * hidden, cp = cPrev + b * hidden
                var j = 0
                while j < hidden {
                    let i = lanes(gi, j, hidden), f = lanes(gf, j, hidden), s = lanes(gg, j, hidden)
                    let gv = 2 * s - 1
                    store(gv, gg, j, hidden)
                    let cv = withPrevious ? f * lanes(cp, j, hidden) + i * gv : i * gv
                    store(cv, cb, j, hidden)
                    j += 8
                }
            }
            T.kernelUnary(.tanh, c, tc, stepSize)
            for b in 0..<batch {
                let go = g + b * gates + 3 * hidden, tcb = tc + b * hidden, hb = h + b * hidden
                var j = 0
                while j < hidden {
                    store(lanes(go, j, hidden) * lanes(tcb, j, hidden), hb, j, hidden)
                    j += 8
                }
            }
        }
        saved.cells = csp
        saved.tanhCells = tcp
    case .gru:
        let hnp = buffers.make(rows * hidden)
        let sp = buffers.make(batch * gates)
        let bhh = biasHH?.scalars
        for t in 0..<steps {
            // `W_hh·h + b_hh` for this step.
            if let bhh {
                bhh.withUnsafeBufferPointer { b in
                    for r in 0..<batch { (sp + r * gates).update(from: b.baseAddress!, count: gates) }
                }
            }
            if t > 0 || hasInitialHidden {
                T.kernelGemm(transposeA: false, transposeB: false, m: batch, n: gates, k: hidden, alpha: 1,
                             previousHidden(t), lda: hidden, whhT, ldb: gates, beta: bhh == nil ? 0 : 1, sp, ldc: gates)
            } else if bhh == nil {
                sp.update(repeating: 0, count: batch * gates)
            }
            let g = pp + t * batch * gates, hPrev = previousHidden(t)
            for b in 0..<batch {
                let row = g + b * gates, s = sp + b * gates
                var j = 0
                while j < 2 * hidden {
                    store(lanes(row, j, 2 * hidden) + lanes(s, j, 2 * hidden), row, j, 2 * hidden)
                    j += 8
                }
                T.kernelUnary(.sigmoid, row, row, 2 * hidden)
                let hnb = hnp + (t * batch + b) * hidden, n = row + 2 * hidden, sn = s + 2 * hidden
                (hnb).update(from: sn, count: hidden)
                j = 0
                while j < hidden {
                    store(lanes(n, j, hidden) + lanes(row, j, hidden) * lanes(sn, j, hidden), n, j, hidden)
                    j += 8
                }
                T.kernelUnary(.tanh, n, n, hidden)
                let z = row + hidden, h = hsp + (t * batch + b) * hidden, hp = hPrev + b * hidden
                // As PyTorch: h' = n + z ⊙ (h − n).
                j = 0
                while j < hidden {
                    let nv = lanes(n, j, hidden)
                    store(nv + lanes(z, j, hidden) * (lanes(hp, j, hidden) - nv), h, j, hidden)
                    j += 8
                }
            }
        }
        saved.hiddenN = hnp
    }

    // Time-major, the output is the saved hidden states themselves (then not returned to the pool).
    var output = batchFirst ? swapLeadingAxes(hsp, steps, batch, hidden) : Tensor(shape: [steps, batch, hidden], storage: hiddenStorage)
    var finalHidden = tensorCopy(hsp + (steps - 1) * stepSize, [batch, hidden])
    var finalCell = saved.cells.map { tensorCopy($0 + (steps - 1) * stepSize, [batch, hidden]) }

    // The pointers above point into buffers that `saved` owns: keep it until here.
    withExtendedLifetime(saved) {}

    var inputs: [Tensor<T>] = [x, weightIH, weightHH]
    if let biasIH { inputs.append(biasIH) }
    if let biasHH { inputs.append(biasHH) }
    if let initialHidden { inputs.append(initialHidden) }
    if let initialCell { inputs.append(initialCell) }
    guard Tensor.needsRecording(inputs) else {
        return RecurrentLayerOutput(output: output, hidden: finalHidden, cell: finalCell)
    }
    let received = RecurrentResultGradients<T>()
    let inputShape = x.shape
    let xNeedsGradient = x.node != nil, weightIHNeedsGradient = weightIH.node != nil
    let weightHHNeedsGradient = weightHH.node != nil, h0NeedsGradient = initialHidden?.node != nil
    let biasIHNeedsGradient = biasIH?.node != nil, biasHHNeedsGradient = biasHH?.node != nil
    let hasBiasIH = biasIH != nil, hasBiasHH = biasHH != nil
    var anchor = Tensor<T>(shape: [1], repeating: 0)
    anchor.record(cell.rawValue, inputs: inputs) { _ in
        let dOutput = received.output, dHidden = received.hidden, dCell = received.cell
        received.output = nil; received.hidden = nil; received.cell = nil
        let pp = saved.gates, hsp = saved.hidden, whhT = saved.weightHHT
        let h0p = UnsafePointer((initialHidden ?? zeros).storage.pointer)
        func previousHidden(_ t: Int) -> UnsafePointer<T> { t == 0 ? h0p : UnsafePointer(hsp + (t - 1) * stepSize) }

        // The running gradient with respect to h_t (and c_t), from the results and later steps.
        let dh = dHidden.map { tensorCopy($0.storage.pointer, [batch, hidden]) } ?? Tensor<T>(shape: [batch, hidden], repeating: 0)
        let dhp = dh.storage.pointer
        let dc = dCell.map { tensorCopy($0.storage.pointer, [batch, hidden]) } ?? Tensor<T>(shape: [batch, hidden], repeating: 0)
        let dcp = dc.storage.pointer
        let work = RecurrentBuffers<T>()
        defer { work.release() }
        // The output's gradient in time-major order.
        var dys: UnsafeMutablePointer<T>? = dOutput?.storage.pointer
        if batchFirst, let d = dOutput {
            dys = work.make(rows * hidden)
            swapLeadingAxes(d.storage.pointer, batch, steps, hidden, into: dys!)
        }
        var norms = hiddenGradientNorms == nil ? nil : [Double](repeating: 0, count: steps)
        // Gradients with respect to the pre-activations: of `W_ih·x` terms (dGx) and of `W_hh·h`
        // terms (dGh); the same for RNN and LSTM, and for GRU all but the n block (`r ⊙ ·`).
        // The LSTM sums the bias gradient during the sweep; the others afterwards.
        let biasGradient = cell == .lstm && (biasIHNeedsGradient || biasHHNeedsGradient)
            ? Tensor<T>(shape: [gates], repeating: 0) : nil
        let dgx = work.make(rows * gates)
        let dgh = cell == .gru ? work.make(rows * gates) : dgx

        for t in stride(from: steps - 1, through: 0, by: -1) {
            if let dys { T.kernelAxpy(1, dys + t * stepSize, dhp, stepSize) }
            if norms != nil { norms![t] = T.kernelSumOfSquares(dhp, stepSize).squareRoot() }
            let needsPrevious = t > 0 || h0NeedsGradient
            switch cell {
            case .rnnTanh, .rnnReLU:
                let y = UnsafePointer(pp + t * stepSize), d = dgx + t * stepSize
                var k = 0
                while k < stepSize {
                    let yv = lanes(y, k, stepSize), dhv = lanes(dhp, k, stepSize)
                    let dv = cell == .rnnTanh ? dhv * (1 - yv * yv) : dhv.replacing(with: 0, where: yv .<= 0)
                    store(dv, d, k, stepSize)
                    k += 8
                }
                if needsPrevious {
                    T.kernelGemm(transposeA: false, transposeB: true, m: batch, n: hidden, k: gates, alpha: 1,
                                 d, lda: gates, whhT, ldb: gates, beta: 0, dhp, ldc: hidden)
                }
            case .lstm:
                let csp = saved.cells!, tcp = saved.tanhCells!, db = biasGradient?.storage.pointer
                let c0p = UnsafePointer((initialCell ?? zeros).storage.pointer)
                let cPrev = t == 0 ? c0p : UnsafePointer(csp + (t - 1) * stepSize)
                for b in 0..<batch {
                    let a = UnsafePointer(pp + (t * batch + b) * gates), d = dgx + (t * batch + b) * gates
                    let tc = UnsafePointer(tcp + t * stepSize + b * hidden), cp = cPrev + b * hidden
                    let dhb = dhp + b * hidden, dcb = dcp + b * hidden
                    var j = 0
                    while j < hidden {
                        let i = lanes(a, j, hidden), f = lanes(a + hidden, j, hidden)
                        let g = lanes(a + 2 * hidden, j, hidden), o = lanes(a + 3 * hidden, j, hidden)
                        let tcv = lanes(tc, j, hidden), dhv = lanes(dhb, j, hidden)
                        let dcv = lanes(dcb, j, hidden) + dhv * o * (1 - tcv * tcv)
                        let di = dcv * g * i * (1 - i), df = dcv * lanes(cp, j, hidden) * f * (1 - f)
                        let dg = dcv * i * (1 - g * g), dov = dhv * tcv * o * (1 - o)
                        store(di, d, j, hidden)
                        store(df, d + hidden, j, hidden)
                        store(dg, d + 2 * hidden, j, hidden)
                        store(dov, d + 3 * hidden, j, hidden)
                        store(dcv * f, dcb, j, hidden)
                        if let db {
                            // The bias gradient, summed while the gates are in cache.
                            store(lanes(db, j, hidden) + di, db, j, hidden)
                            store(lanes(db + hidden, j, hidden) + df, db + hidden, j, hidden)
                            store(lanes(db + 2 * hidden, j, hidden) + dg, db + 2 * hidden, j, hidden)
                            store(lanes(db + 3 * hidden, j, hidden) + dov, db + 3 * hidden, j, hidden)
                        }
                        j += 8
                    }
                }
                if needsPrevious {
                    T.kernelGemm(transposeA: false, transposeB: true, m: batch, n: hidden, k: gates, alpha: 1,
                                 dgx + t * batch * gates, lda: gates, whhT, ldb: gates, beta: 0, dhp, ldc: hidden)
                }
            case .gru:
                let hnp = saved.hiddenN!, hPrev = previousHidden(t)
                for b in 0..<batch {
                    let a = UnsafePointer(pp + (t * batch + b) * gates)
                    let dx = dgx + (t * batch + b) * gates, dhh = dgh + (t * batch + b) * gates
                    let hn = UnsafePointer(hnp + (t * batch + b) * hidden), hp = hPrev + b * hidden
                    let dhb = dhp + b * hidden
                    var j = 0
                    while j < hidden {
                        let r = lanes(a, j, hidden), z = lanes(a + hidden, j, hidden), n = lanes(a + 2 * hidden, j, hidden)
                        let dhv = lanes(dhb, j, hidden)
                        let dan = dhv * (1 - z) * (1 - n * n)
                        let daz = dhv * (lanes(hp, j, hidden) - n) * z * (1 - z)
                        let dar = dan * lanes(hn, j, hidden) * r * (1 - r)
                        store(dar, dx, j, hidden); store(daz, dx + hidden, j, hidden); store(dan, dx + 2 * hidden, j, hidden)
                        store(dar, dhh, j, hidden); store(daz, dhh + hidden, j, hidden); store(dan * r, dhh + 2 * hidden, j, hidden)
                        store(dhv * z, dhb, j, hidden)
                        j += 8
                    }
                }
                if needsPrevious {
                    T.kernelGemm(transposeA: false, transposeB: true, m: batch, n: hidden, k: gates, alpha: 1,
                                 dgh + t * batch * gates, lda: gates, whhT, ldb: gates, beta: 1, dhp, ldc: hidden)
                }
            }
        }
        if let norms { hiddenGradientNorms?(norms) }

        var grads: [Tensor<T>?] = []
        // Input: dX = dGx·W_ih, back in the caller's layout.
        if xNeedsGradient {
            let dx = Tensor<T>(uninitializedShape: inputShape)
            let target = batchFirst ? work.make(rows * inSize) : dx.storage.pointer
            T.kernelGemm(transposeA: false, transposeB: true, m: rows, n: inSize, k: gates, alpha: 1,
                         dgx, lda: gates, saved.weightIHT, ldb: gates, beta: 0, target, ldc: inSize)
            if batchFirst { swapLeadingAxes(target, steps, batch, inSize, into: dx.storage.pointer) }
            grads.append(dx)
        } else {
            grads.append(nil)
        }
        // dW_ih = (Xᵀ·dGx)ᵀ over all steps.
        if weightIHNeedsGradient {
            let dwT = Tensor<T>(uninitializedShape: [inSize, gates]), dw = Tensor<T>(uninitializedShape: [gates, inSize])
            T.kernelGemm(transposeA: true, transposeB: false, m: inSize, n: gates, k: rows, alpha: 1,
                         saved.xs, lda: inSize, dgx, ldb: gates, beta: 0, dwT.storage.pointer, ldc: gates)
            transpose(dwT.storage.pointer, rows: inSize, columns: gates, into: dw.storage.pointer)
            grads.append(dw)
        } else {
            grads.append(nil)
        }
        // dW_hh = (Σ_t h_{t−1}ᵀ·dGh_t)ᵀ: steps 1... against h_0..h_{T−2} in one product, step 0 against h_0.
        if weightHHNeedsGradient {
            let dwT = Tensor<T>(shape: [hidden, gates], repeating: 0), dw = Tensor<T>(uninitializedShape: [gates, hidden])
            if steps > 1 {
                T.kernelGemm(transposeA: true, transposeB: false, m: hidden, n: gates, k: (steps - 1) * batch, alpha: 1,
                             hsp, lda: hidden, dgh + batch * gates, ldb: gates, beta: 0, dwT.storage.pointer, ldc: gates)
            }
            if hasInitialHidden {
                T.kernelGemm(transposeA: true, transposeB: false, m: hidden, n: gates, k: batch, alpha: 1,
                             h0p, lda: hidden, dgh, ldb: gates, beta: 1, dwT.storage.pointer, ldc: gates)
            }
            transpose(dwT.storage.pointer, rows: hidden, columns: gates, into: dw.storage.pointer)
            grads.append(dw)
        } else {
            grads.append(nil)
        }
        // RNN and LSTM: db_ih = db_hh = Σ dG; GRU: db_ih = Σ dGx, db_hh = Σ dGh.
        let dBiasX = biasIHNeedsGradient || (cell != .gru && biasHHNeedsGradient)
            ? biasGradient ?? columnSums(dgx, rows: rows, columns: gates) : nil
        if hasBiasIH { grads.append(biasIHNeedsGradient ? dBiasX : nil) }
        if hasBiasHH {
            if !biasHHNeedsGradient {
                grads.append(nil)
            } else if cell == .gru {
                grads.append(columnSums(dgh, rows: rows, columns: gates))
            } else {
                grads.append(biasIHNeedsGradient ? tensorCopy(dBiasX!.storage.pointer, [gates]) : dBiasX)
            }
        }
        if let initialHidden { grads.append(initialHidden.node == nil ? nil : dh) }
        if let initialCell { grads.append(initialCell.node == nil ? nil : dc) }
        // `dys` may point into the output's gradient: keep it until here.
        withExtendedLifetime(dOutput) {}
        return grads
    }

    // The results, each handing its gradient to the anchor's pullback.
    let anchorGradient = Tensor<T>(shape: [1], repeating: 0)
    output.record("\(cell.rawValue)Output", inputs: [anchor]) { g in
        received.output = g
        return [anchorGradient]
    }
    finalHidden.record("\(cell.rawValue)Hidden", inputs: [anchor]) { g in
        received.hidden = g
        return [anchorGradient]
    }
    if finalCell != nil {
        finalCell!.record("\(cell.rawValue)Cell", inputs: [anchor]) { g in
            received.cell = g
            return [anchorGradient]
        }
    }
    return RecurrentLayerOutput(output: output, hidden: finalHidden, cell: finalCell)
}
