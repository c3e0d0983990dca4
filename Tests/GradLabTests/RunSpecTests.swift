import Foundation
import Testing
import GradLab
import GradTestSupport

/// The good spec files of `Tests/Fixtures/specs`.
let specsDirectory = fixturesDirectory.appendingPathComponent("specs")

/// The spec in `text`, parsed as a YAML file named `spec.yaml`.
func spec(_ text: String, file: String = "spec.yaml") throws -> RunSpec {
    try RunSpec.parse(text, file: file)
}

/// The error parsing `text` gives, or nil when it parses.
func specError(_ text: String, file: String = "spec.yaml") -> SpecError? {
    do {
        _ = try RunSpec.parse(text, file: file)
        return nil
    } catch {
        return error
    }
}

/// Parsing spec files: the DESIGN.md example, JSON, defaults, every data kind, optimizer,
/// schedule and clipping rule, layer lists and initializer forms; the YAML round trip.
@Suite struct RunSpecTests {
    @Test func designExampleParses() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("deep-sigmoid.yaml"))
        #expect(s.name == "deep-sigmoid")
        #expect(s.model == .mlp(MLPSpec(input: 1, hidden: [10, 10, 10], output: 1, activation: .sigmoid,
                                        initializer: .xavierUniform(), biasInitializer: .zeros)))
        #expect(s.data == DataSpec(source: .linear(count: 100, noise: 0.5, slope: 3, intercept: 2)))
        #expect(s.train.loss == .mse)
        #expect(s.train.optimizer == .sgd(lr: 0.01, momentum: 0))
        #expect(s.train.clip == .norm(maxNorm: 10))
        #expect(s.train.epochs == 500)
        #expect(s.train.batchSize == nil)
        #expect(s.train.seed == 0)
        #expect(s.train.schedule == nil)
        #expect(s.doctor == DoctorSpec(enabled: true, every: 1, histogramsEvery: 10, nonfinite: .raise))
    }

    @Test func jsonSpecParsesWithTabsAndExponents() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("spiral-relu.json"))
        #expect(s.name == "spiral-relu")
        #expect(s.model == .mlp(MLPSpec(input: 2, hidden: [32, 32], output: 2, activation: .relu,
                                        initializer: .kaimingNormal(mode: .fanOut))))
        #expect(s.data == DataSpec(source: .spiral(count: 400, classes: 2), validation: 0.25, standardize: true, seed: 7))
        #expect(s.train.loss == .crossEntropy)
        #expect(s.train.optimizer == .adam(lr: 1e-3, beta1: 0.8, beta2: 0.99))
        // Cosine's t_max defaults to the epochs.
        #expect(s.train.schedule == .cosine(tMax: 50, etaMin: 1e-5))
        #expect(s.train.batchSize == 64)
        #expect(s.train.seed == 3)
        #expect(s.doctor.nonfinite == .skipStep)
        #expect(s.doctor.saturationThreshold == 0.05)
    }

    @Test func jsonNamedTextThatIsYAMLReadsAsYAML() throws {
        // A resolved spec kept inside a `.json` manifest is YAML text: only text that starts as
        // JSON does is held to strict JSON.
        let original = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("deep-sigmoid.yaml"))
        #expect(try RunSpec.parse(original.yaml, file: "sweep.json") == original)
        #expect(specError("{\"model\": {\"mlp\": {\"input\": 1, \"output\": 1}},}", file: "x.json")?.message
                == "JSON syntax error: trailing comma before '}' (JSON allows none)")
        #expect(try spec("{\"model\": {\"mlp\": {\"input\": 1, \"output\": 1}},}", file: "x.yaml").model.inputWidth == 1)
    }

    @Test func defaultsFillEveryKeyButModel() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("minimal.yaml"))
        #expect(s.name == "minimal")
        #expect(s.model == .mlp(MLPSpec(input: 1, hidden: [], output: 1, activation: .relu, outputActivation: nil,
                                        initializer: .default, biasInitializer: nil, batchNorm: false, residual: false)))
        #expect(s.data == DataSpec(source: .linear(count: 100, noise: 0.5, slope: 3, intercept: 2), validation: 0,
                                   standardize: false, seed: 0))
        #expect(s.train == TrainSpec(loss: .mse, optimizer: .sgd(lr: 0.01), schedule: nil, clip: .none, epochs: 100,
                                     batchSize: nil, seed: 0))
        #expect(s.doctor == DoctorSpec(enabled: true, every: 1, histogramsEvery: 10, nonfinite: .raise, saturationThreshold: 0.01))
        #expect(s.monitorSettings == Monitor<Float>.Settings())
    }

    @Test func nameDefaultsToTheFileNameAndNullMeansDefault() throws {
        #expect(try spec("model: {mlp: {input: 1, output: 1}}", file: "runs/my-run.v2.yml").name == "my-run.v2")
        let s = try spec("""
            model: {mlp: {input: 1, output: 1, output_activation: null, bias_init: ~}}
            train: {epochs: , schedule: null}
            """)
        #expect(s.train.epochs == 100)
        #expect(s.train.schedule == nil)
        // YAML 1.1 reads `off` as false; the spec reads it as the guard's mode.
        #expect(try spec("model: {mlp: {input: 1, output: 1}}\ndoctor: {nonfinite: off}").doctor.nonfinite == .off)
    }

    @Test func everyDataKind() throws {
        func data(_ text: String) throws -> DataSpec { try spec("model: {mlp: {input: 1, output: 1}}\ndata: \(text)").data }
        #expect(try data("{kind: linear, count: 50, noise: 0.1, slope: -1, intercept: 0.5}").source
                == .linear(count: 50, noise: 0.1, slope: -1, intercept: 0.5))
        #expect(try data("{kind: spiral, count: 300, classes: 3}").source == .spiral(count: 300, classes: 3))
        #expect(try data("{kind: xor, count: 20, noise: 0}").source == .xor(count: 20, noise: 0))
        #expect(try data("{kind: circles, factor: 0.3}").source == .circles(count: 200, noise: 0.05, factor: 0.3))
        #expect(try data("{kind: parity, bits: 8}").source == .parity(bits: 8, count: nil, signed: false))
        #expect(try data("{kind: parity, bits: 40, count: 100, signed: true}").source == .parity(bits: 40, count: 100, signed: true))
        #expect(try data("{kind: digits}").source == .digits(labels: .oneHot))
        #expect(try data("{kind: digits, labels: integer}").source == .digits(labels: .index))
        #expect(try data("{kind: mnist1d, split: test}").source == .mnist1d(split: .test, labels: .oneHot))
        let csv = try data("{kind: csv, path: /tmp/x.csv, target: 0, header: false, labels: one_hot, delimiter: ';'}")
        #expect(csv.source == .csv(CSVSource(path: "/tmp/x.csv", target: .index(0), header: .absent,
                                             task: .classification(.oneHot), delimiter: ";")))
        // A quoted number is a column name, not an index.
        #expect(try data("{kind: csv, path: x.csv, target: \"3\"}").source == .csv(CSVSource(path: "x.csv", target: .name("3"))))
        #expect(try data("{kind: idx, images: a.idx, labels: b.idx, scale: 1, encoding: integer}").source
                == .idx(images: "a.idx", labels: "b.idx", scale: 1, encoding: .index))
        let common = try data("{kind: xor, validation: 0.2, standardize: true, seed: 9}")
        #expect(common.validation == 0.2 && common.standardize && common.seed == 9)
    }

    @Test func relativeDataPathsResolveAgainstTheSpecFolder() throws {
        let s = try RunSpec.parse("model: {mlp: {input: 2, output: 1}}\ndata: {kind: csv, path: sub/../d.csv}",
                                  file: "spec.yaml", baseDirectory: URL(fileURLWithPath: "/data/specs"))
        #expect(s.data.source == .csv(CSVSource(path: "/data/specs/d.csv")))
        let absolute = try RunSpec.parse("model: {mlp: {input: 2, output: 1}}\ndata: {kind: csv, path: /abs/d.csv}",
                                         file: "spec.yaml", baseDirectory: URL(fileURLWithPath: "/data/specs"))
        #expect(absolute.data.source == .csv(CSVSource(path: "/abs/d.csv")))
    }

    @Test func everyOptimizer() throws {
        func optimizer(_ text: String) throws -> OptimizerSpec {
            try spec("model: {mlp: {input: 1, output: 1}}\ntrain: {optimizer: \(text)}").train.optimizer
        }
        #expect(try optimizer("sgd") == .sgd(lr: 0.01))
        #expect(try optimizer("{type: sgd, lr: 0.5, momentum: 0.9, dampening: 0, weight_decay: 1e-4, nesterov: true}")
                == .sgd(lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: true))
        #expect(try optimizer("adam") == .adam(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false))
        #expect(try optimizer("{type: adam, lr: 0.01, betas: [0.5, 0.9], eps: 1e-6, amsgrad: true}")
                == .adam(lr: 0.01, beta1: 0.5, beta2: 0.9, eps: 1e-6, weightDecay: 0, amsgrad: true))
        #expect(try optimizer("adamw") == .adamw(lr: 1e-3, weightDecay: 0.01))
        #expect(try optimizer("{type: adamw, weight_decay: 0.1}") == .adamw(lr: 1e-3, weightDecay: 0.1))
        #expect(try optimizer("{type: rmsprop, alpha: 0.9, centered: true, momentum: 0.1}")
                == .rmsprop(lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0.1, centered: true))
        #expect(try optimizer("{type: adagrad, lr_decay: 0.01, initial_accumulator_value: 0.1, eps: 1e-9}")
                == .adagrad(lr: 0.01, lrDecay: 0.01, weightDecay: 0, initialAccumulatorValue: 0.1, eps: 1e-9))
        // Keys of another optimizer are refused, naming the allowed ones.
        let error = try #require(specError("model: {mlp: {input: 1, output: 1}}\ntrain: {optimizer: {type: sgd, betas: [0.9, 0.9]}}"))
        #expect(error.path == "train.optimizer.betas")
        #expect(error.message.contains("allowed here: type, lr, momentum, dampening, weight_decay, nesterov"))
    }

    @Test func everyScheduleAndClippingRule() throws {
        func train(_ text: String) throws -> TrainSpec { try spec("model: {mlp: {input: 1, output: 1}}\ntrain: \(text)").train }
        #expect(try train("{schedule: {type: step, step_size: 30}}").schedule == .step(stepSize: 30, gamma: 0.1))
        #expect(try train("{schedule: {type: exponential, gamma: 0.9}}").schedule == .exponential(gamma: 0.9))
        #expect(try train("{epochs: 70, schedule: cosine}").schedule == .cosine(tMax: 70, etaMin: 0))
        #expect(try train("{schedule: {type: cosine, t_max: 10, eta_min: 0.001}}").schedule == .cosine(tMax: 10, etaMin: 0.001))
        #expect(try train("{schedule: {type: warmup, warmup_epochs: 3}}").schedule == .warmup(epochs: 3, startFactor: 1.0 / 3.0, endFactor: 1))
        #expect(try train("{schedule: none}").schedule == nil)

        #expect(try train("{clip: none}").clip == GradientClipping.none)
        #expect(try train("{clip: {type: none}}").clip == GradientClipping.none)
        #expect(try train("{clip: {type: norm, max_norm: 2.5}}").clip == .norm(maxNorm: 2.5))
        #expect(try train("{clip: {type: value, clip_value: 0.5}}").clip == .value(clipValue: 0.5))
        #expect(try train("{clip: agc}").clip == .agc(clipFactor: 0.01, eps: 1e-3, exemptLastLayer: true))
        #expect(try train("{clip: {type: agc, clip_factor: 0.1, eps: 0, exempt_last_layer: false}}").clip
                == .agc(clipFactor: 0.1, eps: 0, exemptLastLayer: false))
        #expect(try train("{clip: autoclip}").clip == .autoClip(percentile: 10))
        #expect(try train("{clip: {type: autoclip, percentile: 90}}").clip == .autoClip(percentile: 90))
        #expect(try train("{batch_size: 32}").batchSize == 32)
        #expect(try train("{batch_size: full}").batchSize == nil)
        #expect(try train("{seed: 18446744073709551615}").seed == UInt64.max)
    }

    @Test func everyLossAndDoctorSetting() throws {
        for loss in LossKind.allCases {
            #expect(try spec("model: {mlp: {input: 1, output: 1}}\ntrain: {loss: \(loss.rawValue)}").train.loss == loss)
        }
        let d = try spec("model: {mlp: {input: 1, output: 1}}\ndoctor: {enabled: no, every: 5, histograms_every: 0, nonfinite: warn, saturation_threshold: 0.2}").doctor
        #expect(d == DoctorSpec(enabled: false, every: 5, histogramsEvery: 0, nonfinite: .warn, saturationThreshold: 0.2))
        let settings = try spec("model: {mlp: {input: 1, output: 1}}\ndoctor: {every: 5, histograms_every: 0, nonfinite: warn, saturation_threshold: 0.2}").monitorSettings
        #expect(settings.every == 5 && settings.histogramsEvery == 0 && settings.nonfinite == .warn && settings.saturationThreshold == 0.2)
    }

    @Test func layerListWithEveryLayerKind() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("layers.yaml"))
        guard case .layers(let layers) = s.model else { Issue.record("expected a layer list"); return }
        #expect(layers == [
            .linear(inFeatures: 2, outFeatures: 8, bias: true, initializer: .kaimingUniform(nonlinearity: "relu"), biasInitializer: nil),
            .leakyReLU(negativeSlope: 0.1),
            .linear(inFeatures: 8, outFeatures: 8, bias: false, initializer: .xavierNormal(), biasInitializer: nil),
            .tanh,
            .linear(inFeatures: 8, outFeatures: 8, bias: true, initializer: .default, biasInitializer: nil),
            .elu(alpha: 0.5),
            .linear(inFeatures: 8, outFeatures: 8, bias: true, initializer: .orthogonal(gain: 1.2), biasInitializer: nil),
            .gelu(approximateTanh: true),
            .linear(inFeatures: 8, outFeatures: 4, bias: true, initializer: .normal(mean: 0, std: 0.02), biasInitializer: .zeros),
            .softplus(beta: 2, threshold: 10), .hardtanh(minValue: -2, maxValue: 2), .prelu(parameterCount: 4, initialValue: 0.2),
            .identity, .flatten(startDim: 1),
            .linear(inFeatures: 4, outFeatures: 1, bias: true, initializer: .default, biasInitializer: nil),
            .sigmoid,
        ])
        #expect(s.model.inputWidth == 2 && s.model.outputWidth == 1)
        let norms = try spec("""
            model:
              layers: [{linear: {in: 3, out: 5}}, {batch_norm: {features: 5, momentum: 0.2}}, relu, {dropout: {p: 0.1}},
                       {layer_norm: {features: 5}}, selu, silu, softsign, {linear: {in: 5, out: 2}}]
            """)
        #expect(norms.model == .layers([
            .linear(inFeatures: 3, outFeatures: 5, bias: true, initializer: .default, biasInitializer: nil),
            .batchNorm(features: 5, eps: 1e-5, momentum: 0.2), .relu, .dropout(p: 0.1), .layerNorm(features: 5, eps: 1e-5),
            .selu, .silu, .softsign, .linear(inFeatures: 5, outFeatures: 2, bias: true, initializer: .default, biasInitializer: nil),
        ]))
        // Parameters the layers cannot take are refused at parse time, naming the layer's key.
        for (list, path) in [("[{flatten: {start_dim: 0}}, {linear: {in: 1, out: 1}}]", "model.layers[0].flatten.start_dim"),
                             ("[{linear: {in: 1, out: 2}}, {prelu: {num_parameters: 3}}]", "model.layers[1].prelu.num_parameters"),
                             ("[{linear: {in: 1, out: 2}}, {batch_norm: {features: 3}}]", "model.layers[1].batch_norm.features"),
                             ("[{linear: {in: 1, out: 2}}, {hardtanh: {min_val: 1, max_val: 1}}]", "model.layers[1].hardtanh.max_val"),
                             ("[{linear: {in: 1, out: 2}}, {dropout: {p: 1}}]", "model.layers[1].dropout.p"),
                             ("[relu, {relu: {}, tanh: {}}]", "model.layers[1]"),
                             ("[linear]", "model.layers[0]"),
                             ("[relu]", "model.layers[0]"),
                             ("[]", "model.layers[0]")] {
            let error = specError("model: {layers: \(list)}")
            #expect(error?.path == path, "\(list): \(error?.description ?? "parsed")")
            #expect(error?.location?.line == 1)
        }
    }

    @Test func initializerForms() throws {
        func initializer(_ text: String, activation: String = "relu") throws -> Initializer {
            let s = try spec("model: {mlp: {input: 1, output: 1, activation: \(activation), init: \(text)}}")
            guard case .mlp(let mlp) = s.model else { return .default }
            return mlp.initializer
        }
        #expect(try initializer("kaiming_uniform") == .kaimingUniform())
        #expect(try initializer("{type: kaiming_uniform}") == .kaimingUniform())
        #expect(try initializer("{type: kaiming_normal, a: 0.2, mode: fan_out, nonlinearity: leaky_relu}")
                == .kaimingNormal(a: 0.2, mode: .fanOut, nonlinearity: "leaky_relu"))
        #expect(try initializer("{type: normal, std: 10}") == .normal(mean: 0, std: 10))
        #expect(try initializer("{type: uniform, low: -1, high: 1}") == .uniform(low: -1, high: 1))
        #expect(try initializer("{type: truncated_normal, std: 0.5, a: -1, b: 1}") == .truncatedNormal(mean: 0, std: 0.5, a: -1, b: 1))
        #expect(try initializer("{type: sparse, sparsity: 0.5}") == .sparse(sparsity: 0.5, std: 0.01))
        #expect(try initializer("{type: constant, value: 0.3}") == .constant(value: 0.3))
        #expect(try initializer("{type: xavier_normal, gain: 2}", activation: "gelu") == .xavierNormal(gain: 2))
        #expect(try initializer("orthogonal", activation: "tanh") == .orthogonal())
        #expect(try initializer("eye") == .eye)
        #expect(try initializer("zeros") == .zeros)
        // The same form for a bias and in a layer list.
        let layers = try spec("model: {layers: [{linear: {in: 1, out: 2, init: {type: normal, std: 3}, bias_init: {type: uniform, high: 2}}}]}")
        #expect(layers.model == .layers([.linear(inFeatures: 1, outFeatures: 2, bias: true, initializer: .normal(mean: 0, std: 3),
                                                 biasInitializer: .uniform(low: 0, high: 2))]))
        // Initializers that need a parameter, or a 2-D weight, say so.
        #expect(specError("model: {mlp: {input: 1, output: 1, init: constant}}")?.message.contains("{type: constant, value: 0.1}") == true)
        #expect(specError("model: {mlp: {input: 1, output: 1, bias_init: xavier_uniform}}")?.path == "model.mlp.bias_init")
        #expect(specError("model: {mlp: {input: 1, output: 1, init: {type: uniform, low: 1, high: 0}}}")?.path == "model.mlp.init.high")
    }

    @Test func yamlRoundTripsADozenSpecs() throws {
        var specs: [RunSpec] = []
        for file in ["deep-sigmoid.yaml", "spiral-relu.json", "minimal.yaml", "layers.yaml", "csv-regression.yaml",
                     "csv-classes.yml", "parity.yaml", "idx-tiny.yaml"] {
            specs.append(try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent(file)))
        }
        specs.append(try spec("""
            name: "123"
            model: {mlp: {input: 3, hidden: [4, 4], output: 2, activation: leaky_relu, output_activation: softsign,
                          init: {type: truncated_normal, mean: 0.1, std: 0.2, a: -0.5, b: 0.7}, bias_init: ones,
                          batch_norm: true, residual: true}}
            data: {kind: csv, path: "a b: c #1.csv", target: "true", header: auto, labels: one_hot, delimiter: "\\t"}
            train: {schedule: {type: warmup, warmup_epochs: 4, start_factor: 0.1, end_factor: 0.9}, clip: {type: value, clip_value: 3}}
            """))
        specs.append(try spec("""
            name: "name: with colon, #hash and 'quotes'"
            model: {mlp: {input: 2, output: 2, init: {type: kaiming_uniform, a: 0.3, mode: fan_out}, bias_init: {type: normal, mean: 1, std: 0}}}
            data: {kind: mnist1d, split: test, labels: integer, validation: 0.1, seed: 4}
            train: {loss: cross_entropy, optimizer: {type: adagrad, weight_decay: 0.3}, schedule: {type: step, step_size: 2, gamma: 0.7}}
            doctor: {enabled: false, nonfinite: off}
            """))
        specs.append(try spec("""
            model: {layers: [{linear: {in: 40, out: 10, bias: false, init: {type: sparse, sparsity: 0.25, std: 0.5}}}, {prelu: {}},
                             {batch_norm: {features: 10, eps: 0.001}}, {dropout: {p: 0.25}}, {linear: {in: 10, out: 10, init: eye}}]}
            data: {kind: parity, bits: 12, count: 33}
            train: {optimizer: {type: sgd, lr: 1e-7}, batch_size: 7, clip: {type: agc, clip_factor: 0.5}, epochs: 1, seed: 77}
            """))
        specs.append(try spec("""
            model: {mlp: {input: 2, output: 1, hidden: [3], activation: hardtanh, init: {type: constant, value: -0.25}}}
            data: {kind: circles, count: 10, noise: 0.01, factor: 0.9}
            """))
        #expect(specs.count >= 12)
        for original in specs {
            let text = original.yaml
            let again = try RunSpec.parse(text, file: "resolved.yaml")
            #expect(again == original, "round trip changed \(original.name):\n\(text)")
            #expect(again.yaml == text)
        }
    }

    @Test func yamlWritesEveryDefault() throws {
        let text = try spec("model: {mlp: {input: 1, output: 1}}").yaml
        for key in ["name: spec", "hidden: []", "activation: relu", "output_activation: none", "init: default",
                    "bias_init: default", "batch_norm: false", "residual: false", "kind: linear", "count: 100",
                    "noise: 0.5", "validation: 0.0", "standardize: false", "loss: mse",
                    "optimizer: {type: sgd, lr: 0.01, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false}",
                    "schedule: none", "clip: {type: none}", "epochs: 100", "batch_size: full", "seed: 0",
                    "enabled: true", "every: 1", "histograms_every: 10", "nonfinite: raise", "saturation_threshold: 0.01"] {
            #expect(text.contains(key), "missing '\(key)' in:\n\(text)")
        }
    }

    @Test func codableUsesTheSpecFormat() throws {
        let original = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("csv-classes.yml"))
        let json = try JSONEncoder().encode(original)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let train = try #require(object["train"] as? [String: Any])
        #expect(train["batch_size"] as? String == "full")
        #expect((train["optimizer"] as? [String: Any])?["type"] as? String == "adamw")
        let decoded = try JSONDecoder().decode(RunSpec.self, from: json)
        #expect(decoded == original)
        // The parts decode on their own too, with the same checks.
        #expect(try JSONDecoder().decode(OptimizerSpec.self, from: Data(#"{"type": "adam", "lr": 0.5}"#.utf8)) == .adam(lr: 0.5))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(OptimizerSpec.self, from: Data(#"{"type": "adam", "lr": 0}"#.utf8))
        }
        #expect(try JSONDecoder().decode([LayerSpec].self, from: Data(#"["relu", {"dropout": {"p": 0.2}}]"#.utf8))
                == [.relu, .dropout(p: 0.2)])
    }

    @Test func errorsAreOneLineWithThePlace() throws {
        let error = try #require(specError("model:\n  mlp:\n    input: 1\n    output: 1\n    activation: sigmod\n"))
        #expect(error.description == "spec.yaml:5:17: model.mlp.activation: unknown value 'sigmod' (expected one of sigmoid, tanh, relu, leaky_relu, prelu, elu, selu, gelu, softplus, silu, hardtanh, softsign, linear); did you mean 'sigmoid'?")
        #expect(error.location == SpecLocation(line: 5, column: 17))
        // Control characters in user text are escaped.
        let control = try #require(specError("model: {mlp: {input: 1, output: 1, activation: \"a\\nb\"}}"))
        #expect(!control.description.contains("\n"))
        #expect(control.description.contains("'a\\nb'"))
    }

    @Test func unreadableAndUnsupportedFiles() {
        let missing = specsDirectory.appendingPathComponent("no-such-spec.yaml")
        #expect(throws: SpecError.unreadable(file: missing.relativePath, reason: "no such file")) {
            try RunSpec.load(contentsOf: missing)
        }
        let csv = specsDirectory.appendingPathComponent("houses.csv")
        #expect(throws: SpecError.unsupportedFileType(file: csv.relativePath, fileExtension: "csv")) {
            try RunSpec.load(contentsOf: csv)
        }
        #expect(throws: SpecError.unreadable(file: specsDirectory.relativePath + ".yaml", reason: "no such file")) {
            try RunSpec.load(contentsOf: URL(fileURLWithPath: specsDirectory.path + ".yaml"))
        }
    }

    @Test func directoriesNonUTF8AndDeepNestingAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runspec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("folder.yaml")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(throws: SpecError.unreadable(file: folder.relativePath, reason: "it is a directory")) {
            try RunSpec.load(contentsOf: folder)
        }
        let latin1 = directory.appendingPathComponent("latin1.yaml")
        try Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0x0A]).write(to: latin1)
        #expect(throws: SpecError.unreadable(file: latin1.relativePath, reason: "the file is not UTF-8 text")) {
            try RunSpec.load(contentsOf: latin1)
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(specError("model: " + deep))
        #expect(error.location?.line == 1 && error.message.contains("deeper than 64"))
        let deepJSON = try #require(specError(String(repeating: "[", count: 10_000), file: "deep.json"))
        #expect(deepJSON.message.contains("deeper than 64"))
        // Aliases that expand to a huge tree are refused instead of expanded.
        var bomb = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...9 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(specError(bomb)?.message.contains("too large") == true)
    }
}
