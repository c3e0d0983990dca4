import Foundation
import GradNN

/// One logged training step, one line of `metrics.jsonl`.
///
/// JSON keys, in this order, optional ones left out when nil (`grad_norms` when empty):
/// `step`, `epoch`, `loss`, `val_loss`, `lr`, `grad_norm` (global, before clipping),
/// `clipped_norm` (after clipping, when the rule clipped), `grad_norms` (an object, parameter
/// name → gradient norm, names in natural order: `0.bias`, `0.weight`, `2.bias`, `10.bias`),
/// `skipped`. Numbers are written as Swift prints them (shortest text that reads back to the
/// same Double: `0.1`, `1e-05`); NaN and ±∞, which JSON lacks, as the strings `"nan"`,
/// `"inf"`, `"-inf"` (and read back from them):
/// `{"step":3,"epoch":0,"loss":0.25,"lr":0.01,"grad_norm":"nan","grad_norms":{"0.weight":"inf"},"skipped":true}`.
public struct MetricsLine: Codable, Sendable, Equatable {
    /// The training step (0-based).
    public var step: Int
    /// The epoch (0-based).
    public var epoch: Int?
    /// The training (batch) loss.
    public var loss: Double
    /// The validation loss, on the lines where it was computed.
    public var validationLoss: Double?
    /// The learning rate used for this step.
    public var learningRate: Double?
    /// Global L2 gradient norm before clipping.
    public var gradientNorm: Double?
    /// Global norm after clipping, when the rule changed the gradients.
    public var clippedNorm: Double?
    /// Gradient norm per parameter name.
    public var parameterGradientNorms: [String: Double]
    /// Whether the non-finite guard skipped this step's update.
    public var skipped: Bool

    /// A line from its fields.
    ///
    /// - Parameters: see the properties.
    public init(step: Int, epoch: Int? = nil, loss: Double, validationLoss: Double? = nil,
                learningRate: Double? = nil, gradientNorm: Double? = nil, clippedNorm: Double? = nil,
                parameterGradientNorms: [String: Double] = [:], skipped: Bool = false) {
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.validationLoss = validationLoss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.clippedNorm = clippedNorm
        self.parameterGradientNorms = parameterGradientNorms
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss
        case validationLoss = "val_loss"
        case learningRate = "lr"
        case gradientNorm = "grad_norm"
        case clippedNorm = "clipped_norm"
        case parameterGradientNorms = "grad_norms"
        case skipped
    }

    /// Decodes a line; `grad_norms` defaults to empty and `skipped` to false. Non-finite
    /// numbers need a decoder whose strategy maps `"nan"`/`"inf"`/`"-inf"` (as
    /// `MetricsLine.decoder()` does).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch)
        loss = try c.decode(Double.self, forKey: .loss)
        validationLoss = try c.decodeIfPresent(Double.self, forKey: .validationLoss)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        gradientNorm = try c.decodeIfPresent(Double.self, forKey: .gradientNorm)
        clippedNorm = try c.decodeIfPresent(Double.self, forKey: .clippedNorm)
        parameterGradientNorms = try c.decodeIfPresent([String: Double].self, forKey: .parameterGradientNorms) ?? [:]
        skipped = try c.decodeIfPresent(Bool.self, forKey: .skipped) ?? false
    }

    /// Encodes the same keys (nil fields left out); for non-finite numbers use an encoder
    /// with a `convertToString` strategy (`"nan"`, `"inf"`, `"-inf"`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encodeIfPresent(epoch, forKey: .epoch)
        try c.encode(loss, forKey: .loss)
        try c.encodeIfPresent(validationLoss, forKey: .validationLoss)
        try c.encodeIfPresent(learningRate, forKey: .learningRate)
        try c.encodeIfPresent(gradientNorm, forKey: .gradientNorm)
        try c.encodeIfPresent(clippedNorm, forKey: .clippedNorm)
        if !parameterGradientNorms.isEmpty { try c.encode(parameterGradientNorms, forKey: .parameterGradientNorms) }
        try c.encode(skipped, forKey: .skipped)
    }

    /// The line as one JSON object, keys in the documented order, no newline.
    public var json: String {
        var text = "{\"step\":"
        text.reserveCapacity(160)
        text += String(step)
        if let epoch {
            text += ",\"epoch\":"
            text += String(epoch)
        }
        func field(_ key: String, _ value: Double?) {
            guard let value else { return }
            text += key
            text += Self.jsonNumber(value)
        }
        field(",\"loss\":", loss)
        field(",\"val_loss\":", validationLoss)
        field(",\"lr\":", learningRate)
        field(",\"grad_norm\":", gradientNorm)
        field(",\"clipped_norm\":", clippedNorm)
        if !parameterGradientNorms.isEmpty {
            let names = parameterGradientNorms.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            text += ",\"grad_norms\":{"
                + names.map { SafeTensors.quoted($0) + ":" + Self.jsonNumber(parameterGradientNorms[$0]!) }.joined(separator: ",")
                + "}"
        }
        text += skipped ? ",\"skipped\":true}" : ",\"skipped\":false}"
        return text
    }

    /// A JSON decoder reading `"nan"`, `"inf"`, `"-inf"` as the non-finite Doubles.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// A JSON number, or `"nan"`/`"inf"`/`"-inf"` for the values JSON cannot hold.
    static func jsonNumber(_ x: Double) -> String {
        if x.isNaN { return "\"nan\"" }
        if x.isInfinite { return x > 0 ? "\"inf\"" : "\"-inf\"" }
        return x.description
    }
}
