import Foundation
import GradTensor

/// Whether `a` and `b` agree within `|a − b| ≤ atol + rtol·|b|` (as `numpy.isclose`).
public func isClose<T: BinaryFloatingPoint>(_ a: T, _ b: T, rtol: T = 1e-5, atol: T = 1e-8) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= atol + rtol * Swift.abs(b)
}

/// The first element where two tensors differ beyond tolerance, described with both values
/// and both shapes, or nil when they agree everywhere.
public func mismatch<T: TensorScalar>(
    _ actual: Tensor<T>, _ expected: Tensor<T>, rtol: T = 1e-5, atol: T = 1e-8
) -> String? {
    guard actual.shape == expected.shape else {
        return "shape \(actual.shape) ≠ expected \(expected.shape)"
    }
    let a = actual.scalars, e = expected.scalars
    for i in 0..<a.count where !isClose(a[i], e[i], rtol: rtol, atol: atol) {
        return "element \(i): \(a[i]) ≠ expected \(e[i]) (|diff| \(Swift.abs(a[i] - e[i])), rtol \(rtol), atol \(atol))"
    }
    return nil
}

/// The repository's `Tests/Fixtures` folder.
public let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
