import Foundation
import Testing
import GradLab
import GradTestSupport

private let badSpecs = fixturesDirectory.appendingPathComponent("bad/spec")

/// A malformed spec file, the place its error must name, the key path (or word) the message
/// must name, and a phrase of the message.
private struct Case: Sendable, CustomTestStringConvertible {
    let file: String
    let line: Int
    let column: Int
    let field: String
    let phrase: String
    var testDescription: String { file }

    init(_ file: String, _ line: Int, _ column: Int, _ field: String, _ phrase: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.phrase = phrase
    }
}

/// Every file of `Tests/Fixtures/bad/spec`.
private let corpus: [Case] = [
    Case("syntax_error.yaml", 3, 45, "YAML syntax error", "did not find expected ',' or ']'"),
    Case("tab_indentation.yaml", 3, 1, "YAML syntax error", "tabs cannot indent YAML"),
    Case("unclosed_quote.yaml", 3, 1, "YAML syntax error", "quoted scalar at 1:7"),
    Case("two_documents.yaml", 2, 1, "YAML syntax error", "expected a single document"),
    Case("unknown_top_level_key.yaml", 3, 1, "trian", "unknown key 'trian' (allowed here: name, model, data, train, doctor); did you mean 'train'?"),
    Case("unknown_nested_key.yaml", 4, 5, "model.mlp.hiden", "unknown key 'hiden'"),
    Case("misspelled_activation.yaml", 7, 17, "model.mlp.activation", "unknown value 'sigmod' (expected one of sigmoid, tanh, relu"),
    Case("negative_width.yaml", 2, 32, "model.mlp.hidden[1]", "expected a width, a whole number ≥ 1, found -3"),
    Case("hidden_not_a_list.yaml", 2, 27, "model.mlp.hidden", "expected a list of widths such as [10, 10], found 10"),
    Case("input_missing.yaml", 3, 5, "model.mlp.input", "missing key 'input'"),
    Case("lr_zero.yaml", 3, 30, "train.optimizer.lr", "expected a positive number, found 0"),
    Case("lr_string.yaml", 5, 9, "train.optimizer.lr", "found the string \"0.001\""),
    Case("lr_word.yaml", 3, 30, "train.optimizer.lr", "found 'fast'"),
    Case("epochs_zero.yaml", 3, 11, "train.epochs", "expected a whole number ≥ 1, found 0"),
    Case("epochs_text.yaml", 4, 11, "train.epochs", "expected a whole number ≥ 1, found 'ten'"),
    Case("batch_size_negative.yaml", 2, 33, "train.batch_size", "expected full or a whole number ≥ 1, found -3"),
    Case("batch_size_half.yaml", 3, 15, "train.batch_size", "found 'half'"),
    Case("unknown_optimizer.yaml", 3, 21, "train.optimizer.type", "unknown value 'adamm'"),
    Case("unknown_loss.yaml", 3, 9, "train.loss", "unknown value 'cross_entropi'"),
    Case("clip_type_unknown.yaml", 3, 16, "train.clip.type", "unknown value 'norms' (expected one of none, norm, value, agc, autoclip)"),
    Case("clip_max_norm_negative.yaml", 5, 15, "train.clip.max_norm", "expected a positive number, found -5"),
    Case("autoclip_percentile_150.yaml", 3, 38, "train.clip.percentile", "expected a number in [0, 100], found 150"),
    Case("data_kind_unknown.yaml", 3, 9, "data.kind", "unknown value 'moons'"),
    Case("csv_without_path.yaml", 3, 3, "data.path", "missing key 'path'"),
    Case("missing_model.yaml", 1, 1, "model", "missing key 'model'"),
    Case("model_both.yaml", 3, 3, "model", "give either mlp or layers, not both"),
    Case("empty.yaml", 1, 1, "empty", "the spec is empty"),
    Case("only_comments.yaml", 1, 1, "empty", "the spec is empty"),
    Case("top_level_list.yaml", 1, 1, "mapping", "found a list"),
    Case("duplicate_key.yaml", 5, 3, "train.epochs", "duplicate key 'epochs' (first at 3:3"),
    Case("nonfinite_unknown.yaml", 4, 14, "doctor.nonfinite", "unknown value 'ignore' (expected one of raise, skip_step, warn, off)"),
    Case("trailing_comma.json", 3, 25, "JSON syntax error", "trailing comma before '}'"),
    Case("json_single_quotes.json", 2, 33, "JSON syntax error", "expected a key in double quotes"),
    Case("json_comment.json", 2, 48, "JSON syntax error", "found '/'"),
    Case("layer_width_mismatch.yaml", 5, 20, "model.layers[2].linear.in", "expected 10 (the output width of the layer before), found 20"),
    Case("unknown_layer.yaml", 4, 7, "model.layers[1].relux", "unknown layer 'relux'"),
    Case("initializer_unknown_parameter.yaml", 5, 26, "model.mlp.init.stdev", "unknown key 'stdev' (allowed here: type, mean, std)"),
    Case("initializer_nested_form.yaml", 5, 12, "model.mlp.init", "{type: normal, ...}"),
    Case("kaiming_without_gain.yaml", 2, 67, "model.mlp.init", "no entry for 'gelu'"),
    Case("residual_unequal_widths.yaml", 2, 57, "model.mlp.residual", "keep their input's width"),
    Case("validation_one.yaml", 2, 34, "data.validation", "expected a number in [0, 1), found 1.0"),
    Case("nesterov_without_momentum.yaml", 3, 45, "train.optimizer.nesterov", "needs momentum > 0"),
    Case("betas_out_of_range.yaml", 3, 40, "train.optimizer.betas[1]", "expected a number in [0, 1), found 1.5"),
    Case("seed_negative.yaml", 3, 9, "train.seed", "found -1"),
    Case("parity_full_table_too_large.yaml", 2, 28, "data.bits", "give count to sample"),
    Case("saturation_threshold_out_of_range.yaml", 2, 32, "doctor.saturation_threshold", "expected a number in (0, 1), found 1.5"),
    Case("step_schedule_without_step_size.yaml", 3, 13, "train.schedule", "step needs step_size"),
]

/// The malformed spec corpus: each file fails with `file:line:column:` and a message naming the field.
@Suite struct RunSpecMalformedTests {
    @Test func corpusCoversEveryFile() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: badSpecs.path).sorted()
        #expect(files == corpus.map(\.file).sorted())
        #expect(corpus.count >= 25)
    }

    @Test(arguments: corpus)
    fileprivate func failsWithThePlaceAndTheField(_ testCase: Case) throws {
        let url = badSpecs.appendingPathComponent(testCase.file)
        let error = try #require(throws: SpecError.self) { try RunSpec.load(contentsOf: url) }
        let prefix = "\(url.relativePath):\(testCase.line):\(testCase.column): "
        #expect(error.description.hasPrefix(prefix), "\(error.description)")
        #expect(error.location == SpecLocation(line: testCase.line, column: testCase.column))
        #expect(error.description.dropFirst(prefix.count).contains(testCase.field), "\(error.description)")
        #expect(error.message.contains(testCase.phrase), "\(error.message)")
        #expect(!error.description.contains("\n"))
    }

    @Test func everyFileAlsoFailsFromMemory() throws {
        // parse(_:file:) gives the same error as load(contentsOf:) for the same text and name.
        for testCase in corpus {
            let url = badSpecs.appendingPathComponent(testCase.file)
            let text = try String(contentsOf: url, encoding: .utf8)
            let fromFile = try #require(throws: SpecError.self) { try RunSpec.load(contentsOf: url) }
            let fromText = try #require(throws: SpecError.self) { try RunSpec.parse(text, file: url.relativePath, baseDirectory: badSpecs) }
            #expect(fromFile == fromText, "\(testCase.file)")
        }
    }
}
