import GradTensor

extension Dataset {
    /// The examples at `indices`, in that order (repeats allowed): rows of features and
    /// targets gathered into new `[indices.count, ·]` tensors, labels likewise.
    ///
    /// - Parameter indices: example indices, each in `0..<count`.
    public func subset(_ indices: [Int]) -> Dataset {
        for index in indices {
            precondition(index >= 0 && index < count, "Dataset.subset: index \(index) out of range 0..<\(count)")
        }
        return Dataset(features: Self.gatherRows(features, indices), targets: Self.gatherRows(targets, indices),
                       labels: labels.map { all in indices.map { all[$0] } })
    }

    /// A seeded split into training and validation examples (see `DataSplit.indices`).
    ///
    /// - Parameters:
    ///   - validationFraction: the share of examples held out, `0 ≤ f < 1`.
    ///   - seed: fixes which examples are held out.
    public func split(validationFraction: Double, seed: UInt64) -> (train: Dataset, validation: Dataset) {
        let (train, validation) = DataSplit.indices(count: count, validationFraction: validationFraction, seed: seed)
        return (subset(train), subset(validation))
    }

    /// Rows `indices` of a `[n, d]` tensor as a `[indices.count, d]` tensor.
    static func gatherRows(_ tensor: Tensor<Scalar>, _ indices: [Int]) -> Tensor<Scalar> {
        let width = tensor.shape[1]
        var out = Tensor<Scalar>.zeros([indices.count, width])
        tensor.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for (row, index) in indices.enumerated() {
                    for column in 0..<width { destination[row * width + column] = source[index * width + column] }
                }
            }
        }
        return out
    }
}

/// Seeded train/validation splits of example indices.
public enum DataSplit {
    /// Which of `count` examples train and which validate.
    ///
    /// `v = round(f · count)` examples validate, at least 1 when `f > 0` and at most
    /// `count − 1` (so training keeps one); they are the first `v` entries of the seeded
    /// permutation `RandomGenerator(seed:).permutation(count)`. Both lists come back sorted,
    /// so each split keeps the file's order.
    ///
    /// - Parameters:
    ///   - count: number of examples.
    ///   - validationFraction: the share held out, `0 ≤ f < 1`.
    ///   - seed: fixes the permutation.
    public static func indices(count: Int, validationFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        precondition(count >= 0, "DataSplit: negative count \(count)")
        precondition(validationFraction >= 0 && validationFraction < 1,
                     "DataSplit: validationFraction must be in [0, 1), got \(validationFraction)")
        var validationCount = Int((validationFraction * Double(count)).rounded())
        if validationFraction > 0 && count >= 2 { validationCount = min(max(validationCount, 1), count - 1) }
        validationCount = min(validationCount, max(count - 1, 0))
        let permutation = RandomGenerator(seed: seed).permutation(count)
        return (Array(permutation[validationCount...]).sorted(), Array(permutation[..<validationCount]).sorted())
    }
}
