import Foundation
import GradData
import GradDoctor
import GradNN
import GradReport
import GradTensor

// The recurrent experiments of the catalog (issue 5): the adding problem with a vanilla RNN, an
// LSTM and a GRU (Hochreiter & Schmidhuber 1997), and gradient clipping on an RNN whose
// recurrent weights have spectral radius above 1 (Pascanu et al. 2013). Each is a function of
// its budget, so that tests can run it small; `CatalogExperiment.all` holds the defaults. The
// conclusions are computed from what ran and say so plainly when a published result does not
// show at our budget.

extension CatalogExperiment {
    // MARK: - Shared pieces

    /// A recurrent run on the adding problem as spec YAML: `cell` (`rnn`, `lstm`, `gru`) with
    /// `hidden` units reading the sequences (an LSTM's forget gate starting at bias 1, as Gers et
    /// al. 2000 and Jozefowicz et al. 2015 advise), `last_step`, and a `linear` head; MSE.
    static func addingRun(cell: String, hidden: Int, length: Int, count: Int, init initializer: String = "default",
                          optimizer: String, clip: String, batchSize: Int, validation: Double, every: Int,
                          nonfinite: String = "raise") -> String {
        """
        name: "{name}"
        model:
          layers:
            - {\(cell): {input: 2, hidden: \(hidden), init: \(initializer)\(cell == "lstm" ? ", forget_bias: 1.0" : "")}}
            - last_step
            - {linear: {in: \(hidden), out: 1}}
        data: {kind: adding, count: \(count), length: \(length), validation: \(validation), seed: {seed}}
        train: {loss: mse, optimizer: \(optimizer), clip: \(clip), epochs: {epochs}, batch_size: \(batchSize), seed: {seed}}
        doctor: {every: \(every), histograms_every: 0, nonfinite: \(nonfinite)}
        """
    }

    /// `‖∂L/∂h_t‖` for t = 0 ..< T at the first and the last recorded step of a run (the first
    /// recurrent layer's record), with those steps; nil without a record of them.
    static func hiddenGradientTraces(_ result: TrainingResult) -> (first: (step: Int, norms: [Double]), last: (step: Int, norms: [Double]))? {
        guard let record = result.record else { return nil }
        let traces = record.steps.compactMap { step -> (step: Int, norms: [Double])? in
            guard let norms = step.layers.first(where: { $0.hiddenGradientNorms != nil })?.hiddenGradientNorms, !norms.isEmpty else {
                return nil
            }
            return (step.step, norms)
        }
        guard let first = traces.first, let last = traces.last else { return nil }
        return (first, last)
    }

    /// `‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖`: how much of the gradient at the last step reaches the first
    /// (< 1: it vanishes through time, > 1: it grows).
    static func throughTimeRatio(_ norms: [Double]) -> Double {
        guard let first = norms.first, let last = norms.last, last > 0 else { return .nan }
        return first / last
    }

    /// A section with the `‖∂L/∂h_t‖`-against-t chart of one run, its first and last recorded
    /// steps as two lines (log scale), and a table of a few time steps.
    static func hiddenGradientSection(_ run: SpecRunOutput) -> ExperimentSection? {
        guard let (first, last) = hiddenGradientTraces(run.result) else { return nil }
        let name = run.spec.name
        let steps = first.norms.count
        var series = [LineSeries(name: "step \(first.step)", x: (0..<steps).map(Double.init), y: first.norms, colour: ChartPalette.colour(0))]
        if last.step != first.step {
            series.append(LineSeries(name: "step \(last.step)", x: (0..<last.norms.count).map(Double.init), y: last.norms,
                                     colour: ChartPalette.colour(1)))
        }
        let chart = LineChart(title: "\(name): ‖∂L/∂h_t‖ against t", xLabel: "time step t", yLabel: "‖∂L/∂h_t‖",
                              series: series, yScale: .log)
        let picks = Array(Set([0, steps / 4, steps / 2, (3 * steps) / 4, steps - 1])).sorted()
        let rows = picks.map { t in
            ["\(t)", formatNumber(first.norms[t]), t < last.norms.count ? formatNumber(last.norms[t]) : "-"]
        }
        let figures = ["first step ratio": throughTimeRatio(first.norms), "last step ratio": throughTimeRatio(last.norms)]
        return ExperimentSection(
            title: "‖∂L/∂h_t‖: \(name)", columns: ["t", "step \(first.step)", "step \(last.step)"], rows: rows,
            note: "The norm of the loss's gradient with respect to the hidden state at each time step, over the batch, at the first "
                + "and the last recorded training step; the loss reads h at the last step only, so the gradient at earlier steps "
                + "arrives through the recurrence. ‖∂L/∂h_0‖/‖∂L/∂h_T−1‖: \(formatNumber(figures["first step ratio"]!)) at step \(first.step), "
                + "\(formatNumber(figures["last step ratio"]!)) at step \(last.step).",
            figures: figures, chart: ("hidden_gradients_\(slug(name)).svg", chart))
    }

    /// The population variance of a tensor's elements.
    static func variance(_ values: [Float]) -> Double {
        guard !values.isEmpty else { return .nan }
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        return values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    }

    /// The loss a run reached: its last validation loss when it has one, else its last epoch's
    /// mean training loss; +∞ for a run that went non-finite.
    static func reachedLoss(_ result: TrainingResult) -> Double {
        guard result.finite else { return .infinity }
        return result.validationLosses.last ?? result.finalLoss
    }

    // MARK: - adding-problem

    /// A run that solves the adding problem ends below this fraction of the constant-prediction
    /// baseline's MSE.
    public static let addingSolvedFraction = 0.01
    /// A run that fails ends above this fraction of the baseline (near the constant prediction).
    public static let addingFailedFraction = 0.5

    /// The adding problem (Hochreiter & Schmidhuber 1997, experiment 4; in the form of Le et al.
    /// 2015): a vanilla tanh RNN, an LSTM and a GRU of `hidden` units read T steps of (value,
    /// marker) and predict the sum of the two marked values. Predicting the mean scores the
    /// targets' variance (≈ 1/6); the RNN is expected to stay near it, the LSTM and GRU to solve
    /// it (MSE below 1% of it). Adam (lr 0.003), clip norm 1 for every cell, the LSTM's forget
    /// bias at 1, batches of 50, 10% of
    /// the examples held out (their MSE is the one judged). For every run, the chart of
    /// `‖∂L/∂h_t‖` against t at the first and last recorded steps.
    ///
    /// - Parameters:
    ///   - lengths: the sequence lengths T (default 50, 100).
    ///   - cells: the cells compared (default `rnn`, `lstm`, `gru`).
    ///   - hidden: hidden units of each cell (default 32).
    ///   - count: examples per data set (default 2000; 10% held out).
    ///   - epochs: epochs of each run (default 50).
    ///   - learningRate: Adam's learning rate (default 0.003).
    public static func addingProblem(lengths: [Int] = [50, 100], cells: [String] = ["rnn", "lstm", "gru"], hidden: Int = 32,
                                     count: Int = 2000, epochs: Int = 50, learningRate: Double = 0.003) -> CatalogExperiment {
        var runs: [(label: String, yaml: String, epochs: Int)] = []
        for length in lengths {
            for cell in cells {
                runs.append(("\(cell) T=\(length)", addingRun(
                    cell: cell, hidden: hidden, length: length, count: count, optimizer: "{type: adam, lr: \(learningRate)}",
                    clip: "{type: norm, max_norm: 1.0}", batchSize: 50, validation: 0.1, every: 10), epochs))
            }
        }
        return CatalogExperiment(
            name: "adding-problem",
            summary: "vanilla RNN vs LSTM vs GRU (\(hidden) units) on the adding problem at T = \(lengths.map(String.init).joined(separator: ", ")): "
                + "MSE against the constant-prediction baseline, ‖∂L/∂h_t‖ against t",
            runs: runs,
            conclude: { _ in "" },
            analyze: { context in
                var rows: [[String]] = []
                var figures: [String: Double] = [:]
                var sections: [ExperimentSection] = []
                var baselines: [Int: Double] = [:]
                var verdicts: [String: String] = [:]
                for run in context.runs {
                    guard case .adding(_, let length) = run.spec.data.source,
                          case .layers(let layers) = run.spec.model, case .recurrent(let layer) = layers.first else { continue }
                    if baselines[length] == nil {
                        // The constant prediction's MSE on the judged examples: their targets' variance.
                        let (train, validation) = try run.spec.loadData()
                        baselines[length] = variance((validation ?? train).targets.scalars)
                    }
                    let baseline = baselines[length]!
                    let reached = reachedLoss(run.result)
                    let fraction = reached / baseline
                    let verdict = !run.result.finite ? "non-finite" : fraction < addingSolvedFraction ? "solved"
                        : fraction > addingFailedFraction ? "near baseline" : "partly"
                    let traces = hiddenGradientTraces(run.result)
                    let ratio = traces.map { throughTimeRatio($0.first.norms) } ?? .nan
                    let name = run.spec.name
                    verdicts[name] = verdict
                    figures["\(name) mse"] = reached
                    figures["\(name) fraction"] = fraction
                    figures["\(name) gradient ratio"] = ratio
                    figures["baseline T=\(length)"] = baseline
                    rows.append([name, layer.cell.rawValue, "\(length)", formatNumber(baseline), formatNumber(reached),
                                 fraction.isFinite ? percent(fraction) : "inf", formatNumber(ratio), verdict])
                    if let section = hiddenGradientSection(run) { sections.append(section) }
                }
                let table = ExperimentSection(
                    title: "Adding problem: MSE against the baseline",
                    columns: ["run", "cell", "T", "baseline (Var y)", "held-out MSE", "of baseline", "‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ at start", "verdict"],
                    rows: rows,
                    note: "Baseline: the MSE of predicting the mean, the variance of the held-out targets (1/6 in expectation). "
                        + "Solved: below \(percent(addingSolvedFraction)) of the baseline; near baseline: above \(percent(addingFailedFraction)). "
                        + "The gradient ratio is taken at the first recorded step, before training shaped the weights.",
                    figures: figures)
                var sentences: [String] = []
                var reproduced: [Int: Bool] = [:]
                for length in lengths {
                    let here = cells.map { "\($0) T=\(length)" }
                    let parts = here.compactMap { name -> String? in
                        guard let verdict = verdicts[name], let mse = figures["\(name) mse"], let fraction = figures["\(name) fraction"] else {
                            return nil
                        }
                        return "\(name.split(separator: " ").first ?? "") MSE \(formatNumber(mse)) (\(fraction.isFinite ? percent(fraction) : "inf") of baseline, \(verdict))"
                    }
                    guard !parts.isEmpty, let baseline = baselines[length] else { continue }
                    sentences.append("T = \(length), baseline \(formatNumber(baseline)): " + parts.joined(separator: ", ") + ".")
                    if let rnn = verdicts["rnn T=\(length)"] {
                        let gated = cells.filter { $0 != "rnn" }.compactMap { verdicts["\($0) T=\(length)"] }
                        if !gated.isEmpty { reproduced[length] = rnn == "near baseline" && gated.allSatisfy { $0 == "solved" } }
                    }
                }
                let ratios = lengths.compactMap { length -> String? in
                    let parts = cells.compactMap { cell in
                        figures["\(cell) T=\(length) gradient ratio"].flatMap { $0.isFinite ? "\(cell) \(formatNumber($0))" : nil }
                    }
                    return parts.isEmpty ? nil : "T = \(length): " + parts.joined(separator: ", ")
                }
                if !ratios.isEmpty {
                    sentences.append("At the start, ‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ is " + ratios.joined(separator: "; ") + ".")
                }
                var conclusion = sentences.joined(separator: " ")
                if !reproduced.isEmpty {
                    let yes = lengths.filter { reproduced[$0] == true }, no = lengths.filter { reproduced[$0] == false }
                    conclusion += " Published outcome (the RNN stays near the baseline, the gated cells solve the task): "
                    if no.isEmpty {
                        conclusion += "reproduced at T = \(yes.map(String.init).joined(separator: ", "))."
                    } else {
                        let misses = no.map { length -> String in
                            var what: [String] = []
                            if verdicts["rnn T=\(length)"] != "near baseline" { what.append("the RNN ends \(verdicts["rnn T=\(length)"] ?? "-")") }
                            for cell in cells where cell != "rnn" && verdicts["\(cell) T=\(length)"] != "solved" {
                                what.append("the \(cell.uppercased()) ends \(verdicts["\(cell) T=\(length)"] ?? "-")")
                            }
                            return "T = \(length) (\(what.joined(separator: ", ")))"
                        }
                        conclusion += (yes.isEmpty ? "" : "reproduced at T = \(yes.map(String.init).joined(separator: ", ")); ")
                            + "not reproduced at this budget at " + misses.joined(separator: "; ") + "."
                    }
                }
                return ExperimentAnalysis(sections: [table] + sections, conclusion: conclusion)
            })
    }

    // MARK: - pascanu-clipping

    /// Whether a run diverged: it went non-finite, or some step's loss exceeded `factor` times
    /// the loss at the start.
    static func diverged(_ result: TrainingResult, factor: Double = 10) -> Bool {
        let start = initialLoss(result)
        return !result.finite || result.stepLosses.contains { !($0 <= factor * start) }
    }

    /// `‖W^k v‖^(1/k)` for a fixed unit vector v and k = 64: the spectral radius of a square
    /// matrix whose eigenvalues share one modulus (g times an orthogonal matrix), and a close
    /// estimate for others.
    static func spectralRadius(_ weight: Tensor<Float>) -> Double {
        let n = weight.shape[0]
        let w = weight.scalars.map(Double.init)
        var v = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
        var logGrowth = 0.0
        let k = 64
        for _ in 0..<k {
            var next = [Double](repeating: 0, count: n)
            for i in 0..<n { for j in 0..<n { next[i] += w[i * n + j] * v[j] } }
            let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { return 0 }
            logGrowth += Foundation.log(norm)
            v = next.map { $0 / norm }
        }
        return Foundation.exp(logGrowth / Double(k))
    }

    /// Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural
    /// networks": a tanh RNN whose recurrent matrix has spectral radius above 1 (`gain` times an
    /// orthogonal matrix, so ρ(W_hh) = gain) gets gradients that grow exponentially through time;
    /// plain SGD then takes steps that throw the weights off (the loss explodes or goes
    /// non-finite), while the same run with the gradient's norm clipped at 1 trains. On the
    /// adding problem at T = `length`, SGD with lr `learningRate`, batches of 50.
    ///
    /// - Parameters:
    ///   - gain: the spectral radius of the recurrent matrix (default 2).
    ///   - length: the sequence length T (default 50).
    ///   - hidden: hidden units (default 32).
    ///   - count: examples (default 1000).
    ///   - epochs: epochs of each run (default 10).
    ///   - learningRate: SGD's learning rate (default 0.1).
    public static func pascanuClipping(gain: Double = 2, length: Int = 50, hidden: Int = 32, count: Int = 1000, epochs: Int = 10,
                                       learningRate: Double = 0.1) -> CatalogExperiment {
        func run(_ clip: String) -> String {
            addingRun(cell: "rnn", hidden: hidden, length: length, count: count, init: "{type: orthogonal, gain: \(gain)}",
                      optimizer: "{type: sgd, lr: \(learningRate)}", clip: clip, batchSize: 50, validation: 0, every: 5)
        }
        return CatalogExperiment(
            name: "pascanu-clipping",
            summary: "tanh RNN with ρ(W_hh) = \(shortText(gain)) on the adding problem (T = \(length)), SGD lr \(shortText(learningRate)), "
                + "without and with clip-norm 1 (Pascanu et al. 2013)",
            runs: [("no clipping", run("none"), epochs), ("clip norm 1", run("{type: norm, max_norm: 1.0}"), epochs)],
            conclude: { _ in "" },
            analyze: { context in
                var rows: [[String]] = []
                var figures: [String: Double] = [:]
                var sentences: [String] = []
                var series: [LineSeries] = []
                var radius = Double.nan
                if let first = context.runs.first {
                    let model = try first.spec.makeModel(generator: RandomGenerator(seed: first.spec.train.seed &+ 1))
                    if let weight = model.namedParameters.first(where: { $0.0.hasSuffix("weight_hh_l0") })?.1.value {
                        radius = spectralRadius(weight)
                        figures["spectral radius"] = radius
                    }
                }
                for (index, run) in context.runs.enumerated() {
                    let r = run.result
                    let name = run.spec.name
                    let start = initialLoss(r)
                    let largestLoss = r.stepLosses.map { $0.isFinite ? $0 : .infinity }.max() ?? .nan
                    let largestNorm = r.stepGradientNorms.map { $0.isFinite ? $0 : .infinity }.max() ?? .nan
                    let ratio = hiddenGradientTraces(r).map { throughTimeRatio($0.first.norms) } ?? .nan
                    let firstNonfinite = r.stepLosses.firstIndex { !$0.isFinite }
                    let didDiverge = diverged(r)
                    let didTrain = !didDiverge && learned(r)
                    figures["\(name) diverged"] = didDiverge ? 1 : 0
                    figures["\(name) trained"] = didTrain ? 1 : 0
                    figures["\(name) initial loss"] = start
                    figures["\(name) final loss"] = r.finalLoss
                    figures["\(name) largest loss"] = largestLoss
                    figures["\(name) largest gradient norm"] = largestNorm
                    figures["\(name) gradient ratio"] = ratio
                    rows.append([name, formatNumber(start), r.finite ? formatNumber(r.finalLoss) : "non-finite", formatNumber(largestLoss),
                                 formatNumber(largestNorm), formatNumber(ratio),
                                 didDiverge ? "diverged" : didTrain ? "trained" : "did not learn"])
                    var sentence = "\(name): loss \(formatNumber(start)) at the start, "
                    if let step = firstNonfinite {
                        sentence += "non-finite from step \(step)"
                    } else {
                        sentence += "largest \(formatNumber(largestLoss)), final \(formatNumber(r.finalLoss))"
                    }
                    sentence += "; largest gradient norm before clipping \(formatNumber(largestNorm)) ("
                        + (didDiverge ? "diverged" : didTrain ? "trained" : "did not learn") + ")."
                    sentences.append(sentence)
                    series.append(LineSeries(name: name, x: r.stepLosses.indices.map(Double.init), y: r.stepLosses,
                                             colour: ChartPalette.colour(index)))
                }
                var conclusion = (radius.isFinite ? "Recurrent matrix ρ(W_hh) = \(formatNumber(radius)); " : "")
                if let ratio = figures["no clipping gradient ratio"], ratio.isFinite {
                    conclusion += "at the start ‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ = \(formatNumber(ratio)) (\(ratio > 1 ? "the gradient grows through time" : "no growth through time")). "
                }
                conclusion += sentences.joined(separator: " ")
                if context.runs.count == 2 {
                    let (plain, clipped) = (context.runs[0].result, context.runs[1].result)
                    conclusion += " Pascanu et al. (2013): without clipping the exploding gradient throws the training off, with clipping it trains — "
                    if diverged(plain) && !diverged(clipped) && learned(clipped) {
                        conclusion += "reproduced."
                    } else {
                        var misses: [String] = []
                        if !diverged(plain) { misses.append("the unclipped run does not diverge") }
                        if diverged(clipped) { misses.append("the clipped run diverges too") } else if !learned(clipped) {
                            misses.append("the clipped run does not learn")
                        }
                        conclusion += "not reproduced at this budget: " + misses.joined(separator: ", ") + "."
                    }
                }
                let chart = LineChart(title: "Loss per step, ρ(W_hh) = \(formatNumber(radius))", xLabel: "step", yLabel: "MSE",
                                      series: series, yScale: .log)
                let table = ExperimentSection(
                    title: "Clipping an exploding RNN",
                    columns: ["run", "initial loss", "final loss", "largest loss", "largest ‖∇‖", "‖∂L/∂h_0‖/‖∂L/∂h_T−1‖ at start", "outcome"],
                    rows: rows,
                    note: "Diverged: a step's loss above 10× the initial loss, or non-finite. Trained: final loss below half the initial loss. "
                        + "‖∇‖ is the global gradient norm before clipping.",
                    figures: figures, chart: ("step_loss.svg", chart))
                let gradientSections = context.runs.compactMap(hiddenGradientSection)
                return ExperimentAnalysis(sections: [table] + gradientSections, conclusion: conclusion)
            })
    }
}
