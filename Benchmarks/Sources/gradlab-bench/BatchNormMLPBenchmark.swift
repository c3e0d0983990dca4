import Foundation
import GradNN
import GradOptim
import GradTensor

/// Issue 6, workload 4: SGD steps with momentum (learning rate 0.01, momentum 0.9) of a deep
/// narrow MLP with batch norm: input 64, 50 hidden layers of width 64 each `Linear`,
/// `BatchNorm1d` (training mode), ReLU, then `Linear(64, 10)`; a batch of 256 normal inputs
/// with labels `i mod 10`, cross-entropy. Both threads by default (the first `--threads`), as
/// the peer (`peer/bn_mlp.py`). Median over `--steps` steps (default 100) after `--warmup`
/// (default 10); the target is 2× PyTorch (small layers: overhead decides, not arithmetic).
func runBatchNormMLP(_ options: Options) {
    let threads = options.threadsGiven ? options.threads[0] : 2
    BLAS.shared.setThreadCount(threads)
    let batch = 256, width = 64, depth = 50, classes = 10
    let steps = options.stepsGiven ? options.steps : 100, warmup = options.warmupGiven ? options.warmup : 10
    let x = Tensor<Float>.normal([batch, width], mean: 0, std: 1, generator: RandomGenerator(seed: 0))
    let labels = (0..<batch).map { $0 % classes }
    let model = Sequential<Float>.mlp(inputSize: width, hiddenSizes: Array(repeating: width, count: depth), outputSize: classes,
                                      activation: .relu, batchNorm: true, generator: RandomGenerator(seed: 1))
    let optimizer: SGD<Float>
    do { optimizer = try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9) } catch { fatalError("\(error)") }
    let times = ClassifierStepTimes(model: model, optimizer: optimizer, x: x, labels: labels, steps: steps, warmup: warmup)
    var entry = times.entry(threads: threads, phases: options.phases)
    entry["batch"] = batch
    entry["depth"] = depth
    entry["width"] = width
    log("bn-mlp: \(fixed(entry["median_ms"] as! Double, 2)) ms/step (median of \(steps)), loss \(times.firstLoss) → \(times.lastLoss)")
    reportClassifierSteps(entry, benchmark: "bn_mlp",
                          title: "bn-mlp: 64 → 50 × [Linear 64, BatchNorm1d, ReLU] → 10, batch 256, SGD momentum 0.9, \(threads) thread(s); ms per step",
                          options: options)
}
