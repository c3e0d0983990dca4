import Foundation
import GradTestSupport
import Testing

/// Runs headless Chromium (Debian package `chromium`) on generated pages.
enum HeadlessChromium {
    /// The first of `chromium`, `chromium-browser`, `google-chrome` on `PATH`.
    static let executable: String? = which(["chromium", "chromium-browser", "google-chrome"])
    /// `python3` on `PATH` (decodes the screenshot with `Tests/Fixtures/render_report.py`).
    static let python: String? = which(["python3"])
    /// Whether the rendering tests can run.
    static let available = executable != nil && python != nil

    /// The folder the tests write into (kept afterwards so the screenshot can be looked at).
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradreport-chromium")

    static func which(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `executable` with `arguments`, stdout and stderr to files, killed after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        let id = UUID().uuidString
        let out = folder.appendingPathComponent("\(id).stdout"), err = folder.appendingPathComponent("\(id).stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = folder.path
        process.environment = environment
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw Failure(description: "\(executable) did not finish within \(Int(timeout)) s")
        }
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// The common flags: headless, no sandbox (containers run as root), no GPU, a throwaway profile.
    static func flags(profile: String) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--hide-scrollbars", "--user-data-dir=\(folder.appendingPathComponent(profile).path)"]
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
        let executable = try #require(executable)
        defer { try? FileManager.default.removeItem(at: folder.appendingPathComponent("profile-console")) }
        let result = try run(executable, flags(profile: "profile-console") + ["--enable-logging=stderr", "--v=0", "--dump-dom", page.absoluteString])
        let errors = result.stderr.split(separator: "\n").map(String.init).filter { line in
            // Every console message (Chromium logs them as `INFO:CONSOLE`, errors included): a
            // self-contained page without scripts has none.
            line.contains(":CONSOLE") || line.contains("Uncaught") || line.contains("Refused to")
                || line.contains("Failed to load resource")
        }
        return (result.stdout, errors)
    }
}

/// Needs `chromium` (Debian: `apt-get install -y chromium`) and `python3`; skipped otherwise.
@Suite("HTML report in headless Chromium", .serialized,
       .enabled(if: HeadlessChromium.available, "chromium or python3 is not installed (Debian: apt-get install -y chromium)"))
struct HTMLChromiumTests {
    @Test("The report renders to a screenshot that is not blank")
    func screenshot() throws {
        let page = try HeadlessChromium.write(try ReportSamples.trainedReport(), name: "report.html")
        let png = HeadlessChromium.folder.appendingPathComponent("report.png")
        try? FileManager.default.removeItem(at: png)
        let executable = try #require(HeadlessChromium.executable)
        defer { try? FileManager.default.removeItem(at: HeadlessChromium.folder.appendingPathComponent("profile-shot")) }
        let result = try HeadlessChromium.run(executable, HeadlessChromium.flags(profile: "profile-shot")
            + ["--screenshot=\(png.path)", "--window-size=1200,2000", page.absoluteString])
        #expect(result.status == 0, "chromium exited \(result.status): \(result.stderr.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: png.path), "no screenshot: \(result.stderr.suffix(2000))")

        let script = fixturesDirectory.appendingPathComponent("render_report.py").path
        let python = try #require(HeadlessChromium.python)
        let stats = try HeadlessChromium.run(python, [script, "stats", png.path])
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
