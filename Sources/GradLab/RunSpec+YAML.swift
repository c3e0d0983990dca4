import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim
import Yams

// Spec files in and out: reading a file, composing it with Yams (which keeps each node's
// line and column), a strict check for `.json` files (YAML accepts trailing commas, comments
// and unquoted strings that JSON does not), and writing the resolved spec back as YAML.

extension RunSpec {
    /// The spec in the file at `url` (`.yaml`, `.yml` or `.json`); relative paths inside it
    /// resolve against the file's folder.
    ///
    /// - Parameters:
    ///   - url: the spec file.
    ///   - maximumBytes: the largest file accepted (nil: `FileSizeLimit.specBytes`, 16 MiB or
    ///     less); a larger one is refused before it is read.
    /// - Throws: `SpecError`: unreadable or too large file, unsupported extension, syntax errors
    ///   and invalid content, each naming the file (as given) and the line and column.
    public static func load(contentsOf url: URL, maximumBytes: Int? = nil) throws(SpecError) -> RunSpec {
        let name = url.isFileURL ? url.relativePath : url.absoluteString
        let ext = url.pathExtension.lowercased()
        guard ["yaml", "yml", "json"].contains(ext) else {
            throw .unsupportedFileType(file: name, fileExtension: url.pathExtension)
        }
        guard url.isFileURL else { throw .unreadable(file: name, reason: "not a file path") }
        let data: Data
        do {
            data = Data(try BoundedFile.read(url, limit: maximumBytes ?? FileSizeLimit.specBytes))
        } catch {
            throw .unreadable(file: name, reason: specQuoted(error.description, limit: 300))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: name, reason: "the file is not UTF-8 text")
        }
        return try parse(text, file: name, baseDirectory: url.deletingLastPathComponent())
    }

    /// The spec in `text`: strict JSON when `file` ends in `.json` and the text starts with `{`
    /// or `[`, YAML otherwise (JSON is YAML, but YAML also accepts trailing commas and comments).
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the file's name for errors and the default run name (its name without extension).
    ///   - baseDirectory: the folder relative data paths resolve against (nil: keep them relative
    ///     to the working directory).
    /// - Throws: `SpecError` naming `file`, the line and column, and the key path.
    public static func parse(_ text: String, file: String, baseDirectory: URL? = nil) throws(SpecError) -> RunSpec {
        var yamlText = text
        // A `.json` file whose text starts as JSON does must be strict JSON; anything else is YAML.
        let isJSON = file.lowercased().hasSuffix(".json")
            && text.unicodeScalars.first(where: { !" \t\r\n\u{FEFF}".unicodeScalars.contains($0) }).map { $0 == "{" || $0 == "[" } == true
        if isJSON {
            yamlText = try JSONSyntax.check(text, file: file)
        }
        try checkNesting(yamlText, file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yamlText)
        } catch let error as YamlError {
            throw syntaxError(error, text: yamlText, file: file, kind: isJSON ? "JSON" : "YAML")
        } catch {
            throw .syntax(file: file, location: nil, problem: specQuoted("\(error)", limit: 200))
        }
        guard let root else {
            throw .invalid(file: file, location: SpecLocation(line: 1, column: 1), path: "",
                           problem: "the spec is empty (expected a mapping with at least model: {mlp: ...} or model: {layers: [...]})")
        }
        var budget = 100_000
        let tree = try specTree(root, file: file, budget: &budget)
        return try read(tree, "", SpecReader(file: file, baseDirectory: baseDirectory))
    }

    /// The resolved spec as YAML, every default written out; `parse(yaml)` gives this spec back.
    public var yaml: String {
        do {
            return try Yams.serialize(node: yamsNode(specNode), indent: 2, width: -1, allowUnicode: true)
        } catch {
            preconditionFailure("RunSpec.yaml: the YAML emitter rejected a spec tree: \(error)")
        }
    }
}

// MARK: - Yams to tree

/// Yams' node as a spec tree; aliases are expanded, up to `budget` nodes in all.
private func specTree(_ node: Node, file: String, budget: inout Int) throws(SpecError) -> SpecNode {
    budget -= 1
    let location = node.mark.map { SpecLocation(line: $0.line, column: $0.column) }
    if budget < 0 {
        throw .invalid(file: file, location: location, path: "", problem: "the spec is too large (aliases expand to over 100000 values)")
    }
    switch node {
    case .scalar(let scalar):
        return SpecNode(.scalar(scalar.string, scalar.style == .plain || scalar.style == .any ? .plain : .quoted), location: location)
    case .sequence(let sequence):
        var items: [SpecNode] = []
        for item in sequence { items.append(try specTree(item, file: file, budget: &budget)) }
        return SpecNode(.sequence(items), location: location)
    case .mapping(let mapping):
        var entries: [SpecEntry] = []
        for (key, value) in mapping {
            guard case .scalar(let keyScalar) = key else {
                throw .invalid(file: file, location: key.mark.map { SpecLocation(line: $0.line, column: $0.column) } ?? location,
                               path: "", problem: "a key must be a name, found a \(key.mapping != nil ? "mapping" : "list") used as a key")
            }
            entries.append(SpecEntry(key: keyScalar.string, keyLocation: key.mark.map { SpecLocation(line: $0.line, column: $0.column) },
                                     value: try specTree(value, file: file, budget: &budget)))
        }
        return SpecNode(.mapping(entries), location: location)
    case .alias:
        throw .invalid(file: file, location: location, path: "", problem: "unresolved alias")
    }
}

/// Refuses nesting deeper than 64 levels (flow brackets, indentation and `- ` runs together)
/// before Yams' recursive composer sees it: no spec needs it, and deep input would exhaust the stack.
private func checkNesting(_ text: String, file: String) throws(SpecError) {
    var indents: [Int] = []
    var flowDepth = 0
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        lineNumber += 1
        let scalars = Array(line.unicodeScalars)
        var index = 0
        while index < scalars.count && scalars[index] == " " { index += 1 }
        if index == scalars.count || scalars[index] == "#" || scalars[index] == "\r" { continue }
        if flowDepth == 0 {
            while let last = indents.last, last >= index { indents.removeLast() }
            indents.append(index)
        }
        var dashes = 0
        var column = index
        while column + 1 < scalars.count && scalars[column] == "-" && scalars[column + 1] == " " {
            dashes += 1
            column += 2
            while column < scalars.count && scalars[column] == " " { column += 1 }
        }
        var quote: Unicode.Scalar?
        for position in index..<scalars.count {
            let c = scalars[position]
            if let open = quote {
                if c == open { quote = nil }
                continue
            }
            if c == "#" && (position == 0 || scalars[position - 1] == " ") { break }
            if c == "\"" || c == "'" { quote = c } else if c == "[" || c == "{" { flowDepth += 1 } else if c == "]" || c == "}" {
                flowDepth = max(0, flowDepth - 1)
            }
            if indents.count + dashes + flowDepth > 64 {
                throw .syntax(file: file, location: SpecLocation(line: lineNumber, column: position + 1),
                              problem: "the spec nests deeper than 64 levels")
            }
        }
    }
}

/// A Yams error as a `SpecError` with the file, line and column.
private func syntaxError(_ error: YamlError, text: String, file: String, kind: String) -> SpecError {
    func location(_ mark: Mark) -> SpecLocation { SpecLocation(line: mark.line, column: mark.column) }
    func describe(_ kind: String, _ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> SpecError {
        var message = "\(kind) syntax error: \(problem)"
        if let context, context.text != problem {
            message += " (\(context.text) at \(context.mark.line):\(context.mark.column))"
        }
        if character(at: mark, in: text) == "\t" { message += "; tabs cannot indent YAML, use spaces" }
        return .syntax(file: file, location: location(mark), problem: specQuoted(message, limit: 300))
    }
    switch error {
    case .scanner(let context, let problem, let mark, _): return describe(kind, context, problem, mark)
    case .parser(let context, let problem, let mark, _): return describe(kind, context, problem, mark)
    case .composer(let context, let problem, let mark, _): return describe(kind, context, problem, mark)
    case .reader(let problem, let offset, _, _):
        var place: SpecLocation?
        if let offset, offset >= 0 {
            let prefix = text.prefix(offset)
            let line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            let lineStart = prefix.lastIndex(of: "\n").map { prefix.index(after: $0) } ?? prefix.startIndex
            place = SpecLocation(line: line, column: prefix[lineStart...].unicodeScalars.count + 1)
        }
        return .syntax(file: file, location: place, problem: specQuoted("\(kind) syntax error: \(problem)", limit: 300))
    case .duplicatedKeysInMapping(let duplicates, let context):
        return duplicateKeyError(duplicates.first ?? "", first: context.mark, text: text, file: file)
    default:
        return .syntax(file: file, location: nil, problem: specQuoted("\(kind) error: \(error)", limit: 300))
    }
}

/// The character at a Yams mark (1-based line and column in Unicode scalars), if any.
private func character(at mark: Mark, in text: String) -> Unicode.Scalar? {
    guard let offset = scalarOffset(line: mark.line, column: mark.column, in: Array(text.unicodeScalars)) else { return nil }
    let scalars = Array(text.unicodeScalars)
    return offset < scalars.count ? scalars[offset] : nil
}

/// The index in `scalars` of 1-based `line`, `column` (lines end at `\n`, `\r\n` or `\r`).
private func scalarOffset(line: Int, column: Int, in scalars: [Unicode.Scalar]) -> Int? {
    var currentLine = 1
    var index = 0
    while currentLine < line && index < scalars.count {
        if scalars[index] == "\r" {
            if index + 1 < scalars.count && scalars[index + 1] == "\n" { index += 1 }
            currentLine += 1
        } else if scalars[index] == "\n" {
            currentLine += 1
        }
        index += 1
    }
    guard currentLine == line else { return nil }
    return index + column - 1
}

/// Yams names the first occurrence of a duplicated key. To point at the second one (and name
/// its path), the first is hidden behind a placeholder of the same length and the text composed
/// again; the key's remaining occurrence in the placeholder's mapping is the duplicate.
private func duplicateKeyError(_ key: String, first: Mark, text: String, file: String) -> SpecError {
    let fallback = SpecError.invalid(file: file, location: SpecLocation(line: first.line, column: first.column), path: key,
                                     problem: "duplicate key '\(specQuoted(key))' (each key may appear once in a mapping)")
    var scalars = Array(text.unicodeScalars)
    guard var start = scalarOffset(line: first.line, column: first.column, in: scalars), start < scalars.count,
          !key.isEmpty else { return fallback }
    if scalars[start] == "\"" || scalars[start] == "'" { start += 1 }
    let keyScalars = Array(key.unicodeScalars)
    guard start + keyScalars.count <= scalars.count, Array(scalars[start..<(start + keyScalars.count)]) == keyScalars else {
        return fallback
    }
    let placeholder: Unicode.Scalar = "\u{E000}"
    for i in start..<(start + keyScalars.count) { scalars[i] = placeholder }
    var patched = ""
    patched.unicodeScalars.append(contentsOf: scalars)
    guard let root = try? Yams.compose(yaml: patched) else { return fallback }
    let hidden = String(String.UnicodeScalarView(repeatElement(placeholder, count: keyScalars.count)))

    func search(_ node: Node, _ path: String) -> SpecError? {
        switch node {
        case .mapping(let mapping):
            let keys = mapping.map { $0.key.string ?? "" }
            if keys.contains(hidden), let duplicate = mapping.first(where: { $0.key.string == key }) {
                let place = duplicate.key.mark.map { SpecLocation(line: $0.line, column: $0.column) }
                return .invalid(file: file, location: place, path: join(path, key),
                                problem: "duplicate key '\(specQuoted(key))' (first at \(first.line):\(first.column); each key may appear once in a mapping)")
            }
            for (k, v) in mapping {
                if let found = search(v, join(path, k.string ?? "?")) { return found }
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                if let found = search(item, "\(path)[\(index)]") { return found }
            }
        default:
            break
        }
        return nil
    }
    return search(root, "") ?? fallback
}

// MARK: - Strict JSON

/// Checks that a `.json` spec is JSON (RFC 8259), not merely YAML: no trailing commas,
/// comments, single quotes or bare words. Returns the text with tabs outside strings turned
/// into spaces (same columns), since YAML forbids tabs where JSON allows them.
enum JSONSyntax {
    static func check(_ text: String, file: String) throws(SpecError) -> String {
        var parser = Parser(scalars: Array(text.unicodeScalars), file: file)
        parser.skipSpace()
        if parser.index < parser.scalars.count {
            try parser.value(depth: 0)
            parser.skipSpace()
            if parser.index < parser.scalars.count { throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value") }
        }
        var out = ""
        out.unicodeScalars.append(contentsOf: parser.scalars)
        return out
    }

    struct Parser {
        var scalars: [Unicode.Scalar]
        let file: String
        var index = 0
        var line = 1
        var column = 1

        init(scalars: [Unicode.Scalar], file: String) {
            self.scalars = scalars
            self.file = file
        }

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        func error(_ problem: String, line: Int? = nil, column: Int? = nil) -> SpecError {
            .syntax(file: file, location: SpecLocation(line: line ?? self.line, column: column ?? self.column),
                    problem: "JSON syntax error: \(problem)")
        }

        func describeCurrent() -> String {
            guard let c = current else { return "end of file" }
            return "'\(specQuoted(String(Character(c))))'"
        }

        mutating func advance() {
            if current == "\n" { line += 1; column = 1 } else { column += 1 }
            index += 1
        }

        mutating func skipSpace() {
            while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" {
                if c == "\t" { scalars[index] = " " }
                advance()
            }
        }

        mutating func expect(_ c: Unicode.Scalar, _ what: String) throws(SpecError) {
            guard current == c else { throw error("expected \(what), found \(describeCurrent())") }
            advance()
        }

        mutating func value(depth: Int) throws(SpecError) {
            if depth > 64 { throw error("the JSON nests deeper than 64 levels") }
            guard let c = current else { throw error("expected a value, found end of file") }
            switch c {
            case "{":
                advance()
                skipSpace()
                if current == "}" { advance(); return }
                while true {
                    guard current == "\"" else { throw error("expected a key in double quotes, found \(describeCurrent())") }
                    try string()
                    skipSpace()
                    try expect(":", "':' after the key")
                    skipSpace()
                    try value(depth: depth + 1)
                    skipSpace()
                    if current == "," {
                        let (commaLine, commaColumn) = (line, column)
                        advance()
                        skipSpace()
                        if current == "}" { throw error("trailing comma before '}' (JSON allows none)", line: commaLine, column: commaColumn) }
                        continue
                    }
                    try expect("}", "',' or '}'")
                    return
                }
            case "[":
                advance()
                skipSpace()
                if current == "]" { advance(); return }
                while true {
                    try value(depth: depth + 1)
                    skipSpace()
                    if current == "," {
                        let (commaLine, commaColumn) = (line, column)
                        advance()
                        skipSpace()
                        if current == "]" { throw error("trailing comma before ']' (JSON allows none)", line: commaLine, column: commaColumn) }
                        continue
                    }
                    try expect("]", "',' or ']'")
                    return
                }
            case "\"":
                try string()
            case "-", "0"..."9":
                try number()
            default:
                for word in ["true", "false", "null"] where matches(word) {
                    for _ in word.unicodeScalars { advance() }
                    return
                }
                throw error("expected a value (an object, array, string, number, true, false or null), found \(describeCurrent())")
            }
        }

        func matches(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard index + w.count <= scalars.count, Array(scalars[index..<(index + w.count)]) == w else { return false }
            if index + w.count < scalars.count {
                let next = scalars[index + w.count]
                return !(next.properties.isAlphabetic || ("0"..."9").contains(next) || next == "_")
            }
            return true
        }

        mutating func string() throws(SpecError) {
            let (startLine, startColumn) = (line, column)
            advance()
            while true {
                guard let c = current else {
                    throw error("string is not closed before the end of the file", line: startLine, column: startColumn)
                }
                if c == "\"" { advance(); return }
                if c.value < 0x20 { throw error("control character in a string (write it as an escape such as \\n)") }
                if c == "\\" {
                    advance()
                    guard let e = current else { continue }
                    if "\"\\/bfnrt".unicodeScalars.contains(e) {
                        advance()
                    } else if e == "u" {
                        advance()
                        for _ in 0..<4 {
                            guard let h = current, h.properties.isASCIIHexDigit else { throw error("expected 4 hex digits after \\u") }
                            advance()
                        }
                    } else {
                        throw error("invalid escape '\\\(specQuoted(String(Character(e))))' in a string")
                    }
                    continue
                }
                advance()
            }
        }

        mutating func number() throws(SpecError) {
            if current == "-" { advance() }
            func digits() -> Int {
                var n = 0
                while let c = current, ("0"..."9").contains(c) { advance(); n += 1 }
                return n
            }
            if current == "0" {
                advance()
                if let c = current, ("0"..."9").contains(c) { throw error("numbers may not have leading zeros") }
            } else if digits() == 0 {
                throw error("expected a digit, found \(describeCurrent())")
            }
            if current == "." {
                advance()
                if digits() == 0 { throw error("expected a digit after '.', found \(describeCurrent())") }
            }
            if current == "e" || current == "E" {
                advance()
                if current == "+" || current == "-" { advance() }
                if digits() == 0 { throw error("expected a digit in the exponent, found \(describeCurrent())") }
            }
        }
    }
}

// MARK: - Tree to Yams

/// The tree as Yams nodes with the writer's styles: block maps at the top, flow maps and lists
/// inside, strings quoted where they would read back as another type.
private func yamsNode(_ node: SpecNode) -> Node {
    switch node.value {
    case .scalar(let text, let style):
        if style == .plain { return Node(text, .implicit, .plain) }
        let ambiguous = text.isEmpty || parseNumber(text) != nil || Int(text) != nil
            || ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(text.lowercased())
        return Node(text, .implicit, ambiguous ? .doubleQuoted : .any)
    case .sequence(let items):
        return Node(items.map(yamsNode), .implicit, node.flow ? .flow : .block)
    case .mapping(let entries):
        return Node(entries.map { (Node($0.key, .implicit, .plain), yamsNode($0.value)) }, .implicit, node.flow ? .flow : .block)
    }
}

// MARK: - Spec to tree

extension RunSpec {
    /// The resolved spec as a tree, every default written out.
    var specNode: SpecNode {
        .map([("name", .text(name)), ("model", model.specNode), ("data", data.specNode), ("train", train.specNode),
              ("doctor", doctor.specNode)], flow: false)
    }
}

extension ModelSpec {
    var specNode: SpecNode {
        switch self {
        case .mlp(let mlp): return .map([("mlp", mlp.specNode)], flow: false)
        case .layers(let layers): return .map([("layers", .list(layers.map(\.specNode), flow: false))], flow: false)
        }
    }
}

extension MLPSpec {
    var specNode: SpecNode {
        .map([
            ("input", .int(input)), ("hidden", .list(hidden.map(SpecNode.int))), ("output", .int(output)),
            ("activation", .plain(activation.rawValue)), ("output_activation", .plain(outputActivation?.rawValue ?? "none")),
            ("init", initializer.specNode), ("bias_init", (biasInitializer ?? .default).specNode),
            ("batch_norm", .bool(batchNorm)), ("residual", .bool(residual)),
            ("residual_scaling", .plain(residualScaling == .none ? "none" : "rezero")),
        ], flow: false)
    }
}

extension Initializer {
    /// A bare name when every parameter has its default, else `{type: name, parameters...}`.
    var specNode: SpecNode {
        var fields: [(String, SpecNode)] = []
        switch self {
        case .default, .zeros, .ones, .eye: break
        case .xavierUniform(let gain), .xavierNormal(let gain), .orthogonal(let gain):
            if let gain { fields.append(("gain", .number(gain))) }
        case .kaimingUniform(let a, let mode, let nonlinearity), .kaimingNormal(let a, let mode, let nonlinearity):
            if let a { fields.append(("a", .number(a))) }
            if mode != .fanIn { fields.append(("mode", .plain(mode.rawValue))) }
            if let nonlinearity { fields.append(("nonlinearity", .plain(nonlinearity))) }
        case .normal(let mean, let std):
            fields = [("mean", .number(mean)), ("std", .number(std))]
        case .uniform(let low, let high):
            fields = [("low", .number(low)), ("high", .number(high))]
        case .constant(let value):
            fields = [("value", .number(value))]
        case .truncatedNormal(let mean, let std, let a, let b):
            fields = [("mean", .number(mean)), ("std", .number(std)), ("a", .number(a)), ("b", .number(b))]
        case .sparse(let sparsity, let std):
            fields = [("sparsity", .number(sparsity)), ("std", .number(std))]
        }
        if fields.isEmpty { return .plain(name) }
        return .map([("type", .plain(name))] + fields)
    }
}

extension LayerSpec {
    var specNode: SpecNode {
        var fields: [(String, SpecNode)] = []
        switch self {
        case .linear(let inFeatures, let outFeatures, let bias, let initializer, let biasInitializer):
            fields = [("in", .int(inFeatures)), ("out", .int(outFeatures)), ("bias", .bool(bias)),
                      ("init", initializer.specNode), ("bias_init", (biasInitializer ?? .default).specNode)]
        case .leakyReLU(let slope): fields = [("negative_slope", .number(slope))]
        case .prelu(let count, let initial): fields = [("num_parameters", .int(count)), ("init", .number(initial))]
        case .elu(let alpha): fields = [("alpha", .number(alpha))]
        case .gelu(let tanh): fields = [("approximate", .plain(tanh ? "tanh" : "none"))]
        case .softplus(let beta, let threshold): fields = [("beta", .number(beta)), ("threshold", .number(threshold))]
        case .hardtanh(let low, let high): fields = [("min_val", .number(low)), ("max_val", .number(high))]
        case .batchNorm(let features, let eps, let momentum):
            fields = [("features", .int(features)), ("eps", .number(eps)), ("momentum", .number(momentum))]
        case .layerNorm(let features, let eps): fields = [("features", .int(features)), ("eps", .number(eps))]
        case .dropout(let p): fields = [("p", .number(p))]
        case .flatten(let startDim): fields = [("start_dim", .int(startDim))]
        case .recurrent(let r):
            fields = [("input", .int(r.input)), ("hidden", .int(r.hidden)), ("layers", .int(r.layers))]
            if r.cell == .rnn { fields.append(("nonlinearity", .plain(r.nonlinearity.rawValue))) }
            fields += [("bias", .bool(r.bias)), ("init", !r.orthogonal ? .plain("default") : r.orthogonalGain == 1 ? .plain("orthogonal")
                : .map([("type", .plain("orthogonal")), ("gain", .number(r.orthogonalGain))]))]
            if r.cell == .lstm, let forgetBias = r.forgetBias { fields.append(("forget_bias", .number(forgetBias))) }
        case .sigmoid, .tanh, .relu, .selu, .silu, .softsign, .identity, .lastStep: break
        }
        return .map([(name, .map(fields))])
    }
}

extension DataSpec {
    var specNode: SpecNode {
        var fields: [(String, SpecNode)] = [("kind", .plain(source.kind))]
        func encoding(_ e: CSVOptions.LabelEncoding) -> SpecNode { .plain(e == .oneHot ? "one_hot" : "integer") }
        switch source {
        case .linear(let count, let noise, let slope, let intercept):
            fields += [("count", .int(count)), ("noise", .number(noise)), ("slope", .number(slope)), ("intercept", .number(intercept))]
        case .spiral(let count, let classes):
            fields += [("count", .int(count)), ("classes", .int(classes))]
        case .xor(let count, let noise):
            fields += [("count", .int(count)), ("noise", .number(noise))]
        case .circles(let count, let noise, let factor):
            fields += [("count", .int(count)), ("noise", .number(noise)), ("factor", .number(factor))]
        case .parity(let bits, let count, let signed):
            fields += [("bits", .int(bits)), ("count", count.map(SpecNode.int) ?? .plain("all")), ("signed", .bool(signed))]
        case .digits(let labels):
            fields += [("labels", encoding(labels))]
        case .mnist1d(let split, let labels):
            fields += [("split", .plain(split.rawValue)), ("labels", encoding(labels))]
        case .adding(let count, let length):
            fields += [("count", .int(count)), ("length", .int(length))]
        case .copy(let count, let symbols, let length, let delay):
            fields += [("count", .int(count)), ("symbols", .int(symbols)), ("length", .int(length)), ("delay", .int(delay))]
        case .paritySequence(let count, let length, let running, let signed):
            fields += [("count", .int(count)), ("length", .int(length)), ("running", .bool(running)), ("signed", .bool(signed))]
        case .csv(let csv):
            let target: SpecNode = switch csv.target {
            case .last: .int(-1)
            case .index(let index): .int(index)
            case .name(let name): .text(name)
            }
            let header: SpecNode = switch csv.header {
            case .automatic: .plain("auto")
            case .present: .bool(true)
            case .absent: .bool(false)
            }
            let labels: SpecNode = switch csv.task {
            case .regression: .plain("none")
            case .classification(.index): .plain("integer")
            case .classification(.oneHot): .plain("one_hot")
            }
            fields += [("path", .text(csv.path)), ("target", target), ("header", header), ("labels", labels),
                       ("delimiter", .text(String(csv.delimiter)))]
        case .idx(let images, let labels, let scale, let encodingValue):
            fields += [("images", .text(images)), ("labels", .text(labels)), ("scale", .number(scale)),
                       ("encoding", encoding(encodingValue))]
        }
        fields += [("validation", .number(validation)), ("standardize", .bool(standardize)), ("seed", .uint(seed))]
        return .map(fields, flow: false)
    }
}

extension TrainSpec {
    var specNode: SpecNode {
        .map([
            ("loss", .plain(loss.rawValue)), ("optimizer", optimizer.specNode),
            ("schedule", schedule?.specNode ?? .plain("none")), ("clip", clip.specNode), ("epochs", .int(epochs)),
            ("batch_size", batchSize.map(SpecNode.int) ?? .plain("full")), ("seed", .uint(seed)),
        ], flow: false)
    }
}

extension OptimizerSpec {
    var specNode: SpecNode {
        var fields: [(String, SpecNode)] = [("type", .plain(type)), ("lr", .number(learningRate))]
        switch self {
        case .sgd(_, let momentum, let dampening, let weightDecay, let nesterov):
            fields += [("momentum", .number(momentum)), ("dampening", .number(dampening)),
                       ("weight_decay", .number(weightDecay)), ("nesterov", .bool(nesterov))]
        case .adam(_, let beta1, let beta2, let eps, let weightDecay, let amsgrad),
             .adamw(_, let beta1, let beta2, let eps, let weightDecay, let amsgrad):
            fields += [("betas", .list([.number(beta1), .number(beta2)])), ("eps", .number(eps)),
                       ("weight_decay", .number(weightDecay)), ("amsgrad", .bool(amsgrad))]
        case .rmsprop(_, let alpha, let eps, let weightDecay, let momentum, let centered):
            fields += [("alpha", .number(alpha)), ("eps", .number(eps)), ("weight_decay", .number(weightDecay)),
                       ("momentum", .number(momentum)), ("centered", .bool(centered))]
        case .adagrad(_, let lrDecay, let weightDecay, let initial, let eps):
            fields += [("lr_decay", .number(lrDecay)), ("weight_decay", .number(weightDecay)),
                       ("initial_accumulator_value", .number(initial)), ("eps", .number(eps))]
        }
        return .map(fields)
    }
}

extension ScheduleSpec {
    var specNode: SpecNode {
        var fields: [(String, SpecNode)] = [("type", .plain(type))]
        switch self {
        case .step(let stepSize, let gamma): fields += [("step_size", .int(stepSize)), ("gamma", .number(gamma))]
        case .exponential(let gamma): fields += [("gamma", .number(gamma))]
        case .cosine(let tMax, let etaMin): fields += [("t_max", .int(tMax)), ("eta_min", .number(etaMin))]
        case .warmup(let epochs, let start, let end):
            fields += [("warmup_epochs", .int(epochs)), ("start_factor", .number(start)), ("end_factor", .number(end))]
        }
        return .map(fields)
    }
}

extension GradientClipping {
    var specNode: SpecNode {
        switch self {
        case .none: return .map([("type", .plain("none"))])
        case .norm(let maxNorm): return .map([("type", .plain("norm")), ("max_norm", .number(maxNorm))])
        case .value(let clipValue): return .map([("type", .plain("value")), ("clip_value", .number(clipValue))])
        case .agc(let clipFactor, let eps, let exempt):
            return .map([("type", .plain("agc")), ("clip_factor", .number(clipFactor)), ("eps", .number(eps)),
                         ("exempt_last_layer", .bool(exempt))])
        case .autoClip(let percentile): return .map([("type", .plain("autoclip")), ("percentile", .number(percentile))])
        }
    }
}

extension DoctorSpec {
    var specNode: SpecNode {
        .map([
            ("enabled", .bool(enabled)), ("every", .int(every)), ("histograms_every", .int(histogramsEvery)),
            ("nonfinite", .plain(nonfinite.rawValue)), ("saturation_threshold", .number(saturationThreshold)),
        ], flow: false)
    }
}
