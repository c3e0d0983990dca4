import Foundation
import Testing
import GradData
import GradTensor
import GradTestSupport

/// One entry of `Tests/Fixtures/gzip/manifest.json` (written by `make_gzip_fixtures.py`).
private struct GzipFixture: Decodable {
    let file: String
    let size: Int
    let crc32: UInt32
    let original: String?
}

private let gzipDirectory = fixturesDirectory.appendingPathComponent("gzip")

private func bytes(of name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: gzipDirectory.appendingPathComponent(name)))
}

private func manifest() throws -> [GzipFixture] {
    try JSONDecoder().decode([GzipFixture].self, from: Data(contentsOf: gzipDirectory.appendingPathComponent("manifest.json")))
}

@Suite("CRC-32 and gzip decoding")
struct GzipTests {
    @Test("CRC-32 of the standard check string, of nothing, and continued over two parts")
    func crcKnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        let whole = Array("gradient flow".utf8)
        let first = CRC32.checksum(whole[..<5])
        #expect(CRC32.checksum(whole[5...], previous: first) == CRC32.checksum(whole))
    }

    @Test("every fixture made by Python's gzip and zlib decodes to its original")
    func pythonFixtures() throws {
        let fixtures = try manifest()
        #expect(fixtures.count >= 15)
        for fixture in fixtures {
            let output = try Gzip.decompress(try bytes(of: fixture.file), file: fixture.file)
            #expect(output.count == fixture.size, "\(fixture.file): \(output.count) bytes, expected \(fixture.size)")
            #expect(CRC32.checksum(output) == fixture.crc32, "\(fixture.file): CRC differs")
            if let original = fixture.original {
                #expect(output == (try bytes(of: original)), "\(fixture.file) differs from \(original)")
            }
        }
    }

    @Test("raw DEFLATE: a stored block by hand, and what follows the final block is left unread")
    func rawStoredBlock() throws {
        // BFINAL=1, BTYPE=00, LEN=3, NLEN=~3, "abc", then two bytes that are not part of it.
        let stream: [UInt8] = [0x01, 0x03, 0x00, 0xFC, 0xFF, 0x61, 0x62, 0x63, 0xAA, 0xBB]
        let (output, consumed) = try Deflate.inflate(stream)
        #expect(output == Array("abc".utf8))
        #expect(consumed == 8)
    }

    @Test("raw DEFLATE: fixed-Huffman 'a' then a copy of length 5 at distance 1 (overlapping)")
    func rawFixedOverlap() throws {
        // Bits (LSB first): 1, 01 (fixed), literal 'a' = 10010001, length 5 = symbol 259 = 0000011,
        // distance 1 = code 00000, end of block = 0000000.
        var bits: [Int] = [1, 1, 0]
        bits += [1, 0, 0, 1, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 0, 1, 1]
        bits += [0, 0, 0, 0, 0]
        bits += [0, 0, 0, 0, 0, 0, 0]
        var stream = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (index, bit) in bits.enumerated() where bit == 1 { stream[index / 8] |= 1 << UInt8(index % 8) }
        let (output, _) = try Deflate.inflate(stream)
        #expect(output == Array("aaaaaa".utf8))
    }

    @Test("files made on the fly by /usr/bin/gzip at levels 1 and 9 decode", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip")))
    func systemGzip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graddata-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SystemRandomNumberGenerator()
        for (index, level) in ["-1", "-9"].enumerated() {
            // Mixed content: random bytes, long runs and repeated phrases.
            var original = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            original += [UInt8](repeating: 7, count: 70_000)
            original += Array(String(repeating: "vanishing gradients ", count: 2000).utf8)
            let path = directory.appendingPathComponent("sample\(index)")
            try Data(original).write(to: path)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
            process.arguments = [level, "-k", "-n", path.path]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let compressed = [UInt8](try Data(contentsOf: path.appendingPathExtension("gz")))
            #expect(try Gzip.decompress(compressed) == original)
        }
    }

    @Test("every truncation of a gzip file is an error, never a crash or a short result")
    func everyTruncationFails() throws {
        let whole = try bytes(of: "text_level9.gz")
        var failures = 0
        for length in 0..<whole.count {
            do throws(DataError) {
                _ = try Gzip.decompress(Array(whole[..<length]), file: "cut.gz")
            } catch {
                #expect(error.file == "cut.gz")
                failures += 1
            }
        }
        #expect(failures == whole.count)
    }

    @Test("flipping any single bit either fails with a DataError or leaves the contents intact")
    func singleBitFlips() throws {
        let whole = try bytes(of: "far_fixed_handmade.gz")
        let original = try Gzip.decompress(whole)
        var failures = 0, intact = 0, trials = 0
        for position in 0..<whole.count {
            for bit in [0, 3, 7] {
                var damaged = whole
                damaged[position] ^= 1 << UInt8(bit)
                trials += 1
                do throws(DataError) {
                    let output = try Gzip.decompress(damaged, file: "flip.gz")
                    #expect(output == original, "byte \(position) bit \(bit) changed the output without an error")
                    intact += 1
                } catch {
                    #expect(error.description.hasPrefix("flip.gz: byte "))
                    failures += 1
                }
            }
        }
        #expect(failures + intact == trials)
        // Only the header's time, extra-flags and OS bytes and the last byte's padding are free.
        #expect(Double(failures) >= 0.98 * Double(trials))
    }

    @Test("random bytes after a valid header never crash the decoder")
    func randomStreams() {
        let generator = RandomGenerator(seed: 42)
        var outcomes = 0
        for trial in 0..<400 {
            let length = 1 + trial % 300
            let body = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let data: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255] + body
            do throws(DataError) {
                _ = try Gzip.decompress(data, file: "random.gz")
                outcomes += 1
            } catch {
                #expect(error.description.hasPrefix("random.gz: byte "))
                outcomes += 1
            }
        }
        #expect(outcomes == 400)
    }
}
