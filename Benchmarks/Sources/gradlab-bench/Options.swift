/// Command-line options of `gradlab-bench`, parsed by hand to keep the package free of
/// dependencies beyond GradLab.
struct Options {
    var command = "help"
    var json = false
    var sizes = [256, 512, 1024, 2048]
    var threads = [1, 2]
    /// Whether `--threads` was given (the training benchmarks then take its first count).
    var threadsGiven = false
    /// Hidden widths for `doctor-overhead` (nil: its own 784-256×8-10 net).
    var hidden: [Int]? = nil
    var repetitions: Int? = nil
    var backends = ["blas_direct", "gradlab_blas", "gradlab_swift"]
    var activations = ["sigmoid", "relu"]
    var steps = 2000
    var warmup = 200
    var phases = false
    /// Whether `--steps` / `--warmup` were given (the training benchmarks have their own defaults).
    var stepsGiven = false, warmupGiven = false

    static let usage = """
    usage: gradlab-bench <command> [options]

    commands:
      matmul     square Float products: OpenBLAS's cblas_sgemm called directly (blas_direct),
                 GradLab's matmul routed to BLAS (gradlab_blas) and to the pure-Swift kernel
                 (gradlab_swift); GFLOP/s as the median over the repetitions
      mlp-step   one SGD step (forward, MSE loss, backward, update) of the seeds' net:
                 1 → 10 hidden layers of 10 → 1, 100 points, full batch; µs per step
      crossover  Float.kernelGemm on the Swift kernel vs on BLAS for small and thin shapes
                 (best of --reps bursts), to place BLAS.worthCalling's threshold
      doctor-overhead
                 Adam steps of a 784-256×8-10 ReLU MLP (batch 128) without the monitor, with
                 statistics every step, + histograms every 10, + the non-finite guard
      mnist-mlp  Adam steps of a 784-512-512-512-512-10 ReLU MLP on a batch of 128, cross-entropy
                 (issue 6, workload 3), 2 threads unless --threads; peer: peer/mnist_mlp.py
      bn-mlp     SGD-momentum steps of a 50-layer MLP of width 64 with batch norm (Linear,
                 BatchNorm1d, ReLU) on a batch of 256, cross-entropy (issue 6, workload 4),
                 2 threads unless --threads; peer: peer/bn_mlp.py
      lstm       forward+backward of an LSTM (input 32, hidden 128, 1 layer, sequence 100,
                 batch 32), one thread; peer: peer/lstm.py
      info       the machine and the BLAS library

    options:
      --json                 one JSON object on stdout (progress goes to stderr)
      --sizes 256,512,...    matmul sizes (default 256,512,1024,2048)
      --threads 1,2          thread counts for matmul (OpenBLAS and the Swift kernel alike);
                             mnist-mlp, bn-mlp and doctor-overhead use the first count
      --reps N               matmul repetitions per size (default: by size, ≥ 5)
      --backends a,b         matmul variants (default blas_direct,gradlab_blas,gradlab_swift)
      --activations a,b      mlp-step activations (default sigmoid,relu)
      --steps N              mlp-step timed steps (default 2000), after --warmup N (200);
                             mnist-mlp and bn-mlp: 100 after 10 unless given
      --phases               mlp-step, lstm, mnist-mlp, bn-mlp: also time forward, backward
                             and update separately
      --hidden 512,512,...   doctor-overhead: the hidden widths (default 256 × 8; issue 6's
                             workload 6 is 512,512,512,512, the mnist-mlp net)
    """

    /// Parses `arguments` (without the program name); returns nil after printing an error.
    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        var rest = arguments[...]
        guard let command = rest.popFirst() else { return options }
        options.command = command
        func list(_ name: String) -> [String]? {
            guard let value = rest.popFirst() else { log("\(name) needs a value"); return nil }
            return value.split(separator: ",").map(String.init)
        }
        func integers(_ name: String) -> [Int]? {
            guard let values = list(name) else { return nil }
            let numbers = values.compactMap { Int($0) }
            guard numbers.count == values.count, numbers.allSatisfy({ $0 > 0 }) else {
                log("\(name) needs positive integers, got \(values.joined(separator: ","))"); return nil
            }
            return numbers
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--json": options.json = true
            case "--phases": options.phases = true
            case "--sizes": guard let v = integers(argument) else { return nil }; options.sizes = v
            case "--threads": guard let v = integers(argument) else { return nil }; options.threads = v; options.threadsGiven = true
            case "--hidden": guard let v = integers(argument) else { return nil }; options.hidden = v
            case "--reps": guard let v = integers(argument), v.count == 1 else { return nil }; options.repetitions = v[0]
            case "--steps": guard let v = integers(argument), v.count == 1 else { return nil }; options.steps = v[0]; options.stepsGiven = true
            case "--warmup":
                guard let value = rest.popFirst(), let count = Int(value), count >= 0 else { log("--warmup needs a count ≥ 0"); return nil }
                options.warmup = count; options.warmupGiven = true
            case "--backends": guard let v = list(argument) else { return nil }; options.backends = v
            case "--activations": guard let v = list(argument) else { return nil }; options.activations = v
            case "-h", "--help": options.command = "help"
            default: log("unknown option \(argument)"); return nil
            }
        }
        return options
    }
}
