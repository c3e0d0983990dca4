import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Read-only memory mapping of a file, so that reading a large event file back does not copy it.

/// A regular file mapped read-only into memory (`mmap`), unmapped when released.
final class MappedFile {
    /// The file's bytes (empty, with no base address, for an empty file).
    let bytes: UnsafeRawBufferPointer

    /// Maps `url`.
    /// - Throws: `TensorBoardEventFileError.unreadable` naming `url.relativePath`.
    init(_ url: URL) throws(TensorBoardEventFileError) {
        let name = url.relativePath
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(file: name, reason: String(cString: strerror(errno))) }
        defer { _ = closeDescriptor(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(file: name, reason: String(cString: strerror(errno))) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .unreadable(file: name, reason: "not a regular file") }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address: UnsafeMutableRawPointer? = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .unreadable(file: name, reason: String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// `close(2)` (named apart from methods called `close`).
func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #elseif canImport(Musl)
    Musl.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}
