import Foundation
import GradData

/// A place in a spec file: 1-based line and 1-based column (columns count Unicode scalars, as
/// libyaml and most editors do).
public struct SpecLocation: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1.
    public var column: Int

    /// A place at `line`, `column` (both 1-based).
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// A problem with a run spec (a YAML/JSON file, a `--grid` override or a doctor's remedy), as
/// one line in the style of a compiler diagnostic.
///
/// `description` reads `file:line:column: key.path: problem` when the place is known
/// (`spec.yaml:7:12: model.mlp.activation: unknown value 'sigmod' (expected one of sigmoid, tanh,
/// relu, ...)`), `file: key.path: problem` otherwise, and `--grid: key: problem` for overrides.
/// User text inside messages is quoted with control characters escaped, so the line stays one.
public enum SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read (missing, a directory, not UTF-8 text); the reason in words.
    case unreadable(file: String, reason: String)
    /// The file's extension is not one of `.yaml`, `.yml`, `.json`.
    case unsupportedFileType(file: String, fileExtension: String)
    /// The text is not well-formed YAML (or JSON, for a `.json` file).
    case syntax(file: String, location: SpecLocation?, problem: String)
    /// A well-formed document whose content is wrong: a missing, unknown or mistyped key or a
    /// value out of range. `path` is the dotted key path (`train.optimizer.lr`, `model.layers[2]`).
    case invalid(file: String, location: SpecLocation?, path: String, problem: String)
    /// A `--grid` (or other command-line) override with an unknown key or a bad value.
    case badOverride(key: String, value: String, problem: String)
    /// A doctor's remedy that cannot be applied to this spec, and why.
    case remedyNotApplicable(file: String, remedy: String, reason: String)

    /// The file the error is about (`--grid` for overrides).
    public var file: String {
        switch self {
        case .unreadable(let file, _), .unsupportedFileType(let file, _), .syntax(let file, _, _),
             .invalid(let file, _, _, _), .remedyNotApplicable(let file, _, _):
            return file
        case .badOverride: return "--grid"
        }
    }

    /// The place in the file, when the error has one.
    public var location: SpecLocation? {
        switch self {
        case .syntax(_, let location, _), .invalid(_, let location, _, _):
            return location
        default: return nil
        }
    }

    /// The key path the error names (`model.mlp.hidden[1]`), empty for whole-file errors; the
    /// key for overrides.
    public var path: String {
        switch self {
        case .invalid(_, _, let path, _): return path
        case .badOverride(let key, _, _): return key
        default: return ""
        }
    }

    /// The problem in words, without the file, place and path; one line.
    public var message: String {
        switch self {
        case .unreadable(_, let reason): return "cannot read the spec file: \(reason)"
        case .unsupportedFileType(_, let ext):
            return "unsupported spec file type '\(specQuoted(ext.isEmpty ? "(none)" : "." + ext))' (expected .yaml, .yml or .json)"
        case .syntax(_, _, let problem): return problem
        case .invalid(_, _, _, let problem): return problem
        case .badOverride(_, _, let problem): return problem
        case .remedyNotApplicable(_, let remedy, let reason): return "remedy \(remedy) cannot be applied: \(reason)"
        }
    }

    /// `file:line:column: path: message` (parts left out when unknown), one line.
    public var description: String {
        var text = specQuoted(file, limit: 200)
        if let location { text += ":\(location.line):\(location.column)" }
        text += ": "
        if !path.isEmpty { text += specQuoted(path, limit: 200) + ": " }
        return text + message
    }
}

/// `text` with backslashes, quotes' neighbours and control characters escaped (`\n`, `\t`,
/// `\u{7}`), cut to `limit` characters with `...`, so that a message stays one line.
func specQuoted(_ text: String, limit: Int = 80) -> String {
    oneLineText(text, limit: limit, ellipsis: "...")
}
