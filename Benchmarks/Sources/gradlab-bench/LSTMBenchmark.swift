import Foundation
import GradNN
import GradTensor

/// Times forward + backward of one LSTM layer on the workload of issue 5, acceptance 3:
/// input 32, hidden 128, 1 layer, 100 steps, batch 32, time-major `[T, B, in]` as PyTorch's
/// default. Each step: zero the gradients, forward (the output sequence), loss
/// `mean(output²)`, backward. One thread, as the peer (`peer/lstm.py`,
/// `torch.set_num_threads(1)`). Reports the median over `min(--steps, 100)` steps after
/// `min(--warmup, 10)`; `--phases` also times forward and backward separately. Besides wall-clock
/// time, `cpu_median_ms` is the median CPU time of the thread per step, which a busy machine
/// distorts less (the process's other threads, idle with one BLAS thread, are not counted).
func runLSTM(_ options: Options) {
    BLAS.shared.setThreadCount(1)
    let steps = 100, batch = 32, inputSize = 32, hiddenSize = 128
    let timed = min(options.steps, 100), warmup = min(options.warmup, 10)
    let generator = RandomGenerator(seed: 0)
    let lstm = LSTM<Float>(inputSize, hiddenSize, generator: generator)
    let x = Tensor<Float>.normal([steps, batch, inputSize], generator: generator)
    var total: [Double] = [], forward: [Double] = [], backward: [Double] = [], cpu: [Double] = []
    var firstLoss: Float = 0, lastLoss: Float = 0
    for step in 0..<(warmup + timed) {
        let c0 = threadCPUTime()
        let t0 = now()
        lstm.zeroGrad()
        let output = lstm(x)
        let loss = output.squared().mean()
        let t1 = now()
        loss.backward()
        let t2 = now()
        let c1 = threadCPUTime()
        if step == 0 { firstLoss = loss.scalar }
        lastLoss = loss.scalar
        if step >= warmup {
            total.append(t2 - t0)
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            cpu.append(c1 - c0)
        }
    }
    let summary = Summary(total)
    var entry: [String: Any] = [
        "backend": "gradlab", "threads": 1, "steps": summary.count,
        "median_ms": summary.median * 1e3, "p10_ms": summary.p10 * 1e3, "p90_ms": summary.p90 * 1e3,
        "mean_ms": summary.mean * 1e3, "cpu_median_ms": Summary(cpu).median * 1e3, "first_loss": Double(firstLoss), "last_loss": Double(lastLoss),
        "sequence": steps, "batch": batch, "input": inputSize, "hidden": hiddenSize, "layers": 1,
    ]
    if options.phases {
        entry["forward_ms"] = Summary(forward).median * 1e3
        entry["backward_ms"] = Summary(backward).median * 1e3
    }
    log("lstm: \(fixed(summary.median * 1e3, 2)) ms/step (median of \(summary.count)), loss \(firstLoss)")
    if options.json {
        var object = machineDescription()
        object["benchmark"] = "lstm"
        object["results"] = [entry]
        printJSON(object)
        return
    }
    print("lstm: input 32, hidden 128, 1 layer, 100 steps, batch 32, forward + backward, 1 thread; ms per step")
    print(machineDescription().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    var header = ["median", "p10", "p90", "cpu median"]
    if options.phases { header += ["forward", "backward"] }
    print(header.map { pad($0, 12) }.joined())
    var row = ["median_ms", "p10_ms", "p90_ms", "cpu_median_ms"].map { fixed(entry[$0] as! Double, 2) }
    if options.phases { row += ["forward_ms", "backward_ms"].map { fixed(entry[$0] as! Double, 2) } }
    print(row.map { pad($0, 12) }.joined())
}

/// Seconds of CPU time used by the calling thread.
private func threadCPUTime() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
