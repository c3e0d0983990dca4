import Foundation
import GradDoctor
import GradNN
import Testing

/// Each finding kind: a case that produces it and a case that must not. The cases are small
/// networks trained with the monitor (the seeds' experiments first), and hand-built records
/// where one pattern must be isolated.
@Suite struct DiagnosisTests {
    // MARK: Vanishing gradients

    @Test func deepSigmoidNetVanishesWithTheFirstLayerNamedAndADecayFactor() throws {
        let (record, network) = sigmoidSeedRun
        let diagnosis = Doctor.diagnose(record, network: network)
        let finding = try #require(diagnosis.finding(.vanishingGradients))
        #expect(finding.severity == .critical)
        #expect(finding.layers.first == "0", "layers \(finding.layers)")
        // 11 weighted layers; the weight gradient shrinks by ~0.1 per layer toward the input.
        let factor = try #require(finding.value("decay_factor"))
        #expect(factor > 0.05 && factor < 0.3, "decay factor \(factor)")
        let ratio = try #require(finding.value("first_to_last_ratio"))
        #expect(ratio < 1e-6, "first/last \(ratio)")
        // The factor is the geometric mean of the consecutive ratios: (first/last)^(1/10).
        #expect(abs(pow(ratio, 0.1) - factor) < 1e-9 * factor)
        #expect(finding.value("weighted_layers") == 11)
        // The explanation names the sigmoid bound and the weights' predicted gain (σ_w·√E[σ'²]).
        #expect(finding.explanation.contains("0.25¹⁰"), "\(finding.explanation)")
        let predicted = try #require(finding.value("predicted_layer_gain"))
        #expect(predicted > 0.5 * factor && predicted < 2 * factor, "predicted \(predicted) vs measured \(factor)")
        #expect(diagnosis.gradientFlow.map(\.layer) == ["0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20"])
        #expect(diagnosis.state == .critical)
    }

    @Test func kaimingReluNetDoesNotVanish() {
        let diagnosis = Doctor.diagnose(kaimingSeedRun.record, network: kaimingSeedRun.network)
        #expect(!diagnosis.has(.vanishingGradients), "\(diagnosis.summary)")
    }

    @Test func smallWeightsInAReluNetVanishInTheBackwardSignal() throws {
        // PyTorch's default init gives ReLU σ_w² = 1/3: per-layer gain √(1/6) ≈ 0.41 (plus a dead layer).
        let run = try SeedRun(activation: .relu, weight: nil, learningRate: 0.01, epochs: 5).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.vanishingGradients))
        #expect(finding.layers.first == "0")
        let predicted = try #require(finding.value("predicted_layer_gain"))
        #expect(abs(predicted - (1.0 / 6).squareRoot()) < 0.05, "predicted \(predicted)")
    }

    @Test func vanishingNeedsTheRatioBeyondTheSettableThreshold() throws {
        let steps = (0..<5).map { RecordBuilder.step($0, loss: 10 - Double($0), norms: [0.05, 0.3, 1]) }
        let record = try RecordBuilder.record(steps)
        // first/last = 0.05: not vanishing at the default 1e-2, vanishing at 0.1.
        #expect(!Doctor.diagnose(record).has(.vanishingGradients))
        var thresholds = DiagnosisThresholds()
        thresholds.vanishingRatio = 0.1
        let finding = try #require(Doctor.diagnose(record, thresholds: thresholds).finding(.vanishingGradients))
        #expect(abs((finding.value("decay_factor") ?? 0) - 0.05.squareRoot()) < 1e-9)
        #expect(finding.severity == .warning)
    }

    // MARK: Exploding gradients

    @Test func largeInitReluNetExplodesThenGoesNonfiniteWithTheOriginNamed() throws {
        let (record, network) = largeInitSeedRun
        let diagnosis = Doctor.diagnose(record, network: network)
        let exploding = try #require(diagnosis.finding(.explodingGradients))
        #expect(exploding.severity == .critical)
        // The backward signal grows ≈ 20× per layer toward the input; theory: std 10, fan-in 10,
        // σ_w = 31.6, ReLU gain σ_w·√½ ≈ 22.
        let growth = try #require(exploding.value("growth_factor"))
        #expect(growth > 10 && growth < 40, "growth \(growth)")
        let predicted = try #require(exploding.value("predicted_layer_gain"))
        #expect(abs(predicted - 22.4) < 2, "predicted gain \(predicted)")
        #expect(exploding.explanation.contains("std 10"), "\(exploding.explanation)")
        #expect(exploding.layers.first == "0")
        // Then the first non-finite value: the step after the first update, traced to a layer.
        let nonfinite = try #require(diagnosis.finding(.nonfinite))
        let origin = try #require(record.firstNonfinite)
        #expect(nonfinite.layers == [origin.location])
        #expect(nonfinite.value("first_step") == Double(origin.step))
        #expect(origin.step == 1)
        #expect(nonfinite.explanation.contains(origin.location))
        // Exploding comes before the non-finite finding it causes.
        let kinds = diagnosis.findings.map(\.kind)
        #expect(kinds.firstIndex(of: .explodingGradients)! < kinds.firstIndex(of: .nonfinite)!)
    }

    @Test func healthyAndVanishingNetsDoNotExplode() {
        #expect(!Doctor.diagnose(kaimingSeedRun.record, network: kaimingSeedRun.network).has(.explodingGradients))
        #expect(!Doctor.diagnose(sigmoidSeedRun.record, network: sigmoidSeedRun.network).has(.explodingGradients))
        #expect(!Doctor.diagnose(digitsKaimingRun.record).has(.explodingGradients))
    }

    @Test func aGradientNormGrowingOverTimeIsExploding() throws {
        // Level layers, but the global norm grows 10× per step for 8 steps.
        let steps = (0..<8).map { i in RecordBuilder.step(i, loss: 5, norms: [1, 1, 1].map { $0 * pow(10, Double(i)) }) }
        let finding = try #require(Doctor.diagnose(try RecordBuilder.record(steps)).finding(.explodingGradients))
        #expect((finding.value("norm_growth") ?? 0) > 1e4)
        #expect(finding.value("growth_factor") == nil)
    }

    // MARK: Saturation

    @Test func largeInitSigmoidNetSaturates() throws {
        let run = try SeedRun(activation: .sigmoid, weight: .normal(mean: 0, std: 10), learningRate: 0.01, epochs: 5).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.saturation))
        let mean = try #require(finding.value("mean_saturated_fraction"))
        #expect(mean > 0.5, "mean saturated fraction \(mean)")
        #expect(finding.layers.contains("3"))
        #expect(finding.explanation.contains("σ_w"), "\(finding.explanation)")
        // Its remedies include a smaller (Xavier) init and batch norm.
        let remedies = diagnosis.prescriptions.filter { $0.addresses.contains(.saturation) }.map(\.remedy)
        #expect(remedies.contains(.initialization(weight: .xavierUniform(gain: 1), bias: .zeros)))
        #expect(remedies.contains(.batchNorm))
    }

    @Test func defaultInitSigmoidNetVanishesWithoutSaturating() {
        // The seeds' sigmoid net vanishes from the 0.25 bound, not from saturation.
        let diagnosis = Doctor.diagnose(sigmoidSeedRun.record)
        #expect(!diagnosis.has(.saturation))
        #expect(diagnosis.has(.vanishingGradients))
    }

    // MARK: Dead units

    @Test func negativeBiasesKillReluUnits() throws {
        let run = try SeedRun(activation: .relu, weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"),
                              bias: .constant(value: -1), learningRate: 0.01, epochs: 5).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.deadUnits))
        #expect(finding.severity == .critical)
        #expect((finding.value("max_layer_fraction") ?? 0) >= 0.9)
        #expect(finding.value("developed_during_training") == 0)
        // The fully dead layer blocks all gradient below it: vanishing to exactly 0 as well.
        #expect(diagnosis.finding(.vanishingGradients)?.value("first_to_last_ratio") == 0)
        let remedies = diagnosis.prescriptions.map(\.remedy)
        #expect(remedies.contains(.useActivation(.leakyRelu, weightInitialization: .kaimingUniform(a: 0.01, mode: .fanIn, nonlinearity: "leaky_relu"))))
    }

    @Test func unitsThatDieDuringTrainingPointToTheLearningRate() throws {
        // lr 0.05 on the Kaiming net: the units die in the first steps' large updates.
        let run = try SeedRun(activation: .relu, weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"),
                              bias: .zeros, learningRate: 0.05, epochs: 60).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.deadUnits))
        #expect(finding.value("developed_during_training") == 1)
        #expect((finding.value("late_mean_fraction") ?? 0) > (finding.value("early_mean_fraction") ?? 1))
        let first = try #require(diagnosis.prescriptions.first { $0.addresses.contains(.deadUnits) })
        #expect(first.remedy.name == "lower_learning_rate")
    }

    @Test func healthyNarrowReluNetIsNotReportedDead() {
        // Width-10 layers on a 1-D input: up to 60% of a layer's units are inactive for every
        // example by chance; the network-wide mean stays below the threshold.
        let diagnosis = Doctor.diagnose(kaimingSeedRun.record)
        #expect(!diagnosis.has(.deadUnits), "\(diagnosis.summary)")
        #expect(!Doctor.diagnose(digitsKaimingRun.record).has(.deadUnits))
    }

    // MARK: Non-finite

    @Test func nonfiniteValuesWithoutATracedOriginAreStillFound() throws {
        let steps = [RecordBuilder.step(0, loss: 4), RecordBuilder.step(1, loss: 3), RecordBuilder.step(2, loss: .nan)]
        let diagnosis = Doctor.diagnose(try RecordBuilder.record(steps))
        let finding = try #require(diagnosis.finding(.nonfinite))
        #expect(finding.value("first_step") == 2)
        #expect(finding.steps == [2])
        #expect(diagnosis.state == .critical)
    }

    @Test func aTracedOriginIsNamed() throws {
        let origin: [String: Any] = ["step": 1, "phase": "backward", "location": "4", "kind": "Linear", "nonfiniteCount": 3]
        let steps = [RecordBuilder.step(0, loss: 4), RecordBuilder.step(1, loss: 3)]
        let finding = try #require(Doctor.diagnose(try RecordBuilder.record(steps, firstNonfinite: origin)).finding(.nonfinite))
        #expect(finding.layers == ["4"])
        #expect(finding.explanation.contains("backward pass at 4 (Linear)"), "\(finding.explanation)")
        #expect(finding.value("origin_count") == 3)
    }

    @Test func finiteRunsHaveNoNonfiniteFinding() {
        #expect(!Doctor.diagnose(kaimingSeedRun.record).has(.nonfinite))
        #expect(!Doctor.diagnose(sigmoidSeedRun.record).has(.nonfinite))
    }

    // MARK: Unstable training

    @Test func aLearningRateTooHighIsUnstable() throws {
        // The Kaiming net at lr 0.1: updates of ~40% of the weights per step, then overflow.
        let run = try SeedRun(activation: .relu, weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"),
                              bias: .zeros, learningRate: 0.1, epochs: 10).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.unstableTraining))
        #expect((finding.value("median_update_ratio") ?? 0) > 0.1)
        #expect(diagnosis.has(.nonfinite))
        #expect(diagnosis.prescriptions.contains { $0.remedy.name == "lower_learning_rate" && $0.addresses.contains(.unstableTraining) })
    }

    @Test func aRisingLossIsUnstable() throws {
        // A single Linear fit with lr 1.1: gradient descent on the quadratic diverges (lr > 2/λ ≈ 1),
        // the loss grows ~1.4× per step and stays finite.
        let run = try SeedRun(activation: .relu, weight: nil, hidden: [], learningRate: 1.1, epochs: 30).train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        let finding = try #require(diagnosis.finding(.unstableTraining))
        #expect((finding.value("rise_factor") ?? 0) > 10, "\(finding.evidence)")
        #expect(!diagnosis.has(.nonfinite))
    }

    @Test func aPeriodTwoOscillationWithoutProgressIsUnstable() throws {
        // The loss jumps between 4 and 2 every step and gets nowhere.
        let steps = (0..<30).map { RecordBuilder.step($0, loss: $0 % 2 == 0 ? 4 : 2) }
        let finding = try #require(Doctor.diagnose(try RecordBuilder.record(steps)).finding(.unstableTraining))
        #expect(finding.value("alternation") == 1)
        #expect(abs((finding.value("oscillation_amplitude") ?? 0) - log(2)) < 1e-12)
        #expect(finding.value("late_to_early_loss") == 1)
    }

    @Test func anOscillationThatStillMakesProgressIsNotUnstable() throws {
        // Edge-of-stability descent: the same period-2 jumps around a loss falling 100-fold.
        let steps = (0..<30).map { i in RecordBuilder.step(i, loss: 4 * pow(0.85, Double(i)) * (i % 2 == 0 ? 2 : 1)) }
        #expect(!Doctor.diagnose(try RecordBuilder.record(steps)).has(.unstableTraining))
    }

    @Test func clippingKeepsTheLargeInitNetFiniteButTheDoctorStillSeesTheExplosion() throws {
        var clipped = SeedRuns.largeInit
        clipped.clip = 10
        clipped.epochs = 30
        let run = try clipped.train()
        let diagnosis = Doctor.diagnose(run.record, network: run.network)
        #expect(!diagnosis.has(.nonfinite))
        #expect(run.record.steps.allSatisfy { $0.clippedGradientNorm == 10 })
        let finding = try #require(diagnosis.finding(.explodingGradients))
        #expect((finding.value("growth_factor") ?? 0) > 10)
    }

    @Test func minibatchNoiseIsNotAnOscillation() throws {
        // Independent ±30% noise around a slowly falling loss: changes alternate only ~2/3 of the time.
        var noise = NoiseStream(state: 7)
        let steps = (0..<200).map { i in
            RecordBuilder.step(i, loss: (2 - Double(i) / 200) * (0.7 + 0.6 * noise.next()))
        }
        let diagnosis = Doctor.diagnose(try RecordBuilder.record(steps))
        #expect(!diagnosis.has(.unstableTraining), "\(diagnosis.summary)")
    }

    @Test func healthyRunsAreNotUnstable() {
        #expect(!Doctor.diagnose(kaimingSeedRun.record).has(.unstableTraining))
        #expect(!Doctor.diagnose(digitsKaimingRun.record).has(.unstableTraining))
        #expect(!Doctor.diagnose(sigmoidSeedRun.record).has(.unstableTraining))
    }

    // MARK: Stalled training

    @Test func theVanishingSigmoidNetStalls() throws {
        let diagnosis = Doctor.diagnose(sigmoidSeedRun.record)
        let finding = try #require(diagnosis.finding(.stalledTraining))
        // Flat near the variance of y (≈ 9.3), not converged, with tiny updates.
        let late = try #require(finding.value("late_loss"))
        #expect(late > 8 && late < 11)
        #expect((finding.value("loss_fraction") ?? 0) > 0.5)
        #expect((finding.value("late_update_ratio") ?? 1) < 1e-5)
        // Its prescriptions are the vanishing gradient's.
        #expect(diagnosis.prescriptions.first?.addresses.contains(.stalledTraining) == true)
    }

    @Test func aFlatLossWithTinyGradientsAndNoVanishingStalls() throws {
        let steps = (0..<40).map { i in
            RecordBuilder.step(i, loss: 5 - 0.001 * Double(i), norms: Array(repeating: i < 8 ? 1 : 1e-4, count: 3), updateRatio: 1e-7)
        }
        let diagnosis = Doctor.diagnose(try RecordBuilder.record(steps))
        #expect(diagnosis.has(.stalledTraining))
        #expect(!diagnosis.has(.vanishingGradients))
        // Updates of 1e-7 of the weights: raise the learning rate, by a power of ten within ×10…×100.
        let raise = try #require(diagnosis.prescriptions.first)
        #expect(raise.remedy == .raiseLearningRate(factor: 100))
    }

    @Test func convergedAndLearningRunsDoNotStall() throws {
        // Converged: flat with tiny gradients, but at 1% of the starting loss.
        let converged = (0..<40).map { i in
            RecordBuilder.step(i, loss: i < 8 ? 5 - Double(i) * 0.6 : 0.05, norms: Array(repeating: i < 8 ? 1 : 1e-4, count: 3))
        }
        #expect(!Doctor.diagnose(try RecordBuilder.record(converged)).has(.stalledTraining))
        #expect(!Doctor.diagnose(kaimingSeedRun.record).has(.stalledTraining))
        #expect(!Doctor.diagnose(digitsKaimingRun.record).has(.stalledTraining))
    }

    // MARK: Healthy

    @Test func kaimingReluNetOnTheSeedsDataIsHealthy() throws {
        let diagnosis = Doctor.diagnose(kaimingSeedRun.record, network: kaimingSeedRun.network)
        #expect(diagnosis.state == .healthy, "\(diagnosis.summary)")
        #expect(diagnosis.findings.map(\.kind) == [.healthy])
        #expect(diagnosis.prescriptions.isEmpty)
        let finding = try #require(diagnosis.finding(.healthy))
        #expect((finding.value("last_loss") ?? 1) < 0.5)
    }

    @Test func kaimingReluNetOnDigitsIsHealthy() {
        let diagnosis = Doctor.diagnose(digitsKaimingRun.record, network: digitsKaimingRun.network)
        #expect(diagnosis.findings.map(\.kind) == [.healthy], "\(diagnosis.summary)")
    }

    @Test func failingRunsAreNotHealthy() {
        #expect(!Doctor.diagnose(sigmoidSeedRun.record).has(.healthy))
        #expect(!Doctor.diagnose(largeInitSeedRun.record).has(.healthy))
        #expect(Doctor.diagnose(largeInitSeedRun.record).state == .critical)
    }

    // MARK: Records and serialization

    @Test func aDiagnosisEncodesAsPlainJSONAndDecodesBack() throws {
        // The exploding run has NaN in its record; the diagnosis must still be plain JSON.
        let diagnosis = Doctor.diagnose(largeInitSeedRun.record, network: largeInitSeedRun.network)
        let data = try JSONEncoder().encode(diagnosis)
        let decoded = try JSONDecoder().decode(Diagnosis.self, from: data)
        #expect(decoded.findings == diagnosis.findings)
        #expect(decoded.prescriptions == diagnosis.prescriptions)
        #expect(decoded.summary == diagnosis.summary)
    }

    @Test func thresholdsDecodeFromAPartialObject() throws {
        let json = #"{"vanishingRatio": 0.001, "clipRule": {"averageNorm": {}}}"#
        let thresholds = try JSONDecoder().decode(DiagnosisThresholds.self, from: Data(json.utf8))
        #expect(thresholds.vanishingRatio == 0.001)
        #expect(thresholds.clipRule == .averageNorm)
        #expect(thresholds.explodingRatio == DiagnosisThresholds().explodingRatio)
    }

    @Test func anEmptyRecordIsHealthyWithNothingToSay() {
        let diagnosis = Doctor.diagnose(MonitorRecord())
        #expect(diagnosis.findings.map(\.kind) == [.healthy])
        #expect(diagnosis.gradientFlow.isEmpty)
    }
}
