import GradTensor

/// Inverted dropout (PyTorch's `nn.Dropout`, Srivastava et al. 2014).
///
/// In training mode each element is zeroed with probability `p` and the survivors are scaled
/// by `1/(1 − p)`, so the expected output equals the input: `y = x ⊙ m/(1 − p)` with
/// `m ~ Bernoulli(1 − p)` drawn fresh on every call (`p = 1` zeroes everything). In evaluation
/// mode it is the identity. The mask comes from `generator`, so runs are reproducible; the
/// gradient is `dy ⊙ m/(1 − p)`.
public final class Dropout<Scalar: TensorScalar>: Module {
    /// The probability of zeroing an element.
    public let p: Double
    /// The source of the masks.
    public let generator: RandomGenerator
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - p: the drop probability in [0, 1] (PyTorch: 0.5).
    ///   - generator: the random source of the masks.
    public init(p: Double = 0.5, generator: RandomGenerator) {
        precondition(p >= 0 && p <= 1, "Dropout: p must lie in [0, 1], got \(p)")
        self.p = p
        self.generator = generator
    }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining && p > 0 else { return input }
        if p == 1 { return input * Tensor.zeros(input.shape) }
        let scale = Scalar(1 / (1 - p))
        var mask = Tensor<Scalar>.zeros(input.shape)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<m.count where generator.nextUnitDouble() >= p { m[i] = scale }
        }
        return input * mask
    }

    /// As PyTorch prints it: `Dropout(p=0.5, inplace=False)`.
    public var summary: String { "Dropout(p=\(p), inplace=False)" }
}
