import ArgumentParser
import Foundation
import GradTensor

/// `gradlab info`: version, matrix-product backend and threads.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the version and the BLAS backend in use.")

    @Flag(help: "Print one JSON object on stdout.")
    var json = false

    func run() throws {
        let blas = BLAS.shared
        if json {
            let object: [String: Any] = [
                "version": gradlabVersion, "blas": blas.library ?? NSNull(),
                "backend": blas.backendDescription, "cpus": ProcessInfo.processInfo.activeProcessorCount,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("gradlab \(gradlabVersion)")
            print("matrix products: \(blas.backendDescription)")
            print("cpus: \(ProcessInfo.processInfo.activeProcessorCount)")
        }
    }
}

let gradlabVersion = "0.1.0"
