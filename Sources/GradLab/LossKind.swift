import Foundation
import GradData
import GradNN
import GradOptim
import GradTensor

/// The loss functions a run can use, by the names spec files write.
public enum LossKind: String, Codable, Sendable, CaseIterable {
    case mse, l1, huber, bce, bceWithLogits = "bce_with_logits", crossEntropy = "cross_entropy"

    /// The loss of `output` against the data set's targets (or labels for cross-entropy).
    public func callAsFunction<T: TensorScalar>(_ output: Tensor<T>, _ data: Dataset<T>) -> Tensor<T> {
        switch self {
        case .mse: meanSquaredError(predictions: output, targets: data.targets)
        case .l1: l1Loss(predictions: output, targets: data.targets)
        case .huber: huberLoss(predictions: output, targets: data.targets)
        case .bce: binaryCrossEntropy(predictions: output, targets: data.targets)
        case .bceWithLogits: binaryCrossEntropyWithLogits(logits: output, targets: data.targets)
        case .crossEntropy: GradNN.crossEntropy(logits: output, labels: data.labels ?? [])
        }
    }
}
