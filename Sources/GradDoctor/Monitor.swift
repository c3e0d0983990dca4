import Foundation
import GradNN
import GradOptim
import GradTensor

/// What the non-finite guard does on the first NaN or infinity of a step.
public enum NonfiniteMode: String, Codable, Sendable, CaseIterable {
    /// Throw `NonfiniteError` naming where it began.
    case raise
    /// Leave the parameters and the optimizer state as they were for this step, count it, go on.
    case skipStep = "skip_step"
    /// Record where it began and go on with the update.
    case warn
    /// Do not look.
    case off
}

/// The error of the guard in `raise` mode: where the first non-finite value began.
public struct NonfiniteError: Error, CustomStringConvertible, Sendable {
    /// The origin.
    public let origin: NonfiniteOrigin
    public var description: String { origin.description }
}

/// Watches a model while it trains, the way an expert would: per-parameter gradient
/// statistics, per-layer activation statistics, gradient histograms, update/weight ratios, and
/// the first non-finite value traced to the layer that made it.
///
/// One call attaches it (`Monitor(model:)`: forward and output-gradient hooks on every leaf
/// module); the training loop then calls, per step:
///
///     monitor.beginStep()
///     let loss = lossFunction(model(x), y)
///     loss.backward()
///     guard try monitor.inspectGradients(loss: loss) else { optimizer.zeroGrad(); continue }  // skipped
///     let norm = try clipGradNorm(...); monitor.noteClipping(totalNorm: norm, maxNorm: 10)
///     monitor.beforeUpdate(); optimizer.step(); monitor.afterUpdate()
///
/// `inspectGradients` reads the gradients before clipping and before they are zeroed.
///
/// Recurrent networks (`RNN`, `LSTM`, `GRU`, leaf modules of the model): at each recorded step
/// the monitor turns on the module's `recordsHiddenGradients` before the forward pass (off again
/// at unrecorded steps, unless it was on before the monitor attached) and stores its
/// `hiddenGradientNorms`, `‖∂L/∂h_t‖` for every time step `t` of its last layer, in the layer's
/// `LayerStatistics.hiddenGradientNorms`. The module must be called through its hooks
/// (`callAsFunction`, or `runTruncated` per chunk) for the monitor to see it; the cost is one
/// norm per time step during the backward pass of recorded steps. With `runTruncated` each
/// chunk's forward pass runs before its body, so call `beginStep()` before the run and again at
/// the end of each chunk's body.
public final class Monitor<Scalar: TensorScalar> {
    /// How often and how much to record.
    public struct Settings: Codable, Sendable, Equatable {
        /// Record statistics every `every` steps.
        public var every: Int = 1
        /// Take gradient histograms every `histogramsEvery` steps (0: never).
        public var histogramsEvery: Int = 10
        /// A sigmoid/tanh unit is saturated when its derivative is below this fraction of the
        /// derivative's maximum.
        public var saturationThreshold: Double = 0.01
        /// Most entries kept in the step series (decimated beyond).
        public var capacity: Int = 2000
        /// Most histogram snapshots kept, over all parameters (decimated beyond).
        public var histogramCapacity: Int = 2000
        /// The non-finite guard's mode.
        public var nonfinite: NonfiniteMode = .raise

        /// Settings with PyTorch-free defaults: every step, histograms every 10, guard raising.
        public init(every: Int = 1, histogramsEvery: Int = 10, saturationThreshold: Double = 0.01,
                    capacity: Int = 2000, histogramCapacity: Int = 2000, nonfinite: NonfiniteMode = .raise) {
            precondition(every >= 1 && histogramsEvery >= 0 && capacity >= 2 && histogramCapacity >= 2,
                         "Monitor.Settings: every ≥ 1, histogramsEvery ≥ 0, capacities ≥ 2")
            self.every = every
            self.histogramsEvery = histogramsEvery
            self.saturationThreshold = saturationThreshold
            self.capacity = capacity
            self.histogramCapacity = histogramCapacity
            self.nonfinite = nonfinite
        }
    }

    /// The settings in use.
    public let settings: Settings
    /// What has been recorded so far.
    ///
    /// A step's weight norms (‖θ‖ before the update) come from the update's own pass over the
    /// values (`afterUpdate`); read before that, they are taken from the values as they are.
    public var record: MonitorRecord {
        fillWeightNorms(fromUpdate: false)
        return stored
    }
    private var stored = MonitorRecord()
    /// The step `beginStep()` started (−1 before the first).
    public private(set) var step = -1

    private let parameters: [(String, Parameter<Scalar>)]
    private let leaves: [(name: String, kind: String, module: any Module<Scalar>)]
    /// Indices into `parameters` of each leaf's own parameters.
    private let ownedParameters: [[Int]]
    /// The activation each leaf is, for its layer statistics (decided once, not per step).
    private let activations: [LeafActivation]
    private enum LeafActivation { case sigmoid, tanh, relu, other }
    private var handles: [HookHandle] = []
    /// Whether this step's statistics are recorded.
    private var recording = false
    /// Parameters (indices into `parameters`) whose weight norm in `pendingStatistics` is
    /// still to be filled in (`fillWeightNorms`).
    private var weightNormsDue: [Int] = []
    private var recordedSteps = 0
    /// Layer statistics of this step by leaf index, filled by the hooks.
    private var layerStats: [LayerStatistics?]
    /// Forward order of the leaves (by leaf index), as seen by the hooks this step.
    private var forwardOrder: [Int] = []
    /// This step's first forward origin, and the leaves whose output gradient was not finite.
    private var forwardOrigin: NonfiniteOrigin?
    private var nonfiniteOutputGradients: [(leaf: Int, count: Int)] = []
    private var pendingStatistics: StepStatistics?
    /// Per parameter, whether this step's update is being measured.
    private var measuring: [Bool] = []
    /// The recurrent leaves (by leaf index), and whether each recorded its hidden-state
    /// gradients before the monitor attached (restored by `detach`).
    private let recurrentLeaves: [(leaf: Int, module: any RecurrentModule<Scalar>, recordedBefore: Bool)]

    /// Attaches to every leaf module of `model` (modules without children).
    public init(model: any Module<Scalar>, settings: Settings = Settings()) {
        self.settings = settings
        parameters = model.namedParameters
        leaves = model.namedModules.filter { $0.1.children.isEmpty }.map { name, module in
            let typeName = String(describing: type(of: module))
            return (name.isEmpty ? "model" : name, String(typeName.prefix { $0 != "<" }), module)
        }
        let names = parameters.map(\.0)
        ownedParameters = leaves.map { leaf in
            names.indices.filter { i in
                leaf.name == "model" ? !names[i].contains(".") : names[i].hasPrefix(leaf.name + ".")
                    && !names[i].dropFirst(leaf.name.count + 1).contains(".")
            }
        }
        layerStats = Array(repeating: nil, count: leaves.count)
        activations = leaves.map { leaf in
            switch leaf.module {
            case is Sigmoid<Scalar>: .sigmoid
            case is Tanh<Scalar>: .tanh
            case is ReLU<Scalar>: .relu
            default: .other
            }
        }
        recurrentLeaves = leaves.enumerated().compactMap { index, leaf in
            guard let module = leaf.module as? any RecurrentModule<Scalar> else { return nil }
            return (index, module, module.recordsHiddenGradients)
        }
        for (index, leaf) in leaves.enumerated() {
            // The hooks run the monitor's Float or Double specialization (see `inspectGradients`).
            handles.append(leaf.module.hooks.addForwardHook { [unowned self] _, input, output in
                if Scalar.self == Float.self {
                    unsafeDowncast(self, to: Monitor<Float>.self).forwardHook(
                        leaf: index, input: unsafeBitCast(input, to: Tensor<Float>.self), output: unsafeBitCast(output, to: Tensor<Float>.self))
                } else if Scalar.self == Double.self {
                    unsafeDowncast(self, to: Monitor<Double>.self).forwardHook(
                        leaf: index, input: unsafeBitCast(input, to: Tensor<Double>.self), output: unsafeBitCast(output, to: Tensor<Double>.self))
                } else {
                    self.forwardHook(leaf: index, input: input, output: output)
                }
            })
            handles.append(leaf.module.hooks.addOutputGradientHook { [unowned self] _, gradient in
                if Scalar.self == Float.self {
                    unsafeDowncast(self, to: Monitor<Float>.self).gradientHook(leaf: index, gradient: unsafeBitCast(gradient, to: Tensor<Float>.self))
                } else if Scalar.self == Double.self {
                    unsafeDowncast(self, to: Monitor<Double>.self).gradientHook(leaf: index, gradient: unsafeBitCast(gradient, to: Tensor<Double>.self))
                } else {
                    self.gradientHook(leaf: index, gradient: gradient)
                }
            })
        }
    }

    deinit { detach() }

    /// Removes the hooks and gives recurrent modules back their `recordsHiddenGradients`; the
    /// record stays.
    public func detach() {
        for handle in handles { handle.remove() }
        handles = []
        for r in recurrentLeaves where r.module.recordsHiddenGradients != r.recordedBefore {
            r.module.recordsHiddenGradients = r.recordedBefore
        }
    }

    /// Whether the guard looks at values this step.
    private var guarding: Bool { settings.nonfinite != .off }

    /// Starts a training step: decides whether it is recorded and clears the per-step state.
    public func beginStep() {
        if Scalar.self == Float.self { unsafeDowncast(self, to: Monitor<Float>.self).beginStepSpecialized() }
        else if Scalar.self == Double.self { unsafeDowncast(self, to: Monitor<Double>.self).beginStepSpecialized() }
        else { beginStepSpecialized() }
    }

    private func beginStepSpecialized() {
        fillWeightNorms(fromUpdate: false)
        step += 1
        let due = step % settings.every == 0
        recording = due && (step / settings.every) % stored.stride == 0
        for index in layerStats.indices { layerStats[index] = nil }
        forwardOrder.removeAll(keepingCapacity: true)
        forwardOrigin = nil
        nonfiniteOutputGradients.removeAll(keepingCapacity: true)
        pendingStatistics = nil
        measuring.removeAll(keepingCapacity: true)
        // Setting the flag to true empties the module's norms, so those read after this step's
        // backward pass are this step's.
        for r in recurrentLeaves where recording || r.module.recordsHiddenGradients != r.recordedBefore {
            r.module.recordsHiddenGradients = recording || r.recordedBefore
        }
    }

    // MARK: Hooks

    private func forwardHook(leaf: Int, input: Tensor<Scalar>, output: Tensor<Scalar>) {
        forwardOrder.append(leaf)
        // Recording counts the non-finite elements in the same pass as the moments.
        let moments = recording ? activationMoments(output) : nil
        let outputNonfinite = moments?.nonfinite ?? (guarding ? nonfiniteCount(output) : 0)
        if guarding && outputNonfinite > 0 && forwardOrigin == nil {
            let inputNonfinite = nonfiniteCount(input)
            if inputNonfinite == 0 {
                let moments = ValueMoments(input)
                forwardOrigin = NonfiniteOrigin(
                    step: step, phase: .forward, location: leaves[leaf].name, kind: leaves[leaf].kind,
                    inputMean: moments.mean, inputStd: moments.std, inputMaxAbs: moments.maxAbs,
                    nonfiniteCount: outputNonfinite)
            } else if forwardOrder.count == 1 {
                // The first layer got it from the data.
                forwardOrigin = NonfiniteOrigin(step: step, phase: .forward, location: "input", nonfiniteCount: inputNonfinite)
            }
        }
        guard let moments else { return }
        var stats = LayerStatistics(name: leaves[leaf].name, kind: leaves[leaf].kind, activationMean: moments.mean,
                                    activationStd: moments.std, saturationFraction: nil, deadFraction: nil,
                                    nonfiniteCount: outputNonfinite, outputGradientNorm: nil)
        switch activations[leaf] {
        case .sigmoid:
            // σ' = y(1 − y), at most 1/4.
            stats.saturationFraction = saturatedFraction(output, sigmoid: true, threshold: settings.saturationThreshold)
        case .tanh:
            stats.saturationFraction = saturatedFraction(output, sigmoid: false, threshold: settings.saturationThreshold)
        case .relu:
            stats.deadFraction = deadUnitFraction(output)
        case .other: break
        }
        layerStats[leaf] = stats
    }

    private func gradientHook(leaf: Int, gradient: Tensor<Scalar>) {
        // ‖g‖ is finite exactly when every element is (a finite overflow to ∞ is counted
        // exactly below), so recording needs no separate pass for the guard.
        let norm = recording ? gradientNorm(gradient) : nil
        if recording { layerStats[leaf]?.outputGradientNorm = norm }
        if guarding && !(norm?.isFinite ?? false) {
            let count = nonfiniteCount(gradient)
            if count > 0 { nonfiniteOutputGradients.append((leaf, count)) }
        }
    }

    // MARK: Steps

    /// Reads the gradients after `backward()` (before clipping and zeroing): records this
    /// step's statistics and histograms when due, and runs the non-finite guard.
    ///
    /// - Returns: false when the guard (in `skipStep` mode) says this step's update must not
    ///   be taken; the caller then skips clipping and the optimizer step.
    /// - Throws: `NonfiniteError` in `raise` mode.
    @discardableResult
    public func inspectGradients(loss: Tensor<Scalar>? = nil, lossTerms: [(String, Tensor<Scalar>)] = []) throws -> Bool {
        // The whole inspection runs in the Float or Double specialization: a generic class's
        // methods called from another module run unspecialized, looking up type metadata for
        // every tuple and array they touch. (So do `beginStep`, `beforeUpdate` and `afterUpdate`.)
        if Scalar.self == Float.self {
            return try unsafeDowncast(self, to: Monitor<Float>.self).inspect(
                loss: unsafeBitCast(loss, to: Tensor<Float>?.self), lossTerms: unsafeBitCast(lossTerms, to: [(String, Tensor<Float>)].self))
        } else if Scalar.self == Double.self {
            return try unsafeDowncast(self, to: Monitor<Double>.self).inspect(
                loss: unsafeBitCast(loss, to: Tensor<Double>?.self), lossTerms: unsafeBitCast(lossTerms, to: [(String, Tensor<Double>)].self))
        }
        return try inspect(loss: loss, lossTerms: lossTerms)
    }

    private func inspect(loss: Tensor<Scalar>?, lossTerms: [(String, Tensor<Scalar>)]) throws -> Bool {
        let lossValue = loss.map { Double($0.withUnsafeBufferPointer { $0.first ?? .nan }) }
        var origin: NonfiniteOrigin?
        if guarding {
            origin = forwardOrigin
            if origin == nil {
                let terms = lossTerms.isEmpty ? (loss.map { [("loss", $0)] } ?? []) : lossTerms
                for (name, term) in terms {
                    let count = nonfiniteCount(term)
                    if count > 0 { origin = NonfiniteOrigin(step: step, phase: .loss, location: name, nonfiniteCount: count); break }
                }
            }
        }
        if recording {
            for r in recurrentLeaves where layerStats[r.leaf] != nil {
                let norms = r.module.hiddenGradientNorms
                if !norms.isEmpty { layerStats[r.leaf]!.hiddenGradientNorms = norms }
            }
            var statistics = StepStatistics(
                step: step, loss: lossValue, globalGradientNorm: 0,
                parameters: perParameter { parameterStatistics($0) },
                layers: forwardOrder.compactMap { layerStats[$0] })
            // A parameter with a gradient has its weight norm measured by the update's pass.
            weightNormsDue.append(contentsOf: parameters.indices.filter { parameters[$0].1.grad != nil })
            statistics.globalGradientNorm = statistics.parameters.reduce(0.0) { $0 + $1.gradientNorm * $1.gradientNorm }.squareRoot()
            pendingStatistics = statistics
        }
        if guarding && origin == nil {
            // The statistics just counted each gradient's non-finite elements.
            origin = backwardOrigin()
        }
        if settings.histogramsEvery > 0 && step % settings.histogramsEvery == 0
            && (step / settings.histogramsEvery) % stored.histogramStride == 0 {
            takeHistograms()
        }
        guard let origin else {
            commitPending(skipped: false, deferred: true)
            return true
        }
        if stored.firstNonfinite == nil { stored.firstNonfinite = origin }
        switch settings.nonfinite {
        case .raise:
            commitPending(skipped: false, deferred: false)
            throw NonfiniteError(origin: origin)
        case .skipStep:
            stored.skippedSteps += 1
            commitPending(skipped: true, deferred: false)
            return false
        case .warn, .off:
            commitPending(skipped: false, deferred: true)
            return true
        }
    }

    /// Records the global norm after clipping (`totalNorm` is what `clipGradNorm` returned:
    /// the norm before clipping).
    public func noteClipping(totalNorm: Scalar, maxNorm: Scalar) {
        guard var statistics = pendingStatistics else { return }
        let before = Double(totalNorm), limit = Double(maxNorm)
        statistics.clippedGradientNorm = before > limit ? limit : before
        pendingStatistics = statistics
        replaceLast(with: statistics)
    }

    /// Call right before the optimizer step: asks the step to measure `‖Δw‖` per parameter
    /// (`Parameter.measuresUpdate`), in the same pass as the update, without copying weights.
    ///
    /// GradOptim's optimizers measure it; a step that does not (another optimizer) leaves the
    /// update/weight ratio nil.
    public func beforeUpdate() {
        if Scalar.self == Float.self { unsafeDowncast(self, to: Monitor<Float>.self).beforeUpdateSpecialized() }
        else if Scalar.self == Double.self { unsafeDowncast(self, to: Monitor<Double>.self).beforeUpdateSpecialized() }
        else { beforeUpdateSpecialized() }
    }

    private func beforeUpdateSpecialized() {
        guard pendingStatistics != nil else { return }
        measuring.removeAll(keepingCapacity: true)
        for (_, parameter) in parameters {
            let measured = parameter.grad != nil
            measuring.append(measured)
            if measured {
                parameter.lastUpdate = nil
                parameter.measuresUpdate = true
            }
        }
    }

    /// Call right after the optimizer step: records `‖Δw‖/‖w‖` per parameter and closes the step.
    public func afterUpdate() {
        if Scalar.self == Float.self { unsafeDowncast(self, to: Monitor<Float>.self).afterUpdateSpecialized() }
        else if Scalar.self == Double.self { unsafeDowncast(self, to: Monitor<Double>.self).afterUpdateSpecialized() }
        else { afterUpdateSpecialized() }
    }

    private func afterUpdateSpecialized() {
        fillWeightNorms(fromUpdate: true)
        guard var statistics = pendingStatistics else { return }
        for index in measuring.indices where measuring[index] {
            let parameter = parameters[index].1
            parameter.measuresUpdate = false
            guard index < statistics.parameters.count, let update = parameter.lastUpdate else { continue }
            let weight = statistics.parameters[index].weightNorm
            statistics.parameters[index].updateRatio = weight > 0 ? update.squaredStep.squareRoot() / weight : nil
        }
        measuring.removeAll(keepingCapacity: true)
        replaceLast(with: statistics)
        pendingStatistics = nil
    }

    // MARK: Internals

    /// Appends the pending statistics; `deferred` leaves them pending so clipping and update
    /// figures can still be added (`replaceLast`).
    private func commitPending(skipped: Bool, deferred: Bool) {
        // A step that ends here (no update follows) takes its weight norms from the values.
        if !deferred { fillWeightNorms(fromUpdate: false) }
        guard var statistics = pendingStatistics else { return }
        statistics.skipped = skipped
        append(statistics)
        pendingStatistics = deferred ? statistics : nil
    }

    private func append(_ statistics: StepStatistics) {
        stored.steps.append(statistics)
        recordedSteps += 1
        if stored.steps.count >= settings.capacity {
            // Keep every other entry: the series still spans the run, at half the density.
            stored.steps = stored.steps.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            stored.stride *= 2
        }
    }

    /// Fills in the weight norms still due in the pending statistics (and the record's entry
    /// of the step): `‖θ_old‖` from the update's measurement (`fromUpdate`, when it measured
    /// the parameter), else `‖θ‖` of the values now.
    private func fillWeightNorms(fromUpdate: Bool) {
        guard !weightNormsDue.isEmpty else { return }
        defer { weightNormsDue.removeAll(keepingCapacity: true) }
        guard var statistics = pendingStatistics else { return }
        for index in weightNormsDue where index < statistics.parameters.count {
            let parameter = parameters[index].1
            if fromUpdate, index < measuring.count, measuring[index], let update = parameter.lastUpdate {
                statistics.parameters[index].weightNorm = update.squaredWeight.squareRoot()
            } else {
                statistics.parameters[index].weightNorm = parameter.squaredValueNorm().squareRoot()
            }
        }
        pendingStatistics = statistics
        replaceLast(with: statistics)
    }

    private func replaceLast(with statistics: StepStatistics) {
        if let last = stored.steps.indices.last, stored.steps[last].step == statistics.step {
            stored.steps[last] = statistics
        }
    }

    /// The module whose backward pass made the first non-finite gradient: walking from the
    /// output back, the first layer whose output gradient is not finite was made by the layer
    /// after it (or by the loss); a non-finite parameter gradient next to a finite output
    /// gradient was made by that layer itself.
    private func backwardOrigin() -> NonfiniteOrigin? {
        // Counted by this step's statistics when recorded, else looked for here.
        let known = pendingStatistics?.parameters
        var badParameters: [Int: Int] = [:]
        for (index, (_, parameter)) in parameters.enumerated() {
            if let known, index < known.count {
                if known[index].nonfiniteCount > 0 { badParameters[index] = known[index].nonfiniteCount }
            } else if let g = parameter.grad, !g.isFinite {
                badParameters[index] = nonfiniteCount(g)
            }
        }
        if badParameters.isEmpty && nonfiniteOutputGradients.isEmpty { return nil }
        let order = forwardOrder
        var position: [Int: Int] = [:]
        for (p, leaf) in order.enumerated() where position[leaf] == nil { position[leaf] = p }
        // The candidate closest to the output is where the backward pass first went wrong.
        var candidates: [(position: Int, origin: NonfiniteOrigin)] = []
        for (leaf, count) in nonfiniteOutputGradients {
            guard let p = position[leaf] else { continue }
            if p + 1 < order.count {
                let maker = order[p + 1]
                candidates.append((p + 1, NonfiniteOrigin(step: step, phase: .backward, location: leaves[maker].name,
                                                          kind: leaves[maker].kind, nonfiniteCount: count)))
            } else {
                candidates.append((order.count, NonfiniteOrigin(step: step, phase: .loss, location: "loss (its backward)",
                                                                nonfiniteCount: count)))
            }
        }
        for (p, leaf) in order.enumerated() {
            if let index = ownedParameters[leaf].first(where: { badParameters[$0] != nil }) {
                candidates.append((p, NonfiniteOrigin(step: step, phase: .backward, location: parameters[index].0,
                                                      kind: leaves[leaf].kind, nonfiniteCount: badParameters[index]!)))
            }
        }
        if let best = candidates.max(by: { $0.position < $1.position }) { return best.origin }
        if let index = badParameters.keys.min() {
            return NonfiniteOrigin(step: step, phase: .backward, location: parameters[index].0, nonfiniteCount: badParameters[index]!)
        }
        return nil
    }

    /// `make(i)` for every parameter `i`, in order; computed on several threads for large models
    /// (`forEachIndex`), each parameter's value as it would be alone.
    private func perParameter<T>(_ make: (Int) -> T) -> [T] {
        let results = UnsafeMutablePointer<T>.allocate(capacity: parameters.count)
        defer { results.deallocate() }
        forEachIndex(parameters.count, work: { self.parameters[$0].1.grad?.count ?? 0 }) { i in
            (results + i).initialize(to: make(i))
        }
        return (0..<parameters.count).map { (results + $0).move() }
    }

    /// The statistics of parameter `index`: one pass over its gradient. The weight norm of a
    /// parameter with a gradient is left 0 here (`inspect` marks it due in `weightNormsDue`):
    /// the update reads the values anyway and measures it in its own pass.
    private func parameterStatistics(_ index: Int) -> ParameterStatistics {
        let (name, parameter) = parameters[index]
        guard let g = parameter.grad else {
            return ParameterStatistics(name: name, gradientNorm: 0, gradientRMS: 0, gradientMaxAbs: 0, gradientMean: 0,
                                       gradientStd: 0, zeroFraction: 1, nonfiniteCount: 0, weightNorm: parameter.squaredValueNorm().squareRoot(),
                                       updateRatio: nil)
        }
        let m = ValueMoments(g)
        let weightNorm = 0.0
        return ParameterStatistics(
            name: name, gradientNorm: m.sumOfSquares.squareRoot(),
            gradientRMS: m.finiteCount > 0 ? (m.sumOfSquares / Double(m.finiteCount)).squareRoot() : 0,
            gradientMaxAbs: m.maxAbs, gradientMean: m.mean, gradientStd: m.std,
            zeroFraction: g.count > 0 ? Double(m.zeroCount) / Double(g.count) : 0,
            nonfiniteCount: g.count - m.finiteCount, weightNorm: weightNorm, updateRatio: nil)
    }

    private func takeHistograms() {
        // A recorded step's statistics already found each gradient's largest finite |g| and
        // whether all of it is finite.
        let known = pendingStatistics?.parameters
        let histograms = perParameter { index -> GradientHistogram? in
            let (name, parameter) = parameters[index]
            guard let g = parameter.grad else { return nil }
            let range = known.flatMap { index < $0.count ? ($0[index].gradientMaxAbs, $0[index].nonfiniteCount == 0) : nil }
            return histogram(of: g, name: name, known: range)
        }
        stored.histograms.append(contentsOf: histograms.compactMap { $0 })
        if stored.histograms.count >= settings.histogramCapacity {
            // Drop every other snapshot step (all of its parameters).
            let steps = Array(Set(stored.histograms.map(\.step))).sorted()
            let kept = Set(steps.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
            stored.histograms.removeAll { !kept.contains($0.step) }
            stored.histogramStride *= 2
        }
    }

    private func histogram(of g: Tensor<Scalar>, name: String, known: (range: Double, allFinite: Bool)?) -> GradientHistogram {
        let c = histogramCounts(g, known: known)
        return GradientHistogram(step: step, name: name, zeroCount: c.zeros, logCounts: c.log, nonfiniteCount: c.nonfinite,
                                 linearCounts: c.linear, linearRange: c.range)
    }
}
