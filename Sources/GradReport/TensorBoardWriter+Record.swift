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
        // (step, order within the step, write action); stable sort by step keeps the order.
        var events: [(step: Int, order: Int, write: (TensorBoardWriter) throws -> Void)] = []
        func scalar(_ tag: String, _ value: Double, _ step: Int) {
            events.append((step, events.count, { try $0.addScalar(tag, value, step: step, wallTime: time) }))
        }
        if losses.isEmpty {
            for s in record.steps { if let loss = s.loss { scalar("loss", loss, s.step) } }
        } else {
            for entry in losses { scalar("loss", entry.value, entry.step) }
        }
        var statistics: [Int: StepStatistics] = [:]
        for s in record.steps {
            statistics[s.step] = s
            scalar("grad_norm/global", s.globalGradientNorm, s.step)
            if let clipped = s.clippedGradientNorm { scalar("grad_norm/clipped", clipped, s.step) }
            for p in s.parameters { scalar("grad_norm/\(p.name)", p.gradientNorm, s.step) }
            for p in s.parameters { if let ratio = p.updateRatio { scalar("update_ratio/\(p.name)", ratio, s.step) } }
            for l in s.layers { if let fraction = l.saturationFraction { scalar("saturation/\(l.name)", fraction, s.step) } }
            for l in s.layers { if let fraction = l.deadFraction { scalar("dead/\(l.name)", fraction, s.step) } }
        }
        for h in record.histograms {
            var sum: Double?, squares: Double?
            if let p = statistics[h.step]?.parameters.first(where: { $0.name == h.name }), p.nonfiniteCount == 0 {
                let n = Double(h.linearCounts.reduce(0, +))
                sum = p.gradientMean * n
                squares = (p.gradientStd * p.gradientStd + p.gradientMean * p.gradientMean) * n
            }
            events.append((h.step, events.count, {
                try $0.addHistogram("grad/\(h.name)", histogram: h, sum: sum, sumOfSquares: squares, wallTime: time)
            }))
        }
        events.sort { ($0.step, $0.order) < ($1.step, $1.order) }
        let writer = try TensorBoardWriter(directory: directory)
        for event in events { try event.write(writer) }
        try writer.close()
        return writer.url
    }
}
