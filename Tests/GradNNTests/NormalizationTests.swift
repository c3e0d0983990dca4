import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Batch norm, layer norm and dropout on small cases computed by hand, plus the entries these
// layers add to the finite-difference registry (`GradientCheckRegistryTests`).

// MARK: - Finite-difference registry entries

/// A batch norm with distinct γ and β, so a mix-up of channels shows.
private func batchNorm(_ channels: Int, momentum: Double? = 0.1, affine: Bool = true) -> BatchNorm1d<Double> {
    let bn = BatchNorm1d<Double>(numFeatures: channels, momentum: momentum, affine: affine)
    if affine {
        bn.weight!.assign(Tensor((0..<channels).map { 0.6 + 0.3 * Double($0) }))
        bn.bias!.assign(Tensor((0..<channels).map { -0.2 + 0.25 * Double($0) }))
    }
    return bn
}

/// The entries appended to `GradientRegistry.all`.
let normalizationGradientCases: [GradientCase] = [
    fd("batchNormalized op, batch statistics", [uniform([5, 3], seed: 300), Tensor([0.7, -1.2, 1.5]), Tensor([0.1, 0.4, -0.3])]) {
        batchNormalized($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output
    },
    fd("batchNormalized op on [N, C, L]", [uniform([3, 2, 4], seed: 301), Tensor([0.7, 1.3]), Tensor([0.2, -0.1])]) {
        batchNormalized($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5).output
    },
    fd("batchNormalized op, given statistics", [uniform([4, 3], seed: 302), Tensor([0.7, -1.2, 1.5]), Tensor([0.1, 0.4, -0.3])]) {
        batchNormalized($0[0], mean: Tensor([0.2, -0.1, 0.5]), variance: Tensor([0.8, 1.5, 0.3]),
                        weight: $0[1], bias: $0[2], epsilon: 1e-5)
    },
    fd("layerNormalized op", [uniform([4, 5], seed: 303), uniform([5], seed: 304), uniform([5], seed: 305)]) {
        layerNormalized($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2], epsilon: 1e-5)
    },
    moduleCase("BatchNorm1d, training mode", input: uniform([5, 3], seed: 310)) { batchNorm(3) },
    moduleCase("BatchNorm1d, training mode on [N, C, L]", input: uniform([3, 2, 4], seed: 311)) { batchNorm(2) },
    moduleCase("BatchNorm1d, training mode without affine", input: uniform([4, 3], seed: 312)) { batchNorm(3, affine: false) },
    moduleCase("BatchNorm1d, evaluation mode", input: uniform([4, 3], seed: 313)) {
        let bn = batchNorm(3)
        _ = withoutGradient { bn(uniform([6, 3], seed: 314) * 2 + 0.5) }
        bn.eval()
        return bn
    },
    moduleCase("LayerNorm, last axis", input: uniform([4, 5], seed: 320)) {
        let ln = LayerNorm<Double>(5)
        ln.weight!.assign(uniform([5], seed: 321, 0.5, 1.5))
        ln.bias!.assign(uniform([5], seed: 322))
        return ln
    },
    moduleCase("LayerNorm, last two axes", input: uniform([2, 3, 4], seed: 323)) {
        let ln = LayerNorm<Double>(normalizedShape: [3, 4])
        ln.weight!.assign(uniform([3, 4], seed: 324, 0.5, 1.5))
        ln.bias!.assign(uniform([3, 4], seed: 325))
        return ln
    },
    moduleCase("Residual, identity skip", input: uniform([5, 4], seed: 330)) {
        let g = RandomGenerator(seed: 331)
        return Residual<Double>(Sequential(Linear(4, 4, generator: g), Tanh(), Linear(4, 4, generator: g)))
    },
    moduleCase("Residual with a projection", input: uniform([5, 4], seed: 332)) {
        let g = RandomGenerator(seed: 333)
        return Residual<Double>(Sequential(Linear(4, 3, generator: g), Tanh()), projection: Linear(4, 3, bias: false, generator: g))
    },
    moduleCase("Residual, ReZero with α = 0.6", input: uniform([5, 4], seed: 334)) {
        let g = RandomGenerator(seed: 335)
        return Residual<Double>(Sequential(Linear(4, 4, generator: g), SiLU()), scaling: .learnable(initialValue: 0.6))
    },
    // A Linear bias right before a batch norm in training mode has gradient 0 (the mean is
    // subtracted), which the registry rejects as a check proving nothing: in training mode the
    // blocks' Linear layers have no bias; the factory-made blocks are checked in evaluation mode.
    moduleCase("Residual post-activation block with batch norm, training mode", input: uniform([6, 4], seed: 336)) {
        let g = RandomGenerator(seed: 337)
        return Residual<Double>(Sequential(Linear(4, 4, bias: false, generator: g), batchNorm(4), Tanh(),
                                           Linear(4, 4, bias: false, generator: g), batchNorm(4)),
                                activation: Tanh())
    },
    moduleCase("Residual pre-activation block with a projection, evaluation mode", input: uniform([6, 4], seed: 338)) {
        let block = Residual<Double>.block(inFeatures: 4, outFeatures: 3, activation: .tanh, variant: .preActivation,
                                           batchNorm: true, scaling: .learnable(initialValue: 0.8), generator: RandomGenerator(seed: 339))
        _ = withoutGradient { block(uniform([8, 4], seed: 342) * 1.5) }
        block.eval()
        return block
    },
    moduleCase("mlp with batch norm and residual blocks, evaluation mode", input: uniform([6, 2], seed: 340),
               loss: { meanSquaredError(predictions: $0, targets: Tensor.ones([6, 1])) }) {
        let model = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [5, 5, 5], outputSize: 1, activation: .tanh, batchNorm: true,
                                           residual: true, residualScaling: .learnable(initialValue: 0.5),
                                           generator: RandomGenerator(seed: 341))
        _ = withoutGradient { model(uniform([8, 2], seed: 343)) }
        model.eval()
        return model
    },
    moduleCase("mlp with ReZero residual blocks, training mode", input: uniform([6, 2], seed: 344),
               loss: { meanSquaredError(predictions: $0, targets: Tensor.ones([6, 1])) }) {
        let model = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [5, 5, 5], outputSize: 1, activation: .tanh, batchNorm: false,
                                           residual: true, residualScaling: .reZero, generator: RandomGenerator(seed: 345))
        for (_, block) in model.residualBlocks { block.alpha!.assign(Tensor([0.7])) }
        return model
    },
]

// MARK: - Hand-computed cases

@Suite struct NormalizationTests {
    /// The 3×2 batch of the hand computation: column means 3 and 6, biased variances 8/3 and 32/3.
    static let batch = Tensor<Double>([[1, 2], [3, 6], [5, 10]])

    @Test func batchNormOfAThreeByTwoBatch() {
        let bn = BatchNorm1d<Double>(numFeatures: 2)
        #expect(bn.namedParameters.map(\.0) == ["weight", "bias"])
        #expect(bn.weight!.value.scalars == [1, 1] && bn.bias!.value.scalars == [0, 0])
        #expect(bn.namedBuffers.map(\.0) == ["running_mean", "running_var", "num_batches_tracked"])
        let y = bn(Self.batch)
        // Column 0: (x − 3)/√(8/3 + ε); column 1: (x − 6)/√(32/3 + ε).
        let s0 = 1 / (8.0 / 3 + 1e-5).squareRoot(), s1 = 1 / (32.0 / 3 + 1e-5).squareRoot()
        let expected = [-2 * s0, -4 * s1, 0, 0, 2 * s0, 4 * s1]
        #expect(y.shape == [3, 2])
        for (got, want) in zip(y.scalars, expected) { #expect(isClose(got, want, rtol: 1e-14, atol: 1e-15), "\(got) vs \(want)") }
        // Numbers: −2/√(2.6666767) = −1.2247426.
        #expect(isClose(y.scalars[0], -1.2247426, rtol: 1e-7))

        // γ and β scale and shift each channel.
        bn.weight!.assign(Tensor([2, -1]))
        bn.bias!.assign(Tensor([0.5, 3]))
        let z = bn(Self.batch)
        for (i, (got, want)) in zip(z.scalars, expected).enumerated() {
            let w = i % 2 == 0 ? 2.0 : -1.0, b = i % 2 == 0 ? 0.5 : 3.0
            #expect(isClose(got, w * want + b, rtol: 1e-14, atol: 1e-14))
        }
    }

    @Test func batchNormGradientOfASumVanishes() {
        // Σ y = C·Σβ whatever x is: the input gradient is 0, dγ = Σ x̂ = 0, dβ = N.
        let bn = BatchNorm1d<Double>(numFeatures: 2)
        var x = Self.batch
        x.requiresGrad = true
        bn(x).sum().backward()
        #expect(x.grad!.scalars.allSatisfy { Swift.abs($0) < 1e-14 }, "\(x.grad!)")
        #expect(bn.weight!.grad!.scalars.allSatisfy { Swift.abs($0) < 1e-14 })
        #expect(bn.bias!.grad!.scalars == [3, 3])
        // A loss on one element: dx for column 0 with dy = (1, 0, 0), x̂ = (−a, 0, a), a = 2·s0:
        // dx = s0/3 · (3·dy − 1 − x̂·(−a)) = s0/3 · (3 − 1 − a², −1, −1 + a²).
        bn.zeroGrad()
        var x2 = Self.batch
        x2.requiresGrad = true
        bn(x2)[0].slice(axis: 0, 0..<1).sum().backward()
        let s0 = 1 / (8.0 / 3 + 1e-5).squareRoot(), a = 2 * s0
        let want = [s0 / 3 * (2 - a * a), s0 / 3 * -1, s0 / 3 * (-1 + a * a)]
        let got = [x2.grad![element: 0, 0], x2.grad![element: 1, 0], x2.grad![element: 2, 0]]
        for (g, w) in zip(got, want) { #expect(isClose(g, w, rtol: 1e-12, atol: 1e-14), "\(got) vs \(want)") }
        #expect([x2.grad![element: 0, 1], x2.grad![element: 1, 1], x2.grad![element: 2, 1]] == [0, 0, 0])
    }

    @Test func runningStatisticsAfterTwoSteps() {
        let bn = BatchNorm1d<Double>(numFeatures: 2)
        _ = bn(Self.batch)
        // Mean [3, 6]; unbiased variances 8/2 = 4 and 32/2 = 16.
        #expect(bn.runningMean.scalars.enumerated().allSatisfy { isClose($0.element, [0.3, 0.6][$0.offset], rtol: 1e-14) })
        #expect(bn.runningVar.scalars.enumerated().allSatisfy { isClose($0.element, [1.3, 2.5][$0.offset], rtol: 1e-14) })
        #expect(bn.numBatchesTracked == 1)
        _ = bn(Tensor([[0.0, 0], [2, 4]]))
        // Mean [1, 2]; unbiased variances 2 and 8: 0.9·[0.3, 0.6] + 0.1·[1, 2], 0.9·[1.3, 2.5] + 0.1·[2, 8].
        let mean = bn.runningMean.scalars, variance = bn.runningVar.scalars
        #expect(isClose(mean[0], 0.37, rtol: 1e-14) && isClose(mean[1], 0.74, rtol: 1e-14), "\(mean)")
        #expect(isClose(variance[0], 1.37, rtol: 1e-14) && isClose(variance[1], 3.05, rtol: 1e-14), "\(variance)")
        #expect(bn.numBatchesTracked == 2)
        let buffers = Dictionary(uniqueKeysWithValues: bn.namedBuffers)
        #expect(buffers["num_batches_tracked"]!.shape == [] && buffers["num_batches_tracked"]!.scalar == 2)
        #expect(buffers["running_mean"]!.scalars == mean)
    }

    @Test func cumulativeAverageWithoutMomentum() {
        let bn = BatchNorm1d<Double>(numFeatures: 2, momentum: nil)
        _ = bn(Self.batch)
        _ = bn(Tensor([[0.0, 0], [2, 4]]))
        // The plain average of the two batches' statistics.
        #expect(bn.runningMean.scalars == [2, 4])
        #expect(bn.runningVar.scalars == [3, 12])
        #expect(bn.summary == "BatchNorm1d(2, eps=1e-05, momentum=None, affine=True, track_running_stats=True)")
    }

    @Test func evaluationModeUsesTheRunningStatistics() {
        let bn = BatchNorm1d<Double>(numFeatures: 2)
        _ = bn(Self.batch)
        bn.weight!.assign(Tensor([2, 1]))
        bn.bias!.assign(Tensor([0, -1]))
        bn.eval()
        #expect(!bn.isTraining)
        // Running mean [0.3, 0.6], variance [1.3, 2.5]; one row works in evaluation mode.
        let y = bn(Tensor([[1.3, 0.6]]))
        #expect(isClose(y.scalars[0], 2 * 1 / (1.3 + 1e-5).squareRoot(), rtol: 1e-14))
        #expect(isClose(y.scalars[1], -1, rtol: 1e-14))
        #expect(bn.numBatchesTracked == 1, "evaluation does not update the statistics")
        #expect(isClose(bn.runningMean.scalars[0], 0.3, rtol: 1e-14) && isClose(bn.runningMean.scalars[1], 0.6, rtol: 1e-14))

        // Without running statistics, batch statistics are used in both modes, and there are no buffers.
        let plain = BatchNorm1d<Double>(numFeatures: 2, affine: false, trackRunningStats: false)
        #expect(plain.namedParameters.isEmpty && plain.namedBuffers.isEmpty)
        plain.eval()
        let z = plain(Self.batch)
        #expect(isClose(z.scalars[0], -2 / (8.0 / 3 + 1e-5).squareRoot(), rtol: 1e-14))
        #expect(plain.summary == "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)")
    }

    @Test func batchNormOnALengthAxis() {
        // [N = 2, C = 1, L = 2]: the channel's four values 1, 3, 5, 7: mean 4, biased variance 5.
        let bn = BatchNorm1d<Double>(numFeatures: 1)
        let y = bn(Tensor(shape: [2, 1, 2], scalars: [1, 3, 5, 7]))
        let s = 1 / (5 + 1e-5).squareRoot()
        #expect(y.shape == [2, 1, 2])
        for (got, want) in zip(y.scalars, [-3 * s, -s, s, 3 * s]) { #expect(isClose(got, want, rtol: 1e-14)) }
        // Running variance with the unbiased variance 20/3.
        #expect(isClose(bn.runningVar.scalars[0], 0.9 + 0.1 * 20 / 3, rtol: 1e-14))
        #expect(isClose(bn.runningMean.scalars[0], 0.4, rtol: 1e-14))
    }

    @Test func batchOfOneInTrainingStopsWithPyTorchsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm1d<Float>(numFeatures: 3)(Tensor<Float>.zeros([1, 3]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("Expected more than 1 value per channel when training"), "stderr: \(text)")
        #expect(text.contains("[1, 3]"), "stderr: \(text)")
    }

    @Test func wrongChannelCountNamesTheShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm1d<Float>(numFeatures: 3)(Tensor<Float>.zeros([4, 5]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[4, 5]") && text.contains("[N, 3]"), "stderr: \(text)")
    }

    @Test func floatBatchNormAgreesWithDouble() {
        // Large offsets: the two-pass variance keeps Float accurate.
        let x = Tensor<Double>.normal([64, 5], generator: RandomGenerator(seed: 9)) + 1000
        let yd = BatchNorm1d<Double>(numFeatures: 5)(x)
        let yf = BatchNorm1d<Float>(numFeatures: 5)(x.converted(to: Float.self))
        #expect(mismatch(yf.converted(to: Double.self), yd, rtol: 1e-3, atol: 1e-3) == nil)
    }

    // MARK: Layer norm

    @Test func layerNormByHand() {
        let ln = LayerNorm<Double>(3)
        #expect(ln.namedParameters.map(\.0) == ["weight", "bias"])
        #expect(ln.summary == "LayerNorm((3,), eps=1e-05, elementwise_affine=True)")
        // Row (1, 2, 3): mean 2, variance 2/3; row (0, 0, 6): mean 2, variance 8.
        let y = ln(Tensor([[1.0, 2, 3], [0, 0, 6]]))
        let s = 1 / (2.0 / 3 + 1e-5).squareRoot(), t = 1 / (8 + 1e-5).squareRoot()
        for (got, want) in zip(y.scalars, [-s, 0, s, -2 * t, -2 * t, 4 * t]) { #expect(isClose(got, want, rtol: 1e-14, atol: 1e-15)) }
        // The same in evaluation mode; γ and β per position.
        ln.eval()
        ln.weight!.assign(Tensor([1, 2, 3]))
        ln.bias!.assign(Tensor([0, 1, 0]))
        let z = ln(Tensor([[1.0, 2, 3]]))
        for (got, want) in zip(z.scalars, [-s, 1, 3 * s]) { #expect(isClose(got, want, rtol: 1e-14)) }

        let wide = LayerNorm<Float>(normalizedShape: [2, 3], elementwiseAffine: false)
        #expect(wide.namedParameters.isEmpty)
        #expect(wide.summary == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False)")
        let w = wide(Tensor<Float>(shape: [2, 2, 3], scalars: (0..<12).map(Float.init)))
        #expect(w.shape == [2, 2, 3])
        // Each example's six values are 0…5 and 6…11: the same normalized values.
        #expect(mismatch(w.slice(axis: 0, 0..<1), w.slice(axis: 0, 1..<2), rtol: 1e-6, atol: 1e-6) == nil)
        #expect(LayerNorm<Float>(4, bias: false).namedParameters.map(\.0) == ["weight"])
    }

    // MARK: Dropout

    @Test func dropoutScalesSurvivorsAndIsTheIdentityInEvaluation() {
        let dropout = Dropout<Double>(p: 0.25, generator: RandomGenerator(seed: 4))
        #expect(dropout.summary == "Dropout(p=0.25, inplace=False)")
        #expect(dropout.namedParameters.isEmpty)
        var x = Tensor<Double>.full([100, 100], 3)
        x.requiresGrad = true
        let y = dropout(x)
        let kept = y.scalars.filter { $0 != 0 }
        // Survivors are scaled by 1/(1 − p): 3 · 4/3 = 4.
        #expect(kept.allSatisfy { isClose($0, 4, rtol: 1e-15) })
        let fraction = Double(kept.count) / 10_000
        #expect(Swift.abs(fraction - 0.75) < 0.02, "kept \(fraction)")
        // The expected value is kept: the mean stays near 3.
        #expect(Swift.abs(y.mean().scalar - 3) < 0.1)
        // The gradient is the mask times 1/(1 − p).
        y.sum().backward()
        for (g, v) in zip(x.grad!.scalars, y.scalars) { #expect(g == (v == 0 ? 0 : 4.0 / 3)) }
        // A fresh mask each call.
        #expect(dropout(x).scalars != y.scalars)

        dropout.eval()
        let e = dropout(x)
        #expect(e.scalars == x.scalars)
    }

    @Test func dropoutIsReproducibleFromTheSeed() {
        let x = Tensor<Float>.ones([50])
        let a = Dropout<Float>(p: 0.5, generator: RandomGenerator(seed: 11))(x)
        let b = Dropout<Float>(p: 0.5, generator: RandomGenerator(seed: 11))(x)
        let c = Dropout<Float>(p: 0.5, generator: RandomGenerator(seed: 12))(x)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
        #expect(Set(a.scalars) == [0, 2])
        #expect(Dropout<Float>(p: 0, generator: RandomGenerator(seed: 1))(x).scalars == x.scalars)
        #expect(Dropout<Float>(p: 1, generator: RandomGenerator(seed: 1))(x).scalars.allSatisfy { $0 == 0 })
    }

    @Test func modeSwitchReachesNestedLayers() {
        let g = RandomGenerator(seed: 5)
        let model = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [4, 4], outputSize: 1, activation: .relu,
                                           batchNorm: true, residual: true, generator: g)
        model.eval()
        #expect(model.namedModules.allSatisfy { !$0.1.isTraining })
        model.train()
        #expect(model.namedModules.allSatisfy { $0.1.isTraining })
    }
}
