import GradTensor

/// Why `fixupInitialize` could not initialize a model.
public enum FixupError: Error, Equatable, CustomStringConvertible {
    /// The model has no `Residual` block: Fixup rescales residual branches.
    case noResidualBlocks
    /// A residual block's branch has no `Linear` layer to initialize.
    case branchWithoutLinearLayers(block: String)

    public var description: String {
        switch self {
        case .noResidualBlocks:
            return "fixup: the model has no residual blocks (Fixup initializes residual branches; build the model with residual: true)"
        case .branchWithoutLinearLayers(let block):
            return "fixup: residual block '\(block)' has no Linear layer in its branch"
        }
    }
}

/// What `fixupInitialize` did to one residual branch.
public struct FixupBranch: Equatable, Sendable {
    /// The block's name in the model (`2`, `1.body.3`, ...).
    public var name: String
    /// The number of `Linear` layers in the branch, `m`.
    public var depth: Int
    /// The factor `L^(−1/(2m−2))` applied to the branch's layers before the last (0 when `m = 1`:
    /// the only layer is the last, and is zeroed).
    public var scale: Double
}

/// What `fixupInitialize` did: the number of blocks `L`, each branch, and the output layer zeroed.
public struct FixupSummary: Equatable, Sendable {
    /// The number of residual branches `L`.
    public var blockCount: Int
    /// One entry per branch, in module order.
    public var branches: [FixupBranch]
    /// The name of the output layer set to zero, if any.
    public var zeroedOutputLayer: String?
}

/// Fixup initialization (Zhang, Dauphin & Ma 2019) of a model's residual branches, so a deep
/// residual network trains without normalization.
///
/// With `L` residual blocks (`Residual` modules) whose branches hold `m` `Linear` layers each:
/// 1. the last `Linear` of every branch gets weight 0 (and bias 0), so each block starts as its
///    skip path;
/// 2. the branch's other `Linear` layers are drawn with `standard` (He normal by default; nil keeps
///    their current values) and multiplied by `L^(−1/(2m−2))` (`m` is counted per branch), their
///    biases set to 0 (Fixup's biases start at 0);
/// 3. with `zeroOutputLayer`, the model's last `Linear` outside every branch (the classification
///    layer) gets weight and bias 0.
/// Layers outside the branches (the first layer, projections) keep their initialization.
/// Left out: the paper's extra scalar biases (before each linear layer and activation, init 0)
/// and scalar multiplier (init 1) per branch; a learnable branch scale is available as
/// `Residual`'s `alpha` (`ResidualScaling.learnable(initialValue: 1)`), which this function
/// leaves as it is.
/// - Parameters:
///   - model: the model; its `Residual` blocks are found by walking `namedModules`.
///   - standard: the initializer of the branch layers before rescaling, or nil to rescale the
///     current weights.
///   - activation: the nonlinearity `standard` takes its gain from (`calculateGain` names).
///   - zeroOutputLayer: whether to zero the classification layer.
///   - generator: the random source of `standard`.
/// - Returns: `L`, each branch's `m` and scale, and the layer zeroed.
/// - Throws: `FixupError` for a model without residual blocks or a branch without `Linear`
///   layers; `InitializerError` from `standard`.
@discardableResult
public func fixupInitialize<M: Module>(
    _ model: M, standard: Initializer? = .kaimingNormal(), activation: String = "relu",
    zeroOutputLayer: Bool = true, generator: RandomGenerator
) throws -> FixupSummary {
    typealias Scalar = M.Scalar
    let blocks = model.namedModules.compactMap { name, module in (module as? Residual<Scalar>).map { (name, $0) } }
    guard !blocks.isEmpty else { throw FixupError.noResidualBlocks }
    let count = Double(blocks.count)
    // Plan every new value first, so nothing changes when an initializer throws.
    var planned: [(Parameter<Scalar>, Tensor<Scalar>)] = []
    var branches: [FixupBranch] = []
    var branchLayers = Set<ObjectIdentifier>()
    for (name, block) in blocks {
        let layers = block.body.namedModules.compactMap { $0.1 as? Linear<Scalar> }
        guard let last = layers.last else { throw FixupError.branchWithoutLinearLayers(block: name.isEmpty ? "model" : name) }
        let m = layers.count
        let scale = m >= 2 ? Double.pow(count, -1 / Double(2 * m - 2)) : 0
        for layer in layers {
            branchLayers.insert(ObjectIdentifier(layer))
            if layer === last {
                planned.append((layer.weight, .zeros(layer.weight.shape)))
            } else {
                var weight = layer.weight.value.detached()
                if let standard {
                    weight = try standard.tensor(shape: layer.weight.shape, activation: activation,
                                                 fanIn: layer.inFeatures, generator: generator)
                }
                planned.append((layer.weight, weight * Scalar(scale)))
            }
            if let bias = layer.bias { planned.append((bias, .zeros(bias.shape))) }
        }
        branches.append(FixupBranch(name: name.isEmpty ? "model" : name, depth: m, scale: scale))
    }
    var zeroed: String?
    if zeroOutputLayer,
       let (name, output) = model.namedModules.compactMap({ name, module in (module as? Linear<Scalar>).map { (name, $0) } })
           .last(where: { !branchLayers.contains(ObjectIdentifier($0.1)) }) {
        planned.append((output.weight, .zeros(output.weight.shape)))
        if let bias = output.bias { planned.append((bias, .zeros(bias.shape))) }
        zeroed = name
    }
    for (parameter, value) in planned { parameter.assign(value) }
    return FixupSummary(blockCount: blocks.count, branches: branches, zeroedOutputLayer: zeroed)
}
