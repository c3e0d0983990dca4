import Foundation

/// Headless Chromium (Debian package `chromium`): loads a page or an SVG image from a file and
/// gives back the DOM it ended with and its console, or runs it with other flags (a screenshot).
public enum HeadlessChromium {
    /// The first of `chromium`, `chromium-browser`, `google-chrome` on `PATH`.
    public static let executable: URL? = executableOnPath(["chromium", "chromium-browser", "google-chrome"])

    /// Whether Chromium is installed.
    public static var available: Bool { executable != nil }

    /// Thrown when Chromium is needed but not installed.
    public struct NotInstalled: Error, CustomStringConvertible {
        /// What to install.
        public var description: String { "chromium is not installed (Debian: apt-get install -y chromium)" }
    }

    /// What one page load gave.
    public struct Load: Sendable {
        /// The serialized DOM after the load (`--dump-dom`).
        public let dom: String
        /// The lines of the log that come from the page (see `consoleLines(in:)`).
        public let console: [String]
        /// Chromium's exit status, output and log.
        public let output: ProcessOutput
    }

    /// Runs Chromium with the common flags (headless, no sandbox since containers run as root, no
    /// GPU, no first-run or extension noise, hidden scrollbars) and `arguments`, under a fresh
    /// profile folder (its `HOME` too) that is removed afterwards.
    ///
    /// - Throws: `NotInstalled`, or what starting the process throws.
    public static func run(_ arguments: [String], timeout: Double = 120) throws -> ProcessOutput {
        guard let executable else { throw NotInstalled() }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("gradlab-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = profile.path
        return try runProcess(executable, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
        ] + arguments, environment: environment, timeout: timeout)
    }

    /// Loads `page` (a `file:` URL) with console logging on and dumps its DOM.
    ///
    /// - Throws: `NotInstalled`, or what starting the process throws.
    public static func load(_ page: URL, timeout: Double = 120) throws -> Load {
        let output = try run(["--enable-logging=stderr", "--v=0", "--dump-dom", page.absoluteString], timeout: timeout)
        return Load(dom: output.stdout, console: consoleLines(in: output.stderr), output: output)
    }

    /// The lines of Chromium's log that come from the page: every console message (Chromium logs
    /// them as `INFO:CONSOLE`, errors included), uncaught exception, and resource refused by the
    /// page's Content-Security-Policy or not loaded. A self-contained page without scripts has none.
    public static func consoleLines(in log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter {
            $0.contains(":CONSOLE") || $0.contains("Uncaught") || $0.contains("Refused to") || $0.contains("Failed to load resource")
        }
    }
}
