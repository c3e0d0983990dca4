// Programmer errors (a shape that does not fit, an index out of range) stop the program with a
// message that names both shapes. Swift's own `precondition` drops its message in optimized
// builds, which is how most users run GradLab; these versions keep it. They shadow the standard
// library's in every module that imports GradTensor.

/// Stops the program with `message` when `condition` is false, in every build mode.
@inlinable @inline(__always)
public func precondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// Stops the program with `message`, in every build mode.
@inlinable
public func preconditionFailure(
    _ message: @autoclosure () -> String = String(), file: StaticString = #fileID, line: UInt = #line
) -> Never {
    fatalError(message(), file: file, line: line)
}
