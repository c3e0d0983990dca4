import Foundation
import GradTensor

guard let options = Options.parse(Array(CommandLine.arguments.dropFirst())) else {
    log(Options.usage)
    exit(64)
}
switch options.command {
case "matmul":
    runMatmul(options)
case "mlp-step":
    runMLPStep(options)
case "doctor-overhead":
    runDoctorOverhead(options)
case "crossover":
    runCrossover(options)
case "mnist-mlp":
    runMNISTMLP(options)
case "bn-mlp":
    runBatchNormMLP(options)
case "lstm":
    runLSTM(options)
case "info":
    if options.json {
        printJSON(machineDescription())
    } else {
        for (key, value) in machineDescription().sorted(by: { $0.key < $1.key }) { print("\(key): \(value)") }
    }
case "help":
    print(Options.usage)
default:
    log("unknown command \(options.command)\n\(Options.usage)")
    exit(64)
}
