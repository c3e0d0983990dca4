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
    /// Model remedies need the MLP shorthand; the training remedies (clipping, learning rate)
    /// apply to any spec.
    /// - Parameter remedy: the remedy.
    /// - Throws: `SpecError.remedyNotApplicable` for `use_lstm_or_gru` (no recurrent cell), a
    ///   model remedy on an explicit layer list, or a result that would not validate.
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
            throw notApplicable(remedy, "the model has no recurrent cell to replace (spec files describe feed-forward networks)")
        case .orthogonalRecurrentWeights:
            throw notApplicable(remedy, "the model has no recurrent weights (spec files describe feed-forward networks)")
        }
        if case .mlp(let m) = spec.model, let (key, problem) = m.consistencyProblem() {
            throw notApplicable(remedy, "model.mlp.\(key): \(problem)")
        }
        return spec
    }

    /// The keys `overriding(_:with:)` accepts.
    public static let overrideKeys = [
        "depth", "width", "activation", "init", "lr", "optimizer", "batch_norm", "residual", "clip", "epochs", "batch_size", "seed",
    ]

    /// This spec with one `--grid` setting changed (`depth=5`, `activation=relu`, `init=kaiming`).
    ///
    /// Keys: `depth` (hidden layers, each as wide as the first), `width` (every hidden width),
    /// `activation`, `init` (`xavier` = `xavier_uniform`, `kaiming` = `kaiming_uniform` with the
    /// activation's nonlinearity, or any full initializer name), `lr`, `optimizer` (the type, with
    /// its defaults and the current `lr`), `batch_norm`, `residual` (`true`/`false`), `clip` (a max
    /// norm, or `none`), `epochs`, `batch_size` (`full` or a number), `seed` (`train.seed`).
    /// Model keys need the MLP shorthand. Combinations are not checked here (a grid point may pass
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
        do throws(SpecError) {
            switch key {
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
                throw bad("unknown key '\(specQuoted(key))' (expected one of \(Self.overrideKeys.joined(separator: ", ")))"
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
    /// no hidden layer of unchanged width to wrap. Parsing and `applying` check this already; call it after a chain of
    /// `overriding` calls (a grid point), whose intermediate steps may be inconsistent.
    ///
    /// - Throws: `SpecError.invalid` naming the key (`model.mlp.init`) and, for a spec read from
    ///   a file, its place there.
    public func validate() throws(SpecError) {
        if case .mlp(let m) = model, let (key, problem) = m.consistencyProblem() {
            throw specError("model.mlp.\(key)", problem)
        }
    }

    private func notApplicable(_ remedy: Remedy, _ reason: String) -> SpecError {
        .remedyNotApplicable(file: source?.file ?? name, remedy: remedy.name, reason: reason)
    }
}
