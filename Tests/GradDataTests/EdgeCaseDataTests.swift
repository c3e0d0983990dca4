import Foundation
import GradData
import GradTensor
import GradTestSupport
import Testing

/// Numerical edge cases of the data layer: huge values, constant columns, labels out of range,
/// empty sets and batches, sequences of length 0 and 1. Each either works (with the expected
/// numbers) or gives a one-line `DataError` naming the file and the place.
@Suite struct EdgeCaseDataTests {
    /// `rows` lines of `a,b,y` with column a = `a(row)`, b = row, y = row mod 2.
    static func csv(rows: Int, a: (Int) -> String) -> String {
        "a,b,y\n" + (0..<rows).map { "\(a($0)),\($0),\($0 % 2)" }.joined(separator: "\n")
    }

    /// An IDX array parsed from its header fields and payload (`type` the magic number's type byte).
    static func idx(_ type: UInt8, _ shape: [Int], _ payload: [UInt8], file: String) throws -> IDXArray {
        var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
        for size in shape { bytes += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] }
        return try IDXArray.parse(bytes + payload, file: file)
    }

    /// The values of column `column` of a `[n, d]` tensor.
    static func column<T: TensorScalar>(_ tensor: Tensor<T>, _ column: Int) -> [T] {
        let width = tensor.shape[1]
        return stride(from: column, to: tensor.count, by: width).map { tensor.scalars[$0] }
    }

    // MARK: Huge values

    @Test("a column of values near 1e30 standardizes to finite values with mean 0 and std 1, in Float and Double")
    func hugeValuesStandardize() throws {
        let text = Self.csv(rows: 10) { "\(Double($0 + 1) * 1e30)" }
        let asFloat = try CSVLoader.load(bytes: Array(text.utf8), file: "huge.csv", options: CSVOptions(standardize: true), as: Float.self)
        let asDouble = try readCSV(text, CSVOptions(standardize: true))
        let fitted = try #require(asDouble.standardization)
        #expect(isClose(fitted.mean[0], 5.5e30, rtol: 1e-12), "mean \(fitted.mean[0])")
        // Population std of 1…10 is √8.25.
        #expect(isClose(fitted.standardDeviation[0], 8.25.squareRoot() * 1e30, rtol: 1e-12), "std \(fitted.standardDeviation[0])")
        let doubles = Self.column(asDouble.train.features, 0)
        let floats = Self.column(asFloat.train.features, 0)
        for row in 0..<10 {
            let expected = (Double(row + 1) - 5.5) / 8.25.squareRoot()
            #expect(isClose(doubles[row], expected, rtol: 1e-12), "row \(row): \(doubles[row]) vs \(expected)")
            #expect(floats[row].isFinite && isClose(Double(floats[row]), expected, rtol: 1e-6), "row \(row): \(floats[row])")
        }
    }

    @Test("Standardization(fitting:) keeps statistics finite for Float inputs of ±3e38 and Double inputs of ±1e308")
    func statisticsDoNotOverflow() {
        let floats = Tensor<Float>(shape: [4, 1], scalars: [3e38, -3e38, 3e38, -3e38])
        let f = Standardization(fitting: floats)
        #expect(f.mean == [0])
        #expect(isClose(f.standardDeviation[0], Double(Float(3e38)), rtol: 1e-12), "std \(f.standardDeviation[0])")
        #expect(f.apply(to: floats).scalars == [1, -1, 1, -1])
        // (1e308)² overflows Double itself; the scaled two-pass formula does not.
        let doubles = Tensor<Double>(shape: [2, 1], scalars: [1e308, -1e308])
        let d = Standardization(fitting: doubles)
        #expect(d.mean == [0] && d.standardDeviation == [1e308], "mean \(d.mean), std \(d.standardDeviation)")
        #expect(d.apply(to: doubles).scalars == [1, -1])
        // The difference of two values near ±Double.greatestFiniteMagnitude overflows; apply does not.
        let extreme = Tensor<Double>(shape: [2, 1], scalars: [1.5e308, 1.7e308])
        let e = Standardization(fitting: extreme)
        let applied = e.apply(to: Tensor<Double>(shape: [1, 1], scalars: [-1.7e308]))
        #expect(applied.scalars[0].isFinite, "standardized \(applied.scalars)")
    }

    @Test("the statistics are the plain two-pass formula's, bit for bit, for ordinary values")
    func scalingIsExact() {
        let values: [Double] = [0.1, 0.7, 3.3, -2.25, 1e-3, 12.5, 0.3333]
        let fitted = Standardization(fitting: Tensor<Double>(shape: [values.count, 1], scalars: values))
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(fitted.mean == [mean])
        #expect(fitted.standardDeviation == [variance.squareRoot()])
    }

    @Test("a value beyond Float's range is refused naming the cell, unless the column is standardized in Double first")
    func valuesBeyondFloat() throws {
        let text = Self.csv(rows: 6) { $0 == 3 ? "1e39" : "\(Double($0) * 1e38)" }
        let error = dataError { try CSVLoader.load(bytes: Array(text.utf8), file: "big.csv", as: Float.self) }
        #expect(error?.description == "big.csv:5:1: value '1e39' is too large for 32-bit floats (largest 3.4028235e+38); "
                + "rescale the data, or standardize the features")
        // Double holds it.
        #expect(try readCSV(text).train.features.scalars[6] == 1e39)
        // Standardized (in Double) it fits Float.
        let standardized = try CSVLoader.load(bytes: Array(text.utf8), file: "big.csv", options: CSVOptions(standardize: true), as: Float.self)
        #expect(standardized.train.features.scalars.allSatisfy { $0.isFinite && Swift.abs($0) < 3 })
        // A regression target is never standardized, so it must fit.
        let target = "x,y\n1,2\n3,-5e38\n"
        let targetError = dataError {
            try CSVLoader.load(bytes: Array(target.utf8), file: "t.csv", options: CSVOptions(standardize: true), as: Float.self)
        }
        #expect(targetError?.location == .cell(row: 3, column: 2))
        #expect(targetError?.description.contains("'-5e38' is too large for 32-bit floats") == true, "\(String(describing: targetError))")
    }

    // MARK: Constant columns

    @Test("a constant column standardizes to exactly 0, even where its mean rounds (0.1 three times)")
    func constantColumnsBecomeZero() throws {
        // In Double, (0.1 + 0.1 + 0.1) / 3 = 0.10000000000000002 ≠ 0.1: a naive two-pass std is
        // 1.4e-17 > 0, and (0.1 − mean) / std = −1 instead of 0.
        let text = "a,b,y\n0.1,1,0\n0.1,2,1\n0.1,4,0\n"
        let data = try readCSV(text, CSVOptions(standardize: true))
        let fitted = try #require(data.standardization)
        #expect(fitted.mean[0] == 0.1 && fitted.standardDeviation[0] == 1)
        #expect(Self.column(data.train.features, 0) == [0, 0, 0])
        // Float tensors, a huge constant, a negative one.
        let tensor = Tensor<Float>(shape: [3, 3], scalars: [0.1, 1e30, -7, 0.1, 1e30, -7, 0.1, 1e30, -7])
        let statistics = Standardization(fitting: tensor)
        #expect(statistics.standardDeviation == [1, 1, 1])
        #expect(statistics.apply(to: tensor).scalars == [Float](repeating: 0, count: 9))
        // One row: every column is constant.
        let one = Standardization(fitting: Tensor<Double>(shape: [1, 2], scalars: [5, -3]))
        #expect(one.apply(to: Tensor<Double>(shape: [1, 2], scalars: [5, -3])).scalars == [0, 0])
    }

    @Test("a column whose spread is only rounding noise counts as constant (std 1), as scikit-learn's rule")
    func nearlyConstantColumns() {
        let x = 0.1
        let values = [x, x.nextUp, x, x.nextDown, x]
        let fitted = Standardization(fitting: Tensor<Double>(shape: [5, 1], scalars: values))
        #expect(fitted.standardDeviation == [1])
        let out = fitted.apply(to: Tensor<Double>(shape: [5, 1], scalars: values)).scalars
        #expect(out.allSatisfy { Swift.abs($0) < 1e-15 }, "\(out)")
        // A real spread of the same size relative to a small mean is kept.
        let spread = Standardization(fitting: Tensor<Double>(shape: [2, 1], scalars: [1e-20, -1e-20]))
        #expect(spread.standardDeviation == [1e-20])
    }

    @Test("a column holding a NaN or an infinity is left as it is instead of trapping")
    func nonFiniteColumnsAreLeftAlone() {
        let tensor = Tensor<Double>(shape: [2, 2], scalars: [1, .nan, 3, 4])
        let fitted = Standardization(fitting: tensor)
        #expect(fitted.mean[1] == 0 && fitted.standardDeviation[1] == 1)
        #expect(fitted.standardDeviation[0] == 1 && fitted.mean[0] == 2)
    }

    // MARK: Labels out of range

    @Test("class labels outside 0..<classCount, negative or fractional are refused naming the cell")
    func labelsOutOfRange() throws {
        func load(_ label: String, classCount: Int? = 3) -> DataError? {
            let text = "a,label\n0.5,0\n0.25,2\n0.75,\(label)\n0.1,1\n"
            return dataError {
                try readCSV(text, CSVOptions(task: .classification(.index), classCount: classCount))
            }
        }
        #expect(load("3")?.description == "test.csv:4:2: class label '3' is not an integer in 0..<3")
        #expect(load("-1")?.description == "test.csv:4:2: class label '-1' is not an integer in 0..<3")
        #expect(load("1.5")?.description == "test.csv:4:2: class label '1.5' is not an integer in 0..<3")
        #expect(load("1e9")?.description == "test.csv:4:2: class label '1e9' is not an integer in 0..<3")
        #expect(load("nan")?.description == "test.csv:4:2: class label 'nan' is not an integer in 0..<3")
        #expect(load("2") == nil)
        // Without a class count, the bound is the largest label accepted (65 536).
        #expect(load("-2", classCount: nil)?.description == "test.csv:4:2: class label '-2' is not an integer in 0..<65536")
        // A class count above the largest label widens one-hot targets to it.
        let wide = try readCSV("a,label\n0.5,0\n0.25,1\n", CSVOptions(task: .classification(.oneHot), classCount: 4))
        #expect(wide.classCount == 4 && wide.train.targets.shape == [2, 4])
        #expect(rows(wide.train.targets) == [[1, 0, 0, 0], [0, 1, 0, 0]])
    }

    @Test("IDX labels at or beyond the class count are refused naming the byte")
    func idxLabelsOutOfRange() throws {
        let images = try Self.idx(0x08, [3, 2], [1, 2, 3, 4, 5, 6], file: "i.idx")
        let labels = try Self.idx(0x08, [3], [0, 4, 1], file: "l.idx")
        let error = dataError {
            try IDXLoader.dataset(images: images, imagesFile: "i.idx", labels: labels, labelsFile: "l.idx", classCount: 3,
                                  as: Float.self)
        }
        #expect(error?.description == "l.idx: byte 9: class label '4' is not an integer in 0..<3")
    }

    @Test("a 64-bit float IDX element beyond Float's range is refused naming its byte")
    func idxValuesBeyondFloat() throws {
        var payload: [UInt8] = []
        for value in [1.0, 1e300] { payload += withUnsafeBytes(of: value.bitPattern.bigEndian) { Array($0) } }
        let images = try Self.idx(0x0E, [2, 1], payload, file: "d.idx")
        let labels = try Self.idx(0x08, [2], [0, 1], file: "l.idx")
        let error = dataError {
            try IDXLoader.dataset(images: images, imagesFile: "d.idx", labels: labels, labelsFile: "l.idx", scale: 1, as: Float.self)
        }
        #expect(error?.location == .byte(20))
        #expect(error?.description.hasPrefix("d.idx: byte 20: value '1e+300' is too large for 32-bit floats") == true,
                "\(String(describing: error))")
        // In Double it loads.
        let doubles = try IDXLoader.dataset(images: images, imagesFile: "d.idx", labels: labels, labelsFile: "l.idx",
                                            scale: 1, as: Double.self)
        #expect(doubles.features.scalars == [1, 1e300])
    }

    // MARK: Empty sets and batches

    @Test("a CSV with no data rows is refused; a split always keeps a training row")
    func emptySets() throws {
        #expect(dataError { try readCSV("") }?.description == "test.csv: the file is empty")
        #expect(dataError { try readCSV("\n \n") }?.description == "test.csv: the file is empty")
        #expect(dataError { try readCSV("a,b,y\n", CSVOptions(header: .present)) }?.description
                == "test.csv:1: the file has a header row but no data rows")
        // One row and a validation split: the row trains, validation is empty.
        let one = try readCSV("a,y\n1,2\n", CSVOptions(header: .present, standardize: true, validationFraction: 0.9))
        #expect(one.train.count == 1 && one.validation?.count == 0)
        #expect(one.train.features.scalars == [0], "a single row is a constant column")
        // Two rows with the largest fraction: one each.
        let two = try readCSV("a,y\n1,2\n3,4\n", CSVOptions(header: .present, validationFraction: 0.99))
        #expect(two.train.count == 1 && two.validation?.count == 1)
        // An IDX pair with no images.
        let images = try Self.idx(0x08, [0, 2], [], file: "e.idx")
        let labels = try Self.idx(0x08, [0], [], file: "l.idx")
        #expect(dataError {
            try IDXLoader.dataset(images: images, imagesFile: "e.idx", labels: labels, labelsFile: "l.idx", as: Float.self)
        }?.description == "e.idx: byte 4: bad dimensions: the file holds 0 images")
    }

    @Test("a batch size larger than the set gives one batch of every example per epoch")
    func batchLargerThanTheSet() {
        let set = Dataset(features: Tensor<Float>(shape: [3, 1], scalars: [1, 2, 3]),
                          targets: Tensor<Float>(shape: [3, 1], scalars: [4, 5, 6]))
        let loader = DataLoader(set, batchSize: .size(1000), seed: 1)
        #expect(loader.batchesPerEpoch == 1)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.count == 1)
        #expect(batches.first?.count == 3)
        #expect(batches.first.map { $0.features.scalars.sorted() } == [1, 2, 3])
    }

    // MARK: Sequence lengths

    @Test("sequence tasks: length 0 is refused with a one-line error; length 1 works where the task allows it")
    func sequenceLengths() throws {
        #expect(dataError { try SyntheticData.adding(count: 4, length: 0, as: Float.self) }?.description.hasPrefix("adding:") == true)
        let addingOne = dataError { try SyntheticData.adding(count: 4, length: 1, as: Float.self) }
        #expect(addingOne?.description.contains("at least 2") == true, "\(String(describing: addingOne))")
        let adding = try SyntheticData.adding(count: 4, length: 2, as: Float.self)
        #expect(adding.features.shape == [4, 4] && adding.targets.shape == [4, 1])

        #expect(dataError { try SyntheticData.copyTask(count: 4, length: 0, as: Float.self) }?.description
                == "copy: bad argument: length (symbols to copy) must be at least 1, got 0")
        let copy = try SyntheticData.copyTask(count: 4, symbols: 3, length: 1, delay: 1, as: Float.self)
        #expect(copy.targets.shape == [4, 3], "2·1 + 1 steps")
        #expect(copy.features.shape == [4, 3 * 5], "3 steps of 3 + 2 channels")

        #expect(dataError { try SyntheticData.paritySequence(count: 4, length: 0, as: Float.self) }?
            .description.hasPrefix("parity_sequence:") == true)
        let parity = try SyntheticData.paritySequence(count: 8, length: 1, running: true, seed: 2, as: Float.self)
        #expect(parity.features.shape == [8, 1] && parity.targets.shape == [8, 1])
        // The parity of one bit is the bit.
        #expect(parity.targets.scalars == parity.features.scalars)
    }
}
