import Foundation
import GradNN
import GradTensor

/// The gradient factor per layer measured on a wide random MLP at initialization, the
/// quantity that `MeanFieldPrediction.perLayerGradientFactor` (√χ₁) predicts.
///
/// The network is `depth` blocks `Linear(width, width) → φ`, weights N(0, σ_w²/width) and
/// biases N(0, σ_b²), applied to a batch of Gaussian inputs scaled so that the first
/// pre-activations already have the fixed-point length q* (then every layer sits at q*, as
/// the theory assumes; length 1e-4 stands for the limit q* = 0, and length 1 is used when the
/// length diverges). The loss is `Σ r ⊙ output` with a fixed Gaussian r, so the gradient
/// arriving at the top is random, as in Schoenholz et al.'s mean-field backpropagation.
///
/// What is compared is the gradient with respect to each layer's pre-activations h^l (the
/// `Linear` outputs): mean-field theory predicts E‖∂E/∂h^l‖² = χ₁·E‖∂E/∂h^(l+1)‖² for
/// equal widths. Weight gradients `∂E/∂W^l = δ^l·x^(l−1)ᵀ` also carry the inputs' norms and,
/// summed over a batch, the examples' correlations (which go to 1 in the ordered phase), so
/// they are reported but not used for the factor.
public struct GradientFactorMeasurement: Codable, Sendable, Equatable {
    /// The activation φ.
    public let activation: Activation
    /// The weight scale σ_w.
    public let sigmaW: Double
    /// The bias standard deviation σ_b.
    public let sigmaB: Double
    /// Units per hidden layer.
    public let width: Int
    /// Number of `Linear → φ` blocks.
    public let depth: Int
    /// Examples in the batch.
    public let batchSize: Int
    /// The seed of weights, inputs and the top gradient.
    public let seed: UInt64
    /// The length of the first layer's pre-activations the inputs were scaled to.
    public let inputLength: Double
    /// ‖∂E/∂h^l‖ (Frobenius norm over the batch) for l = 1 … depth, input side first.
    public let preActivationGradientNorms: [Double]
    /// ‖∂E/∂W^l‖ for l = 1 … depth, input side first.
    public let weightGradientNorms: [Double]
    /// The geometric mean of ‖∂E/∂h^l‖ / ‖∂E/∂h^(l+1)‖ over the depth − 1 consecutive pairs:
    /// `(‖∂E/∂h¹‖ / ‖∂E/∂h^L‖)^(1/(L−1))`.
    public let measuredFactor: Double

    enum CodingKeys: String, CodingKey {
        case activation, width, depth, seed
        case sigmaW = "sigma_w", sigmaB = "sigma_b", batchSize = "batch_size", inputLength = "input_q"
        case preActivationGradientNorms = "pre_activation_gradient_norms"
        case weightGradientNorms = "weight_gradient_norms", measuredFactor = "measured_factor"
    }
}

extension MeanFieldTheory {
    /// Builds a random MLP as mean-field theory assumes it, runs one forward and backward pass
    /// and measures the gradient factor per layer (see `GradientFactorMeasurement`).
    ///
    /// Cost: about 6·depth·batchSize·width² floating-point operations (0.1 GFLOP at the defaults).
    ///
    /// - Parameters:
    ///   - activation: the nonlinearity φ (PReLU at its initial slope).
    ///   - sigmaW: σ_w > 0.
    ///   - sigmaB: σ_b ≥ 0.
    ///   - width: units per layer (≥ 1; mean-field theory holds as width → ∞, 256 is plenty).
    ///   - depth: number of `Linear → φ` blocks, ≥ 2.
    ///   - batchSize: examples per batch, ≥ 1.
    ///   - seed: the seed of all random draws.
    public static func measureGradientFactor(
        activation: Activation, sigmaW: Double, sigmaB: Double = 0, width: Int = 256, depth: Int = 16,
        batchSize: Int = 16, seed: UInt64 = 0
    ) throws(MeanFieldTheoryError) -> GradientFactorMeasurement {
        try validate(sigmaW: sigmaW, sigmaB: sigmaB, initialLength: 1)
        guard depth >= 2 else { throw .invalidDepth(depth, minimum: 2) }
        guard width >= 1 else { throw .invalidSize(name: "width", value: width) }
        guard batchSize >= 1 else { throw .invalidSize(name: "batch size", value: batchSize) }

        let inputLength: Double
        switch ActivationModel(activation).lengthLimit(sigmaW: sigmaW, sigmaB: sigmaB, from: 1) {
        case .diverges: inputLength = 1
        case .fixedPoint(let q): inputLength = q > 0 ? q : 1e-4
        }
        let generator = RandomGenerator(seed: seed)
        func normal(_ shape: [Int], std: Double) -> Tensor<Double> {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in std * generator.nextNormal() })
        }
        // The blocks of a `Linear → φ` Sequential, written out so that the weights can be drawn
        // directly from N(0, σ_w²/width) and each pre-activation keeps its gradient.
        let layer = activation.makeLayer(Double.self)
        var weights: [Tensor<Double>] = [], biases: [Tensor<Double>] = []
        for _ in 0..<depth {
            var weight = normal([width, width], std: sigmaW / Double(width).squareRoot())
            weight.requiresGrad = true
            weights.append(weight)
            biases.append(normal([width], std: sigmaB))
        }
        // Inputs with E[x²] = (q_in − σ_b²)/σ_w², so that h¹ = W¹x + b¹ has length q_in.
        let inputScale = (Swift.max(inputLength - sigmaB * sigmaB, 0) / (sigmaW * sigmaW)).squareRoot()
        var activations = normal([batchSize, width], std: inputScale)
        let topGradient = normal([batchSize, width], std: 1)

        var preActivations: [Tensor<Double>] = []
        for (weight, bias) in zip(weights, biases) {
            let preActivation = linear(activations, weight: weight, bias: bias)
            preActivation.retainGrad()
            preActivations.append(preActivation)
            activations = layer(preActivation)
        }
        (activations * topGradient).sum().backward()

        func norm(_ tensor: Tensor<Double>?) -> Double {
            tensor?.withUnsafeBufferPointer { values in values.reduce(0) { $0 + $1 * $1 }.squareRoot() } ?? 0
        }
        let gradientNorms = preActivations.map { norm($0.grad) }
        let weightNorms = weights.map { norm($0.grad) }
        let factor = Foundation.pow(gradientNorms[0] / gradientNorms[depth - 1], 1 / Double(depth - 1))
        return GradientFactorMeasurement(
            activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, width: width, depth: depth,
            batchSize: batchSize, seed: seed, inputLength: inputLength,
            preActivationGradientNorms: gradientNorms, weightGradientNorms: weightNorms, measuredFactor: factor)
    }
}
