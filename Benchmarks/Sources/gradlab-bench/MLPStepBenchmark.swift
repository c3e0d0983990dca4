import Foundation
import GradDoctor
import GradNN
import GradOptim
import GradTensor

/// The seeds' net: `Linear(1, 10)`, activation, nine times `Linear(10, 10)`, activation, and
/// `Linear(10, 1)`: ten hidden layers of width 10, as `nn.Sequential` in `peer/mlp_step.py`;
/// with `hiddenLayers`, that many hidden layers instead (the sweep's depths 2 to 40).
func seedsNet(activation: String, hiddenLayers: Int = 10, generator: RandomGenerator) -> Sequential<Float> {
    func act() -> any Module<Float> {
        switch activation {
        case "relu": ReLU<Float>()
        case "tanh": Tanh<Float>()
        default: Sigmoid<Float>()
        }
    }
    var layers: [any Module<Float>] = [Linear<Float>(1, 10, generator: generator), act()]
    for _ in 0..<(hiddenLayers - 1) { layers += [Linear<Float>(10, 10, generator: generator), act()] }
    layers.append(Linear<Float>(10, 1, generator: generator))
    return Sequential(layers)
}

/// Times full-batch SGD steps of the seeds' net on 100 points of `y = sin(2x)`, `x` in
/// [−2, 2]: zero the gradients, forward, MSE loss, backward, update. One thread, as the peer
/// (`torch.set_num_threads(1)`). Reports the median over `steps` steps after `warmup` steps.
/// An activation is `sigmoid`, `tanh` or `relu`, optionally with `@N` for N hidden layers
/// (`tanh@40`; default 10) and `+monitor` to run GradDoctor's monitor every step (statistics,
/// histograms every 10 steps, the non-finite guard), as `gradlab run` does (`relu@2+monitor`).
func runMLPStep(_ options: Options) {
    BLAS.shared.setThreadCount(1)
    let points = 100
    let x = Tensor<Float>.linspace(-2, 2, count: points).reshaped([points, 1])
    let y = Tensor<Float>(shape: [points, 1], scalars: x.scalars.map { Float(sin(2 * Double($0))) })
    var results: [[String: Any]] = []
    for activation in options.activations {
        let monitored = activation.hasSuffix("+monitor")
        let name = monitored ? String(activation.dropLast("+monitor".count)) : activation
        let parts = name.split(separator: "@", maxSplits: 1).map(String.init)
        let function = parts[0]
        let depth = parts.count == 2 ? Int(parts[1]) : 10
        guard ["sigmoid", "tanh", "relu"].contains(function), let depth, depth >= 1 else {
            log("unknown activation \(activation), skipped")
            continue
        }
        let model = seedsNet(activation: function, hiddenLayers: depth, generator: RandomGenerator(seed: 0))
        let optimizer: SGD<Float>
        do { optimizer = try SGD(parameters: model.parameters, learningRate: 0.01) } catch { fatalError("\(error)") }
        let monitor = monitored ? Monitor(model: model, settings: Monitor<Float>.Settings()) : nil
        var total: [Double] = [], forward: [Double] = [], backward: [Double] = [], update: [Double] = []
        total.reserveCapacity(options.steps)
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<(options.warmup + options.steps) {
            let t0 = now()
            monitor?.beginStep()
            optimizer.zeroGrad()
            let loss = meanSquaredError(predictions: model(x), targets: y)
            let t1 = now()
            loss.backward()
            if let monitor {
                do { _ = try monitor.inspectGradients(loss: loss) } catch { fatalError("\(error)") }
            }
            let t2 = now()
            monitor?.beforeUpdate()
            optimizer.step()
            monitor?.afterUpdate()
            let t3 = now()
            if step == 0 { firstLoss = loss.scalar }
            if step >= options.warmup {
                total.append(t3 - t0)
                if options.phases { forward.append(t1 - t0); backward.append(t2 - t1); update.append(t3 - t2) }
            }
            if step == options.warmup + options.steps - 1 { lastLoss = loss.scalar }
        }
        let summary = Summary(total)
        var entry: [String: Any] = [
            "activation": activation, "backend": "gradlab", "threads": 1, "steps": summary.count,
            "median_us": summary.median * 1e6, "p10_us": summary.p10 * 1e6, "p90_us": summary.p90 * 1e6,
            "mean_us": summary.mean * 1e6, "first_loss": Double(firstLoss), "last_loss": Double(lastLoss),
        ]
        if options.phases {
            entry["forward_us"] = Summary(forward).median * 1e6
            entry["backward_us"] = Summary(backward).median * 1e6
            entry["update_us"] = Summary(update).median * 1e6
        }
        results.append(entry)
        log("mlp-step \(activation): \(fixed(summary.median * 1e6)) µs/step (median of \(summary.count)), loss \(firstLoss) → \(lastLoss)")
    }
    if options.json {
        var object = machineDescription()
        object["benchmark"] = "mlp_step"
        object["results"] = results
        printJSON(object)
        return
    }
    print("mlp-step: 1 → 10×10 hidden → 1, 100 points, full-batch SGD, 1 thread; µs per step")
    print(machineDescription().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    var header = ["activation", "median", "p10", "p90"]
    if options.phases { header += ["forward", "backward", "update"] }
    print(header.enumerated().map { pad($0.element, $0.offset == 0 ? 18 : 12) }.joined())
    for entry in results {
        var row = [entry["activation"] as! String] + ["median_us", "p10_us", "p90_us"].map { fixed(entry[$0] as! Double) }
        if options.phases { row += ["forward_us", "backward_us", "update_us"].map { fixed(entry[$0] as! Double) } }
        print(row.enumerated().map { pad($0.element, $0.offset == 0 ? 18 : 12) }.joined())
    }
}
