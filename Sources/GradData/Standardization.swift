import GradTensor

/// Per-column standardization of features: `x' = (x − mean) / std`.
///
/// Fit it on the training rows only (`init(fitting:)`) and apply the same statistics to the
/// validation and test rows, so that no information leaks from them into training. `std` is
/// the population standard deviation (divisor n, as scikit-learn's `StandardScaler`).
/// A constant column gets `std = 1` and its value as the mean, so it becomes exactly 0 instead
/// of NaN; so does a column whose spread is below what rounding of its values can make
/// (std ≤ n·ε·|mean|, scikit-learn's test for a constant feature), which becomes `x − mean`,
/// rounding noise near 0. Statistics are computed in `Double`, scaled by the power of two
/// nearest each column's largest magnitude (exact, so the result is the unscaled two-pass
/// formula's), so that values up to `Double.greatestFiniteMagnitude` give finite statistics.
/// A column holding a NaN or an infinity is left as it is (mean 0, std 1).
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
        precondition(mean.allSatisfy(\.isFinite), "Standardization: means must be finite")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The statistics of the columns of `features` (`[n, d]`, n ≥ 1), computed in `Double` with two passes (mean, then mean squared deviation).
    ///
    /// - Parameter features: the training rows.
    public init<Scalar: TensorScalar>(fitting features: Tensor<Scalar>) {
        precondition(features.rank == 2 && features.shape[0] >= 1,
                     "Standardization: features must be [n, d] with n ≥ 1, got shape \(features.shape)")
        let rows = features.shape[0], columns = features.shape[1]
        let statistics: [(mean: Double, std: Double)] = features.withUnsafeBufferPointer { x in
            (0..<columns).map { column in
                Self.statistics(rows: rows) { Double(x[$0 * columns + column]) }
            }
        }
        self.init(mean: statistics.map(\.mean), standardDeviation: statistics.map(\.std))
    }

    /// The statistics of a `[rows, columns]` row-major array of `Double` (n ≥ 1), the same as `init(fitting:)` on that tensor, without converting it.
    ///
    /// - Parameters:
    ///   - values: the elements, row-major.
    ///   - rows: the number of rows.
    ///   - columns: the number of columns.
    public init(fitting values: [Double], rows: Int, columns: Int) {
        precondition(rows >= 1 && columns >= 0 && values.count == rows * columns,
                     "Standardization: \(values.count) values are not \(rows) rows of \(columns) columns with rows ≥ 1")
        let statistics = values.withUnsafeBufferPointer { x in
            (0..<columns).map { column in Self.statistics(rows: rows) { x[$0 * columns + column] } }
        }
        self.init(mean: statistics.map(\.mean), standardDeviation: statistics.map(\.std))
    }

    /// Mean and divisor of one column whose `row`-th value `value(row)` gives.
    static func statistics(rows: Int, _ value: (Int) -> Double) -> (mean: Double, std: Double) {
        var largest = 0.0, smallest = Double.infinity, biggest = -Double.infinity
        for row in 0..<rows {
            let x = value(row)
            if !x.isFinite { return (0, 1) }
            largest = Swift.max(largest, Swift.abs(x))
            smallest = Swift.min(smallest, x)
            biggest = Swift.max(biggest, x)
        }
        // A constant column: its value is the mean, so every row becomes exactly 0.
        if smallest == biggest { return (smallest, 1) }
        // Scaled by a power of two near the largest magnitude (exact), sums of up to 2^53 rows
        // stay finite whatever the values.
        let scale = Double(sign: .plus, exponent: largest.exponent, significand: 1)
        var sum = 0.0
        for row in 0..<rows { sum += value(row) / scale }
        let scaledMean = sum / Double(rows)
        var squares = 0.0
        for row in 0..<rows {
            let deviation = value(row) / scale - scaledMean
            squares += deviation * deviation
        }
        let mean = scaledMean * scale
        let std = (squares / Double(rows)).squareRoot() * scale
        // Below what rounding of the values themselves can make: a constant column in effect.
        if !(std > Double(rows) * Double.ulpOfOne * Swift.abs(mean)) || !std.isFinite || std == 0 { return (mean, 1) }
        return (mean, std)
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
                x[index] = Scalar(standardized(Double(x[index]), column: column))
            }
        }
        return out
    }

    /// `(x − mean) / std` of one value of `column`, without overflow in the difference (two
    /// values near ±`Double.greatestFiniteMagnitude`).
    @inline(__always)
    public func standardized(_ x: Double, column: Int) -> Double {
        let difference = x - mean[column]
        if difference.isFinite { return difference / standardDeviation[column] }
        return x / standardDeviation[column] - mean[column] / standardDeviation[column]
    }

    /// `(x − mean) / std` for a `[rows, mean.count]` row-major array of `Double`.
    ///
    /// - Parameter values: the elements, row-major.
    public func apply(to values: [Double]) -> [Double] {
        precondition(mean.isEmpty ? values.isEmpty : values.count % mean.count == 0,
                     "Standardization: \(values.count) values are not whole rows of \(mean.count) columns")
        let columns = mean.count
        return values.indices.map { standardized(values[$0], column: $0 % columns) }
    }

    /// The data set with standardized features (targets and labels unchanged).
    ///
    /// - Parameter dataset: the set to transform.
    public func apply<Scalar: TensorScalar>(to dataset: Dataset<Scalar>) -> Dataset<Scalar> {
        Dataset(features: apply(to: dataset.features), targets: dataset.targets, labels: dataset.labels)
    }
}
