import Foundation
import GradNN
import GradOptim
import GradTensor

/// The seeds' net: `Linear(1, 10)`, activation, nine times `Linear(10, 10)`, activation, and
/// `Linear(10, 1)`: ten hidden layers of width 10, as `nn.Sequential` in `peer/mlp_step.py`.
func seedsNet(activation: String, generator: RandomGenerator) -> Sequential<Float> {
    func act() -> any Module<Float> { activation == "relu" ? ReLU<Float>() : Sigmoid<Float>() }
    var layers: [any Module<Float>] = [Linear<Float>(1, 10, generator: generator), act()]
    for _ in 0..<9 { layers += [Linear<Float>(10, 10, generator: generator), act()] }
    layers.append(Linear<Float>(10, 1, generator: generator))
    return Sequential(layers)
}

/// Times full-batch SGD steps of the seeds' net on 100 points of `y = sin(2x)`, `x` in
/// [−2, 2]: zero the gradients, forward, MSE loss, backward, update. One thread, as the peer
/// (`torch.set_num_threads(1)`). Reports the median over `steps` steps after `warmup` steps.
func runMLPStep(_ options: Options) {
    BLAS.shared.setThreadCount(1)
    let points = 100
    let x = Tensor<Float>.linspace(-2, 2, count: points).reshaped([points, 1])
    let y = Tensor<Float>(shape: [points, 1], scalars: x.scalars.map { Float(sin(2 * Double($0))) })
    var results: [[String: Any]] = []
    for activation in options.activations {
        guard activation == "sigmoid" || activation == "relu" else { log("unknown activation \(activation), skipped"); continue }
        let model = seedsNet(activation: activation, generator: RandomGenerator(seed: 0))
        let optimizer: SGD<Float>
        do { optimizer = try SGD(parameters: model.parameters, learningRate: 0.01) } catch { fatalError("\(error)") }
        var total: [Double] = [], forward: [Double] = [], backward: [Double] = [], update: [Double] = []
        total.reserveCapacity(options.steps)
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<(options.warmup + options.steps) {
            let t0 = now()
            optimizer.zeroGrad()
            let loss = meanSquaredError(predictions: model(x), targets: y)
            let t1 = now()
            loss.backward()
            let t2 = now()
            optimizer.step()
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
    print(header.map { pad($0, 12) }.joined())
    for entry in results {
        var row = [entry["activation"] as! String] + ["median_us", "p10_us", "p90_us"].map { fixed(entry[$0] as! Double) }
        if options.phases { row += ["forward_us", "backward_us", "update_us"].map { fixed(entry[$0] as! Double) } }
        print(row.map { pad($0, 12) }.joined())
    }
}
