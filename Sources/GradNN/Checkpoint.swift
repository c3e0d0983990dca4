import Foundation
import GradTensor

/// Why a checkpoint could not be read, written or loaded into a module; each description
/// names the file and the tensor or field (`model.safetensors: tensor '2.weight': expected
/// shape [10, 10], found [10, 5]`).
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// No file at the path.
    case fileNotFound(file: String)
    /// The path exists but cannot be read (a directory, no permission).
    case unreadable(file: String, reason: String)
    /// The file ends before its header length, its header or a tensor's data does.
    case truncated(file: String, detail: String)
    /// The header is too long, not JSON, not an object, or a field has the wrong type.
    case invalidHeader(file: String, field: String, detail: String)
    /// A tensor's dtype is not `F32`, `F64` or `I64`.
    case unsupportedDtype(file: String, tensor: String, dtype: String)
    /// A shape with a negative or non-integer dimension, or too many elements to count.
    case invalidShape(file: String, tensor: String, detail: String)
    /// Offsets that disagree with the shape, overlap, leave gaps, or leave bytes uncovered.
    case invalidOffsets(file: String, tensor: String?, detail: String)
    /// The module has a parameter or buffer the file lacks.
    case missingTensor(file: String, tensor: String)
    /// The file has a tensor the module lacks (strict loading only).
    case unexpectedTensor(file: String, tensor: String)
    /// A tensor's shape differs from the module's parameter or buffer.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// The file could not be written (missing folder, no permission, disk full).
    case unwritable(file: String, reason: String)

    /// The file the error concerns.
    public var file: String {
        switch self {
        case .fileNotFound(let file), .unreadable(let file, _), .truncated(let file, _),
             .invalidHeader(let file, _, _), .unsupportedDtype(let file, _, _), .invalidShape(let file, _, _),
             .invalidOffsets(let file, _, _), .missingTensor(let file, _), .unexpectedTensor(let file, _),
             .shapeMismatch(let file, _, _, _), .unwritable(let file, _):
            return file
        }
    }

    /// The tensor the error concerns, when there is one.
    public var tensor: String? {
        switch self {
        case .unsupportedDtype(_, let tensor, _), .invalidShape(_, let tensor, _), .missingTensor(_, let tensor),
             .unexpectedTensor(_, let tensor), .shapeMismatch(_, let tensor, _, _):
            return tensor
        case .invalidOffsets(_, let tensor, _):
            return tensor
        default:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let file):
            return "\(file): no such file"
        case .unreadable(let file, let reason):
            return "\(file): cannot be read: \(reason)"
        case .truncated(let file, let detail):
            return "\(file): file is truncated: \(detail)"
        case .invalidHeader(let file, let field, let detail):
            return "\(file): invalid header: \(field): \(detail)"
        case .unsupportedDtype(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)': unsupported dtype '\(dtype)' (supported: F32, F64, I64)"
        case .invalidShape(let file, let tensor, let detail):
            return "\(file): tensor '\(tensor)': invalid shape: \(detail)"
        case .invalidOffsets(let file, let tensor, let detail):
            return "\(file): " + (tensor.map { "tensor '\($0)': " } ?? "") + "invalid data_offsets: \(detail)"
        case .missingTensor(let file, let tensor):
            return "\(file): missing tensor '\(tensor)', which the module expects"
        case .unexpectedTensor(let file, let tensor):
            return "\(file): unexpected tensor '\(tensor)', which the module does not have "
                + "(load with strict: false to ignore it)"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)': expected shape \(expected), found \(found)"
        case .unwritable(let file, let reason):
            return "\(file): cannot be written: \(reason)"
        }
    }
}

/// A module whose own buffers (running statistics) a checkpoint can restore.
///
/// `loadCheckpoint` hands each buffer in `namedBuffers` to the deepest module in the tree that
/// conforms and lists that buffer among its own, with the name relative to that module.
public protocol BufferLoadable<Scalar>: Module {
    associatedtype Scalar
    /// Replaces this module's buffer `name` with `value`, which has the buffer's shape.
    func loadBuffer(named name: String, from value: Tensor<Scalar>)
    /// The names of this module's own buffers that PyTorch keeps as `int64`
    /// (`num_batches_tracked`); checkpoints store them as `I64`. Default: none.
    var integerBufferNames: Set<String> { get }
}

extension BufferLoadable {
    public var integerBufferNames: Set<String> { [] }
}

/// The names a non-strict load skipped, as PyTorch's `load_state_dict` returns them.
public struct IncompatibleKeys: Equatable, Sendable {
    /// The module's parameters and buffers that the file lacks (left unchanged).
    public var missingKeys: [String]
    /// The file's tensors that the module lacks (ignored).
    public var unexpectedKeys: [String]

    /// The two lists.
    public init(missingKeys: [String], unexpectedKeys: [String]) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }
}

/// Saves `module`'s parameters and buffers to a `.safetensors` file, atomically.
///
/// Names are PyTorch's `state_dict` names (`0.weight`, `0.bias`, ...), elements are stored in
/// the module's `Scalar` type (`F32` for `Float`, `F64` for `Double`; the buffers a
/// `BufferLoadable` lists in `integerBufferNames` as `I64`), so that
/// `torch.nn.Module.load_state_dict(safetensors.torch.load_file(path))` accepts the file for the
/// equivalent PyTorch module.
/// - Parameters:
///   - module: the module to save.
///   - url: the destination; replaced if it exists. The temporary file sits in the same folder.
///   - metadata: strings stored under `__metadata__`.
/// - Throws: `CheckpointError.unwritable`.
public func saveCheckpoint(_ module: some Module, to url: URL, metadata: [String: String] = [:]) throws {
    var file = SafeTensors(metadata: metadata)
    addCheckpointTensors(of: module, to: &file)
    try file.write(to: url)
}

/// Adds `module`'s parameters and buffers to `file` as `saveCheckpoint` stores them, each name
/// preceded by `prefix` (a training checkpoint keeps the model under `model.` beside other state).
///
/// - Parameters:
///   - module: the module to save.
///   - file: the collection to add to; its names must not clash with the module's.
///   - prefix: prepended to every name (empty: PyTorch's `state_dict` names as they are).
public func addCheckpointTensors(of module: some Module, to file: inout SafeTensors, prefix: String = "") {
    var integerBuffers = Set<String>()
    for (path, child) in module.namedModules {
        guard let owner = child as? any BufferLoadable else { continue }
        integerBuffers.formUnion(owner.integerBufferNames.map { path.isEmpty ? $0 : "\(path).\($0)" })
    }
    for (name, parameter) in module.namedParameters {
        precondition(file[prefix + name] == nil, "saveCheckpoint: two parameters or buffers are named '\(name)'")
        file.set(prefix + name, parameter.value)
    }
    for (name, buffer) in module.namedBuffers {
        precondition(file[prefix + name] == nil, "saveCheckpoint: two parameters or buffers are named '\(name)'")
        if integerBuffers.contains(name) { file[prefix + name] = .init(int64Rounding: buffer) } else { file.set(prefix + name, buffer) }
    }
}

/// Loads a `.safetensors` checkpoint into `module`'s parameters and buffers.
///
/// `F32`, `F64` and `I64` tensors are converted to the module's `Scalar`. Every name and shape is
/// checked before anything is written, so on any error the module is unchanged. As PyTorch's
/// `load_state_dict`: with `strict`, a missing or an extra tensor is an error; without it they
/// are skipped and returned; a shape mismatch is an error either way.
/// - Parameters:
///   - module: the module to fill.
///   - url: the checkpoint file.
///   - strict: whether the file's names must match the module's exactly.
/// - Returns: the missing and unexpected names (both empty after a strict load).
/// - Throws: `CheckpointError`.
@discardableResult
public func loadCheckpoint(into module: some Module, from url: URL, strict: Bool = true) throws -> IncompatibleKeys {
    try loadCheckpoint(module, from: url, strict: strict)
}

/// Loads the tensors of an open `.safetensors` collection into `module`, as
/// `loadCheckpoint(into:from:strict:)` does for a file, reading each name preceded by `prefix`.
///
/// With `strict`, the names that start with `prefix` must be exactly the module's; other names
/// are ignored. On any error the module is unchanged.
/// - Parameters:
///   - module: the module to fill.
///   - file: the tensors.
///   - fileName: the file's name in error messages.
///   - prefix: prepended to each of the module's names (`model.`), empty for a plain checkpoint.
///   - strict: whether the file's names under `prefix` must match the module's exactly.
/// - Returns: the missing and unexpected names (without the prefix).
/// - Throws: `CheckpointError` (`missingTensor`, `unexpectedTensor`, `shapeMismatch`).
@discardableResult
public func loadCheckpoint(into module: some Module, from file: SafeTensors, fileName: String, prefix: String = "",
                           strict: Bool = true) throws -> IncompatibleKeys {
    try loadCheckpoint(module, file: file, fileName: fileName, prefix: prefix, strict: strict)
}

private func loadCheckpoint<M: Module>(_ module: M, from url: URL, strict: Bool) throws -> IncompatibleKeys {
    try loadCheckpoint(module, file: try SafeTensors(contentsOf: url), fileName: url.relativePath, prefix: "", strict: strict)
}

private func loadCheckpoint<M: Module>(_ module: M, file: SafeTensors, fileName: String, prefix: String,
                                       strict: Bool) throws -> IncompatibleKeys {
    typealias Scalar = M.Scalar
    var missing: [String] = []
    var expected = Set<String>()

    func checked(_ name: String, shape: [Int]) throws -> Tensor<Scalar>? {
        expected.insert(name)
        guard let entry = file[prefix + name] else {
            if strict { throw CheckpointError.missingTensor(file: fileName, tensor: name) }
            missing.append(name)
            return nil
        }
        guard entry.shape == shape else {
            throw CheckpointError.shapeMismatch(file: fileName, tensor: name, expected: shape, found: entry.shape)
        }
        return entry.tensor(as: Scalar.self)
    }

    var parameterValues: [(Parameter<Scalar>, Tensor<Scalar>)] = []
    for (name, parameter) in module.namedParameters {
        if let value = try checked(name, shape: parameter.shape) { parameterValues.append((parameter, value)) }
    }
    let owners = module.namedModules.compactMap { path, child in
        (child as? any BufferLoadable<Scalar>).map { (path, $0) }
    }
    var bufferValues: [(any BufferLoadable<Scalar>, String, Tensor<Scalar>)] = []
    for (name, buffer) in module.namedBuffers {
        guard let value = try checked(name, shape: buffer.shape) else { continue }
        let owner = owners
            .compactMap { path, owner -> (String, any BufferLoadable<Scalar>)? in
                let local = path.isEmpty ? name : (name.hasPrefix(path + ".") ? String(name.dropFirst(path.count + 1)) : nil)
                guard let local, owner.namedBuffers.contains(where: { $0.0 == local }) else { return nil }
                return (local, owner)
            }
            .min { $0.0.count < $1.0.count }
        guard let (local, loader) = owner else {
            preconditionFailure("loadCheckpoint: buffer '\(name)' belongs to no module conforming to BufferLoadable")
        }
        bufferValues.append((loader, local, value))
    }
    let unexpected = file.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        .filter { !expected.contains($0) }
    if strict, let first = unexpected.first {
        throw CheckpointError.unexpectedTensor(file: fileName, tensor: first)
    }
    for (parameter, value) in parameterValues { parameter.assign(value) }
    for (owner, name, value) in bufferValues { owner.loadBuffer(named: name, from: value) }
    return IncompatibleKeys(missingKeys: missing, unexpectedKeys: unexpected)
}
