import Testing
import GradData
import GradTensor

@Suite("Bundled data sets")
struct BundledDataTests {
    @Test("digits: 1797 rows of 64 pixel values 0–16, labels 0–9, one-hot targets")
    func digits() throws {
        let data = try BundledData.digits(as: Float.self)
        #expect(data.features.shape == [1797, 64])
        #expect(data.targets.shape == [1797, 10])
        let labels = try #require(data.labels)
        #expect(labels.count == 1797)
        #expect(Set(labels) == Set(0...9))
        let pixels = data.features.scalars
        #expect(pixels.allSatisfy { $0 >= 0 && $0 <= 16 && $0.rounded() == $0 })
        #expect(pixels.max() == 16)
        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        #expect(Array(pixels.prefix(6)) == [0, 0, 5, 13, 9, 1])
        #expect(labels[0] == 0 && labels[1] == 1 && labels[2] == 2)
        let targets = rows(data.targets)
        #expect(zip(targets, labels).allSatisfy { row, label in row[label] == 1 && row.reduce(0, +) == 1 })
    }

    @Test("MNIST-1D: 4000 training and 1000 test signals of length 40, labels 0–9")
    func mnist1d() throws {
        let train = try BundledData.mnist1d(split: .train, as: Float.self)
        let test = try BundledData.mnist1d(split: .test, encoding: .index, as: Double.self)
        #expect(train.features.shape == [4000, 40])
        #expect(train.targets.shape == [4000, 10])
        #expect(test.features.shape == [1000, 40])
        #expect(test.targets.shape == [1000, 1])
        #expect(Set(train.labels ?? []) == Set(0...9))
        #expect(Set(test.labels ?? []) == Set(0...9))
        #expect(test.targets.scalars == (test.labels ?? []).map(Double.init))
        // First data row of the training file: -0.332006,-0.47191,... label 2.
        #expect(train.features.scalars[0] == Float(-0.332006))
        #expect(train.features.scalars[1] == Float(-0.47191))
        #expect(train.labels?.first == 2)
        #expect(train.features.isFinite && test.features.isFinite)
    }

    @Test("the catalog's row and column counts match the loaded sets")
    func catalog() throws {
        #expect(BundledData.catalog.map(\.name) == ["digits", "mnist1d-train", "mnist1d-test"])
        for info in BundledData.catalog {
            #expect(BundledData.url(of: info.file) != nil, "\(info.file) is not among the resources")
            #expect(info.source.contains("Apache-2.0") || info.source.contains("CC BY 4.0"))
        }
        let digits = try BundledData.digits(as: Float.self)
        #expect(BundledData.catalog[0].rows == digits.count)
        #expect(BundledData.catalog[0].columns == digits.features.shape[1] + 1)
        #expect(BundledData.url(of: "README.md") != nil)
        #expect(BundledData.url(of: "no-such-file.csv.gz") == nil)
    }
}
