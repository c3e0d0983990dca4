import Foundation
import GradData
import GradTensor
import Testing

/// The `DataError` that `body` throws, or nil when it returns normally (any other error is
/// recorded as a test failure).
func dataError<T>(_ body: () throws -> T) -> DataError? {
    do {
        _ = try body()
        return nil
    } catch let error as DataError {
        return error
    } catch {
        Issue.record("expected a DataError, got \(error)")
        return nil
    }
}

/// CSV text read as `Double` data named `test.csv`.
func readCSV(_ text: String, _ options: CSVOptions = CSVOptions()) throws(DataError) -> CSVData<Double> {
    try CSVLoader.load(bytes: Array(text.utf8), file: "test.csv", options: options, as: Double.self)
}

/// The rows of a 2-D tensor as nested arrays (for exact comparisons).
func rows<T: TensorScalar>(_ tensor: Tensor<T>) -> [[T]] {
    let width = tensor.shape[1]
    let scalars = tensor.scalars
    return (0..<tensor.shape[0]).map { Array(scalars[($0 * width)..<(($0 + 1) * width)]) }
}
