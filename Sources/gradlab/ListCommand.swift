import ArgumentParser
import GradLab

/// `gradlab list`: the experiments catalog, one line each.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the experiments catalog.")

    func run() throws {
        let width = SeedExperiment.allCases.map { $0.rawValue.count }.max() ?? 0
        for experiment in SeedExperiment.allCases {
            print(experiment.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + experiment.summary)
        }
    }
}
