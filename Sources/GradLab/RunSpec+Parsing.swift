import Foundation
import GradData
import GradDoctor
import GradNN
import GradOptim

// Reading a spec tree (from Yams' nodes, or from any `Decoder`) into a validated `RunSpec`.
// Every check names the key path and, when the tree came from a file, the line and column of
// the offending key or value.

// MARK: - The tree

/// A YAML/JSON value with the place it was read from: the common input of the spec reader and
/// the output of the spec writer.
struct SpecNode: Sendable {
    /// How a scalar was written: plain (numbers, booleans, names) or quoted (always a string).
    enum ScalarStyle: Sendable, Equatable {
        case plain
        case quoted
    }

    /// The value.
    enum Value: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([SpecNode])
        case mapping([SpecEntry])
    }

    var value: Value
    /// Where the value starts in the file (nil for trees that did not come from a file).
    var location: SpecLocation?
    /// For the writer: emit this mapping or sequence in flow style (`{a: 1}`, `[1, 2]`).
    var flow = true

    init(_ value: Value, location: SpecLocation? = nil, flow: Bool = true) {
        self.value = value
        self.location = location
        self.flow = flow
    }

    /// Whether the value is YAML's null (`null`, `~` or nothing, unquoted).
    var isNull: Bool {
        if case .scalar(let text, .plain) = value { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    // Builders for the writer.
    static func plain(_ text: String) -> SpecNode { SpecNode(.scalar(text, .plain)) }
    static func text(_ text: String) -> SpecNode { SpecNode(.scalar(text, .quoted)) }
    static func int(_ value: Int) -> SpecNode { .plain(String(value)) }
    static func uint(_ value: UInt64) -> SpecNode { .plain(String(value)) }
    static func bool(_ value: Bool) -> SpecNode { .plain(value ? "true" : "false") }
    /// The shortest text that reads back as the same `Double` (`0.01`, `1e-05`, `3.0`).
    static func number(_ value: Double) -> SpecNode { .plain("\(value)") }
    static func map(_ pairs: [(String, SpecNode)], flow: Bool = true) -> SpecNode {
        SpecNode(.mapping(pairs.map { SpecEntry(key: $0.0, keyLocation: nil, value: $0.1) }), flow: flow)
    }
    static func list(_ items: [SpecNode], flow: Bool = true) -> SpecNode { SpecNode(.sequence(items), flow: flow) }
}

/// One key of a mapping, with the key's place.
struct SpecEntry: Sendable {
    var key: String
    var keyLocation: SpecLocation?
    var value: SpecNode
}

// MARK: - The reader

/// The state of one read: the file's name for errors, the folder relative paths resolve
/// against, and the place of every key path read so far.
final class SpecReader {
    let file: String
    let baseDirectory: URL?
    /// The run's default name (the file's name without its extension).
    let defaultName: String
    private(set) var locations: [String: SpecLocation] = [:]

    init(file: String, baseDirectory: URL?) {
        self.file = file
        self.baseDirectory = baseDirectory
        let last = (file as NSString).lastPathComponent
        let stem = (last as NSString).deletingPathExtension
        defaultName = stem.isEmpty ? "run" : stem
    }

    func record(_ path: String, _ location: SpecLocation?) {
        if let location { locations[path] = location }
    }

    func error(_ node: SpecNode?, _ path: String, _ problem: String) -> SpecError {
        .invalid(file: file, location: node?.location, path: path, problem: problem)
    }

    func error(at location: SpecLocation?, _ path: String, _ problem: String) -> SpecError {
        .invalid(file: file, location: location, path: path, problem: problem)
    }

    /// The keys of a mapping, after checking that every key is one of `allowed`.
    func fields(_ node: SpecNode, _ path: String, allowed: [String], what: String) throws(SpecError) -> SpecFields {
        guard case .mapping(let entries) = node.value else {
            throw error(node, path, "expected \(what), found \(found(node))")
        }
        for entry in entries where !allowed.contains(entry.key) {
            throw error(at: entry.keyLocation ?? node.location, join(path, entry.key),
                        "unknown key '\(specQuoted(entry.key))' (allowed here: \(allowed.joined(separator: ", ")))"
                            + suggestion(entry.key, allowed))
        }
        return SpecFields(reader: self, node: node, path: path, entries: entries)
    }

    // MARK: Scalars

    /// The scalar's text (plain or quoted), or nil for a mapping, a list or null.
    func scalarText(_ node: SpecNode) -> String? {
        if node.isNull { return nil }
        if case .scalar(let text, _) = node.value { return text }
        return nil
    }

    /// A whole number in `min...max`.
    func int(_ node: SpecNode, _ path: String, min: Int, max: Int = .max, expected: String? = nil) throws(SpecError) -> Int {
        let expectation = expected ?? (max == .max ? "a whole number ≥ \(min)" : "a whole number in \(min)...\(max)")
        guard case .scalar(let text, .plain) = node.value, !node.isNull, let value = Int(text) else {
            throw error(node, path, "expected \(expectation), found \(found(node))")
        }
        guard value >= min && value <= max else { throw error(node, path, "expected \(expectation), found \(value)") }
        return value
    }

    /// A non-negative whole number that fits 64 bits (seeds).
    func uint64(_ node: SpecNode, _ path: String) throws(SpecError) -> UInt64 {
        guard case .scalar(let text, .plain) = node.value, !node.isNull, let value = UInt64(text) else {
            throw error(node, path, "expected a whole number in 0...\(UInt64.max), found \(found(node))")
        }
        return value
    }

    /// A finite number satisfying `rule`.
    func double(_ node: SpecNode, _ path: String, _ rule: NumberRule) throws(SpecError) -> Double {
        guard case .scalar(let text, .plain) = node.value, !node.isNull, let value = parseNumber(text) else {
            throw error(node, path, "expected \(rule.expected), found \(found(node))")
        }
        guard value.isFinite && rule.contains(value) else {
            throw error(node, path, "expected \(rule.expected), found \(text)")
        }
        return value
    }

    /// `true` or `false` (YAML's `yes`/`no`/`on`/`off` too).
    func bool(_ node: SpecNode, _ path: String) throws(SpecError) -> Bool {
        if case .scalar(let text, .plain) = node.value {
            switch text {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
            default: break
            }
        }
        throw error(node, path, "expected true or false, found \(found(node))")
    }

    /// A string (any scalar, quoted or not); `nonEmpty` rejects "".
    func string(_ node: SpecNode, _ path: String, what: String = "a string", nonEmpty: Bool = true) throws(SpecError) -> String {
        guard let text = scalarText(node) else { throw error(node, path, "expected \(what), found \(found(node))") }
        if nonEmpty && text.isEmpty { throw error(node, path, "expected \(what), found an empty string") }
        return text
    }

    /// One of `options`, as a name.
    func choice(_ node: SpecNode, _ path: String, _ options: [String]) throws(SpecError) -> String {
        guard let text = scalarText(node) else {
            throw error(node, path, "expected one of \(options.joined(separator: ", ")), found \(found(node))")
        }
        guard options.contains(text) else {
            throw error(node, path, "unknown value '\(specQuoted(text))' (expected one of \(options.joined(separator: ", ")))"
                            + suggestion(text, options))
        }
        return text
    }

    /// The value in words for "found ...": `'ten'`, `-3`, `the string "0.1"`, `a list`, `a mapping`, `null`.
    func found(_ node: SpecNode) -> String {
        switch node.value {
        case .scalar(let text, let style):
            if node.isNull { return "null (no value)" }
            if style == .quoted { return "the string \"\(specQuoted(text))\"" }
            if parseNumber(text) != nil { return specQuoted(text) }
            return "'\(specQuoted(text))'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// A path in the spec resolved against the spec's folder (absolute paths are kept).
    func resolvePath(_ path: String) -> String {
        guard let baseDirectory, !path.hasPrefix("/") else { return path }
        return baseDirectory.appendingPathComponent(path).standardizedFileURL.path
    }
}

/// A number as the spec accepts it: decimal or exponent notation (`0.01`, `1e-3`, `-2`), no hex.
func parseNumber(_ text: String) -> Double? {
    guard let first = text.unicodeScalars.first, first == "-" || first == "+" || first == "." || ("0"..."9").contains(first),
          !text.lowercased().contains("x"), !text.lowercased().contains("n"), !text.lowercased().contains("i") else { return nil }
    return Double(text)
}

/// `path.key`, or `key` at the top.
func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

/// `; did you mean 'x'?` for the option nearest to `text` within a small edit distance.
func suggestion(_ text: String, _ options: [String]) -> String {
    let lowered = text.lowercased()
    var best: (String, Int)?
    for option in options {
        let d = editDistance(lowered, option)
        if best == nil || d < best!.1 { best = (option, d) }
    }
    guard let (option, distance) = best, distance > 0, distance <= max(1, min(3, option.count / 2)) else { return "" }
    return "; did you mean '\(option)'?"
}

/// Levenshtein distance between two short strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The range a number must fall in, with its description for messages.
enum NumberRule {
    case any, positive, nonNegative, fraction, closedFraction, openFraction, percent
    case atMost(Double)

    var expected: String {
        switch self {
        case .any: "a finite number"
        case .positive: "a positive number"
        case .nonNegative: "a number ≥ 0"
        case .fraction: "a number in [0, 1)"
        case .closedFraction: "a number in [0, 1]"
        case .openFraction: "a number in (0, 1)"
        case .percent: "a number in [0, 100]"
        case .atMost(let limit): "a number ≤ \(limit)"
        }
    }

    func contains(_ x: Double) -> Bool {
        switch self {
        case .any: true
        case .positive: x > 0
        case .nonNegative: x >= 0
        case .fraction: x >= 0 && x < 1
        case .closedFraction: x >= 0 && x <= 1
        case .openFraction: x > 0 && x < 1
        case .percent: x >= 0 && x <= 100
        case .atMost(let limit): x <= limit
        }
    }
}

/// The keys of one mapping, read by name; a key set to null counts as absent.
struct SpecFields {
    let reader: SpecReader
    let node: SpecNode
    let path: String
    let entries: [SpecEntry]

    func path(_ key: String) -> String { join(path, key) }

    /// The value of `key`, nil when absent or null; records where it was.
    func node(_ key: String) -> SpecNode? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        reader.record(path(key), entry.value.location ?? entry.keyLocation)
        return entry.value.isNull ? nil : entry.value
    }

    /// Where `key` is written (its key), or the mapping's place.
    func keyLocation(_ key: String) -> SpecLocation? {
        entries.first(where: { $0.key == key })?.keyLocation ?? node.location
    }

    /// The value of a key that must be present.
    func required(_ key: String, _ what: String) throws(SpecError) -> SpecNode {
        guard let value = node(key) else {
            throw reader.error(at: keyLocation(key), path(key), "missing key '\(key)' (expected \(what))")
        }
        return value
    }

    func int(_ key: String, _ fallback: Int, min: Int, max: Int = .max) throws(SpecError) -> Int {
        guard let value = node(key) else { return fallback }
        return try reader.int(value, path(key), min: min, max: max)
    }

    func requiredInt(_ key: String, min: Int, max: Int = .max, what: String) throws(SpecError) -> Int {
        try reader.int(try required(key, what), path(key), min: min, max: max)
    }

    func double(_ key: String, _ fallback: Double, _ rule: NumberRule) throws(SpecError) -> Double {
        guard let value = node(key) else { return fallback }
        return try reader.double(value, path(key), rule)
    }

    func requiredDouble(_ key: String, _ rule: NumberRule, what: String) throws(SpecError) -> Double {
        try reader.double(try required(key, what), path(key), rule)
    }

    func bool(_ key: String, _ fallback: Bool) throws(SpecError) -> Bool {
        guard let value = node(key) else { return fallback }
        return try reader.bool(value, path(key))
    }

    func choice(_ key: String, _ fallback: String, _ options: [String]) throws(SpecError) -> String {
        guard let value = node(key) else { return fallback }
        return try reader.choice(value, path(key), options)
    }

    func uint64(_ key: String, _ fallback: UInt64) throws(SpecError) -> UInt64 {
        guard let value = node(key) else { return fallback }
        return try reader.uint64(value, path(key))
    }

    /// Throws a range error about `key`'s value.
    func fail(_ key: String, _ problem: String) -> SpecError {
        let entry = entries.first(where: { $0.key == key })
        return reader.error(at: entry?.value.location ?? entry?.keyLocation ?? node.location, path(key), problem)
    }
}

// MARK: - Run

extension RunSpec {
    static let keys = ["name", "model", "data", "train", "doctor"]

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> RunSpec {
        guard case .mapping = node.value else {
            throw reader.error(node, path, "a spec must be a mapping with the keys \(keys.joined(separator: ", ")); found \(reader.found(node))")
        }
        let f = try reader.fields(node, path, allowed: keys, what: "a mapping")
        let name = try f.node("name").map { n throws(SpecError) in try reader.string(n, f.path("name"), what: "the run's name") }
            ?? reader.defaultName
        guard let modelNode = f.node("model") else {
            throw reader.error(at: f.keyLocation("model"), f.path("model"),
                               "missing key 'model' (every spec needs model: {mlp: {...}} or model: {layers: [...]})")
        }
        let model = try ModelSpec.read(modelNode, f.path("model"), reader)
        let data = try f.node("data").map { n throws(SpecError) in try DataSpec.read(n, f.path("data"), reader) } ?? DataSpec()
        let train = try f.node("train").map { n throws(SpecError) in try TrainSpec.read(n, f.path("train"), reader) } ?? TrainSpec()
        let doctor = try f.node("doctor").map { n throws(SpecError) in try DoctorSpec.read(n, f.path("doctor"), reader) }
            ?? DoctorSpec()
        var spec = RunSpec(name: name, model: model, data: data, train: train, doctor: doctor)
        spec.source = SpecSourceMap(file: reader.file, locations: reader.locations)
        return spec
    }
}

// MARK: - Model

extension ModelSpec {
    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> ModelSpec {
        let f = try reader.fields(node, path, allowed: ["mlp", "layers"], what: "a mapping with mlp or layers")
        let mlp = f.node("mlp"), layers = f.node("layers")
        if mlp != nil && layers != nil {
            throw reader.error(at: f.keyLocation("layers"), path, "give either mlp or layers, not both")
        }
        if let mlp { return .mlp(try MLPSpec.read(mlp, f.path("mlp"), reader)) }
        if let layers { return .layers(try LayerSpec.readList(layers, f.path("layers"), reader)) }
        throw reader.error(node, path, "expected mlp: {input: ..., hidden: [...], output: ...} or layers: [...]")
    }
}

extension MLPSpec {
    static let keys = ["input", "hidden", "output", "activation", "output_activation", "init", "bias_init", "batch_norm", "residual",
                       "residual_scaling"]
    /// The names `residual_scaling` accepts (`skip_init` is the same scheme as `rezero`).
    static let residualScalingNames = ["none", "rezero", "skip_init"]
    static let activationNames = Activation.allCases.map(\.rawValue)

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> MLPSpec {
        let f = try reader.fields(node, path, allowed: keys, what: "a mapping with input, hidden, output, activation, ...")
        let input = try f.requiredInt("input", min: 1, what: "the number of input features, a whole number ≥ 1")
        var hidden: [Int] = []
        if let list = f.node("hidden") {
            guard case .sequence(let items) = list.value else {
                throw reader.error(list, f.path("hidden"), "expected a list of widths such as [10, 10], found \(reader.found(list))")
            }
            for (index, item) in items.enumerated() {
                let itemPath = "\(f.path("hidden"))[\(index)]"
                reader.record(itemPath, item.location)
                hidden.append(try reader.int(item, itemPath, min: 1, expected: "a width, a whole number ≥ 1"))
            }
        }
        let output = try f.requiredInt("output", min: 1, what: "the number of outputs, a whole number ≥ 1")
        let activation = Activation(rawValue: try f.choice("activation", "relu", activationNames))!
        let outputName = try f.choice("output_activation", "none", ["none"] + activationNames)
        let initializer = try f.node("init").map { n throws(SpecError) in try readInitializer(n, f.path("init"), reader) } ?? .default
        let bias = try f.node("bias_init").map { n throws(SpecError) in try readInitializer(n, f.path("bias_init"), reader) }
        let spec = MLPSpec(
            input: input, hidden: hidden, output: output, activation: activation,
            outputActivation: outputName == "none" ? nil : Activation(rawValue: outputName),
            initializer: initializer, biasInitializer: bias == .default ? nil : bias,
            batchNorm: try f.bool("batch_norm", false), residual: try f.bool("residual", false),
            residualScaling: try f.choice("residual_scaling", "none", residualScalingNames) == "none" ? .none : .reZero)
        if let (key, problem) = spec.consistencyProblem() { throw f.fail(key, problem) }
        return spec
    }

    /// A combination of keys that cannot work, as (key, problem), or nil.
    func consistencyProblem() -> (String, String)? {
        if let problem = gainProblem(initializer, activation: activation.rawValue, parameter: nil) { return ("init", problem) }
        if let bias = biasInitializer, let problem = biasProblem(bias) { return ("bias_init", problem) }
        if residualScaling != .none && !residual {
            return ("residual_scaling", "residual_scaling scales the branch of residual blocks; set residual: true too")
        }
        if residual, !zip(hidden, hidden.dropFirst()).contains(where: { $0 == $1 }) {
            return ("residual", "residual blocks x + f(x) wrap the hidden layers that keep their input's width, "
                    + "and hidden \(hidden) has none after the first (write e.g. [\(hidden.first ?? 10), \(hidden.first ?? 10)])")
        }
        return nil
    }
}

/// Why `initializer` cannot derive its gain or Kaiming nonlinearity from `activation`, or nil.
func gainProblem(_ initializer: Initializer, activation: String, parameter: Double?) -> String? {
    let needsGain: Bool
    switch initializer {
    case .xavierUniform(nil), .xavierNormal(nil), .orthogonal(nil), .kaimingUniform(_, _, nil), .kaimingNormal(_, _, nil):
        needsGain = true
    default:
        needsGain = false
    }
    guard needsGain else { return nil }
    let nonlinearity = ["identity", "none"].contains(activation) ? "linear" : activation
    if (try? calculateGain(nonlinearity: nonlinearity, param: parameter)) != nil { return nil }
    let fix: String
    switch initializer {
    case .kaimingUniform, .kaimingNormal: fix = "give it one, e.g. {type: \(initializer.name), nonlinearity: relu}"
    default: fix = "give a gain, e.g. {type: \(initializer.name), gain: 1.0}"
    }
    return "\(initializer.name) takes its gain from the activation, but calculate_gain has no entry for '\(activation)' "
        + "(known: \(knownNonlinearities.joined(separator: ", "))); \(fix)"
}

/// Why `initializer` cannot initialize a 1-D bias, or nil.
func biasProblem(_ initializer: Initializer) -> String? {
    switch initializer {
    case .xavierUniform, .xavierNormal, .kaimingUniform, .kaimingNormal, .orthogonal, .sparse, .eye:
        return "\(initializer.name) needs a 2-D weight; a bias takes default, zeros, ones, constant, normal, uniform or truncated_normal"
    default:
        return nil
    }
}

// MARK: - Initializers

/// The parameter keys of each initializer besides `type`.
let initializerKeys: [String: [String]] = [
    "default": [], "zeros": [], "ones": [], "eye": [],
    "xavier_uniform": ["gain"], "xavier_normal": ["gain"], "orthogonal": ["gain"],
    "kaiming_uniform": ["a", "mode", "nonlinearity"], "kaiming_normal": ["a", "mode", "nonlinearity"],
    "normal": ["mean", "std"], "uniform": ["low", "high"], "constant": ["value"],
    "truncated_normal": ["mean", "std", "a", "b"], "sparse": ["sparsity", "std"],
]

/// An initializer: a bare name (`kaiming_uniform`) or `{type: name, parameters...}`
/// (`{type: normal, std: 10}`).
func readInitializer(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> Initializer {
    if let name = reader.scalarText(node) {
        let known = try reader.choice(node, path, Initializer.names)
        if known == "constant" || known == "sparse" {
            let example = known == "constant" ? "{type: constant, value: 0.1}" : "{type: sparse, sparsity: 0.9}"
            throw reader.error(node, path, "\(name) needs a parameter: write \(example)")
        }
        return (try? Initializer(name: known)) ?? .default
    }
    guard case .mapping(let entries) = node.value else {
        throw reader.error(node, path, "expected an initializer name such as xavier_uniform or {type: normal, std: 0.1}, found \(reader.found(node))")
    }
    if !entries.contains(where: { $0.key == "type" }), entries.count == 1, Initializer.names.contains(entries[0].key) {
        throw reader.error(at: entries[0].keyLocation ?? node.location, path,
                           "write an initializer with parameters as {type: \(entries[0].key), ...} (the name and its parameters in one map)")
    }
    let typeNode = try SpecFields(reader: reader, node: node, path: path, entries: entries)
        .required("type", "an initializer name (\(Initializer.names.joined(separator: ", ")))")
    let name = try reader.choice(typeNode, join(path, "type"), Initializer.names)
    let f = try reader.fields(node, path, allowed: ["type"] + initializerKeys[name]!, what: "an initializer")
    switch name {
    case "xavier_uniform", "xavier_normal", "orthogonal":
        let gain = try f.node("gain").map { n throws(SpecError) in try reader.double(n, f.path("gain"), .positive) }
        return name == "xavier_uniform" ? .xavierUniform(gain: gain) : name == "xavier_normal" ? .xavierNormal(gain: gain) : .orthogonal(gain: gain)
    case "kaiming_uniform", "kaiming_normal":
        let a = try f.node("a").map { n throws(SpecError) in try reader.double(n, f.path("a"), .any) }
        let mode = FanMode(rawValue: try f.choice("mode", "fan_in", FanMode.allCases.map(\.rawValue)))!
        let nonlinearity = try f.node("nonlinearity").map { n throws(SpecError) in
            try reader.choice(n, f.path("nonlinearity"), knownNonlinearities)
        }
        return name == "kaiming_uniform" ? .kaimingUniform(a: a, mode: mode, nonlinearity: nonlinearity)
            : .kaimingNormal(a: a, mode: mode, nonlinearity: nonlinearity)
    case "normal":
        return .normal(mean: try f.double("mean", 0, .any), std: try f.double("std", 1, .nonNegative))
    case "uniform":
        let low = try f.double("low", 0, .any)
        let high = try f.double("high", 1, .any)
        if high < low { throw f.fail("high", "expected a number ≥ low (\(low)), found \(high)") }
        return .uniform(low: low, high: high)
    case "constant":
        return .constant(value: try f.requiredDouble("value", .any, what: "the constant, a finite number"))
    case "truncated_normal":
        let mean = try f.double("mean", 0, .any), std = try f.double("std", 1, .positive)
        let a = try f.double("a", -2, .any), b = try f.double("b", 2, .any)
        if !(a < b) { throw f.fail("b", "expected a number > a (\(a)), found \(b)") }
        return .truncatedNormal(mean: mean, std: std, a: a, b: b)
    case "sparse":
        return .sparse(sparsity: try f.requiredDouble("sparsity", .closedFraction, what: "the zero fraction per column, in [0, 1]"),
                       std: try f.double("std", 0.01, .nonNegative))
    default:
        return (try? Initializer(name: name)) ?? .default
    }
}

// MARK: - Layers

extension LayerSpec {
    /// The keys of each entry's parameter map.
    static let parameterKeys: [String: [String]] = [
        "linear": ["in", "out", "bias", "init", "bias_init"], "leaky_relu": ["negative_slope"],
        "prelu": ["num_parameters", "init"], "elu": ["alpha"], "gelu": ["approximate"], "softplus": ["beta", "threshold"],
        "hardtanh": ["min_val", "max_val"], "batch_norm": ["features", "eps", "momentum"], "layer_norm": ["features", "eps"],
        "dropout": ["p"], "flatten": ["start_dim"],
        "rnn": ["input", "hidden", "layers", "nonlinearity", "bias", "init", "batch_first"],
        "lstm": ["input", "hidden", "layers", "bias", "init", "forget_bias", "batch_first"],
        "gru": ["input", "hidden", "layers", "bias", "init", "batch_first"],
    ]

    /// An entry of a layer list: `{name: {parameters}}` or a bare name.
    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> LayerSpec {
        let name: String
        var parameters: SpecNode?
        var entryPath = path
        if reader.scalarText(node) != nil {
            name = try reader.choice(node, path, names)
            if ["linear", "batch_norm", "layer_norm", "rnn", "lstm", "gru"].contains(name) {
                let example = name == "linear" ? "{linear: {in: 1, out: 10}}"
                    : RecurrentLayerSpec.Cell(rawValue: name) != nil ? "{\(name): {input: 2, hidden: 32}}" : "{\(name): {features: 10}}"
                throw reader.error(node, path, "\(name) needs parameters: write \(example)")
            }
        } else if case .mapping(let entries) = node.value {
            guard entries.count == 1 else {
                throw reader.error(node, path, "expected one key, the layer's name (as {relu: {}}), found "
                                    + (entries.isEmpty ? "an empty mapping" : "keys \(entries.map(\.key).joined(separator: ", "))"))
            }
            let entry = entries[0]
            entryPath = join(path, entry.key)
            guard names.contains(entry.key) else {
                throw reader.error(at: entry.keyLocation ?? node.location, entryPath,
                                   "unknown layer '\(specQuoted(entry.key))' (expected one of \(names.joined(separator: ", ")))"
                                    + suggestion(entry.key, names))
            }
            name = entry.key
            reader.record(entryPath, entry.keyLocation)
            parameters = entry.value.isNull ? nil : entry.value
        } else {
            throw reader.error(node, path, "expected a layer such as {linear: {in: 1, out: 10}} or relu, found \(reader.found(node))")
        }
        let empty = SpecNode(.mapping([]), location: node.location)
        let f = try reader.fields(parameters ?? empty, entryPath, allowed: parameterKeys[name] ?? [],
                                  what: "the parameters of \(name) as a mapping")
        switch name {
        case "linear":
            let initializer = try f.node("init").map { n throws(SpecError) in try readInitializer(n, f.path("init"), reader) } ?? .default
            let bias = try f.node("bias_init").map { n throws(SpecError) in try readInitializer(n, f.path("bias_init"), reader) }
            if let bias, let problem = biasProblem(bias) { throw f.fail("bias_init", problem) }
            return .linear(inFeatures: try f.requiredInt("in", min: 1, what: "the input width, a whole number ≥ 1"),
                           outFeatures: try f.requiredInt("out", min: 1, what: "the output width, a whole number ≥ 1"),
                           bias: try f.bool("bias", true), initializer: initializer, biasInitializer: bias == .default ? nil : bias)
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "relu": return .relu
        case "selu": return .selu
        case "silu": return .silu
        case "softsign": return .softsign
        case "identity": return .identity
        case "leaky_relu": return .leakyReLU(negativeSlope: try f.double("negative_slope", 0.01, .any))
        case "prelu":
            return .prelu(parameterCount: try f.int("num_parameters", 1, min: 1), initialValue: try f.double("init", 0.25, .any))
        case "elu": return .elu(alpha: try f.double("alpha", 1, .any))
        case "gelu": return .gelu(approximateTanh: try f.choice("approximate", "none", ["none", "tanh"]) == "tanh")
        case "softplus": return .softplus(beta: try f.double("beta", 1, .positive), threshold: try f.double("threshold", 20, .positive))
        case "hardtanh":
            let low = try f.double("min_val", -1, .any), high = try f.double("max_val", 1, .any)
            if !(low < high) { throw f.fail("max_val", "expected a number > min_val (\(low)), found \(high)") }
            return .hardtanh(minValue: low, maxValue: high)
        case "batch_norm":
            return .batchNorm(features: try f.requiredInt("features", min: 1, what: "the number of features, a whole number ≥ 1"),
                              eps: try f.double("eps", 1e-5, .positive), momentum: try f.double("momentum", 0.1, .closedFraction))
        case "layer_norm":
            return .layerNorm(features: try f.requiredInt("features", min: 1, what: "the number of features, a whole number ≥ 1"),
                              eps: try f.double("eps", 1e-5, .positive))
        case "dropout": return .dropout(p: try f.double("p", 0.5, .fraction))
        case "last_step": return .lastStep
        case "rnn", "lstm", "gru":
            return .recurrent(try RecurrentLayerSpec.read(f, cell: RecurrentLayerSpec.Cell(rawValue: name)!, reader))
        default:
            // Examples are rows `[n, features]`: only start_dim 1 keeps them rows.
            guard let startNode = f.node("start_dim") else { return .flatten(startDim: 1) }
            return .flatten(startDim: try reader.int(startNode, f.path("start_dim"), min: 1, max: 1,
                                                     expected: "1 (examples are rows of features, so flatten keeps axis 0)"))
        }
    }

    /// The list under `model.layers`, with the widths checked from one layer to the next.
    static func readList(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> [LayerSpec] {
        guard case .sequence(let items) = node.value else {
            throw reader.error(node, path, "expected a list of layers such as [{linear: {in: 1, out: 10}}, relu], found \(reader.found(node))")
        }
        var layers: [LayerSpec] = []
        for (index, item) in items.enumerated() {
            reader.record("\(path)[\(index)]", item.location)
            layers.append(try read(item, "\(path)[\(index)]", reader))
        }
        if let (index, key, problem) = widthProblem(layers) {
            let itemPath = "\(path)[\(index)]"
            let keyPath = key.isEmpty ? itemPath : "\(itemPath).\(layers[index].name).\(key)"
            throw reader.error(at: reader.locations[keyPath] ?? (index < items.count ? items[index].location : node.location),
                               keyPath, problem)
        }
        return layers
    }

    /// The first width mismatch, initializer problem or misplaced sequence layer in a layer
    /// list: (index, parameter key, problem).
    ///
    /// Examples flow through the list as rows `[n, width]` or, from a recurrent layer on until a
    /// `last_step`, as sequences `[n, T, width]`: a recurrent layer must come first (reading the
    /// rows as sequences) or where sequences flow, `last_step` only where they flow, and
    /// `batch_norm`, `flatten` and a per-channel `prelu` only on rows.
    static func widthProblem(_ layers: [LayerSpec]) -> (Int, String, String)? {
        guard layers.contains(where: { switch $0 { case .linear, .recurrent: true; default: false } }) else {
            return (0, "", "a layer list needs at least one linear or recurrent (rnn, lstm, gru) layer")
        }
        var width: Int?
        var sequences = false
        for (index, layer) in layers.enumerated() {
            if sequences {
                switch layer {
                case .batchNorm:
                    return (index, "", "batch_norm normalizes rows [n, features], but here the examples are sequences [n, T, \(width ?? 0)]; "
                            + "put it after last_step, or use layer_norm, which normalizes each step")
                case .flatten:
                    return (index, "", "flatten would merge the time steps of the sequences [n, T, \(width ?? 0)]; use last_step to keep the last step's output")
                case .prelu(let count, _) where count != 1:
                    return (index, "num_parameters", "expected 1 on sequences [n, T, \(width ?? 0)] (a per-channel prelu needs rows), found \(count)")
                default: break
                }
            }
            switch layer {
            case .recurrent(let recurrent):
                if index > 0 && !sequences {
                    return (index, "", "a \(recurrent.cell.rawValue) layer reads sequences: put it first in the list (it then reads each row "
                            + "of features as steps of \(recurrent.input) features) or after another recurrent layer, before any last_step")
                }
                if let width, width != recurrent.input {
                    return (index, "input", "expected \(width) (the output width of the layer before), found \(recurrent.input)")
                }
                width = recurrent.hidden
                sequences = true
            case .lastStep:
                if !sequences {
                    return (index, "", "last_step takes the last time step of sequences [n, T, H] and needs a recurrent layer (rnn, lstm, gru) before it")
                }
                sequences = false
            case .linear(let inFeatures, let outFeatures, _, let initializer, _):
                if let width, width != inFeatures {
                    return (index, "in", "expected \(width) (the output width of the layer before), found \(inFeatures)")
                }
                let (activation, parameter) = nonlinearity(after: index, in: layers)
                if let problem = gainProblem(initializer, activation: activation, parameter: parameter) {
                    return (index, "init", problem)
                }
                width = outFeatures
            case .batchNorm(let features, _, _), .layerNorm(let features, _):
                if let width, width != features {
                    return (index, "features", "expected \(width) (the output width of the layer before), found \(features)")
                }
                width = features
            case .prelu(let count, _):
                if count != 1, let width, count != width {
                    return (index, "num_parameters", "expected 1 or \(width) (the width of its input), found \(count)")
                }
            default:
                break
            }
        }
        return nil
    }

    /// The activation that follows layer `index` (skipping norms, dropout, identity, flatten),
    /// as a `calculateGain` name and parameter; `linear` when a `linear` layer or the end comes first.
    static func nonlinearity(after index: Int, in layers: [LayerSpec]) -> (String, Double?) {
        for layer in layers[(index + 1)...] {
            switch layer {
            case .linear, .recurrent: return ("linear", nil)
            case .batchNorm, .layerNorm, .dropout, .identity, .flatten, .lastStep: continue
            case .leakyReLU(let slope): return ("leaky_relu", slope)
            default: return (layer.name, nil)
            }
        }
        return ("linear", nil)
    }
}

extension RecurrentLayerSpec {
    /// The names `init` accepts on a recurrent layer.
    static let initNames = ["default", "orthogonal"]

    /// A recurrent layer's parameters (the keys were checked against the cell's list).
    static func read(_ f: SpecFields, cell: Cell, _ reader: SpecReader) throws(SpecError) -> RecurrentLayerSpec {
        let input = try f.requiredInt("input", min: 1, what: "the features of each time step, a whole number ≥ 1")
        let hidden = try f.requiredInt("hidden", min: 1, what: "the hidden units, a whole number ≥ 1")
        let layers = try f.int("layers", 1, min: 1, max: 1000)
        let nonlinearity = RNNNonlinearity(rawValue: try f.choice("nonlinearity", "tanh", RNNNonlinearity.allCases.map(\.rawValue)))!
        var orthogonal = false, gain = 1.0
        if let initNode = f.node("init") {
            if reader.scalarText(initNode) != nil {
                orthogonal = try reader.choice(initNode, f.path("init"), initNames) == "orthogonal"
            } else {
                let (name, fields) = try readTyped(initNode, f.path("init"), reader, types: initNames,
                                                   keys: ["orthogonal": ["gain"]], what: "the recurrent weights' init (default or orthogonal)")
                orthogonal = name == "orthogonal"
                gain = try fields?.double("gain", 1, .positive) ?? 1
            }
        }
        let forgetBias = try f.node("forget_bias").map { n throws(SpecError) in try reader.double(n, f.path("forget_bias"), .any) }
        if let batchFirst = f.node("batch_first"), try !reader.bool(batchFirst, f.path("batch_first")) {
            throw f.fail("batch_first", "expected true (examples are rows of features, read batch-first as [n, T, \(input)]), found false")
        }
        let bias = try f.bool("bias", true)
        if forgetBias != nil && !bias { throw f.fail("forget_bias", "forget_bias sets a bias, but this layer has bias: false") }
        return RecurrentLayerSpec(cell: cell, input: input, hidden: hidden, layers: layers, bias: bias,
                                  orthogonal: orthogonal, orthogonalGain: gain, nonlinearity: nonlinearity, forgetBias: forgetBias)
    }
}

// MARK: - Data

extension DataSpec {
    static let commonKeys = ["kind", "validation", "standardize", "seed"]
    static let kindKeys: [String: [String]] = [
        "linear": ["count", "noise", "slope", "intercept"], "spiral": ["count", "classes"], "xor": ["count", "noise"],
        "circles": ["count", "noise", "factor"], "parity": ["bits", "count", "signed"], "digits": ["labels"],
        "mnist1d": ["split", "labels"], "csv": ["path", "target", "header", "labels", "delimiter"],
        "adding": ["count", "length"], "copy": ["count", "symbols", "length", "delay"],
        "parity_sequence": ["count", "length", "running", "signed"],
        "idx": ["images", "labels", "scale", "encoding"],
    ]

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> DataSpec {
        guard case .mapping(let entries) = node.value else {
            throw reader.error(node, path, "expected a mapping such as {kind: linear}, found \(reader.found(node))")
        }
        let probe = SpecFields(reader: reader, node: node, path: path, entries: entries)
        let kind = try probe.choice("kind", "linear", DataSource.kinds)
        let f = try reader.fields(node, path, allowed: commonKeys + kindKeys[kind]!, what: "a mapping")
        let source: DataSource
        func encoding(_ key: String) throws(SpecError) -> CSVOptions.LabelEncoding {
            try f.choice(key, "one_hot", ["one_hot", "integer"]) == "one_hot" ? .oneHot : .index
        }
        func filePath(_ key: String, _ what: String) throws(SpecError) -> String {
            reader.resolvePath(try reader.string(try f.required(key, what), f.path(key), what: what))
        }
        switch kind {
        case "linear":
            source = .linear(count: try f.int("count", 100, min: 1), noise: try f.double("noise", 0.5, .nonNegative),
                             slope: try f.double("slope", 3, .any), intercept: try f.double("intercept", 2, .any))
        case "spiral":
            let classes = try f.int("classes", 2, min: 2, max: 1000)
            let count = try f.int("count", 1000, min: 1)
            if count < classes { throw f.fail("count", "expected at least one point per class (≥ \(classes)), found \(count)") }
            source = .spiral(count: count, classes: classes)
        case "xor":
            source = .xor(count: try f.int("count", 200, min: 1), noise: try f.double("noise", 0.2, .nonNegative))
        case "circles":
            source = .circles(count: try f.int("count", 200, min: 2), noise: try f.double("noise", 0.05, .nonNegative),
                              factor: try f.double("factor", 0.5, .openFraction))
        case "parity":
            let bits = try f.requiredInt("bits", min: 1, max: 64, what: "the pattern length, a whole number in 1...64")
            var count: Int?
            if let countNode = f.node("count"), reader.scalarText(countNode) != "all" {
                count = try reader.int(countNode, f.path("count"), min: 1, expected: "all or a whole number ≥ 1")
            }
            if count == nil && bits > 20 {
                throw f.fail("bits", "the full table of 2^\(bits) patterns is too large (bits ≤ 20); give count to sample patterns")
            }
            source = .parity(bits: bits, count: count, signed: try f.bool("signed", false))
        case "digits":
            source = .digits(labels: try encoding("labels"))
        case "mnist1d":
            let split = BundledData.Split(rawValue: try f.choice("split", "train", BundledData.Split.allCases.map(\.rawValue)))!
            source = .mnist1d(split: split, labels: try encoding("labels"))
        case "adding":
            source = .adding(count: try f.int("count", 1000, min: 1), length: try f.int("length", 50, min: 2))
        case "copy":
            source = .copy(count: try f.int("count", 1000, min: 1), symbols: try f.int("symbols", 8, min: 1, max: 100_000),
                           length: try f.int("length", 10, min: 1, max: 1_000_000), delay: try f.int("delay", 20, min: 1, max: 1_000_000))
        case "parity_sequence":
            source = .paritySequence(count: try f.int("count", 1000, min: 1), length: try f.int("length", 20, min: 1),
                                     running: try f.bool("running", false), signed: try f.bool("signed", false))
        case "csv":
            let file = try filePath("path", "the CSV file's path")
            var target = CSVOptions.TargetColumn.index(-1)
            if let t = f.node("target") {
                if case .scalar(let text, .plain) = t.value, let index = Int(text) {
                    target = .index(index)
                } else {
                    target = .name(try reader.string(t, f.path("target"), what: "a column name or a 0-based column index"))
                }
            }
            var header = CSVOptions.Header.automatic
            if let h = f.node("header"), reader.scalarText(h) != "auto" {
                guard case .scalar(_, .plain) = h.value, let present = try? reader.bool(h, f.path("header")) else {
                    throw reader.error(h, f.path("header"), "expected true, false or auto, found \(reader.found(h))")
                }
                header = present ? .present : .absent
            }
            let task: CSVOptions.Task = switch try f.choice("labels", "none", ["none", "integer", "one_hot"]) {
            case "integer": .classification(.index)
            case "one_hot": .classification(.oneHot)
            default: .regression
            }
            var delimiter: Character = ","
            if let d = f.node("delimiter") {
                let text = try reader.string(d, f.path("delimiter"), what: "one ASCII character such as ',' or ';'")
                guard text.count == 1, let c = text.first, c.isASCII, !"\"\n\r".contains(c) else {
                    throw reader.error(d, f.path("delimiter"),
                                       "expected one ASCII character other than a quote or a line break, found \"\(specQuoted(text))\"")
                }
                delimiter = c
            }
            source = .csv(CSVSource(path: file, target: target, header: header, task: task, delimiter: delimiter))
        default:
            source = .idx(images: try filePath("images", "the images file's path"),
                          labels: try filePath("labels", "the labels file's path"),
                          scale: try f.double("scale", 1.0 / 255.0, .positive), encoding: try encoding("encoding"))
        }
        return DataSpec(source: source, validation: try f.double("validation", 0, .fraction),
                        standardize: try f.bool("standardize", false), seed: try f.uint64("seed", 0))
    }
}

// MARK: - Training

extension TrainSpec {
    static let keys = ["loss", "optimizer", "schedule", "clip", "epochs", "batch_size", "seed"]

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> TrainSpec {
        let f = try reader.fields(node, path, allowed: keys, what: "a mapping with loss, optimizer, epochs, ...")
        let loss = LossKind(rawValue: try f.choice("loss", "mse", LossKind.allCases.map(\.rawValue)))!
        let optimizer = try f.node("optimizer").map { n throws(SpecError) in try OptimizerSpec.read(n, f.path("optimizer"), reader) }
            ?? .sgd()
        let epochs = try f.int("epochs", 100, min: 1)
        let schedule = try f.node("schedule").flatMap { n throws(SpecError) in
            try ScheduleSpec.read(n, f.path("schedule"), reader, epochs: epochs)
        }
        let clip = try f.node("clip").map { n throws(SpecError) in try readClipping(n, f.path("clip"), reader) } ?? .none
        let batchSize = try f.node("batch_size").flatMap { n throws(SpecError) in try readBatchSize(n, f.path("batch_size"), reader) }
        return TrainSpec(loss: loss, optimizer: optimizer, schedule: schedule, clip: clip, epochs: epochs,
                         batchSize: batchSize, seed: try f.uint64("seed", 0))
    }
}

/// `full` (nil) or a whole number ≥ 1.
func readBatchSize(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> Int? {
    if reader.scalarText(node) == "full" { return nil }
    return try reader.int(node, path, min: 1, expected: "full or a whole number ≥ 1")
}

/// A choice written as a bare name or as `{type: name, ...}`: the name and, for a map, its fields.
func readTyped(_ node: SpecNode, _ path: String, _ reader: SpecReader, types: [String], keys: [String: [String]],
               what: String) throws(SpecError) -> (String, SpecFields?) {
    if reader.scalarText(node) != nil { return (try reader.choice(node, path, types), nil) }
    guard case .mapping(let entries) = node.value else {
        throw reader.error(node, path, "expected \(what): a name or {type: name, ...}, found \(reader.found(node))")
    }
    let probe = SpecFields(reader: reader, node: node, path: path, entries: entries)
    let name = try reader.choice(try probe.required("type", "one of \(types.joined(separator: ", "))"), join(path, "type"), types)
    return (name, try reader.fields(node, path, allowed: ["type"] + (keys[name] ?? []), what: what))
}

extension OptimizerSpec {
    static let keys: [String: [String]] = [
        "sgd": ["lr", "momentum", "dampening", "weight_decay", "nesterov"],
        "adam": ["lr", "betas", "eps", "weight_decay", "amsgrad"], "adamw": ["lr", "betas", "eps", "weight_decay", "amsgrad"],
        "rmsprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"],
        "adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    ]

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> OptimizerSpec {
        let (type, fields) = try readTyped(node, path, reader, types: types, keys: keys, what: "an optimizer")
        let defaults = OptimizerSpec.defaults(type: type, lr: type == "sgd" ? 0.01 : type.hasPrefix("adam") ? 1e-3 : 1e-2)!
        guard let f = fields else { return defaults }
        let lr = try f.double("lr", defaults.learningRate, .positive)
        switch defaults {
        case .sgd:
            let momentum = try f.double("momentum", 0, .nonNegative)
            let dampening = try f.double("dampening", 0, .closedFraction)
            let nesterov = try f.bool("nesterov", false)
            if nesterov && momentum == 0 { throw f.fail("nesterov", "nesterov needs momentum > 0 (momentum is 0)") }
            if nesterov && dampening != 0 { throw f.fail("nesterov", "nesterov needs dampening 0 (dampening is \(dampening))") }
            return .sgd(lr: lr, momentum: momentum, dampening: dampening,
                        weightDecay: try f.double("weight_decay", 0, .nonNegative), nesterov: nesterov)
        case .adam, .adamw:
            var betas = (0.9, 0.999)
            if let b = f.node("betas") {
                guard case .sequence(let items) = b.value, items.count == 2 else {
                    throw reader.error(b, f.path("betas"), "expected two numbers in [0, 1) such as [0.9, 0.999], found \(reader.found(b))")
                }
                betas = (try reader.double(items[0], f.path("betas") + "[0]", .fraction),
                         try reader.double(items[1], f.path("betas") + "[1]", .fraction))
            }
            let eps = try f.double("eps", 1e-8, .nonNegative)
            let amsgrad = try f.bool("amsgrad", false)
            if type == "adam" {
                return .adam(lr: lr, beta1: betas.0, beta2: betas.1, eps: eps,
                             weightDecay: try f.double("weight_decay", 0, .nonNegative), amsgrad: amsgrad)
            }
            return .adamw(lr: lr, beta1: betas.0, beta2: betas.1, eps: eps,
                          weightDecay: try f.double("weight_decay", 1e-2, .nonNegative), amsgrad: amsgrad)
        case .rmsprop:
            return .rmsprop(lr: lr, alpha: try f.double("alpha", 0.99, .closedFraction), eps: try f.double("eps", 1e-8, .nonNegative),
                            weightDecay: try f.double("weight_decay", 0, .nonNegative),
                            momentum: try f.double("momentum", 0, .nonNegative), centered: try f.bool("centered", false))
        case .adagrad:
            return .adagrad(lr: lr, lrDecay: try f.double("lr_decay", 0, .nonNegative),
                            weightDecay: try f.double("weight_decay", 0, .nonNegative),
                            initialAccumulatorValue: try f.double("initial_accumulator_value", 0, .nonNegative),
                            eps: try f.double("eps", 1e-10, .nonNegative))
        }
    }
}

extension ScheduleSpec {
    static let keys: [String: [String]] = [
        "step": ["step_size", "gamma"], "exponential": ["gamma"], "cosine": ["t_max", "eta_min"],
        "warmup": ["warmup_epochs", "start_factor", "end_factor"],
    ]

    /// A schedule, or nil for `none`; `epochs` is the default `t_max` of `cosine`.
    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader, epochs: Int) throws(SpecError) -> ScheduleSpec? {
        let (type, fields) = try readTyped(node, path, reader, types: types, keys: keys, what: "a schedule")
        if type == "none" { return nil }
        guard let f = fields else {
            switch type {
            case "cosine": return .cosine(tMax: epochs)
            case "step": throw reader.error(node, path, "step needs step_size: write {type: step, step_size: 30}")
            case "exponential": throw reader.error(node, path, "exponential needs gamma: write {type: exponential, gamma: 0.95}")
            default: throw reader.error(node, path, "warmup needs warmup_epochs: write {type: warmup, warmup_epochs: 5}")
            }
        }
        switch type {
        case "step":
            return .step(stepSize: try f.requiredInt("step_size", min: 1, what: "the epochs between decays, a whole number ≥ 1"),
                         gamma: try f.double("gamma", 0.1, .positive))
        case "exponential":
            return .exponential(gamma: try f.requiredDouble("gamma", .positive, what: "the factor per epoch, a positive number"))
        case "cosine":
            return .cosine(tMax: try f.int("t_max", epochs, min: 1), etaMin: try f.double("eta_min", 0, .nonNegative))
        default:
            let warmup = try f.requiredInt("warmup_epochs", min: 1, what: "the warm-up length in epochs, a whole number ≥ 1")
            let start = try f.double("start_factor", 1.0 / 3.0, .positive)
            if start > 1 { throw f.fail("start_factor", "expected a number in (0, 1], found \(start)") }
            return .warmup(epochs: warmup, startFactor: start, endFactor: try f.double("end_factor", 1, .closedFraction))
        }
    }

    static func readRequired(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> ScheduleSpec {
        guard let schedule = try read(node, path, reader, epochs: TrainSpec().epochs) else {
            throw reader.error(node, path, "expected a schedule (step, exponential, cosine or warmup), found none")
        }
        return schedule
    }
}

/// Gradient clipping: `none`, `{type: norm, max_norm: 10}`, `{type: value, clip_value: 1}`,
/// `{type: agc, clip_factor: 0.01}`, `{type: autoclip, percentile: 10}`.
func readClipping(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> GradientClipping {
    let keys = ["none": [], "norm": ["max_norm"], "value": ["clip_value"], "agc": ["clip_factor", "eps", "exempt_last_layer"],
                "autoclip": ["percentile"]]
    let (type, fields) = try readTyped(node, path, reader, types: ["none", "norm", "value", "agc", "autoclip"], keys: keys,
                                       what: "a clipping rule")
    guard let f = fields else {
        switch type {
        case "none": return .none
        case "agc": return .agc(clipFactor: 0.01)
        case "autoclip": return .autoClip(percentile: 10)
        case "norm": throw reader.error(node, path, "norm needs max_norm: write {type: norm, max_norm: 10}")
        default: throw reader.error(node, path, "value needs clip_value: write {type: value, clip_value: 1}")
        }
    }
    switch type {
    case "none": return .none
    case "norm": return .norm(maxNorm: try f.requiredDouble("max_norm", .positive, what: "the largest global gradient norm, a positive number"))
    case "value": return .value(clipValue: try f.requiredDouble("clip_value", .positive, what: "the largest |gradient| element, a positive number"))
    case "agc":
        return .agc(clipFactor: try f.double("clip_factor", 0.01, .positive), eps: try f.double("eps", 1e-3, .nonNegative),
                    exemptLastLayer: try f.bool("exempt_last_layer", true))
    default: return .autoClip(percentile: try f.double("percentile", 10, .percent))
    }
}

// MARK: - Doctor

extension DoctorSpec {
    static let keys = ["enabled", "every", "histograms_every", "nonfinite", "saturation_threshold"]

    static func read(_ node: SpecNode, _ path: String, _ reader: SpecReader) throws(SpecError) -> DoctorSpec {
        let f = try reader.fields(node, path, allowed: keys, what: "a mapping with every, histograms_every, nonfinite, ...")
        return DoctorSpec(
            enabled: try f.bool("enabled", true), every: try f.int("every", 1, min: 1),
            histogramsEvery: try f.int("histograms_every", 10, min: 0),
            nonfinite: NonfiniteMode(rawValue: try f.choice("nonfinite", "raise", NonfiniteMode.allCases.map(\.rawValue)))!,
            saturationThreshold: try f.double("saturation_threshold", 0.01, .openFraction))
    }
}

// MARK: - Codable through the tree

/// Reads one part of a spec from any decoder: the decoder's value becomes a tree, which the
/// spec reader checks as it checks a file (without line numbers).
func decodeSpecPart<T>(
    _ decoder: Decoder, _ read: (SpecNode, String, SpecReader) throws(SpecError) -> T
) throws -> T {
    let node = try SpecNode(from: decoder)
    do throws(SpecError) {
        return try read(node, "", SpecReader(file: "<decoded>", baseDirectory: nil))
    } catch {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
}

/// A string key for keyed containers.
struct SpecKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension SpecNode: Codable {
    /// Reads any decoder's value as a tree: maps, lists, numbers and booleans (plain) and strings (quoted).
    init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: SpecKey.self) {
            var entries: [SpecEntry] = []
            for key in keyed.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                entries.append(SpecEntry(key: key.stringValue, keyLocation: nil, value: try keyed.decode(SpecNode.self, forKey: key)))
            }
            self.init(.mapping(entries))
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [SpecNode] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(SpecNode.self)) }
            self.init(.sequence(items))
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .plain("null") }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int64.self) { self = .plain(String(value)) }
        else if let value = try? single.decode(UInt64.self) { self = .plain(String(value)) }
        else if let value = try? single.decode(Double.self) { self = .number(value) }
        else { self = .text(try single.decode(String.self)) }
    }

    /// Writes the tree: maps as keyed containers in order, plain scalars as numbers or booleans
    /// when they read as such, everything else as strings.
    func encode(to encoder: Encoder) throws {
        switch value {
        case .mapping(let entries):
            var keyed = encoder.container(keyedBy: SpecKey.self)
            for entry in entries { try keyed.encode(entry.value, forKey: SpecKey(entry.key)) }
        case .sequence(let items):
            var unkeyed = encoder.unkeyedContainer()
            for item in items { try unkeyed.encode(item) }
        case .scalar(let text, let style):
            var single = encoder.singleValueContainer()
            if style == .quoted { try single.encode(text); return }
            if isNull { try single.encodeNil() }
            else if text == "true" || text == "false" { try single.encode(text == "true") }
            else if let value = Int64(text) { try single.encode(value) }
            else if let value = UInt64(text) { try single.encode(value) }
            else if let value = parseNumber(text) { try single.encode(value) }
            else { try single.encode(text) }
        }
    }
}
