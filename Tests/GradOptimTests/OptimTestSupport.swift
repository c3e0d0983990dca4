import GradNN
import GradOptim
import GradTensor
import GradTestSupport
import Testing

/// Float and Double, for tests that run in both precisions.
let bothPrecisions: [any TensorScalar.Type] = [Float.self, Double.self]

/// A 1-D parameter holding `values`.
func makeParameter<T: TensorScalar>(_ values: [Double], as type: T.Type = T.self) -> Parameter<T> {
    Parameter(Tensor<T>(values.map { T($0) }))
}

/// Sets a parameter's gradient from `Double` values (nil clears it).
func setGradient<T: TensorScalar>(_ parameter: Parameter<T>, _ values: [Double]?) {
    parameter.grad = values.map { v in Tensor<T>(shape: parameter.shape, scalars: v.map { T($0) }) }
}

/// The parameter's values as `Double`s.
func valuesOf<T: TensorScalar>(_ parameter: Parameter<T>) -> [Double] {
    parameter.value.scalars.map { Double($0) }
}

/// The gradient's elements as `Double`s (nil when there is no gradient).
func gradientOf<T: TensorScalar>(_ parameter: Parameter<T>) -> [Double]? {
    parameter.grad?.scalars.map { Double($0) }
}

/// Default tolerance for hand-computed cases: loose enough for `Float` arithmetic.
func handTolerance<T: TensorScalar>(_ type: T.Type) -> Double {
    T.self == Float.self ? 2e-6 : 1e-12
}

/// Expects `actual ≈ expected` elementwise, reporting the first mismatch with both values.
func expectClose(
    _ actual: [Double], _ expected: [Double], rtol: Double, atol: Double = 0,
    _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let message = mismatch(Tensor<Double>(actual), Tensor<Double>(expected), rtol: rtol, atol: atol)
    #expect(message == nil, "\(context) \(message ?? "")", sourceLocation: sourceLocation)
}
