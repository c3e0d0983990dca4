import ArgumentParser
import Foundation
import GradLab

/// `gradlab theory`: the mean-field prediction for a deep random MLP, before any training.
struct TheoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theory",
        abstract: "Predict from mean-field theory whether gradients vanish or explode in a deep MLP.",
        discussion: """
            Weights N(0, sigma_w²/fan_in), biases N(0, sigma_b²), infinitely wide layers \
            (Schoenholz et al. 2017, "Deep Information Propagation"). Prints the phase, the \
            fixed point q* of the pre-activation length, chi_1 (the factor of the squared \
            gradient norm per layer), the depth scales, the first/last-layer gradient ratio over \
            the depth, and the sigma_w at the edge of chaos.
            """)

    @Option(help: "The activation: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var activation: String

    // The numbers are read as text and parsed in `validate()`, so that a bad value (`abc`, `-1`)
    // gets the same one-line message as an out-of-range one; `.unconditional` lets a negative
    // number through as a value instead of an unknown option.
    @Option(name: .customLong("sigma-w"), parsing: .unconditional,
            help: ArgumentHelp("Weight scale: weights are N(0, sigma_w²/fan_in); He init for ReLU is 1.414.", valueName: "sigma-w"))
    var sigmaWText: String

    @Option(name: .customLong("sigma-b"), parsing: .unconditional,
            help: ArgumentHelp("Bias standard deviation: biases are N(0, sigma_b²).", valueName: "sigma-b"))
    var sigmaBText: String = "0"

    @Option(name: .customLong("depth"), parsing: .unconditional,
            help: ArgumentHelp("Number of weight layers for the gradient ratio.", valueName: "depth"))
    var depthText: String = "10"

    @Flag(help: "Print one JSON object on stdout and nothing else there.")
    var json = false

    /// The parsed and checked flags.
    struct Inputs {
        let activation: Activation
        let sigmaW: Double
        let sigmaB: Double
        let depth: Int
    }

    func inputs() throws(MeanFieldTheoryError) -> Inputs {
        let activation = try MeanFieldTheory.activation(named: self.activation)
        guard let sigmaW = Double(sigmaWText), sigmaW.isFinite, sigmaW > 0 else {
            throw .invalidSigmaW(Double(sigmaWText) ?? .nan)
        }
        guard let sigmaB = Double(sigmaBText), sigmaB.isFinite, sigmaB >= 0 else {
            throw .invalidSigmaB(Double(sigmaBText) ?? .nan)
        }
        guard let depth = Int(depthText), depth >= 1 else {
            throw .invalidDepth(Int(depthText) ?? 0, minimum: 1)
        }
        return Inputs(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, depth: depth)
    }

    func validate() throws {
        do {
            _ = try inputs()
        } catch {
            // One line on stderr, exit code 64 (bad usage).
            FileHandle.standardError.write(Data("gradlab theory: \(error.message(sigmaW: sigmaWText, sigmaB: sigmaBText, depth: depthText))\n".utf8))
            throw ExitCode(64)
        }
    }

    func run() throws {
        let inputs = try inputs()
        let prediction = try MeanFieldTheory.predict(
            activation: inputs.activation, sigmaW: inputs.sigmaW, sigmaB: inputs.sigmaB, depth: inputs.depth)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(prediction), as: UTF8.self))
        } else {
            print(Self.text(prediction))
        }
    }

    /// The prediction as a short aligned table with one line of conclusion.
    static func text(_ p: MeanFieldPrediction) -> String {
        func number(_ value: Double) -> String {
            if value.isInfinite { return value > 0 ? "∞" : "−∞" }
            if value != 0 && (Swift.abs(value) < 1e-3 || Swift.abs(value) >= 1e5) { return String(format: "%.3e", value) }
            return String(format: "%.4g", value)
        }
        func layers(_ value: Double?) -> String {
            guard let value else { return "undefined (the length diverges)" }
            return value.isInfinite ? "∞ (no exponential decay)" : number(value) + " layers"
        }
        var rows: [(String, String)] = [
            ("network", "\(p.activation.rawValue), sigma_w \(number(p.sigmaW)), sigma_b \(number(p.sigmaB)), depth \(p.depth)"),
            ("phase", "\(p.phase.rawValue) (\(p.phase.gradientBehaviour))"),
            ("q* (length fixed point)", p.qStar.map(number) ?? "none: the pre-activation length grows without bound"),
            ("chi_1", number(p.chi1)),
            ("gradient factor per layer", number(p.perLayerGradientFactor) + " (√chi_1)"),
            ("gradient ratio first/last", number(p.gradientRatio) + " over \(p.depth) layers"),
            ("depth scale xi_q", layers(p.depthScaleQ)),
            ("depth scale xi_c", layers(p.depthScaleC)),
        ]
        if let cStar = p.cStar, cStar < 1 { rows.append(("c* (correlation fixed point)", number(cStar))) }
        rows.append(("critical sigma_w", p.criticalSigmaW.map { "\(number($0)) for sigma_b \(number(p.sigmaB))" } ?? "none in [0.01, 100]"))
        let width = rows.map(\.0.count).max() ?? 0
        var lines = rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
        let conclusion: String
        switch p.phase {
        case .ordered:
            conclusion = "Gradients shrink by \(number(p.perLayerGradientFactor)) per layer toward the input"
                + (p.criticalSigmaW.map { ": raise sigma_w toward \(number($0))." } ?? ".")
        case .chaotic:
            conclusion = "Gradients grow by \(number(p.perLayerGradientFactor)) per layer toward the input"
                + (p.criticalSigmaW.map { ": lower sigma_w toward \(number($0))." } ?? ".")
        case .critical:
            conclusion = "At the edge of chaos: gradients keep their size through depth."
        }
        lines.append("")
        lines.append(conclusion)
        return lines.joined(separator: "\n")
    }
}

extension MeanFieldTheoryError {
    /// The error as a flag message, quoting the text given when it was not a number.
    func message(sigmaW: String, sigmaB: String, depth: String) -> String {
        switch self {
        case .invalidSigmaW where Double(sigmaW) == nil: "sigma-w must be a finite number > 0, got '\(sigmaW)'"
        case .invalidSigmaB where Double(sigmaB) == nil: "sigma-b must be a finite number ≥ 0, got '\(sigmaB)'"
        case .invalidDepth where Int(depth) == nil: "depth must be a whole number ≥ 1, got '\(depth)'"
        default: description
        }
    }
}
