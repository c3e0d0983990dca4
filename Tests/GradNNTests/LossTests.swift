import Testing
import GradTensor
import GradNN
import GradTestSupport

@Suite struct LossTests {
    /// The loss and the gradient with respect to the first argument.
    func lossAndGradient(
        _ values: [Double], _ loss: (Tensor<Double>) -> Tensor<Double>
    ) -> (loss: Tensor<Double>, gradient: [Double]) {
        var x = Tensor(values)
        x.requiresGrad = true
        let l = loss(x)
        l.sum().backward()
        return (l.detached(), x.grad!.scalars)
    }

    let predictions = Tensor<Double>([1, 2, 3])
    let targets = Tensor<Double>([1.5, 2, 1])

    @Test func meanSquaredErrorByHand() {
        // Differences −0.5, 0, 2.
        #expect(isClose(meanSquaredError(predictions: predictions, targets: targets).scalar, 4.25 / 3, rtol: 1e-15))
        #expect(meanSquaredError(predictions: predictions, targets: targets, reduction: .sum).scalar == 4.25)
        let none = meanSquaredError(predictions: predictions, targets: targets, reduction: .none)
        #expect(none.shape == [3])
        #expect(none.scalars == [0.25, 0, 4])
        let (_, g) = lossAndGradient([1, 2, 3]) { meanSquaredError(predictions: $0, targets: targets, reduction: .sum) }
        #expect(g == [-1, 0, 4])
        let (_, gm) = lossAndGradient([1, 2, 3]) { meanSquaredError(predictions: $0, targets: targets) }
        #expect(mismatch(Tensor(gm), Tensor([-1.0 / 3, 0, 4.0 / 3]), rtol: 1e-15) == nil)
    }

    @Test func l1LossByHand() {
        #expect(isClose(l1Loss(predictions: predictions, targets: targets).scalar, 2.5 / 3, rtol: 1e-15))
        #expect(l1Loss(predictions: predictions, targets: targets, reduction: .sum).scalar == 2.5)
        #expect(l1Loss(predictions: predictions, targets: targets, reduction: .none).scalars == [0.5, 0, 2])
        let (_, g) = lossAndGradient([1, 2, 3]) { l1Loss(predictions: $0, targets: targets, reduction: .sum) }
        #expect(g == [-1, 0, 1], "sign(0) = 0 where prediction and target agree, as PyTorch")
    }

    @Test func huberLossByHand() {
        let terms = huberLoss(predictions: predictions, targets: targets, reduction: .none)
        #expect(terms.scalars == [0.125, 0, 1.5])
        #expect(huberLoss(predictions: predictions, targets: targets, reduction: .sum).scalar == 1.625)
        #expect(huberLoss(predictions: predictions, targets: targets, delta: 2, reduction: .none).scalars == [0.125, 0, 2])
        #expect(huberLoss(predictions: predictions, targets: targets, delta: 3, reduction: .none).scalars == [0.125, 0, 2])
        let (_, g) = lossAndGradient([1, 2, 3]) { huberLoss(predictions: $0, targets: targets, reduction: .sum) }
        #expect(g == [-0.5, 0, 1])
        let (_, g2) = lossAndGradient([1, 2, 3]) { huberLoss(predictions: $0, targets: targets, delta: 0.25, reduction: .sum) }
        #expect(g2 == [-0.25, 0, 0.25])
    }

    @Test func binaryCrossEntropyByHand() {
        let p = Tensor<Double>([0.9, 0.2])
        let t = Tensor<Double>([1, 0])
        let none = binaryCrossEntropy(predictions: p, targets: t, reduction: .none)
        #expect(mismatch(none, Tensor([0.10536051565782628, 0.2231435513142097]), rtol: 1e-14) == nil)
        #expect(isClose(binaryCrossEntropy(predictions: p, targets: t).scalar, 0.164252033486018, rtol: 1e-14))
        let (_, g) = lossAndGradient([0.9, 0.2]) { binaryCrossEntropy(predictions: $0, targets: t, reduction: .sum) }
        // (p − t) / (p(1 − p)): −1/0.9 and 1/0.8.
        #expect(mismatch(Tensor(g), Tensor([-1 / 0.9, 1.25]), rtol: 1e-14) == nil)
    }

    @Test func binaryCrossEntropyAtZeroAndOneIsFinite() {
        let p = Tensor<Double>([0, 1, 0, 1])
        let t = Tensor<Double>([0, 1, 1, 0])
        // Each log is clamped at −100, as PyTorch.
        #expect(binaryCrossEntropy(predictions: p, targets: t, reduction: .none).scalars == [0, 0, 100, 100])
        let (_, g) = lossAndGradient([0, 1, 0, 1]) { binaryCrossEntropy(predictions: $0, targets: t, reduction: .sum) }
        #expect(g.allSatisfy { $0.isFinite }, "\(g)")
        // PyTorch: (p − t) / max(p(1 − p), 1e-12).
        #expect(mismatch(Tensor(g), Tensor([0, 0, -1e12, 1e12]), rtol: 1e-14) == nil)
    }

    @Test func binaryCrossEntropyWithLogitsByHand() {
        let z = Tensor<Double>([0, 2, -3])
        let t = Tensor<Double>([1, 0, 0.5])
        let none = binaryCrossEntropyWithLogits(logits: z, targets: t, reduction: .none)
        #expect(mismatch(none, Tensor([0.6931471805599453, 2.1269280110429714, 1.548587351573742]), rtol: 1e-14) == nil)
        let (_, g) = lossAndGradient([0, 2, -3]) { binaryCrossEntropyWithLogits(logits: $0, targets: t, reduction: .sum) }
        // σ(z) − t, also at z = 0.
        #expect(mismatch(Tensor(g), Tensor([-0.5, 0.8807970779778823, -0.4525741268224332]), rtol: 1e-14) == nil)
        var targetsWithGradient = t
        targetsWithGradient.requiresGrad = true
        binaryCrossEntropyWithLogits(logits: z, targets: targetsWithGradient, reduction: .sum).backward()
        #expect(targetsWithGradient.grad?.scalars == [0, -2, 3])
    }

    @Test func binaryCrossEntropyWithLogitsIsStableForLargeLogits() {
        let z = Tensor<Double>([1000, -1000, 1000, -1000])
        let t = Tensor<Double>([0, 1, 1, 0])
        #expect(binaryCrossEntropyWithLogits(logits: z, targets: t, reduction: .none).scalars == [1000, 1000, 0, 0])
        let (_, g) = lossAndGradient([1000, -1000, 1000, -1000]) { binaryCrossEntropyWithLogits(logits: $0, targets: t, reduction: .sum) }
        #expect(g == [1, -1, 0, 0])
        let f = binaryCrossEntropyWithLogits(logits: Tensor<Float>([100, -100]), targets: Tensor<Float>([0, 1]))
        #expect(f.scalar == 100)
    }

    @Test func logitsAndProbabilitiesAgree() {
        let z = Tensor<Double>([-2, -0.5, 0.3, 1.7])
        let t = Tensor<Double>([0, 1, 0.25, 1])
        let viaLogits = binaryCrossEntropyWithLogits(logits: z, targets: t)
        let viaProbabilities = binaryCrossEntropy(predictions: sigmoid(z), targets: t)
        #expect(isClose(viaLogits.scalar, viaProbabilities.scalar, rtol: 1e-14))
    }

    @Test func crossEntropyByHand() {
        let logits = Tensor<Double>([[1, 2, 3], [1, 1, 1]])
        let none = crossEntropy(logits: logits, labels: [2, 0], reduction: .none)
        #expect(none.shape == [2])
        #expect(mismatch(none, Tensor([0.40760596444438013, 1.0986122886681098]), rtol: 1e-14) == nil)
        #expect(isClose(crossEntropy(logits: logits, labels: [2, 0]).scalar, (0.40760596444438013 + 1.0986122886681098) / 2, rtol: 1e-14))
        #expect(isClose(crossEntropy(logits: logits, labels: [2, 0], reduction: .sum).scalar, 0.40760596444438013 + 1.0986122886681098, rtol: 1e-14))
        var x = logits
        x.requiresGrad = true
        crossEntropy(logits: x, labels: [2, 0], reduction: .sum).backward()
        // softmax − one-hot.
        let third: Double = 1.0 / 3
        let rows: [[Double]] = [[0.09003057317038046, 0.24472847105479767, 0.6652409557748219 - 1], [third - 1, third, third]]
        let expected = Tensor<Double>(rows)
        #expect(mismatch(x.grad!, expected, rtol: 1e-13, atol: 1e-15) == nil)
    }

    @Test func crossEntropyIsStableForLargeAndMaskedLogits() {
        let large = crossEntropy(logits: Tensor<Double>([[1000, 0], [0, -1000]]), labels: [0, 0], reduction: .none)
        #expect(large.scalars == [0, 0])
        // A logit of −∞ (a masked class) that is not the label contributes nothing.
        let masked = crossEntropy(logits: Tensor<Double>([[2, -.infinity, 2]]), labels: [0], reduction: .none)
        #expect(isClose(masked.scalar, 0.6931471805599453, rtol: 1e-15))
        var x = Tensor<Double>([[2, -.infinity, 2]])
        x.requiresGrad = true
        crossEntropy(logits: x, labels: [2]).backward()
        #expect(mismatch(x.grad!, Tensor([[0.5, 0, -0.5]]), rtol: 1e-15) == nil)
    }

    @Test func lossesInFloat() {
        let p = Tensor<Float>([1, 2, 3]), t = Tensor<Float>([1.5, 2, 1])
        #expect(isClose(meanSquaredError(predictions: p, targets: t).scalar, Float(4.25 / 3), rtol: 1e-6))
        let ce = crossEntropy(logits: Tensor<Float>([[1, 2, 3]]), labels: [2])
        #expect(isClose(ce.scalar, Float(0.40760596444438013), rtol: 1e-6))
    }

    @Test func reductionNames() {
        #expect(Reduction(rawValue: "mean") == .mean)
        #expect(Reduction(rawValue: "sum") == .sum)
        #expect(Reduction(rawValue: "none") == Reduction.none)
        #expect(Reduction(rawValue: "average") == nil)
    }
}
