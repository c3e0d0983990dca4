import Foundation
import GradLab
import GradTestSupport
import Testing

// Issue 7, "Reports are safe to share and open": `gradlab train` on a spec whose every user
// string is hostile (Tests/Fixtures/specs/hostile.yaml and its CSV, copied under folders whose
// names are hostile too), then the report and every chart read by an XML parser and opened in
// headless Chromium: no script runs, every string shows as the text it was. And a run's name
// cannot choose where output goes.

/// The hostile fixture trained once through the `gradlab` executable, shared by the tests.
struct HostileRun: Sendable {
    /// The temporary tree everything lives in (`spec-dir`, `cwd`, the output folder).
    let root: URL
    /// The spec, copied into a folder with a hostile name.
    let spec: URL
    /// The CSV beside it (`../data/hostile.csv` from the spec's folder).
    let csv: URL
    /// The output folder given with `--out` (its parent's name is hostile).
    let out: URL
    /// The run's name as the spec gives it.
    let name: String
    /// `gradlab train`'s exit status, stdout and stderr.
    let status: Int32, stdout: String, stderr: String
    /// The paths under `root` that the run added.
    let written: Set<String>

    /// A folder name holding markup, quotes, an entity and a right-to-left override (no `/`).
    static let hostileFolderName = "<img src=x onerror=console.log('PW'+'NED-dir')> \"q\" 'a' &amp; \u{202E}rlo"

    static let shared: Result<HostileRun, any Error> = Result { try HostileRun.make() }

    static func make() throws -> HostileRun {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-hostile-\(UUID().uuidString)")
        let specFolder = root.appendingPathComponent(hostileFolderName).appendingPathComponent("specs")
        let dataFolder = root.appendingPathComponent(hostileFolderName).appendingPathComponent("data")
        let cwd = root.appendingPathComponent("cwd")
        for folder in [specFolder, dataFolder, cwd] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let spec = specFolder.appendingPathComponent("hostile.yaml"), csv = dataFolder.appendingPathComponent("hostile.csv")
        try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("specs/hostile.yaml"), to: spec)
        try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("data/hostile.csv"), to: csv)
        let out = root.appendingPathComponent("out <svg onload=console.log('PW'+'NED-out')>").appendingPathComponent("run")
        let before = HostileFiles.all(under: root)
        // Run from another folder: the CSV path must resolve against the spec's folder.
        let r = try HostileFiles.gradlab(["train", spec.path, "--out", out.path, "--json", "--quiet"], in: cwd)
        let written = HostileFiles.all(under: root).subtracting(before)
        return HostileRun(root: root, spec: spec, csv: csv, out: out, name: try RunSpec.load(contentsOf: spec).name,
                          status: r.status, stdout: r.stdout, stderr: r.stderr, written: written)
    }

    /// `name` as a browser shows it after `escapeMarkup`: control characters (but tab, newline
    /// and carriage return), DEL and the bidirectional overrides, embeddings and isolates are
    /// U+FFFD; everything else is itself.
    static func displayed(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D: out.append(scalar)
            case 0x00..<0x20, 0x7F, 0x202A...0x202E, 0x2066...0x2069: out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}

/// Files, processes and markup checks for the hostile tests.
enum HostileFiles {
    /// Every file and folder under `root`, as paths relative to it.
    static func all(under root: URL) -> Set<String> {
        let base = root.standardizedFileURL.resolvingSymlinksInPath().path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        return Set(enumerator.compactMap { $0 as? String })
    }

    /// Runs `gradlab` with `arguments` in the working folder `cwd`.
    static func gradlab(_ arguments: [String], in cwd: URL) throws -> ProcessOutput {
        let output = try runProcess(CLITests.executable, arguments, in: cwd, timeout: 300)
        return finished(output, "\(CLITests.executable.lastPathComponent) \(arguments.first ?? "")", timeout: 300)
    }

    /// `output`, with an issue recorded when the process ran out of time.
    static func finished(_ output: ProcessOutput, _ what: String, timeout: Double) -> ProcessOutput {
        if output.timedOut { Issue.record("\(what) did not finish within \(Int(timeout)) s") }
        return output
    }

    /// The elements a page or chart of GradLab may hold; anything else (`script`, `img`,
    /// `iframe`, `foreignObject`, a second `style`) came from a payload.
    static let allowedElements: Set<String> = [
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "h5", "h6", "p", "nav", "strong",
        "ol", "ul", "li", "a", "section", "div", "table", "caption", "thead", "tbody", "tr", "th", "td", "pre", "figure",
        "figcaption", "footer", "svg", "g", "rect", "line", "polyline", "circle", "text", "path",
    ]

    /// Checks that `markup` is well-formed, holds only `allowedElements` (one `style` at most),
    /// no event-handler or `style` attribute, no link but to an anchor of the page (or, for
    /// `relativeLinks`, a relative path without a scheme), and no class but plain words.
    static func expectOnlyOwnMarkup(_ markup: String, _ what: String, relativeLinks: Bool = false,
                                    sourceLocation: SourceLocation = #_sourceLocation) -> ParsedMarkup {
        let parsed = parseMarkup(markup)
        #expect(parsed.error == nil, "\(what) is not well-formed: \(parsed.error ?? "")", sourceLocation: sourceLocation)
        #expect(!parsed.elements.isEmpty, "\(what): nothing parsed", sourceLocation: sourceLocation)
        let foreign = Set(parsed.elements.map(\.name)).subtracting(allowedElements)
        #expect(foreign.isEmpty, "\(what) holds elements \(foreign.sorted())", sourceLocation: sourceLocation)
        #expect(parsed.elements.filter { $0.name == "style" }.count <= 1, "\(what): a second style sheet", sourceLocation: sourceLocation)
        for element in parsed.elements {
            for (key, value) in element.attributes {
                let k = key.lowercased()
                #expect(!k.hasPrefix("on") && k != "style" && !k.hasSuffix("href") || k == "href",
                        "\(what): <\(element.name) \(key)=\"\(value.prefix(80))\">", sourceLocation: sourceLocation)
                if k == "href" {
                    let ok = value.hasPrefix("#") || (relativeLinks && !value.contains(":") && !value.hasPrefix("/"))
                    #expect(ok, "\(what): a link to \(value.prefix(80))", sourceLocation: sourceLocation)
                }
                if k == "class" || k == "id" {
                    #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == " ") },
                            "\(what): \(key)=\"\(value.prefix(80))\"", sourceLocation: sourceLocation)
                }
            }
        }
        return parsed
    }
}

/// Headless Chromium (`/usr/bin/chromium`, installed by `.ci/run`) for the hostile tests:
/// loads a page or an SVG image and checks that no payload ran.
enum HostileChromium {
    static var available: Bool { HeadlessChromium.available }

    /// Loads `page` (a `file:` URL) with console logging on, expecting Chromium to exit cleanly.
    ///
    /// - Returns: the serialized DOM after the load (`--dump-dom`) and the console's lines:
    ///   every message (`:CONSOLE`), uncaught exception, and resource refused by the page's
    ///   Content-Security-Policy.
    static func load(_ page: URL) throws -> (dom: String, console: [String]) {
        let loaded = try HeadlessChromium.load(page)
        let result = HostileFiles.finished(loaded.output, "chromium --headless", timeout: 120)
        #expect(result.status == 0, "chromium exited \(result.status): \(result.stderr.suffix(1500))")
        return (loaded.dom, loaded.console)
    }

    /// Loads `page` and expects that no payload ran: no marker (`PWNED`, built at run time by
    /// every payload) on the console or in the DOM, no `data-pwned` attribute, no console line
    /// at all (a refused inline script or image would log one), and a DOM that was dumped.
    static func expectNothingRan(_ page: URL, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let (dom, console) = try load(page)
        #expect(!dom.isEmpty, "\(what): no DOM was dumped", sourceLocation: sourceLocation)
        #expect(!dom.contains("PWNED"), "\(what): a payload wrote its marker into the page", sourceLocation: sourceLocation)
        #expect(!dom.contains("data-pwned"), "\(what): a payload set an attribute", sourceLocation: sourceLocation)
        #expect(console.isEmpty, "\(what): console: \(console.map { $0.suffix(300) })", sourceLocation: sourceLocation)
        return dom
    }

    /// The text between the first `<tag>` and `</tag>` of a dumped DOM, with the entities
    /// Chromium's serializer writes (`&amp;`, `&lt;`, `&gt;`, `&nbsp;`) read back.
    static func text(of tag: String, in dom: String) -> String? {
        guard let start = dom.range(of: "<\(tag)>"), let end = dom.range(of: "</\(tag)>", range: start.upperBound..<dom.endIndex) else {
            return nil
        }
        return String(dom[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&nbsp;", with: "\u{A0}")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

@Suite("Hostile input: reports are safe to share and open, output stays in its folder", .serialized)
struct HostileReportTests {
    static func trained() throws -> HostileRun {
        let run = try HostileRun.shared.get()
        try #require(run.status == 0, "gradlab train failed (\(run.status)): \(run.stderr.suffix(2000))")
        return run
    }

    /// The charts the run wrote.
    static func svgs(_ folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".svg") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    @Test("The hostile spec holds every kind of payload, and its CSV path resolves against the spec's folder")
    func fixtureAndRun() throws {
        let run = try Self.trained()
        for payload in ["<script>", "<img src=x onerror=", "'\"><svg onload=", "</title>", "javascript:", "&amp;", "'", "\"",
                        "\u{0}", "\u{1B}", "\u{202E}", "]]>", "<style>"] {
            #expect(run.name.contains(payload), "the run's name lacks \(payload.debugDescription)")
        }
        #expect(run.name.count > 3000, "a very long name: \(run.name.count) characters")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["name"] as? String == run.name, "the name survives the run and the JSON summary")
        #expect(summary["finite"] as? Bool == true)
        // The spec written back names the CSV beside the copied spec, not one in the working folder.
        let written = try RunSpec.load(contentsOf: run.out.appendingPathComponent("spec.yaml"))
        #expect(written.name == run.name, "spec.yaml gives the hostile name back exactly")
        guard case .csv(let source) = written.data.source else {
            Issue.record("spec.yaml lost the CSV source: \(written.data.source)")
            return
        }
        #expect(source.path == run.csv.standardizedFileURL.path)
        #expect(FileManager.default.contentsEqual(atPath: source.path, andPath: fixturesDirectory.appendingPathComponent("data/hostile.csv").path))
        // Everything the run wrote lies inside the output folder.
        let new = run.written
        let outside = new.filter { !(run.root.appendingPathComponent($0).path + "/").hasPrefix(run.out.path + "/") }
            .filter { !run.out.path.hasPrefix(run.root.appendingPathComponent($0).path + "/") }
        #expect(outside.isEmpty, "written outside \(run.out.path): \(outside.sorted())")
        #expect(new.contains { $0.hasSuffix("/run/report.html") })
    }

    @Test("report.html and every chart hold only GradLab's own markup, and every string reads back as given")
    func markupIsEscaped() throws {
        let run = try Self.trained()
        let shown = HostileRun.displayed(run.name)
        let html = try String(contentsOf: run.out.appendingPathComponent("report.html"), encoding: .utf8)
        let page = HostileFiles.expectOnlyOwnMarkup(html, "report.html")
        #expect(page.texts("title").first == shown, "the page title is the name as text")
        #expect(page.texts("h1") == [shown], "the heading is the name as text")
        #expect(page.texts("td").contains(shown), "the key-figures table shows the name")
        let spec = try String(contentsOf: run.out.appendingPathComponent("spec.yaml"), encoding: .utf8)
        #expect(page.texts("pre").contains(HostileRun.displayed(spec)), "the Spec section is spec.yaml as text")
        #expect(spec.contains("NED-dir"), "the spec echoes the data path through the hostile folder")
        #expect(spec.contains("NED-target"), "the spec echoes the hostile target column")
        #expect(!html.unicodeScalars.contains { $0.value == 0 || $0.value == 0x1B || $0.value == 0x202E || $0.value == 0x2066 },
                "no NUL, escape or bidirectional override reaches the page")
        let charts = try Self.svgs(run.out)
        #expect(charts.map(\.lastPathComponent).contains("loss.svg") && charts.count >= 3, "\(charts.map(\.lastPathComponent))")
        for chart in charts {
            let svg = try String(contentsOf: chart, encoding: .utf8)
            let parsed = HostileFiles.expectOnlyOwnMarkup(svg, chart.lastPathComponent)
            #expect(!svg.contains("<script") && !svg.contains("\u{202E}"), "\(chart.lastPathComponent)")
            if chart.lastPathComponent == "loss.svg" {
                #expect(parsed.texts("title").contains(shown), "the loss legend's tooltip is the whole name as text")
            }
        }
    }

    @Test("In Chromium no payload runs, with or without the page's Content-Security-Policy, and the text shows escaped",
          .enabled(if: HostileChromium.available, "chromium is not installed (Debian: apt-get install -y chromium)"))
    func noScriptRunsInChromium() throws {
        let run = try Self.trained()
        let shown = HostileRun.displayed(run.name)
        let report = run.out.appendingPathComponent("report.html")
        let dom = try HostileChromium.expectNothingRan(report, "report.html")
        #expect(dom.contains("&lt;script&gt;document.title="), "the script payload is text in the DOM")
        #expect(dom.contains("&lt;img src=x onerror=\"console.log("), "the image payload is text in the DOM")
        #expect(HostileChromium.text(of: "h1", in: dom) == shown, "the heading reads as the name")
        #expect(HostileChromium.text(of: "title", in: dom) == shown, "no payload changed the title")

        // Escaping alone holds: the same page without its Content-Security-Policy.
        let html = try String(contentsOf: report, encoding: .utf8)
        let lines = html.split(separator: "\n", omittingEmptySubsequences: false)
        let kept = lines.filter { !$0.contains("Content-Security-Policy") }
        #expect(kept.count == lines.count - 1, "the page has one Content-Security-Policy line")
        let open = run.root.appendingPathComponent("report-without-csp.html")
        try kept.joined(separator: "\n").write(to: open, atomically: true, encoding: .utf8)
        let openDOM = try HostileChromium.expectNothingRan(open, "report.html without its Content-Security-Policy")
        #expect(HostileChromium.text(of: "h1", in: openDOM) == shown)

        // Each chart opened on its own (an SVG document has no policy to fall back on).
        for chart in try Self.svgs(run.out) {
            let svgDOM = try HostileChromium.expectNothingRan(chart, chart.lastPathComponent)
            #expect(svgDOM.contains("<svg"), "\(chart.lastPathComponent) loaded as SVG")
            if chart.lastPathComponent == "loss.svg" { #expect(svgDOM.contains("&lt;script&gt;document.title=")) }
        }
    }

    @Test("The check works: the same name put into a page unescaped runs its payloads",
          .enabled(if: HostileChromium.available, "chromium is not installed (Debian: apt-get install -y chromium)"))
    func unescapedPayloadsAreDetected() throws {
        let run = try Self.trained()
        let page = run.root.appendingPathComponent("unescaped.html")
        try "<!DOCTYPE html><html><head><title>t</title></head><body><h1>\(run.name)</h1></body></html>"
            .write(to: page, atomically: true, encoding: .utf8)
        let (dom, console) = try HostileChromium.load(page)
        #expect(dom.contains("data-pwned"), "the script payload set its attribute")
        for marker in ["PWNED-script", "PWNED-img", "PWNED-svg"] {
            #expect(console.contains { $0.contains(marker) }, "\(marker) on the console: \(console.map { $0.suffix(200) })")
        }
        let svg = run.root.appendingPathComponent("unescaped.svg")
        try "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>console.log('PW'+'NED-in-svg')</script></svg>"
            .write(to: svg, atomically: true, encoding: .utf8)
        #expect(try HostileChromium.load(svg).console.contains { $0.contains("PWNED-in-svg") }, "a script in an SVG file runs")
    }

    @Test("gradlab report rebuilds the hostile run's report as safely")
    func rebuiltReport() throws {
        let run = try Self.trained()
        let copy = run.root.appendingPathComponent("rebuilt")
        try FileManager.default.copyItem(at: run.out, to: copy)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("report.html"))
        let r = try HostileFiles.gradlab(["report", copy.path], in: run.root)
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(2000))")
        let html = try String(contentsOf: copy.appendingPathComponent("report.html"), encoding: .utf8)
        let page = HostileFiles.expectOnlyOwnMarkup(html, "the rebuilt report.html")
        #expect(page.texts("h1") == [HostileRun.displayed(run.name)])
    }

    @Test("A sweep of the hostile spec: index page, phase diagram and run reports are safe")
    func sweep() throws {
        let run = try Self.trained()
        let out = run.root.appendingPathComponent("sweep")
        let r = try HostileFiles.gradlab(["sweep", run.spec.path, "--grid", "activation=tanh,relu", "--out", out.path, "--json"],
                                         in: run.root.appendingPathComponent("cwd"))
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(2000))")
        let index = out.appendingPathComponent("report.html")
        let page = HostileFiles.expectOnlyOwnMarkup(try String(contentsOf: index, encoding: .utf8), "the sweep's report.html",
                                                    relativeLinks: true)
        #expect(page.texts("h1") == [HostileRun.displayed("Sweep of \(run.name)")])
        let links = page.elements.filter { $0.name == "a" }.compactMap { $0.attributes["href"] }.filter { !$0.hasPrefix("#") }
        #expect(links.count == 2, "\(links)")
        for link in links {
            let target = out.appendingPathComponent(link.removingPercentEncoding ?? link).standardizedFileURL
            #expect(target.path.hasPrefix(out.path + "/") && FileManager.default.fileExists(atPath: target.path), "\(link)")
            _ = HostileFiles.expectOnlyOwnMarkup(try String(contentsOf: target, encoding: .utf8), link)
        }
        _ = HostileFiles.expectOnlyOwnMarkup(try String(contentsOf: out.appendingPathComponent("phase_diagram.svg"), encoding: .utf8),
                                             "phase_diagram.svg")
        if HostileChromium.available {
            _ = try HostileChromium.expectNothingRan(index, "the sweep's report.html")
            _ = try HostileChromium.expectNothingRan(out.appendingPathComponent("phase_diagram.svg"), "phase_diagram.svg")
        }
    }

    // MARK: Output stays in the chosen folder

    @Test("A run's name becomes one safe folder name", arguments: [
        ("../../etc/x", "etc-x"), ("/etc/passwd", "etc-passwd"), ("..", "run"), (".", "run"), ("", "run"), (".hidden", "hidden"),
        ("deep-sigmoid", "deep-sigmoid"), ("he2015 depth 30", "he2015 depth 30"), ("a/b\\c:d", "a-b-c-d"),
        ("x\u{0}y\u{1B}z", "x-y-z"), ("<script>alert(1)</script>", "script-alert(1)-script"), ("v1.0.", "v1.0"),
        ("evil\u{202E}gpj.exe", "evil-gpj.exe"), ("σ_w=1.5 深さ", "σ_w=1.5 深さ"), ("..\\..\\windows", "windows"),
    ])
    func folderNames(name: String, expected: String) {
        #expect(RunFolder.folderName(forRunNamed: name) == expected, "\(name.debugDescription)")
    }

    @Test("The default folder of any run name lies directly in the runs folder, and writing there stays there")
    func defaultFolderStaysInside() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-hostile-names-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let parent = root.appendingPathComponent("a/b/runs")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let run = try HostileRun.shared.get()
        let long = String(repeating: "長い名前", count: 100)
        for name in ["../../x", "../../../../../../tmp/gradlab-escape", "/etc/gradlab-escape", "..", "a/../../b", "\u{0}", long, run.name] {
            for suffix in ["", "-diagnosis", "-sweep"] {
                let url = RunFolder.defaultURL(forRunNamed: name, in: parent, suffix: suffix)
                #expect(url.deletingLastPathComponent().standardizedFileURL.path == parent.standardizedFileURL.path, "\(url.path)")
                let component = url.lastPathComponent
                #expect(component != "." && component != ".." && !component.hasPrefix(".") && !component.contains("/"), "\(component)")
                #expect(component.utf8.count <= RunFolder.folderNameLimit + suffix.utf8.count)
                let folder = try RunFolder(url)
                try folder.write("x", to: "report.html")
            }
        }
        #expect(RunFolder.folderName(forRunNamed: long).utf8.count <= RunFolder.folderNameLimit)
        let outside = HostileFiles.all(under: root).filter { !$0.hasPrefix("a/b/runs") && $0 != "a" && $0 != "a/b" }
        #expect(outside.isEmpty, "\(outside.sorted())")
        #expect(!FileManager.default.fileExists(atPath: "/etc/gradlab-escape") && !FileManager.default.fileExists(atPath: "/tmp/gradlab-escape"))
    }

    @Test("A run folder writes only plain file names inside itself")
    func writeRefusesPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-hostile-write-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try RunFolder(root.appendingPathComponent("run"))
        for name in ["../escaped.html", "/tmp/escaped.html", "..", ".", "", "a/b", "x\u{0}y"] {
            #expect(throws: RunFolderError.self, "\(name.debugDescription)") { try folder.write("x", to: name) }
            #expect(throws: RunFolderError.self, "\(name.debugDescription)") { try folder.writeDurably(Data("x".utf8), to: name) }
        }
        do {
            try folder.write("x", to: "../escaped.html")
        } catch {
            #expect("\(error)".contains("not a file name inside the run folder"), "\(error)")
        }
        #expect(HostileFiles.all(under: root) == ["run"])
        try folder.write("fine", to: "report.html")
        #expect(HostileFiles.all(under: root) == ["run", "run/report.html"])
    }

    /// `gradlab train SPEC` with no `--out` writes `runs/<name>` in the working folder: a name
    /// that climbs out (`../../x`) or is absolute must still land in `runs/`.
    @Test("gradlab train without --out keeps a hostile run name inside runs/", arguments: ["../../escaped", "/tmp/gradlab-hostile-absolute"])
    func trainDefaultFolderStaysInRuns(name: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-hostile-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cwd = root.appendingPathComponent("a/b/work")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let tiny = try String(contentsOf: fixturesDirectory.appendingPathComponent("cli/tiny.yaml"), encoding: .utf8)
        let lines = tiny.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("name:") }
        let spec = root.appendingPathComponent("named.yaml")
        try (["name: \"\(name)\""] + lines.map(String.init)).joined(separator: "\n").write(to: spec, atomically: true, encoding: .utf8)
        #expect(try RunSpec.load(contentsOf: spec).name == name)
        let r = try HostileFiles.gradlab(["train", spec.path, "--quiet", "--epochs", "2"], in: cwd)
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(1500))")
        let written = HostileFiles.all(under: root).filter { $0 != "named.yaml" && !"a/b/work/runs/".hasPrefix($0 + "/") }
        let outside = written.filter { !$0.hasPrefix("a/b/work/runs/") }
        #expect(outside.isEmpty, "written outside runs/: \(outside.sorted())")
        #expect(FileManager.default.fileExists(atPath: cwd.appendingPathComponent("runs")
            .appendingPathComponent(RunFolder.folderName(forRunNamed: name)).appendingPathComponent("report.html").path))
    }
}

@Suite("Markup escaping of hostile text")
struct HostileEscapingTests {
    @Test("Bidirectional overrides, embeddings and isolates become U+FFFD; right-to-left text stays")
    func bidirectionalControls() {
        for scalar in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] {
            let control = String(Character(Unicode.Scalar(UInt32(scalar))!))
            #expect(escapeMarkup("a\(control)b") == "a\u{FFFD}b", "U+\(String(scalar, radix: 16, uppercase: true))")
        }
        #expect(escapeMarkup("שלום عربي \u{200F}") == "שלום عربي \u{200F}", "letters and the plain right-to-left mark")
        #expect(escapeMarkup("<b>\u{202E}x") == "&lt;b&gt;\u{FFFD}x")
    }
}
