import Foundation
import Testing
import GradLab
import GradTestSupport

/// The population standard deviation of a tensor's elements.
private func standardDeviation(_ values: [Float]) -> Double {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    return (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
}

/// From specs to models, data, optimizers and schedules.
@Suite struct RunSpecBuildTests {
    @Test func mlpHasTheNamesAndShapesOfTheEquivalentSequential() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("deep-sigmoid.yaml"))
        let model = try s.makeModel(generator: RandomGenerator(seed: 1))
        // nn.Sequential(nn.Linear(1, 10), nn.Sigmoid(), nn.Linear(10, 10), nn.Sigmoid(),
        //               nn.Linear(10, 10), nn.Sigmoid(), nn.Linear(10, 1))
        #expect(model.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"])
        #expect(model.namedParameters.map(\.1.shape) == [[10, 1], [10], [10, 10], [10], [10, 10], [10], [1, 10], [1]])
        #expect(model.summary == """
            Sequential(
              (0): Linear(in_features=1, out_features=10, bias=True)
              (1): Sigmoid()
              (2): Linear(in_features=10, out_features=10, bias=True)
              (3): Sigmoid()
              (4): Linear(in_features=10, out_features=10, bias=True)
              (5): Sigmoid()
              (6): Linear(in_features=10, out_features=1, bias=True)
            )
            """)
        // bias_init: zeros; init: xavier_uniform with sigmoid's gain 1: |w| ≤ √(6 / (fan_in + fan_out)).
        for (name, parameter) in model.namedParameters {
            if name.hasSuffix("bias") { #expect(parameter.value.scalars.allSatisfy { $0 == 0 }, "\(name)") }
        }
        let bound = Float((6.0 / 20.0).squareRoot())
        #expect(model.namedParameters[2].1.value.scalars.allSatisfy { abs($0) <= bound })
        #expect(model.namedParameters[2].1.value.scalars.contains { abs($0) > bound / 2 })
    }

    @Test func defaultInitDrawsExactlyAsTheHandBuiltSequential() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("parity.yaml"))
        let sequence = try spec("model: {mlp: {input: 6, hidden: [16, 16, 16], output: 1, activation: tanh, output_activation: sigmoid}}")
        let model = try sequence.makeModel(generator: RandomGenerator(seed: 9))
        let g = RandomGenerator(seed: 9)
        // nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
        //               nn.Linear(16, 1), nn.Sigmoid())
        let reference = Sequential<Float>(Linear(6, 16, generator: g), Tanh(), Linear(16, 16, generator: g), Tanh(),
                                          Linear(16, 16, generator: g), Tanh(), Linear(16, 1, generator: g), Sigmoid())
        #expect(model.summary == reference.summary)
        #expect(model.namedParameters.map(\.0) == reference.namedParameters.map(\.0))
        for ((name, a), (_, b)) in zip(model.namedParameters, reference.namedParameters) {
            #expect(a.value.scalars == b.value.scalars, "\(name)")
        }
        // parity.yaml's own init: U(-0.5, 0.5) weights and constant 0.1 biases.
        let custom = try s.makeModel(generator: RandomGenerator(seed: 9))
        #expect(custom.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"])
        for (name, parameter) in custom.namedParameters {
            if name.hasSuffix("bias") {
                #expect(parameter.value.scalars.allSatisfy { $0 == 0.1 }, "\(name)")
            } else {
                #expect(parameter.value.scalars.allSatisfy { $0 >= -0.5 && $0 <= 0.5 }, "\(name)")
            }
        }
    }

    @Test func layerListHasTheNamesAndShapesOfTheEquivalentSequential() throws {
        let s = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("layers.yaml"))
        let model = try s.makeModel(generator: RandomGenerator(seed: 3))
        // nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.1), nn.Linear(8, 8, bias=False), nn.Tanh(), nn.Linear(8, 8),
        //   nn.ELU(0.5), nn.Linear(8, 8), nn.GELU(approximate='tanh'), nn.Linear(8, 4), nn.Softplus(2, 10),
        //   nn.Hardtanh(-2, 2), nn.PReLU(4, 0.2), nn.Identity(), nn.Flatten(), nn.Linear(4, 1), nn.Sigmoid())
        #expect(model.namedParameters.map(\.0) == [
            "0.weight", "0.bias", "2.weight", "4.weight", "4.bias", "6.weight", "6.bias", "8.weight", "8.bias",
            "11.weight", "14.weight", "14.bias",
        ])
        #expect(model.namedParameters.map(\.1.shape) == [
            [8, 2], [8], [8, 8], [8, 8], [8], [8, 8], [8], [4, 8], [4], [4], [1, 4], [1],
        ])
        #expect(model.layers.count == 16)
        #expect(model.layers[1].summary == "LeakyReLU(negative_slope=0.1)")
        #expect(model.layers[7].summary == "GELU(approximate='tanh')")
        #expect(model.layers[11].summary == "PReLU(num_parameters=4)")
        #expect(model.namedParameters[9].1.value.scalars.allSatisfy { $0 == 0.2 })
        // bias_init: zeros on layer 8, normal(0, 0.02) weights there.
        #expect(model.namedParameters[8].1.value.scalars.allSatisfy { $0 == 0 })
        #expect(model.namedParameters[7].1.value.scalars.allSatisfy { abs($0) < 0.2 })
        let x = Tensor<Float>(shape: [3, 2], scalars: [0.1, -0.2, 1, 2, -3, 0.5])
        let y = model(x)
        #expect(y.shape == [3, 1])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func kaimingStandardDeviationFollowsTheActivation() throws {
        func firstWeightStd(_ text: String) throws -> Double {
            let model = try spec(text).makeModel(generator: RandomGenerator(seed: 11))
            return standardDeviation(model.namedParameters[0].1.value.scalars)
        }
        // kaiming_uniform: std = gain/√fan_in; relu gain √2, tanh 5/3; fan_in 400.
        let relu = try firstWeightStd("model: {mlp: {input: 400, hidden: [400], output: 1, activation: relu, init: kaiming_uniform}}")
        #expect(abs(relu / (2.0 / 400).squareRoot() - 1) < 0.03, "std \(relu)")
        let tanh = try firstWeightStd("model: {mlp: {input: 400, hidden: [400], output: 1, activation: tanh, init: kaiming_uniform}}")
        #expect(abs(tanh / (5.0 / 3 / 20) - 1) < 0.03, "std \(tanh)")
        // kaiming_normal with fan_out on a [400, 200] weight: std = √2/√400.
        let fanOut = try firstWeightStd("model: {layers: [{linear: {in: 200, out: 400, init: {type: kaiming_normal, mode: fan_out}}}, relu]}")
        #expect(abs(fanOut / (2.0 / 400).squareRoot() - 1) < 0.03, "std \(fanOut)")
        // In a layer list the nonlinearity is the next activation (past identity): leaky_relu 0.2.
        let leaky = try firstWeightStd("model: {layers: [{linear: {in: 300, out: 300, init: kaiming_uniform}}, identity, {leaky_relu: {negative_slope: 0.2}}]}")
        #expect(abs(leaky / ((2.0 / 1.04).squareRoot() / 300.0.squareRoot()) - 1) < 0.03, "std \(leaky)")
        // The default (PyTorch's) init: U(±1/√fan_in), std 1/√(3·fan_in).
        let plain = try firstWeightStd("model: {mlp: {input: 400, hidden: [400], output: 1}}")
        #expect(abs(plain / (1 / (3.0 * 400).squareRoot()) - 1) < 0.03, "std \(plain)")
    }

    @Test func batchNormAndResidualMLPsHaveThePyTorchNames() throws {
        let bn = try spec("model: {mlp: {input: 1, hidden: [4, 4], output: 1, batch_norm: true}}").makeModel(generator: RandomGenerator(seed: 0))
        // nn.Sequential(nn.Linear(1, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
        #expect(bn.namedParameters.map(\.0) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                                                "4.weight", "4.bias", "6.weight", "6.bias"])
        #expect(bn.namedParameters.map(\.1.shape) == [[4, 1], [4], [4], [4], [4, 4], [4], [4], [4], [1, 4], [1]])
        #expect(bn.namedBuffers.map(\.0) == ["1.running_mean", "1.running_var", "1.num_batches_tracked",
                                             "4.running_mean", "4.running_var", "4.num_batches_tracked"])
        let residual = try spec("model: {mlp: {input: 1, hidden: [4, 4, 4], output: 1, activation: tanh, residual: true, init: xavier_uniform, bias_init: zeros}}")
            .makeModel(generator: RandomGenerator(seed: 0))
        // Linear(1, 4), Tanh, then two blocks x + Tanh(Linear(4, 4)(x)), then Linear(4, 1).
        #expect(residual.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.body.0.weight", "2.body.0.bias",
                                                      "3.body.0.weight", "3.body.0.bias", "4.weight", "4.bias"])
        #expect(residual.namedParameters.map(\.1.shape) == [[4, 1], [4], [4, 4], [4], [4, 4], [4], [1, 4], [1]])
        // init and bias_init reach the layers inside the blocks.
        for (name, parameter) in residual.namedParameters where name.hasSuffix("bias") {
            #expect(parameter.value.scalars.allSatisfy { $0 == 0 }, "\(name)")
        }
        #expect(residual(Tensor<Float>(shape: [2, 1], scalars: [0.5, -1])).shape == [2, 1])
    }

    @Test func normAndDropoutLayersInALayerList() throws {
        let model = try spec("""
            model:
              layers: [{linear: {in: 1, out: 4}}, {batch_norm: {features: 4, eps: 0.001, momentum: 0.2}}, relu,
                       {dropout: {p: 0.1}}, {layer_norm: {features: 4}}, {linear: {in: 4, out: 1}}]
            """).makeModel(generator: RandomGenerator(seed: 0))
        // nn.Sequential(nn.Linear(1, 4), nn.BatchNorm1d(4, 1e-3, 0.2), nn.ReLU(), nn.Dropout(0.1), nn.LayerNorm(4), nn.Linear(4, 1))
        #expect(model.namedParameters.map(\.0) == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight", "5.bias"])
        #expect(model.namedParameters.map(\.1.shape) == [[4, 1], [4], [4], [4], [4], [4], [1, 4], [1]])
        #expect(model.layers[3].summary == "Dropout(p=0.1, inplace=False)")
        #expect(model.namedBuffers.map(\.0) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
    }

    @Test func syntheticDataFollowsTheSpec() throws {
        let linear = try spec("model: {mlp: {input: 1, output: 1}}").loadData()
        let expected = SyntheticData.linear(count: 100, seed: 0, as: Float.self)
        #expect(linear.train.features.scalars == expected.features.scalars && linear.train.targets.scalars == expected.targets.scalars)
        #expect(linear.validation == nil)

        let spiral = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("spiral-relu.json")).loadData()
        #expect(spiral.train.count == 300 && spiral.validation?.count == 100)
        let columns = spiral.train.features.shape[1]
        for column in 0..<columns {
            let values = stride(from: column, to: spiral.train.features.count, by: columns).map { spiral.train.features.scalars[$0] }
            #expect(abs(values.reduce(0, +) / Float(values.count)) < 1e-4)
            #expect(abs(standardDeviation(values) - 1) < 1e-3)
        }

        let xor = try spec("model: {mlp: {input: 2, output: 1}}\ndata: {kind: xor, count: 40, seed: 5}").loadData()
        #expect(xor.train.features.scalars == SyntheticData.xor(count: 40, seed: 5, as: Float.self).features.scalars)
        let circles = try spec("model: {mlp: {input: 2, output: 1}}\ndata: {kind: circles, count: 30, factor: 0.2}").loadData()
        #expect(circles.train.count == 30 && circles.train.labels?.filter { $0 == 1 }.count == 15)
        let parity = try spec("model: {mlp: {input: 4, output: 1}}\ndata: {kind: parity, bits: 4}").loadData()
        #expect(parity.train.count == 16 && parity.train.labels == (0..<16).map { $0.nonzeroBitCount % 2 })
        let sampled = try spec("model: {mlp: {input: 30, output: 1}}\ndata: {kind: parity, bits: 30, count: 50, signed: true}").loadData()
        #expect(sampled.train.features.shape == [50, 30] && sampled.train.features.scalars.allSatisfy { $0 == 1 || $0 == -1 })
    }

    @Test func bundledDataSets() throws {
        let digits = try spec("model: {mlp: {input: 64, output: 10}}\ndata: {kind: digits, validation: 0.2}").loadData()
        #expect(digits.train.count + (digits.validation?.count ?? 0) == 1797)
        #expect(digits.train.targets.shape[1] == 10)
        let mnist = try spec("model: {mlp: {input: 40, output: 10}}\ndata: {kind: mnist1d, split: test, labels: integer}\ntrain: {loss: cross_entropy}").loadData()
        #expect(mnist.train.features.shape == [1000, 40] && mnist.train.targets.shape == [1000, 1])
    }

    @Test func csvAndIdxFilesNextToTheSpec() throws {
        let houses = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("csv-regression.yaml")).loadData()
        #expect(houses.train.count == 6 && houses.validation?.count == 2)
        #expect(houses.train.features.shape == [6, 2] && houses.train.targets.shape == [6, 1])
        // Standardized with the training rows' statistics: the training columns have mean 0.
        let trainRooms = stride(from: 0, to: 12, by: 2).map { houses.train.features.scalars[$0] }
        #expect(abs(trainRooms.reduce(0, +)) < 1e-4)
        #expect(Set(houses.train.targets.scalars + (houses.validation?.targets.scalars ?? [])) == [250, 320, 180, 410, 230, 300, 150, 500])

        let classes = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("csv-classes.yml")).loadData()
        #expect(classes.train.labels == [0, 1, 2, 0, 1, 2])
        #expect(classes.train.features.scalars == [0.1, 0.2, 0.9, 0.8, 0.5, 0.1, 0.2, 0.3, 0.8, 0.9, 0.6, 0.2])

        let idx = try RunSpec.load(contentsOf: specsDirectory.appendingPathComponent("idx-tiny.yaml")).loadData()
        #expect(idx.train.labels == [2, 0, 1])
        #expect(idx.train.features.shape == [3, 4])
        #expect(isClose(idx.train.features.scalars[1], 1) && isClose(idx.train.features.scalars[2], 0.2))
    }

    @Test func dataFileReplacesThePathOrMakesTheKindCSV() throws {
        let small = fixturesDirectory.appendingPathComponent("data/small.csv.gz")
        // The spec says linear; --data makes it a CSV (a,b,y: 1,2,3 and 4,5,6).
        let data = try spec("model: {mlp: {input: 2, output: 1}}").loadData(dataFile: small)
        #expect(data.train.features.scalars == [1, 2, 4, 5])
        #expect(data.train.targets.scalars == [3, 6])
        // A CSV spec keeps its options, with the file replaced.
        let replaced = try spec("model: {mlp: {input: 2, output: 1}}\ndata: {kind: csv, path: elsewhere.csv, target: a}").loadData(dataFile: small)
        #expect(replaced.train.targets.scalars == [1, 4])
        #expect(replaced.train.features.scalars == [2, 3, 5, 6])
    }

    @Test func widthMismatchesNameTheModelKey() throws {
        let text = "model:\n  mlp: {input: 1, hidden: [3], output: 1}\n"
        let input = try #require(throws: SpecError.self) {
            try spec(text).loadData(dataFile: fixturesDirectory.appendingPathComponent("data/small.csv.gz"))
        }
        #expect(input.description == "spec.yaml:2:16: model.mlp.input: expected 2 to match the data (csv has 2 features per example), found 1")
        let output = try #require(throws: SpecError.self) {
            try spec("model: {mlp: {input: 64, output: 1}}\ndata: {kind: digits}").loadData()
        }
        #expect(output.path == "model.mlp.output" && output.message.contains("10 targets"))
        let classes = try #require(throws: SpecError.self) {
            try spec("model: {layers: [{linear: {in: 2, out: 3}}]}\ndata: {kind: spiral}\ntrain: {loss: cross_entropy}").loadData()
        }
        #expect(classes.path == "model.layers[0].linear.out" && classes.message.contains("2 classes"))
        let regression = try #require(throws: SpecError.self) {
            try spec("model: {mlp: {input: 1, output: 1}}\ntrain: {loss: cross_entropy}").loadData()
        }
        #expect(regression.path == "train.loss" && regression.message.contains("class labels"))
    }

    @Test func dataErrorsPassThrough() throws {
        let missing = "model: {mlp: {input: 2, output: 1}}\ndata: {kind: csv, path: /nonexistent/spec-data.csv}"
        #expect(throws: DataError.self) { try spec(missing).loadData() }
    }

    @Test func everyOptimizerIsBuilt() throws {
        let parameters = try spec("model: {mlp: {input: 2, output: 1}}").makeModel(generator: RandomGenerator(seed: 0)).parameters
        func make(_ text: String) throws -> any Optimizer<Float> {
            try spec("model: {mlp: {input: 2, output: 1}}\ntrain: {optimizer: \(text)}").makeOptimizer(parameters: parameters)
        }
        let sgd = try #require(try make("{type: sgd, lr: 0.5, momentum: 0.9, nesterov: true}") as? SGD<Float>)
        #expect(sgd.learningRate == 0.5 && sgd.momentum == 0.9 && sgd.nesterov && sgd.parameters.count == 2)
        let adam = try #require(try make("{type: adam, betas: [0.8, 0.9], amsgrad: true}") as? Adam<Float>)
        #expect(adam.learningRate == 1e-3 && adam.beta1 == 0.8 && adam.beta2 == 0.9 && adam.amsgrad)
        let adamw = try #require(try make("adamw") as? AdamW<Float>)
        #expect(adamw.weightDecay == 0.01)
        let rmsprop = try #require(try make("{type: rmsprop, alpha: 0.5, centered: true}") as? RMSprop<Float>)
        #expect(rmsprop.alpha == 0.5 && rmsprop.centered)
        let adagrad = try #require(try make("{type: adagrad, lr_decay: 0.1}") as? Adagrad<Float>)
        #expect(adagrad.learningRateDecay == 0.1 && adagrad.learningRate == 0.01)
    }

    @Test func everyScheduleIsBuiltFromTheOptimizersRate() throws {
        func make(_ text: String) throws -> (any LearningRateSchedule)? {
            try spec("model: {mlp: {input: 1, output: 1}}\ntrain: {optimizer: {type: sgd, lr: 0.2}, epochs: 40, schedule: \(text)}").makeSchedule()
        }
        #expect(try make("none") == nil)
        #expect(try make("{type: step, step_size: 10, gamma: 0.5}") as? StepLR == (try StepLR(initial: 0.2, stepSize: 10, gamma: 0.5)))
        #expect(try make("{type: exponential, gamma: 0.9}") as? ExponentialLR == (try ExponentialLR(initial: 0.2, gamma: 0.9)))
        #expect(try make("cosine") as? CosineAnnealingLR == (try CosineAnnealingLR(initial: 0.2, tMax: 40)))
        let warmup = try #require(try make("{type: warmup, warmup_epochs: 4, start_factor: 0.5}") as? LinearWarmup)
        #expect(warmup == (try LinearWarmup(initial: 0.2, warmupEpochs: 4, startFactor: 0.5)))
        #expect(isClose(warmup.learningRate(atEpoch: 0), 0.1) && isClose(warmup.learningRate(atEpoch: 4), 0.2))
    }

    @Test func aSpecTrainsEndToEnd() throws {
        // The seeds' line fit from a spec, with the spec's loss and optimizer: the loss falls.
        let s = try spec("model: {mlp: {input: 1, hidden: [8], output: 1, activation: tanh}}\ntrain: {optimizer: {type: adam, lr: 0.05}, epochs: 200}")
        let model = try s.makeModel(generator: RandomGenerator(seed: s.train.seed))
        let (train, _) = try s.loadData()
        let optimizer = try s.makeOptimizer(parameters: model.parameters)
        var losses: [Float] = []
        for _ in 0..<s.train.epochs {
            optimizer.zeroGrad()
            let loss = s.train.loss(model(train.features), train)
            loss.backward()
            losses.append(loss.scalar)
            optimizer.step()
        }
        #expect(losses.last! < losses[0] / 10, "losses \(losses[0]) → \(losses.last!)")
    }
}
