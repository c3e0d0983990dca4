import GradTensor

/// The last time step of a sequence: `[B, T, H] → [B, H]` (or `[T, B, H] → [B, H]` when not
/// batch-first), to put a recurrent network's output in front of a `Linear` head.
///
/// `Sequential(LSTM(in, H, batchFirst: true, ...), LastStep(), Linear(H, 1, ...))` predicts one
/// value per sequence from the last hidden state. The gradient flows to the last step only.
public final class LastStep<Scalar: TensorScalar>: Module {
    /// Whether the input is `[B, T, H]` (time on axis 1) rather than `[T, B, H]` (axis 0).
    public let batchFirst: Bool
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - batchFirst: true for `[B, T, H]` inputs (the default), false for `[T, B, H]`.
    public init(batchFirst: Bool = true) { self.batchFirst = batchFirst }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(input.rank == 3 && input.shape[batchFirst ? 1 : 0] > 0,
                     "LastStep: input must be \(batchFirst ? "[B, T, H]" : "[T, B, H]") with T ≥ 1, got shape \(input.shape)")
        let axis = batchFirst ? 1 : 0
        let steps = input.shape[axis]
        return input.slice(axis: axis, (steps - 1)..<steps).squeezed(axis: axis)
    }

    public var summary: String { "LastStep(batch_first=\(batchFirst ? "True" : "False"))" }
}

/// A recurrent network that also reads flat rows: an input `[B, T·C]` (a data set's features,
/// one sequence per row, step after step) is read as the batch-first sequences `[B, T, C]`, with
/// `C` the network's `inputSize`, and then run; a `[B, T, C]` input is run as it is.
///
/// The wrapper is transparent: its parameters are the network's under the network's own names
/// (`weight_ih_l0`, so that `Sequential(SequenceInput(lstm), ...)` names them
/// `0.weight_ih_l0`, ...), and its only child is the network under the empty name, so that the
/// network is the leaf that monitors hook (`namedModules` lists it under the wrapper's name,
/// with its own type, `LSTM`). Spec files put a recurrent layer that comes first in a layer list
/// in one. The network must be batch-first.
public final class SequenceInput<Scalar: TensorScalar>: Module {
    /// The recurrent network run on the sequences.
    public let network: any RecurrentModule<Scalar>
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - network: a batch-first recurrent network (`RNN`, `LSTM` or `GRU`).
    public init(_ network: any RecurrentModule<Scalar>) {
        precondition(network.batchFirst, "SequenceInput: the network must be batch-first (it reads rows [B, T·C] as [B, T, C])")
        self.network = network
    }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let channels = network.inputSize
        guard input.rank == 2 else { return network(input) }
        precondition(input.shape[1] > 0 && input.shape[1] % channels == 0,
                     "SequenceInput: rows of \(input.shape[1]) features (input shape \(input.shape)) are not whole steps of \(channels) channels")
        return network(input.reshaped([input.shape[0], input.shape[1] / channels, channels]))
    }

    public var namedParameters: [(String, Parameter<Scalar>)] { network.namedParameters }
    public var namedBuffers: [(String, Tensor<Scalar>)] { network.namedBuffers }
    public var children: [(String, any Module<Scalar>)] { [("", network)] }
    public var summary: String { network.summary }
}
