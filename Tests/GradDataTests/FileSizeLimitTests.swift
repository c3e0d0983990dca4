import Foundation
import GradData
import GradTensor
import GradTestSupport
import Testing

/// The file size limits of GradData's readers: files (and decompressed contents) beyond the
/// limit are refused with a one-line `DataError`, without being read into memory.
@Suite struct FileSizeLimitTests {
    static let limits = fixturesDirectory.appendingPathComponent("limits")

    /// A fresh file holding `bytes` in the temporary directory.
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    @Test("byte counts parse with binary suffixes; anything else is nil")
    func parsing() {
        #expect(FileSizeLimit.parse("1048576") == 1_048_576)
        #expect(FileSizeLimit.parse("64K") == 65_536)
        #expect(FileSizeLimit.parse("64kib") == 65_536)
        #expect(FileSizeLimit.parse(" 3 M ") == 3 << 20)
        #expect(FileSizeLimit.parse("2G") == 2 << 30)
        #expect(FileSizeLimit.parse("2GB") == 2 << 30)
        #expect(FileSizeLimit.parse("1T") == 1 << 40)
        #expect(FileSizeLimit.parse("100b") == 100)
        for bad in ["", "0", "-5", "1.5G", "abc", "12Q", "G", "99999999999999999999", "9000000T", "1e6"] {
            #expect(FileSizeLimit.parse(bad) == nil, "'\(bad)' parsed")
        }
        #expect(FileSizeLimit.describe(512) == "512 bytes")
        #expect(FileSizeLimit.describe(1536) == "1.5 KiB")
        #expect(FileSizeLimit.describe(2 << 30) == "2.0 GiB")
        #expect(FileSizeLimit.defaultDataBytes == 2 << 30 && FileSizeLimit.defaultSpecBytes == 16 << 20)
    }

    @Test("BoundedFile reads a file up to the limit and refuses one byte more from its size alone")
    func boundedRead() throws {
        let url = try Self.temporaryFile("ten.bin", Array(0..<10))
        #expect(try BoundedFile.read(url, limit: 10) == Array(0..<10))
        #expect(try BoundedFile.read(url, limit: 1 << 30) == Array(0..<10))
        #expect(throws: FileReadError.tooLarge(size: 10, limit: 9)) { try BoundedFile.read(url, limit: 9) }
        #expect(FileReadError.tooLarge(size: 10, limit: 9).description
                == "the file is 10 bytes, larger than the limit of 9 bytes; set GRADLAB_MAX_FILE_BYTES to change the limit")
        let empty = try Self.temporaryFile("empty.bin", [])
        #expect(try BoundedFile.read(empty, limit: 0) == [])
        #expect(throws: FileReadError.noSuchFile) { try BoundedFile.read(url.appendingPathExtension("missing"), limit: 10) }
        #expect(throws: FileReadError.isDirectory) { try BoundedFile.read(url.deletingLastPathComponent(), limit: 10) }
    }

    @Test("a device without a size (/dev/zero) is read only up to the limit, then refused")
    func endlessDevice() throws {
        let zero = URL(fileURLWithPath: "/dev/zero")
        guard FileManager.default.fileExists(atPath: zero.path) else { return }
        #expect(throws: FileReadError.tooLarge(size: nil, limit: 100_000)) {
            try BoundedFile.read(zero, limit: 100_000)
        }
        let error = dataError { try CSVLoader.load(contentsOf: zero, options: CSVOptions(maximumFileBytes: 4096), as: Float.self) }
        #expect(error?.description == "/dev/zero: the file goes on past the limit, larger than the limit of 4.0 KiB (4096 bytes); "
                + "set GRADLAB_MAX_FILE_BYTES to change the limit")
    }

    @Test("a CSV file over the configured limit is refused naming the file and both sizes")
    func csvOverTheLimit() throws {
        let text = "a,y\n" + (0..<100).map { "\($0),\($0 % 2)" }.joined(separator: "\n")
        let url = try Self.temporaryFile("data.csv", Array(text.utf8))
        let size = text.utf8.count
        let error = dataError { try CSVLoader.load(contentsOf: url, options: CSVOptions(maximumFileBytes: 100), as: Float.self) }
        #expect(error?.location == .file)
        #expect(error?.description == "\(url.relativePath): the file is \(FileSizeLimit.describeExactly(size)), "
                + "larger than the limit of 100 bytes; set GRADLAB_MAX_FILE_BYTES to change the limit")
        let loaded = try CSVLoader.load(contentsOf: url, options: CSVOptions(maximumFileBytes: size), as: Float.self)
        #expect(loaded.train.count == 100)
    }

    @Test("a small gzip file that decompresses past the limit stops at the limit (CSV and IDX)")
    func decompressionBombs() throws {
        let csv = Self.limits.appendingPathComponent("zeros.csv.gz")
        let compressed = try FileManager.default.attributesOfItem(atPath: csv.path)[.size] as? Int ?? 0
        #expect(compressed < 4096, "the fixture is \(compressed) bytes")
        let error = dataError { try CSVLoader.load(contentsOf: csv, options: CSVOptions(maximumFileBytes: 65_536), as: Float.self) }
        #expect(error?.description.contains("the data decompress to more than the limit of 64.0 KiB (65536 bytes); "
                                            + "set GRADLAB_MAX_FILE_BYTES to change the limit") == true, "\(String(describing: error))")
        if case .tooLarge = error?.reason {} else { Issue.record("reason \(String(describing: error?.reason))") }
        // Within the limit it loads: 2^18 rows of zeros.
        let loaded = try CSVLoader.load(contentsOf: csv, options: CSVOptions(maximumFileBytes: 2 << 20), as: Float.self)
        #expect(loaded.train.count == 1 << 18)

        let idx = Self.limits.appendingPathComponent("zeros.idx3-ubyte.gz")
        let idxError = dataError { try IDXArray.read(contentsOf: idx, maximumBytes: 100_000) }
        #expect(idxError?.description.contains("decompress to more than the limit of 97.7 KiB (100000 bytes)") == true,
                "\(String(describing: idxError))")
        #expect(try IDXArray.read(contentsOf: idx).shape == [1024, 32, 32])
    }

    @Test("Gzip.decompress counts every member toward the limit, and a stored block is checked before it is copied")
    func gzipLimits() throws {
        let bytes = try Array(Data(contentsOf: Self.limits.appendingPathComponent("zeros.csv.gz")))
        let twice = bytes + bytes
        #expect(try Gzip.decompress(twice, file: "two.gz").count == 2 * 1_048_580)
        let error = dataError { try Gzip.decompress(twice, file: "two.gz", maximumSize: 1_500_000) }
        if case .tooLarge = error?.reason {} else { Issue.record("two members past the limit: \(String(describing: error))") }
        #expect(error?.description.hasPrefix("two.gz: byte ") == true)
        // A stored block of 5 bytes: final bit, type 0, LEN 5, NLEN, then the bytes.
        let stored: [UInt8] = [0x01, 0x05, 0x00, 0xFA, 0xFF, 1, 2, 3, 4, 5]
        #expect(try Deflate.inflate(stored, maximumSize: 5).output == [1, 2, 3, 4, 5])
        let storedError = dataError { try Deflate.inflate(stored, file: "s", maximumSize: 4) }
        if case .tooLarge = storedError?.reason {} else { Issue.record("stored block past the limit: \(String(describing: storedError))") }
    }

    @Test("an IDX file over the limit is refused before it is read")
    func idxOverTheLimit() throws {
        let url = fixturesDirectory.appendingPathComponent("data/tiny_images.idx3-ubyte")
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        let error = dataError { try IDXArray.read(contentsOf: url, maximumBytes: size - 1) }
        #expect(error?.description.hasSuffix("larger than the limit of \(FileSizeLimit.describeExactly(size - 1)); "
                                             + "set GRADLAB_MAX_FILE_BYTES to change the limit") == true, "\(String(describing: error))")
        #expect(try IDXArray.read(contentsOf: url, maximumBytes: size).shape.first ?? 0 > 0)
        let labels = fixturesDirectory.appendingPathComponent("data/tiny_labels.idx1-ubyte")
        #expect(dataError {
            try IDXLoader.load(images: url, labels: labels, as: Float.self, maximumFileBytes: 8)
        }?.reason == .tooLarge(FileReadError.tooLarge(size: size, limit: 8).description))
    }
}
