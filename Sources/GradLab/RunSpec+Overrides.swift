import Foundation
import GradDoctor
import GradNN
import GradOptim

// Changing a parsed spec: the doctor's remedies (for its verification reruns) and the
// `--grid key=value` overrides of `gradlab sweep`. Values are read by the same checks as the
// spec file, so an override cannot make a spec that a file could not.

extension RunSpec {
    /// This spec with a doctor's remedy applied, for a verification rerun.
    ///
    /// - `use_activation`: the MLP's hidden activation (and `init`, when the remedy names one);
    /// - `initialization`: the MLP's `init` (and `bias_init` when given);
    /// - `batch_norm`, `residual_connections`: turn on `batch_norm` / `residual`;
    /// - `clip_grad_norm`: `clip: {type: norm, max_norm: ...}`;
    /// - `lower_learning_rate`, `raise_learning_rate`: `lr` times the factor.
    ///
    /// - `use_lstm_or_gru`: every `rnn` layer becomes an `lstm` of the same sizes, with
    ///   `forget_bias: 1`;
    /// - `orthogonal_recurrent_weights`: `init: orthogonal` (gain 1) on every recurrent layer.
    ///
    /// The MLP remedies need the MLP shorthand and the recurrent ones a layer list with
    /// recurrent layers; the training remedies (clipping, learning rate) apply to any spec.
    /// - Parameter remedy: the remedy.
    /// - Throws: `SpecError.remedyNotApplicable` for a recurrent remedy on a model without the
    ///   layers it changes, an MLP remedy on an explicit layer list, or a result that would not
    ///   validate.
    public func applying(_ remedy: Remedy) throws(SpecError) -> RunSpec {
        var spec = self
        func mlp() throws(SpecError) -> MLPSpec {
            guard case .mlp(let mlp) = model else {
                throw notApplicable(remedy, "it changes the MLP shorthand, and this spec lists its layers explicitly (model.layers); edit the list instead")
            }
            return mlp
        }
        switch remedy {
        case .useActivation(let activation, let initializer):
            var m = try mlp()
            m.activation = activation
            if let initializer { m.initializer = initializer }
            spec.model = .mlp(m)
        case .initialization(let weight, let bias):
            var m = try mlp()
            m.initializer = weight
            if let bias { m.biasInitializer = bias == .default ? nil : bias }
            spec.model = .mlp(m)
        case .batchNorm:
            var m = try mlp()
            m.batchNorm = true
            spec.model = .mlp(m)
        case .residualConnections:
            var m = try mlp()
            m.residual = true
            spec.model = .mlp(m)
        case .clipGradNorm(let maxNorm, _):
            guard maxNorm > 0 && maxNorm.isFinite else { throw notApplicable(remedy, "max norm \(maxNorm) is not a positive number") }
            spec.train.clip = .norm(maxNorm: maxNorm)
        case .lowerLearningRate(let factor), .raiseLearningRate(let factor):
            let lr = train.optimizer.learningRate * factor
            guard factor > 0 && lr > 0 && lr.isFinite else {
                throw notApplicable(remedy, "learning rate \(train.optimizer.learningRate) × \(factor) is not a positive number")
            }
            spec.train.optimizer.learningRate = lr
        case .useLSTMOrGRU:
            // An LSTM with the forget gate's bias at 1 (Gers et al. 2000; Jozefowicz et al. 2015):
            // the cell state then carries the gradient through time from the first step.
            spec.model = try mapRecurrentLayers(remedy, none: "the model has no vanilla rnn layer to replace") { r in
                guard r.cell == .rnn else { return nil }
                return RecurrentLayerSpec(cell: .lstm, input: r.input, hidden: r.hidden, layers: r.layers, bias: r.bias,
                                          orthogonal: r.orthogonal, orthogonalGain: r.orthogonalGain, forgetBias: r.bias ? 1 : nil)
            }
        case .orthogonalRecurrentWeights:
            spec.model = try mapRecurrentLayers(remedy, none: "the model has no recurrent layer whose weights are not orthogonal already") { r in
                guard !r.orthogonal || r.orthogonalGain != 1 else { return nil }
                var changed = r
                changed.orthogonal = true
                changed.orthogonalGain = 1
                return changed
            }
        case .forgetGateBias(let value):
            guard value.isFinite else { throw notApplicable(remedy, "forget-gate bias \(value) is not a finite number") }
            spec.model = try mapRecurrentLayers(remedy, none: "the model has no lstm layer whose forget-gate bias is not \(value) already") { r in
                guard r.cell == .lstm, r.forgetBias != value else { return nil }
                var changed = r
                changed.forgetBias = value
                return changed
            }
        }
        if case .mlp(let m) = spec.model, let (key, problem) = m.consistencyProblem() {
            throw notApplicable(remedy, "model.mlp.\(key): \(problem)")
        }
        return spec
    }

    /// Every recurrent layer of the model changed by `change` (nil: left as it is).
    ///
    /// - Throws: `remedyNotApplicable` with `none` when `change` changed no layer.
    private func mapRecurrentLayers(_ remedy: Remedy, none: String,
                                    _ change: (RecurrentLayerSpec) -> RecurrentLayerSpec?) throws(SpecError) -> ModelSpec {
        guard case .layers(let layers) = model else {
            throw notApplicable(remedy, "the model is an MLP (model.mlp), without recurrent layers")
        }
        var changed = false
        let mapped = layers.map { layer -> LayerSpec in
            guard case .recurrent(let r) = layer, let new = change(r) else { return layer }
            changed = true
            return .recurrent(new)
        }
        if !changed { throw notApplicable(remedy, none) }
        return .layers(mapped)
    }

    /// The keys `overriding(_:with:)` accepts.
    public static let overrideKeys = [
        "depth", "width", "activation", "init", "lr", "optimizer", "batch_norm", "residual", "clip", "epochs", "batch_size", "seed",
        "cell", "hidden", "recurrent_init", "length",
    ]

    /// This spec with one `--grid` setting changed (`depth=5`, `activation=relu`, `init=kaiming`).
    ///
    /// Keys: `depth` (hidden layers, each as wide as the first), `width` (every hidden width),
    /// `activation`, `init` (`xavier` = `xavier_uniform`, `kaiming` = `kaiming_uniform` with the
    /// activation's nonlinearity, or any full initializer name), `lr`, `optimizer` (the type, with
    /// its defaults and the current `lr`), `batch_norm`, `residual` (`true`/`false`), `clip` (a max
    /// norm, or `none`), `epochs`, `batch_size` (`full` or a number), `seed` (`train.seed`).
    /// For layer lists with recurrent layers: `cell` (`rnn`, `lstm` or `gru`: every recurrent
    /// layer), `hidden` (every recurrent layer's hidden units, and the `input`/`in` of the layer
    /// after each), `recurrent_init` (`default` or `orthogonal`). For the sequence tasks
    /// (`adding`, `copy`, `parity_sequence`): `length` (the data's `length`).
    /// The other model keys need the MLP shorthand. Combinations are not checked here (a grid point may pass
    /// through an inconsistent step, as `residual=true` before `width=8`): call `validate()` on
    /// the result; `makeModel` checks them too.
    /// - Parameters:
    ///   - key: one of `overrideKeys`.
    ///   - value: the value as typed on the command line.
    /// - Throws: `SpecError.badOverride` naming `--grid`, the key and what was expected.
    public func overriding(_ key: String, with value: String) throws(SpecError) -> RunSpec {
        var spec = self
        let node = SpecNode.plain(value)
        let reader = SpecReader(file: "--grid", baseDirectory: nil)
        func bad(_ problem: String) -> SpecError { .badOverride(key: key, value: value, problem: problem) }
        func mlp() throws(SpecError) -> MLPSpec {
            guard case .mlp(let mlp) = model else {
                throw bad("needs the MLP shorthand (model.mlp); this spec lists its layers explicitly")
            }
            return mlp
        }
        /// The layer list with every recurrent layer changed by `change`.
        func recurrentLayers(_ change: (RecurrentLayerSpec) -> RecurrentLayerSpec) throws(SpecError) -> [LayerSpec] {
            guard case .layers(let layers) = model, layers.contains(where: { if case .recurrent = $0 { true } else { false } }) else {
                throw bad("needs a layer list with recurrent layers (rnn, lstm, gru)")
            }
            return layers.map { layer in
                if case .recurrent(let r) = layer { return .recurrent(change(r)) }
                return layer
            }
        }
        do throws(SpecError) {
            switch key {
            case "cell":
                let cell = RecurrentLayerSpec.Cell(rawValue: try reader.choice(node, key, RecurrentLayerSpec.Cell.allCases.map(\.rawValue)))!
                spec.model = .layers(try recurrentLayers { r in
                    RecurrentLayerSpec(cell: cell, input: r.input, hidden: r.hidden, layers: r.layers, bias: r.bias,
                                       orthogonal: r.orthogonal, orthogonalGain: r.orthogonalGain, nonlinearity: r.nonlinearity,
                                       forgetBias: r.forgetBias)
                })
            case "hidden":
                let hidden = try reader.int(node, key, min: 1)
                var layers = try recurrentLayers { r in
                    var changed = r
                    changed.hidden = hidden
                    return changed
                }
                // The layers reading each recurrent layer's output take the new width, up to the
                // next layer that sets its own (a linear or recurrent layer).
                for index in layers.indices {
                    guard case .recurrent = layers[index] else { continue }
                    var next = index + 1
                    scan: while next < layers.count {
                        switch layers[next] {
                        case .linear(_, let out, let bias, let initializer, let biasInitializer):
                            layers[next] = .linear(inFeatures: hidden, outFeatures: out, bias: bias, initializer: initializer,
                                                   biasInitializer: biasInitializer)
                            break scan
                        case .recurrent(var r):
                            r.input = hidden
                            layers[next] = .recurrent(r)
                            break scan
                        case .layerNorm(_, let eps): layers[next] = .layerNorm(features: hidden, eps: eps)
                        case .batchNorm(_, let eps, let momentum): layers[next] = .batchNorm(features: hidden, eps: eps, momentum: momentum)
                        case .prelu(let count, let initial) where count != 1:
                            layers[next] = .prelu(parameterCount: hidden, initialValue: initial)
                        default: break
                        }
                        next += 1
                    }
                }
                spec.model = .layers(layers)
            case "recurrent_init":
                let orthogonal = try reader.choice(node, key, RecurrentLayerSpec.initNames) == "orthogonal"
                spec.model = .layers(try recurrentLayers { r in
                    var changed = r
                    changed.orthogonal = orthogonal
                    changed.orthogonalGain = 1
                    return changed
                })
            case "length":
                let length = try reader.int(node, key, min: 1)
                switch data.source {
                case .adding(let count, _):
                    guard length >= 2 else { throw bad("expected a whole number ≥ 2 (one marked step in each half), found \(length)") }
                    spec.data.source = .adding(count: count, length: length)
                case .copy(let count, let symbols, _, let delay): spec.data.source = .copy(count: count, symbols: symbols, length: length, delay: delay)
                case .paritySequence(let count, _, let running, let signed):
                    spec.data.source = .paritySequence(count: count, length: length, running: running, signed: signed)
                default:
                    throw bad("needs a sequence task as data (adding, copy, parity_sequence); this spec's data is \(data.source.kind)")
                }
            case "depth":
                var m = try mlp()
                let depth = try reader.int(node, key, min: 1)
                guard let width = m.hidden.first else {
                    throw bad("the model has no hidden layer to take the width from (set model.mlp.hidden first)")
                }
                m.hidden = Array(repeating: width, count: depth)
                spec.model = .mlp(m)
            case "width":
                var m = try mlp()
                let width = try reader.int(node, key, min: 1)
                guard !m.hidden.isEmpty else { throw bad("the model has no hidden layers to widen (set model.mlp.hidden first)") }
                m.hidden = Array(repeating: width, count: m.hidden.count)
                spec.model = .mlp(m)
            case "activation":
                var m = try mlp()
                m.activation = Activation(rawValue: try reader.choice(node, key, MLPSpec.activationNames))!
                spec.model = .mlp(m)
            case "init":
                var m = try mlp()
                switch value {
                case "xavier": m.initializer = .xavierUniform()
                case "kaiming": m.initializer = .kaimingUniform()
                default: m.initializer = try readInitializer(node, key, reader)
                }
                spec.model = .mlp(m)
            case "lr":
                spec.train.optimizer.learningRate = try reader.double(node, key, .positive)
            case "optimizer":
                let type = try reader.choice(node, key, OptimizerSpec.types)
                spec.train.optimizer = OptimizerSpec.defaults(type: type, lr: train.optimizer.learningRate)!
            case "batch_norm":
                var m = try mlp()
                m.batchNorm = try reader.bool(node, key)
                spec.model = .mlp(m)
            case "residual":
                var m = try mlp()
                m.residual = try reader.bool(node, key)
                spec.model = .mlp(m)
            case "clip":
                spec.train.clip = value == "none" ? .none
                    : .norm(maxNorm: try reader.double(node, key, .positive))
            case "epochs":
                let epochs = try reader.int(node, key, min: 1)
                if case .cosine(let tMax, let etaMin) = train.schedule, tMax == train.epochs {
                    spec.train.schedule = .cosine(tMax: epochs, etaMin: etaMin)
                }
                spec.train.epochs = epochs
            case "batch_size":
                spec.train.batchSize = try readBatchSize(node, key, reader)
            case "seed":
                spec.train.seed = try reader.uint64(node, key)
            default:
                // The recurrent and sequence keys are listed only for specs they apply to.
                let hasRecurrent = if case .layers(let layers) = model { layers.contains { if case .recurrent = $0 { true } else { false } } } else { false }
                let listed = Self.overrideKeys.filter { candidate in
                    switch candidate {
                    case "cell", "hidden", "recurrent_init": hasRecurrent
                    case "length": data.source.sequenceLayout != nil
                    default: true
                    }
                }
                throw bad("unknown key '\(specQuoted(key))' (expected one of \(listed.joined(separator: ", ")))"
                            + suggestion(key, Self.overrideKeys))
            }
        } catch {
            if case .invalid(_, _, _, let problem) = error { throw bad(problem) }
            throw error
        }
        return spec
    }

    /// Checks the combinations of keys that single values cannot show: an initializer whose gain
    /// the activation cannot supply, a bias initializer that needs a 2-D weight, `residual` with
    /// no hidden layer of unchanged width to wrap; in a layer list, the widths from one layer to
    /// the next and where sequence layers stand. Parsing and `applying` check this already; call it after a chain of
    /// `overriding` calls (a grid point), whose intermediate steps may be inconsistent.
    ///
    /// - Throws: `SpecError.invalid` naming the key (`model.mlp.init`) and, for a spec read from
    ///   a file, its place there.
    public func validate() throws(SpecError) {
        switch model {
        case .mlp(let m):
            if let (key, problem) = m.consistencyProblem() { throw specError("model.mlp.\(key)", problem) }
        case .layers(let layers):
            if let (index, key, problem) = LayerSpec.widthProblem(layers) {
                let itemPath = "model.layers[\(index)]"
                throw specError(key.isEmpty ? itemPath : "\(itemPath).\(layers[index].name).\(key)", problem)
            }
        }
    }

    private func notApplicable(_ remedy: Remedy, _ reason: String) -> SpecError {
        .remedyNotApplicable(file: source?.file ?? name, remedy: remedy.name, reason: reason)
    }
}
