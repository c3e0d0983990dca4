import Foundation
import GradTensor

/// An array read from an IDX file, the format of the MNIST distribution.
///
/// Layout: a magic number of four bytes `00 00 T D` (`T` the element type, `D` the number of
/// dimensions), then `D` big-endian 32-bit sizes, then the elements, big-endian, row-major.
/// MNIST's images start `00 00 08 03` (unsigned bytes, `[n, 28, 28]`) and its labels
/// `00 00 08 01` (`[n]`).
public struct IDXArray: Sendable, Equatable {
    /// The element type, from the magic number's third byte.
    public enum ElementType: UInt8, Sendable, CaseIterable {
        /// `0x08`: unsigned 8-bit integer.
        case unsignedByte = 0x08
        /// `0x09`: signed 8-bit integer.
        case signedByte = 0x09
        /// `0x0B`: signed 16-bit integer.
        case short = 0x0B
        /// `0x0C`: signed 32-bit integer.
        case int = 0x0C
        /// `0x0D`: 32-bit IEEE float.
        case float = 0x0D
        /// `0x0E`: 64-bit IEEE float.
        case double = 0x0E

        /// Bytes per element.
        public var byteCount: Int {
            switch self {
            case .unsignedByte, .signedByte: 1
            case .short: 2
            case .int, .float: 4
            case .double: 8
            }
        }

        /// The type in words, plural (`unsigned bytes`, `32-bit floats`).
        public var pluralName: String {
            switch self {
            case .unsignedByte: "unsigned bytes"
            case .signedByte: "signed bytes"
            case .short: "16-bit integers"
            case .int: "32-bit integers"
            case .float: "32-bit floats"
            case .double: "64-bit floats"
            }
        }

        /// Whether the elements are integers.
        public var isInteger: Bool { self != .float && self != .double }
    }

    /// The element type.
    public let elementType: ElementType
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// The elements' bytes as stored (big-endian), `shape.product · elementType.byteCount` of them.
    public let payload: [UInt8]
    /// The byte offset of the first element in the (decompressed) file.
    public let payloadOffset: Int

    /// Number of elements.
    public var count: Int { payload.count / elementType.byteCount }

    /// Element `index` (row-major) as a `Double` (exact for every type).
    ///
    /// - Parameter index: in `0..<count`.
    public func value(at index: Int) -> Double {
        precondition(index >= 0 && index < count, "IDXArray: index \(index) out of range 0..<\(count)")
        let start = index * elementType.byteCount
        var bits: UInt64 = 0
        for offset in start..<(start + elementType.byteCount) { bits = bits << 8 | UInt64(payload[offset]) }
        switch elementType {
        case .unsignedByte: return Double(bits)
        case .signedByte: return Double(Int8(bitPattern: UInt8(bits)))
        case .short: return Double(Int16(bitPattern: UInt16(bits)))
        case .int: return Double(Int32(bitPattern: UInt32(bits)))
        case .float: return Double(Float(bitPattern: UInt32(bits)))
        case .double: return Double(bitPattern: bits)
        }
    }

    /// All elements as a flat array, each multiplied by `scale`.
    ///
    /// - Parameter scale: factor applied to every element (1/255 maps bytes to `[0, 1]`).
    public func scalars<Scalar: TensorScalar>(scale: Double = 1, as type: Scalar.Type = Scalar.self) -> [Scalar] {
        if elementType == .unsignedByte {
            let table = (0..<256).map { Scalar(Double($0) * scale) }
            return payload.map { table[Int($0)] }
        }
        return (0..<count).map { Scalar(value(at: $0) * scale) }
    }

    /// The array read from an IDX file, gunzipped first when it is gzip-compressed.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - maximumBytes: the largest file accepted, and separately the largest decompressed
    ///     contents of a gzip file (nil: `FileSizeLimit.dataBytes`).
    /// - Throws: `DataError` for a bad magic number, impossible dimensions, a truncated body,
    ///   trailing bytes, non-finite floats, a corrupt gzip stream, or a file over the limit.
    public static func read(contentsOf url: URL, maximumBytes: Int? = nil) throws(DataError) -> IDXArray {
        let name = DataFile.displayName(url)
        return try parse(try DataFile.read(url, name: name, limit: maximumBytes), file: name)
    }

    /// The array held in the bytes of an IDX file (already decompressed).
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - file: the name used in error messages.
    /// - Throws: `DataError` (see `read(contentsOf:)`).
    public static func parse(_ bytes: [UInt8], file: String) throws(DataError) -> IDXArray {
        guard !bytes.isEmpty else { throw DataError(file: file, location: .file, reason: .emptyFile) }
        let expectedMagic = "00 00 followed by a type byte 08, 09, 0B, 0C, 0D or 0E and the number of dimensions"
        guard bytes.count >= 4 else {
            throw DataError(file: file, location: .byte(bytes.count),
                            reason: .truncated("IDX magic number: expected 4 bytes, found \(bytes.count)"))
        }
        let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        guard bytes[0] == 0, bytes[1] == 0, let elementType = ElementType(rawValue: bytes[2]) else {
            throw DataError(file: file, location: .byte(0), reason: .badMagic(found: magic, expected: expectedMagic))
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else {
            throw DataError(file: file, location: .byte(3), reason: .badDimensions("the magic number declares 0 dimensions"))
        }
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw DataError(file: file, location: .byte(bytes.count),
                            reason: .truncated("IDX header: \(rank) dimension sizes need \(headerLength) bytes, found \(bytes.count)"))
        }
        var shape: [Int] = []
        var elementCount = 1
        for axis in 0..<rank {
            let at = 4 + 4 * axis
            let size = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            shape.append(size)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int(Int32.max) else {
                throw DataError(file: file, location: .byte(at),
                                reason: .badDimensions("shape \(shape)… has more than 2^31 elements"))
            }
            elementCount = product
        }
        let dataLength = elementCount * elementType.byteCount
        let found = bytes.count - headerLength
        guard found >= dataLength else {
            throw DataError(file: file, location: .byte(bytes.count),
                            reason: .truncated("IDX body: shape \(shape) of \(elementType.pluralName) needs \(dataLength) bytes after the header, found \(found)"))
        }
        guard found == dataLength else {
            throw DataError(file: file, location: .byte(headerLength + dataLength), reason: .trailingBytes(count: found - dataLength))
        }
        let array = IDXArray(elementType: elementType, shape: shape,
                             payload: Array(bytes[headerLength...]), payloadOffset: headerLength)
        if !elementType.isInteger {
            for index in 0..<array.count where !array.value(at: index).isFinite {
                throw DataError(file: file, location: .byte(headerLength + index * elementType.byteCount),
                                reason: .notFinite(value: String(array.value(at: index))))
            }
        }
        return array
    }
}

/// MNIST-format data sets from a pair of IDX files.
public enum IDXLoader {
    /// Images and labels from two IDX files (each optionally gzip-compressed) as a data set.
    ///
    /// Features: `[n, prod(image shape)]`, each element · `scale`. Labels: the integers of the
    /// labels file. Targets: one-hot `[n, classCount]`, or the class index `[n, 1]` with
    /// `encoding: .index`. For MNIST: `load(images: train-images-idx3-ubyte.gz,
    /// labels: train-labels-idx1-ubyte.gz)` gives `[60000, 784]` features in `[0, 1]`.
    ///
    /// - Parameters:
    ///   - images: an IDX file of at least 2 dimensions, `[n, ...]`.
    ///   - labels: a 1-dimensional IDX file of integers, `[n]`.
    ///   - scale: multiplies every image element (default 1/255: bytes to `[0, 1]`).
    ///   - classCount: the number of classes; labels must lie in `0..<classCount`. Default:
    ///     the largest label + 1 (labels below 65 536, and below 2²⁸ / n for one-hot targets).
    ///   - encoding: one-hot targets (default) or index targets.
    ///   - type: the element type of the tensors.
    ///   - maximumFileBytes: the largest file accepted (nil: `FileSizeLimit.dataBytes`).
    /// - Throws: `DataError` for either file, or `labelCountMismatch`.
    public static func load<Scalar: TensorScalar>(
        images: URL, labels: URL, scale: Double = 1.0 / 255.0, classCount: Int? = nil,
        encoding: CSVOptions.LabelEncoding = .oneHot, as type: Scalar.Type = Scalar.self, maximumFileBytes: Int? = nil
    ) throws(DataError) -> Dataset<Scalar> {
        let imageArray = try IDXArray.read(contentsOf: images, maximumBytes: maximumFileBytes)
        let labelArray = try IDXArray.read(contentsOf: labels, maximumBytes: maximumFileBytes)
        return try dataset(images: imageArray, imagesFile: DataFile.displayName(images),
                           labels: labelArray, labelsFile: DataFile.displayName(labels),
                           scale: scale, classCount: classCount, encoding: encoding, as: type)
    }

    /// The data set made of two parsed IDX arrays (see `load(images:labels:...)`).
    ///
    /// - Parameters:
    ///   - images: the images array, `[n, ...]`.
    ///   - imagesFile: its name for error messages.
    ///   - labels: the labels array, `[n]` of integers.
    ///   - labelsFile: its name for error messages.
    ///   - scale: multiplies every image element.
    ///   - classCount: the number of classes, or nil for the largest label + 1.
    ///   - encoding: one-hot or index targets.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError`.
    public static func dataset<Scalar: TensorScalar>(
        images: IDXArray, imagesFile: String, labels: IDXArray, labelsFile: String, scale: Double = 1.0 / 255.0,
        classCount: Int? = nil, encoding: CSVOptions.LabelEncoding = .oneHot, as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        guard images.shape.count >= 2 else {
            throw DataError(file: imagesFile, location: .byte(0), reason: .badMagic(
                found: UInt32(images.elementType.rawValue) << 8 | UInt32(images.shape.count),
                expected: "an images file of at least 2 dimensions, such as 0x00000803"))
        }
        guard labels.shape.count == 1, labels.elementType.isInteger else {
            throw DataError(file: labelsFile, location: .byte(0), reason: .badMagic(
                found: UInt32(labels.elementType.rawValue) << 8 | UInt32(labels.shape.count),
                expected: "a labels file of integers with 1 dimension, such as 0x00000801"))
        }
        let count = images.shape[0]
        guard labels.shape[0] == count else {
            throw DataError(file: labelsFile, location: .byte(4),
                            reason: .labelCountMismatch(images: count, labels: labels.shape[0], imagesFile: imagesFile))
        }
        guard count >= 1 else {
            throw DataError(file: imagesFile, location: .byte(4), reason: .badDimensions("the file holds 0 images"))
        }
        // Without a class count, labels are bounded so that one-hot targets fit in memory
        // (2^28 elements at most), as for CSV files.
        let limit = classCount ?? (encoding == .oneHot
            ? min(CSVLoader.labelLimit, max(2, (1 << 28) / max(count, 1))) : CSVLoader.labelLimit)
        var classLabels: [Int] = []
        classLabels.reserveCapacity(count)
        for index in 0..<count {
            let value = labels.value(at: index)
            guard value >= 0 && value < Double(limit) else {
                throw DataError(file: labelsFile, location: .byte(labels.payloadOffset + index * labels.elementType.byteCount),
                                reason: .invalidLabel(cell: String(Int(value)), limit: limit))
            }
            classLabels.append(Int(value))
        }
        let classes = classCount ?? ((classLabels.max() ?? 0) + 1)
        let width = images.count / count
        let scaled = images.scalars(scale: scale, as: type)
        // A 64-bit float (or a large integer times `scale`) may not fit in Scalar.
        if let index = scaled.firstIndex(where: { !$0.isFinite }) {
            throw DataError(file: imagesFile, location: .byte(images.payloadOffset + index * images.elementType.byteCount),
                            reason: .outOfRange(value: "\(images.value(at: index) * scale)", type: Scalar.scalarTypeName,
                                                largest: "\(Scalar.greatestFiniteMagnitude)"))
        }
        let features = Tensor<Scalar>(shape: [count, width], scalars: scaled)
        let targets: Tensor<Scalar> = switch encoding {
        case .oneHot: Tensor.oneHot(classLabels, classes: classes)
        case .index: Tensor(shape: [count, 1], scalars: classLabels.map { Scalar($0) })
        }
        return Dataset(features: features, targets: targets, labels: classLabels)
    }
}
