// Generic code called from another module's generic code (a layer's `forward` in GradNN, say)
// is not specialized: every use of `Tensor<Scalar>`, `GradNode<Scalar>` or a closure over them
// asks the Swift runtime for type metadata, which costs more than the arithmetic of a small
// layer. The hottest ops therefore test the element type once and run a body compiled for
// `Float`; these casts are exact because `Tensor<T>` and `Tensor<Float>` are the same type when
// `T == Float`.

/// `x` as a `Tensor<Float>`; only valid when `T` is `Float`.
@inline(__always)
func asFloat<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<Float> {
    assert(T.self == Float.self)
    return unsafeBitCast(x, to: Tensor<Float>.self)
}

/// A `Tensor<Float>` as `Tensor<T>`; only valid when `T` is `Float`.
@inline(__always)
func asScalar<T: TensorScalar>(_ x: Tensor<Float>) -> Tensor<T> {
    assert(T.self == Float.self)
    return unsafeBitCast(x, to: Tensor<T>.self)
}
