import GradTensor

/// Why `lsuvInitialize` could not initialize a model.
public enum LSUVError: Error, Equatable, CustomStringConvertible {
    /// The model has no `Linear` layer.
    case noLinearLayers
    /// A layer did not run when the model was applied to the data batch.
    case layerNotReached(layer: String)
    /// A layer's output variance is 0 or not finite, so no rescaling can bring it to 1.
    case degenerateOutput(layer: String, variance: Double)

    public var description: String {
        switch self {
        case .noLinearLayers:
            return "lsuv: the model has no Linear layers to initialize"
        case .layerNotReached(let layer):
            return "lsuv: layer '\(layer)' did not run on the data batch"
        case .degenerateOutput(let layer, let variance):
            return "lsuv: layer '\(layer)': output variance is \(variance); it cannot be rescaled to 1 "
                + "(check the data batch for constant or non-finite columns)"
        }
    }
}

/// The outcome of LSUV for one layer.
public struct LSUVLayerResult: Equatable, Sendable {
    /// The layer's name in the model (`0`, `2.body.0`, ...).
    public var name: String
    /// The variance of the layer's output on the data batch after the last rescaling.
    public var variance: Double
    /// How many times the weight was rescaled.
    public var iterations: Int
    /// Whether `|variance − 1| < tolerance` was reached.
    public var converged: Bool
}

/// Layer-sequential unit-variance initialization (Mishkin & Matas 2016, "All you need is a good
/// init").
///
/// 1. Every `Linear` weight is set to an orthonormal matrix (`Init.orthogonal`, gain 1).
/// 2. Then, for each `Linear` in module order: apply the model to `data` (without recording),
///    measure the variance `v` of that layer's output (over all its elements, biased), and while
///    `|v − 1| ≥ tolerance` and fewer than `maxIterations` rescalings were made, divide the
///    weight by `√v` and measure again.
/// Biases are left as they are. Buffers of `BufferLoadable` leaf modules (batch norm's running
/// statistics) are restored afterwards, so the data passes leave no trace; the model's mode
/// (training or evaluation) is used as it is.
/// - Parameters:
///   - model: the model.
///   - data: a batch of inputs (the paper uses one mini-batch).
///   - tolerance: the allowed `|v − 1|` (paper: 0.1).
///   - maxIterations: the most rescalings per layer (paper: 10).
///   - orthonormal: whether to do step 1 (false keeps the current weights as the starting point).
///   - generator: the random source of the orthonormal matrices.
/// - Returns: per layer, the variance reached, the rescalings made and whether it converged.
/// - Throws: `LSUVError` for a model without `Linear` layers, a layer the data does not reach, or
///   an output variance of 0 or non-finite.
@discardableResult
public func lsuvInitialize<M: Module>(
    _ model: M, data: Tensor<M.Scalar>, tolerance: Double = 0.1, maxIterations: Int = 10,
    orthonormal: Bool = true, generator: RandomGenerator
) throws -> [LSUVLayerResult] {
    typealias Scalar = M.Scalar
    precondition(tolerance > 0, "lsuvInitialize: tolerance must be positive, got \(tolerance)")
    precondition(maxIterations >= 0, "lsuvInitialize: maxIterations must be ≥ 0, got \(maxIterations)")
    let layers = model.namedModules.compactMap { name, module in (module as? Linear<Scalar>).map { (name, $0) } }
    guard !layers.isEmpty else { throw LSUVError.noLinearLayers }

    // Running statistics seen by the data passes are put back at the end.
    let owners = model.namedModules.compactMap { _, module -> (any BufferLoadable<Scalar>)? in
        module.children.isEmpty ? module as? any BufferLoadable<Scalar> : nil
    }
    let savedBuffers = owners.map { owner in owner.namedBuffers.map { ($0.0, $0.1.detached()) } }
    defer {
        for (owner, buffers) in zip(owners, savedBuffers) {
            for (name, value) in buffers { owner.loadBuffer(named: name, from: value) }
        }
    }

    if orthonormal {
        for (_, layer) in layers { try Init.orthogonal(layer.weight, gain: 1, generator: generator) }
    }
    var results: [LSUVLayerResult] = []
    for (name, layer) in layers {
        var measured: Double?
        let handle = layer.hooks.addForwardHook { _, _, output in
            guard measured == nil else { return }  // a layer run twice: its first output
            measured = output.withUnsafeBufferPointer { values -> Double in
                let n = Double(values.count)
                var sum = 0.0
                for v in values { sum += Double(v) }
                let mean = sum / n
                var squares = 0.0
                for v in values { squares += (Double(v) - mean) * (Double(v) - mean) }
                return squares / n
            }
        }
        defer { handle.remove() }
        func measure() throws -> Double {
            measured = nil
            _ = withoutGradient { model(data) }
            guard let variance = measured else { throw LSUVError.layerNotReached(layer: name) }
            return variance
        }
        var variance = try measure()
        var iterations = 0
        while Swift.abs(variance - 1) >= tolerance && iterations < maxIterations {
            guard variance > 0 && variance.isFinite else {
                throw LSUVError.degenerateOutput(layer: name, variance: variance)
            }
            let factor = Scalar(1 / variance.squareRoot())
            layer.weight.update { w in for i in w.indices { w[i] *= factor } }
            iterations += 1
            variance = try measure()
        }
        if !variance.isFinite { throw LSUVError.degenerateOutput(layer: name, variance: variance) }
        results.append(LSUVLayerResult(name: name, variance: variance, iterations: iterations,
                                       converged: Swift.abs(variance - 1) < tolerance))
    }
    return results
}
