import Foundation
import Testing
import GradNN

// The safetensors reader's validation, one hand-made file per rule: header length bounded
// (≤ 100 MB and ≤ the bytes that follow it), JSON well-formed, known dtypes, shapes whose
// element count and byte count do not overflow, data offsets in bounds, ordered without
// overlaps or gaps, and covering the data section exactly.

/// A `.safetensors` file: the 8-byte header length (`length`, or the header's own), `header`, `data`.
private func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
    let json = Array(header.utf8)
    var bytes = Data()
    withUnsafeBytes(of: (length ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: json)
    bytes.append(contentsOf: data)
    return bytes
}

/// The error that reading `bytes` throws, or nil when it reads.
private func readError(_ bytes: Data) -> CheckpointError? {
    do {
        _ = try SafeTensors(data: bytes, file: "hand.safetensors")
        return nil
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("not a CheckpointError: \(error)")
        return nil
    }
}

/// One tensor's header entry.
private func tensor(_ name: String, _ dtype: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
}

@Suite("SafeTensors validation")
struct SafeTensorsValidationTests {
    @Test("a header length above 100 MB is refused before anything is allocated")
    func headerLengthAboveLimit() throws {
        let error = try #require(readError(file("{}", length: 100_000_001)))
        guard case .invalidHeader(_, "header length", let detail) = error else {
            Issue.record("unexpected \(error)"); return
        }
        #expect(detail == "100000001 bytes exceeds the limit of 100000000")
        let maximal = try #require(readError(file("{}", length: UInt64.max)))
        #expect(maximal.description.contains("18446744073709551615 bytes exceeds the limit"))
    }

    @Test("a header length beyond the end of the file is a truncated file")
    func headerLengthBeyondFile() throws {
        let error = try #require(readError(file("{}", length: 3)))
        guard case .truncated(_, let detail) = error else { Issue.record("unexpected \(error)"); return }
        #expect(detail == "the header length says 3 bytes of JSON, but only 2 bytes follow it")
        #expect(readError(Data([1, 0, 0])) == .truncated(
            file: "hand.safetensors", detail: "the file has 3 bytes, fewer than the 8 of the header length"))
    }

    @Test("the header must be well-formed JSON, and an object", arguments: [
        ("{\"a\":", "not valid JSON"), ("{\"a\":{}", "not valid JSON"), ("[1, 2]", "not a JSON object"),
        ("\"text\"", "not a JSON object"), ("{\"a\": 1}", "not a JSON object"), ("\u{FF}", "not valid JSON"),
    ])
    func malformedJSON(header: String, expected: String) throws {
        let error = try #require(readError(file(header)))
        guard case .invalidHeader(_, _, let detail) = error else { Issue.record("unexpected \(error)"); return }
        #expect(detail.hasPrefix(expected))
    }

    @Test("deeply nested JSON is an error, not a stack overflow")
    func deeplyNestedJSON() throws {
        let depth = 100_000
        let header = "{\"a\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        #expect(readError(file(header)) != nil)
    }

    @Test("only F32, F64 and I64 are read; other dtypes name the tensor and the dtype")
    func unknownDtypes() throws {
        for dtype in ["BF16", "F16", "I32", "U8", "f32", ""] {
            let error = readError(file("{" + tensor("w", dtype, "[1]", 0, 2) + "}", data: [0, 0]))
            #expect(error == .unsupportedDtype(file: "hand.safetensors", tensor: "w", dtype: dtype))
        }
        let notString = try #require(readError(file("{\"w\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}")))
        #expect(notString.description.contains("field 'dtype'") && notString.description.contains("not a string"))
    }

    @Test("an element count that overflows Int is refused, even when a later dimension is 0")
    func elementCountOverflow() throws {
        for shape in ["[4294967296,4294967296]", "[4611686018427387904,4,0]", "[9223372036854775807,2]"] {
            let error = try #require(readError(file("{" + tensor("w", "F32", shape, 0, 0) + "}")))
            guard case .invalidShape(_, "w", let detail) = error else { Issue.record("unexpected \(error)"); return }
            #expect(detail.hasSuffix("has too many elements to count"))
        }
    }

    @Test("a byte count (elements × element size) that overflows Int is refused")
    func byteCountOverflow() throws {
        let error = try #require(readError(file("{" + tensor("w", "F64", "[2305843009213693952]", 0, 0) + "}")))
        #expect(error == .invalidShape(file: "hand.safetensors", tensor: "w",
                                       detail: "[2305843009213693952] of F64 has too many bytes to count"))
    }

    @Test("negative, fractional, textual and too-large dimensions are refused", arguments: [
        "[-1]", "[1.5]", "[\"2\"]", "[1e300]", "[18446744073709551616]", "[null]",
    ])
    func badDimensions(shape: String) throws {
        let error = try #require(readError(file("{" + tensor("w", "F32", shape, 0, 4) + "}", data: [0, 0, 0, 0])))
        guard case .invalidShape(_, "w", _) = error else { Issue.record("unexpected \(error)"); return }
    }

    @Test("offsets must be two non-negative integers that do not end before they begin", arguments: [
        ("[0]", "is not a pair of non-negative integers"), ("[0,4,8]", "is not a pair of non-negative integers"),
        ("[-4,0]", "is not a pair of non-negative integers"), ("[\"0\",4]", "is not a pair of non-negative integers"),
        ("[8,4]", "end before they begin"),
    ])
    func malformedOffsets(offsets: String, expected: String) throws {
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\(offsets)}}"
        let error = try #require(readError(file(header, data: [UInt8](repeating: 0, count: 8))))
        guard case .invalidOffsets(_, "w", let detail) = error else { Issue.record("unexpected \(error)"); return }
        #expect(detail.hasSuffix(expected))
    }

    @Test("offsets must span exactly the tensor's bytes")
    func offsetsDisagreeWithShape() throws {
        let error = readError(file("{" + tensor("w", "F32", "[2]", 0, 4) + "}", data: [0, 0, 0, 0]))
        #expect(error == .invalidOffsets(file: "hand.safetensors", tensor: "w",
                                         detail: "data_offsets [0, 4] span 4 bytes, but shape [2] of F32 needs 8"))
    }

    @Test("offsets past the end of the data are refused, however large")
    func offsetsOutOfBounds() throws {
        let cut = readError(file("{" + tensor("w", "F32", "[2]", 0, 8) + "}", data: [0, 0, 0, 0]))
        #expect(cut == .truncated(file: "hand.safetensors",
                                  detail: "tensor 'w' needs data bytes 0..<8, but the data ends at byte 4"))
        let far = try #require(readError(file(
            "{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 1_000_000, 1_000_004) + "}",
            data: [0, 0, 0, 0])))
        #expect(far.tensor == "b" && far.description.contains("out of range"))
        let huge = try #require(readError(file(
            "{" + tensor("w", "F32", "[0]", Int.max, Int.max) + "}")))
        #expect(huge.tensor == "w")
    }

    @Test("overlapping tensors are refused, naming both")
    func overlappingOffsets() throws {
        let header = "{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F32", "[2]", 4, 12) + "}"
        let error = try #require(readError(file(header, data: [UInt8](repeating: 0, count: 12))))
        #expect(error == .invalidOffsets(file: "hand.safetensors", tensor: "b",
                                         detail: "data_offsets [4, 12] overlap tensor 'a', which ends at byte 8"))
        let same = try #require(readError(file("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 0, 4) + "}",
                                               data: [0, 0, 0, 0])))
        #expect(same.description.contains("overlap"))
    }

    @Test("a gap between tensors is refused: the tensors must tile the data")
    func gapBetweenTensors() throws {
        let header = "{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 8, 12) + "}"
        let error = readError(file(header, data: [UInt8](repeating: 0, count: 12)))
        #expect(error == .invalidOffsets(file: "hand.safetensors", tensor: "b",
                                         detail: "data_offsets [8, 12] leave a gap: bytes 4..<8 belong to no tensor"))
    }

    @Test("bytes after the last tensor are refused: the tensors must cover the data")
    func uncoveredTail() throws {
        let error = readError(file("{" + tensor("a", "F32", "[1]", 0, 4) + "}", data: [UInt8](repeating: 0, count: 6)))
        #expect(error == .invalidOffsets(file: "hand.safetensors", tensor: nil,
                                         detail: "2 bytes after the last tensor ('a', ending at byte 4) belong to no tensor"))
        let noTensors = readError(file("{}", data: [1]))
        #expect(noTensors?.description.contains("1 bytes after the last tensor") == true)
    }

    @Test("header order need not be data order, and empty tensors take no bytes")
    func validUnusualLayouts() throws {
        let one = Float(1).bitPattern.littleEndian, two = Float(2).bitPattern.littleEndian
        let data = withUnsafeBytes(of: one) { Array($0) } + withUnsafeBytes(of: two) { Array($0) }
        let header = "{" + tensor("z", "F32", "[1]", 0, 4) + "," + tensor("a", "F32", "[1]", 4, 8) + ","
            + tensor("empty", "F64", "[0,3]", 8, 8) + "}"
        let read = try SafeTensors(data: file(header, data: data), file: "hand.safetensors")
        #expect(read["z"]?.tensor(as: Float.self).scalars == [1])
        #expect(read["a"]?.tensor(as: Float.self).scalars == [2])
        #expect(read["empty"]?.shape == [0, 3])
    }

    @Test("unknown fields and non-string metadata are refused")
    func unknownFieldsAndMetadata() throws {
        let extra = try #require(readError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}",
                                                data: [0, 0, 0, 0])))
        #expect(extra.description.contains("field 'x'"))
        let metadata = try #require(readError(file("{\"__metadata__\":{\"k\":[1]}}")))
        #expect(metadata.description.contains("'k' is not a string"))
    }
}
