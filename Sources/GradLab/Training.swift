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

/// What one training run did: the loss per epoch and the gradient norm of every `Linear`
/// weight, measured after `backward()` and before clipping.
public struct RunRecord: Codable, Sendable {
    /// The run's label in tables (`sigmoid`, `relu + clip 10`, ...).
    public var name: String
    /// Names of the `Linear` weights, input side first (`0.weight`, `2.weight`, ...).
    public var layerNames: [String]
    /// Loss at each epoch, computed in the forward pass before that epoch's update.
    public var losses: [Double] = []
    /// Per epoch, the L2 norm of each layer's weight gradient (rows: epochs; columns: layers).
    public var gradientNorms: [[Double]] = []
    /// Per epoch, the global gradient norm over all parameters before clipping.
    public var totalGradientNorms: [Double] = []
    /// The first epoch whose loss or gradients were NaN or infinite, if any; training stops there.
    public var firstNonfiniteEpoch: Int?
    /// Wall-clock seconds of the training loop alone.
    public var trainSeconds: Double = 0

    /// Whether the whole run stayed finite.
    public var finite: Bool { firstNonfiniteEpoch == nil }
    /// The last loss recorded (NaN or infinite for a run that blew up).
    public var finalLoss: Double { losses.last ?? .nan }
    /// The smallest finite loss reached.
    public var bestLoss: Double { losses.filter(\.isFinite).min() ?? .nan }
    /// Layer gradient norms at the first epoch.
    public var initialGradientNorms: [Double] { gradientNorms.first ?? [] }
    /// Layer gradient norms at the last epoch.
    public var finalGradientNorms: [Double] { gradientNorms.last ?? [] }
    /// First layer's gradient norm over the last layer's, at the first epoch (≪ 1: vanishing).
    public var initialFirstToLastRatio: Double {
        guard let first = initialGradientNorms.first, let last = initialGradientNorms.last, last > 0 else { return .nan }
        return first / last
    }
}

/// Trains `model` on the whole data set for `epochs` full-batch steps and records the run.
///
/// - Parameters:
///   - clipNorm: when set, `clipGradNorm` with this maximum runs before each step.
///   - stopOnNonfinite: stop at the first epoch whose loss or gradient is not finite
///     (continuing only propagates NaN).
@_specialize(exported: true, kind: full, where T == Float)
public func trainFullBatch<T: TensorScalar>(
    name: String, model: Sequential<T>, data: Dataset<T>, loss: LossKind,
    optimizer: any Optimizer<T>, epochs: Int, clipNorm: T? = nil, stopOnNonfinite: Bool = true
) throws -> RunRecord {
    let linears = model.linearLayers
    var record = RunRecord(name: name, layerNames: linears.map { $0.0.isEmpty ? "weight" : "\($0.0).weight" })
    record.losses.reserveCapacity(epochs)
    record.gradientNorms.reserveCapacity(epochs)
    let parameters = model.parameters
    let start = DispatchTime.now().uptimeNanoseconds
    for epoch in 0..<epochs {
        optimizer.zeroGrad()
        let output = model(data.features)
        let value = loss(output, data)
        value.backward()
        let lossValue = Double(value.scalar)
        record.losses.append(lossValue)
        record.gradientNorms.append(linears.map { _, layer in
            layer.weight.grad.map { g in g.withUnsafeBufferPointer { T.kernelSumOfSquares($0.baseAddress!, $0.count) }.squareRoot() } ?? 0
        })
        let total: Double
        if let clipNorm {
            total = Double(try clipGradNorm(parameters, maxNorm: clipNorm))
        } else {
            total = parameters.reduce(0.0) { sum, p in
                sum + (p.grad.map { g in g.withUnsafeBufferPointer { T.kernelSumOfSquares($0.baseAddress!, $0.count) } } ?? 0)
            }.squareRoot()
        }
        record.totalGradientNorms.append(total)
        if !lossValue.isFinite || !total.isFinite {
            record.firstNonfiniteEpoch = epoch
            if stopOnNonfinite { break }
        }
        optimizer.step()
    }
    record.trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return record
}
