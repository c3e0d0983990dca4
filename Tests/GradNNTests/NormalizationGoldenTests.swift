import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Golden values from PyTorch (`Tests/Fixtures/make_norm_golden.py` writes
// `Tests/Fixtures/norm_golden.json`): `nn.BatchNorm1d` in training and evaluation mode (running
// statistics after two batches included), `nn.LayerNorm`, and a residual MLP with a
// post-activation block (batch norm, ReLU) and a ReZero block with a projection. Outputs,
// losses, input gradients and every parameter gradient must agree:
// - Double against PyTorch float64: |got − expected| ≤ 1e-12 + 1e-10·|expected|;
// - Float against PyTorch float32 (same values rounded to Float) and against float64:
//   ≤ 1e-6 + 1e-5·|expected| (the script's float32 results lie within a tenth of that of its
//   float64 ones, so the comparison is not with rounding noise).

// MARK: - Fixture format

private struct BatchNormResult: Decodable, Sendable {
    let output: FixtureTensor
    let loss: Double
    let input_grad: FixtureTensor
    let grads: [String: FixtureTensor]?
    let after_one: [String: FixtureTensor]
    let running_mean: FixtureTensor
    let running_var: FixtureTensor
    let num_batches_tracked: Int
    let eval_output: FixtureTensor
    let eval_input_grad: FixtureTensor
    let eval_grads: [String: FixtureTensor]?
}

private struct BatchNormCase: Decodable, Sendable {
    let name: String
    let shape: [Int]
    let affine: Bool
    let momentum: Double?
    let eps: Double
    let parameters: [String: FixtureTensor]
    let inputs: [FixtureTensor]
    let projection: FixtureTensor
    let eval_projection: FixtureTensor
    let float64: BatchNormResult
    let float32: BatchNormResult
}

private struct LayerNormResult: Decodable, Sendable {
    let output: FixtureTensor
    let loss: Double
    let input_grad: FixtureTensor
    let grads: [String: FixtureTensor]
}

private struct LayerNormCase: Decodable, Sendable {
    let name: String
    let shape: [Int]
    let normalized_shape: [Int]
    let eps: Double
    let parameters: [String: FixtureTensor]
    let input: FixtureTensor
    let projection: FixtureTensor
    let float64: LayerNormResult
    let float32: LayerNormResult
}

private struct ResidualResult: Decodable, Sendable {
    let output: FixtureTensor
    let loss: Double
    let input_grad: FixtureTensor
    let grads: [String: FixtureTensor]
    let buffers: [String: FixtureTensor]
    let eval_output: FixtureTensor
}

private struct ResidualCase: Decodable, Sendable {
    let parameters: [String: FixtureTensor]
    let parameter_names: [String]
    let buffer_names: [String]
    let state_dict_names: [String]
    let inputs: [FixtureTensor]
    let targets: FixtureTensor
    let float64: ResidualResult
    let float32: ResidualResult
}

struct NormCheckpointCase: Decodable, Sendable {
    let safetensors_base64: String
    let inputs: [[Double]]
    let outputs: FixtureTensor
    let state_dict_names: [String]
    let num_batches_tracked: Int
    let running_mean: FixtureTensor
    let running_var: FixtureTensor
}

private struct NormGolden: Decodable, Sendable {
    let seed: Int
    let batch_norm: [BatchNormCase]
    let layer_norm: [LayerNormCase]
    let residual: ResidualCase
    let checkpoint: NormCheckpointCase
}

private let golden: NormGolden = {
    let url = fixturesDirectory.appendingPathComponent("norm_golden.json")
    do {
        return try JSONDecoder().decode(NormGolden.self, from: Data(contentsOf: url))
    } catch {
        fatalError("norm_golden.json: \(error) (regenerate with python3 Tests/Fixtures/make_norm_golden.py)")
    }
}()

/// The checkpoint case of the golden file (for the checkpoint tests).
func normCheckpointGolden() -> NormCheckpointCase { golden.checkpoint }

// MARK: - Comparison

private struct Tolerance {
    let rtol: Double
    let atol: Double
    static let double = Tolerance(rtol: 1e-10, atol: 1e-12)
    static let float = Tolerance(rtol: 1e-5, atol: 1e-6)
}

private func compare<S: TensorScalar>(
    _ got: Tensor<S>?, _ expected: FixtureTensor, _ label: String, _ tolerance: Tolerance,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let got else {
        Issue.record("\(label): no value (expected shape \(expected.shape))", sourceLocation: sourceLocation)
        return
    }
    let problem = mismatch(got.converted(to: Double.self), expected.tensor(Double.self),
                           rtol: tolerance.rtol, atol: tolerance.atol)
    #expect(problem == nil, "\(label): \(problem ?? "")", sourceLocation: sourceLocation)
}

private func compare(_ got: Double, _ expected: Double, _ label: String, _ tolerance: Tolerance,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(isClose(got, expected, rtol: tolerance.rtol, atol: tolerance.atol),
            "\(label): \(got) ≠ expected \(expected)", sourceLocation: sourceLocation)
}

/// The runs each case makes: Double against float64, Float against float32 and against float64.
enum NormGoldenPrecision: String, CaseIterable, Sendable {
    case double, float
}

// MARK: - Tests

@Suite struct NormalizationGoldenTests {
    @Test func fixtureHasTheExpectedCases() {
        #expect(golden.batch_norm.map(\.name) == ["2d", "3d", "2d_cumulative_no_affine"])
        #expect(golden.layer_norm.map(\.name) == ["last_axis", "last_two_axes"])
        #expect(golden.batch_norm.allSatisfy { $0.float64.num_batches_tracked == 2 })
    }

    @Test(arguments: NormGoldenPrecision.allCases)
    func batchNormMatchesPyTorch(_ precision: NormGoldenPrecision) {
        for c in golden.batch_norm {
            switch precision {
            case .double: batchNormCase(Double.self, c, c.float64, "\(c.name) float64", .double)
            case .float:
                batchNormCase(Float.self, c, c.float32, "\(c.name) float32", .float)
                batchNormCase(Float.self, c, c.float64, "\(c.name) float32 against float64", .float)
            }
        }
    }

    private func batchNormCase<S: TensorScalar>(
        _: S.Type, _ c: BatchNormCase, _ expected: BatchNormResult, _ label: String, _ tolerance: Tolerance
    ) {
        let bn = BatchNorm1d<S>(numFeatures: c.shape[1], eps: c.eps, momentum: c.momentum, affine: c.affine)
        for (name, parameter) in bn.namedParameters { parameter.assign(c.parameters[name]!.tensor(S.self)) }
        var x = c.inputs[0].tensor(S.self)
        x.requiresGrad = true
        let y = bn(x)
        let loss = (y * c.projection.tensor(S.self)).sum()
        loss.backward()
        compare(y, expected.output, "\(label) output", tolerance)
        compare(Double(loss.scalar), expected.loss, "\(label) loss", tolerance)
        compare(x.grad, expected.input_grad, "\(label) input gradient", tolerance)
        for (name, parameter) in bn.namedParameters {
            compare(parameter.grad, expected.grads![name]!, "\(label) \(name) gradient", tolerance)
        }
        compare(bn.runningMean, expected.after_one["running_mean"]!, "\(label) running_mean after 1", tolerance)
        compare(bn.runningVar, expected.after_one["running_var"]!, "\(label) running_var after 1", tolerance)
        _ = withoutGradient { bn(c.inputs[1].tensor(S.self)) }
        compare(bn.runningMean, expected.running_mean, "\(label) running_mean after 2", tolerance)
        compare(bn.runningVar, expected.running_var, "\(label) running_var after 2", tolerance)
        #expect(bn.numBatchesTracked == expected.num_batches_tracked)

        bn.eval()
        bn.zeroGrad()
        var x3 = c.inputs[2].tensor(S.self)
        x3.requiresGrad = true
        let y3 = bn(x3)
        (y3 * c.eval_projection.tensor(S.self)).sum().backward()
        compare(y3, expected.eval_output, "\(label) eval output", tolerance)
        compare(x3.grad, expected.eval_input_grad, "\(label) eval input gradient", tolerance)
        for (name, parameter) in bn.namedParameters {
            compare(parameter.grad, expected.eval_grads![name]!, "\(label) eval \(name) gradient", tolerance)
        }
        // Evaluation leaves the running statistics alone.
        #expect(bn.numBatchesTracked == expected.num_batches_tracked)
        compare(bn.runningMean, expected.running_mean, "\(label) running_mean after eval", tolerance)
    }

    @Test(arguments: NormGoldenPrecision.allCases)
    func layerNormMatchesPyTorch(_ precision: NormGoldenPrecision) {
        for c in golden.layer_norm {
            switch precision {
            case .double: layerNormCase(Double.self, c, c.float64, "\(c.name) float64", .double)
            case .float:
                layerNormCase(Float.self, c, c.float32, "\(c.name) float32", .float)
                layerNormCase(Float.self, c, c.float64, "\(c.name) float32 against float64", .float)
            }
        }
    }

    private func layerNormCase<S: TensorScalar>(
        _: S.Type, _ c: LayerNormCase, _ expected: LayerNormResult, _ label: String, _ tolerance: Tolerance
    ) {
        let ln = LayerNorm<S>(normalizedShape: c.normalized_shape, eps: c.eps)
        for (name, parameter) in ln.namedParameters { parameter.assign(c.parameters[name]!.tensor(S.self)) }
        var x = c.input.tensor(S.self)
        x.requiresGrad = true
        let y = ln(x)
        let loss = (y * c.projection.tensor(S.self)).sum()
        loss.backward()
        compare(y, expected.output, "\(label) output", tolerance)
        compare(Double(loss.scalar), expected.loss, "\(label) loss", tolerance)
        compare(x.grad, expected.input_grad, "\(label) input gradient", tolerance)
        for (name, parameter) in ln.namedParameters {
            compare(parameter.grad, expected.grads[name]!, "\(label) \(name) gradient", tolerance)
        }
    }

    /// The network of the fixture's `residual` case, built from GradNN's blocks.
    static func residualNet<S: TensorScalar>(_: S.Type) -> Sequential<S> {
        let g = RandomGenerator(seed: 1)
        return Sequential<S>(
            Linear(3, 6, generator: g), Tanh(),
            Residual.block(inFeatures: 6, activation: .relu, variant: .postActivation, batchNorm: true, generator: g),
            Residual(Sequential<S>(Linear(6, 4, generator: g), Tanh()), projection: Linear(6, 4, bias: false, generator: g),
                     scaling: .learnable(initialValue: 0.7)),
            Linear(4, 2, generator: g))
    }

    @Test func residualNamesAreTorchStateDictNames() {
        let net = Self.residualNet(Double.self)
        #expect(net.namedParameters.map(\.0) == golden.residual.parameter_names)
        #expect(net.namedBuffers.map(\.0) == golden.residual.buffer_names)
        #expect(Set(net.namedParameters.map(\.0) + net.namedBuffers.map(\.0)) == Set(golden.residual.state_dict_names))
    }

    @Test(arguments: NormGoldenPrecision.allCases)
    func residualMLPMatchesPyTorch(_ precision: NormGoldenPrecision) {
        let c = golden.residual
        switch precision {
        case .double: residualCase(Double.self, c, c.float64, "residual float64", .double)
        case .float:
            residualCase(Float.self, c, c.float32, "residual float32", .float)
            residualCase(Float.self, c, c.float64, "residual float32 against float64", .float)
        }
    }

    private func residualCase<S: TensorScalar>(
        _: S.Type, _ c: ResidualCase, _ expected: ResidualResult, _ label: String, _ tolerance: Tolerance
    ) {
        let net = Self.residualNet(S.self)
        for (name, parameter) in net.namedParameters { parameter.assign(c.parameters[name]!.tensor(S.self)) }
        var x = c.inputs[0].tensor(S.self)
        x.requiresGrad = true
        let y = net(x)
        let loss = meanSquaredError(predictions: y, targets: c.targets.tensor(S.self))
        loss.backward()
        compare(y, expected.output, "\(label) output", tolerance)
        compare(Double(loss.scalar), expected.loss, "\(label) loss", tolerance)
        compare(x.grad, expected.input_grad, "\(label) input gradient", tolerance)
        #expect(Set(expected.grads.keys) == Set(net.namedParameters.map(\.0)))
        for (name, parameter) in net.namedParameters {
            compare(parameter.grad, expected.grads[name]!, "\(label) \(name) gradient", tolerance)
        }
        _ = withoutGradient { net(c.inputs[1].tensor(S.self)) }
        let buffers = Dictionary(uniqueKeysWithValues: net.namedBuffers)
        #expect(Set(expected.buffers.keys) == Set(buffers.keys.filter { !$0.hasSuffix("num_batches_tracked") }))
        for (name, value) in expected.buffers { compare(buffers[name], value, "\(label) buffer \(name)", tolerance) }
        #expect(buffers["2.body.1.num_batches_tracked"]?.scalar == 2)
        net.eval()
        compare(withoutGradient { net(c.inputs[2].tensor(S.self)) }, expected.eval_output, "\(label) eval output", tolerance)
    }
}
