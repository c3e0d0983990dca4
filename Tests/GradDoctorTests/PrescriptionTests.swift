import Foundation
import GradDoctor
import GradNN
import Testing

/// Prescriptions: ranked per finding, parameters derived from the record.
@Suite struct PrescriptionTests {
    @Test func theSigmoidNetIsToldToUseReluWithKaimingFirst() throws {
        let diagnosis = Doctor.diagnose(sigmoidSeedRun.record, network: sigmoidSeedRun.network)
        let top = try #require(diagnosis.prescriptions.first)
        #expect(top.rank == 1)
        #expect(top.remedy == .useActivation(.relu, weightInitialization: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu")))
        #expect(top.addresses.first == .vanishingGradients)
        #expect(top.rationale.contains("0.25"), "\(top.rationale)")
        // Ranks are 1, 2, 3, ... and every remedy appears once.
        #expect(diagnosis.prescriptions.map(\.rank) == Array(1...diagnosis.prescriptions.count))
        let names = diagnosis.prescriptions.map(\.remedy.label)
        #expect(Set(names).count == names.count)
        // Batch norm and residual connections are on the list too.
        #expect(diagnosis.prescriptions.contains { $0.remedy == .batchNorm })
        #expect(diagnosis.prescriptions.contains { $0.remedy == .residualConnections })
    }

    @Test func theExplodingNetIsToldToClipAtAThresholdFromTheRecordThenFixItsInit() throws {
        let (record, network) = largeInitSeedRun
        let diagnosis = Doctor.diagnose(record, network: network)
        #expect(diagnosis.prescriptions.map(\.remedy.name).prefix(2) == ["clip_grad_norm", "initialization"])
        #expect(diagnosis.prescriptions[1].remedy == .initialization(weight: .kaimingUniform(a: 0, mode: .fanIn, nonlinearity: "relu"), bias: .zeros))
        let clip = try #require(diagnosis.prescriptions.first)
        guard case .clipGradNorm(let maxNorm, let rule) = clip.remedy else { Issue.record("not a clip"); return }
        // The history exploded from step 0, so the threshold bounds the update: 1e-2·‖w‖/η.
        #expect(rule == .updateRatioBound(targetRatio: 1e-2))
        let first = try #require(record.steps.first)
        let weightNorm = first.parameters.reduce(0) { $0 + $1.weightNorm * $1.weightNorm }.squareRoot()
        #expect(abs(maxNorm - 1e-2 * weightNorm / 0.1) < 1e-6 * maxNorm, "max norm \(maxNorm)")
        #expect(clip.rationale.contains("update bound"))
    }

    @Test func withoutADescriptionTheLearningRateIsEstimatedFromTheUpdates() throws {
        // η ≈ ‖Δw‖/‖g‖ from the first step: the same threshold as with the true lr 0.1.
        let withRate = Doctor.diagnose(largeInitSeedRun.record, network: largeInitSeedRun.network)
        let without = Doctor.diagnose(largeInitSeedRun.record)
        func clipNorm(_ d: Diagnosis) -> Double? {
            for p in d.prescriptions { if case .clipGradNorm(let m, _) = p.remedy { return m } }
            return nil
        }
        let a = try #require(clipNorm(withRate)), b = try #require(clipNorm(without))
        #expect(abs(a - b) < 1e-3 * a, "\(a) vs \(b)")
    }

    @Test func autoClipTakesThePercentileOfTheHealthyHistory() throws {
        // Twenty steps with global norms rising linearly, loss oscillating period-2 (unstable).
        let steps = (0..<20).map { i in
            RecordBuilder.step(i, loss: i % 2 == 0 ? 4 : 2, norms: Array(repeating: Double(i + 1), count: 3), updateRatio: 1e-3)
        }
        let record = try RecordBuilder.record(steps)
        let globals = record.steps.map(\.globalGradientNorm).sorted()
        let diagnosis = Doctor.diagnose(record)
        #expect(diagnosis.has(.unstableTraining))
        let clip = try #require(diagnosis.prescriptions.first { $0.remedy.name == "clip_grad_norm" })
        guard case .clipGradNorm(let maxNorm, let rule) = clip.remedy else { Issue.record("not a clip"); return }
        #expect(rule == .autoClip(percentile: 10))
        // numpy's percentile: position 0.1·19 = 1.9 between the 2nd and 3rd smallest.
        let expected = globals[1] + 0.9 * (globals[2] - globals[1])
        #expect(abs(maxNorm - expected) < 1e-12 * expected)
        // Pascanu et al.'s rule: the average norm.
        var thresholds = DiagnosisThresholds()
        thresholds.clipRule = .averageNorm
        let average = Doctor.diagnose(record, thresholds: thresholds).prescriptions.compactMap { p -> Double? in
            if case .clipGradNorm(let m, .averageNorm) = p.remedy { return m }
            return nil
        }.first
        #expect(average.map { abs($0 - globals.reduce(0, +) / 20) < 1e-9 } == true)
    }

    @Test func theLearningRateCutIsSizedByTheUpdateRatio() throws {
        // Median update ratio 0.3: ×0.01 puts it near 3e-3, inside the healthy 1e-3…1e-2 band.
        let steps = (0..<20).map { RecordBuilder.step($0, loss: 3, updateRatio: 0.3) }
        let diagnosis = Doctor.diagnose(try RecordBuilder.record(steps))
        let unstable = try #require(diagnosis.finding(.unstableTraining))
        #expect(unstable.value("median_update_ratio") == 0.3)
        #expect(diagnosis.prescriptions.first?.remedy == .lowerLearningRate(factor: 0.01))
    }

    @Test func aHealthyRunGetsNoPrescription() {
        #expect(Doctor.diagnose(digitsKaimingRun.record).prescriptions.isEmpty)
    }

    @Test func prescriptionsRoundTripThroughJSON() throws {
        let prescriptions = Doctor.diagnose(largeInitSeedRun.record).prescriptions
        #expect(!prescriptions.isEmpty)
        let decoded = try JSONDecoder().decode([Prescription].self, from: try JSONEncoder().encode(prescriptions))
        #expect(decoded == prescriptions)
    }
}
