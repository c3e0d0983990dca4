import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Cutting event files back to a step, for runs resumed from a checkpoint: the killed run's
// events at or after the checkpoint's step would otherwise show twice in TensorBoard.

extension TensorBoardEventFile {
    /// What truncating one event file did.
    public struct Truncation: Equatable, Sendable {
        /// The file, as errors name it (`relativePath`).
        public var file: String
        /// Records kept (the `file_version` event and the events of steps before the cut).
        public var keptRecords: Int
        /// Complete records dropped (events at or after the cut).
        public var droppedRecords: Int
        /// Bytes of a last record cut short by a kill, dropped (0 when the file ended cleanly).
        public var droppedTailBytes: Int

        /// Whether the file was rewritten (false when it already held only what is kept).
        public var rewritten: Bool { droppedRecords > 0 || droppedTailBytes > 0 }
    }

    /// The byte ranges of the records that truncation at `step` keeps, adjacent ranges merged.
    ///
    /// - Parameters:
    ///   - contents: the file's checked records.
    ///   - step: the first step to drop (`Record.isKept(keepingStepsBefore:)`).
    public static func keptRanges(_ contents: Contents, keepingStepsBefore step: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for record in contents.records where record.isKept(keepingStepsBefore: step) {
            if let last = ranges.last, last.upperBound == record.offset {
                ranges[ranges.count - 1] = last.lowerBound..<record.range.upperBound
            } else {
                ranges.append(record.range)
            }
        }
        return ranges
    }

    /// The bytes of an event file cut back to the events of steps before `step` (plus the
    /// `file_version` event), without a last record cut short.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - step: the first step to drop.
    ///   - file: the name errors give for the file.
    /// - Throws: `TensorBoardEventFileError` when the file is damaged before its end.
    public static func truncated(bytes: [UInt8], keepingStepsBefore step: Int, file: String)
        throws(TensorBoardEventFileError) -> [UInt8] {
        let contents = try read(bytes: bytes, file: file)
        return keptRanges(contents, keepingStepsBefore: step).flatMap { bytes[$0] }
    }

    /// Cuts an event file back to the events of steps before `step`, for a run resumed from a
    /// checkpoint taken at `step`: records whose step is `≥ step` and a last record cut short
    /// by a kill are dropped; the `file_version` event and events without a step before the
    /// cut stay (an Event without a `step` field is at step 0).
    ///
    /// The file is checked whole first; a damaged file is left untouched. Then, if anything is
    /// dropped, the kept records are written to a temporary file in the same folder
    /// (`.truncating.<pid>.<n>.tmp`, a name TensorBoard ignores), flushed to the disk, and
    /// renamed over the file, so the file holds either the old or the new contents.
    ///
    /// - Parameters:
    ///   - url: the event file.
    ///   - step: the first step to drop (the checkpoint's step).
    /// - Returns: what was kept and dropped.
    /// - Throws: `TensorBoardEventFileError`: `.unreadable`, the damage with its byte offset,
    ///   or `.cannotWrite` (the file is then as it was).
    @discardableResult
    public static func truncate(_ url: URL, keepingStepsBefore step: Int) throws(TensorBoardEventFileError) -> Truncation {
        let mapped = try MappedFile(url)
        let contents = try read(mapped.bytes, file: url.relativePath)
        return try rewrite(url, mapped: mapped, contents: contents, keepingStepsBefore: step)
    }

    /// Cuts every event file in `folder` whose name starts with `events.out.tfevents.` and
    /// ends with `suffix` back to the events of steps before `step` (`truncate(_:keepingStepsBefore:)`).
    ///
    /// Every such file is checked before any is rewritten, so a damaged one leaves them all
    /// untouched. A missing folder holds no event files.
    ///
    /// - Parameters:
    ///   - folder: the run's folder.
    ///   - suffix: the writers' file suffix (`.weights`); `""` for every event file.
    ///   - step: the first step to drop (the checkpoint's step).
    /// - Returns: one `Truncation` per file, in file-name order.
    /// - Throws: `TensorBoardEventFileError` naming the first damaged or unwritable file.
    @discardableResult
    public static func truncateEventFiles(in folder: URL, suffix: String, keepingStepsBefore step: Int)
        throws(TensorBoardEventFileError) -> [Truncation] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) { return [] }
            throw .unreadable(file: folder.relativePath, reason: TensorBoardWriter.reason(error))
        }
        let files = names.filter { $0.hasPrefix("events.out.tfevents.") && $0.hasSuffix(suffix) }.sorted()
            .map { folder.appendingPathComponent($0) }
        var checked: [(url: URL, mapped: MappedFile, contents: Contents)] = []
        for url in files {
            let mapped = try MappedFile(url)
            checked.append((url, mapped, try read(mapped.bytes, file: url.relativePath)))
        }
        var truncations: [Truncation] = []
        for file in checked {
            truncations.append(try rewrite(file.url, mapped: file.mapped, contents: file.contents, keepingStepsBefore: step))
        }
        return truncations
    }

    /// Writes the kept records of a checked file over it (temporary file, `fsync`, rename,
    /// `fsync` of the folder), or leaves it alone when everything is kept.
    private static func rewrite(_ url: URL, mapped: MappedFile, contents: Contents, keepingStepsBefore step: Int)
        throws(TensorBoardEventFileError) -> Truncation {
        let name = url.relativePath
        let ranges = keptRanges(contents, keepingStepsBefore: step)
        let kept = contents.records.filter { $0.isKept(keepingStepsBefore: step) }.count
        let truncation = Truncation(file: name, keptRecords: kept, droppedRecords: contents.records.count - kept,
                                    droppedTailBytes: contents.byteCount - contents.validLength)
        guard truncation.rewritten else { return truncation }

        let folder = url.deletingLastPathComponent()
        var file: LogFile
        var temporary: URL
        var n = 0
        while true {
            temporary = folder.appendingPathComponent(".truncating.\(currentProcessID()).\(n).tmp")
            do throws(LogFile.Failure) {
                file = try LogFile(path: temporary.path, mode: .createNew)
                break
            } catch where error.code == EEXIST && n < 10_000 {
                n += 1
            } catch {
                throw .cannotWrite(file: name, reason: "cannot create \(temporary.relativePath): \(error.reason)")
            }
        }
        do throws(LogFile.Failure) {
            for range in ranges { try file.write(UnsafeRawBufferPointer(rebasing: mapped.bytes[range])) }
            if fsync(file.descriptor) != 0 { throw LogFile.Failure(errno: errno) }
            try file.close()
            if rename(temporary.path, url.path) != 0 { throw LogFile.Failure(errno: errno) }
        } catch {
            try? file.close()
            unlink(temporary.path)
            throw .cannotWrite(file: name, reason: error.reason)
        }
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            _ = closeDescriptor(descriptor)
        }
        return truncation
    }
}
