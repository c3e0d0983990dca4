// The report of one training run (and its reruns), as the CLI writes it to report.html: key
// figures, the diagnosis, the verification of the prescriptions, loss curves and the gradient
// charts of each run, and the spec that ran.

import Foundation
import GradDoctor

/// Builds a run's self-contained HTML report.
public enum RunReport {
    /// The report page of a run.
    ///
    /// Sections, each only when it has content: the key figures (a table under the title);
    /// "Diagnosis" (the state, the summary, each finding with its severity, layers, steps,
    /// explanation and evidence table, the ranked prescriptions with their rationale, the early
    /// gradient-flow profile); "Verification" (baseline and every rerun, including those that
    /// did not help, with verdict and reason); "Loss" (all runs in one chart); one section per
    /// run with a record (gradient flow, norms over time, ‖∂L/∂h_t‖ against t for each
    /// recurrent layer, histogram heat maps of the first and last weight parameters, unit
    /// health when recorded, where a non-finite value began);
    /// "Spec" (the spec as given); then `extraSections`. Every string is escaped.
    ///
    /// - Parameters:
    ///   - title: the page title (the run's name).
    ///   - specYAML: the spec that ran, or nil.
    ///   - summary: key figures as (name, value) pairs.
    ///   - diagnosis: the doctor's diagnosis, or nil.
    ///   - verification: the reruns of the prescriptions, or nil.
    ///   - runs: per run, its name, losses per step and monitor record (the first is the main run).
    ///   - runSections: the sections of the runs with a record, in order, when already made
    ///     (`runSection(name:record:)`, usually `rendered()`); nil makes them here.
    ///   - extraSections: more sections at the end.
    public static func html(title: String, specYAML: String?, summary: [(String, String)], diagnosis: Diagnosis?,
                            verification: VerificationReport?, runs: [(name: String, losses: [Double], record: MonitorRecord?)],
                            runSections: [HTMLSection]? = nil, extraSections: [HTMLSection] = []) -> String {
        var intro: [HTMLBlock] = []
        if !summary.isEmpty {
            intro.append(.table(HTMLTable(header: ["figure", "value"], textRows: summary.map { [$0.0, $0.1] })))
        }
        var sections: [HTMLSection] = []
        if let diagnosis { sections.append(diagnosisSection(diagnosis)) }
        if let verification { sections.append(verificationSection(verification)) }
        if runs.contains(where: { !$0.losses.isEmpty }) {
            let chart = RunCharts.lossCurves(series: runs.map { ($0.name, $0.losses) })
            let scale = chart.yScale == .log ? "log" : "linear"
            sections.append(HTMLSection(title: "Loss", blocks: [
                .chart(chart, caption: "Training loss per step of \(runs.count == 1 ? "the run" : "all \(runs.count) runs") (\(scale) scale). A gap is a step whose loss was not finite."),
            ]))
        }
        sections += runSections ?? runs.compactMap { run in run.record.map { runSection(name: run.name, record: $0) } }
        if let specYAML {
            sections.append(HTMLSection(title: "Spec", blocks: [.preformatted(specYAML)]))
        }
        sections += extraSections
        return HTMLReport(title: title, subtitle: "GradLab run report", introduction: intro, sections: sections).html()
    }

    /// The diagnosis: state, summary, findings, prescriptions and the early gradient-flow profile.
    static func diagnosisSection(_ diagnosis: Diagnosis) -> HTMLSection {
        let tone: HTMLTone = switch diagnosis.state {
        case .healthy: .good
        case .warning: .warning
        case .critical: .critical
        }
        var blocks: [HTMLBlock] = [.callout("state: \(diagnosis.state.rawValue)", tone: tone)]
        if !diagnosis.summary.isEmpty { blocks.append(.lines(diagnosis.summary)) }
        var subsections: [HTMLSection] = []
        for (i, finding) in diagnosis.findings.enumerated() {
            var content: [HTMLBlock] = [.lines(finding.explanation)]
            var facts: [String] = []
            if !finding.layers.isEmpty { facts.append("Layers: " + finding.layers.joined(separator: ", ")) }
            if !finding.steps.isEmpty { facts.append("Steps: " + finding.steps.map(String.init).joined(separator: ", ")) }
            if !facts.isEmpty { content.append(.list(facts, ordered: false)) }
            if !finding.evidence.isEmpty {
                content.append(.table(HTMLTable(header: ["evidence", "value"],
                                                textRows: finding.evidence.map { [$0.name, ChartFormat.number($0.value, significant: 4)] })))
            }
            subsections.append(HTMLSection(title: "Finding \(i + 1) (\(finding.severity.rawValue)): \(finding.kind.title)", blocks: content))
        }
        if !diagnosis.prescriptions.isEmpty {
            let rows = diagnosis.prescriptions.sorted { $0.rank < $1.rank }.map { p in
                [String(p.rank), p.remedy.label, p.addresses.map(\.title).joined(separator: ", "), p.rationale]
            }
            subsections.append(HTMLSection(title: "Prescriptions", blocks: [
                .paragraph("Remedies ranked best first, each with the finding it addresses and why, in the run's numbers."),
                .table(HTMLTable(header: ["rank", "remedy", "addresses", "rationale"], textRows: rows)),
            ]))
        }
        if !diagnosis.gradientFlow.isEmpty {
            let rows = diagnosis.gradientFlow.map { g in
                [g.layer, g.parameter, ChartFormat.number(g.gradientNorm), g.relativeToLast.map { ChartFormat.number($0) } ?? "—",
                 g.outputGradientNorm.map { ChartFormat.number($0) } ?? "—"]
            }
            let steps = diagnosis.profileSteps
            let when = steps.isEmpty ? "" : " (median over recorded steps \(steps.first!)–\(steps.last!))"
            subsections.append(HTMLSection(title: "Early gradient-flow profile", blocks: [
                .paragraph("Per weighted layer, input side first: the weight-gradient norm at the start of training\(when), relative to the last layer's, and the norm of the gradient arriving at the layer's output."),
                .table(HTMLTable(header: ["layer", "parameter", "‖∇W‖₂", "relative to last", "‖∂L/∂h‖₂"], textRows: rows)),
            ]))
        }
        return HTMLSection(title: "Diagnosis", blocks: blocks, subsections: subsections)
    }

    /// The verification: the baseline and every rerun side by side with the verdict.
    static func verificationSection(_ report: VerificationReport) -> HTMLSection {
        func number(_ x: Double?) -> String { x.map { ChartFormat.number($0) } ?? "—" }
        let b = report.baseline
        var rows: [[String]] = [["baseline", number(b.lossReached), number(b.bestLoss), number(b.gradientRatio),
                                 number(b.signalRatio), b.finite ? "yes" : "no", "", ""]]
        for entry in report.entries {
            let o = entry.outcome
            rows.append(["\(entry.prescription.rank). \(entry.prescription.remedy.label)", number(o?.lossReached),
                         number(o?.bestLoss), number(o?.gradientRatio), number(o?.signalRatio),
                         o.map { $0.finite ? "yes" : "no" } ?? "—",
                         entry.verdict.rawValue.replacingOccurrences(of: "_", with: " "), entry.reason])
        }
        var header = ["run", "loss reached", "best loss", "first/last ‖∇W‖", "first/last ‖δ‖", "finite", "verdict", "reason"]
        // The backward-signal ratio only when some run recorded it.
        if b.signalRatio == nil && report.entries.allSatisfy({ $0.outcome?.signalRatio == nil }) {
            header.remove(at: 4)
            rows = rows.map { row in var r = row; r.remove(at: 4); return r }
        }
        let helped = report.helped.count
        var blocks: [HTMLBlock] = [
            .paragraph("Each prescription was rerun with the same model, data, seed and budget. A change of the loss reached within \(ChartFormat.number(report.tolerance * 100))% of the baseline's counts as “did not help”."),
            .table(HTMLTable(header: header, textRows: rows)),
        ]
        if report.entries.isEmpty {
            blocks.append(.paragraph("No prescription was rerun."))
        } else {
            blocks.append(.callout("\(helped) of \(report.entries.count) prescription\(report.entries.count == 1 ? "" : "s") helped",
                                   tone: helped > 0 ? .good : .neutral))
        }
        return HTMLSection(title: "Verification", blocks: blocks)
    }

    /// The section of one run in `html`: where a non-finite value began, skipped updates,
    /// gradient flow, norms over time, ‖∂L/∂h_t‖ of recurrent layers, the histogram heat maps of
    /// the first and last weight parameters and unit health.
    public static func runSection(name: String, record: MonitorRecord) -> HTMLSection {
        var blocks: [HTMLBlock] = []
        if let origin = record.firstNonfinite {
            blocks.append(.callout("Non-finite values: \(origin.description)", tone: .critical))
        }
        if record.skippedSteps > 0 {
            blocks.append(.paragraph("The non-finite guard skipped \(record.skippedSteps) update\(record.skippedSteps == 1 ? "" : "s")."))
        }
        let flow = RunCharts.gradientFlow(record: record)
        blocks.append(.chart(flow, caption: "Weight-gradient norm of each layer, input side left, at \(flow.series.map(\.name).joined(separator: ", ")). Norms falling toward the input mean vanishing gradients; rising toward the input, exploding ones."))
        blocks.append(.chart(RunCharts.gradientNormsOverTime(record: record),
                             caption: "Weight-gradient norm of each layer over the run (log scale); gaps are steps whose norm was not finite or was 0."))
        for layer in RunCharts.recurrentLayers(in: record) {
            let chart = RunCharts.hiddenGradientNorms(record: record, layer: layer)
            blocks.append(.chart(chart, caption: "Gradient with respect to the hidden state of recurrent layer \(layer) at each time step, ‖∂L/∂h_t‖ (log scale), at \(chart.series.map(\.name).joined(separator: ", ")). The loss's gradient enters at the last step and flows back toward t = 0: a line falling toward t = 0 is a gradient vanishing through time, a rising one exploding."))
        }
        let weights = RunCharts.weightParameters(in: record)
        if record.histograms.isEmpty {
            blocks.append(.paragraph("No gradient histograms were recorded."))
        } else {
            var chosen: [String] = []
            if let first = weights.first { chosen.append(first) }
            if let last = weights.last, !chosen.contains(last) { chosen.append(last) }
            for parameter in chosen {
                blocks.append(.chart(RunCharts.histogramHeatmap(record: record, parameter: parameter),
                                     caption: "Distribution of |gradient| of \(parameter) over the run: each column is one snapshot, each row a decade of magnitude; colour is the fraction of the elements in that decade. White: none; the bottom row counts exact zeros, the top row NaN or infinite elements."))
            }
        }
        let units = RunCharts.unitHealth(record: record)
        if units.hasData {
            blocks.append(.chart(units, caption: "Fraction of saturated units (sigmoid/tanh layers: derivative near 0) and of dead units (ReLU layers: 0 for the whole batch) per layer over the run."))
        }
        return HTMLSection(title: "Run \(name)", blocks: blocks)
    }
}
