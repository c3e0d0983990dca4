import Foundation
import Testing
import GradData
import GradTestSupport

private let badDirectory = fixturesDirectory.appendingPathComponent("bad/data")
private let goodImages = fixturesDirectory.appendingPathComponent("data/tiny_images.idx3-ubyte")
private let goodLabels = fixturesDirectory.appendingPathComponent("data/tiny_labels.idx1-ubyte")

/// How a corpus file is read.
private enum Reader: Sendable {
    /// With the CSV loader and these options.
    case csv(CSVOptions)
    /// As the images of an IDX pair (labels: the valid tiny labels).
    case idxImages
    /// As the labels of an IDX pair (images: the valid tiny images).
    case idxLabels
}

/// A malformed file, how to read it, and the error description after the file's path.
private struct Case: Sendable, CustomTestStringConvertible {
    let file: String
    let reader: Reader
    let expected: String
    var testDescription: String { file }

    init(_ file: String, _ reader: Reader, _ expected: String) {
        self.file = file
        self.reader = reader
        self.expected = expected
    }

    /// A CSV file read with the default options.
    init(_ file: String, _ expected: String) {
        self.init(file, .csv(CSVOptions()), expected)
    }
}

private let classify = Reader.csv(CSVOptions(task: .classification(.oneHot)))
private let magicWords = "00 00 followed by a type byte 08, 09, 0B, 0C, 0D or 0E and the number of dimensions"
private let notFinite = "is not a finite number (NaN and infinity are not allowed)"

/// Every file of `Tests/Fixtures/bad/data` (made by `make_data_fixtures.py`).
private let corpus: [Case] = [
    Case("ragged_short_row.csv", ":3:3: row has 2 cells, expected 3 as in the first row"),
    Case("ragged_long_row.csv", ":2:3: row has 3 cells, expected 2 as in the first row"),
    Case("ragged_crlf.csv", ":3:2: row has 1 cell, expected 2 as in the first row"),
    Case("ragged_after_quoted_newline.csv", ":4:2: row has 1 cell, expected 2 as in the first row"),
    Case("not_a_number.csv", ":3:2: cell 'abc' is not a number"),
    Case("nan_cell.csv", ":4:1: value 'NaN' \(notFinite)"),
    Case("infinite_cell.csv", ":2:1: value '1e999' \(notFinite)"),
    Case("empty_cell.csv", ":2:2: empty cell (expected a number)"),
    Case("empty_target_cell.csv", ":3:2: empty cell (expected a number)"),
    Case("empty.csv", ": the file is empty"),
    Case("blank_lines_only.csv", ": the file is empty"),
    Case("header_only.csv", ":1: the file has a header row but no data rows"),
    Case("target_name_missing.csv", .csv(CSVOptions(target: .name("price"))),
         ":1: no column named 'price' (columns: x, y, label)"),
    Case("target_index_out_of_range.csv", .csv(CSVOptions(target: .index(3))),
         ":1: target column index 3 is out of range (the rows have 3 columns: 0..<3, or -3..<0 from the end)"),
    Case("target_name_without_header.csv", .csv(CSVOptions(target: .name("y"))),
         ":1: target column 'y' is named but the file has no header row"),
    Case("only_target_column.csv", ":1: the rows have only the target column (expected at least one feature column)"),
    Case("unterminated_quote.csv", ":2:2: quoted field is not closed before the end of the file"),
    Case("text_after_quote.csv", ":2:1: unexpected 'x' after a closing quote (expected a delimiter or the end of the line)"),
    Case("fractional_label.csv", classify, ":2:3: class label '2.5' is not an integer in 0..<65536"),
    Case("negative_label.csv", classify, ":2:3: class label '-1' is not an integer in 0..<65536"),
    Case("text_label_then_empty.csv", classify, ":3:2: empty cell (expected a class label)"),
    Case("not_a_number_gzipped.csv.gz", ":4:2: cell 'six' is not a number"),
    Case("gzip_not_gzip.csv.gz", ": byte 0: not a valid gzip file: magic number 78 2c is not 1f 8b"),
    Case("gzip_header_truncated.csv.gz", ": byte 5: truncated gzip header (10 bytes at least): the file ends after 5 bytes"),
    Case("gzip_bad_method.csv.gz", ": byte 2: not a valid gzip file: compression method 7 is not 8 (DEFLATE)"),
    Case("gzip_reserved_flags.csv.gz", ": byte 3: not a valid gzip file: reserved flag bits are set (flags 0xe0)"),
    Case("gzip_body_truncated.csv.gz", ": byte 14: truncated compressed data: the file ends inside a DEFLATE block"),
    Case("gzip_trailer_truncated.csv.gz", ": byte 27: truncated gzip trailer: expected 8 bytes (CRC-32 and size), found 3"),
    Case("gzip_bad_crc.csv.gz",
         ": byte 24: corrupt gzip data: CRC-32 0x80294497 of the decompressed data does not match the stored 0x80294468"),
    Case("gzip_bad_size.csv.gz", ": byte 28: corrupt gzip data: decompressed size 12 (mod 2^32) does not match the stored 13"),
    Case("gzip_trailing_garbage.csv.gz", ": byte 32: 7 unexpected bytes after the end of the data"),
    Case("gzip_block_type_3.csv.gz", ": byte 10: corrupt compressed data: invalid block type 3"),
    Case("gzip_stored_length_mismatch.csv.gz",
         ": byte 14: corrupt compressed data: stored block length 5 does not match its complement 0"),
    Case("gzip_distance_too_far.csv.gz",
         ": byte 12: corrupt compressed data: distance 5 reaches before the start of the data (1 byte so far)"),
    Case("gzip_oversubscribed_code.csv.gz",
         ": byte 19: corrupt compressed data: code length code: over-subscribed Huffman code lengths"),
    Case("gzip_second_member_bad_crc.csv.gz",
         ": byte 56: corrupt gzip data: CRC-32 0x80294497 of the decompressed data does not match the stored 0x80294468"),
    Case("idx_bad_magic.idx3-ubyte", .idxImages, ": byte 0: bad magic number 0x12345678 (expected \(magicWords))"),
    Case("idx_unknown_type.idx3-ubyte", .idxImages, ": byte 0: bad magic number 0x00000703 (expected \(magicWords))"),
    Case("idx_zero_dimensions.idx1-ubyte", .idxLabels, ": byte 3: bad dimensions: the magic number declares 0 dimensions"),
    Case("idx_magic_truncated.idx3-ubyte", .idxImages, ": byte 3: truncated IDX magic number: expected 4 bytes, found 3"),
    Case("idx_header_truncated.idx3-ubyte", .idxImages,
         ": byte 10: truncated IDX header: 3 dimension sizes need 16 bytes, found 10"),
    Case("idx_body_truncated.idx3-ubyte", .idxImages,
         ": byte 25: truncated IDX body: shape [3, 2, 2] of unsigned bytes needs 12 bytes after the header, found 9"),
    Case("idx_trailing_bytes.idx1-ubyte", .idxLabels, ": byte 11: 2 unexpected bytes after the end of the data"),
    Case("idx_two_labels.idx1-ubyte", .idxLabels,
         ": byte 4: 2 labels for 3 images in \(goodImages.relativePath) (expected one label per image)"),
    Case("idx_labels_two_dimensions.idx1-ubyte", .idxLabels,
         ": byte 0: bad magic number 0x00000802 (expected a labels file of integers with 1 dimension, such as 0x00000801)"),
    Case("idx_images_one_dimension.idx3-ubyte", .idxImages,
         ": byte 0: bad magic number 0x00000801 (expected an images file of at least 2 dimensions, such as 0x00000803)"),
    Case("idx_float_labels.idx1-ubyte", .idxLabels,
         ": byte 0: bad magic number 0x00000D01 (expected a labels file of integers with 1 dimension, such as 0x00000801)"),
    Case("idx_negative_label.idx1-ubyte", .idxLabels, ": byte 9: class label '-4' is not an integer in 0..<65536"),
    Case("idx_nan_image.idx3-ubyte", .idxImages, ": byte 20: value 'nan' \(notFinite)"),
    Case("idx_huge_dimensions.idx3-ubyte", .idxImages, ": byte 4: bad dimensions: shape [4294967295]… has more than 2^31 elements"),
    Case("idx_empty.idx1-ubyte", .idxLabels, ": the file is empty"),
    Case("idx_bad_crc.idx3-ubyte.gz", .idxImages,
         ": byte 34: corrupt gzip data: CRC-32 0x33ED88F1 of the decompressed data does not match the stored 0x33ED98F1"),
    Case("idx_truncated_gzipped.idx3-ubyte.gz", .idxImages,
         ": byte 27: truncated IDX body: shape [3, 2, 2] of unsigned bytes needs 12 bytes after the header, found 11"),
]

@Suite("Malformed data corpus")
struct MalformedCorpusTests {
    @Test("each malformed file gives a one-line DataError naming the file and the place", arguments: corpus)
    fileprivate func malformedFile(_ entry: Case) {
        let url = badDirectory.appendingPathComponent(entry.file)
        let error: DataError? = switch entry.reader {
        case .csv(let options): dataError { try CSVLoader.load(contentsOf: url, options: options, as: Float.self) }
        case .idxImages: dataError { try IDXLoader.load(images: url, labels: goodLabels, as: Float.self) }
        case .idxLabels: dataError { try IDXLoader.load(images: goodImages, labels: url, as: Float.self) }
        }
        guard let error else {
            Issue.record("\(entry.file) loaded without an error")
            return
        }
        #expect(error.description == url.relativePath + entry.expected)
        #expect(error.file == url.relativePath)
        #expect(!error.description.contains("\n"))
        if case .file = error.location {
            #expect(error.reason == .emptyFile)
        }
    }

    @Test("the corpus has at least 20 files and the table above covers every one of them")
    func corpusIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: badDirectory.path).sorted()
        #expect(files.count >= 20)
        #expect(files == corpus.map(\.file).sorted())
    }
}
