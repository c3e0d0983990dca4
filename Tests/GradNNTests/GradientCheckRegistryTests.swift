import Testing
import GradTensor
import GradNN
import GradTestSupport

// The finite-difference registry: every differentiable op, layer and loss of GradTensor and
// GradNN, checked against central differences in Double (step 1e-6, tolerance 1e-6 relative,
// 1e-8 absolute) by one parameterized test, one test case per entry.
//
// Ops that carry parameters are reached through exhaustive switches (`UnaryKind.init`,
// `binaryOrdinal`, `activationInput`), so adding a case to `UnaryOp`, `BinaryOp` or
// `Activation` stops this file from compiling until the new case has a check here.

/// One finite-difference check of the registry.
struct GradientCase: Sendable, CustomTestStringConvertible {
    /// What is checked, as shown in the test list.
    let name: String
    /// Whether the true gradient is non-zero somewhere (false for `sign`); guards against checks
    /// that pass only because everything is zero.
    let expectsNonzeroGradient: Bool
    /// Runs the check.
    let run: @Sendable () -> GradientCheckReport

    var testDescription: String { name }
}

// MARK: - Inputs and helpers

/// Six values away from the kinks at 0 and ±1 and from each other.
let mixedValues: [Double] = [-1.7, -0.9, -0.35, 0.42, 0.8, 1.3]
/// Six positive values away from 0.
let positiveValues: [Double] = [0.3, 0.7, 1.1, 1.6, 2.3, 3.1]

/// `values` repeated to fill `shape`, each repetition 10% larger than the last.
func cycling(_ values: [Double], _ shape: [Int]) -> Tensor<Double> {
    let n = shape.reduce(1, *)
    var scalars: [Double] = []
    for i in 0..<n {
        let growth: Double = 1 + 0.1 * Double(i / values.count)
        scalars.append(values[i % values.count] * growth)
    }
    return Tensor(shape: shape, scalars: scalars)
}

func mixed(_ shape: [Int] = [2, 3]) -> Tensor<Double> { cycling(mixedValues, shape) }
func positive(_ shape: [Int] = [2, 3]) -> Tensor<Double> { cycling(positiveValues, shape) }

/// Uniform values on `[low, high)` from a fixed seed.
func uniform(_ shape: [Int], seed: UInt64, _ low: Double = -1.5, _ high: Double = 1.5) -> Tensor<Double> {
    Tensor.uniform(shape, low: low, high: high, generator: RandomGenerator(seed: seed))
}

/// Uniform magnitudes in `[0.3, 1.5)` with random signs: away from 0.
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    let g = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<n).map { _ in
        (0.3 + 1.2 * g.nextUnitDouble()) * (g.next() & 1 == 0 ? 1 : -1)
    })
}

/// `Σ y ⊙ w` with fixed pseudo-random weights `w`: a scalar that depends on every element of `y`
/// with a different weight, so a gradient routed to the wrong element is caught.
func projected(_ y: Tensor<Double>) -> Tensor<Double> {
    let w = Tensor<Double>.normal(y.shape, generator: RandomGenerator(seed: 20_240_601))
    return (y * w).sum()
}

/// An entry checking `projected(f(inputs))` with respect to every input.
func fd(
    _ name: String, _ inputs: [Tensor<Double>], nonzero: Bool = true,
    _ f: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>
) -> GradientCase {
    GradientCase(name: name, expectsNonzeroGradient: nonzero) {
        checkGradients(at: inputs) { projected(f($0)) }
    }
}

/// An entry checking a module built by `make` with respect to its input and its parameters
/// (by name), through `loss` of its output (default: `projected`).
func moduleCase(
    _ name: String, input: Tensor<Double>,
    loss: @escaping @Sendable (Tensor<Double>) -> Tensor<Double> = projected,
    _ make: @escaping @Sendable () -> any Module<Double>
) -> GradientCase {
    GradientCase(name: name, expectsNonzeroGradient: true) {
        let module = make()
        var x = Tensor(shape: input.shape, scalars: input.scalars)
        x.requiresGrad = true
        let named = [("input", x)] + module.namedParameters.map { ($0.0, $0.1.value) }
        return checkGradients(named: named) { loss(module(x)) }
    }
}

// MARK: - Unary ops

/// Every case of `UnaryOp`, without its parameters.
enum UnaryKind: String, CaseIterable, Sendable {
    case negate, exp, log, log1p, sqrt, abs, sign, square, reciprocal, sin, cos
    case addScalar, multiplyScalar, power, clamp, sigmoid, tanh, relu, leakyReLU, elu, selu
    case gelu, geluTanh, softplus, silu, hardtanh, softsign

    /// The kind of `op`. Exhaustive on purpose: a new `UnaryOp` case fails to compile here.
    init(_ op: UnaryOp<Double>) {
        switch op {
        case .negate: self = .negate
        case .exp: self = .exp
        case .log: self = .log
        case .log1p: self = .log1p
        case .sqrt: self = .sqrt
        case .abs: self = .abs
        case .sign: self = .sign
        case .square: self = .square
        case .reciprocal: self = .reciprocal
        case .sin: self = .sin
        case .cos: self = .cos
        case .addScalar: self = .addScalar
        case .multiplyScalar: self = .multiplyScalar
        case .power: self = .power
        case .clamp: self = .clamp
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .relu: self = .relu
        case .leakyReLU: self = .leakyReLU
        case .elu: self = .elu
        case .selu: self = .selu
        case .gelu: self = .gelu
        case .geluTanh: self = .geluTanh
        case .softplus: self = .softplus
        case .silu: self = .silu
        case .hardtanh: self = .hardtanh
        case .softsign: self = .softsign
        }
    }

    /// Instances of this kind to check, each with an input in its smooth domain.
    var samples: [(op: UnaryOp<Double>, input: Tensor<Double>)] {
        switch self {
        case .negate: [(.negate, mixed())]
        case .exp: [(.exp, mixed())]
        case .log: [(.log, positive())]
        case .log1p: [(.log1p, Tensor([-0.6, -0.2, 0.1, 0.9, 2.5, 7]))]
        case .sqrt: [(.sqrt, positive())]
        case .abs: [(.abs, mixed())]
        case .sign: [(.sign, mixed())]
        case .square: [(.square, mixed())]
        case .reciprocal: [(.reciprocal, mixed())]
        case .sin: [(.sin, mixed())]
        case .cos: [(.cos, mixed())]
        case .addScalar: [(.addScalar(0.75), mixed())]
        case .multiplyScalar: [(.multiplyScalar(-1.25), mixed())]
        case .power:
            [(.power(3), mixed()), (.power(2), mixed()), (.power(-1), mixed()), (.power(0.5), positive()),
             (.power(-1.5), positive()), (.power(2.7), positive()),
             (.power(1), Tensor([-1.2, 0, 0.7])), (.power(0), Tensor([-1.2, 0, 0.7]))]
        case .clamp: [(.clamp(low: -0.5, high: 0.7), mixed())]
        case .sigmoid: [(.sigmoid, mixed() * 3)]
        case .tanh: [(.tanh, mixed())]
        case .relu: [(.relu, mixed())]
        case .leakyReLU: [(.leakyReLU(slope: 0.01), mixed()), (.leakyReLU(slope: 0.3), mixed())]
        case .elu: [(.elu(alpha: 1), mixed()), (.elu(alpha: 0.5), mixed())]
        case .selu: [(.selu, mixed())]
        case .gelu: [(.gelu, mixed() * 2)]
        case .geluTanh: [(.geluTanh, mixed() * 2)]
        case .softplus:
            // β·x on both sides of the threshold (x > 1.5 is linear for β = 2, threshold 3).
            [(.softplus(beta: 1, threshold: 20), mixed() * 3), (.softplus(beta: 2, threshold: 3), positive())]
        case .silu: [(.silu, mixed() * 2)]
        case .hardtanh: [(.hardtanh(low: -1, high: 1), mixed()), (.hardtanh(low: -0.5, high: 2), mixed())]
        case .softsign: [(.softsign, mixed() * 2)]
        }
    }
}

let unaryCases: [GradientCase] = UnaryKind.allCases.flatMap { kind in
    kind.samples.map { sample in
        let op = sample.op
        let zeroGradient = kind == .sign || op == .power(0)
        return fd("unary \(op)", [sample.input], nonzero: !zeroGradient) { $0[0].applying(op) }
    }
}

// MARK: - Binary ops

/// Every `BinaryOp`, in the order of `binaryOrdinal`.
let allBinaryOps: [BinaryOp] = [
    .add, .subtract, .multiply, .divide, .power, .maximum, .minimum,
    .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual,
]

/// The position of `op` in `allBinaryOps`. Exhaustive on purpose: a new `BinaryOp` case fails
/// to compile here.
func binaryOrdinal(_ op: BinaryOp) -> Int {
    switch op {
    case .add: 0
    case .subtract: 1
    case .multiply: 2
    case .divide: 3
    case .power: 4
    case .maximum: 5
    case .minimum: 6
    case .equal: 7
    case .notEqual: 8
    case .less: 9
    case .lessEqual: 10
    case .greater: 11
    case .greaterEqual: 12
    }
}

/// Whether `op` is differentiable (comparisons are not: their results never require grad).
func isDifferentiable(_ op: BinaryOp) -> Bool {
    switch op {
    case .add, .subtract, .multiply, .divide, .power, .maximum, .minimum: true
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: false
    }
}

/// Broadcasting shape pairs every differentiable binary op is checked on.
let broadcastPairs: [([Int], [Int])] = [([3, 1], [1, 4]), ([2, 3], [3]), ([2, 3], [2, 3]), ([], [2, 3]), ([2, 1, 3], [4, 1])]

let binaryCases: [GradientCase] = allBinaryOps.filter(isDifferentiable).flatMap { op -> [GradientCase] in
    broadcastPairs.enumerated().map { index, pair in
        let seed = UInt64(100 + 10 * binaryOrdinal(op) + index)
        let a: Tensor<Double>, b: Tensor<Double>
        switch op {
        case .power:
            a = uniform(pair.0, seed: seed, 0.5, 2)
            b = uniform(pair.1, seed: seed + 1, -1.5, 1.5)
        case .divide:
            a = uniform(pair.0, seed: seed)
            b = awayFromZero(pair.1, seed: seed + 1)
        default:
            a = uniform(pair.0, seed: seed)
            b = uniform(pair.1, seed: seed + 1)
        }
        return fd("binary \(op) \(pair.0) with \(pair.1)", [a, b]) { $0[0].broadcasting(op, $0[1]) }
    }
} + [
    // Ties: the gradient is split evenly, which is what central differences see for two-way ties.
    fd("maximum with ties", [Tensor([1.0, 2, -3, 0.5]), Tensor([1.0, 1.5, -3, 0.7])]) { $0[0].maximum($0[1]) },
    fd("minimum with ties", [Tensor([1.0, 2, -3, 0.5]), Tensor([1.0, 1.5, -3, 0.7])]) { $0[0].minimum($0[1]) },
    // A negative base with whole exponents is real (the exponent is a constant here: the
    // derivative with respect to it, a^b·log a, is NaN for a < 0).
    fd("power of a negative base with whole exponents", [mixed([3])]) { $0[0].pow(Tensor([2.0, 3, -1])) },
    fd("power with the exponent 0 at base 0", [Tensor([0.0, 1.5])]) { $0[0].pow(Tensor([0.0, 2])) },
    // The operators with a scalar on either side.
    fd("tensor + scalar, scalar − tensor", [mixed()]) { (0.5 - ($0[0] + 2)) * 1.5 },
    fd("tensor / scalar, scalar / tensor", [mixed()]) { 2 / ($0[0] / 4) },
    fd("compound assignment operators", [mixed(), positive()]) {
        var y = $0[0]
        y += $0[1]; y -= $0[1] * $0[1]; y *= $0[0]; y /= $0[1]
        return y
    },
    fd("the same tensor on both sides", [mixed()]) { $0[0] * $0[0] + $0[0] / ($0[0] + 10) },
]

// MARK: - Reductions

let reductionCases: [GradientCase] = [
    fd("sum", [mixed()]) { $0[0].sum() },
    fd("sum axis 0", [mixed([2, 3, 4])]) { $0[0].sum(axis: 0) },
    fd("sum axis −1 keeping dimension", [mixed([2, 3, 4])]) { $0[0].sum(axis: -1, keepingDimension: true) },
    fd("sum axes [0, 2]", [mixed([2, 3, 4])]) { $0[0].sum(axes: [0, 2]) },
    fd("sum axes [2, 1] keeping dimensions", [mixed([2, 3, 4])]) { $0[0].sum(axes: [2, 1], keepingDimension: true) },
    fd("sum to shape", [mixed([2, 3, 4])]) { $0[0].sum(toShape: [3, 1]) },
    fd("mean", [mixed()]) { $0[0].mean() },
    fd("mean axis 1", [mixed([2, 3, 4])]) { $0[0].mean(axis: 1) },
    fd("mean axes [0, 1] keeping dimensions", [mixed([2, 3, 4])]) { $0[0].mean(axes: [0, 1], keepingDimension: true) },
    fd("max", [mixed()]) { $0[0].max() },
    fd("min", [mixed()]) { $0[0].min() },
    fd("max axis 1", [uniform([3, 4], seed: 1)]) { $0[0].max(axis: 1) },
    fd("min axis 0 keeping dimension", [uniform([3, 4], seed: 2)]) { $0[0].min(axis: 0, keepingDimension: true) },
    fd("max with a two-way tie", [Tensor([1.0, 3, 3, 2])]) { $0[0].max() },
    fd("min with a two-way tie", [Tensor([1.0, -3, 2, -3])]) { $0[0].min() },
    fd("max axis with ties", [Tensor([[1.0, 4, 4], [2, 0, 1]])]) { $0[0].max(axis: 1) },
    fd("min axis with ties", [Tensor([[1.0, 4, 1], [2, 0, 1]])]) { $0[0].min(axis: 1) },
    fd("variance unbiased", [mixed()]) { $0[0].variance() },
    fd("variance biased", [mixed()]) { $0[0].variance(unbiased: false) },
    fd("variance axis 1", [mixed([3, 4])]) { $0[0].variance(axis: 1) },
    fd("variance axis 0 biased keeping dimension", [mixed([3, 4])]) { $0[0].variance(axis: 0, unbiased: false, keepingDimension: true) },
    fd("standard deviation", [mixed()]) { $0[0].standardDeviation() },
    fd("norm p = 2", [mixed()]) { $0[0].norm() },
    fd("norm p = 1", [mixed()]) { $0[0].norm(1) },
    fd("norm p = ∞", [mixed()]) { $0[0].norm(.infinity) },
    fd("norm p = 3", [mixed()]) { $0[0].norm(3) },
    fd("norm p = 2 axis 1", [mixed([3, 4])]) { $0[0].norm(2, axis: 1) },
    fd("norm p = 2 axis −1 keeping dimension", [mixed([2, 3, 4])]) { $0[0].norm(2, axis: -1, keepingDimension: true) },
    fd("norm p = 1 axis 0", [mixed([3, 4])]) { $0[0].norm(1, axis: 0) },
    fd("norm p = ∞ axis 1", [uniform([3, 4], seed: 3)]) { $0[0].norm(.infinity, axis: 1, keepingDimension: true) },
    fd("norm p = 3 axis 1", [mixed([3, 4])]) { $0[0].norm(3, axis: 1) },
]

// MARK: - Shape ops

let shapeCases: [GradientCase] = [
    fd("reshape", [mixed([2, 3, 4])]) { $0[0].reshaped([4, -1]) },
    fd("flatten", [mixed([2, 3, 4])]) { $0[0].flattened() },
    fd("unsqueeze and squeeze", [mixed([2, 3])]) { $0[0].unsqueezed(axis: 1).squeezed() * $0[0].unsqueezed(axis: -1).squeezed(axis: 2) },
    fd("permute", [mixed([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) },
    fd("transpose", [mixed([2, 3, 4])]) { $0[0].transposed() },
    fd("slice axis 1", [mixed([2, 5, 3])]) { $0[0].slice(axis: 1, 1..<4) },
    fd("slice axis 0", [mixed([4, 3])]) { $0[0].slice(2..<4) },
    fd("gather with repeats", [mixed([3, 4])]) { $0[0].gathering([2, 0, 2, 2, 1], axis: 0) },
    fd("gather axis 1 with repeats", [mixed([3, 4])]) { $0[0].gathering([3, 3, 0], axis: 1) },
    fd("concatenate axis 0", [mixed([2, 3]), positive([1, 3]), uniform([3, 3], seed: 4)]) { Tensor.concatenate($0, axis: 0) },
    fd("concatenate axis 1", [mixed([2, 3]), positive([2, 1])]) { Tensor.concatenate($0, axis: 1) },
    fd("stack axis 0", [mixed([2, 3]), positive([2, 3])]) { Tensor.stack($0, axis: 0) },
    fd("stack axis −1", [mixed([2, 3]), positive([2, 3])]) { Tensor.stack($0, axis: -1) },
    fd("subscript", [mixed([3, 4])]) { $0[0][1] * $0[0][-1] },
    fd("expand", [mixed([3, 1])]) { $0[0].expanded(to: [2, 3, 4]) },
    fd("where with broadcasting", [mixed([2, 3]), positive([3])]) {
        Tensor.where(Tensor([[1.0, 0, 1], [0, 0, 1]]), $0[0], $0[1])
    },
    fd("clamped", [mixed()]) { $0[0].clamped(min: -1, max: 0.5) },
]

// MARK: - Matrix products, activations with weights, softmax

let matmulCases: [GradientCase] = [
    fd("matmul 2-D", [uniform([3, 4], seed: 5), uniform([4, 2], seed: 6)]) { matmul($0[0], $0[1]) },
    fd("matmul batched", [uniform([2, 3, 4], seed: 7), uniform([2, 4, 5], seed: 8)]) { matmul($0[0], $0[1]) },
    fd("matmul batched · shared matrix", [uniform([2, 3, 4], seed: 9), uniform([4, 5], seed: 10)]) { matmul($0[0], $0[1]) },
    fd("matmul shared matrix · batched", [uniform([3, 4], seed: 11), uniform([2, 4, 5], seed: 12)]) { matmul($0[0], $0[1]) },
    fd("matmul 4-D batched", [uniform([2, 2, 3, 2], seed: 13), uniform([2, 2, 2, 3], seed: 14)]) { matmul($0[0], $0[1]) },
    fd("matmul broadcast batch axes", [uniform([2, 1, 3, 2], seed: 15), uniform([3, 2, 2], seed: 16)]) { matmul($0[0], $0[1]) },
    fd("linear with bias", [uniform([5, 3], seed: 15), uniform([4, 3], seed: 16), uniform([4], seed: 17)]) {
        linear($0[0], weight: $0[1], bias: $0[2])
    },
    fd("linear without bias", [uniform([5, 3], seed: 18), uniform([4, 3], seed: 19)]) { linear($0[0], weight: $0[1], bias: nil) },
    fd("linear on a 3-D input", [uniform([2, 5, 3], seed: 20), uniform([4, 3], seed: 21), uniform([4], seed: 22)]) {
        linear($0[0], weight: $0[1], bias: $0[2])
    },
    fd("linear on a 1-D input", [uniform([3], seed: 23), uniform([4, 3], seed: 24), uniform([4], seed: 25)]) {
        linear($0[0], weight: $0[1], bias: $0[2])
    },
    // Stages with and without bias and activation, on a 3-D input.
    fd("linearChain", [uniform([2, 3, 3], seed: 160), uniform([4, 3], seed: 161), uniform([4], seed: 162),
                       uniform([5, 4], seed: 163), uniform([2, 5], seed: 164), uniform([2], seed: 165)]) {
        linearChain($0[0], [LinearChainStage(weight: $0[1], bias: $0[2], activation: .tanh),
                            LinearChainStage(weight: $0[3], bias: nil, activation: .softplus(beta: 1, threshold: 20)),
                            LinearChainStage(weight: $0[4], bias: $0[5], activation: nil)])
    },
]

let activationFunctionCases: [GradientCase] = [
    fd("logSoftmax last axis", [uniform([3, 5], seed: 26, -3, 3)]) { logSoftmax($0[0]) },
    fd("logSoftmax axis 0", [uniform([3, 5], seed: 27, -3, 3)]) { logSoftmax($0[0], axis: 0) },
    fd("logSoftmax axis 1 of 3-D", [uniform([2, 3, 4], seed: 28, -3, 3)]) { logSoftmax($0[0], axis: 1) },
    fd("softmax", [uniform([3, 5], seed: 29, -3, 3)]) { softmax($0[0]) },
    fd("softmax axis 0", [uniform([3, 5], seed: 30, -3, 3)]) { softmax($0[0], axis: 0) },
    fd("prelu with one slope", [awayFromZero([4, 3], seed: 31), Tensor([0.2])]) { prelu($0[0], weight: $0[1]) },
    fd("prelu per channel", [awayFromZero([4, 3], seed: 32), Tensor([0.2, -0.1, 0.7])]) { prelu($0[0], weight: $0[1]) },
    fd("prelu per channel on [n, c, length]", [awayFromZero([2, 3, 4], seed: 33), Tensor([0.2, -0.1, 0.7])]) {
        prelu($0[0], weight: $0[1])
    },
    fd("leakyReLU function", [mixed()]) { leakyReLU($0[0], negativeSlope: 0.2) },
    fd("elu function", [mixed()]) { elu($0[0], alpha: 0.7) },
    fd("gelu function, tanh form", [mixed()]) { gelu($0[0], approximateTanh: true) },
    fd("softplus function", [mixed() * 8]) { softplus($0[0], beta: 1.5, threshold: 10) },
    fd("hardtanh function", [mixed()]) { hardtanh($0[0], minValue: -0.5, maxValue: 1.0) },
]

// MARK: - Losses

let allReductions: [Reduction] = [.mean, .sum, .none]

let lossCases: [GradientCase] = allReductions.flatMap { r -> [GradientCase] in
    [
        fd("meanSquaredError \(r)", [uniform([4, 3], seed: 40), uniform([4, 3], seed: 41)]) {
            meanSquaredError(predictions: $0[0], targets: $0[1], reduction: r)
        },
        fd("l1Loss \(r)", [uniform([4, 3], seed: 42), uniform([4, 3], seed: 43)]) {
            l1Loss(predictions: $0[0], targets: $0[1], reduction: r)
        },
        // Differences on both sides of δ = 0.8 (none within 1e-3 of it).
        fd("huberLoss \(r)", [uniform([4, 3], seed: 44, -2, 2), uniform([4, 3], seed: 45, -2, 2)]) {
            huberLoss(predictions: $0[0], targets: $0[1], delta: 0.8, reduction: r)
        },
        fd("huberLoss δ = 1 \(r)", [mixed([4, 3]), Tensor<Double>.zeros([4, 3])]) {
            huberLoss(predictions: $0[0], targets: $0[1], reduction: r)
        },
        fd("binaryCrossEntropy \(r)", [uniform([4, 3], seed: 46, 0.05, 0.95), uniform([4, 3], seed: 47, 0, 1)]) {
            binaryCrossEntropy(predictions: $0[0], targets: $0[1], reduction: r)
        },
        fd("binaryCrossEntropyWithLogits \(r)", [uniform([4, 3], seed: 48, -4, 4), uniform([4, 3], seed: 49, 0, 1)]) {
            binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], reduction: r)
        },
        fd("crossEntropy \(r)", [uniform([4, 5], seed: 50, -3, 3)]) {
            crossEntropy(logits: $0[0], labels: [1, 4, 0, 1], reduction: r)
        },
    ]
} + [
    // Logits exactly 0 (a zero-initialized output layer): the gradient is σ(0) − t.
    // (The gradient with respect to the targets, −z, is zero here.)
    fd("binaryCrossEntropyWithLogits at logit 0", [Tensor<Double>.zeros([4]), Tensor([0.0, 1, 0.3, 1])], nonzero: false) {
        binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1])
    },
    fd("binaryCrossEntropyWithLogits large logits", [Tensor([-40.0, -25, 30, 45]), Tensor([0.0, 1, 0.3, 1])]) {
        binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], reduction: .sum)
    },
]

// MARK: - Layers

/// An input for the layer of `activation`, away from its kinks. Exhaustive on purpose: a new
/// `Activation` case fails to compile here.
func activationInput(for activation: Activation) -> Tensor<Double> {
    switch activation {
    case .sigmoid, .tanh, .elu, .selu, .gelu, .softplus, .silu, .softsign, .linear: mixed([3, 4]) * 2
    case .relu, .leakyRelu, .prelu, .hardtanh: mixed([3, 4])
    }
}

let activationLayerCases: [(activation: Activation, check: GradientCase)] = Activation.allCases.map { activation in
    (activation, moduleCase("layer of activation \(activation)", input: activationInput(for: activation)) {
        activation.makeLayer(Double.self)
    })
}

/// A three-layer MLP with a classification loss.
func makeMLP() -> Sequential<Double> {
    let g = RandomGenerator(seed: 60)
    return Sequential(Linear<Double>(4, 8, generator: g), Tanh(), Linear<Double>(8, 6, generator: g), SiLU(),
                      Linear<Double>(6, 3, generator: g))
}

let layerCases: [GradientCase] = activationLayerCases.map(\.check) + [
    moduleCase("Linear", input: uniform([5, 3], seed: 61)) { Linear<Double>(3, 4, generator: RandomGenerator(seed: 62)) },
    moduleCase("Linear without bias", input: uniform([5, 3], seed: 63)) {
        Linear<Double>(3, 4, bias: false, generator: RandomGenerator(seed: 64))
    },
    moduleCase("Linear on a 3-D input", input: uniform([2, 5, 3], seed: 65)) {
        Linear<Double>(3, 2, generator: RandomGenerator(seed: 66))
    },
    moduleCase("Sequential Linear, Tanh, Linear", input: uniform([6, 3], seed: 67)) {
        let g = RandomGenerator(seed: 68)
        return Sequential(Linear<Double>(3, 5, generator: g), Tanh(), Linear<Double>(5, 2, generator: g))
    },
    moduleCase("Sequential, unfused", input: uniform([6, 3], seed: 166)) {
        let g = RandomGenerator(seed: 167)
        let model = Sequential(Linear<Double>(3, 5, generator: g), Tanh(), Linear<Double>(5, 2, generator: g))
        model.fusesLinearChains = false
        return model
    },
    moduleCase("PReLU layer, one slope", input: awayFromZero([4, 3], seed: 69)) { PReLU<Double>() },
    moduleCase("PReLU layer per channel", input: awayFromZero([4, 3, 2], seed: 70)) {
        PReLU<Double>(parameterCount: 3, initialValue: 0.1)
    },
    moduleCase("LeakyReLU layer, slope 0.2", input: mixed([3, 4])) { LeakyReLU<Double>(negativeSlope: 0.2) },
    moduleCase("ELU layer, α 0.5", input: mixed([3, 4])) { ELU<Double>(alpha: 0.5) },
    moduleCase("GELU layer, tanh form", input: mixed([3, 4])) { GELU<Double>(approximateTanh: true) },
    moduleCase("Softplus layer, β 2", input: mixed([3, 4]) * 3) { Softplus<Double>(beta: 2, threshold: 5) },
    moduleCase("Hardtanh layer, [−0.5, 2]", input: mixed([3, 4])) { Hardtanh<Double>(minValue: -0.5, maxValue: 2) },
    moduleCase("Identity", input: mixed([3, 4])) { Identity<Double>() },
    moduleCase("Flatten", input: mixed([2, 3, 2])) { Flatten<Double>() },
    moduleCase("3-layer MLP with cross-entropy", input: uniform([6, 4], seed: 71),
               loss: { crossEntropy(logits: $0, labels: [0, 2, 1, 1, 0, 2]) }) { makeMLP() },
    moduleCase("3-layer ReLU MLP with MSE", input: uniform([6, 4], seed: 72),
               loss: { meanSquaredError(predictions: $0, targets: Tensor.ones([6, 1])) }) {
        let g = RandomGenerator(seed: 73)
        return Sequential(Linear<Double>(4, 8, generator: g), ReLU(), Linear<Double>(8, 8, generator: g), ReLU(),
                          Linear<Double>(8, 1, generator: g))
    },
]

// MARK: - The registry

/// Every finite-difference check, in one list.
enum GradientRegistry {
    static let all: [GradientCase] =
        unaryCases + binaryCases + reductionCases + shapeCases + matmulCases + activationFunctionCases + lossCases + layerCases
            + normalizationGradientCases + recurrentGradientCases
}

@Suite struct GradientCheckRegistryTests {
    @Test(arguments: GradientRegistry.all)
    func finiteDifferencesAgree(_ check: GradientCase) {
        let report = check.run()
        #expect(report.passed, "\(check.name): \(report)")
        #expect(!report.entries.isEmpty)
        if check.expectsNonzeroGradient {
            for entry in report.entries {
                #expect(entry.maxNumericMagnitude > 1e-4, "\(check.name): \(entry.name) has an all-zero gradient, the check proves nothing")
                #expect(entry.hasAnalyticGradient, "\(check.name): autodiff gave no gradient for \(entry.name)")
            }
        }
    }

    @Test func registryNamesAreUnique() {
        let names = GradientRegistry.all.map(\.name)
        #expect(Set(names).count == names.count, "duplicate names: \(names.filter { n in names.filter { $0 == n }.count > 1 })")
    }

    @Test func everyUnaryKindHasSamplesOfItsOwnKind() {
        for kind in UnaryKind.allCases {
            #expect(!kind.samples.isEmpty, "\(kind) has no check")
            for sample in kind.samples {
                #expect(UnaryKind(sample.op) == kind, "sample \(sample.op) listed under \(kind)")
                #expect(sample.op.name == kind.rawValue)
                var x = sample.input
                x.requiresGrad = true
                #expect(x.applying(sample.op).gradientOp == kind.rawValue)
            }
        }
    }

    @Test func everyBinaryOpIsListedOnce() {
        #expect(allBinaryOps.map(binaryOrdinal) == Array(0..<allBinaryOps.count))
        let checked = Set(binaryCases.map(\.name).compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) })
        for op in allBinaryOps where isDifferentiable(op) { #expect(checked.contains("\(op)"), "no check for \(op)") }
    }

    @Test func comparisonsDoNotRecord() {
        var a = mixed(); a.requiresGrad = true
        for op in allBinaryOps where !isDifferentiable(op) {
            let y = a.broadcasting(op, positive())
            #expect(!y.requiresGrad, "\(op) recorded a gradient")
        }
    }

    @Test func registryCoversEveryActivation() {
        #expect(Set(activationLayerCases.map(\.activation)) == Set(Activation.allCases))
        #expect(activationLayerCases.count == Activation.allCases.count)
        for (activation, check) in activationLayerCases { #expect(check.name.hasSuffix("\(activation)")) }
    }

    @Test func registryCoversEveryLossAndReduction() {
        let names = lossCases.map(\.name)
        for loss in ["meanSquaredError", "l1Loss", "huberLoss", "binaryCrossEntropy", "binaryCrossEntropyWithLogits", "crossEntropy"] {
            for r in allReductions { #expect(names.contains("\(loss) \(r)"), "no check for \(loss) with reduction \(r)") }
        }
    }

    @Test func moduleCheckNamesParametersAndFindsTheWorst() {
        let model = makeMLP()
        let x = uniform([5, 4], seed: 80)
        let report = model.checkGradients { crossEntropy(logits: model(x), labels: [0, 1, 2, 0, 1]) }
        #expect(report.passed, "\(report)")
        #expect(report.entries.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(report["2.weight"]?.shape == [6, 8])
        #expect(report.worstEntries.count == 6)
        #expect(report.worstEntries.first!.worstRatio >= report.worstEntries.last!.worstRatio)
        // The parameters are restored exactly, and no gradient is left behind.
        #expect(model.parameters.allSatisfy { $0.grad == nil })
        #expect(makeMLP().parameters.map(\.value.scalars) == model.parameters.map(\.value.scalars))
    }
}
