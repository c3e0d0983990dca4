import ArgumentParser
import Foundation
import GradLab

/// `gradlab grads SPEC --weights W --out G`: one forward and backward pass at given weights,
/// writing the loss and every parameter's gradient, to compare GradLab with other frameworks.
struct GradsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grads", abstract: "Write the loss and every gradient at given weights (one forward/backward pass).",
        discussion: "The output .safetensors holds `loss` (shape [1]) and one tensor per parameter, named as in the checkpoint.")

    @Argument(help: "The spec file (YAML or JSON).")
    var spec: String

    @Option(help: "The weights (.safetensors, PyTorch state_dict names).")
    var weights: String

    @Option(help: "A CSV file to use instead of the spec's data.")
    var data: String?

    @Option(help: "The output .safetensors file.")
    var out: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReportingErrors("grads") {
            let spec = try RunSpec.load(contentsOf: URL(fileURLWithPath: self.spec))
            let (train, _) = try spec.loadData(dataFile: data.map { URL(fileURLWithPath: $0) })
            let model = try spec.makeModel(generator: RandomGenerator(seed: spec.train.seed &+ 1))
            _ = try loadCheckpoint(into: model, from: URL(fileURLWithPath: weights), strict: true)
            model.train()
            let loss = spec.train.loss(model(train.features), train)
            loss.backward()
            var file = SafeTensors(metadata: ["format": "pt", "producer": "gradlab grads"])
            file.set("loss", Tensor<Float>(shape: [1], scalars: [loss.scalar]))
            for (name, parameter) in model.namedParameters {
                file.set(name, parameter.grad ?? Tensor<Float>.zeros(parameter.shape))
            }
            let url = URL(fileURLWithPath: out)
            let folder = try RunFolder(url.deletingLastPathComponent())
            try folder.write(file.serialized(), to: url.lastPathComponent)
            if output.json {
                try printJSON(["loss": Double(loss.scalar)])
            } else {
                print("loss \(loss.scalar); \(model.namedParameters.count) gradients written to \(url.path)")
            }
        }
    }
}
