import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

/// Losses on logits stay finite and exact for logits of ±1e4 (where a naive `log(softmax)` or
/// `log(sigmoid)` gives ∞ or NaN), in `Float` and `Double`, values and gradients.
@Suite struct LogitExtremesTests {
    /// The loss value and the gradient with respect to the logits.
    static func valueAndGradient<T: TensorScalar>(
        _ logits: Tensor<T>, _ loss: (Tensor<T>) -> Tensor<T>
    ) -> (value: T, gradient: [T]) {
        var z = logits
        z.requiresGrad = true
        let value = loss(z)
        value.backward()
        return (value.scalar, z.grad?.scalars ?? [])
    }

    /// Cross-entropy of one row `[1e4, −1e4]`: label 1 costs `2e4` (the logit gap), label 0
    /// costs `log(1 + e^(−2e4)) = 0`; the gradient is `softmax − one-hot`.
    func crossEntropyOfOneRow<T: TensorScalar>(_ type: T.Type) {
        let logits = Tensor<T>(shape: [1, 2], scalars: [10_000, -10_000])
        let wrong = Self.valueAndGradient(logits) { crossEntropy(logits: $0, labels: [1]) }
        #expect(wrong.value == 20_000, "\(T.self): CE([1e4, -1e4], label 1) = \(wrong.value), expected 2e4")
        #expect(wrong.gradient == [1, -1], "\(T.self): gradient \(wrong.gradient), expected softmax − one-hot = [1, −1]")
        let right = Self.valueAndGradient(logits) { crossEntropy(logits: $0, labels: [0]) }
        #expect(right.value == 0, "\(T.self): CE([1e4, -1e4], label 0) = \(right.value), expected 0")
        #expect(right.gradient == [0, 0], "\(T.self): gradient \(right.gradient), expected [0, 0]")
    }

    @Test func crossEntropyIsExactForLogitsOfTenThousand() {
        crossEntropyOfOneRow(Float.self)
        crossEntropyOfOneRow(Double.self)
    }

    /// A batch mixing extreme and moderate rows: the mean of the exact per-row losses, and every
    /// gradient entry finite and equal to `(softmax − one-hot) / n`.
    func crossEntropyOfABatch<T: TensorScalar>(_ type: T.Type) {
        let logits = Tensor<T>(shape: [3, 3], scalars: [-10_000, 10_000, 0,
                                                         10_000, 10_000, -10_000,
                                                         0, 0, 0])
        let labels = [0, 2, 1]
        let (value, gradient) = Self.valueAndGradient(logits) { crossEntropy(logits: $0, labels: labels) }
        // Row 0: 1e4 − (−1e4) = 2e4. Row 1: log(2e^(1e4)) − (−1e4) = 2e4 + ln 2. Row 2: ln 3.
        let expected = (20_000 + (20_000 + Foundation.log(2.0)) + Foundation.log(3.0)) / 3
        #expect(isClose(Double(value), expected, rtol: 1e-6), "\(T.self): mean CE \(value), expected \(expected)")
        #expect(gradient.allSatisfy { $0.isFinite }, "\(T.self): gradient \(gradient)")
        let third = T(1) / 3
        let expectedGradient: [T] = [-third, third, 0,
                                     third / 2, third / 2, -third,
                                     third / 3, third / 3 - third, third / 3]
        #expect(mismatch(Tensor(expectedGradient), Tensor(gradient), rtol: 1e-5, atol: 1e-7) == nil,
                "\(T.self): gradient \(gradient), expected \(expectedGradient)")
    }

    @Test func crossEntropyOfABatchWithExtremeRowsIsExact() {
        crossEntropyOfABatch(Float.self)
        crossEntropyOfABatch(Double.self)
    }

    /// BCE with logits: `max(z, 0) − z·t + log(1 + e^(−|z|))` is `1e4` for a confident wrong
    /// answer and 0 for a confident right one; the gradient `σ(z) − t` is ±1 or 0 (per element,
    /// divided by n for the mean).
    func binaryCrossEntropyWithLogitsAtTheExtremes<T: TensorScalar>(_ type: T.Type) {
        let logits = Tensor<T>([10_000, -10_000, 10_000, -10_000])
        let targets = Tensor<T>([0, 1, 1, 0])
        let terms = binaryCrossEntropyWithLogits(logits: logits, targets: targets, reduction: .none)
        #expect(terms.scalars == [10_000, 10_000, 0, 0], "\(T.self): terms \(terms.scalars)")
        let (sum, gradient) = Self.valueAndGradient(logits) {
            binaryCrossEntropyWithLogits(logits: $0, targets: targets, reduction: .sum)
        }
        #expect(sum == 20_000, "\(T.self): sum \(sum)")
        #expect(gradient == [1, -1, 0, 0], "\(T.self): gradient \(gradient), expected σ(z) − t = [1, −1, 0, 0]")
        let (mean, meanGradient) = Self.valueAndGradient(logits) {
            binaryCrossEntropyWithLogits(logits: $0, targets: targets)
        }
        #expect(mean == 5_000, "\(T.self): mean \(mean)")
        #expect(meanGradient == [0.25, -0.25, 0, 0], "\(T.self): mean gradient \(meanGradient)")
    }

    @Test func binaryCrossEntropyWithLogitsIsExactForLogitsOfTenThousand() {
        binaryCrossEntropyWithLogitsAtTheExtremes(Float.self)
        binaryCrossEntropyWithLogitsAtTheExtremes(Double.self)
    }

    /// A soft target `t = 0.25` with `z = ±1e4`: the loss `relu(z) − z·t` is `7500` and `2500`,
    /// the gradient `σ(z) − t` is `0.75` and `−0.25`.
    func binaryCrossEntropyWithLogitsSoftTargets<T: TensorScalar>(_ type: T.Type) {
        let logits = Tensor<T>([10_000, -10_000])
        let targets = Tensor<T>([0.25, 0.25])
        let (value, gradient) = Self.valueAndGradient(logits) {
            binaryCrossEntropyWithLogits(logits: $0, targets: targets, reduction: .sum)
        }
        #expect(value == 10_000, "\(T.self): loss \(value), expected 7500 + 2500")
        #expect(gradient == [0.75, -0.25], "\(T.self): gradient \(gradient)")
    }

    @Test func binaryCrossEntropyWithLogitsSoftTargetsAreExact() {
        binaryCrossEntropyWithLogitsSoftTargets(Float.self)
        binaryCrossEntropyWithLogitsSoftTargets(Double.self)
    }

    /// Per-step cross-entropy `[n, T, classes]` with ±1e4 logits: two examples × two steps, the
    /// mean of the exact per-step losses, and gradients `(softmax − one-hot) / (n·T)`.
    func sequenceCrossEntropyAtTheExtremes<T: TensorScalar>(_ type: T.Type) {
        let logits = Tensor<T>(shape: [2, 2, 2], scalars: [10_000, -10_000,   // example 0, step 0
                                                            -10_000, 10_000,  // example 0, step 1
                                                            10_000, 10_000,   // example 1, step 0
                                                            0, -10_000])      // example 1, step 1
        let labels = [1, 1, 0, 1]
        let (value, gradient) = Self.valueAndGradient(logits) { sequenceCrossEntropy(logits: $0, labels: labels) }
        // Steps: 2e4, 0, ln 2, 1e4.
        let expected = (20_000 + 0 + Foundation.log(2.0) + 10_000) / 4
        #expect(isClose(Double(value), expected, rtol: 1e-6), "\(T.self): per-step CE \(value), expected \(expected)")
        let quarter = T(0.25)
        let expectedGradient: [T] = [quarter, -quarter, 0, 0, -quarter / 2, quarter / 2, quarter, -quarter]
        #expect(mismatch(Tensor(expectedGradient), Tensor(gradient), rtol: 1e-5, atol: 1e-7) == nil,
                "\(T.self): gradient \(gradient), expected \(expectedGradient)")
        let terms = sequenceCrossEntropy(logits: logits, labels: labels, reduction: .none)
        #expect(terms.scalars.allSatisfy { $0.isFinite }, "\(T.self): terms \(terms.scalars)")
        #expect(terms.scalars[0] == 20_000 && terms.scalars[1] == 0 && terms.scalars[3] == 10_000,
                "\(T.self): terms \(terms.scalars)")
    }

    @Test func sequenceCrossEntropyIsExactForLogitsOfTenThousand() {
        sequenceCrossEntropyAtTheExtremes(Float.self)
        sequenceCrossEntropyAtTheExtremes(Double.self)
    }

    /// Logits of ±1e4 through a linear layer and cross-entropy: the weights' gradient stays
    /// finite (the loss's gradient is bounded by 1 whatever the logit).
    @Test func gradientsThroughALayerStayFinite() {
        let layer = Linear<Float>(2, 3, generator: RandomGenerator(seed: 3))
        layer.weight.assign(Tensor(shape: [3, 2], scalars: [5_000, 5_000, -5_000, -5_000, 0, 0]))
        let input = Tensor<Float>(shape: [2, 2], scalars: [1, 1, -1, -1])
        let loss = crossEntropy(logits: layer(input), labels: [1, 0])
        loss.backward()
        #expect(loss.scalar.isFinite && loss.scalar > 9_000, "loss \(loss.scalar)")
        let gradient = layer.weight.grad?.scalars ?? []
        #expect(gradient.count == 6 && gradient.allSatisfy { $0.isFinite }, "weight gradient \(gradient)")
    }
}
