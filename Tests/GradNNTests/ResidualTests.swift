import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Residual blocks, the MLP shorthand with batch norm and residual blocks, and Fixup, on small
// cases computed by hand.

/// A `Linear` with the given weight rows and bias.
private func fixedLinear(_ weight: [[Double]], _ bias: [Double]?) -> Linear<Double> {
    let layer = Linear<Double>(weight[0].count, weight.count, bias: bias != nil, generator: RandomGenerator(seed: 0))
    layer.weight.assign(Tensor(weight))
    if let bias { layer.bias!.assign(Tensor(bias)) }
    return layer
}

/// The module types of a list, without generic arguments (`Linear`, `BatchNorm1d`, ...).
private func typeNames(_ modules: [any Module<Double>]) -> [String] {
    modules.map { String(String(describing: type(of: $0)).prefix { $0 != "<" }) }
}

@Suite struct ResidualTests {
    static let x = Tensor<Double>([[1, -2, 0.5], [0, 3, -1]])

    @Test func identityBranchDoublesTheInput() {
        let block = Residual<Double>(Identity())
        var x = Self.x
        x.requiresGrad = true
        let y = block(x)
        #expect(y.scalars == Self.x.scalars.map { 2 * $0 })
        y.sum().backward()
        // Both paths carry the gradient: 1 + 1.
        #expect(x.grad!.scalars.allSatisfy { $0 == 2 })
        #expect(block.namedParameters.isEmpty)
        #expect(block.children.map(\.0) == ["body"])
    }

    @Test func zeroBranchIsTheIdentity() {
        let block = Residual<Double>(fixedLinear([[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 0, 0]))
        var x = Self.x
        x.requiresGrad = true
        let y = block(x)
        #expect(y.scalars == Self.x.scalars)
        (y * y).sum().backward()
        // d/dx Σ y² = 2y through the skip path; the branch weight still gets 2·yᵀx.
        #expect(x.grad!.scalars == Self.x.scalars.map { 2 * $0 })
        #expect(block.namedParameters.map(\.0) == ["body.weight", "body.bias"])
        #expect(block.namedParameters[0].1.grad!.scalars.contains { $0 != 0 })
    }

    @Test func projectionOnTheSkipPath() {
        // F(x) = W x + b with W = [[1, 0, 0], [0, 1, 1]], b = (0.5, 0); P = [[0, 0, 2], [1, 0, 0]].
        let block = Residual<Double>(fixedLinear([[1, 0, 0], [0, 1, 1]], [0.5, 0]),
                                     projection: fixedLinear([[0, 0, 2], [1, 0, 0]], nil))
        let y = block(Self.x)
        // Row (1, −2, 0.5): F = (1.5, −1.5), P = (1, 1) → (2.5, −0.5). Row (0, 3, −1): F = (0.5, 2), P = (−2, 0) → (−1.5, 2).
        #expect(y.scalars == [2.5, -0.5, -1.5, 2])
        #expect(block.namedParameters.map(\.0) == ["body.weight", "body.bias", "projection.weight"])
    }

    @Test func reZeroStartsAsTheIdentityAndLearnsAlpha() {
        let g = RandomGenerator(seed: 3)
        let body = Sequential<Double>(Linear(3, 3, generator: g), Tanh())
        let block = Residual<Double>(body, scaling: .reZero)
        #expect(ResidualScaling.reZero == .learnable(initialValue: 0) && ResidualScaling.skipInit == .reZero)
        #expect(block.alpha!.value.shape == [1] && block.alpha!.value.scalars == [0])
        #expect(block.namedParameters.map(\.0) == ["alpha", "body.0.weight", "body.0.bias"])
        var x = Self.x
        x.requiresGrad = true
        let y = block(x)
        #expect(y.scalars == Self.x.scalars)
        y.sum().backward()
        // dL/dα = Σ F(x); the branch's weights get nothing while α = 0.
        let branchSum = body(Self.x).sum().scalar
        #expect(isClose(block.alpha!.grad!.scalar, branchSum, rtol: 1e-14))
        #expect(body.parameters.allSatisfy { $0.grad!.scalars.allSatisfy { $0 == 0 } })
        #expect(x.grad!.scalars.allSatisfy { $0 == 1 })

        // With α = 0.5: x + 0.5·F(x).
        block.alpha!.assign(Tensor([0.5]))
        let z = block(Self.x)
        let expected = Self.x + body(Self.x) * 0.5
        #expect(mismatch(z, expected, rtol: 1e-15, atol: 0) == nil)
    }

    @Test func postAndPreActivationBlocks() {
        let g = RandomGenerator(seed: 4)
        let post = Residual<Double>.block(inFeatures: 4, activation: .relu, variant: .postActivation, batchNorm: true, generator: g)
        #expect(typeNames((post.body as! Sequential<Double>).layers) == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d"])
        #expect(post.activation is ReLU<Double> && post.projection == nil && post.alpha == nil)
        #expect(post.children.map(\.0) == ["body", "activation"])
        // act(x + F(x)) ≥ 0.
        let x = Tensor<Double>.normal([5, 4], generator: RandomGenerator(seed: 5))
        let y = post(x)
        #expect(y.scalars.allSatisfy { $0 >= 0 })
        let manual = relu(x + (post.body as! Sequential<Double>)(x))
        #expect(mismatch(y, manual, rtol: 1e-14, atol: 1e-15) == nil)

        let pre = Residual<Double>.block(inFeatures: 4, outFeatures: 3, activation: .tanh, variant: .preActivation,
                                         batchNorm: true, scaling: .skipInit, generator: g)
        #expect(typeNames((pre.body as! Sequential<Double>).layers) == ["BatchNorm1d", "Tanh", "Linear", "BatchNorm1d", "Tanh", "Linear"])
        #expect(pre.activation == nil)
        #expect(pre.projection?.inFeatures == 4 && pre.projection?.outFeatures == 3 && pre.projection?.bias == nil)
        #expect(pre.namedParameters.map(\.0) == [
            "alpha", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "body.3.weight", "body.3.bias",
            "body.5.weight", "body.5.bias", "projection.weight",
        ])
        #expect(pre.namedBuffers.map(\.0) == [
            "body.0.running_mean", "body.0.running_var", "body.0.num_batches_tracked",
            "body.3.running_mean", "body.3.running_var", "body.3.num_batches_tracked",
        ])
        // SkipInit's α = 0: the block is its projection.
        #expect(mismatch(pre(x), pre.projection!(x), rtol: 0, atol: 0) == nil)
        #expect(pre.summary.hasPrefix("Residual(\n  (body): Sequential(\n    (0): BatchNorm1d(4, eps=1e-05"))
        #expect(pre.summary.hasSuffix("  (projection): Linear(in_features=4, out_features=3, bias=False)\n)"))
        #expect(ResidualVariant(rawValue: "pre_activation") == .preActivation)
    }

    @Test func namesNestInsideSequential() {
        let g = RandomGenerator(seed: 6)
        let model = Sequential<Double>(
            Linear(2, 4, generator: g), ReLU(),
            Residual(Sequential(Linear(4, 3, generator: g), ReLU()), projection: Linear(4, 3, bias: false, generator: g),
                     scaling: .reZero),
            Linear(3, 1, generator: g))
        #expect(model.namedParameters.map(\.0) == [
            "0.weight", "0.bias", "2.alpha", "2.body.0.weight", "2.body.0.bias", "2.projection.weight", "3.weight", "3.bias",
        ])
        #expect(model.namedModules.map(\.0) == ["", "0", "1", "2", "2.body", "2.body.0", "2.body.1", "2.projection", "3"])
        #expect(model(Tensor<Double>.ones([3, 2])).shape == [3, 1])
    }

    @Test func branchShapeMismatchAsksForAProjection() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let block = Residual<Float>(Linear(3, 2, generator: RandomGenerator(seed: 1)))
            _ = block(Tensor<Float>.zeros([4, 3]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[4, 2]") && text.contains("[4, 3]") && text.contains("projection"), "stderr: \(text)")
    }

    // MARK: The MLP shorthand

    @Test func plainShorthandIsUnchanged() {
        let old = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [5, 5], outputSize: 1, activation: .sigmoid,
                                         generator: RandomGenerator(seed: 7))
        let new = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [5, 5], outputSize: 1, activation: .sigmoid,
                                         batchNorm: false, residual: false, generator: RandomGenerator(seed: 7))
        #expect(typeNames(old.layers) == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"])
        #expect(typeNames(new.layers) == typeNames(old.layers))
        #expect(new.namedParameters.map(\.0) == old.namedParameters.map(\.0))
        #expect(new.parameters.map(\.value.scalars) == old.parameters.map(\.value.scalars))
    }

    @Test func batchNormShorthandIsTorchsModuleList() {
        let model = Sequential<Double>.mlp(inputSize: 3, hiddenSizes: [8, 6], outputSize: 2, activation: .relu,
                                           outputActivation: .sigmoid, batchNorm: true, generator: RandomGenerator(seed: 8))
        // nn.Sequential(Linear(3, 8), BatchNorm1d(8), ReLU(), Linear(8, 6), BatchNorm1d(6), ReLU(), Linear(6, 2), Sigmoid())
        #expect(typeNames(model.layers) == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear", "Sigmoid"])
        #expect(model.namedParameters.map(\.0) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias", "6.weight", "6.bias",
        ])
        #expect(model.namedBuffers.map(\.0) == [
            "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.running_mean", "4.running_var", "4.num_batches_tracked",
        ])
        // The Linear layers draw the same values as the plain shorthand's (batch norm draws nothing).
        let plain = Sequential<Double>.mlp(inputSize: 3, hiddenSizes: [8, 6], outputSize: 2, activation: .relu,
                                           generator: RandomGenerator(seed: 8))
        #expect(model.linearLayers.map(\.1.weight.value.scalars) == plain.linearLayers.map(\.1.weight.value.scalars))
    }

    @Test func residualShorthandWrapsEqualWidthHiddenLayers() {
        let model = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [4, 4, 4, 3, 3], outputSize: 1, activation: .tanh,
                                           batchNorm: false, residual: true, generator: RandomGenerator(seed: 9))
        // Linear(2, 4), Tanh, Residual(4), Residual(4), Linear(4, 3), Tanh, Residual(3), Linear(3, 1).
        #expect(typeNames(model.layers) == ["Linear", "Tanh", "Residual", "Residual", "Linear", "Tanh", "Residual", "Linear"])
        #expect(model.residualBlocks.map(\.0) == ["2", "3", "6"])
        #expect(model.namedParameters.map(\.0) == [
            "0.weight", "0.bias", "2.body.0.weight", "2.body.0.bias", "3.body.0.weight", "3.body.0.bias",
            "4.weight", "4.bias", "6.body.0.weight", "6.body.0.bias", "7.weight", "7.bias",
        ])
        // Each block is x + tanh(W x + b).
        let block = model.residualBlocks[0].1
        let h = Tensor<Double>.normal([3, 4], generator: RandomGenerator(seed: 10))
        let linear = (block.body as! Sequential<Double>).layers[0] as! Linear<Double>
        #expect(mismatch(block(h), h + tanh(linear(h)), rtol: 1e-14, atol: 1e-15) == nil)

        let both = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [4, 4], outputSize: 1, activation: .relu, batchNorm: true,
                                          residual: true, residualScaling: .reZero, generator: RandomGenerator(seed: 11))
        #expect(typeNames(both.layers) == ["Linear", "BatchNorm1d", "ReLU", "Residual", "Linear"])
        #expect(both.namedParameters.map(\.0) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "3.alpha", "3.body.0.weight", "3.body.0.bias",
            "3.body.1.weight", "3.body.1.bias", "4.weight", "4.bias",
        ])
        #expect(both.namedBuffers.map(\.0).contains("3.body.1.num_batches_tracked"))
    }

    @Test func deepReZeroMLPStartsAsTheIdentityMap() {
        let model = Sequential<Double>.mlp(inputSize: 3, hiddenSizes: Array(repeating: 16, count: 30), outputSize: 2,
                                           activation: .relu, batchNorm: false, residual: true, residualScaling: .reZero,
                                           generator: RandomGenerator(seed: 12))
        #expect(model.residualBlocks.count == 29)
        // Output = last Linear(act(first Linear(x))): the 29 blocks pass their input through.
        let first = model.layers[0] as! Linear<Double>, last = model.layers.last as! Linear<Double>
        let x = Tensor<Double>.normal([7, 3], generator: RandomGenerator(seed: 13))
        #expect(model(x).scalars == last(relu(first(x))).scalars)
    }

    // MARK: Fixup

    @Test func fixupZeroesBranchEndsAndRescalesTheRest() throws {
        let g = RandomGenerator(seed: 14)
        let blocks = (0..<4).map { _ in
            Residual<Double>.block(inFeatures: 64, activation: .relu, variant: .postActivation, generator: g) as any Module<Double>
        }
        let model = Sequential<Double>([Linear<Double>(3, 64, generator: g), ReLU()] + blocks + [Linear<Double>(64, 2, generator: g)])
        let firstLayer = model.layers[0] as! Linear<Double>
        let firstBefore = firstLayer.weight.value.scalars
        let summary = try fixupInitialize(model, generator: RandomGenerator(seed: 15))
        // L = 4 branches of m = 2: scale 4^(−1/2) = 0.5.
        #expect(summary.blockCount == 4)
        #expect(summary.branches.map(\.name) == ["2", "3", "4", "5"])
        #expect(summary.branches.allSatisfy { $0.depth == 2 && isClose($0.scale, 0.5, rtol: 1e-15) })
        #expect(summary.zeroedOutputLayer == "6")
        for (_, block) in model.residualBlocks {
            let layers = (block.body as! Sequential<Double>).layers.compactMap { $0 as? Linear<Double> }
            #expect(layers[1].weight.value.scalars.allSatisfy { $0 == 0 } && layers[1].bias!.value.scalars.allSatisfy { $0 == 0 })
            #expect(layers[0].bias!.value.scalars.allSatisfy { $0 == 0 })
            // He normal std √(2/64) times 0.5, over 4096 draws.
            let std = layers[0].weight.value.standardDeviation().scalar
            #expect(Swift.abs(std / (0.5 * (2.0 / 64).squareRoot()) - 1) < 0.05, "std \(std)")
        }
        #expect(firstLayer.weight.value.scalars == firstBefore, "layers outside the branches keep their values")
        let output = model.layers.last as! Linear<Double>
        #expect(output.weight.value.scalars.allSatisfy { $0 == 0 } && output.bias!.value.scalars.allSatisfy { $0 == 0 })
        #expect(model(Tensor<Double>.ones([2, 3])).scalars == [0, 0, 0, 0])
        // Every block starts as act(x): its branch ends in zeros.
        let h = relu(Tensor<Double>.normal([3, 64], generator: RandomGenerator(seed: 16)))
        #expect(model.residualBlocks[0].1(h).scalars == h.scalars)
    }

    @Test func fixupRescalesCurrentWeightsWithoutAStandardInit() throws {
        let g = RandomGenerator(seed: 17)
        let blocks = (0..<9).map { _ in
            Residual<Double>.block(inFeatures: 5, activation: .tanh, variant: .preActivation, generator: g) as any Module<Double>
        }
        let model = Sequential<Double>(blocks)
        let before = (model.residualBlocks[0].1.body as! Sequential<Double>).layers[1] as! Linear<Double>
        let values = before.weight.value.scalars
        let summary = try fixupInitialize(model, standard: nil, zeroOutputLayer: false, generator: g)
        // L = 9, m = 2: 9^(−1/2) = 1/3.
        #expect(summary.branches.allSatisfy { isClose($0.scale, 1.0 / 3, rtol: 1e-15) })
        #expect(summary.zeroedOutputLayer == nil)
        for (got, old) in zip(before.weight.value.scalars, values) { #expect(isClose(got, old / 3, rtol: 1e-15)) }

        // One Linear per branch (the shorthand's blocks): that layer is the last, and is zeroed.
        let shorthand = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [6, 6, 6], outputSize: 1, activation: .relu,
                                               batchNorm: false, residual: true, generator: g)
        let result = try fixupInitialize(shorthand, generator: g)
        #expect(result.branches.map(\.depth) == [1, 1] && result.branches.allSatisfy { $0.scale == 0 })
        #expect(result.zeroedOutputLayer == "4")
    }

    @Test func fixupNeedsResidualBlocks() {
        let plain = Sequential<Double>.mlp(inputSize: 2, hiddenSizes: [4], outputSize: 1, activation: .relu,
                                           generator: RandomGenerator(seed: 18))
        #expect(throws: FixupError.noResidualBlocks) { try fixupInitialize(plain, generator: RandomGenerator(seed: 1)) }
        let empty = Sequential<Double>(Residual<Double>(ReLU()))
        #expect(throws: FixupError.branchWithoutLinearLayers(block: "0")) {
            try fixupInitialize(empty, generator: RandomGenerator(seed: 1))
        }
        #expect(FixupError.noResidualBlocks.description.contains("residual"))
    }
}
