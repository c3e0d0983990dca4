import Foundation
import GradData
import GradNN
import GradOptim
import GradTensor

/// The loss functions a run can use, by the names spec files write.
public enum LossKind: String, Codable, Sendable, CaseIterable {
    case mse, l1, huber, bce, bceWithLogits = "bce_with_logits", crossEntropy = "cross_entropy"

    /// The loss of `output` against the data set's targets (or labels for cross-entropy).
    ///
    /// Outputs per time step `[n, T, k]` (a model ending in a recurrent layer, or a `linear`
    /// applied per step): cross-entropy scores every step against the targets `[n, T]`, one class
    /// index per step (`sequenceCrossEntropy`, the mean over all `n·T` steps, PyTorch's
    /// `CrossEntropyLoss` on `[n, k, T]` logits); the other losses compare the output flattened
    /// to `[n, T·k]` with the targets (`[n, T]` for k = 1, as running parity's).
    public func callAsFunction<T: TensorScalar>(_ output: Tensor<T>, _ data: Dataset<T>) -> Tensor<T> {
        if output.rank == 3 {
            if self == .crossEntropy { return sequenceCrossEntropy(logits: output, labels: Self.stepLabels(data.targets)) }
            return self(output.reshaped([output.shape[0], output.shape[1] * output.shape[2]]), data)
        }
        switch self {
        case .mse: return meanSquaredError(predictions: output, targets: data.targets)
        case .l1: return l1Loss(predictions: output, targets: data.targets)
        case .huber: return huberLoss(predictions: output, targets: data.targets)
        case .bce: return binaryCrossEntropy(predictions: output, targets: data.targets)
        case .bceWithLogits: return binaryCrossEntropyWithLogits(logits: output, targets: data.targets)
        case .crossEntropy: return GradNN.crossEntropy(logits: output, labels: data.labels ?? [])
        }
    }

    /// Per-step class indices from targets `[n, T]` holding whole numbers, example-major.
    static func stepLabels<T: TensorScalar>(_ targets: Tensor<T>) -> [Int] {
        var labels = [Int](repeating: 0, count: targets.count)
        targets.withUnsafeBufferPointer { t in
            for i in 0..<t.count { labels[i] = Int(t[i].rounded()) }
        }
        return labels
    }
}
