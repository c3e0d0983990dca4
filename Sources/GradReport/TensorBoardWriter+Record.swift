import Foundation
import GradDoctor

// A whole monitoring record as one TensorBoard event file, for runs that were not logged live
// (or to add the doctor's series to a run folder after training).

extension TensorBoardWriter {
    /// Writes a run's monitoring record and losses as a new event file in `directory`.
    ///
    /// Scalars, per recorded step: `loss` (from `losses`; when `losses` is empty, the steps'
    /// recorded `loss`), `grad_norm/global`, `grad_norm/clipped` (when the rule clipped),
    /// `grad_norm/<param>`, `update_ratio/<param>` (when recorded), `saturation/<layer>` and
    /// `dead/<layer>` (for the layers that record them). Histograms: `grad/<param>` from each
    /// recorded `GradientHistogram`, its `sum` and `sum_squares` exact from the same step's
    /// `ParameterStatistics` (`mean × n`, `(std² + mean²) × n` over the `n` finite elements)
    /// when that step was kept and the gradient was finite, else estimated from the bins.
    /// Events go out in step order (all of one step together), since TensorBoard drops a
    /// tag's events that come after an event with a smaller step. Every event gets the same
    /// wall time.
    /// - Parameters:
    ///   - record: the monitor's record.
    ///   - losses: the loss per step (may be denser than the record's steps).
    ///   - directory: the run's log folder.
    ///   - wallTime: the events' wall time (now when nil).
    /// - Returns: the event file written.
    /// - Throws: `TensorBoardError` naming the file.
    @discardableResult
    public static func write(record: MonitorRecord, losses: [(step: Int, value: Double)], to directory: URL,
                             wallTime: Double? = nil) throws -> URL {
        let time = wallTime ?? Date().timeIntervalSince1970
        // What goes out, in the order made here: a loss, all scalars of one recorded step, or
        // a histogram. A stable sort by step (the position breaks ties) puts them in step order.
        enum Item {
            case loss(step: Int, value: Double)
            case statistics(index: Int)
            case histogram(index: Int)
        }
        var items: [(step: Int, order: Int, item: Item)] = []
        items.reserveCapacity(losses.count + record.steps.count + record.histograms.count)
        func add(_ step: Int, _ item: Item) { items.append((step, items.count, item)) }
        if losses.isEmpty {
            for s in record.steps { if let loss = s.loss { add(s.step, .loss(step: s.step, value: loss)) } }
        } else {
            for entry in losses { add(entry.step, .loss(step: entry.step, value: entry.value)) }
        }
        var statistics: [Int: Int] = [:]
        for (index, s) in record.steps.enumerated() {
            statistics[s.step] = index
            add(s.step, .statistics(index: index))
        }
        for (index, h) in record.histograms.enumerated() { add(h.step, .histogram(index: index)) }
        items.sort { ($0.step, $0.order) < ($1.step, $1.order) }

        let writer = try TensorBoardWriter(directory: directory)
        var norms = TagList(prefix: "grad_norm/"), ratios = TagList(prefix: "update_ratio/")
        var saturations = TagList(prefix: "saturation/"), deads = TagList(prefix: "dead/")
        var histogramTags = TagList(prefix: "grad/"), histogramStep = Int.min, histogramPosition = 0
        let lossTag = Array("loss".utf8), globalTag = Array("grad_norm/global".utf8), clippedTag = Array("grad_norm/clipped".utf8)
        for entry in items {
            switch entry.item {
            case .loss(let step, let value):
                try writer.addScalar(utf8Tag: lossTag, value, step: step, wallTime: time)
            case .statistics(let index):
                // Fields are read through the arrays (`for p in` would copy each element).
                let s = record.steps[index], parameters = s.parameters, layers = s.layers
                try writer.addScalar(utf8Tag: globalTag, s.globalGradientNorm, step: s.step, wallTime: time)
                if let clipped = s.clippedGradientNorm { try writer.addScalar(utf8Tag: clippedTag, clipped, step: s.step, wallTime: time) }
                for k in parameters.indices {
                    try writer.addScalar(utf8Tag: norms.tag(parameters[k].name, at: k), parameters[k].gradientNorm, step: s.step, wallTime: time)
                }
                for k in parameters.indices {
                    guard let ratio = parameters[k].updateRatio else { continue }
                    try writer.addScalar(utf8Tag: ratios.tag(parameters[k].name, at: k), ratio, step: s.step, wallTime: time)
                }
                for k in layers.indices {
                    guard let fraction = layers[k].saturationFraction else { continue }
                    try writer.addScalar(utf8Tag: saturations.tag(layers[k].name, at: k), fraction, step: s.step, wallTime: time)
                }
                for k in layers.indices {
                    guard let fraction = layers[k].deadFraction else { continue }
                    try writer.addScalar(utf8Tag: deads.tag(layers[k].name, at: k), fraction, step: s.step, wallTime: time)
                }
            case .histogram(let index):
                let h = record.histograms[index]
                // Positions count the histograms of one step (their names repeat at every step).
                if h.step != histogramStep { (histogramStep, histogramPosition) = (h.step, 0) }
                let tag = histogramTags.tag(h.name, at: histogramPosition)
                histogramPosition += 1
                var sum: Double?, squares: Double?
                if let s = statistics[h.step] {
                    let parameters = record.steps[s].parameters
                    if let k = Self.index(of: h.name, in: parameters), parameters[k].nonfiniteCount == 0 {
                        let n = Double(h.linearCounts.reduce(0, +))
                        let mean = parameters[k].gradientMean, std = parameters[k].gradientStd
                        sum = mean * n
                        squares = (std * std + mean * mean) * n
                    }
                }
                try writer.addHistogram(utf8Tag: tag,
                                        TensorBoardHistogram(h, sum: sum, sumOfSquares: squares), step: h.step, wallTime: time)
            }
        }
        try writer.close()
        return writer.url
    }

    /// The index of the first parameter named `name` (`firstIndex(where:)` copies each element
    /// it tries, strings and all; this compares the names in place).
    private static func index(of name: String, in parameters: [ParameterStatistics]) -> Int? {
        for k in parameters.indices where parameters[k].name == name { return k }
        return nil
    }
}

/// The tags `prefix + name` of a series family as UTF-8, made once per name: each position
/// (a parameter's or layer's index in a step) remembers its last name and tag, and the names
/// are the same at every step of a run.
private struct TagList {
    let prefix: String
    private var names: [String] = []
    private var tags: [[UInt8]] = []

    init(prefix: String) { self.prefix = prefix }

    /// The tag of `name`, seen at position `index` of its step.
    mutating func tag(_ name: String, at index: Int) -> [UInt8] {
        if index < names.count && names[index] == name { return tags[index] }
        let tag = Array((prefix + name).utf8)
        while names.count <= index {
            names.append("")
            tags.append([])
        }
        names[index] = name
        tags[index] = tag
        return tag
    }
}
