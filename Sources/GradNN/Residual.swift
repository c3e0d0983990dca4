import GradTensor

/// How a residual block scales its branch before adding it to the skip path.
public enum ResidualScaling: Equatable, Sendable {
    /// `x + F(x)`.
    case none
    /// `x + α·F(x)` with a learnable scalar `α` (parameter `alpha`, shape `[1]`) starting at
    /// `initialValue`.
    case learnable(initialValue: Double)

    /// ReZero (Bachlechner et al. 2020): `x + α·F(x)` with `α` learnable and initialised to 0,
    /// so every block starts as the identity.
    public static let reZero = ResidualScaling.learnable(initialValue: 0)
    /// SkipInit (De & Smith 2020): the same learnable scalar multiplier on the branch, initialised
    /// to 0 (the paper's choice for networks without normalization).
    public static let skipInit = ResidualScaling.learnable(initialValue: 0)
}

/// The two classic arrangements of a residual block (He et al. 2016a and 2016b).
public enum ResidualVariant: String, Sendable, Codable, CaseIterable {
    /// `act(x + F(x))`, `F = Linear, [BN], act, Linear, [BN]` (He et al. 2016a).
    case postActivation = "post_activation"
    /// `x + F(x)`, `F = [BN], act, Linear, [BN], act, Linear` (He et al. 2016b): the skip path
    /// is a clean identity from block to block.
    case preActivation = "pre_activation"
}

/// A residual block `y = act(P(x) + α·F(x))`: any module `F` (the branch, `body`), an optional
/// projection `P` on the skip path (identity without one), an optional learnable scalar `α`
/// (ReZero / SkipInit) and an optional activation after the sum.
///
/// Shapes: `F(x)` and `P(x)` must have the same shape; use a projection (`Linear` without bias)
/// when the branch changes the width. Parameter and module names nest as the attributes of the
/// equivalent PyTorch module (`alpha` first, as PyTorch lists a module's own parameters before
/// its children's, then `body.*`, then `projection.*`; the activation is the child `activation`):
/// inside a `Sequential` at index 1, `1.alpha`, `1.body.0.weight`, `1.projection.weight`.
public final class Residual<Scalar: TensorScalar>: Module {
    /// The branch `F`.
    public let body: any Module<Scalar>
    /// The skip path's projection `P`, or nil for the identity.
    public let projection: Linear<Scalar>?
    /// The branch multiplier `α` (`[1]`), or nil for none.
    public let alpha: Parameter<Scalar>?
    /// The activation after the sum (post-activation blocks), or nil.
    public let activation: (any Module<Scalar>)?
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()

    /// - Parameters:
    ///   - body: the branch `F`.
    ///   - projection: a linear map on the skip path when `F` changes the width; nil for identity.
    ///   - scaling: `.none`, or a learnable scalar on the branch (`.reZero`, `.skipInit`).
    ///   - activation: a layer applied after the sum (post-activation), or nil.
    public init(_ body: any Module<Scalar>, projection: Linear<Scalar>? = nil, scaling: ResidualScaling = .none,
                activation: (any Module<Scalar>)? = nil) {
        self.body = body
        self.projection = projection
        self.activation = activation
        switch scaling {
        case .none: alpha = nil
        case .learnable(let initialValue):
            precondition(initialValue.isFinite, "Residual: the initial α must be finite, got \(initialValue)")
            alpha = Parameter(.full([1], Scalar(initialValue)))
        }
    }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let skip = projection.map { $0(input) } ?? input
        var branch = body(input)
        precondition(branch.shape == skip.shape,
                     "Residual: branch output shape \(branch.shape) does not match skip path shape \(skip.shape)"
                        + (projection == nil ? " (add a projection when the branch changes the width)" : ""))
        if let alpha { branch = branch * alpha.value }
        let sum = skip + branch
        return activation.map { $0(sum) } ?? sum
    }

    public var children: [(String, any Module<Scalar>)] {
        [("body", body)] + (projection.map { [("projection", $0 as any Module<Scalar>)] } ?? [])
            + (activation.map { [("activation", $0)] } ?? [])
    }

    public var namedParameters: [(String, Parameter<Scalar>)] {
        (alpha.map { [("alpha", $0)] } ?? [])
            + children.flatMap { name, child in child.namedParameters.map { ("\(name).\($0.0)", $0.1) } }
    }

    /// As PyTorch prints a custom module: its children, indented.
    public var summary: String {
        "Residual(\n" + children.map { name, child in
            "  (\(name)): " + child.summary.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        }.joined(separator: "\n") + "\n)"
    }

    /// A two-layer residual block for MLPs, as He et al. arrange it.
    ///
    /// Post-activation: `act(P(x) + F(x))`, `F = Linear(in, out), [BatchNorm1d], act, Linear(out, out),
    /// [BatchNorm1d]`. Pre-activation: `P(x) + F(x)`, `F = [BatchNorm1d(in)], act, Linear(in, out),
    /// [BatchNorm1d], act, Linear(out, out)`. `P` is `Linear(in, out, bias: false)` when the widths
    /// differ. Names: `body.0.weight`, ... in the order listed, `projection.weight`, `alpha`.
    /// - Parameters:
    ///   - inFeatures: the block's input width.
    ///   - outFeatures: its output width (default: the same).
    ///   - activation: the nonlinearity.
    ///   - variant: post- or pre-activation.
    ///   - batchNorm: whether to put `BatchNorm1d` where the variant has it.
    ///   - scaling: `.none`, `.reZero` or `.skipInit`.
    ///   - generator: the random source of the `Linear` layers' default initialization.
    public static func block(
        inFeatures: Int, outFeatures: Int? = nil, activation: Activation, variant: ResidualVariant = .postActivation,
        batchNorm: Bool = false, scaling: ResidualScaling = .none, generator: RandomGenerator
    ) -> Residual<Scalar> {
        let out = outFeatures ?? inFeatures
        var layers: [any Module<Scalar>] = []
        switch variant {
        case .postActivation:
            layers.append(Linear<Scalar>(inFeatures, out, generator: generator))
            if batchNorm { layers.append(BatchNorm1d<Scalar>(numFeatures: out)) }
            layers.append(activation.makeLayer(Scalar.self))
            layers.append(Linear<Scalar>(out, out, generator: generator))
            if batchNorm { layers.append(BatchNorm1d<Scalar>(numFeatures: out)) }
        case .preActivation:
            if batchNorm { layers.append(BatchNorm1d<Scalar>(numFeatures: inFeatures)) }
            layers.append(activation.makeLayer(Scalar.self))
            layers.append(Linear<Scalar>(inFeatures, out, generator: generator))
            if batchNorm { layers.append(BatchNorm1d<Scalar>(numFeatures: out)) }
            layers.append(activation.makeLayer(Scalar.self))
            layers.append(Linear<Scalar>(out, out, generator: generator))
        }
        let projection = out == inFeatures ? nil : Linear<Scalar>(inFeatures, out, bias: false, generator: generator)
        return Residual(Sequential(layers), projection: projection, scaling: scaling,
                        activation: variant == .postActivation ? activation.makeLayer(Scalar.self) : nil)
    }
}
