// A self-contained HTML5 page: inline CSS and inline SVG, no scripts, no external resources,
// written so that it also parses as XML (void elements closed, only XML's entities).

import Foundation

/// A self-contained HTML report: a title, an optional introduction, a table of contents and
/// sections.
///
/// The page loads nothing (a Content-Security-Policy forbids every external fetch and all
/// scripts), holds no `<script>`, and is XHTML-compatible: it parses with an XML parser. Every
/// text is escaped; charts are inline SVG.
public struct HTMLReport: Sendable {
    /// The page title (`<title>` and `<h1>`).
    public var title: String
    /// A line under the title, or nil.
    public var subtitle: String?
    /// Blocks between the title and the first section (key figures).
    public var introduction: [HTMLBlock]
    /// The sections, in order.
    public var sections: [HTMLSection]

    /// A report.
    ///
    /// - Parameters:
    ///   - title: the page title.
    ///   - subtitle: a line under the title, or nil.
    ///   - introduction: blocks before the sections.
    ///   - sections: the sections.
    public init(title: String, subtitle: String? = nil, introduction: [HTMLBlock] = [], sections: [HTMLSection] = []) {
        self.title = title
        self.subtitle = subtitle
        self.introduction = introduction
        self.sections = sections
    }

    /// The style sheet: a centred column about 1000 px wide, system fonts, ruled tables with
    /// right-aligned numbers, scrolling `<pre>` blocks, figures scaled to the column (at most 800 px).
    public static let styleSheet = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f3f3f1; color: #1f1f1f; line-height: 1.5;
      font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
    main { max-width: 1000px; margin: 0 auto; padding: 20px 32px 48px; background: #ffffff; min-height: 100vh; box-sizing: border-box; }
    h1 { font-size: 1.75em; margin: 0.3em 0 0.1em; line-height: 1.25; overflow-wrap: anywhere; }
    .subtitle { color: #555555; margin: 0 0 1em; }
    h2 { font-size: 1.3em; margin: 1.8em 0 0.6em; padding-bottom: 4px; border-bottom: 1px solid #dddddd; overflow-wrap: anywhere; }
    h3 { font-size: 1.08em; margin: 1.4em 0 0.4em; overflow-wrap: anywhere; }
    h4 { font-size: 1em; margin: 1.2em 0 0.3em; }
    p, li { max-width: 78ch; overflow-wrap: anywhere; }
    p.lines { white-space: pre-line; }
    nav { background: #f7f7f5; border: 1px solid #e4e4e0; padding: 6px 16px; margin: 1em 0; }
    nav ol { margin: 0.3em 0; padding-left: 1.4em; columns: 2; }
    a { color: #0b5cad; }
    .table-wrap { overflow-x: auto; }
    table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.92em; }
    caption { text-align: left; font-weight: 600; padding: 4px 0; }
    th, td { border-bottom: 1px solid #e2e2de; padding: 4px 12px 4px 8px; text-align: left; vertical-align: top; }
    th { background: #efefec; font-weight: 600; white-space: nowrap; }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    pre { background: #f6f6f3; border: 1px solid #e0e0dc; padding: 10px 12px; overflow-x: auto; font-size: 0.88em; line-height: 1.4; }
    figure { margin: 1em 0 1.6em; }
    figure svg { display: block; width: 100%; max-width: 800px; height: auto; border: 1px solid #e6e6e3; }
    figcaption { color: #555555; font-size: 0.9em; margin-top: 4px; max-width: 78ch; }
    .callout { display: inline-block; padding: 3px 12px; border-radius: 12px; font-weight: 600; }
    .good { background: #dcefe1; color: #145a2a; }
    .warning { background: #fff0c7; color: #6b4a00; }
    .critical { background: #fbdcd6; color: #8a1c0c; }
    .neutral { background: #ececec; color: #333333; }
    footer { color: #777777; font-size: 0.85em; margin-top: 3em; }
    """

    /// The page: `<!DOCTYPE html>`, a head with charset, viewport, a Content-Security-Policy
    /// (`default-src 'none'; style-src 'unsafe-inline'`), the title and the style sheet; a body
    /// with the `<h1>`, the subtitle, the introduction, a table of contents (with two or more
    /// sections) and the sections (anchors `s1`, `s2`, …).
    public func html() -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>
        <title>\(escapeMarkup(title))</title>
        <style>
        \(Self.styleSheet)
        </style>
        </head>
        <body>
        <main>
        <h1>\(escapeMarkup(title))</h1>

        """
        if let subtitle { out += "<p class=\"subtitle\">\(escapeMarkup(subtitle))</p>\n" }
        for block in introduction { out += block.markup + "\n" }
        if sections.count >= 2 {
            out += "<nav>\n<strong>Contents</strong>\n<ol>\n"
            for (i, section) in sections.enumerated() {
                out += "<li><a href=\"#s\(i + 1)\">\(escapeMarkup(section.title))</a></li>\n"
            }
            out += "</ol>\n</nav>\n"
        }
        for (i, section) in sections.enumerated() {
            out += section.markup(id: "s\(i + 1)") + "\n"
        }
        out += "<footer>Made by GradLab. This page is self-contained: it loads nothing and runs no scripts.</footer>\n"
        return out + "</main>\n</body>\n</html>\n"
    }
}
