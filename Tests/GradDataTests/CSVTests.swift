import Foundation
import Testing
import GradData
import GradTensor
import GradTestSupport

@Suite("CSV loading")
struct CSVTests {
    @Test("a 3-row CSV with a header gives exact feature and target tensors")
    func threeRowsExact() throws {
        let data = try readCSV("a,b,y\n1,2,3\n4,5.5,6\n-7,8e1,9\n")
        #expect(data.hasHeader)
        #expect(data.featureNames == ["a", "b"])
        #expect(data.targetName == "y")
        #expect(data.train.features.shape == [3, 2])
        #expect(rows(data.train.features) == [[1, 2], [4, 5.5], [-7, 80]])
        #expect(rows(data.train.targets) == [[3], [6], [9]])
        #expect(data.train.labels == nil)
        #expect(data.validation == nil)
        #expect(data.classCount == nil)
        #expect(data.trainRows == [0, 1, 2])
    }

    @Test("the same rows without a header are all data; an explicit header option overrides detection")
    func headerDetection() throws {
        let plain = try readCSV("1,2,3\n4,5,6\n")
        #expect(!plain.hasHeader)
        #expect(plain.train.count == 2)
        #expect(plain.featureNames == ["column 1", "column 2"])
        #expect(plain.targetName == "column 3")
        let forced = try readCSV("1,2,3\n4,5,6\n", CSVOptions(header: .present))
        #expect(forced.hasHeader)
        #expect(forced.featureNames == ["1", "2"])
        #expect(rows(forced.train.features) == [[4, 5]])
        // A header with one numeric-looking name is still found from the other columns.
        let mixed = try readCSV("x,2019,y\n1,2,3\n")
        #expect(mixed.hasHeader)
        #expect(mixed.featureNames == ["x", "2019"])
        // Text labels in the first row alone do not make it a header.
        let labelled = try readCSV("1,2,cat\n3,4,dog\n", CSVOptions(task: .classification(.index)))
        #expect(!labelled.hasHeader)
        #expect(labelled.train.labels == [0, 1])
    }

    @Test("target column by name, by index and by negative index")
    func targetSelection() throws {
        let text = "x,price,z\n1,10,100\n2,20,200\n"
        let byName = try readCSV(text, CSVOptions(target: .name("price")))
        #expect(byName.featureNames == ["x", "z"])
        #expect(rows(byName.train.features) == [[1, 100], [2, 200]])
        #expect(rows(byName.train.targets) == [[10], [20]])
        let byIndex = try readCSV(text, CSVOptions(target: .index(0)))
        #expect(rows(byIndex.train.targets) == [[1], [2]])
        #expect(byIndex.targetName == "x")
        let fromEnd = try readCSV(text, CSVOptions(target: .index(-2)))
        #expect(fromEnd.targetName == "price")
    }

    @Test("classification: integer labels with one-hot or index targets")
    func classificationEncodings() throws {
        let text = "f,label\n0.5,0\n1.5,2\n2.5,1\n3.5,2.0\n"
        let oneHot = try readCSV(text, CSVOptions(task: .classification(.oneHot)))
        #expect(oneHot.train.labels == [0, 2, 1, 2])
        #expect(oneHot.classCount == 3)
        #expect(oneHot.classNames == nil)
        #expect(rows(oneHot.train.targets) == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
        let index = try readCSV(text, CSVOptions(task: .classification(.index)))
        #expect(rows(index.train.targets) == [[0], [2], [1], [2]])
        #expect(rows(index.train.features) == [[0.5], [1.5], [2.5], [3.5]])
    }

    @Test("classification: text labels are numbered in sorted order")
    func textLabels() throws {
        let data = try readCSV("w,species\n1,versicolor\n2,setosa\n3, virginica \n4,setosa\n",
                               CSVOptions(task: .classification(.oneHot)))
        #expect(data.classNames == ["setosa", "versicolor", "virginica"])
        #expect(data.train.labels == [1, 0, 2, 0])
        #expect(data.train.targets.shape == [4, 3])
    }

    @Test("RFC 4180 quotes: delimiters, escaped quotes and line breaks inside quoted cells")
    func quotedFields() throws {
        let data = try readCSV("\"a,b\",\"say \"\"hi\"\"\",\"y\"\n\"1.5\", 2 ,3\n\"4\",\"5\"  ,\"6\"\n")
        #expect(data.featureNames == ["a,b", "say \"hi\""])
        #expect(rows(data.train.features) == [[1.5, 2], [4, 5]])
        #expect(rows(data.train.targets) == [[3], [6]])
        let multiline = try readCSV("\"first\nname\",y\n1,2\n3,4\n")
        #expect(multiline.featureNames == ["first\nname"])
        #expect(rows(multiline.train.features) == [[1], [3]])
        // Lines inside quotes count: the bad cell is on the file's fourth line.
        #expect(dataError { try readCSV("\"first\nname\",y\n1,2\n3,x\n") }?.description
                == "test.csv:4:2: cell 'x' is not a number")
        // The note column is text: reading it as a feature fails at its row and column.
        #expect(dataError { try readCSV("x,note,y\n1,\"two\nlines\",2\n3,zz,4\n") }?.description
                == "test.csv:2:2: cell 'two\\nlines' is not a number")
    }

    @Test("CRLF and lone CR line ends, a missing final newline, blank lines and a byte-order mark")
    func lineEnds() throws {
        let expected: [[Double]] = [[1, 2], [4, 5]]
        for text in ["a,b,y\r\n1,2,3\r\n4,5,6\r\n", "a,b,y\r1,2,3\r4,5,6", "a,b,y\n1,2,3\n4,5,6",
                     "a,b,y\n1,2,3\n\n  \n4,5,6\n\n\n", "\u{FEFF}a,b,y\n1,2,3\n4,5,6\n"] {
            let data = try readCSV(text)
            #expect(rows(data.train.features) == expected, "\(text.debugDescription)")
            #expect(data.featureNames == ["a", "b"], "\(text.debugDescription)")
        }
        // Blank lines still count for line numbers in errors.
        #expect(dataError { try readCSV("a,b\n\n1,2\n\n3,x\n") }?.description == "test.csv:5:2: cell 'x' is not a number")
    }

    @Test("semicolon and tab delimiters")
    func delimiters() throws {
        let semicolon = try readCSV("a;b\n1.5;2\n", CSVOptions(delimiter: UInt8(ascii: ";")))
        #expect(semicolon.featureNames == ["a"])
        #expect(rows(semicolon.train.features) == [[1.5]])
        // Read with the default comma, each row is one column: no feature left.
        #expect(dataError { try readCSV("a;b\n1.5;2\n") }?.reason == .noFeatureColumns)
        let tab = try readCSV("a\tb\n1\t2\n3\t4\n", CSVOptions(delimiter: UInt8(ascii: "\t")))
        #expect(rows(tab.train.features) == [[1], [3]])
        #expect(rows(tab.train.targets) == [[2], [4]])
    }

    @Test("numbers parse to the same Double as Swift's own parser, fast path or not")
    func numberParsing() throws {
        let cells = ["0.1", "-0.332006", "1e-5", "2.5E+3", "123456789012345678901234", "0.30000000000000004",
                     "9007199254740993", "-0", "+7", ".5", "5.", "1e22", "1e23", "4.9e-324", "0000012.50"]
        let text = "x,y\n" + cells.map { "\($0),0" }.joined(separator: "\n")
        let data = try readCSV(text)
        let values = data.train.features.scalars
        for (cell, value) in zip(cells, values) {
            let expected = Double(cell) ?? .nan
            #expect(value == expected && value.sign == expected.sign, "\(cell): \(value) vs \(expected)")
        }
        #expect(values.count == cells.count)
    }

    @Test("Float tensors hold the rounded values")
    func floatScalars() throws {
        let data = try CSVLoader.load(bytes: Array("a,y\n0.1,1\n".utf8), file: "f.csv", as: Float.self)
        #expect(data.train.features.scalars == [Float(0.1)])
    }

    @Test("a gzip-compressed CSV file (CRLF inside) loads from disk")
    func gzippedFile() throws {
        let url = fixturesDirectory.appendingPathComponent("data/small.csv.gz")
        let data = try CSVLoader.load(contentsOf: url, as: Double.self)
        #expect(rows(data.train.features) == [[1, 2], [4, 5]])
        #expect(rows(data.train.targets) == [[3], [6]])
    }

    @Test("a missing file is an unreadable-file error naming the path")
    func missingFile() {
        let error = dataError { try CSVLoader.load(contentsOf: URL(fileURLWithPath: "no/such/file.csv"), as: Double.self) }
        #expect(error?.description == "no/such/file.csv: cannot read the file: no such file")
        #expect(error?.location == .file)
    }

    @Test("train/validation split: sizes, disjoint cover, reproducible by seed, different between seeds")
    func split() throws {
        let text = "x,y\n" + (0..<10).map { "\($0),\($0 * 10)" }.joined(separator: "\n")
        let first = try readCSV(text, CSVOptions(validationFraction: 0.3, seed: 1))
        #expect(first.train.count == 7)
        #expect(first.validation?.count == 3)
        #expect(Set(first.trainRows).isDisjoint(with: first.validationRows))
        #expect((first.trainRows + first.validationRows).sorted() == Array(0..<10))
        // Rows keep their values: x is the row number, y ten times it.
        #expect(first.validation?.features.scalars == first.validationRows.map { Double($0) })
        #expect(first.validation?.targets.scalars == first.validationRows.map { Double($0 * 10) })
        #expect(first.train.features.scalars == first.trainRows.map { Double($0) })
        let again = try readCSV(text, CSVOptions(validationFraction: 0.3, seed: 1))
        #expect(again.validationRows == first.validationRows)
        let other = try readCSV(text, CSVOptions(validationFraction: 0.3, seed: 2))
        #expect(other.validationRows != first.validationRows)
        // Small fractions still hold one row out; training always keeps one.
        #expect(DataSplit.indices(count: 10, validationFraction: 0.01, seed: 0).validation.count == 1)
        #expect(DataSplit.indices(count: 2, validationFraction: 0.99, seed: 0).train.count == 1)
        #expect(DataSplit.indices(count: 1000, validationFraction: 0.25, seed: 0).validation.count == 250)
    }

    @Test("standardization is fitted on the training rows only and applied to validation with those statistics")
    func standardization() throws {
        let text = "a,b,c,y\n" + (0..<20).map { "\($0),\(Double($0) * Double($0) / 7),5,\($0 % 2)" }.joined(separator: "\n")
        let data = try readCSV(text, CSVOptions(standardize: true, validationFraction: 0.25, seed: 3))
        let fitted = try #require(data.standardization)
        let train = data.train.features
        for column in 0..<2 {
            let values = stride(from: column, to: train.count, by: 3).map { train.scalars[$0] }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(mean) < 1e-12, "column \(column) mean \(mean)")
            #expect(abs(variance.squareRoot() - 1) < 1e-12, "column \(column) std \(variance.squareRoot())")
        }
        // The constant column becomes zeros (std 1), not NaN.
        #expect(fitted.standardDeviation[2] == 1)
        #expect(stride(from: 2, to: train.count, by: 3).allSatisfy { train.scalars[$0] == 0 })
        // Training-set statistics: the mean of column a over the 15 training rows.
        let trainMean = data.trainRows.map(Double.init).reduce(0, +) / 15
        #expect(isClose(fitted.mean[0], trainMean, rtol: 1e-14))
        // Validation rows use the training statistics: (x − mean) / std, exactly.
        let validation = try #require(data.validation)
        for (position, row) in data.validationRows.enumerated() {
            let expected = (Double(row) - fitted.mean[0]) / fitted.standardDeviation[0]
            #expect(validation.features.scalars[position * 3] == expected)
        }
        // Targets are not standardized.
        #expect(data.train.targets.scalars == data.trainRows.map { Double($0 % 2) })
    }

    @Test("random bytes never crash the CSV reader: each input loads or gives a one-line DataError")
    func randomInputs() {
        let generator = RandomGenerator(seed: 7)
        let alphabet = Array("0123456789,,,.\"\"\n\r -eE;abNn\t".utf8) + [0x00, 0xFF, 0xC3]
        var loaded = 0, failed = 0
        for trial in 0..<600 {
            let length = trial % 80
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let options = CSVOptions(header: [.automatic, .present, .absent][trial % 3],
                                     task: trial % 2 == 0 ? .regression : .classification(.oneHot),
                                     standardize: trial % 5 == 0, validationFraction: trial % 7 == 0 ? 0.5 : 0)
            do throws(DataError) {
                _ = try CSVLoader.load(bytes: bytes, file: "fuzz.csv", options: options, as: Float.self)
                loaded += 1
            } catch {
                #expect(error.description.hasPrefix("fuzz.csv:"))
                #expect(!error.description.contains("\n"))
                failed += 1
            }
        }
        #expect(loaded + failed == 600)
        #expect(failed > 0)
    }
}
