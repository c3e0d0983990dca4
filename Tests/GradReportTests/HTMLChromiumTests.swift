import Foundation
import GradTestSupport
import Testing

/// What the report's rendering tests add to the shared `HeadlessChromium`: `python3`, which
/// reads the screenshot, and a folder for the pages.
extension HeadlessChromium {
    /// `python3` on `PATH` (decodes the screenshot with `Tests/Fixtures/render_report.py`).
    static let python: URL? = executableOnPath(["python3"])
    /// Whether the rendering tests can run.
    static let renderingAvailable = available && python != nil

    /// The folder the tests write into (kept afterwards so the screenshot can be looked at).
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradreport-chromium")

    /// A run that did not finish.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `output`, or a `Failure` when the process ran out of time.
    static func finished(_ output: ProcessOutput, _ what: String) throws -> ProcessOutput {
        if output.timedOut { throw Failure(description: "\(what) did not finish within 120 s") }
        return output
    }

    /// Writes `html` to `name` in the folder and returns its URL.
    static func write(_ html: String, name: String) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try html.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Loads `page` with console logging on and returns the DOM and the console's lines
    /// (messages, uncaught exceptions, loads blocked by the Content-Security-Policy).
    static func consoleErrors(_ page: URL) throws -> (dom: String, errors: [String]) {
        let loaded = try load(page)
        _ = try finished(loaded.output, "chromium")
        return (loaded.dom, loaded.console)
    }
}

/// Needs `chromium` (Debian: `apt-get install -y chromium`) and `python3`; skipped otherwise.
@Suite("HTML report in headless Chromium", .serialized,
       .enabled(if: HeadlessChromium.renderingAvailable, "chromium or python3 is not installed (Debian: apt-get install -y chromium)"))
struct HTMLChromiumTests {
    @Test("The report renders to a screenshot that is not blank")
    func screenshot() throws {
        let page = try HeadlessChromium.write(try ReportSamples.trainedReport(), name: "report.html")
        let png = HeadlessChromium.folder.appendingPathComponent("report.png")
        try? FileManager.default.removeItem(at: png)
        let result = try HeadlessChromium.finished(
            HeadlessChromium.run(["--screenshot=\(png.path)", "--window-size=1200,2000", page.absoluteString]), "chromium")
        #expect(result.status == 0, "chromium exited \(result.status): \(result.stderr.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: png.path), "no screenshot: \(result.stderr.suffix(2000))")

        let script = fixturesDirectory.appendingPathComponent("render_report.py").path
        let python = try #require(HeadlessChromium.python)
        let stats = try HeadlessChromium.finished(runProcess(python, [script, "stats", png.path], timeout: 120), python.path)
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Int])
        #expect(object["width"] == 1200 && object["height"] == 2000, "\(object)")
        let pixels = 1200.0 * 2000.0
        let nonwhite = Double(try #require(object["nonwhite"]))
        // Text, table rules, the grey page margins and the charts: far from blank.
        #expect(nonwhite / pixels > 0.02, "only \(nonwhite) non-white pixels")
        #expect(try #require(object["colours"]) > 50, "the viridis and palette colours of the charts")
    }

    @Test("The report logs no console error, and a broken page does (the check works)")
    func console() throws {
        let page = try HeadlessChromium.write(try ReportSamples.trainedReport(), name: "console.html")
        let (dom, errors) = try HeadlessChromium.consoleErrors(page)
        #expect(errors.isEmpty, "\(errors)")
        #expect(dom.contains("<h1>deep-sigmoid</h1>"), "the DOM was dumped: \(dom.prefix(300))")

        let broken = try HeadlessChromium.write("<!DOCTYPE html><html><body><script>notAFunction();</script></body></html>",
                                                name: "broken.html")
        #expect(!(try HeadlessChromium.consoleErrors(broken).errors.isEmpty), "a page that throws is noticed")
    }
}
