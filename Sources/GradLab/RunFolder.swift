import Foundation
import GradNN

/// A run's output folder (`runs/<name>/`): every file written atomically (temporary file in the
/// same folder, then rename), so a killed run never leaves a half-written file under its final
/// name.
public struct RunFolder: Sendable {
    /// The folder.
    public let url: URL

    /// Opens `url`, creating it (and its parents) when missing.
    ///
    /// - Throws: `RunFolderError.cannotCreate` when the folder cannot be made or is a file.
    public init(_ url: URL) throws(RunFolderError) {
        self.url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: self.url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .cannotCreate(path: self.url.path, reason: "a file of that name exists") }
            guard FileManager.default.isWritableFile(atPath: self.url.path) else {
                throw .cannotCreate(path: self.url.path, reason: "the folder is not writable")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreate(path: self.url.path, reason: Self.reason(error))
        }
    }

    /// The URL of `name` inside the folder.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Whether `name` exists in the folder.
    public func contains(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    /// Writes `data` to `name` atomically (`AtomicFile.write`; not forced to the disk).
    ///
    /// - Throws: `RunFolderError.cannotWrite` (disk full, permissions, or a `name` that is not
    ///   a plain file name, which could land outside the folder); the previous file of that
    ///   name, if any, is left intact.
    public func write(_ data: Data, to name: String) throws(RunFolderError) {
        try write(data, to: name, durable: false)
    }

    /// Writes `data` to `name` atomically and durably: the temporary file is flushed to the
    /// disk (`fsync`) before the rename and the folder after it, so that after a crash or power
    /// loss `name` holds either the old contents or all of the new ones.
    ///
    /// - Throws: `RunFolderError.cannotWrite` (disk full, permissions, or a `name` that is not
    ///   a plain file name); the previous file of that name, if any, is left intact.
    public func writeDurably(_ data: Data, to name: String) throws(RunFolderError) {
        try write(data, to: name, durable: true)
    }

    private func write(_ data: Data, to name: String, durable: Bool) throws(RunFolderError) {
        try Self.checkFileName(name, in: url)
        let target = file(name)
        do {
            try AtomicFile.write(data, to: target, durable: durable)
        } catch {
            throw .cannotWrite(path: target.path, reason: error.reason)
        }
    }

    /// Removes the temporary files (`.<name>.<UUID>.tmp`) that a killed writer left in the folder.
    public func removeTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: file(name))
        }
    }

    /// Writes `text` as UTF-8 to `name` atomically.
    public func write(_ text: String, to name: String) throws(RunFolderError) {
        try write(Data(text.utf8), to: name)
    }

    /// Writes `value` as pretty, key-sorted JSON to `name` atomically (NaN and ±∞ as the strings
    /// "nan", "inf", "-inf").
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws(RunFolderError) {
        let data: Data
        do {
            data = try JSONEncoder.gradlab(pretty: true).encode(value)
        } catch {
            throw .cannotWrite(path: file(name).path, reason: "cannot encode JSON: \(error)")
        }
        try write(data + Data("\n".utf8), to: name)
    }

    /// Decodes the JSON file `name`.
    public func readJSON<T: Decodable>(_ type: T.Type, from name: String) throws(RunFolderError) -> T {
        let path = file(name).path
        guard let data = FileManager.default.contents(atPath: path) else { throw .missing(path: path) }
        do {
            return try JSONDecoder.gradlab().decode(type, from: data)
        } catch {
            throw .corrupt(path: path, reason: "\(error)")
        }
    }

    /// Throws unless `name` is one plain file name: not empty, not `.` or `..`, without `/`
    /// or NUL, so `folder.file(name)` lies directly inside `folder`.
    static func checkFileName(_ name: String, in folder: URL) throws(RunFolderError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.unicodeScalars.contains("\0") else {
            throw .cannotWrite(path: folder.path + "/" + specQuoted(name, limit: 100),
                               reason: "not a file name inside the run folder (it must not be empty, '.', '..' or hold '/')")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }
}

// MARK: - Default folders named after runs

extension RunFolder {
    /// The most UTF-8 bytes `folderName(forRunNamed:)` keeps of a name (a file name may have
    /// 255; the rest is room for a suffix such as `-diagnosis` and the temporary files' dots).
    public static let folderNameLimit = 200

    /// A run's name made into one safe folder name, for `runs/<name>`.
    ///
    /// The run's name is user text (a spec's `name:`), so it must not choose where output goes:
    /// each `/`, `\`, `:`, `*`, `?`, `"`, `<`, `>`, `|`, control or format character (NUL,
    /// escape, right-to-left override, zero-width) becomes `-` (a run of them one `-`); dots,
    /// dashes and white space are trimmed from both ends (so no `.`, `..` or hidden name is
    /// left); the result is cut to `folderNameLimit` UTF-8 bytes on a character boundary; an
    /// empty result is `run`. Letters of every script, digits and
    /// other punctuation are kept, so `deep-sigmoid` stays `deep-sigmoid`.
    ///
    /// `folderName(forRunNamed: "../../etc/x") == "etc-x"`, `folderName(forRunNamed: "/tmp/x") == "tmp-x"`.
    /// - Parameter name: the run's name.
    public static func folderName(forRunNamed name: String) -> String {
        let unsafe: Set<Unicode.Scalar> = ["/", "\\", ":", "*", "?", "\"", "<", ">", "|"]
        var out = ""
        for character in name {
            let replaced = character.unicodeScalars.contains { scalar in
                unsafe.contains(scalar) || scalar.properties.generalCategory == .control
                    || scalar.properties.generalCategory == .format || scalar.value == 0xFFFE || scalar.value == 0xFFFF
                    || scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator
            }
            if replaced {
                if out.last != "-" { out.append("-") }
            } else {
                out.append(character)
            }
        }
        func trimmed(_ text: Substring) -> Substring {
            var text = text
            while let first = text.first, first == "." || first == "-" || first.isWhitespace { text = text.dropFirst() }
            while let last = text.last, last == "." || last == "-" || last.isWhitespace { text = text.dropLast() }
            return text
        }
        var kept = ""
        for character in trimmed(Substring(out)) {
            if kept.utf8.count + String(character).utf8.count > folderNameLimit { break }
            kept.append(character)
        }
        let name = trimmed(Substring(kept))
        return name.isEmpty ? "run" : String(name)
    }

    /// The default folder of the run called `name`: `parent/<folderName(forRunNamed: name)><suffix>`,
    /// always directly inside `parent` whatever the name holds.
    ///
    /// - Parameters:
    ///   - name: the run's name (user text).
    ///   - parent: the folder of runs (`runs`).
    ///   - suffix: a fixed ending chosen by the caller (`-diagnosis`, `-sweep`), or empty; a plain
    ///     file-name fragment (no `/`).
    public static func defaultURL(forRunNamed name: String, in parent: URL, suffix: String = "") -> URL {
        precondition(!suffix.contains("/") && !suffix.unicodeScalars.contains("\0"),
                     "RunFolder.defaultURL: the suffix must be a plain file-name fragment, got \(suffix)")
        return parent.appendingPathComponent(folderName(forRunNamed: name) + suffix, isDirectory: true)
    }
}

/// A run folder that cannot be used.
public enum RunFolderError: Error, CustomStringConvertible, Equatable {
    /// The folder cannot be created or written.
    case cannotCreate(path: String, reason: String)
    /// A file cannot be written (the old one, if any, is intact).
    case cannotWrite(path: String, reason: String)
    /// A file the command needs is not there.
    case missing(path: String)
    /// A file is there but cannot be read back.
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): "\(path): cannot create the run folder: \(reason)"
        case .cannotWrite(let path, let reason): "\(path): cannot write: \(reason)"
        case .missing(let path): "\(path): not found (is this a GradLab run folder?)"
        case .corrupt(let path, let reason): "\(path): cannot read: \(reason)"
        }
    }
}

extension JSONEncoder {
    /// The encoder of GradLab's JSON files and `--json` output: sorted keys, NaN and ±∞ as
    /// the strings "nan", "inf", "-inf".
    public static func gradlab(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder matching `JSONEncoder.gradlab`.
    public static func gradlab() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
