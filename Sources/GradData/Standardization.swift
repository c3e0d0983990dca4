import GradTensor

/// Per-column standardization of features: `x' = (x − mean) / std`.
///
/// Fit it on the training rows only (`init(fitting:)`) and apply the same statistics to the
/// validation and test rows, so that no information leaks from them into training. `std` is
/// the population standard deviation (divisor n, as scikit-learn's `StandardScaler`); a
/// constant column gets `std = 1`, so it becomes all zeros instead of NaN.
public struct Standardization: Sendable, Equatable, Codable {
    /// The mean of each feature column.
    public let mean: [Double]
    /// The standard deviation of each feature column (1 where the column is constant).
    public let standardDeviation: [Double]

    /// Statistics given directly (for example read back from a run folder).
    ///
    /// - Parameters:
    ///   - mean: per-column means.
    ///   - standardDeviation: per-column divisors, all positive, as many as `mean`.
    public init(mean: [Double], standardDeviation: [Double]) {
        precondition(mean.count == standardDeviation.count,
                     "Standardization: \(mean.count) means but \(standardDeviation.count) standard deviations")
        precondition(standardDeviation.allSatisfy { $0 > 0 && $0.isFinite },
                     "Standardization: standard deviations must be positive and finite")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The statistics of the columns of `features` (`[n, d]`, n ≥ 1), computed in `Double`
    /// with two passes (mean, then mean squared deviation).
    ///
    /// - Parameter features: the training rows.
    public init<Scalar: TensorScalar>(fitting features: Tensor<Scalar>) {
        precondition(features.rank == 2 && features.shape[0] >= 1,
                     "Standardization: features must be [n, d] with n ≥ 1, got shape \(features.shape)")
        let rows = features.shape[0], columns = features.shape[1]
        var mean = [Double](repeating: 0, count: columns)
        var variance = [Double](repeating: 0, count: columns)
        features.withUnsafeBufferPointer { x in
            for row in 0..<rows {
                for column in 0..<columns { mean[column] += Double(x[row * columns + column]) }
            }
            for column in 0..<columns { mean[column] /= Double(rows) }
            for row in 0..<rows {
                for column in 0..<columns {
                    let deviation = Double(x[row * columns + column]) - mean[column]
                    variance[column] += deviation * deviation
                }
            }
        }
        let std = variance.map { value -> Double in
            let deviation = (value / Double(rows)).squareRoot()
            return deviation > 0 && deviation.isFinite ? deviation : 1
        }
        self.init(mean: mean, standardDeviation: std)
    }

    /// `(x − mean) / std` for every row of `features` (`[n, d]` with d = `mean.count`).
    ///
    /// - Parameter features: rows to transform.
    public func apply<Scalar: TensorScalar>(to features: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(features.rank == 2 && features.shape[1] == mean.count,
                     "Standardization: features of shape \(features.shape) do not have \(mean.count) columns")
        let columns = mean.count
        var out = features
        out.withUnsafeMutableBufferPointer { x in
            for index in 0..<x.count {
                let column = index % columns
                x[index] = Scalar((Double(x[index]) - mean[column]) / standardDeviation[column])
            }
        }
        return out
    }

    /// The data set with standardized features (targets and labels unchanged).
    ///
    /// - Parameter dataset: the set to transform.
    public func apply<Scalar: TensorScalar>(to dataset: Dataset<Scalar>) -> Dataset<Scalar> {
        Dataset(features: apply(to: dataset.features), targets: dataset.targets, labels: dataset.labels)
    }
}
