import Foundation
import Testing

/// `gradlab theory` run as a process: JSON output, the text table, exit codes for bad values.
@Suite struct TheoryCommandTests {
    static func jsonObject(_ text: String) throws -> [String: Any] {
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1, "stdout must be exactly one JSON line, got \(lines.count)")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func helpListsTheTheoryCommand() throws {
        let r = try CLITests.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("theory"))
        let help = try CLITests.run(["theory", "--help"])
        #expect(help.status == 0)
        for option in ["--activation", "--sigma-w", "--sigma-b", "--depth", "--json"] { #expect(help.stdout.contains(option)) }
    }

    @Test func reluAtHeInitializationIsCritical() throws {
        let r = try CLITests.run(["theory", "--activation", "relu", "--sigma-w", "1.4142135623730951", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let object = try Self.jsonObject(r.stdout)
        #expect(object["phase"] as? String == "critical")
        #expect(object["activation"] as? String == "relu")
        let chi1 = try #require(object["chi_1"] as? Double)
        #expect(Swift.abs(chi1 - 1) < 1e-12)
        let critical = try #require(object["critical_sigma_w"] as? Double)
        #expect(Swift.abs(critical - 2.0.squareRoot()) < 1e-9)
        #expect(object["depth"] as? Int == 10)
        // ξ_c is infinite at criticality, or astronomically large where χ₁ = 1 only to rounding.
        let xiC = object["xi_c"]
        #expect(xiC as? String == "inf" || (xiC as? Double ?? 0) > 1e12, "ξ_c \(String(describing: xiC))")
    }

    @Test func reluBeyondHeExplodesWithoutAFixedPoint() throws {
        let r = try CLITests.run(["theory", "--activation", "relu", "--sigma-w", "3", "--sigma-b", "0.1", "--depth", "5", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let object = try Self.jsonObject(r.stdout)
        #expect(object["phase"] as? String == "chaotic")
        #expect(object["length_diverges"] as? Bool == true)
        #expect(object["q_star"] == nil)
        let ratio = try #require(object["gradient_ratio_first_to_last"] as? Double)
        #expect(Swift.abs(ratio / 4.5 / 4.5 - 1) < 1e-12, "χ₁^((5−1)/2) = 4.5², got \(ratio)")
    }

    @Test func tanhTextNamesThePhaseAndTheRemedy() throws {
        let r = try CLITests.run(["theory", "--activation", "tanh", "--sigma-w", "0.5", "--depth", "20"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("ordered (vanishing gradients)"))
        #expect(r.stdout.contains("q* (length fixed point)"))
        #expect(r.stdout.contains("0.25"), "χ₁ = σ_w² = 0.25 for tanh without bias")
        #expect(r.stdout.contains("raise sigma_w toward 1"))
    }

    @Test func unknownActivationIsBadUsageOnOneLine() throws {
        let r = try CLITests.run(["theory", "--activation", "sigmod", "--sigma-w", "1"])
        #expect(r.status == 64)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("unknown activation 'sigmod'"))
        #expect(r.stderr.contains("sigmoid, tanh, relu"))
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
    }

    @Test(arguments: [
        ["--sigma-w=-1"], ["--sigma-w", "-1"], ["--sigma-w", "0"], ["--sigma-w", "abc"], ["--sigma-w", "nan"],
        ["--sigma-w", "1", "--sigma-b", "-0.5"], ["--sigma-w", "1", "--depth", "0"], ["--sigma-w", "1", "--depth", "2.5"],
    ])
    func badNumbersAreBadUsageOnOneLine(arguments: [String]) throws {
        let r = try CLITests.run(["theory", "--activation", "tanh"] + arguments)
        #expect(r.status == 64, "\(arguments): stderr \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        let option = arguments.last { $0.hasPrefix("--") }?.split(separator: "=").first.map(String.init) ?? ""
        #expect(r.stderr.contains(option.dropFirst(2)), "\(arguments): stderr \(r.stderr)")
    }
}
