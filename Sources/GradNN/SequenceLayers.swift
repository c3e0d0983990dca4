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
