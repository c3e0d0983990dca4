import Foundation
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// The doctor's overhead (issue 3, acceptance 5): one Adam step of a 784-256×8-10 ReLU MLP on
/// a batch of 128 with cross-entropy, without the monitor, with statistics every step, with
/// histograms every 10 steps as well, and with the non-finite guard on too. The variants run
/// in turn, one step each, so that load changes hit all of them alike.
///
/// Per variant: the median step time (`median_ms`, which never sees a histogram step, one in
/// ten) and the mean (`mean_ms`); the overhead (`overhead_percent`) is the median, over
/// windows of 10 consecutive rounds, of the variant's time in the window over the plain
/// variant's time in the same window, so that it includes the histogram steps and compares
/// only steps taken side by side; `step_overhead_percent` is the same for single rounds.
///
/// To profile one variant alone, `GRADLAB_DOCTOR_VARIANTS=statistics` (names, comma-separated)
/// runs only those; the ratios are then against the first one named.
/// `--hidden` sets the hidden widths (issue 6's workload 6: `512,512,512,512`, the net of
/// `mnist-mlp`), `--threads` OpenBLAS's thread count (default: OpenBLAS's own).
func runDoctorOverhead(_ options: Options) {
    if options.threadsGiven { BLAS.shared.setThreadCount(options.threads[0]) }
    let hidden = options.hidden ?? Array(repeating: 256, count: 8)
    let batch = 128, classes = 10
    let generator = RandomGenerator(seed: 0)
    let x = Tensor<Float>.normal([batch, 784], mean: 0, std: 1, generator: generator)
    let labels = (0..<batch).map { $0 % classes }
    var variants: [(name: String, settings: Monitor<Float>.Settings?)] = [
        ("plain", nil),
        ("statistics", .init(every: 1, histogramsEvery: 0, nonfinite: .off)),
        ("statistics+histograms", .init(every: 1, histogramsEvery: 10, nonfinite: .off)),
        ("statistics+histograms+guard", .init(every: 1, histogramsEvery: 10, nonfinite: .raise)),
    ]
    if let chosen = ProcessInfo.processInfo.environment["GRADLAB_DOCTOR_VARIANTS"]?.split(separator: ",").map(String.init) {
        variants = chosen.compactMap { name in variants.first { $0.name == name } }
        precondition(!variants.isEmpty, "GRADLAB_DOCTOR_VARIANTS names none of plain, statistics, statistics+histograms, statistics+histograms+guard")
    }
    struct Run { let model: Sequential<Float>; let optimizer: Adam<Float>; let monitor: Monitor<Float>?; var times: [Double] }
    var runs: [Run] = variants.map { variant in
        let model = Sequential<Float>.mlp(inputSize: 784, hiddenSizes: hidden, outputSize: classes,
                                          activation: .relu, generator: RandomGenerator(seed: 1))
        let optimizer: Adam<Float>
        do { optimizer = try Adam(parameters: model.parameters, learningRate: 1e-3) } catch { fatalError("\(error)") }
        return Run(model: model, optimizer: optimizer, monitor: variant.settings.map { Monitor(model: model, settings: $0) }, times: [])
    }
    let steps = min(options.steps, 400), warmup = min(options.warmup, 20)
    for step in 0..<(warmup + steps) {
        for index in runs.indices {
            let run = runs[index]
            let t0 = now()
            run.monitor?.beginStep()
            run.optimizer.zeroGrad()
            let loss = crossEntropy(logits: run.model(x), labels: labels)
            loss.backward()
            do {
                if let monitor = run.monitor, try !monitor.inspectGradients(loss: loss) { continue }
            } catch { fatalError("\(error)") }
            run.monitor?.beforeUpdate()
            run.optimizer.step()
            run.monitor?.afterUpdate()
            let t1 = now()
            if step >= warmup { runs[index].times.append(t1 - t0) }
        }
    }
    let plain = runs[0].times
    let window = min(10, plain.count)
    var results: [[String: Any]] = []
    for (variant, run) in zip(variants, runs) {
        let summary = Summary(run.times)
        // Ratios of steps taken side by side: per round, and per window of 10 rounds.
        let stepRatio = Summary(zip(run.times, plain).map { $0 / $1 }).median
        let windows = stride(from: 0, through: plain.count - window, by: window).map { start in
            run.times[start..<(start + window)].reduce(0, +) / plain[start..<(start + window)].reduce(0, +)
        }
        let windowRatio = Summary(windows).median
        results.append(["variant": variant.name, "median_ms": summary.median * 1e3, "mean_ms": summary.mean * 1e3,
                        "overhead_percent": (windowRatio - 1) * 100, "step_overhead_percent": (stepRatio - 1) * 100,
                        "windows": windows.count])
        log("doctor-overhead \(variant.name): \(fixed(summary.median * 1e3)) ms/step (mean \(fixed(summary.mean * 1e3))), "
            + "+\(fixed((windowRatio - 1) * 100))% per 10 steps, +\(fixed((stepRatio - 1) * 100))% per step")
    }
    if options.json {
        var object = machineDescription()
        object["benchmark"] = "doctor_overhead"
        object["results"] = results
        object["layers"] = [784] + hidden + [classes]
        object["threads"] = BLAS.shared.threadCount ?? 1
        printJSON(object)
        return
    }
    let layers = ([784] + hidden + [classes]).map(String.init).joined(separator: "-")
    print("doctor-overhead: \(layers) ReLU MLP, batch 128, Adam, \(BLAS.shared.threadCount ?? 1) thread(s); \(steps) steps")
    print(pad("variant", 30) + pad("median", 10) + pad("mean", 10) + pad("per 10 steps", 16) + pad("per step", 12))
    for entry in results {
        print(pad(entry["variant"] as! String, 30) + pad(fixed(entry["median_ms"] as! Double), 7) + " ms"
              + pad(fixed(entry["mean_ms"] as! Double), 7) + " ms" + pad("+" + fixed(entry["overhead_percent"] as! Double) + "%", 16)
              + pad("+" + fixed(entry["step_overhead_percent"] as! Double) + "%", 12))
    }
}

