import Foundation
import GradNN
import GradOptim
import GradTensor

/// Timings of classifier training steps: each step zeroes the gradients, runs the model
/// forward, takes the cross-entropy of its logits, runs backward and updates, as a PyTorch loop
/// does (`zero_grad`, forward, loss, `backward`, `step`).
struct ClassifierStepTimes {
    var total: [Double] = [], forward: [Double] = [], backward: [Double] = [], update: [Double] = []
    var firstLoss: Float = 0, lastLoss: Float = 0

    /// Runs `warmup + steps` steps of `model` with `optimizer` on the batch `x` with `labels`,
    /// keeping the times of the last `steps`.
    ///
    /// - Parameters:
    ///   - model: the classifier, `[batch, features] → [batch, classes]` logits.
    ///   - optimizer: updates the model's parameters.
    ///   - x: the input batch, `[batch, features]`.
    ///   - labels: one class index per row of `x`.
    ///   - steps: timed steps (≥ 1).
    ///   - warmup: untimed steps before them.
    init<O: Optimizer>(model: Sequential<Float>, optimizer: O, x: Tensor<Float>, labels: [Int], steps: Int, warmup: Int)
    where O.Scalar == Float {
        precondition(steps >= 1, "ClassifierStepTimes: needs at least one timed step, got \(steps)")
        precondition(x.shape.first == labels.count, "ClassifierStepTimes: \(labels.count) labels for input \(x.shape)")
        total.reserveCapacity(steps)
        for step in 0..<(warmup + steps) {
            let t0 = now()
            optimizer.zeroGrad()
            let loss = crossEntropy(logits: model(x), labels: labels)
            let t1 = now()
            loss.backward()
            let t2 = now()
            optimizer.step()
            let t3 = now()
            if step == 0 { firstLoss = loss.scalar }
            if step == warmup + steps - 1 { lastLoss = loss.scalar }
            if step >= warmup {
                total.append(t3 - t0); forward.append(t1 - t0); backward.append(t2 - t1); update.append(t3 - t2)
            }
        }
    }

    /// The JSON entry of these timings (the keys the peers print too): median, 10th and 90th
    /// percentile and mean in ms per step, steps per second from the median, the first and last
    /// loss, and with `phases` the median forward, backward and update times.
    func entry(threads: Int, phases: Bool) -> [String: Any] {
        let summary = Summary(total)
        var entry: [String: Any] = [
            "backend": "gradlab", "threads": threads, "steps": summary.count,
            "median_ms": summary.median * 1e3, "p10_ms": summary.p10 * 1e3, "p90_ms": summary.p90 * 1e3,
            "mean_ms": summary.mean * 1e3, "steps_per_s": 1 / summary.median,
            "first_loss": Double(firstLoss), "last_loss": Double(lastLoss),
        ]
        if phases {
            entry["forward_ms"] = Summary(forward).median * 1e3
            entry["backward_ms"] = Summary(backward).median * 1e3
            entry["update_ms"] = Summary(update).median * 1e3
        }
        return entry
    }
}

/// Prints the result of a classifier benchmark: one JSON object with the machine, or a line
/// of text with `title` and the median, percentiles, steps per second and phases.
func reportClassifierSteps(_ entry: [String: Any], benchmark: String, title: String, options: Options) {
    if options.json {
        var object = machineDescription()
        object["benchmark"] = benchmark
        object["results"] = [entry]
        printJSON(object)
        return
    }
    print(title)
    print(machineDescription().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    var header = ["median ms", "p10", "p90", "steps/s"]
    var row = ["median_ms", "p10_ms", "p90_ms", "steps_per_s"].map { fixed(entry[$0] as! Double, 2) }
    if options.phases {
        header += ["forward", "backward", "update"]
        row += ["forward_ms", "backward_ms", "update_ms"].map { fixed(entry[$0] as! Double, 2) }
    }
    print(header.map { pad($0, 12) }.joined())
    print(row.map { pad($0, 12) }.joined())
}
