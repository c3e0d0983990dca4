import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Replacing a file so that a reader, or a process killed in the middle, sees either its old
/// contents or all of its new ones: the bytes go to a temporary file beside it
/// (`.<name>.<UUID>.tmp`), which is then renamed over it (POSIX `rename`, atomic within one file
/// system). Every file of a run folder, checkpoints and CSV exports are written this way.
public enum AtomicFile {
    /// Why a write failed: the `errno` of the system call that failed, and its text.
    public struct Failure: Error, Equatable {
        /// The `errno` value.
        public var code: Int32
        /// `strerror(code)`, e.g. "No such file or directory".
        public var reason: String { String(cString: strerror(code)) }
    }

    /// Writes `data` to `url` atomically.
    ///
    /// Without `durable` nothing is forced to the disk, as `torch.save` and TensorBoard's writer
    /// do not: a power loss soon after may lose the newest version (Foundation's `Data.write`,
    /// which this replaced, also called `fsync`, about 1 ms a file here and a tenth of a short
    /// `gradlab run`). With `durable` the temporary file is flushed (`fsync`) before the rename
    /// and the folder after it, so that after a power loss `url` holds the old or the new
    /// contents: for training checkpoints, which a resumed run depends on.
    ///
    /// - Throws: `Failure` (missing folder, permissions, disk full); the temporary file is
    ///   removed and a previous file at `url` is left intact.
    public static func write(_ data: Data, to url: URL, durable: Bool = false) throws(Failure) {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure(code: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard var base = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let written = systemWrite(descriptor, base, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                base += written
                left -= written
            }
        }
        if failure == 0 && durable && fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, url.path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Failure(code: failure)
        }
        if durable {
            let directory = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                _ = fsync(directory)
                close(directory)
            }
        }
    }
}
