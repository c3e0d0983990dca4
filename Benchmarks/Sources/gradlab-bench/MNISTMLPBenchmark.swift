import Foundation
import GradNN
import GradOptim
import GradTensor

/// Issue 6, workload 3: Adam steps (learning rate 10⁻³) of the MNIST-scale MLP
/// 784-512-512-512-512-10 with ReLU on a batch of 128 normal inputs with labels `i mod 10`,
/// cross-entropy. Both threads by default (OpenBLAS's and the Swift kernels' thread count:
/// the first `--threads`), as the peer (`peer/mnist_mlp.py`, `torch.set_num_threads`).
/// Median over `--steps` steps (default 100) after `--warmup` (default 10); the target is
/// 1.3× PyTorch's steps per second.
func runMNISTMLP(_ options: Options) {
    let threads = options.threadsGiven ? options.threads[0] : 2
    BLAS.shared.setThreadCount(threads)
    let batch = 128, classes = 10
    let steps = options.stepsGiven ? options.steps : 100, warmup = options.warmupGiven ? options.warmup : 10
    let x = Tensor<Float>.normal([batch, 784], mean: 0, std: 1, generator: RandomGenerator(seed: 0))
    let labels = (0..<batch).map { $0 % classes }
    let model = Sequential<Float>.mlp(inputSize: 784, hiddenSizes: [512, 512, 512, 512], outputSize: classes,
                                      activation: .relu, generator: RandomGenerator(seed: 1))
    let optimizer: Adam<Float>
    do { optimizer = try Adam(parameters: model.parameters, learningRate: 1e-3) } catch { fatalError("\(error)") }
    let times = ClassifierStepTimes(model: model, optimizer: optimizer, x: x, labels: labels, steps: steps, warmup: warmup)
    var entry = times.entry(threads: threads, phases: options.phases)
    entry["batch"] = batch
    entry["layers"] = [784, 512, 512, 512, 512, classes]
    log("mnist-mlp: \(fixed(entry["median_ms"] as! Double, 2)) ms/step (median of \(steps)), loss \(times.firstLoss) → \(times.lastLoss)")
    reportClassifierSteps(entry, benchmark: "mnist_mlp",
                          title: "mnist-mlp: 784-512×4-10 ReLU, batch 128, cross-entropy, Adam, \(threads) thread(s); ms per step",
                          options: options)
}
