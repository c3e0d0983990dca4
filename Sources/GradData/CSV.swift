import Foundation
import GradTensor

/// How to read a CSV file into a data set: header, target column, task, scaling and split.
public struct CSVOptions: Sendable, Equatable {
    /// Whether the first row names the columns.
    public enum Header: Sendable, Equatable {
        /// Decide from the file: the first row is a header when some column holds a
        /// non-number there and a number in the second row, or when every cell of the first
        /// row is a non-empty non-number.
        case automatic
        /// The first row is a header.
        case present
        /// Every row is data.
        case absent
    }

    /// Which column holds the target.
    public enum TargetColumn: Sendable, Equatable {
        /// The last column.
        case last
        /// The column at a zero-based position (as pandas' `iloc`); negative counts from the
        /// end (−1 is the last). Error messages number columns from 1, as editors do.
        case index(Int)
        /// The column whose header cell is this name (after trimming spaces).
        case name(String)
    }

    /// How a classification target is encoded in `Dataset.targets`.
    public enum LabelEncoding: Sendable, Equatable {
        /// `targets` is `[n, classes]` with a 1 in each row's class column (for MSE-style
        /// losses); `labels` holds the class indices (for cross-entropy).
        case oneHot
        /// `targets` is `[n, 1]` holding the class index (as the binary sets do, for BCE).
        case index
    }

    /// What the target is.
    public enum Task: Sendable, Equatable {
        /// A number per row: `targets` is `[n, 1]`, `labels` is nil.
        case regression
        /// A class per row. If the first data row's target is a number, every target must be a
        /// non-negative integer (`3` or `3.0`) below 65 536 (and, for one-hot targets, below
        /// 2²⁸ / rows, so that the targets fit in memory) and is the class index; otherwise
        /// targets are class names, numbered in sorted (code point) order and listed in
        /// `CSVData.classNames`. `classCount` is the largest index + 1, or the number of names.
        case classification(LabelEncoding)
    }

    /// Whether the first row is a header (default: decide from the file).
    public var header: Header
    /// The target column (default: the last).
    public var target: TargetColumn
    /// Regression or classification (default: regression).
    public var task: Task
    /// The cell separator, one ASCII byte (default `,`; `;` and tab are common too).
    public var delimiter: UInt8
    /// Whether to standardize the features: `(x − mean) / std` per column, fitted on the
    /// training rows only and returned in `CSVData.standardization` (default: off).
    public var standardize: Bool
    /// The fraction of rows held out for validation, in `[0, 1)` (default 0: no split).
    public var validationFraction: Double
    /// The seed of the train/validation split.
    public var seed: UInt64
    /// The number of classes, when it is known beforehand (a model's outputs): every numeric
    /// class label must lie in `0..<classCount`, and an error names the first cell that does
    /// not; `CSVData.classCount` and the width of one-hot targets are then `classCount`. Nil
    /// (the default): the largest label + 1. Text labels ignore it (their count is the number
    /// of names).
    public var classCount: Int?
    /// The largest file accepted, in bytes (its decompressed contents too, for a gzip file);
    /// nil (the default): `FileSizeLimit.dataBytes`.
    public var maximumFileBytes: Int?

    /// Options with the given values; every one has a default.
    ///
    /// - Parameters:
    ///   - header: whether the first row names the columns.
    ///   - target: which column is the target.
    ///   - task: regression, or classification with one-hot or index targets.
    ///   - delimiter: the cell separator (an ASCII byte).
    ///   - standardize: standardize features with statistics of the training rows.
    ///   - validationFraction: fraction of rows for validation, `0 ≤ f < 1`.
    ///   - seed: fixes the split.
    ///   - classCount: the number of classes, when known (nil: the largest label + 1).
    ///   - maximumFileBytes: the largest file accepted (nil: `FileSizeLimit.dataBytes`).
    public init(
        header: Header = .automatic, target: TargetColumn = .last, task: Task = .regression,
        delimiter: UInt8 = UInt8(ascii: ","), standardize: Bool = false, validationFraction: Double = 0,
        seed: UInt64 = 0, classCount: Int? = nil, maximumFileBytes: Int? = nil
    ) {
        precondition(classCount.map { $0 >= 1 } ?? true, "CSVOptions: classCount must be at least 1, got \(classCount ?? 0)")
        precondition(maximumFileBytes.map { $0 >= 0 } ?? true, "CSVOptions: maximumFileBytes must not be negative")
        precondition(validationFraction >= 0 && validationFraction < 1,
                     "CSVOptions: validationFraction must be in [0, 1), got \(validationFraction)")
        precondition(delimiter < 0x80 && delimiter != UInt8(ascii: "\"") && delimiter != UInt8(ascii: "\n")
                     && delimiter != UInt8(ascii: "\r"),
                     "CSVOptions: the delimiter must be an ASCII byte other than a quote or a line break")
        self.header = header
        self.target = target
        self.task = task
        self.delimiter = delimiter
        self.standardize = standardize
        self.validationFraction = validationFraction
        self.seed = seed
        self.classCount = classCount
        self.maximumFileBytes = maximumFileBytes
    }
}

/// A CSV file read into a training set, and a validation set when a split was asked for.
public struct CSVData<Scalar: TensorScalar>: Sendable {
    /// The training rows (all rows when there is no split).
    public var train: Dataset<Scalar>
    /// The validation rows, or nil when `validationFraction` is 0.
    public var validation: Dataset<Scalar>?
    /// Zero-based data-row numbers (header excluded, file order) of the training rows.
    public var trainRows: [Int]
    /// Zero-based data-row numbers of the validation rows (empty without a split).
    public var validationRows: [Int]
    /// The feature columns' names: header cells, or `column 1`, `column 2`, ... (file positions).
    public var featureNames: [String]
    /// The target column's name (header cell or `column N`).
    public var targetName: String
    /// Number of classes for classification, nil for regression.
    public var classCount: Int?
    /// The class names by index when the labels were text, else nil.
    public var classNames: [String]?
    /// The feature standardization fitted on the training rows, when asked for; apply it to
    /// any later data with `standardization.apply(to:)`.
    public var standardization: Standardization?
    /// Whether the first row was read as a header.
    public var hasHeader: Bool
}

/// Reads CSV files (optionally gzip-compressed) into data sets.
public enum CSVLoader {
    /// The data set in the CSV file at `url`; a file that starts with the gzip magic number or
    /// whose name ends in `.gz` is decompressed first.
    ///
    /// Every feature cell must be a finite number, and, unless the features are standardized
    /// (which happens in `Double`, before the conversion), one that `Scalar` can hold (at most
    /// about 3.4e38 in magnitude for `Float`); so must a regression target. Errors name the file
    /// as given, the 1-based line and the 1-based column (`data.csv:17:3: cell 'abc' is not a
    /// number`). A file larger than `options.maximumFileBytes` is refused before it is read.
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - options: header, target column, task, standardization and split.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError`.
    public static func load<Scalar: TensorScalar>(
        contentsOf url: URL, options: CSVOptions = CSVOptions(), as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> CSVData<Scalar> {
        let name = DataFile.displayName(url)
        let bytes = try DataFile.read(url, name: name, limit: options.maximumFileBytes)
        return try load(bytes: bytes, file: name, options: options, as: type)
    }

    /// The data set in CSV text held in memory (already decompressed).
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 text.
    ///   - file: the name used in error messages.
    ///   - options: header, target column, task, standardization and split.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError`.
    public static func load<Scalar: TensorScalar>(
        bytes: [UInt8], file: String, options: CSVOptions = CSVOptions(), as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> CSVData<Scalar> {
        let table = try CSVTable(bytes: bytes, file: file, delimiter: options.delimiter)
        guard table.recordCount > 0 else { throw DataError(file: file, location: .file, reason: .emptyFile) }
        let columns = table.cellCount(0)
        // Ragged rows first: every later check indexes cells by the first row's width.
        for record in 1..<table.recordCount where table.cellCount(record) != columns {
            let found = table.cellCount(record)
            throw DataError(file: file, location: .cell(row: table.recordLine[record], column: min(found, columns) + 1),
                            reason: .raggedRow(found: found, expected: columns))
        }
        let hasHeader = switch options.header {
        case .present: true
        case .absent: false
        case .automatic: detectHeader(table)
        }
        let firstData = hasHeader ? 1 : 0
        guard table.recordCount > firstData else {
            throw DataError(file: file, location: .row(table.recordLine[0]), reason: .headerOnly)
        }
        let names = (0..<columns).map { hasHeader ? table.text(0, $0).trimmingSpaces() : "column \($0 + 1)" }
        let targetColumn = try resolveTarget(options.target, table: table, hasHeader: hasHeader, names: names)
        guard columns >= 2 else {
            throw DataError(file: file, location: .row(table.recordLine[0]), reason: .noFeatureColumns)
        }

        let rowCount = table.recordCount - firstData
        let featureCount = columns - 1
        // Features stay in Double until standardized, so that values beyond Scalar's range
        // (1e39 for Float) can still be standardized; without standardization each must fit.
        var features = [Double]()
        features.reserveCapacity(rowCount * featureCount)
        for record in firstData..<table.recordCount {
            for column in 0..<columns where column != targetColumn {
                let value = try numberCell(table, record, column)
                if !options.standardize { try checkRange(value, Scalar.self, table, record, column) }
                features.append(value)
            }
        }

        var targets: [Scalar]
        var labels: [Int]? = nil
        var classCount: Int? = nil
        var classNames: [String]? = nil
        var targetWidth = 1
        switch options.task {
        case .regression:
            targets = []
            targets.reserveCapacity(rowCount)
            for record in firstData..<table.recordCount {
                let value = try numberCell(table, record, targetColumn)
                try checkRange(value, Scalar.self, table, record, targetColumn)
                targets.append(Scalar(value))
            }
        case .classification(let encoding):
            // One-hot rows must fit in memory: at most 2^28 target elements in all.
            let memoryLimit = encoding == .oneHot ? min(labelLimit, max(2, (1 << 28) / rowCount)) : labelLimit
            let (classLabels, names) = try readLabels(table, firstData: firstData, column: targetColumn,
                                                      limit: options.classCount ?? memoryLimit, textLimit: memoryLimit)
            let count = names?.count ?? options.classCount ?? ((classLabels.max() ?? -1) + 1)
            labels = classLabels
            classCount = count
            classNames = names
            switch encoding {
            case .index:
                targets = classLabels.map { Scalar($0) }
            case .oneHot:
                targetWidth = count
                targets = [Scalar](repeating: 0, count: rowCount * count)
                for (row, label) in classLabels.enumerated() { targets[row * count + label] = 1 }
            }
        }

        let allTargets = Tensor<Scalar>(shape: [rowCount, targetWidth], scalars: targets)
        var trainRows = Array(0..<rowCount)
        var validationRows: [Int] = []
        if options.validationFraction > 0 {
            (trainRows, validationRows) = DataSplit.indices(
                count: rowCount, validationFraction: options.validationFraction, seed: options.seed)
        }
        var standardization: Standardization? = nil
        if options.standardize {
            var trainValues = [Double]()
            trainValues.reserveCapacity(trainRows.count * featureCount)
            for row in trainRows { trainValues.append(contentsOf: features[(row * featureCount)..<((row + 1) * featureCount)]) }
            let fitted = Standardization(fitting: trainValues, rows: trainRows.count, columns: featureCount)
            features = fitted.apply(to: features)
            standardization = fitted
        }
        let all = Dataset(features: Tensor(shape: [rowCount, featureCount], scalars: features.map { Scalar($0) }),
                          targets: allTargets, labels: labels)
        var train = all
        var validation: Dataset<Scalar>? = nil
        if options.validationFraction > 0 {
            train = all.subset(trainRows)
            validation = all.subset(validationRows)
        }
        var featureNames = names
        featureNames.remove(at: targetColumn)
        return CSVData(train: train, validation: validation, trainRows: trainRows, validationRows: validationRows,
                       featureNames: featureNames, targetName: names[targetColumn], classCount: classCount,
                       classNames: classNames, standardization: standardization, hasHeader: hasHeader)
    }

    /// Whether the first record looks like a header (see `CSVOptions.Header.automatic`).
    static func detectHeader(_ table: CSVTable) -> Bool {
        let columns = table.cellCount(0)
        if table.recordCount >= 2 {
            for column in 0..<columns
            where table.number(0, column) == nil && !table.isEmpty(0, column) && table.number(1, column) != nil {
                return true
            }
        }
        for column in 0..<columns where table.isEmpty(0, column) || table.number(0, column) != nil {
            return false
        }
        return true
    }

    /// The zero-based index of the target column.
    static func resolveTarget(
        _ target: CSVOptions.TargetColumn, table: CSVTable, hasHeader: Bool, names: [String]
    ) throws(DataError) -> Int {
        let columns = names.count
        let firstRow = DataError.Location.row(table.recordLine[0])
        switch target {
        case .last:
            return columns - 1
        case .index(let index):
            let resolved = index < 0 ? columns + index : index
            guard resolved >= 0 && resolved < columns else {
                throw DataError(file: table.file, location: firstRow,
                                reason: .targetColumnOutOfRange(index: index, columns: columns))
            }
            return resolved
        case .name(let name):
            guard hasHeader else {
                throw DataError(file: table.file, location: firstRow, reason: .targetNameWithoutHeader(name: name))
            }
            let wanted = name.trimmingSpaces()
            guard let index = names.firstIndex(of: wanted) else {
                throw DataError(file: table.file, location: firstRow,
                                reason: .targetColumnNotFound(name: name, available: names))
            }
            return index
        }
    }

    /// A finite number from a cell, or the error that names the cell.
    @inline(__always)
    static func numberCell(_ table: CSVTable, _ record: Int, _ column: Int) throws(DataError) -> Double {
        if let value = table.number(record, column), value.isFinite { return value }
        let location = DataError.Location.cell(row: table.recordLine[record], column: column + 1)
        if table.isEmpty(record, column) { throw DataError(file: table.file, location: location, reason: .emptyCell(expected: "a number")) }
        if table.number(record, column) != nil {
            throw DataError(file: table.file, location: location, reason: .notFinite(value: table.text(record, column)))
        }
        throw DataError(file: table.file, location: location, reason: .notANumber(cell: table.text(record, column)))
    }

    /// Throws when `value` (of the cell at `record`, `column`) is too large in magnitude for
    /// `Scalar` (it would become an infinity).
    @inline(__always)
    static func checkRange<Scalar: TensorScalar>(
        _ value: Double, _ type: Scalar.Type, _ table: CSVTable, _ record: Int, _ column: Int
    ) throws(DataError) {
        guard Scalar(value).isFinite else {
            throw DataError(file: table.file, location: .cell(row: table.recordLine[record], column: column + 1),
                            reason: .outOfRange(value: table.text(record, column).trimmingSpaces(),
                                                type: Scalar.scalarTypeName, largest: "\(Scalar.greatestFiniteMagnitude)"))
        }
    }

    /// Labels below this bound are accepted (a one-hot row per example must stay small).
    static let labelLimit = 65_536

    /// The class index of every data row, and the class names when the labels are text.
    /// Numeric labels must lie below `limit`; text labels may name at most `textLimit` classes.
    static func readLabels(
        _ table: CSVTable, firstData: Int, column: Int, limit: Int, textLimit: Int? = nil
    ) throws(DataError) -> (labels: [Int], names: [String]?) {
        func location(_ record: Int) -> DataError.Location {
            .cell(row: table.recordLine[record], column: column + 1)
        }
        let numeric = table.number(firstData, column) != nil
        var labels: [Int] = []
        labels.reserveCapacity(table.recordCount - firstData)
        if numeric {
            for record in firstData..<table.recordCount {
                if table.isEmpty(record, column) {
                    throw DataError(file: table.file, location: location(record), reason: .emptyCell(expected: "a class label"))
                }
                guard let value = table.number(record, column), value >= 0, value < Double(limit),
                      value.rounded(.towardZero) == value else {
                    throw DataError(file: table.file, location: location(record),
                                    reason: .invalidLabel(cell: table.text(record, column), limit: limit))
                }
                labels.append(Int(value))
            }
            return (labels, nil)
        }
        var texts: [String] = []
        texts.reserveCapacity(table.recordCount - firstData)
        for record in firstData..<table.recordCount {
            let text = table.text(record, column).trimmingSpaces()
            if text.isEmpty { throw DataError(file: table.file, location: location(record), reason: .emptyCell(expected: "a class label")) }
            texts.append(text)
        }
        let names = Set(texts).sorted()
        let textLimit = textLimit ?? limit
        guard names.count <= textLimit else {
            throw DataError(file: table.file, location: location(firstData),
                            reason: .invalidLabel(cell: texts[0], limit: textLimit))
        }
        let indexOf = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return (texts.map { indexOf[$0] ?? 0 }, names)
    }
}

extension TensorScalar {
    /// The type in words for messages: `32-bit floats`, `64-bit floats`.
    static var scalarTypeName: String { "\(MemoryLayout<Self>.size * 8)-bit floats" }
}
