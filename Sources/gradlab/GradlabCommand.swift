import ArgumentParser

/// The `gradlab` command: train networks and see why their gradients vanish or explode.
@main
struct GradlabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradlab",
        abstract: "Train neural networks and diagnose vanishing and exploding gradients.",
        subcommands: [ListCommand.self, RunCommand.self, TheoryCommand.self, InfoCommand.self])
}
