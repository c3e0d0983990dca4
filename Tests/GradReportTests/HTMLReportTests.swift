import Foundation
import GradDoctor
import GradNN
import GradReport
import GradTestSupport
import Testing

/// An error whose description is hostile markup, as a failed rerun might report it.
struct HostileRerunError: Error, CustomStringConvertible {
    var description: String { "rerun failed: " + ReportSamples.hostile }
}

/// Reports built from the sample records, shared by the HTML tests and the Chromium test.
enum ReportSamples {
    /// Markup that would run a script or add an attribute if it were not escaped.
    static let hostile = #"<script>alert(1)</script>" onload="x"#

    /// A record whose layer names carry `hostile`, its diagnosis, and a verification with a
    /// rerun that helped, one that did not and one that threw.
    static func hostileReport() throws -> String {
        let record = try ReportRecords.vanishing(prefix: hostile)
        let diagnosis = Doctor.diagnose(record)
        let baseline = RunOutcome(record: record)
        let prescriptions = [
            Prescription(remedy: .batchNorm, addresses: [.vanishingGradients], rationale: "normalizes " + hostile, rank: 1),
            Prescription(remedy: .lowerLearningRate(factor: 0.5), addresses: [.unstableTraining], rationale: "smaller steps", rank: 2),
            Prescription(remedy: .residualConnections, addresses: [.vanishingGradients], rationale: "skips", rank: 3),
        ]
        let verification = Doctor.verify(prescriptions: prescriptions, baseline: baseline) { p in
            switch p.rank {
            case 1: return RunOutcome(lossReached: 0.001, gradientRatio: 0.5, finite: true, steps: 20)
            case 2: return RunOutcome(lossReached: nil, gradientRatio: 1e-3, finite: false, steps: 20)
            default: throw HostileRerunError()
            }
        }
        let losses = record.steps.compactMap(\.loss)
        return RunReport.html(
            title: hostile, specYAML: "name: \(hostile)\nmodel:\n  mlp: {input: 1, hidden: [10, 10]}\n",
            summary: [("final loss", "0.05"), (hostile, hostile)], diagnosis: diagnosis, verification: verification,
            runs: [(name: hostile, losses: losses, record: record), (name: "rerun " + hostile, losses: losses.map { $0 / 2 }, record: nil)],
            extraSections: [HTMLSection(title: hostile, blocks: [.paragraph(hostile), .list([hostile], ordered: true)])])
    }

    /// A realistic report: the trained MLP's record, its diagnosis, and a verification.
    static func trainedReport() throws -> String {
        let record = try ReportRecords.trained()
        let vanishing = try ReportRecords.vanishing(nanStep: nil)
        let diagnosis = Doctor.diagnose(vanishing)
        let baseline = RunOutcome(record: vanishing)
        let verification = Doctor.verify(prescriptions: diagnosis.prescriptions, baseline: baseline) { p in
            let loss = baseline.lossReached ?? 1
            return RunOutcome(lossReached: p.rank == 2 ? loss : loss / Double(p.rank + 1), gradientRatio: 0.3, finite: true, steps: 20)
        }
        return RunReport.html(
            title: "deep-sigmoid", specYAML: "name: deep-sigmoid\nmodel:\n  mlp: {input: 1, hidden: [10, 10, 10], output: 1, activation: sigmoid}\n",
            summary: [("steps", "20"), ("final loss", ChartFormat.number(0.05)), ("time", "0.8 s")],
            diagnosis: diagnosis, verification: verification,
            runs: [(name: "deep-sigmoid", losses: vanishing.steps.compactMap(\.loss), record: vanishing),
                   (name: "tanh-relu", losses: record.steps.compactMap(\.loss), record: record)])
    }
}

@Suite("HTML report")
struct HTMLReportTests {
    @Test("Hostile run names, spec text and layer names are escaped everywhere")
    func escaping() throws {
        let html = try ReportSamples.hostileReport()
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains(#"" onload=""#))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&quot;x"))
        let parsed = parseMarkup(html)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.all("script").isEmpty)
        for element in parsed.elements {
            #expect(!element.attributes.keys.contains { $0.lowercased().hasPrefix("on") }, "\(element.name) has an event attribute")
        }
        // The hostile text comes back intact as text: in the title, the spec, a layer name.
        #expect(parsed.first("h1", text: ReportSamples.hostile) != nil)
        #expect(parsed.all("pre").contains { $0.text.contains("name: " + ReportSamples.hostile) })
        #expect(parsed.texts.contains { $0.contains(ReportSamples.hostile + "0.weight") })
    }

    @Test("The page loads nothing from outside and runs no scripts")
    func selfContained() throws {
        let html = try ReportSamples.hostileReport()
        #expect(!html.contains("src="))
        #expect(!html.lowercased().contains("href=\"http"))
        #expect(!html.lowercased().contains("url("))
        #expect(!html.lowercased().contains("@import"))
        let parsed = parseMarkup(html)
        for link in parsed.all("a") {
            let href = try #require(link["href"])
            #expect(!href.contains(":"), "\(href) is not relative")
        }
        #expect(parsed.all("meta").contains { $0["http-equiv"] == "Content-Security-Policy" && ($0["content"] ?? "").contains("default-src 'none'") })
        #expect(parsed.all("svg").count >= 6)
    }

    @Test("The report holds the diagnosis, every verification entry, loss and run charts, and the spec")
    func contents() throws {
        let html = try ReportSamples.hostileReport()
        let parsed = parseMarkup(html)
        let headings = parsed.all("h2").map(\.text)
        #expect(headings.prefix(4) == ["Diagnosis", "Verification", "Loss", "Run " + ReportSamples.hostile])
        #expect(headings.contains("Spec") && headings.last == ReportSamples.hostile)
        #expect(!headings.contains("Run rerun " + ReportSamples.hostile), "a run without a record has no chart section")
        let diagnosis = Doctor.diagnose(try ReportRecords.vanishing(prefix: ReportSamples.hostile))
        #expect(diagnosis.has(.vanishingGradients))
        #expect(parsed.all("p", class: "callout").first?.text == "state: \(diagnosis.state.rawValue)")
        #expect(parsed.all("h3").contains { $0.text.contains("vanishing gradients") })
        // Evidence numbers of the vanishing finding.
        #expect(parsed.all("td").contains { $0.text == "first_to_last_ratio" })
        // Every rerun, including the one that did not help and the one that could not run.
        let cells = parsed.all("td").map(\.text)
        #expect(cells.contains("helped") && cells.contains("did not help") && cells.contains("could not run"))
        #expect(cells.contains("baseline"))
        #expect(cells.contains { $0.contains("rerun failed: " + ReportSamples.hostile) })
        // Loss chart with both runs, and the run's charts: flow, norms, two heat maps, unit health.
        let titles = parsed.all("svg").compactMap { $0["aria-label"] }
        #expect(titles.contains("Training loss"))
        #expect(titles.contains("Gradient flow: weight-gradient norm per layer"))
        #expect(titles.contains("Weight-gradient norm over time"))
        #expect(titles.filter { $0.hasPrefix("Gradient histogram of ") }.count == 2)
        #expect(titles.contains("Unit health: saturated and dead units"))
        #expect(parsed.all("figcaption").count == titles.count)
        // Key figures with the number right-aligned.
        #expect(parsed.all("td", class: "num").contains { $0.text == "0.05" })
    }

    @Test("Run sections drawn once give the same page as sections drawn with the page")
    func renderedRunSections() throws {
        let vanishing = try ReportRecords.vanishing(nanStep: nil), trained = try ReportRecords.trained()
        let runs: [(name: String, losses: [Double], record: MonitorRecord?)] = [
            (name: "deep-sigmoid", losses: vanishing.steps.compactMap(\.loss), record: vanishing),
            (name: "no record", losses: [1, 0.5], record: nil),
            (name: "tanh-relu", losses: trained.steps.compactMap(\.loss), record: trained),
        ]
        func page(_ sections: [HTMLSection]?) -> String {
            RunReport.html(title: "t", specYAML: nil, summary: [], diagnosis: nil, verification: nil, runs: runs, runSections: sections)
        }
        let drawn = [RunReport.runSection(name: "deep-sigmoid", record: vanishing).rendered(),
                     RunReport.runSection(name: "tanh-relu", record: trained).rendered()]
        let charts = drawn.flatMap(\.blocks).compactMap { block -> (any Chart)? in
            if case .chart(let chart, _) = block { return chart }
            return nil
        }
        #expect(charts.count >= 4 && charts.allSatisfy { $0 is RenderedChart })
        #expect(page(drawn) == page(nil))
        #expect(page(drawn).contains("Run tanh-relu"))
    }

    @Test("Tables right-align numeric columns only")
    func tables() throws {
        let table = HTMLTable(header: ["run", "loss", "note"], textRows: [["a", "0.25", "ok"], ["b", "−1.5e-7", "12 steps"], ["c", "—", ""]])
        #expect(!table.isNumericColumn(0) && table.isNumericColumn(1) && !table.isNumericColumn(2))
        let parsed = parseMarkup(table.markup)
        #expect(parsed.error == nil)
        #expect(parsed.all("td", class: "num").map(\.text) == ["0.25", "−1.5e-7", "—"])
        #expect(parsed.all("th", class: "num").map(\.text) == ["loss"])
        for text in ["45%", "∞", "NaN", "-3", "1e5"] { #expect(HTMLTableCell(text).isNumeric, "\(text)") }
        for text in ["v1", "", "e5", "1.2.3", "3 layers"] { #expect(!HTMLTableCell(text).isNumeric, "\(text)") }
    }

    @Test("Link targets are made relative and percent-encoded")
    func hrefs() {
        #expect(relativeHref("runs/a b/report.html") == "runs/a%20b/report.html")
        #expect(relativeHref("javascript:alert(1)") == "javascript%3Aalert%281%29")
        #expect(relativeHref("https://example.com/x") == "https%3A//example.com/x")
        #expect(relativeHref("//evil.example/x") == "evil.example/x")
        #expect(relativeHref("/etc/passwd") == "etc/passwd")
        #expect(relativeHref("a\"b<c>.html#top") == "a%22b%3Cc%3E.html#top")
        #expect(relativeHref("σ/report.html") == "%CF%83/report.html")
        #expect(relativeHref("") == "./")
    }

    @Test("A sweep index links each run relatively and shows the phase diagram")
    func sweepIndex() throws {
        let diagram = RunCharts.phaseDiagram(rows: ["5", "20"], columns: ["sigmoid", "relu"], values: [[0.1, 0.01], [2.5, .nan]],
                                             title: "final loss", colourLabel: "loss", rowAxis: "depth", columnAxis: "activation")
        let html = HTMLReport.sweepIndex(
            title: "sweep " + ReportSamples.hostile, description: "depth × activation", columns: ["depth", "final loss"],
            runs: [HTMLRunLink(name: ReportSamples.hostile, href: ReportSamples.hostile + "/report.html", values: ["5", "0.1"]),
                   HTMLRunLink(name: "relu-20", href: "relu-20/report.html", values: ["20", "NaN"])],
            phaseDiagram: diagram, caption: "final loss per depth and activation")
        #expect(!html.lowercased().contains("<script"))
        let parsed = parseMarkup(html)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        let links = parsed.all("a").filter { !($0["href"] ?? "").hasPrefix("#") }
        #expect(links.map { $0["href"] } == ["%3Cscript%3Ealert%281%29%3C/script%3E%22%20onload%3D%22x/report.html", "relu-20/report.html"])
        #expect(links.map(\.text) == [ReportSamples.hostile, "relu-20"])
        #expect(parsed.all("svg").first?["aria-label"] == "final loss")
        #expect(parsed.all("td", class: "num").map(\.text) == ["5", "0.1", "20", "NaN"])
        #expect(parsed.first("p", text: "2 runs") != nil)
    }

    @Test("A bare report: no contents list for one section, a valid page without runs")
    func bare() throws {
        let html = RunReport.html(title: "empty", specYAML: "name: empty\n", summary: [], diagnosis: nil, verification: nil, runs: [])
        let parsed = parseMarkup(html)
        #expect(parsed.error == nil)
        #expect(parsed.all("nav").isEmpty)
        #expect(parsed.all("h2").map(\.text) == ["Spec"])
        #expect(parsed.all("svg").isEmpty)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }
}
