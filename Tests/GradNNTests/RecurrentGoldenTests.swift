import Foundation
import Testing
import GradTensor
import GradNN
import GradTestSupport

// Golden values from PyTorch (`Tests/Fixtures/make_rnn_golden.py` writes
// `Tests/Fixtures/rnn_golden.json`): `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU` with two layers,
// batch-first, given weights and initial states, and a time-major LSTM without bias or initial
// state. The output, `h_n`, `c_n`, the loss `Σ output⊙P + Σ h_n⊙Q (+ Σ c_n⊙R)` and its gradients
// with respect to the input, the initial states and every parameter must agree:
// - Double against PyTorch float64: |got − expected| ≤ 1e-12 + 1e-10·|expected|;
// - Float against PyTorch float32 and against float64: ≤ 1e-5 + 1e-5·|expected|.
// Parameter names must be PyTorch's `state_dict` names, in order, and the LSTM's float32
// `state_dict` saved by PyTorch must load as a GradLab checkpoint.

// MARK: - Fixture format

private struct RecurrentGoldenResult: Decodable, Sendable {
    let output: FixtureTensor
    let h_n: FixtureTensor
    let c_n: FixtureTensor?
    let loss: Double
    let input_grad: FixtureTensor
    let h0_grad: FixtureTensor?
    let c0_grad: FixtureTensor?
    let grads: [String: FixtureTensor]
}

private struct RecurrentGoldenCase: Decodable, Sendable {
    let name: String
    let cell: String
    let batch_first: Bool
    let bias: Bool
    let num_layers: Int
    let input_size: Int
    let hidden_size: Int
    let state_dict_names: [String]
    let parameters: [String: FixtureTensor]
    let input: FixtureTensor
    let h0: FixtureTensor?
    let c0: FixtureTensor?
    let output_weights: FixtureTensor
    let hidden_weights: FixtureTensor
    let cell_weights: FixtureTensor?
    let float64: RecurrentGoldenResult
    let float32: RecurrentGoldenResult
    let safetensors_base64: String?
}

private struct RecurrentGolden: Decodable, Sendable {
    let seed: Int
    let cases: [RecurrentGoldenCase]
}

private let recurrentGolden: RecurrentGolden = {
    let url = fixturesDirectory.appendingPathComponent("rnn_golden.json")
    do {
        return try JSONDecoder().decode(RecurrentGolden.self, from: Data(contentsOf: url))
    } catch {
        fatalError("rnn_golden.json: \(error) (regenerate with python3 Tests/Fixtures/make_rnn_golden.py)")
    }
}()

private func goldenCase(_ name: String) -> RecurrentGoldenCase {
    guard let c = recurrentGolden.cases.first(where: { $0.name == name }) else {
        fatalError("rnn_golden.json has no case '\(name)'")
    }
    return c
}

/// The module of a golden case, with the fixture's weights.
private func makeModule<S: TensorScalar>(_ c: RecurrentGoldenCase, _: S.Type = S.self) -> any RecurrentModule<S> {
    let g = RandomGenerator(seed: 1)
    let module: any RecurrentModule<S>
    switch c.cell {
    case "lstm": module = LSTM<S>(c.input_size, c.hidden_size, numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, generator: g)
    case "gru": module = GRU<S>(c.input_size, c.hidden_size, numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, generator: g)
    default: module = RNN<S>(c.input_size, c.hidden_size, numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, generator: g)
    }
    for (name, parameter) in module.namedParameters { parameter.assign(c.parameters[name]!.tensor(S.self)) }
    return module
}

// MARK: - Comparison

private struct GoldenTolerance {
    let rtol: Double
    let atol: Double
    static let double = GoldenTolerance(rtol: 1e-10, atol: 1e-12)
    static let float = GoldenTolerance(rtol: 1e-5, atol: 1e-5)
}

private func compare<S: TensorScalar>(
    _ got: Tensor<S>?, _ expected: FixtureTensor, _ label: String, _ tolerance: GoldenTolerance,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let got else {
        Issue.record("\(label): no value (expected shape \(expected.shape))", sourceLocation: sourceLocation)
        return
    }
    let problem = mismatch(got.converted(to: Double.self), expected.tensor(Double.self), rtol: tolerance.rtol, atol: tolerance.atol)
    #expect(problem == nil, "\(label): \(problem ?? "")", sourceLocation: sourceLocation)
}

/// The precisions each case runs in.
enum RecurrentGoldenPrecision: String, CaseIterable, Sendable {
    case double, float
}

// MARK: - Tests

@Suite struct RecurrentGoldenTests {
    static let caseNames = ["rnn_tanh", "lstm", "gru", "lstm_time_major_no_bias"]

    @Test func fixtureHasTheExpectedCases() {
        #expect(recurrentGolden.cases.map(\.name) == Self.caseNames)
        #expect(recurrentGolden.cases.allSatisfy { $0.num_layers == 2 })
        #expect(goldenCase("lstm").batch_first && goldenCase("gru").batch_first && goldenCase("rnn_tanh").batch_first)
    }

    @Test(arguments: caseNames)
    func parameterNamesAreTheStateDictNames(_ name: String) {
        let c = goldenCase(name)
        let module = makeModule(c, Float.self)
        #expect(module.namedParameters.map(\.0) == c.state_dict_names)
        for (parameterName, parameter) in module.namedParameters {
            #expect(parameter.shape == c.parameters[parameterName]!.shape, "\(name) \(parameterName)")
        }
    }

    @Test(arguments: caseNames, RecurrentGoldenPrecision.allCases)
    func matchesPyTorch(_ name: String, _ precision: RecurrentGoldenPrecision) {
        let c = goldenCase(name)
        switch precision {
        case .double:
            check(Double.self, c, c.float64, "\(name) float64", .double)
        case .float:
            check(Float.self, c, c.float32, "\(name) float32", .float)
            check(Float.self, c, c.float64, "\(name) float32 against float64", .float)
        }
    }

    private func check<S: TensorScalar>(
        _: S.Type, _ c: RecurrentGoldenCase, _ expected: RecurrentGoldenResult, _ label: String, _ tolerance: GoldenTolerance
    ) {
        let module = makeModule(c, S.self)
        var x = c.input.tensor(S.self)
        x.requiresGrad = true
        var state: RecurrentState<S>? = nil
        var h0: Tensor<S>? = nil, c0: Tensor<S>? = nil
        if let spec = c.h0 {
            var h = spec.tensor(S.self)
            h.requiresGrad = true
            h0 = h
            if let cellSpec = c.c0 {
                var cs = cellSpec.tensor(S.self)
                cs.requiresGrad = true
                c0 = cs
            }
            state = RecurrentState(hidden: h, cell: c0)
        }
        let (output, final) = module.run(x, initialState: state)
        var loss = (output * c.output_weights.tensor(S.self)).sum() + (final.hidden * c.hidden_weights.tensor(S.self)).sum()
        if let cellWeights = c.cell_weights {
            guard let cell = final.cell else {
                Issue.record("\(label): no final cell state")
                return
            }
            loss = loss + (cell * cellWeights.tensor(S.self)).sum()
        } else {
            #expect(final.cell == nil, "\(label): unexpected cell state")
        }
        loss.backward()
        compare(output, expected.output, "\(label) output", tolerance)
        compare(final.hidden, expected.h_n, "\(label) h_n", tolerance)
        if let cn = expected.c_n { compare(final.cell, cn, "\(label) c_n", tolerance) }
        #expect(isClose(Double(loss.scalar), expected.loss, rtol: tolerance.rtol, atol: tolerance.atol * 10),
                "\(label) loss: \(loss.scalar) ≠ expected \(expected.loss)")
        compare(x.grad, expected.input_grad, "\(label) input gradient", tolerance)
        if let g = expected.h0_grad { compare(h0?.grad, g, "\(label) h0 gradient", tolerance) }
        if let g = expected.c0_grad { compare(c0?.grad, g, "\(label) c0 gradient", tolerance) }
        #expect(module.namedParameters.count == expected.grads.count)
        for (name, parameter) in module.namedParameters {
            guard let want = expected.grads[name] else {
                Issue.record("\(label): PyTorch has no gradient for \(name)")
                continue
            }
            compare(parameter.grad, want, "\(label) \(name) gradient", tolerance)
        }
    }

    @Test func withoutRecordingGivesTheSameOutput() {
        let c = goldenCase("gru")
        let module = makeModule(c, Double.self)
        let state = RecurrentState(hidden: c.h0!.tensor(Double.self))
        let (output, final) = withoutGradient { module.run(c.input.tensor(Double.self), initialState: state) }
        #expect(!output.requiresGrad && !final.hidden.requiresGrad)
        compare(output, c.float64.output, "gru without recording output", .double)
        compare(final.hidden, c.float64.h_n, "gru without recording h_n", .double)
    }

    @Test func pyTorchStateDictLoadsAsACheckpoint() throws {
        let c = goldenCase("lstm")
        let encoded = try #require(c.safetensors_base64)
        let data = try #require(Data(base64Encoded: encoded))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-rnn-\(UUID().uuidString).safetensors")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let module = LSTM<Float>(c.input_size, c.hidden_size, numLayers: c.num_layers, batchFirst: true, generator: RandomGenerator(seed: 99))
        let keys = try loadCheckpoint(into: module, from: url)
        #expect(keys.missingKeys.isEmpty && keys.unexpectedKeys.isEmpty)
        for (name, parameter) in module.namedParameters {
            compare(parameter.value, c.parameters[name]!, "loaded \(name)", GoldenTolerance(rtol: 0, atol: 1e-7))
        }
        // And it computes PyTorch's float32 output.
        let state = RecurrentState(hidden: c.h0!.tensor(Float.self), cell: c.c0!.tensor(Float.self))
        let (output, _) = withoutGradient { module.run(c.input.tensor(Float.self), initialState: state) }
        compare(output, c.float32.output, "loaded LSTM output", .float)
    }
}
