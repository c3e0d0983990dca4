import Foundation
import GradDoctor
import GradNN
import GradTensor
import GradTestSupport
import Testing

/// (2k − 1)!! = E[z^(2k)] for z ~ N(0, 1).
private func doubleFactorial(_ n: Int) -> Double {
    stride(from: n, to: 0, by: -2).reduce(1.0) { $0 * Double($1) }
}

@Suite struct GaussianQuadratureTests {
    @Test(arguments: [1, 2, 5, 20, 64, 100])
    func gaussHermiteIsExactOnPolynomialsUpToDegree2nMinus1(pointCount: Int) {
        let rule = GaussHermiteRule(pointCount: pointCount)
        #expect(rule.nodes.count == pointCount)
        #expect(isClose(rule.weights.reduce(0, +), 1, rtol: 1e-13))
        #expect(rule.weights.allSatisfy { $0 > 0 })
        #expect(zip(rule.nodes, rule.nodes.reversed()).allSatisfy { Swift.abs($0 + $1) < 1e-12 }, "nodes not symmetric")
        // Degrees beyond ~40 lose digits to the size of the moments, not to the rule.
        for degree in 0...Swift.min(2 * pointCount - 1, 40) {
            let moment = rule.expectation { Foundation.pow($0, Double(degree)) }
            let exact = degree % 2 == 1 ? 0 : doubleFactorial(degree - 1)
            #expect(isClose(moment, exact, rtol: 1e-11, atol: 1e-11 * doubleFactorial(degree)),
                    "E[z^\(degree)] with \(pointCount) nodes: \(moment) ≠ \(exact)")
        }
    }

    @Test func gaussHermiteIsNotExactBeyondDegree2nMinus1() {
        // With 5 nodes, z^10 is the first even power the rule gets wrong (945 exactly).
        let rule = GaussHermiteRule(pointCount: 5)
        #expect(isClose(rule.expectation { Foundation.pow($0, 8) }, 105, rtol: 1e-12))
        #expect(!isClose(rule.expectation { Foundation.pow($0, 10) }, 945, rtol: 1e-3))
    }

    @Test func gaussHermiteScalesToAVariance() {
        let rule = GaussHermiteRule(pointCount: 40)
        // E[x²] = v, E[x⁴] = 3v², E[cos x] = e^(−v/2).
        #expect(isClose(rule.expectation(variance: 0.7) { $0 * $0 }, 0.7, rtol: 1e-13))
        #expect(isClose(rule.expectation(variance: 0.7) { $0 * $0 * $0 * $0 }, 3 * 0.49, rtol: 1e-13))
        #expect(isClose(rule.expectation(variance: 0.5) { Foundation.cos($0) }, Foundation.exp(-0.25), rtol: 1e-13))
    }

    @Test(arguments: [1, 3, 10, 20])
    func gaussLegendreIsExactOnPolynomials(pointCount: Int) {
        let rule = GaussLegendreRule(pointCount: pointCount)
        #expect(isClose(rule.weights.reduce(0, +), 2, rtol: 1e-14))
        for degree in 0...(2 * pointCount - 1) {
            let integral = rule.integral(from: -1, to: 2) { Foundation.pow($0, Double(degree)) }
            let exact = (Foundation.pow(2, Double(degree + 1)) - Foundation.pow(-1, Double(degree + 1))) / Double(degree + 1)
            #expect(isClose(integral, exact, rtol: 1e-12), "∫x^\(degree) with \(pointCount) nodes: \(integral) ≠ \(exact)")
        }
    }

    @Test(arguments: [1e-6, 0.01, 0.3, 1.0, 9.0, 100.0, 1e6])
    func compositeRuleMatchesClosedFormsAcrossKinks(variance: Double) {
        let expectation = GaussianExpectation.standard
        // E[max(x, 0)²] = v/2; P(|x| < 1) = erf(1/√(2v)); E[e^(x/√v)] = e^(1/2); E[|x|] = √(2v/π).
        let reluSquare = expectation.expectation(variance: variance, breakpoints: [0]) { $0 > 0 ? $0 * $0 : 0 }
        #expect(isClose(reluSquare, variance / 2, rtol: 1e-12))
        let inside = expectation.expectation(variance: variance, breakpoints: [-1, 1]) { Swift.abs($0) < 1 ? 1 : 0 }
        #expect(isClose(inside, Foundation.erf(1 / (2 * variance).squareRoot()), rtol: 1e-12, atol: 1e-15))
        let exponential = expectation.expectation(variance: variance, breakpoints: [0]) { Foundation.exp($0 / variance.squareRoot()) }
        #expect(isClose(exponential, Foundation.exp(0.5), rtol: 1e-12))
        let absolute = expectation.expectation(variance: variance, breakpoints: [0]) { Swift.abs($0) }
        #expect(isClose(absolute, (2 * variance / Double.pi).squareRoot(), rtol: 1e-12))
    }

    @Test(arguments: [0.05, 0.5, 1.0])
    func hermiteAndCompositeRulesAgreeOnSmoothFunctions(variance: Double) {
        let composite = GaussianExpectation(hermiteVarianceLimit: 0)
        let function: (Double) -> Double = { let t = Foundation.tanh($0); return (1 - t * t) * (1 - t * t) }
        let byHermite = GaussianExpectation.standard.expectation(variance: variance, function)
        let byLegendre = composite.expectation(variance: variance, function)
        #expect(isClose(byHermite, byLegendre, rtol: 1e-9), "\(byHermite) vs \(byLegendre)")
    }
}

@Suite struct MeanFieldTheoryTests {
    @Test(arguments: [0.5, 1.0, 1.3, 1.5, 2.0, 3.0])
    func reluHasChi1SigmaWSquaredOverTwo(sigmaW: Double) throws {
        for sigmaB in [0.0, 0.3] {
            let prediction = try MeanFieldTheory.predict(activation: .relu, sigmaW: sigmaW, sigmaB: sigmaB, depth: 12)
            #expect(isClose(prediction.chi1, sigmaW * sigmaW / 2, rtol: 1e-12), "σ_w \(sigmaW) σ_b \(sigmaB): χ₁ \(prediction.chi1)")
            #expect(isClose(prediction.perLayerGradientFactor, sigmaW / 2.0.squareRoot(), rtol: 1e-12))
            #expect(isClose(prediction.gradientRatio, Foundation.pow(sigmaW * sigmaW / 2, 5.5), rtol: 1e-10))
            if sigmaW * sigmaW < 2 {
                // q* = σ_b² / (1 − σ_w²/2): 0 without bias.
                let expected = sigmaB * sigmaB / (1 - sigmaW * sigmaW / 2)
                #expect(!prediction.lengthDiverges)
                #expect(isClose(prediction.qStar ?? .nan, expected, rtol: 1e-12, atol: 1e-300))
                #expect(prediction.phase == .ordered)
                #expect(isClose(prediction.chiQ ?? .nan, sigmaW * sigmaW / 2, rtol: 1e-10))
                #expect(prediction.cStar == 1)
            } else {
                // No finite fixed point: the length grows by σ_w²/2 per layer.
                #expect(prediction.lengthDiverges)
                #expect(prediction.qStar == nil)
                #expect(prediction.depthScaleC == nil)
                #expect(prediction.phase == .chaotic)
            }
        }
    }

    @Test func reluIsCriticalAtHeInitialization() throws {
        let critical = try #require(try MeanFieldTheory.criticalSigmaW(activation: .relu, sigmaB: 0.2))
        #expect(isClose(critical, 2.0.squareRoot(), rtol: 1e-10))
        let atHe = try MeanFieldTheory.predict(activation: .relu, sigmaW: 2.0.squareRoot(), sigmaB: 0)
        #expect(atHe.phase == .critical)
        #expect(isClose(atHe.chi1, 1, rtol: 1e-12))
        // Every length is a fixed point: q* is the input's.
        #expect(isClose(atHe.qStar ?? .nan, 1, rtol: 1e-12))
        #expect(atHe.depthScaleC.map { $0 > 1e10 } == true, "ξ_c \(String(describing: atHe.depthScaleC))")
    }

    @Test(arguments: [0.3, 0.5, 0.8, 0.95, 1.0])
    func tanhWithoutBiasIsOrderedWithQStarZeroAndChi1SigmaWSquared(sigmaW: Double) throws {
        let prediction = try MeanFieldTheory.predict(activation: .tanh, sigmaW: sigmaW, sigmaB: 0, depth: 5)
        #expect(prediction.qStar == 0)
        #expect(isClose(prediction.chi1, sigmaW * sigmaW, rtol: 1e-12))
        #expect(isClose(prediction.chiQ ?? .nan, sigmaW * sigmaW, rtol: 1e-9))
        #expect(prediction.phase == (sigmaW < 1 ? .ordered : .critical))
        if sigmaW < 1 {
            #expect(isClose(prediction.depthScaleC ?? .nan, -1 / Foundation.log(sigmaW * sigmaW), rtol: 1e-10))
        }
    }

    @Test func tanhEdgeOfChaosWithoutBiasIsSigmaWOne() throws {
        let critical = try #require(try MeanFieldTheory.criticalSigmaW(activation: .tanh, sigmaB: 0))
        #expect(isClose(critical, 1, rtol: 1e-9))
        // With a bias the transition moves to larger σ_w.
        let withBias = try #require(try MeanFieldTheory.criticalSigmaW(activation: .tanh, sigmaB: 0.3))
        #expect(withBias > 1.05)
        let there = try MeanFieldTheory.predict(activation: .tanh, sigmaW: withBias, sigmaB: 0.3)
        #expect(isClose(there.chi1, 1, rtol: 1e-9))
        #expect(there.phase == .critical)
    }

    @Test func tanhChaoticWithoutBiasHasCStarZero() throws {
        // An odd φ with σ_b = 0 maps uncorrelated inputs to uncorrelated outputs: c* = 0.
        let prediction = try MeanFieldTheory.predict(activation: .tanh, sigmaW: 2, sigmaB: 0)
        #expect(prediction.phase == .chaotic)
        #expect((prediction.qStar ?? 0) > 0.5)
        #expect(Swift.abs(prediction.cStar ?? .nan) < 1e-9)
        let chiC = try #require(prediction.chiC)
        #expect(chiC < 1, "c* must be stable")
        #expect((prediction.depthScaleC ?? 0) > 0)
    }

    @Test(arguments: Activation.allCases)
    func theFixedPointIsAFixedPointOfTheLengthMap(activation: Activation) throws {
        let sigmaW = 1.2, sigmaB = 0.2
        let limit = try MeanFieldTheory.lengthLimit(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB)
        guard case .fixedPoint(let q) = limit else {
            // Only linear grows at σ_w = 1.2 (σ_w² > 1); the ReLU family needs σ_w² > 2.
            #expect([Activation.linear].contains(activation), "\(activation) diverged")
            return
        }
        let mapped = MeanFieldTheory.lengthMap(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, length: q)
        #expect(isClose(mapped, q, rtol: 1e-12), "\(activation): L(q*) = \(mapped), q* = \(q)")
        // Plain iteration of the map from q⁰ = 1 lands on the same point.
        var iterate = 1.0
        for _ in 0..<300 { iterate = MeanFieldTheory.lengthMap(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, length: iterate) }
        #expect(isClose(iterate, q, rtol: 1e-9), "\(activation): iterated \(iterate), bracketed \(q)")
        // χ_q is the slope of the map there (by Stein's lemma, without φ'').
        let prediction = try MeanFieldTheory.predict(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB)
        let epsilon = 1e-5 * q
        let slope = (MeanFieldTheory.lengthMap(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, length: q + epsilon)
            - MeanFieldTheory.lengthMap(activation: activation, sigmaW: sigmaW, sigmaB: sigmaB, length: q - epsilon)) / (2 * epsilon)
        #expect(isClose(prediction.chiQ ?? .nan, slope, rtol: 1e-6), "\(activation): χ_q \(String(describing: prediction.chiQ)) vs slope \(slope)")
    }

    @Test(arguments: Activation.allCases)
    func theTheoryUsesTheSameFunctionsAsTheLayers(activation: Activation) {
        // E[φ(x)²] and E[φ'(x)²] from the network's own layer and autodiff, against the theory's.
        let layer = activation.makeLayer(Double.self)
        let expectation = GaussianExpectation(hermiteVarianceLimit: 0)
        for variance in [0.3, 4.0] {
            let breakpoints: [Double] = [-1, 0, 1, 20]
            let valueSquared = expectation.expectation(variance: variance, breakpoints: breakpoints) { x in
                let y = withoutGradient { layer(Tensor([x])).scalars[0] }
                return y * y
            }
            let derivativeSquared = expectation.expectation(variance: variance, breakpoints: breakpoints) { x in
                var input = Tensor([x])
                input.requiresGrad = true
                layer(input).sum().backward()
                let d = input.grad?.scalars[0] ?? 0
                return d * d
            }
            let theoryValue = MeanFieldTheory.lengthMap(activation: activation, sigmaW: 1, sigmaB: 0, length: variance)
            let theoryDerivative = MeanFieldTheory.gradientGain(activation: activation, sigmaW: 1, length: variance)
            #expect(isClose(theoryValue, valueSquared, rtol: 1e-9), "\(activation) E[φ²] at q = \(variance)")
            #expect(isClose(theoryDerivative, derivativeSquared, rtol: 1e-9), "\(activation) E[φ'²] at q = \(variance)")
        }
    }

    @Test(arguments: Activation.allCases)
    func theEdgeOfChaosSeparatesOrderFromChaos(activation: Activation) throws {
        let sigmaB = 0.1
        let edge = try #require(try MeanFieldTheory.edgeOfChaos(activation: activation, sigmaB: sigmaB), "\(activation) has none")
        #expect(edge.chi1Below < 1 && edge.chi1Above >= 1, "\(activation): \(edge)")
        let at = try MeanFieldTheory.predict(activation: activation, sigmaW: edge.sigmaW, sigmaB: sigmaB)
        #expect(at.criticalSigmaW == edge.sigmaW)
        #expect(at.edgeOfChaos == edge)
        if edge.isContinuous {
            #expect(isClose(at.chi1, 1, rtol: 1e-5), "\(activation) at σ_w \(edge.sigmaW): χ₁ \(at.chi1)")
            #expect(at.phase == .critical)
        } else {
            // Slope ½ at 0: a small stable length until it vanishes, then divergence (see EdgeOfChaos).
            #expect([Activation.gelu, .silu].contains(activation), "\(activation) jumps: \(edge)")
            let below = try MeanFieldTheory.predict(activation: activation, sigmaW: edge.sigmaW * (1 - 1e-9), sigmaB: sigmaB)
            let above = try MeanFieldTheory.predict(activation: activation, sigmaW: edge.sigmaW * (1 + 1e-9), sigmaB: sigmaB)
            #expect(!below.lengthDiverges && above.lengthDiverges)
            #expect((below.qStar ?? 1) < 0.1, "the small fixed point: \(String(describing: below.qStar))")
        }
        // Below it gradients vanish, above they explode.
        #expect(try MeanFieldTheory.predict(activation: activation, sigmaW: edge.sigmaW * 0.8, sigmaB: sigmaB).phase == .ordered)
        #expect(try MeanFieldTheory.predict(activation: activation, sigmaW: edge.sigmaW * 1.25, sigmaB: sigmaB).phase == .chaotic)
    }

    @Test func edgeOfChaosClosedForms() throws {
        #expect(isClose(try MeanFieldTheory.criticalSigmaW(activation: .linear) ?? .nan, 1, rtol: 1e-10))
        #expect(isClose(try MeanFieldTheory.criticalSigmaW(activation: .leakyRelu) ?? .nan, (2 / 1.0001).squareRoot(), rtol: 1e-10))
        #expect(isClose(try MeanFieldTheory.criticalSigmaW(activation: .prelu) ?? .nan, (2 / 1.0625).squareRoot(), rtol: 1e-10))
        #expect(isClose(try MeanFieldTheory.criticalSigmaW(activation: .hardtanh) ?? .nan, 1, rtol: 1e-10))
        #expect(try MeanFieldTheory.edgeOfChaos(activation: .relu)?.isContinuous == true)
    }

    @Test func edgeOfChaosIsWhereChi1CrossesOne() throws {
        // Brent's method ends on a bracket: χ₁ below 1 on one side, at or above it on the other,
        // and χ₁ computed afresh at the reported σ_w is 1.
        for sigmaB in [0.0, 0.3, 1.0] {
            let edge = try #require(try MeanFieldTheory.edgeOfChaos(activation: .tanh, sigmaB: sigmaB))
            #expect(edge.chi1Below < 1 && edge.chi1Above >= 1, "σ_b \(sigmaB): \(edge)")
            guard case .fixedPoint(let q) = try MeanFieldTheory.lengthLimit(activation: .tanh, sigmaW: edge.sigmaW, sigmaB: sigmaB),
                  q > 0 else { continue }
            let chi1 = MeanFieldTheory.gradientGain(activation: .tanh, sigmaW: edge.sigmaW, length: q)
            #expect(isClose(chi1, 1, rtol: 1e-9), "σ_b \(sigmaB): χ₁ = \(chi1) at σ_w = \(edge.sigmaW)")
        }
        #expect(isClose(try MeanFieldTheory.criticalSigmaW(activation: .tanh) ?? .nan, 1, rtol: 1e-10))
    }

    @Test func correlationDepthScaleDivergesAtTheEdgeOfChaos() throws {
        let sigmaB = 0.3
        let critical = try #require(try MeanFieldTheory.criticalSigmaW(activation: .tanh, sigmaB: sigmaB))
        let far = try MeanFieldTheory.predict(activation: .tanh, sigmaW: critical * 2, sigmaB: sigmaB)
        let nearBelow = try MeanFieldTheory.predict(activation: .tanh, sigmaW: critical * 0.98, sigmaB: sigmaB)
        let nearAbove = try MeanFieldTheory.predict(activation: .tanh, sigmaW: critical * 1.02, sigmaB: sigmaB)
        let xiFar = try #require(far.depthScaleC), xiBelow = try #require(nearBelow.depthScaleC), xiAbove = try #require(nearAbove.depthScaleC)
        #expect(xiBelow > 5 * xiFar && xiAbove > 5 * xiFar, "ξ_c far \(xiFar), near \(xiBelow) / \(xiAbove)")
        // In the chaotic phase c* < 1 and it is a stable fixed point.
        #expect((far.cStar ?? 1) < 0.9)
        #expect((far.chiC ?? 2) < 1)
        // ξ_q stays finite at criticality (Schoenholz et al.: only ξ_c diverges).
        #expect((nearAbove.depthScaleQ ?? .infinity) < 10)
    }

    @Test func chaoticCStarMatchesTheCorrelationOfAWideRandomNetwork() throws {
        // Two uncorrelated inputs through 30 wide tanh layers: their pre-activations'
        // correlation settles at c* (averaged over the last 15 layers and 8 pairs).
        let sigmaW = 2.5, sigmaB = 0.3, width = 512, depth = 30, pairs = 8
        let prediction = try MeanFieldTheory.predict(activation: .tanh, sigmaW: sigmaW, sigmaB: sigmaB)
        let cStar = try #require(prediction.cStar)
        let generator = RandomGenerator(seed: 7)
        func normal(_ count: Int, std: Double) -> [Double] { (0..<count).map { _ in std * generator.nextNormal() } }
        var x = Tensor<Double>(shape: [2 * pairs, width], scalars: normal(2 * pairs * width, std: 1))
        var correlations: [Double] = []
        for layer in 0..<depth {
            let weight = Tensor<Double>(shape: [width, width], scalars: normal(width * width, std: sigmaW / Double(width).squareRoot()))
            let bias = Tensor<Double>(normal(width, std: sigmaB))
            let h = linear(x, weight: weight, bias: bias)
            if layer >= depth - 15 {
                h.withUnsafeBufferPointer { rows in
                    for pair in 0..<pairs {
                        var ab = 0.0, aa = 0.0, bb = 0.0
                        for unit in 0..<width {
                            let a = rows[2 * pair * width + unit], b = rows[(2 * pair + 1) * width + unit]
                            ab += a * b
                            aa += a * a
                            bb += b * b
                        }
                        correlations.append(ab / (aa * bb).squareRoot())
                    }
                }
            }
            x = tanh(h)
        }
        let measured = correlations.reduce(0, +) / Double(correlations.count)
        #expect(Swift.abs(measured - cStar) < 0.03, "measured c \(measured), predicted c* \(cStar)")
    }

    @Test func invalidInputsAreTypedErrors() {
        #expect(throws: MeanFieldTheoryError.invalidSigmaW(-1)) { try MeanFieldTheory.predict(activation: .tanh, sigmaW: -1) }
        #expect(throws: MeanFieldTheoryError.invalidSigmaW(.infinity)) { try MeanFieldTheory.predict(activation: .tanh, sigmaW: .infinity) }
        #expect(throws: MeanFieldTheoryError.invalidSigmaB(-0.1)) { try MeanFieldTheory.predict(activation: .tanh, sigmaW: 1, sigmaB: -0.1) }
        #expect(throws: MeanFieldTheoryError.invalidDepth(0, minimum: 1)) { try MeanFieldTheory.predict(activation: .tanh, sigmaW: 1, depth: 0) }
        #expect(throws: MeanFieldTheoryError.invalidTolerance(1.5)) {
            try MeanFieldTheory.predict(activation: .tanh, sigmaW: 1, criticalTolerance: 1.5)
        }
        #expect(throws: MeanFieldTheoryError.unknownActivation("sigmod")) { try MeanFieldTheory.activation(named: "sigmod") }
        #expect(MeanFieldTheoryError.unknownActivation("sigmod").description.contains("sigmoid, tanh, relu"))
        #expect((try? MeanFieldTheory.activation(named: "leaky_relu")) == .leakyRelu)
        #expect(throws: MeanFieldTheoryError.invalidDepth(1, minimum: 2)) {
            try MeanFieldTheory.measureGradientFactor(activation: .relu, sigmaW: 1, depth: 1)
        }
    }

    @Test func predictionEncodesWithSnakeCaseKeys() throws {
        let prediction = try MeanFieldTheory.predict(activation: .leakyRelu, sigmaW: 1, sigmaB: 0.1, depth: 20)
        let data = try JSONEncoder().encode(prediction)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["activation", "sigma_w", "sigma_b", "depth", "phase", "q_star", "chi_1", "xi_c", "xi_q",
                    "per_layer_gradient_factor", "gradient_ratio_first_to_last", "critical_sigma_w"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["activation"] as? String == "leaky_relu")
        #expect(object["phase"] as? String == "ordered")
        #expect(try JSONDecoder().decode(MeanFieldPrediction.self, from: data) == prediction)
    }

    /// An odd activation with σ_b = 0 has c = −1 as a (repelling) fixed point of the
    /// correlation map; in the chaotic phase the stable one is c* = 0 by symmetry, with
    /// χ_c = σ_w²·E[φ'(√q*·z)]² < 1 and a finite ξ_c.
    @Test(arguments: [1.5, 2.0, 3.0])
    func chaoticOddActivationDecorrelatesToZero(sigmaW: Double) throws {
        let p = try MeanFieldTheory.predict(activation: .tanh, sigmaW: sigmaW, sigmaB: 0, depth: 20)
        let c = try #require(p.cStar)
        #expect(Swift.abs(c) < 1e-6, "c* = \(c)")
        let chiC = try #require(p.chiC)
        #expect(chiC > 0 && chiC < 1, "chi_c = \(chiC)")
        let xi = try #require(p.depthScaleC)
        #expect(xi.isFinite && xi > 0, "xi_c = \(xi)")
    }
}

/// The acceptance test of the theory: at initialization, the gradient factor per layer measured
/// on wide random networks matches √χ₁ within 10%.
///
/// Setup (see `GradientFactorMeasurement`): width 256, 16 `Linear → φ` blocks, batch 16,
/// σ_b = 0.1, inputs scaled to the fixed-point length, loss `Σ r ⊙ output` with Gaussian r; the
/// measured factor is the geometric mean of ‖∂E/∂h^l‖/‖∂E/∂h^(l+1)‖ over the 15 pairs of
/// consecutive pre-activation gradients. The comparison table is attached to the test run
/// (`swift test --attachments-path DIR`).
@Suite struct TheoryMatchesMeasurementTests {
    static let sigmaWs = [0.5, 1, 1.5, 2, 3]

    @Test(arguments: [Activation.tanh, .relu])
    func measuredGradientFactorMatchesSqrtChi1(activation: Activation) throws {
        var table = "activation sigma_w predicted measured relative_error\n"
        var factors: [Double] = []
        for (index, sigmaW) in Self.sigmaWs.enumerated() {
            let prediction = try MeanFieldTheory.predict(activation: activation, sigmaW: sigmaW, sigmaB: 0.1, depth: 16)
            let measurement = try MeanFieldTheory.measureGradientFactor(
                activation: activation, sigmaW: sigmaW, sigmaB: 0.1, width: 256, depth: 16, batchSize: 16,
                seed: UInt64(100 + index))
            let predicted = prediction.perLayerGradientFactor, measured = measurement.measuredFactor
            let relativeError = (measured - predicted) / predicted
            table += "\(activation.rawValue) \(sigmaW) \(predicted) \(measured) \(relativeError)\n"
            #expect(Swift.abs(relativeError) < 0.10,
                    "\(activation) σ_w \(sigmaW): predicted √χ₁ \(predicted), measured \(measured) (\(relativeError))")
            #expect(measurement.preActivationGradientNorms.allSatisfy { $0.isFinite && $0 > 0 })
            factors.append(measured)
        }
        // The measurement is not trivially constant: it grows with σ_w as √χ₁ does.
        #expect(zip(factors, factors.dropFirst()).allSatisfy { $0 < $1 }, "\(factors)")
        Attachment.record(table, named: "theory-vs-measurement-\(activation.rawValue).txt")
    }

    @Test(arguments: [(Activation.sigmoid, 4.0), (.elu, 1.5), (.selu, 1.0), (.gelu, 1.8), (.softsign, 2.0)])
    func otherActivationsMatchToo(activation: Activation, sigmaW: Double) throws {
        let prediction = try MeanFieldTheory.predict(activation: activation, sigmaW: sigmaW, sigmaB: 0.1, depth: 16)
        let measurement = try MeanFieldTheory.measureGradientFactor(activation: activation, sigmaW: sigmaW, sigmaB: 0.1, seed: 3)
        let relativeError = (measurement.measuredFactor - prediction.perLayerGradientFactor) / prediction.perLayerGradientFactor
        #expect(Swift.abs(relativeError) < 0.10,
                "\(activation) σ_w \(sigmaW): predicted \(prediction.perLayerGradientFactor), measured \(measurement.measuredFactor)")
    }
}
