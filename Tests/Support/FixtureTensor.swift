import GradTensor

/// A tensor as the PyTorch fixture scripts write it: its shape and row-major data
/// (float32 values as their exact doubles).
public struct FixtureTensor: Decodable, Sendable {
    public let shape: [Int]
    public let data: [Double]

    /// The values as a tensor of element type `S`.
    public func tensor<S: TensorScalar>(_: S.Type = S.self) -> Tensor<S> {
        Tensor(shape: shape, scalars: data.map { S($0) })
    }
}
