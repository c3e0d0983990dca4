import Foundation
import Testing
import GradData
import GradTensor
import GradTestSupport

private let dataDirectory = fixturesDirectory.appendingPathComponent("data")

@Suite("IDX files")
struct IDXTests {
    @Test("tiny MNIST-style images and labels: exact features, labels and one-hot targets")
    func tinyImages() throws {
        let data = try IDXLoader.load(images: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte"),
                                      labels: dataDirectory.appendingPathComponent("tiny_labels.idx1-ubyte"),
                                      as: Double.self)
        #expect(data.features.shape == [3, 4])
        let bytes: [Double] = [0, 255, 51, 102, 10, 20, 30, 40, 255, 255, 0, 0]
        #expect(data.features.scalars == bytes.map { $0 * (1.0 / 255.0) })
        #expect(data.labels == [2, 0, 1])
        #expect(rows(data.targets) == [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    }

    @Test("gzip-compressed IDX files give the same data set; index targets and a fixed class count")
    func gzippedAndOptions() throws {
        let plain = try IDXLoader.load(images: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte"),
                                       labels: dataDirectory.appendingPathComponent("tiny_labels.idx1-ubyte"),
                                       scale: 1, classCount: 10, encoding: .oneHot, as: Float.self)
        let zipped = try IDXLoader.load(images: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte.gz"),
                                        labels: dataDirectory.appendingPathComponent("tiny_labels.idx1-ubyte.gz"),
                                        scale: 1, classCount: 10, encoding: .oneHot, as: Float.self)
        #expect(plain.features.scalars == zipped.features.scalars)
        #expect(plain.features.scalars[1] == 255)
        #expect(zipped.targets.shape == [3, 10])
        let index = try IDXLoader.load(images: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte.gz"),
                                       labels: dataDirectory.appendingPathComponent("tiny_labels.idx1-ubyte"),
                                       encoding: .index, as: Float.self)
        #expect(index.targets.scalars == [2, 0, 1])
        // A class count below the largest label is an error at that label's byte.
        let error = dataError {
            try IDXLoader.load(images: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte"),
                               labels: dataDirectory.appendingPathComponent("tiny_labels.idx1-ubyte"),
                               classCount: 2, as: Float.self)
        }
        #expect(error?.location == .byte(8))
        #expect(error?.reason == .invalidLabel(cell: "2", limit: 2))
    }

    @Test("other element types: big-endian 16-bit integers and 64-bit floats")
    func elementTypes() throws {
        let shorts = try IDXArray.read(contentsOf: dataDirectory.appendingPathComponent("shorts.idx"))
        #expect(shorts.elementType == .short)
        #expect(shorts.shape == [2, 2])
        #expect((0..<4).map { shorts.value(at: $0) } == [-300, 7, 32767, -32768])
        let doubles = try IDXArray.read(contentsOf: dataDirectory.appendingPathComponent("doubles.idx"))
        #expect(doubles.elementType == .double)
        #expect(doubles.shape == [3])
        #expect(doubles.scalars(as: Double.self) == [0.5, -2.25, 1e300])
        #expect(doubles.payloadOffset == 8)
    }

    @Test("an array built in memory round-trips through parse, and signed bytes keep their sign")
    func parseInMemory() throws {
        let bytes: [UInt8] = [0, 0, 0x09, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0xFF, 0x80, 0x7F]
        let array = try IDXArray.parse(bytes, file: "mem.idx")
        #expect(array.shape == [1, 3])
        #expect(array.scalars(scale: 2, as: Float.self) == [-2, -256, 254])
    }

    @Test("mutated IDX headers never crash: each parses or gives a DataError at a byte offset")
    func mutatedHeaders() throws {
        let original = [UInt8](try Data(contentsOf: dataDirectory.appendingPathComponent("tiny_images.idx3-ubyte")))
        let generator = RandomGenerator(seed: 11)
        var parsed = 0, failed = 0
        for trial in 0..<2000 {
            var bytes = original
            let mutations = 1 + trial % 3
            for _ in 0..<mutations {
                let position = Int(generator.next() % 16)
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            if trial % 4 == 0 { bytes = Array(bytes[..<Int(generator.next() % UInt64(bytes.count + 1))]) }
            do throws(DataError) {
                _ = try IDXArray.parse(bytes, file: "mutant.idx")
                parsed += 1
            } catch {
                #expect(error.description.hasPrefix("mutant.idx: "))
                failed += 1
            }
        }
        #expect(parsed + failed == 2000)
        #expect(failed > 1000)
    }
}
