// The index page of a sweep: a table of its runs, each linked to its own report, and the phase
// diagram over the swept settings.

import Foundation

/// One run listed on a sweep's index page.
public struct HTMLRunLink: Sendable, Equatable {
    /// The run's name (the link text).
    public var name: String
    /// The run's report, relative to the index page (`deep-sigmoid/report.html`).
    public var href: String
    /// The run's figures, one per extra column of the index table.
    public var values: [String]

    /// A run entry.
    ///
    /// - Parameters:
    ///   - name: the run's name.
    ///   - href: its report's path relative to the index page.
    ///   - values: its figures, one per column.
    public init(name: String, href: String, values: [String]) {
        self.name = name
        self.href = href
        self.values = values
    }
}

extension HTMLReport {
    /// A sweep's index page: the phase diagram (when given), then a table of the runs, the
    /// first column linking each run's report (relative, percent-encoded, escaped), the others
    /// its figures; then `extraSections`.
    ///
    /// - Parameters:
    ///   - title: the page title.
    ///   - description: a paragraph under the title, or nil.
    ///   - columns: the headers of the figures' columns (after `run`).
    ///   - runs: the runs, in table order.
    ///   - phaseDiagram: the sweep's grid chart, or nil.
    ///   - caption: the phase diagram's caption.
    ///   - extraSections: more sections at the end.
    public static func sweepIndex(title: String, description: String? = nil, columns: [String], runs: [HTMLRunLink],
                                  phaseDiagram: GridChart? = nil, caption: String = "", extraSections: [HTMLSection] = []) -> String {
        var sections: [HTMLSection] = []
        if let phaseDiagram {
            sections.append(HTMLSection(title: "Phase diagram", blocks: [.chart(phaseDiagram, caption: caption)]))
        }
        let rows = runs.map { run in
            [HTMLTableCell(run.name, href: run.href)] + run.values.prefix(columns.count).map { HTMLTableCell($0) }
        }
        let table = HTMLTable(header: ["run"] + columns, rows: rows)
        sections.append(HTMLSection(title: "Runs", blocks: runs.isEmpty ? [.paragraph("No runs.")] : [.table(table)]))
        sections += extraSections
        let intro: [HTMLBlock] = description.map { [.paragraph($0)] } ?? []
        return HTMLReport(title: title, subtitle: "\(runs.count) run\(runs.count == 1 ? "" : "s")", introduction: intro,
                          sections: sections).html()
    }
}
