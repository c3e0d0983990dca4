import GradTensor

/// Batch normalization over a batch of feature vectors (PyTorch's `nn.BatchNorm1d`, Ioffe &
/// Szegedy 2015).
///
/// Input `[N, C]` or `[N, C, L]`, output of the same shape. In training mode each channel is
/// normalized with the batch's mean and biased variance over its `M = N·L` values,
/// `y = γ·(x − μ_B)/√(σ²_B + ε) + β`, and the running statistics are updated with the unbiased
/// variance: `running = (1 − momentum)·running + momentum·batch` (with `momentum` nil, the
/// cumulative average: factor `1/num_batches_tracked`); `num_batches_tracked` counts the
/// batches. In evaluation mode the running statistics take the batch's place (unless
/// `trackRunningStats` is off: then batch statistics are used in both modes). The backward
/// pass is the exact gradient through μ_B and σ²_B, computed by one fused op
/// (`batchNormalized`).
///
/// Parameters `weight` (γ, ones) and `bias` (β, zeros) when `affine`; buffers `running_mean`
/// (zeros), `running_var` (ones) and `num_batches_tracked` (a scalar; `I64` in checkpoints, as
/// in PyTorch's `state_dict`) when `trackRunningStats`.
public final class BatchNorm1d<Scalar: TensorScalar>: BufferLoadable {
    /// Channels `C`.
    public let numFeatures: Int
    /// ε added to the variance.
    public let eps: Double
    /// The running statistics' update factor; nil for a cumulative moving average.
    public let momentum: Double?
    /// γ, or nil without `affine`.
    public let weight: Parameter<Scalar>?
    /// β, or nil without `affine`.
    public let bias: Parameter<Scalar>?
    /// Whether running statistics are kept (and used in evaluation mode).
    public let trackRunningStats: Bool
    /// The running mean per channel, `[C]` (zeros when not tracking).
    public private(set) var runningMean: Tensor<Scalar>
    /// The running unbiased variance per channel, `[C]` (ones when not tracking).
    public private(set) var runningVar: Tensor<Scalar>
    /// The number of training batches seen.
    public private(set) var numBatchesTracked: Int = 0
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - numFeatures: channels `C` (axis 1 of the input).
    ///   - eps: ε added to the variance (PyTorch: 1e-5).
    ///   - momentum: the running statistics' update factor in (0, 1] (PyTorch: 0.1); nil for a
    ///     cumulative average.
    ///   - affine: whether to learn γ and β.
    ///   - trackRunningStats: whether to keep running statistics for evaluation mode.
    public init(numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        precondition(numFeatures > 0, "BatchNorm1d: numFeatures must be positive, got \(numFeatures)")
        precondition(eps >= 0 && eps.isFinite, "BatchNorm1d: eps must be finite and ≥ 0, got \(eps)")
        if let momentum {
            precondition(momentum >= 0 && momentum <= 1, "BatchNorm1d: momentum must lie in [0, 1], got \(momentum)")
        }
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.trackRunningStats = trackRunningStats
        weight = affine ? Parameter(.ones([numFeatures])) : nil
        bias = affine ? Parameter(.zeros([numFeatures])) : nil
        runningMean = .zeros([numFeatures])
        runningVar = .ones([numFeatures])
    }

    /// Whether γ and β are learned.
    public var affine: Bool { weight != nil }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition((input.rank == 2 || input.rank == 3) && input.shape[1] == numFeatures,
                     "BatchNorm1d: expected input [N, \(numFeatures)] or [N, \(numFeatures), L], got shape \(input.shape)")
        let epsilon = Scalar(eps)
        if !isTraining && trackRunningStats {
            return batchNormalized(input, mean: runningMean, variance: runningVar, weight: weight?.value,
                                   bias: bias?.value, epsilon: epsilon)
        }
        let m = input.count / numFeatures
        precondition(m > 1, "Expected more than 1 value per channel when training, got input size \(input.shape)")
        let result = batchNormalized(input, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
        if isTraining && trackRunningStats { updateRunningStatistics(result) }
        return result.output
    }

    /// `running = (1 − f)·running + f·batch` with the unbiased batch variance.
    private func updateRunningStatistics(_ result: BatchNormalization<Scalar>) {
        numBatchesTracked += 1
        let factor = momentum ?? 1 / Double(numBatchesTracked)
        let correction = Double(result.countPerChannel) / Double(result.countPerChannel - 1)
        result.mean.withUnsafeBufferPointer { mean in
            runningMean.withUnsafeMutableBufferPointer { running in
                for c in 0..<numFeatures {
                    running[c] = Scalar((1 - factor) * Double(running[c]) + factor * Double(mean[c]))
                }
            }
        }
        result.variance.withUnsafeBufferPointer { variance in
            runningVar.withUnsafeMutableBufferPointer { running in
                for c in 0..<numFeatures {
                    running[c] = Scalar((1 - factor) * Double(running[c]) + factor * Double(variance[c]) * correction)
                }
            }
        }
    }

    /// Sets the running statistics back to mean 0, variance 1, no batches (`reset_running_stats`).
    public func resetRunningStats() {
        runningMean = .zeros([numFeatures])
        runningVar = .ones([numFeatures])
        numBatchesTracked = 0
    }

    public var namedParameters: [(String, Parameter<Scalar>)] {
        (weight.map { [("weight", $0)] } ?? []) + (bias.map { [("bias", $0)] } ?? [])
    }

    public var namedBuffers: [(String, Tensor<Scalar>)] {
        guard trackRunningStats else { return [] }
        return [("running_mean", runningMean), ("running_var", runningVar),
                ("num_batches_tracked", Tensor(Scalar(numBatchesTracked)))]
    }

    public var integerBufferNames: Set<String> { ["num_batches_tracked"] }

    public func loadBuffer(named name: String, from value: Tensor<Scalar>) {
        switch name {
        case "running_mean":
            precondition(value.shape == [numFeatures], "BatchNorm1d: running_mean shape \(value.shape), expected [\(numFeatures)]")
            runningMean = value.detached()
        case "running_var":
            precondition(value.shape == [numFeatures], "BatchNorm1d: running_var shape \(value.shape), expected [\(numFeatures)]")
            runningVar = value.detached()
        case "num_batches_tracked":
            precondition(value.count == 1, "BatchNorm1d: num_batches_tracked shape \(value.shape), expected []")
            numBatchesTracked = Int(Double(value.scalars[0]).rounded())
        default:
            preconditionFailure("BatchNorm1d: no buffer named '\(name)'")
        }
    }

    /// As PyTorch prints it (Swift and Python write these numbers alike: `1e-05`, `0.1`).
    public var summary: String {
        "BatchNorm1d(\(numFeatures), eps=\(eps), momentum=\(momentum.map { "\($0)" } ?? "None"), "
            + "affine=\(affine ? "True" : "False"), track_running_stats=\(trackRunningStats ? "True" : "False"))"
    }
}
