import ArgumentParser
import GradLab

/// `gradlab list`: the experiments catalog, one line each.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the experiments catalog.")

    func run() throws {
        let width = CatalogExperiment.all.map(\.name.count).max() ?? 0
        for experiment in CatalogExperiment.all {
            print(experiment.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + experiment.summary)
        }
    }
}
