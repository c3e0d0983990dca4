import Foundation
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// The doctor's overhead (issue 3, acceptance 5): one Adam step of a 784-256×8-10 ReLU MLP on
/// a batch of 128 with cross-entropy, without the monitor, with statistics every step, with
/// histograms every 10 steps as well, and with the non-finite guard on too. The variants run
/// in turn, one step each, so that load changes hit all of them alike; medians per variant.
/// `--hidden` sets the hidden widths (issue 6's workload 6: `512,512,512,512`, the net of
/// `mnist-mlp`), `--threads` OpenBLAS's thread count (default: OpenBLAS's own).
func runDoctorOverhead(_ options: Options) {
    if options.threadsGiven { BLAS.shared.setThreadCount(options.threads[0]) }
    let hidden = options.hidden ?? Array(repeating: 256, count: 8)
    let batch = 128, classes = 10
    let generator = RandomGenerator(seed: 0)
    let x = Tensor<Float>.normal([batch, 784], mean: 0, std: 1, generator: generator)
    let labels = (0..<batch).map { $0 % classes }
    let variants: [(name: String, settings: Monitor<Float>.Settings?)] = [
        ("plain", nil),
        ("statistics", .init(every: 1, histogramsEvery: 0, nonfinite: .off)),
        ("statistics+histograms", .init(every: 1, histogramsEvery: 10, nonfinite: .off)),
        ("statistics+histograms+guard", .init(every: 1, histogramsEvery: 10, nonfinite: .raise)),
    ]
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
    let plain = Summary(runs[0].times).median
    var results: [[String: Any]] = []
    for (variant, run) in zip(variants, runs) {
        let median = Summary(run.times).median
        results.append(["variant": variant.name, "median_ms": median * 1e3, "overhead_percent": (median / plain - 1) * 100])
        log("doctor-overhead \(variant.name): \(fixed(median * 1e3)) ms/step, +\(fixed((median / plain - 1) * 100))%")
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
    print("doctor-overhead: \(layers) ReLU MLP, batch 128, Adam; median ms per step over \(steps) steps")
    for entry in results {
        print(pad(entry["variant"] as! String, 30) + pad(fixed(entry["median_ms"] as! Double), 10) + " ms  +" + fixed(entry["overhead_percent"] as! Double) + "%")
    }
}
