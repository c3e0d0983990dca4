import Foundation
import GradNN
import Testing

@Suite("AtomicFile writes a file whole, through a temporary file beside it")
struct AtomicFileTests {
    /// The names in `folder`, sorted.
    func names(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test("a new file, then a replacement, each with exactly its bytes and no temporary file left", arguments: [false, true])
    func writesAndReplaces(durable: Bool) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("a.bin")
        let first = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try AtomicFile.write(first, to: url, durable: durable)
        #expect(try Data(contentsOf: url) == first)
        #expect(try names(folder) == ["a.bin"])
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)

        try AtomicFile.write(Data("short".utf8), to: url, durable: durable)
        #expect(try Data(contentsOf: url) == Data("short".utf8))
        try AtomicFile.write(Data(), to: url, durable: durable)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try names(folder) == ["a.bin"])
    }

    @Test("a missing folder fails with ENOENT and its text; a folder in the way leaves it and no temporary file")
    func failures() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try AtomicFile.write(Data("x".utf8), to: folder.appendingPathComponent("no/such/file"))
            Issue.record("writing into a missing folder did not fail")
        } catch {
            #expect(error.code == ENOENT)
            #expect(error.reason == "No such file or directory")
        }
        // rename(2) cannot replace a non-empty folder with a file: the folder stays, and the
        // temporary file written before the rename is removed.
        let blocked = folder.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write(Data("x".utf8), to: blocked) }
        #expect(try names(folder) == ["blocked"])
        #expect(try names(blocked) == ["inside"])
    }
}
