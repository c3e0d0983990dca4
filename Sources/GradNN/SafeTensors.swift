import Foundation
import GradTensor

/// The contents of a `.safetensors` file: named `F32`/`F64`/`I64` tensors and string metadata,
/// read with every field validated and written atomically.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}`
/// (padded with spaces to a multiple of 8), then the little-endian element bytes; offsets count
/// from the start of the data, and the tensors tile the data exactly, without gaps or overlaps.
/// Reading never traps or reads out of bounds on a malformed file: every defect is a
/// `CheckpointError` naming the file and the tensor or field.
public struct SafeTensors {
    /// The element types this reader and writer support.
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "F32"
        case float64 = "F64"
        /// 64-bit signed integers, as PyTorch stores counters (`num_batches_tracked`).
        case int64 = "I64"

        /// Bytes per element.
        public var byteCount: Int {
            switch self {
            case .float32: return 4
            case .float64, .int64: return 8
            }
        }
    }

    /// One stored tensor in its file's element type.
    public enum Entry {
        case float32(Tensor<Float>)
        case float64(Tensor<Double>)
        /// Integers with their shape (row-major).
        case int64(shape: [Int], values: [Int64])

        /// Wraps `tensor` in its own element type (`Float` → `F32`, `Double` → `F64`).
        public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
            if let t = tensor as? Tensor<Double> {
                self = .float64(t.detached())
            } else if let t = tensor as? Tensor<Float> {
                self = .float32(t.detached())
            } else {
                self = .float64(tensor.converted(to: Double.self))
            }
        }

        /// `tensor`'s elements rounded to the nearest integers, stored as `I64`.
        public init<Scalar: TensorScalar>(int64Rounding tensor: Tensor<Scalar>) {
            self = .int64(shape: tensor.shape, values: tensor.scalars.map { Int64(Double($0).rounded()) })
        }

        /// The stored element type.
        public var dtype: DType {
            switch self {
            case .float32: return .float32
            case .float64: return .float64
            case .int64: return .int64
            }
        }

        /// The stored shape.
        public var shape: [Int] {
            switch self {
            case .float32(let t): return t.shape
            case .float64(let t): return t.shape
            case .int64(let shape, _): return shape
            }
        }

        /// The elements converted to `Scalar` (a copy-free view when the types agree; integers
        /// beyond 2²⁴ for `Float` or 2⁵³ for `Double` are rounded).
        public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
            switch self {
            case .float32(let t): return (t as? Tensor<Scalar>) ?? t.converted(to: Scalar.self)
            case .float64(let t): return (t as? Tensor<Scalar>) ?? t.converted(to: Scalar.self)
            case .int64(let shape, let values): return Tensor(shape: shape, scalars: values.map { Scalar($0) })
            }
        }
    }

    /// The largest header accepted when reading (as the reference implementation: 100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// The tensor names in storage order.
    public private(set) var names: [String] = []
    private var entries: [String: Entry] = [:]
    /// The `__metadata__` strings.
    public var metadata: [String: String]

    /// An empty collection with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The tensor named `name`; setting a new name appends it, setting nil removes it.
    /// A tensor may not be named `__metadata__`.
    public subscript(name: String) -> Entry? {
        get { entries[name] }
        set {
            precondition(name != "__metadata__", "SafeTensors: '__metadata__' is reserved and cannot name a tensor")
            if let newValue {
                if entries.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if entries.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// Stores `tensor` under `name` in its own element type.
    public mutating func set<Scalar: TensorScalar>(_ name: String, _ tensor: Tensor<Scalar>) {
        self[name] = Entry(tensor)
    }

    // MARK: Reading

    /// The largest file `init(contentsOf:)` reads by default: the environment variable
    /// `GRADLAB_MAX_FILE_BYTES` when it holds a byte count (digits with an optional `K`, `M`,
    /// `G` or `T` suffix for powers of 1024, as `FileSizeLimit` in GradData reads it), else 2 GiB.
    public static var defaultMaximumFileBytes: Int {
        let fallback = 2 << 30
        // getenv rather than ProcessInfo, which may cache the environment of the launch.
        guard let value = getenv("GRADLAB_MAX_FILE_BYTES") else { return fallback }
        var text = String(cString: value).trimmingCharacters(in: .whitespaces).lowercased()
        for suffix in ["ib", "b"] where text.hasSuffix(suffix) && text.count > suffix.count {
            text.removeLast(suffix.count)
            break
        }
        let shifts: [Character: Int] = ["k": 10, "m": 20, "g": 30, "t": 40]
        var shift = 0
        if let last = text.last, let unit = shifts[last] {
            shift = unit
            text.removeLast()
        }
        text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(text), count >= 1,
              count <= Int.max >> shift else { return fallback }
        return count << shift
    }

    /// Reads and validates the file at `url`.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - maximumFileBytes: the largest file accepted (nil: `defaultMaximumFileBytes`); a larger
    ///     one, or anything but a regular file, is refused before it is read.
    /// - Throws: `CheckpointError`: `fileNotFound`, `unreadable` (also for a file over the
    ///   limit), `truncated`, `invalidHeader`, `unsupportedDtype`, `invalidShape` or `invalidOffsets`.
    public init(contentsOf url: URL, maximumFileBytes: Int? = nil) throws {
        let file = url.relativePath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError.fileNotFound(file: file)
        }
        if isDirectory.boolValue { throw CheckpointError.unreadable(file: file, reason: "it is a directory") }
        let limit = maximumFileBytes ?? Self.defaultMaximumFileBytes
        // Of the file a link points to, not of the link.
        let attributes = (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)) ?? [:]
        if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
            throw CheckpointError.unreadable(file: file, reason: "not a regular file")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > limit {
            throw CheckpointError.unreadable(
                file: file, reason: "the file is \(Self.describeBytes(size)) (\(size) bytes), larger than the limit of "
                    + "\(Self.describeBytes(limit)) (\(limit) bytes); set GRADLAB_MAX_FILE_BYTES to change the limit")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw CheckpointError.unreadable(file: file, reason: error.localizedDescription)
        }
        try self.init(data: data, file: file)
    }

    /// A byte count in binary units for messages (`2.0 GiB`).
    static func describeBytes(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        var value = Double(bytes) / 1024
        var unit = 0
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }

    /// Parses and validates the bytes of a `.safetensors` file.
    ///
    /// - Parameters:
    ///   - data: the whole file.
    ///   - file: the name used in error messages.
    /// - Throws: `CheckpointError` (see `init(contentsOf:)`).
    public init(data: Data, file: String) throws {
        metadata = [:]
        let size = data.count
        guard size >= 8 else {
            throw CheckpointError.truncated(
                file: file, detail: "the file has \(size) bytes, fewer than the 8 of the header length")
        }
        let rawLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard rawLength <= UInt64(SafeTensors.maximumHeaderLength) else {
            throw CheckpointError.invalidHeader(
                file: file, field: "header length",
                detail: "\(rawLength) bytes exceeds the limit of \(SafeTensors.maximumHeaderLength)")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= size - 8 else {
            throw CheckpointError.truncated(
                file: file, detail: "the header length says \(headerLength) bytes of JSON, "
                    + "but only \(size - 8) bytes follow it")
        }
        let start = data.startIndex
        let headerBytes = data[(start + 8)..<(start + 8 + headerLength)]
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(headerBytes))
        } catch {
            throw CheckpointError.invalidHeader(file: file, field: "header", detail: "not valid JSON (\(Self.reason(error)))")
        }
        guard case .object(let header) = json else {
            throw CheckpointError.invalidHeader(file: file, field: "header", detail: "not a JSON object")
        }

        struct Layout { let name: String, dtype: DType, shape: [Int], begin: Int, end: Int }
        var layouts: [Layout] = []
        for name in header.keys.sorted() {
            let value = header[name]!
            if name == "__metadata__" {
                guard case .object(let fields) = value else {
                    throw CheckpointError.invalidHeader(file: file, field: "__metadata__", detail: "not a JSON object")
                }
                for (key, field) in fields {
                    guard case .string(let text) = field else {
                        throw CheckpointError.invalidHeader(
                            file: file, field: "__metadata__", detail: "value of '\(key)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw CheckpointError.invalidHeader(file: file, field: "tensor '\(name)'", detail: "not a JSON object")
            }
            for key in fields.keys.sorted() where !["dtype", "shape", "data_offsets"].contains(key) {
                throw CheckpointError.invalidHeader(
                    file: file, field: "tensor '\(name)' field '\(key)'",
                    detail: "unknown field (expected dtype, shape, data_offsets)")
            }
            guard let dtypeValue = fields["dtype"] else {
                throw CheckpointError.invalidHeader(file: file, field: "tensor '\(name)' field 'dtype'", detail: "missing")
            }
            guard case .string(let dtypeName) = dtypeValue else {
                throw CheckpointError.invalidHeader(
                    file: file, field: "tensor '\(name)' field 'dtype'", detail: "not a string")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError.unsupportedDtype(file: file, tensor: name, dtype: dtypeName)
            }
            guard case .array(let shapeValues)? = fields["shape"] else {
                throw CheckpointError.invalidHeader(
                    file: file, field: "tensor '\(name)' field 'shape'",
                    detail: fields["shape"] == nil ? "missing" : "not an array")
            }
            var shape: [Int] = []
            var elementCount = 1
            for dimension in shapeValues {
                guard case .integer(let d) = dimension else {
                    throw CheckpointError.invalidShape(
                        file: file, tensor: name, detail: "\(JSONValue.array(shapeValues)) holds \(dimension), not an integer")
                }
                guard d >= 0 else {
                    throw CheckpointError.invalidShape(
                        file: file, tensor: name, detail: "\(JSONValue.array(shapeValues)) has negative dimension \(d)")
                }
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw CheckpointError.invalidShape(
                        file: file, tensor: name, detail: "\(JSONValue.array(shapeValues)) has too many elements to count")
                }
                shape.append(d)
                elementCount = product
            }
            let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow else {
                throw CheckpointError.invalidShape(
                    file: file, tensor: name, detail: "\(shape) of \(dtype.rawValue) has too many bytes to count")
            }
            guard case .array(let offsetValues)? = fields["data_offsets"] else {
                throw CheckpointError.invalidHeader(
                    file: file, field: "tensor '\(name)' field 'data_offsets'",
                    detail: fields["data_offsets"] == nil ? "missing" : "not an array")
            }
            guard offsetValues.count == 2, case .integer(let begin) = offsetValues[0],
                  case .integer(let end) = offsetValues[1], begin >= 0, end >= 0 else {
                throw CheckpointError.invalidOffsets(
                    file: file, tensor: name,
                    detail: "data_offsets \(JSONValue.array(offsetValues)) is not a pair of non-negative integers")
            }
            guard begin <= end else {
                throw CheckpointError.invalidOffsets(
                    file: file, tensor: name, detail: "data_offsets [\(begin), \(end)] end before they begin")
            }
            guard end - begin == byteCount else {
                throw CheckpointError.invalidOffsets(
                    file: file, tensor: name,
                    detail: "data_offsets [\(begin), \(end)] span \(end - begin) bytes, but shape \(shape) "
                        + "of \(dtype.rawValue) needs \(byteCount)")
            }
            layouts.append(Layout(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }

        // The tensors must tile the data: sorted by offset, each begins where the previous ends.
        let dataStart = 8 + headerLength
        let dataLength = size - dataStart
        layouts.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for layout in layouts {
            if layout.begin < covered {
                throw CheckpointError.invalidOffsets(
                    file: file, tensor: layout.name,
                    detail: "data_offsets [\(layout.begin), \(layout.end)] overlap tensor '\(previous ?? "")', "
                        + "which ends at byte \(covered)")
            }
            if layout.begin > covered {
                if layout.begin > dataLength {
                    throw CheckpointError.invalidOffsets(
                        file: file, tensor: layout.name,
                        detail: "data_offsets [\(layout.begin), \(layout.end)] are out of range: "
                            + "the data holds \(dataLength) bytes, and bytes \(covered)..<\(layout.begin) belong to no tensor")
                }
                throw CheckpointError.invalidOffsets(
                    file: file, tensor: layout.name,
                    detail: "data_offsets [\(layout.begin), \(layout.end)] leave a gap: "
                        + "bytes \(covered)..<\(layout.begin) belong to no tensor")
            }
            covered = layout.end
            previous = layout.name
        }
        if covered > dataLength {
            let cut = layouts.first { $0.end > dataLength }!
            throw CheckpointError.truncated(
                file: file, detail: "tensor '\(cut.name)' needs data bytes \(cut.begin)..<\(cut.end), "
                    + "but the data ends at byte \(dataLength)")
        }
        if covered < dataLength {
            throw CheckpointError.invalidOffsets(
                file: file, tensor: nil,
                detail: "\(dataLength - covered) bytes after the last tensor"
                    + (previous.map { " ('\($0)', ending at byte \(covered))" } ?? "") + " belong to no tensor")
        }

        layouts.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for layout in layouts {
                let source = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + layout.begin)..<(dataStart + layout.end)])
                switch layout.dtype {
                case .float32: self[layout.name] = .float32(Self.decode(source, shape: layout.shape, as: Float.self))
                case .float64: self[layout.name] = .float64(Self.decode(source, shape: layout.shape, as: Double.self))
                case .int64:
                    let values = (0..<(source.count / 8)).map {
                        Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))
                    }
                    self[layout.name] = .int64(shape: layout.shape, values: values)
                }
            }
        }
    }

    // MARK: Writing

    /// The file's bytes: header length, JSON header padded with spaces to a multiple of 8, data.
    ///
    /// Tensors are laid out in `names` order; the header lists `__metadata__` (when not empty)
    /// and then the tensors in the same order.
    public func serialized() -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let entry = entries[name]!
            let byteCount = entry.shape.reduce(1, *) * entry.dtype.byteCount
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append("\(Self.quoted(name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
                          + "\"data_offsets\":[\(offset),\(offset + byteCount)]}")
            offset += byteCount
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names {
            switch entries[name]! {
            case .float32(let t): Self.encode(t, into: &data)
            case .float64(let t): Self.encode(t, into: &data)
            case .int64(_, let values):
                #if _endian(little)
                values.withUnsafeBytes { data.append(contentsOf: $0) }
                #else
                values.map(\.littleEndian).withUnsafeBytes { data.append(contentsOf: $0) }
                #endif
            }
        }
        return data
    }

    /// Writes the file atomically (`AtomicFile.write`): to a temporary file in the same folder,
    /// then renamed over `url`.
    ///
    /// - Throws: `CheckpointError.unwritable` when the folder is missing or not writable.
    public func write(to url: URL) throws {
        let data = serialized()
        do {
            try AtomicFile.write(data, to: url)
        } catch {
            throw CheckpointError.unwritable(file: url.relativePath, reason: error.reason)
        }
    }

    // MARK: Helpers

    private static func decode<Scalar: TensorScalar>(
        _ source: UnsafeRawBufferPointer, shape: [Int], as type: Scalar.Type
    ) -> Tensor<Scalar> {
        var tensor = Tensor<Scalar>.zeros(shape)
        tensor.withUnsafeMutableBufferPointer { destination in
            let raw = UnsafeMutableRawBufferPointer(destination)
            raw.copyMemory(from: source)
            #if _endian(big)
            for i in 0..<destination.count {
                if Scalar.self == Float.self {
                    let bits = raw.load(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped
                    raw.storeBytes(of: bits, toByteOffset: 4 * i, as: UInt32.self)
                } else {
                    let bits = raw.load(fromByteOffset: 8 * i, as: UInt64.self).byteSwapped
                    raw.storeBytes(of: bits, toByteOffset: 8 * i, as: UInt64.self)
                }
            }
            #endif
        }
        return tensor
    }

    private static func encode<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, into data: inout Data) {
        tensor.withUnsafeBufferPointer { elements in
            #if _endian(little)
            data.append(contentsOf: UnsafeRawBufferPointer(elements))
            #else
            var copy = Array(elements)
            copy.withUnsafeMutableBytes { raw in
                let width = MemoryLayout<Scalar>.size
                for i in 0..<(raw.count / width) {
                    if width == 4 {
                        raw.storeBytes(of: raw.load(fromByteOffset: 4 * i, as: UInt32.self).byteSwapped,
                                       toByteOffset: 4 * i, as: UInt32.self)
                    } else {
                        raw.storeBytes(of: raw.load(fromByteOffset: 8 * i, as: UInt64.self).byteSwapped,
                                       toByteOffset: 8 * i, as: UInt64.self)
                    }
                }
                data.append(contentsOf: raw)
            }
            #endif
        }
    }

    /// A JSON string literal for `text`: `"` and `\` escaped, control characters as `\n`,
    /// `\r`, `\t` or `\u00XX` (also used by other JSON writers, e.g. `metrics.jsonl`).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func reason(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.debugDescription
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
                return context.debugDescription
            @unknown default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}

/// A parsed JSON value, keeping integers apart from other numbers.
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var description: String {
        switch self {
        case .object(let fields): return "{" + fields.keys.sorted().map { "\"\($0)\": \(fields[$0]!)" }.joined(separator: ", ") + "}"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .string(let text): return SafeTensors.quoted(text)
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .bool(let value): return String(value)
        case .null: return "null"
        }
    }
}
