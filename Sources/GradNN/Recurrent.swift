import GradTensor

// What `RNN`, `LSTM` and `GRU` share: the state they carry, their per-layer parameters with
// PyTorch's names and initialization, the multi-layer run, and truncated backpropagation
// through time.

/// The state a recurrent network carries from one time step to the next: the hidden state of
/// every layer and, for an LSTM, the cell state (PyTorch's `h_n` and `(h_n, c_n)`).
public struct RecurrentState<Scalar: TensorScalar> {
    /// `h`, `[numLayers, B, H]`.
    public var hidden: Tensor<Scalar>
    /// `c`, `[numLayers, B, H]` for an LSTM; nil for RNN and GRU.
    public var cell: Tensor<Scalar>?

    /// A state from its tensors.
    /// - Parameters:
    ///   - hidden: `h`, `[numLayers, B, H]`.
    ///   - cell: `c`, `[numLayers, B, H]` (LSTM only).
    public init(hidden: Tensor<Scalar>, cell: Tensor<Scalar>? = nil) {
        self.hidden = hidden
        self.cell = cell
    }

    /// Zeros for `numLayers` layers, a batch of `batchSize` and `hiddenSize` units; with a cell
    /// state when `cell` is true.
    public static func zeros(numLayers: Int, batchSize: Int, hiddenSize: Int, cell: Bool) -> RecurrentState {
        let shape = [numLayers, batchSize, hiddenSize]
        return RecurrentState(hidden: .zeros(shape), cell: cell ? .zeros(shape) : nil)
    }

    /// The same values cut off from the autodiff graph: no gradient flows through them into
    /// the steps that produced them (the state carried between chunks in truncated BPTT).
    public func detached() -> RecurrentState {
        RecurrentState(hidden: hidden.detached(), cell: cell?.detached())
    }
}

/// The parameters of one layer `k` of a recurrent network, with PyTorch's shapes: `weight_ih_l{k}`
/// `[G·H, in]` (`in` is the input size for layer 0 and `H` above), `weight_hh_l{k}` `[G·H, H]`,
/// `bias_ih_l{k}` and `bias_hh_l{k}` `[G·H]`, with `G` gate blocks (1 RNN, 4 LSTM, 3 GRU).
public struct RecurrentLayerParameters<Scalar: TensorScalar> {
    /// `W_ih`, `[G·H, in]`.
    public let weightIH: Parameter<Scalar>
    /// `W_hh`, `[G·H, H]`.
    public let weightHH: Parameter<Scalar>
    /// `b_ih`, `[G·H]`, or nil without bias.
    public let biasIH: Parameter<Scalar>?
    /// `b_hh`, `[G·H]`, or nil without bias.
    public let biasHH: Parameter<Scalar>?
}

/// A multi-layer recurrent network over sequences: `RNN`, `LSTM` or `GRU`.
///
/// Input `[T, B, in]`, or `[B, T, in]` with `batchFirst`; `forward(_:)` returns the last
/// layer's hidden state at every step, `[T, B, H]` (`[B, T, H]`), and `run(_:initialState:)`
/// also the final state (PyTorch's `(output, h_n)`, or `(output, (h_n, c_n))` for an LSTM).
/// Each layer is one recorded op with a hand-written backpropagation through time (see
/// `recurrentLayer`).
public protocol RecurrentModule<Scalar>: Module {
    /// The cell's equations.
    var cell: RecurrentCell { get }
    /// Features of each input step.
    var inputSize: Int { get }
    /// Units `H` of each layer's hidden state.
    var hiddenSize: Int { get }
    /// Stacked layers; layer `k + 1` reads layer `k`'s output sequence.
    var numLayers: Int { get }
    /// Whether the batch axis comes first (`[B, T, ·]`) in the input and output.
    var batchFirst: Bool { get }
    /// Each layer's parameters, bottom first.
    var layers: [RecurrentLayerParameters<Scalar>] { get }
    /// When true, every backward pass through the network records `hiddenGradientNorms`.
    /// Setting it to true (again) empties `hiddenGradientNorms`, so that what is there after the
    /// next backward pass comes from that pass (the monitor sets it at each recorded step). It
    /// takes effect from the next forward pass.
    var recordsHiddenGradients: Bool { get set }
    /// `‖∂L/∂h_t‖` for each step `t` of the last forward pass (index `t`, `0 ..< T`): the norm
    /// (over the batch and the units) of the gradient with respect to the last layer's hidden
    /// state at step `t`, as accumulated by backpropagation through time, from the output at
    /// that step and from all later steps. Overwritten by each backward pass while
    /// `recordsHiddenGradients` is on (by each chunk's in truncated BPTT); empty before.
    var hiddenGradientNorms: [Double] { get }
    /// Runs the network over `input` from `initialState` (zeros when nil).
    ///
    /// - Parameters:
    ///   - input: `[T, B, in]`, or `[B, T, in]` with `batchFirst`.
    ///   - initialState: `h_0` (and `c_0` for an LSTM), `[numLayers, B, H]`; gradients flow to it.
    /// - Returns: the last layer's output at every step, `[T, B, H]` (`[B, T, H]`), and the
    ///   final state of every layer, `[numLayers, B, H]`.
    func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?) -> (output: Tensor<Scalar>, finalState: RecurrentState<Scalar>)
}

/// One chunk of a truncated-BPTT pass (see `RecurrentModule.runTruncated`).
public struct RecurrentChunk<Scalar: TensorScalar> {
    /// The chunk's position, from 0.
    public let index: Int
    /// The time steps of the whole sequence that this chunk covers.
    public let timeSteps: Range<Int>
    /// The chunk's part of the input (recorded: gradients flow back to the whole input).
    public let input: Tensor<Scalar>
    /// The network's output over the chunk, `[k, B, H]` (`[B, k, H]` batch-first).
    public let output: Tensor<Scalar>
    /// The state after the chunk, still attached to the chunk's graph (a loss may use it).
    public let finalState: RecurrentState<Scalar>
}

extension RecurrentModule {
    /// Runs the network from zeros and returns its output sequence; see `run(_:initialState:)`.
    public func run(_ input: Tensor<Scalar>) -> (output: Tensor<Scalar>, finalState: RecurrentState<Scalar>) {
        run(input, initialState: nil)
    }

    /// Truncated backpropagation through time (Williams & Peng 1990; TBPTT(k, k)): runs `input`
    /// in chunks of `chunkLength` steps, each chunk starting from the previous chunk's final
    /// state detached from the graph, and calls `body` with each chunk, in order.
    ///
    /// `body` computes the chunk's loss and calls `backward()` on it (and, typically, steps an
    /// optimizer); gradients then flow back through at most `chunkLength` steps, never across a
    /// chunk boundary. The first chunk starts from `initialState` as given (gradients reach it).
    /// With `chunkLength ≥ T` this is one ordinary run over the whole sequence. Each chunk's run
    /// calls the module's hooks, as `callAsFunction` does (so a `Monitor` sees every chunk).
    /// - Parameters:
    ///   - input: `[T, B, in]`, or `[B, T, in]` with `batchFirst`.
    ///   - chunkLength: steps per chunk `k` ≥ 1; the last chunk may be shorter.
    ///   - initialState: the state before the first step (zeros when nil).
    ///   - body: called once per chunk, in order.
    /// - Returns: the final state after the last chunk, detached.
    @discardableResult
    public func runTruncated(
        _ input: Tensor<Scalar>, chunkLength: Int, initialState: RecurrentState<Scalar>? = nil,
        _ body: (RecurrentChunk<Scalar>) throws -> Void
    ) rethrows -> RecurrentState<Scalar> {
        precondition(chunkLength >= 1, "runTruncated: chunk length must be at least 1, got \(chunkLength)")
        precondition(input.rank == 3, "runTruncated: input must be \(batchFirst ? "[B, T, in]" : "[T, B, in]"), got shape \(input.shape)")
        let timeAxis = batchFirst ? 1 : 0
        let steps = input.shape[timeAxis]
        var state = initialState
        var start = 0, index = 0
        repeat {
            let end = Swift.min(start + chunkLength, steps)
            let chunk = start == 0 && end == steps ? input : input.slice(axis: timeAxis, start..<end)
            let (rawOutput, finalState) = run(chunk, initialState: state)
            let output = hooks.isEmpty ? rawOutput : hooks.run(module: self, input: chunk, output: rawOutput)
            try body(RecurrentChunk(index: index, timeSteps: start..<end, input: chunk, output: output, finalState: finalState))
            state = finalState.detached()
            start = end
            index += 1
        } while start < steps
        return state!
    }
}

// MARK: - The shared implementation

/// What `RNN`, `LSTM` and `GRU` have in common as modules: each is a `RecurrentCore` (the
/// layers and the multi-layer run) with its own initializer, and this class forwards the
/// `RecurrentModule` requirements to it. Not made directly: use one of the three.
public class RecurrentNetwork<Scalar: TensorScalar>: RecurrentModule {
    let core: RecurrentCore<Scalar>
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    init(core: RecurrentCore<Scalar>) { self.core = core }

    public var cell: RecurrentCell { core.cell }
    public var inputSize: Int { core.inputSize }
    public var hiddenSize: Int { core.hiddenSize }
    public var numLayers: Int { core.numLayers }
    public var batchFirst: Bool { core.batchFirst }
    public var layers: [RecurrentLayerParameters<Scalar>] { core.layers }
    public var recordsHiddenGradients: Bool {
        get { core.recordsHiddenGradients }
        set { core.recordsHiddenGradients = newValue }
    }
    public var hiddenGradientNorms: [Double] { core.hiddenGradientNorms }

    public func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?) -> (output: Tensor<Scalar>, finalState: RecurrentState<Scalar>) {
        core.run(input, initialState: initialState)
    }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { core.run(input, initialState: nil).output }

    public var namedParameters: [(String, Parameter<Scalar>)] { core.namedParameters }

    /// As PyTorch prints it: `LSTM(32, 128, num_layers=2, batch_first=True)` (PyTorch leaves an
    /// RNN's nonlinearity out).
    public var summary: String { core.summary }
}


/// The layers, options and multi-layer run that `RNN`, `LSTM` and `GRU` share.
final class RecurrentCore<Scalar: TensorScalar> {
    let typeName: String
    let cell: RecurrentCell
    let inputSize: Int
    let hiddenSize: Int
    let numLayers: Int
    let batchFirst: Bool
    let layers: [RecurrentLayerParameters<Scalar>]
    var recordsHiddenGradients = false {
        didSet { if recordsHiddenGradients { hiddenGradientNorms = [] } }
    }
    var hiddenGradientNorms: [Double] = []

    /// Layers with PyTorch's default initialization: every weight and bias from
    /// U(−1/√H, 1/√H), drawn in `state_dict` order; then, if asked, each `H × H` gate block of
    /// every `weight_hh` replaced by an orthogonal matrix, and the LSTM forget gate's bias set.
    init(typeName: String, cell: RecurrentCell, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool,
         batchFirst: Bool, orthogonalRecurrentWeights: Bool, forgetGateBias: Double?, generator: RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                     "\(typeName): sizes must be positive, got input \(inputSize), hidden \(hiddenSize), layers \(numLayers)")
        self.typeName = typeName
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.batchFirst = batchFirst
        let gates = cell.gateCount * hiddenSize
        let bound = Scalar(1 / Double(hiddenSize).squareRoot())
        func draw(_ shape: [Int]) -> Tensor<Scalar> { .uniform(shape, low: -bound, high: bound, generator: generator) }
        var layers: [RecurrentLayerParameters<Scalar>] = []
        for k in 0..<numLayers {
            let weightIH = Parameter(draw([gates, k == 0 ? inputSize : hiddenSize]))
            let weightHH = Parameter(draw([gates, hiddenSize]))
            let biasIH = bias ? Parameter(draw([gates])) : nil
            let biasHH = bias ? Parameter(draw([gates])) : nil
            layers.append(RecurrentLayerParameters(weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH))
        }
        if orthogonalRecurrentWeights {
            for layer in layers {
                var blocks: [Tensor<Scalar>] = []
                for _ in 0..<cell.gateCount {
                    // Cannot throw: the shape has two axes and the gain is finite.
                    guard let block: Tensor<Scalar> = try? Init.orthogonal(shape: [hiddenSize, hiddenSize], gain: 1, generator: generator) else {
                        preconditionFailure("\(typeName): orthogonal initialization of [\(hiddenSize), \(hiddenSize)] failed")
                    }
                    blocks.append(block)
                }
                layer.weightHH.assign(Tensor.concatenate(blocks, axis: 0))
            }
        }
        if let forgetGateBias, bias {
            // The forget gate sees b_if + b_hf: b_if = value, b_hf = 0.
            for layer in layers {
                layer.biasIH!.update { p in for j in hiddenSize..<(2 * hiddenSize) { p[j] = Scalar(forgetGateBias) } }
                layer.biasHH!.update { p in for j in hiddenSize..<(2 * hiddenSize) { p[j] = 0 } }
            }
        }
        self.layers = layers
    }

    var hasBias: Bool { layers[0].biasIH != nil }

    var namedParameters: [(String, Parameter<Scalar>)] {
        layers.enumerated().flatMap { k, layer -> [(String, Parameter<Scalar>)] in
            var list = [("weight_ih_l\(k)", layer.weightIH), ("weight_hh_l\(k)", layer.weightHH)]
            if let b = layer.biasIH { list.append(("bias_ih_l\(k)", b)) }
            if let b = layer.biasHH { list.append(("bias_hh_l\(k)", b)) }
            return list
        }
    }

    /// PyTorch's `extra_repr` of `RNNBase`.
    var summary: String {
        var s = "\(typeName)(\(inputSize), \(hiddenSize)"
        if numLayers != 1 { s += ", num_layers=\(numLayers)" }
        if !hasBias { s += ", bias=False" }
        if batchFirst { s += ", batch_first=True" }
        return s + ")"
    }

    func run(_ input: Tensor<Scalar>, initialState: RecurrentState<Scalar>?) -> (output: Tensor<Scalar>, finalState: RecurrentState<Scalar>) {
        let layout = batchFirst ? "[B, T, \(inputSize)]" : "[T, B, \(inputSize)]"
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "\(typeName): input shape \(input.shape) does not fit input size \(inputSize) (expected \(layout))")
        precondition(input.shape[0] > 0 && input.shape[1] > 0,
                     "\(typeName): input shape \(input.shape) has no time steps or no batch (expected \(layout))")
        let batch = batchFirst ? input.shape[0] : input.shape[1]
        let stateShape = [numLayers, batch, hiddenSize]
        if let state = initialState {
            precondition(state.hidden.shape == stateShape,
                         "\(typeName): initial hidden state shape \(state.hidden.shape) does not fit input shape \(input.shape) (expected \(stateShape))")
            if cell.hasCellState {
                precondition(state.cell != nil, "\(typeName): the initial state needs a cell state of shape \(stateShape)")
                precondition(state.cell!.shape == stateShape,
                             "\(typeName): initial cell state shape \(state.cell!.shape) does not fit input shape \(input.shape) (expected \(stateShape))")
            } else {
                precondition(state.cell == nil, "\(typeName): has no cell state, got one of shape \(state.cell!.shape)")
            }
        }
        func layerState(_ t: Tensor<Scalar>, _ k: Int) -> Tensor<Scalar> {
            numLayers == 1 ? t.reshaped([batch, hiddenSize]) : t[k]
        }
        var x = input
        var hiddens: [Tensor<Scalar>] = [], cells: [Tensor<Scalar>] = []
        for (k, layer) in layers.enumerated() {
            var observer: (([Double]) -> Void)? = nil
            if recordsHiddenGradients && k == numLayers - 1 {
                observer = { [weak self] norms in self?.hiddenGradientNorms = norms }
            }
            let result = recurrentLayer(
                x, cell: cell, weightIH: layer.weightIH.value, weightHH: layer.weightHH.value,
                biasIH: layer.biasIH?.value, biasHH: layer.biasHH?.value,
                initialHidden: initialState.map { layerState($0.hidden, k) },
                initialCell: initialState?.cell.map { layerState($0, k) },
                batchFirst: batchFirst, hiddenGradientNorms: observer)
            x = result.output
            hiddens.append(result.hidden)
            if let c = result.cell { cells.append(c) }
        }
        func stacked(_ list: [Tensor<Scalar>]) -> Tensor<Scalar> {
            numLayers == 1 ? list[0].reshaped(stateShape) : Tensor.stack(list, axis: 0)
        }
        return (x, RecurrentState(hidden: stacked(hiddens), cell: cells.isEmpty ? nil : stacked(cells)))
    }
}
