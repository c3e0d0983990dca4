import ArgumentParser

/// The `gradlab` command: train networks and see why their gradients vanish or explode.
@main
struct GradlabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradlab",
        abstract: "Train neural networks and diagnose vanishing and exploding gradients.",
        subcommands: [ListCommand.self, RunCommand.self, TrainCommand.self, DiagnoseCommand.self, TheoryCommand.self,
                      SweepCommand.self, GradsCommand.self, ReportCommand.self, InfoCommand.self])
}
