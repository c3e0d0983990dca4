import Foundation
import Testing
import GradData
import GradDoctor
import GradNN
import GradOptim
import GradTensor
import GradTestSupport

// The doctor on recurrent networks: vanishing and exploding gradients through time, read from
// ‖∂L/∂h_t‖ against t, with the per-step factor ρ, and the remedies for each (LSTM/GRU and
// orthogonal recurrent weights for vanishing, clipping first for exploding).

@Suite struct ThroughTimeDiagnosisTests {
    /// A record of `count` steps whose recurrent layer `0` has norms `n_t = ρ^(T−1−t)` (the
    /// loss's gradient entering at the last step), with a `Linear` head `2`.
    static func record(rho: Double, length: Int, count: Int = 3, kind: String = "RNN") throws -> MonitorRecord {
        let norms = (0..<length).map { Foundation.pow(rho, Double(length - 1 - $0)) }
        var steps: [[String: Any]] = []
        for i in 0..<count {
            var rnn = RecordBuilder.layer("0", kind: kind, outputGradient: 1)
            rnn["hiddenGradientNorms"] = norms
            steps.append(["step": i, "loss": 0.2, "globalGradientNorm": 1.0, "skipped": false,
                          "parameters": [RecordBuilder.parameter("0.weight_hh_l0", norm: 1), RecordBuilder.parameter("2.weight", norm: 1)],
                          "layers": [rnn, RecordBuilder.layer("1", kind: "LastStep", outputGradient: 1),
                                     RecordBuilder.layer("2", kind: "Linear", outputGradient: 1)]])
        }
        return try RecordBuilder.record(steps)
    }

    /// Exact figures: n_t = 0.5^(T−1−t) over T = 30 gives ρ = 0.5 (fitted and geometric), a
    /// decay and ratio of 0.5²⁹, a horizon of
    /// ln 100 / ln 2 ≈ 6.64 steps, and a critical vanishing finding for a vanilla RNN.
    @Test func geometricNormsGiveTheirFactor() throws {
        let diagnosis = Doctor.diagnose(try Self.record(rho: 0.5, length: 30))
        let finding = try #require(diagnosis.finding(.vanishingGradients))
        #expect(finding.value("through_time") == 1)
        #expect(isClose(try #require(finding.value("step_factor")), 0.5, rtol: 1e-9))
        #expect(isClose(try #require(finding.value("geometric_step_factor")), 0.5, rtol: 1e-9))
        #expect(isClose(try #require(finding.value("sequence_decay")), Foundation.pow(0.5, 29), rtol: 1e-9))
        #expect(isClose(try #require(finding.value("time_first_to_last_ratio")), Foundation.pow(0.5, 29), rtol: 1e-9))
        #expect(isClose(try #require(finding.value("horizon_steps")), Foundation.log(100) / Foundation.log(2), rtol: 1e-9))
        #expect(finding.value("sequence_length") == 30 && finding.value("recorded_steps") == 3)
        #expect(finding.severity == .critical && finding.layers == ["0"])
        #expect(finding.explanation.contains("ρ ≈ 0.5") && finding.explanation.contains("30 steps"))
        #expect(diagnosis.prescriptions.first?.remedy == .useLSTMOrGRU)
        #expect(diagnosis.prescriptions.contains { $0.remedy == .orthogonalRecurrentWeights })
        #expect(!diagnosis.prescriptions.contains { if case .clipGradNorm = $0.remedy { true } else { false } })
    }

    /// Near 1 per step, short sequences, or too few steps: no through-time finding; the
    /// thresholds decide, and decode from JSON.
    @Test func thresholdsDecide() throws {
        #expect(!Doctor.diagnose(try Self.record(rho: 0.98, length: 50)).has(.vanishingGradients))
        #expect(!Doctor.diagnose(try Self.record(rho: 1.02, length: 50)).has(.explodingGradients))
        #expect(!Doctor.diagnose(try Self.record(rho: 0.1, length: 4)).has(.vanishingGradients))
        var thresholds = try JSONDecoder().decode(DiagnosisThresholds.self, from: Data("""
            {"throughTimeVanishingRatio": 0.5, "minimumSequenceLength": 3}
            """.utf8))
        #expect(thresholds.throughTimeExplodingRatio == 1e2)
        #expect(Doctor.diagnose(try Self.record(rho: 0.98, length: 50), thresholds: thresholds).has(.vanishingGradients))
        #expect(Doctor.diagnose(try Self.record(rho: 0.1, length: 4), thresholds: thresholds).has(.vanishingGradients))
        thresholds.throughTimeExplodingRatio = 2
        let exploding = Doctor.diagnose(try Self.record(rho: 1.02, length: 50), thresholds: thresholds)
        #expect(exploding.finding(.explodingGradients)?.value("step_factor").map { isClose($0, 1.02, rtol: 1e-9) } == true)
    }

    /// A vanishing start followed by a late window that carries the gradient (gates that
    /// learned to open) is no finding; one that still vanishes late is, with the late figures.
    @Test func lateWindowMustVanishToo() throws {
        let early = try Self.record(rho: 0.5, length: 30, count: 5, kind: "LSTM")
        var healed = early, still = early
        healed.steps += try Self.record(rho: 0.99, length: 30, count: 5, kind: "LSTM").steps.map { s in var s = s; s.step += 5; return s }
        still.steps += try Self.record(rho: 0.7, length: 30, count: 5, kind: "LSTM").steps.map { s in var s = s; s.step += 5; return s }
        #expect(!Doctor.diagnose(healed).has(.vanishingGradients))
        let finding = try #require(Doctor.diagnose(still).finding(.vanishingGradients))
        #expect(isClose(try #require(finding.value("step_factor")), 0.5, rtol: 1e-9))
        #expect(isClose(try #require(finding.value("late_step_factor")), 0.7, rtol: 1e-9))
        #expect(finding.steps == [0, 1, 2, 3, 4] && finding.explanation.contains("At the end of the run"))
    }

    /// A gated cell whose gradient vanishes is not told to become one: an LSTM gets a forget-gate
    /// bias of 1 first, then orthogonal recurrent weights; a GRU (no forget gate) the latter.
    @Test func gatedCellIsNotToldToUseLSTM() throws {
        let diagnosis = Doctor.diagnose(try Self.record(rho: 0.5, length: 30, kind: "LSTM"))
        let finding = try #require(diagnosis.finding(.vanishingGradients))
        #expect(finding.value("gated_cell") == 1 && finding.explanation.contains("forget gate"))
        #expect(!diagnosis.prescriptions.contains { $0.remedy == .useLSTMOrGRU })
        #expect(diagnosis.prescriptions.map(\.remedy).prefix(2) == [.forgetGateBias(1), .orthogonalRecurrentWeights])
        let gru = Doctor.diagnose(try Self.record(rho: 0.5, length: 30, kind: "GRU"))
        #expect(gru.prescriptions.first?.remedy == .orthogonalRecurrentWeights)
        #expect(!gru.prescriptions.contains { $0.remedy == .forgetGateBias(1) })
    }

    /// A vanilla tanh RNN with small recurrent weights (orthogonal × 0.5) on the adding problem
    /// at T = 50 vanishes through time: ρ < 1, LSTM/GRU first, no clipping for it.
    @Test func smallRecurrentWeightsVanish() throws {
        let (model, _) = RecurrentFixture.model(.tanh, recurrentGain: 0.5)
        let record = try RecurrentFixture.train(model, steps: 5, length: 50)
        let diagnosis = Doctor.diagnose(record)
        let finding = try #require(diagnosis.finding(.vanishingGradients))
        let rho = try #require(finding.value("step_factor"))
        #expect(rho < 0.6 && rho > 0)
        #expect(try #require(finding.value("time_first_to_last_ratio")) < 1e-6)
        #expect(finding.value("sequence_length") == 50 && finding.layers == ["0"])
        #expect(finding.explanation.contains("ρ ≈ 0.") && finding.explanation.contains("50 steps"))
        let forVanishing = diagnosis.prescriptions.filter { $0.addresses.contains(.vanishingGradients) }
        #expect(forVanishing.first?.remedy == .useLSTMOrGRU)
        #expect(forVanishing.contains { $0.remedy == .orthogonalRecurrentWeights })
        #expect(!forVanishing.contains { if case .clipGradNorm = $0.remedy { true } else { false } })
    }

    /// A ReLU RNN whose recurrent weights have spectral radius 2.5 explodes through time:
    /// ρ > 1, clipping prescribed first, then orthogonal recurrent weights.
    @Test func largeRecurrentWeightsExplode() throws {
        let (model, _) = RecurrentFixture.model(.relu, recurrentGain: 2.5)
        let record = try RecurrentFixture.train(model, steps: 5, length: 50, learningRate: 1e-6)
        let diagnosis = Doctor.diagnose(record)
        let finding = try #require(diagnosis.finding(.explodingGradients))
        #expect(finding.value("through_time") == 1)
        #expect(try #require(finding.value("step_factor")) > 1.2)
        #expect(try #require(finding.value("time_first_to_last_ratio")) > 1e4)
        #expect(finding.severity == .critical && finding.layers == ["0"])
        let forExploding = diagnosis.prescriptions.filter { $0.addresses.contains(.explodingGradients) }
        let first = try #require(forExploding.first)
        guard case .clipGradNorm(let maxNorm, _) = first.remedy else {
            Issue.record("first remedy is \(first.remedy.label), not clipping")
            return
        }
        #expect(maxNorm > 0 && maxNorm.isFinite && first.rationale.contains("Pascanu"))
        #expect(forExploding.contains { $0.remedy == .orthogonalRecurrentWeights })
        #expect(!diagnosis.prescriptions.contains { $0.remedy == .useLSTMOrGRU })
    }

    /// An LSTM with its forget gates open (bias 3, f ≈ 0.95) keeps the gradient through 50
    /// steps: no through-time finding.
    @Test func openLSTMIsHealthyThroughTime() throws {
        let g = RandomGenerator(seed: 7)
        let lstm = LSTM<Float>(2, 16, batchFirst: true, forgetGateBias: 3, generator: g)
        let model = Sequential<Float>(lstm, LastStep<Float>(batchFirst: true), Linear<Float>(16, 1, generator: g))
        let record = try RecurrentFixture.train(model, steps: 5, length: 50)
        let norms = try #require(record.steps[0].layers.first { $0.name == "0" }?.hiddenGradientNorms)
        #expect(norms.count == 50)
        let diagnosis = Doctor.diagnose(record)
        #expect(!diagnosis.has(.vanishingGradients) && !diagnosis.has(.explodingGradients),
                "\(diagnosis.findings.map(\.evidence)) \(norms)")
    }
}
