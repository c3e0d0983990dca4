import Foundation
import GradData
import GradDoctor
import GradNN
import GradReport

// The papers' MLP experiments (issue 5): He et al. 2015 at depth 30, Glorot & Bengio 2010's
// saturation, plain vs residual vs ReZero with depth, batch norm on a deep sigmoid net, the edge
// of chaos (Schoenholz et al. 2017), the trainability atlas, and MNIST-1D with the doctor's remedy.
// Each is a function of its budget, so that tests can run it small; `CatalogExperiment.all`
// holds the defaults. Every conclusion is computed from what ran, and says so plainly when a
// published result does not show at our budget.

extension CatalogExperiment {
    // MARK: - Shared pieces

    /// An MLP run as spec YAML: `depth` hidden layers of `width`, with `{name}`, `{seed}` and
    /// `{epochs}` left to fill in.
    static func mlpRun(input: Int, width: Int, depth: Int, output: Int, activation: String, model extra: String = "",
                       data: String, loss: String, optimizer: String, batchSize: String, schedule: String = "none",
                       histogramsEvery: Int = 0) -> String {
        let hidden = Array(repeating: "\(width)", count: depth).joined(separator: ", ")
        return """
            name: "{name}"
            model:
              mlp: {input: \(input), hidden: [\(hidden)], output: \(output), activation: \(activation)\(extra)}
            data: \(data)
            train: {loss: \(loss), optimizer: \(optimizer), schedule: \(schedule), epochs: {epochs}, batch_size: \(batchSize), seed: {seed}}
            doctor: {every: 1, histograms_every: \(histogramsEvery)}
            """
    }

    /// The bundled 8×8 digits, standardized, with class-index labels (1797 examples, 64 features, 10 classes).
    static let digitsData = "{kind: digits, labels: integer, standardize: true}"

    /// The loss of the run's first step (the loss at initialization).
    static func initialLoss(_ result: TrainingResult) -> Double { result.stepLosses.first ?? result.epochLosses.first ?? .nan }

    /// Whether a run learned: finite, with a final loss below `fraction` of its loss at the start.
    static func learned(_ result: TrainingResult, fraction: Double = 0.5) -> Bool {
        result.finite && result.finalLoss < fraction * initialLoss(result)
    }

    /// Whether a run stalled: its final loss is above `fraction` of its loss at the start (or it
    /// went non-finite).
    static func stalled(_ result: TrainingResult, fraction: Double = 0.9) -> Bool {
        !result.finite || !(result.finalLoss < fraction * initialLoss(result))
    }

    /// "name: loss a → b (learned | stalled | partly learned)", the name left out with `named: false`.
    static func lossPhrase(_ result: TrainingResult, named: Bool = true) -> String {
        let verdict = learned(result) ? "learned" : stalled(result) ? "stalled" : "partly learned"
        let end = result.finite ? formatNumber(result.finalLoss) : "non-finite at step \(result.steps - 1)"
        return (named ? "\(result.name): " : "") + "loss \(formatNumber(initialLoss(result))) → \(end) (\(verdict))"
    }

    // MARK: - he2015-depth30

    /// He et al. (2015), "Delving deep into rectifiers", figure 3: a 30-layer ReLU network with
    /// Glorot's ("Xavier") initialization, Var(W) = 2/(fan_in + fan_out) (gain 1, as in Glorot &
    /// Bengio; PyTorch's `xavier_*` with the ReLU gain √2 would already be He's scale), stalls,
    /// while their Var(W) = 2/fan_in converges. Here: 30 weight layers (29 hidden of 64 ReLU
    /// units) on the standardized 8×8 digits, zero biases, SGD (lr 0.005, momentum 0.9, cosine
    /// schedule, batches of 128).
    ///
    /// - Parameter epochs: epochs of each run (default 30).
    public static func he2015Depth30(epochs: Int = 30) -> CatalogExperiment {
        func run(_ initializer: String) -> String {
            mlpRun(input: 64, width: 64, depth: 29, output: 10, activation: "relu",
                   model: ", init: \(initializer), bias_init: zeros", data: digitsData, loss: "cross_entropy",
                   optimizer: "{type: sgd, lr: 0.005, momentum: 0.9}", batchSize: "128", schedule: "cosine")
        }
        return CatalogExperiment(
            name: "he2015-depth30",
            summary: "30-layer ReLU MLP on the digits, Xavier (gain 1) vs Kaiming init (He et al. 2015): losses and first-layer gradient at init",
            runs: [("xavier", run("{type: xavier_normal, gain: 1.0}"), epochs),
                   ("kaiming", run("{type: kaiming_normal, mode: fan_in, nonlinearity: relu}"), epochs)],
            conclude: { runs in
                guard runs.count == 2 else { return runs.map { lossPhrase($0.result) }.joined(separator: "; ") }
                let (xavier, kaiming) = (runs[0], runs[1])
                var text = [xavier, kaiming].map { run in
                    lossPhrase(run.result) + "; first-layer weight gradient at init "
                        + formatNumber(run.summary.firstLayerGradientNorm ?? .nan) + " (" + gradientPhrase(run.summary) + ")"
                }.joined(separator: ". ") + ". "
                let reproduced = stalled(xavier.result) && learned(kaiming.result)
                text += "He et al. (2015) report that Xavier init stalls a 30-layer ReLU net while theirs converges: "
                if reproduced {
                    text += "reproduced here."
                } else if learned(xavier.result) && learned(kaiming.result) {
                    text += "not reproduced at this budget, both inits learn (Kaiming's loss \(formatNumber(kaiming.result.finalLoss)) "
                        + "vs Xavier's \(formatNumber(xavier.result.finalLoss)))."
                } else {
                    text += "not reproduced at this budget (Xavier \(stalled(xavier.result) ? "stalls" : "does not stall"), "
                        + "Kaiming \(learned(kaiming.result) ? "learns" : "does not learn"))."
                }
                return text
            })
    }

    // MARK: - glorot2010-saturation

    /// The name of the top hidden layer's activation module in a record (the last layer of kind
    /// `Sigmoid`), or nil.
    static func topHiddenActivation(_ record: MonitorRecord) -> String? {
        record.steps.first?.layers.last { $0.kind == "Sigmoid" }?.name
    }

    /// (step, mean activation) of the module `layer` at every recorded step.
    static func activationMeans(_ record: MonitorRecord, layer: String) -> [(step: Int, mean: Double)] {
        record.steps.compactMap { step in step.layers.first { $0.name == layer }.map { (step.step, $0.activationMean) } }
    }

    /// Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
    /// networks", figure 2: with the "standard" init W ~ U(−1/√n, 1/√n) (n = fan_in; PyTorch's
    /// `nn.Linear` default, `init: default` in a spec) and zero biases, the top hidden layer of a
    /// deep sigmoid net saturates toward 0 early in training; the normalized init
    /// U(±√(6/(fan_in + fan_out))) (`xavier_uniform`) is the paper's remedy. Here: 4 hidden
    /// layers of 100 sigmoid units on the standardized digits, SGD on mini-batches of 10 as in
    /// the paper; the monitor's per-layer activation means are the measurement.
    ///
    /// - Parameters:
    ///   - epochs: epochs of each run (default 30).
    ///   - width: units per hidden layer (default 100).
    public static func glorot2010Saturation(epochs: Int = 30, width: Int = 100) -> CatalogExperiment {
        func run(_ initializer: String) -> String {
            mlpRun(input: 64, width: width, depth: 4, output: 10, activation: "sigmoid",
                   model: ", init: \(initializer), bias_init: zeros", data: digitsData, loss: "cross_entropy",
                   optimizer: "{type: sgd, lr: 0.1}", batchSize: "10")
        }
        return CatalogExperiment(
            name: "glorot2010-saturation",
            summary: "4×\(width) sigmoid MLP, standard U(±1/√n) vs normalized (Xavier) init (Glorot & Bengio 2010): top hidden layer's mean activation",
            runs: [("standard", run("default"), epochs), ("normalized", run("xavier_uniform"), epochs)],
            conclude: { _ in "" },
            analyze: { context in
                let runs = context.runs
                var series: [LineSeries] = []
                var sentences: [String] = []
                var figures: [String: Double] = [:]
                var traces: [[(step: Int, mean: Double)]] = []
                for (index, run) in runs.enumerated() {
                    guard let record = run.result.record, let layer = topHiddenActivation(record) else { continue }
                    let trace = activationMeans(record, layer: layer)
                    guard let start = trace.first, let lowest = trace.min(by: { $0.mean < $1.mean }), let end = trace.last else { continue }
                    traces.append(trace)
                    series.append(LineSeries(name: run.spec.name, x: trace.map { Double($0.step) }, y: trace.map(\.mean),
                                             colour: ChartPalette.colour(index)))
                    let name = run.spec.name
                    figures["\(name) start"] = start.mean
                    figures["\(name) lowest"] = lowest.mean
                    figures["\(name) lowest step"] = Double(lowest.step)
                    figures["\(name) final"] = end.mean
                    figures["\(name) last step"] = Double(end.step)
                    if let crossing = trace.first(where: { $0.mean < 0.1 }) { figures["\(name) below 0.1 step"] = Double(crossing.step) }
                    let saturates = lowest.mean < 0.1
                    sentences.append("\(name) init: top hidden layer (module \(layer)) mean activation \(formatNumber(start.mean)) at step 0, "
                        + "lowest \(formatNumber(lowest.mean)) at step \(lowest.step), \(formatNumber(end.mean)) at the end (step \(end.step))"
                        + (saturates ? ": it saturates toward 0" : ": no saturation toward 0")
                        + "; " + lossPhrase(run.result) + ".")
                }
                // The table: the mean activation at a few steps, one column per run.
                var rows: [[String]] = []
                if let longest = traces.max(by: { $0.count < $1.count }), !longest.isEmpty {
                    let last = longest.count - 1
                    var picks = Set([0, last])
                    var k = 1
                    while k < last { picks.insert(k); k *= 3 }
                    for i in picks.sorted() {
                        let step = longest[i].step
                        rows.append(["\(step)"] + traces.map { trace in
                            trace.first { $0.step == step }.map { formatNumber($0.mean) } ?? "-"
                        })
                    }
                }
                let chart = LineChart(title: "Top hidden layer: mean sigmoid activation", xLabel: "step",
                                      yLabel: "mean activation", series: series, yDomain: 0...1)
                var conclusion = sentences.joined(separator: " ")
                if runs.count == 2, let standard = figures["standard lowest"], let normalized = figures["normalized lowest"] {
                    conclusion += " Glorot & Bengio (2010) report the top layer of the standard-init net driven toward 0 early in training: "
                    if standard < 0.1 && normalized > standard {
                        conclusion += "reproduced here (lowest mean \(formatNumber(standard)) vs \(formatNumber(normalized)) with normalized init)"
                        if let crossing = figures["standard below 0.1 step"], let last = figures["standard last step"], crossing > 0.25 * last {
                            conclusion += ", though here it sinks gradually, below 0.1 only from step \(Int(crossing)) of \(Int(last)), "
                                + "where the paper sees it within the first epochs and a slow recovery later"
                        }
                        conclusion += "."
                    } else if standard < 0.1 {
                        conclusion += "the saturation shows, but the normalized init saturates as much (\(formatNumber(normalized)))."
                    } else {
                        conclusion += "not reproduced at this budget (lowest mean \(formatNumber(standard)), above 0.1)."
                    }
                }
                let section = ExperimentSection(
                    title: "Top hidden layer mean activation", columns: ["step"] + runs.map(\.spec.name), rows: rows,
                    note: "Mean over the batch and units of the last hidden sigmoid layer's output, as the monitor recorded it; 0.5 is a unit at rest, 0 a unit saturated off.",
                    figures: figures, chart: ("top_activation.svg", chart))
                return ExperimentAnalysis(sections: [section], conclusion: conclusion)
            })
    }

    // MARK: - residual-depth

    /// Plain vs residual vs ReZero MLPs at several depths (He et al. 2016; Bachlechner et al.
    /// 2020): hidden layers of 32 tanh units with weights N(0, 1/n) (`xavier_normal`, gain 1: the
    /// critical init of tanh, so that the plain net starts as well as a plain net can) and zero
    /// biases, on the standardized digits, SGD with momentum. The plain net's loss gets worse with
    /// depth; with residual connections (`x + tanh(Wx + b)`) or ReZero (`x + α·tanh(Wx + b)`,
    /// α = 0 at the start) it should not. (With ReLU branches `x + relu(Wx + b)` the residual
    /// stream grows with every block, since each adds a positive mean, and the 30- and 50-block
    /// nets diverge at this learning rate.)
    ///
    /// - Parameters:
    ///   - epochs: epochs of each run (default 15).
    ///   - depths: hidden layers (default 10, 30, 50).
    public static func residualDepth(epochs: Int = 15, depths: [Int] = [10, 30, 50]) -> CatalogExperiment {
        let initializer = ", init: {type: xavier_normal, gain: 1.0}, bias_init: zeros"
        let families = [("plain", initializer), ("residual", initializer + ", residual: true"),
                        ("rezero", initializer + ", residual: true, residual_scaling: rezero")]
        var runs: [(label: String, yaml: String, epochs: Int)] = []
        for depth in depths {
            for (family, extra) in families {
                runs.append(("\(family) \(depth)", mlpRun(input: 64, width: 32, depth: depth, output: 10, activation: "tanh", model: extra,
                                                         data: digitsData, loss: "cross_entropy",
                                                         optimizer: "{type: sgd, lr: 0.01, momentum: 0.9}", batchSize: "128"), epochs))
            }
        }
        return CatalogExperiment(
            name: "residual-depth",
            summary: "plain vs residual vs ReZero tanh MLPs at depths \(depths.map(String.init).joined(separator: ", ")) on the digits: does the loss get worse with depth?",
            runs: runs,
            conclude: { _ in "" },
            analyze: { context in
                var rows: [[String]] = []
                var figures: [String: Double] = [:]
                var sentences: [String] = []
                var worse: [String: Bool] = [:]
                for (family, _) in families {
                    var losses: [Double] = []
                    var startLoss = Double.nan
                    for depth in depths {
                        let run = context.runs.first { $0.spec.name == "\(family) \(depth)" }
                        if depth == depths.first, let run { startLoss = initialLoss(run.result) }
                        let loss = run.map { $0.result.finite ? $0.result.finalLoss : .infinity } ?? .nan
                        losses.append(loss)
                        figures["\(family) \(depth)"] = loss
                    }
                    rows.append([family] + losses.map(formatNumber))
                    guard let shallow = losses.first, let deep = losses.last, depths.count > 1 else { continue }
                    // Worse: the deepest net ends more than 10% of the loss at init above the shallowest.
                    let gotWorse = !(deep - shallow <= 0.1 * startLoss)
                    worse[family] = gotWorse
                    let change = deep - shallow
                    let verdict = gotWorse
                        ? "worse with depth: up \(formatNumber(change)), more than a tenth of the loss at init \(formatNumber(startLoss))"
                        : change > 0
                        ? "not materially worse with depth: up \(formatNumber(change)), under a tenth of the loss at init \(formatNumber(startLoss))"
                        : "not worse with depth"
                    sentences.append("\(family): final loss \(losses.map(formatNumber).joined(separator: " → ")) from depth "
                        + "\(depths.first!) to \(depths.last!) (\(verdict))")
                }
                var conclusion = sentences.joined(separator: "; ") + "."
                if let plain = worse["plain"], let residual = worse["residual"], let rezero = worse["rezero"] {
                    conclusion += " Expected: the plain net gets worse with depth and the residual ones do not — "
                    if plain && !residual && !rezero {
                        conclusion += "reproduced."
                    } else {
                        var misses: [String] = []
                        if !plain { misses.append("the plain net does not get worse") }
                        if residual { misses.append("the residual net gets worse too") }
                        if rezero { misses.append("the ReZero net gets worse too") }
                        conclusion += "not reproduced at this budget: " + misses.joined(separator: ", ") + "."
                    }
                }
                let section = ExperimentSection(
                    title: "Final loss by depth", columns: ["net"] + depths.map { "depth \($0)" }, rows: rows,
                    note: "Cross-entropy after the last epoch (ln 10 = 2.303 is chance); inf marks a run that went non-finite. "
                        + "Worse with depth: the deepest net's final loss exceeds the shallowest's by more than 10% of the loss at init.",
                    figures: figures)
                return ExperimentAnalysis(sections: [section], conclusion: conclusion)
            })
    }

    // MARK: - batchnorm-sigmoid

    /// Ioffe & Szegedy (2015) on a net where the sigmoid's gradient vanishes: 20 hidden layers of
    /// 32 sigmoid units (PyTorch's default init) on the standardized digits, with and without
    /// `BatchNorm1d` after each hidden `Linear`.
    ///
    /// - Parameter epochs: epochs of each run (default 20).
    public static func batchNormSigmoid(epochs: Int = 20) -> CatalogExperiment {
        func run(_ extra: String) -> String {
            mlpRun(input: 64, width: 32, depth: 20, output: 10, activation: "sigmoid", model: extra, data: digitsData,
                   loss: "cross_entropy", optimizer: "{type: sgd, lr: 0.05, momentum: 0.9}", batchSize: "128")
        }
        return CatalogExperiment(
            name: "batchnorm-sigmoid",
            summary: "20-layer sigmoid MLP on the digits, without and with batch norm after each hidden layer",
            runs: [("plain", run(""), epochs), ("batch norm", run(", batch_norm: true"), epochs)],
            conclude: { runs in
                var text = runs.map { lossPhrase($0.result) + "; " + gradientPhrase($0.summary) }.joined(separator: ". ") + "."
                if runs.count == 2 {
                    let (plain, normed) = (runs[0].result, runs[1].result)
                    text += " Batch norm " + (learned(normed) && !learned(plain) ? "rescues the deep sigmoid net."
                        : learned(normed) && learned(plain) ? "is not needed at this budget: both learn."
                        : "does not rescue it at this budget.")
                }
                return text
            })
    }

    // MARK: - edge-of-chaos

    /// Schoenholz et al. (2017), "Deep information propagation": for tanh with weights
    /// N(0, σ_w²/n) and zero biases, the mean-field per-layer gradient factor √χ₁ against the one
    /// measured on a wide random net, across σ_w; then the trainability of a 50-layer tanh MLP
    /// (64 wide, `xavier_normal` with gain σ_w, which is N(0, σ_w²/64) for its square layers) on
    /// the standardized digits at σ_w on either side of the critical point σ_w = 1.
    ///
    /// - Parameters:
    ///   - sigmaWs: the σ_w of the theory table.
    ///   - trainSigmaWs: the σ_w of the training runs (ordered, critical, chaotic).
    ///   - depth: hidden layers of the training runs (default 50).
    ///   - epochs: epochs of each training run (default 15).
    ///   - measurementWidth: width of the random nets of the measurement (default 256).
    public static func edgeOfChaos(sigmaWs: [Double] = [0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0],
                                   trainSigmaWs: [Double] = [0.5, 1.0, 2.0], depth: Int = 50, epochs: Int = 15,
                                   measurementWidth: Int = 256) -> CatalogExperiment {
        let runs = trainSigmaWs.map { sigmaW in
            (label: "σ_w = \(shortText(sigmaW))",
             yaml: mlpRun(input: 64, width: 64, depth: depth, output: 10, activation: "tanh",
                          model: ", init: {type: xavier_normal, gain: \(sigmaW)}, bias_init: zeros", data: digitsData,
                          loss: "cross_entropy", optimizer: "{type: sgd, lr: 0.01, momentum: 0.9}", batchSize: "128"),
             epochs: epochs)
        }
        return CatalogExperiment(
            name: "edge-of-chaos",
            summary: "tanh: mean-field gradient factor vs measured across σ_w, and a depth-\(depth) MLP trained on either side of σ_w = 1 (Schoenholz et al. 2017)",
            runs: runs,
            conclude: { _ in "" },
            analyze: { context in
                // Theory against measurement.
                var theoryRows: [[String]] = []
                var figures: [String: Double] = [:]
                var worst = (sigmaW: Double.nan, error: 0.0)
                var measuredSeries: [Double] = [], predictedSeries: [Double] = []
                for sigmaW in sigmaWs {
                    let prediction = try MeanFieldTheory.predict(activation: .tanh, sigmaW: sigmaW, sigmaB: 0, depth: depth)
                    let measurement = try MeanFieldTheory.measureGradientFactor(
                        activation: .tanh, sigmaW: sigmaW, sigmaB: 0, width: measurementWidth, depth: 16, batchSize: 16,
                        seed: context.seed)
                    let predicted = prediction.perLayerGradientFactor, measured = measurement.measuredFactor
                    let error = Swift.abs(measured / predicted - 1)
                    if error > worst.error || worst.sigmaW.isNaN { worst = (sigmaW, error) }
                    figures["predicted \(shortText(sigmaW))"] = predicted
                    figures["measured \(shortText(sigmaW))"] = measured
                    measuredSeries.append(measured)
                    predictedSeries.append(predicted)
                    theoryRows.append([shortText(sigmaW), prediction.phase.rawValue, formatNumber(prediction.chi1),
                                       formatNumber(predicted), formatNumber(measured), String(format: "%+.1f%%", 100 * (measured / predicted - 1)),
                                       formatNumber(prediction.depthScaleC ?? .nan), formatNumber(prediction.gradientRatio)])
                }
                let critical = try MeanFieldTheory.criticalSigmaW(activation: .tanh, sigmaB: 0) ?? .nan
                figures["critical sigma_w"] = critical
                let chart = LineChart(
                    title: "tanh: per-layer gradient factor, theory and measurement", xLabel: "σ_w",
                    yLabel: "gradient factor per layer (log scale)",
                    series: [LineSeries(name: "mean-field √χ₁", x: sigmaWs, y: predictedSeries, colour: ChartPalette.colour(1)),
                             LineSeries(name: "measured (width \(measurementWidth))", x: sigmaWs, y: measuredSeries, colour: ChartPalette.colour(0))],
                    yScale: .log, markers: true,
                    referenceLines: [ReferenceLine(value: 1, label: "1 (critical)", colour: "#888888", dash: "2 3")])
                let theory = ExperimentSection(
                    title: "Theory vs measured gradient factor (tanh, σ_b = 0)",
                    columns: ["σ_w", "phase", "χ₁", "√χ₁ (theory)", "measured", "difference", "ξ_c", "ratio over \(depth) layers"],
                    rows: theoryRows,
                    note: "Measured: (‖∂E/∂h¹‖/‖∂E/∂h¹⁶‖)^(1/15) on a random \(measurementWidth)-wide, 16-layer tanh net at the fixed-point length "
                        + "(MeanFieldTheory.measureGradientFactor). ξ_c is the correlation depth scale; the last column is √χ₁^(L−1), the predicted "
                        + "first/last gradient ratio at depth \(depth).",
                    figures: figures, chart: ("theory_vs_measured.svg", chart))

                // Trainability at depth.
                var trainRows: [[String]] = []
                var outcomes: [(sigmaW: Double, phase: MeanFieldPhase, learned: Bool)] = []
                for (sigmaW, run) in zip(trainSigmaWs, context.runs) {
                    let prediction = try MeanFieldTheory.predict(activation: .tanh, sigmaW: sigmaW, sigmaB: 0, depth: depth + 1)
                    let r = run.result
                    let ok = learned(r)
                    outcomes.append((sigmaW, prediction.phase, ok))
                    figures["final loss \(shortText(sigmaW))"] = r.finite ? r.finalLoss : .infinity
                    trainRows.append([shortText(sigmaW), prediction.phase.rawValue, formatNumber(prediction.gradientRatio),
                                      formatNumber(run.summary.gradientRatio ?? .nan), formatNumber(initialLoss(r)),
                                      r.finite ? formatNumber(r.finalLoss) : "non-finite", ok ? "yes" : "no"])
                }
                let training = ExperimentSection(
                    title: "Trainability at depth \(depth)",
                    columns: ["σ_w", "phase", "predicted first/last", "measured first/last", "loss at init", "final loss", "learned"],
                    rows: trainRows,
                    note: "\(depth) hidden tanh layers of 64 units, SGD (lr 0.01, momentum 0.9, batches of 128) for the run's epochs; "
                        + "learned = final loss below half the loss at init. Measured first/last: the first weight's gradient norm over the last's at step 0; "
                        + "a weight gradient ∂E/∂W = δ·xᵀ also carries the layer's input, which in the ordered phase shrinks forward as fast as δ shrinks "
                        + "backward, so there the ratio stays near 1 while both norms are tiny (see first |∇W| in the runs' table).",
                    figures: [:])

                var conclusion = "Mean-field theory puts tanh (σ_b = 0) at the edge of chaos at σ_w = \(formatNumber(critical)); "
                    + "its per-layer gradient factor matches the measured one within \(String(format: "%.1f%%", 100 * worst.error)) "
                    + "across σ_w = \(sigmaWs.map(shortText).joined(separator: ", ")) (largest gap at σ_w = \(shortText(worst.sigmaW))). "
                conclusion += "At depth \(depth): " + outcomes.map { o in
                    "σ_w = \(shortText(o.sigmaW)) (\(o.phase.rawValue)) \(o.learned ? "learned" : "did not learn")"
                }.joined(separator: ", ") + ". "
                let offCritical = outcomes.filter { $0.phase != .critical }
                let atCritical = outcomes.filter { $0.phase == .critical }
                if !atCritical.isEmpty && !offCritical.isEmpty {
                    let expected = atCritical.allSatisfy(\.learned) && offCritical.allSatisfy { !$0.learned }
                    conclusion += expected
                        ? "As Schoenholz et al. (2017) predict, only the critical initialization trains at this depth."
                        : "Schoenholz et al. (2017) predict that only initializations near the critical point train at this depth: "
                            + "not reproduced at this budget" + (atCritical.allSatisfy(\.learned) ? " (an off-critical run learned too)." : " (the critical run did not learn).")
                }
                return ExperimentAnalysis(sections: [theory, training], conclusion: conclusion)
            })
    }

    // MARK: - atlas

    /// The trainability phase diagram: the seeds' regression task (1 → depth × 10 → 1 on
    /// `y = 3x + 2 + 0.5ε`, SGD lr 0.01, full batch) for every depth × activation × init, as
    /// one heat map of the final loss (`atlas.svg`).
    ///
    /// - Parameters:
    ///   - depths: hidden layers (default 2, 5, 10, 20, 40).
    ///   - activations: the activations (default sigmoid, tanh, relu).
    ///   - initializers: the weight initializers (default: PyTorch's default, Xavier, Kaiming;
    ///     zero biases with the last two, as in `seed-xavier-vs-kaiming`).
    ///   - epochs: epochs of each run (default 300).
    public static func atlas(depths: [Int] = [2, 5, 10, 20, 40], activations: [String] = ["sigmoid", "tanh", "relu"],
                             initializers: [String] = ["default", "xavier_uniform", "kaiming_uniform"],
                             epochs: Int = 300) -> CatalogExperiment {
        let shortInit = ["default": "default", "xavier_uniform": "xavier", "kaiming_uniform": "kaiming"]
        @Sendable func column(_ activation: String, _ initializer: String) -> String { "\(activation)/\(shortInit[initializer] ?? initializer)" }
        var runs: [(label: String, yaml: String, epochs: Int)] = []
        for depth in depths {
            for activation in activations {
                for initializer in initializers {
                    let extra = ", init: \(initializer)" + (initializer == "default" ? "" : ", bias_init: zeros")
                    let yaml = """
                        name: "{name}"
                        model:
                          mlp: {input: 1, hidden: [\(Array(repeating: "10", count: depth).joined(separator: ", "))], output: 1, activation: \(activation)\(extra)}
                        data: {kind: linear, seed: {seed}}
                        train: {loss: mse, optimizer: {type: sgd, lr: 0.01}, epochs: {epochs}, batch_size: full, seed: {seed}}
                        doctor: {every: 1, histograms_every: 0, nonfinite: warn}
                        """
                    runs.append(("\(column(activation, initializer)) depth \(depth)", yaml, epochs))
                }
            }
        }
        return CatalogExperiment(
            name: "atlas",
            summary: "trainability phase diagram of the seeds' regression net: depth × activation × init, as one heat map",
            runs: runs,
            conclude: { _ in "" },
            analyze: { context in
                let columns = activations.flatMap { a in initializers.map { column(a, $0) } }
                var values: [[Double]] = []
                var figures: [String: Double] = [:]
                var deepestLearned: [String: Int] = [:]
                // What a constant prediction scores: the variance of y.
                var constantMSE = Double.nan
                if let spec = context.runs.first?.spec, let y = try? spec.loadData().train.targets.scalars, !y.isEmpty {
                    let mean = y.reduce(0) { $0 + Double($1) } / Double(y.count)
                    constantMSE = y.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(y.count)
                }
                for depth in depths {
                    var row: [Double] = []
                    for name in columns {
                        let run = context.runs.first { $0.spec.name == "\(name) depth \(depth)" }
                        let loss = run.map { $0.result.finite ? $0.result.finalLoss : .nan } ?? .nan
                        row.append(loss)
                        figures["\(name) depth \(depth)"] = run.map { $0.result.finite ? $0.result.finalLoss : .infinity } ?? .nan
                        if let run, run.result.finite, run.result.finalLoss < 0.1 * constantMSE {
                            deepestLearned[name] = Swift.max(deepestLearned[name] ?? 0, depth)
                        }
                    }
                    values.append(row)
                }
                let chart = RunCharts.phaseDiagram(
                    rows: depths.map { "\($0)" }, columns: columns, values: values,
                    title: "Final training loss after \(epochs) epochs (seeds' net, SGD lr 0.01)", colourLabel: "final MSE",
                    rowAxis: "hidden layers", columnAxis: "activation / init")
                let rows = zip(depths, values).map { depth, row in ["\(depth)"] + row.map(formatNumber) }
                let section = ExperimentSection(
                    title: "Trainability atlas (final loss)", columns: ["depth"] + columns, rows: rows,
                    note: "Final MSE of 1 → depth×10 → 1 on y = 3x + 2 + 0.5ε (noise variance 0.25; a constant prediction scores the variance of y, "
                        + "\(formatNumber(constantMSE))); nan marks a run that went non-finite.",
                    figures: figures, chart: ("atlas.svg", chart))
                let learnedText = columns.map { name in
                    "\(name) " + (deepestLearned[name].map { "up to depth \($0)" } ?? "at no depth")
                }.joined(separator: ", ")
                var conclusion = "Learned (final MSE below 10% of the \(formatNumber(constantMSE)) a constant prediction scores): \(learnedText)."
                let ranked = columns.sorted { (deepestLearned[$0] ?? 0) > (deepestLearned[$1] ?? 0) }
                if let best = ranked.first, let depth = deepestLearned[best] {
                    let tied = ranked.filter { deepestLearned[$0] == depth }
                    conclusion += " Deepest trainable: \(tied.joined(separator: ", ")) (depth \(depth))."
                }
                for activation in activations {
                    let deepest = initializers.compactMap { deepestLearned[column(activation, $0)] }.max()
                    conclusion += " \(activation): " + (deepest.map { "trains up to depth \($0) with its best init" } ?? "trains at no depth") + "."
                }
                return ExperimentAnalysis(sections: [section], conclusion: conclusion)
            })
    }

    // MARK: - mnist1d

    /// A deep sigmoid MLP on the bundled MNIST-1D (Greydanus & Kobak 2020) with PyTorch's
    /// default init, then the doctor's top prescriptions, each rerun for the same budget; test
    /// accuracy on the 1000 test signals for each. The MNIST-1D paper reports about 68% for an MLP.
    ///
    /// - Parameters:
    ///   - epochs: epochs of each run (default 20).
    ///   - depth: hidden layers of 100 units (default 8).
    ///   - prescriptions: how many of the doctor's prescriptions to try (default 3).
    public static func mnist1d(epochs: Int = 20, depth: Int = 8, prescriptions: Int = 3) -> CatalogExperiment {
        let baseline = mlpRun(input: 40, width: 100, depth: depth, output: 10, activation: "sigmoid",
                              data: "{kind: mnist1d, labels: integer}", loss: "cross_entropy",
                              optimizer: "{type: sgd, lr: 0.05, momentum: 0.9}", batchSize: "100")
        return CatalogExperiment(
            name: "mnist1d",
            summary: "\(depth)×100 sigmoid MLP on MNIST-1D, default init vs the doctor's prescribed remedies: test accuracy (paper's MLP: about 68%)",
            runs: [("sigmoid, default init", baseline, epochs)],
            conclude: { _ in "" },
            analyze: { context in
                guard let base = context.runs.first else { return ExperimentAnalysis(conclusion: "no baseline run.") }
                let baseScore = context.testScores.first ?? nil
                var lines = ["Baseline (\(base.spec.name)): " + lossPhrase(base.result, named: false)
                             + ", test accuracy \(baseScore?.accuracy.map(percent) ?? "not measured")"
                             + (base.diagnosis.map { "; diagnosis \(diagnosisWords($0))" } ?? "") + "."]
                var added: [SpecRunOutput] = [], scores: [TestScore?] = []
                var rows: [[String]] = [[base.spec.name, "-", "-", formatNumber(base.result.finalLoss),
                                          baseScore?.accuracy.map(percent) ?? "-"]]
                guard let diagnosis = base.diagnosis, let baseRecord = base.result.record else {
                    return ExperimentAnalysis(conclusion: lines.joined(separator: " "))
                }
                let before = SpecRun.outcome(base.result, baseRecord)
                for prescription in diagnosis.prescriptions.prefix(prescriptions) {
                    if context.shouldStop { break }
                    guard var spec = try? base.spec.applying(prescription.remedy) else {
                        lines.append("\(prescription.remedy.label): not applicable to this spec.")
                        continue
                    }
                    spec.name = prescription.remedy.label
                    let (run, score) = try context.train(spec)
                    added.append(run)
                    scores.append(score)
                    var verdict = "-"
                    if let record = run.result.record {
                        verdict = Doctor.judge(SpecRun.outcome(run.result, record), against: before).0.rawValue
                    }
                    rows.append([spec.name, "#\(prescription.rank)", verdict, formatNumber(run.result.finalLoss),
                                 score?.accuracy.map(percent) ?? "-"])
                    lines.append("Prescription #\(prescription.rank), \(spec.name): \(verdict), " + lossPhrase(run.result, named: false)
                                 + ", test accuracy \(score?.accuracy.map(percent) ?? "not measured").")
                }
                var figures: [String: Double] = [:]
                if let accuracy = baseScore?.accuracy { figures["baseline accuracy"] = accuracy }
                let best = zip(added, scores).compactMap { run, score in score?.accuracy.map { (run, $0) } }.max { $0.1 < $1.1 }
                if let (run, accuracy) = best {
                    figures["best accuracy"] = accuracy
                    let paper = 0.68
                    let comparison = Swift.abs(accuracy - paper) <= 0.03 ? "about the paper's 68% for an MLP"
                        : accuracy > paper ? "above the paper's 68% for an MLP" : "below the paper's 68% for an MLP"
                    lines.append("Best remedy: \(run.spec.name), test accuracy \(percent(accuracy)) vs \(baseScore?.accuracy.map(percent) ?? "-") "
                                 + "for the baseline (chance 10%): \(comparison) at this budget (\(run.result.epochLosses.count) epochs).")
                } else if !added.isEmpty {
                    lines.append("No remedy's test accuracy was measured.")
                } else {
                    lines.append("The doctor prescribed nothing that applies to this spec.")
                }
                let section = ExperimentSection(
                    title: "MNIST-1D test accuracy", columns: ["run", "rank", "verdict", "final loss", "test accuracy"], rows: rows,
                    note: "Accuracy on the 1000 MNIST-1D test signals after the last epoch; verdicts as Doctor.judge gives them against the baseline.",
                    figures: figures)
                return ExperimentAnalysis(runs: added, testScores: scores, sections: [section], conclusion: lines.joined(separator: " "))
            },
            testSet: { (try BundledData.mnist1d(split: .test, encoding: .index, as: Float.self), LossKind.crossEntropy) })
    }
}

/// A parameter value in a few characters (`1`, `0.5`, `1.25`).
func shortText(_ x: Double) -> String {
    x == x.rounded() && Swift.abs(x) < 1e6 ? String(Int(x)) : String(format: "%g", x)
}
