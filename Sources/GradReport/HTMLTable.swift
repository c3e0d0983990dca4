// Tables for the HTML report: a header, rows of cells (text, optionally a relative link), and
// numbers right-aligned.

import Foundation

/// One cell of an `HTMLTable`: its text and, optionally, a relative link.
public struct HTMLTableCell: Sendable, Equatable, ExpressibleByStringLiteral {
    /// The text shown (escaped when written).
    public var text: String
    /// A relative link target (a path such as `runs/deep-sigmoid/report.html`), or nil.
    public var href: String?

    /// A cell.
    ///
    /// - Parameters:
    ///   - text: the text.
    ///   - href: a relative link target, or nil.
    public init(_ text: String, href: String? = nil) {
        self.text = text
        self.href = href
    }

    /// A plain text cell from a literal.
    ///
    /// - Parameter value: the text.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// Whether the text reads as a number (`12`, `−3.5`, `1.2e-7`, `45%`, `∞`, `NaN`, or `—`
    /// for a missing one), so its column is right-aligned.
    public var isNumeric: Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
        if ["∞", "−∞", "-∞", "+∞", "NaN", "nan", "—"].contains(t) { return true }
        var body = Substring(t)
        if let first = body.first, "−-+".contains(first) { body = body.dropFirst() }
        if body.hasSuffix("%") { body = body.dropLast() }
        guard let first = body.first, first.isASCII, first.isNumber else { return false }
        return Double(body.replacingOccurrences(of: "−", with: "-")) != nil
    }
}

/// A table for the HTML report: a header row and rows of cells; numbers
/// (`HTMLTableCell.isNumeric`) are right-aligned with tabular digits, and so is the header of a
/// column of numbers.
public struct HTMLTable: Sendable, Equatable {
    /// The column headers.
    public var header: [String]
    /// The rows; each has `header.count` cells (shorter rows are padded with empty cells).
    public var rows: [[HTMLTableCell]]
    /// A caption above the table, or nil.
    public var caption: String?

    /// A table of cells.
    ///
    /// - Parameters:
    ///   - header: the column headers.
    ///   - rows: the rows of cells.
    ///   - caption: a caption, or nil.
    public init(header: [String], rows: [[HTMLTableCell]], caption: String? = nil) {
        precondition(rows.allSatisfy { $0.count <= header.count },
                     "HTMLTable: a row has more cells than the \(header.count) headers (\(rows.map(\.count).max() ?? 0))")
        self.header = header
        self.rows = rows
        self.caption = caption
    }

    /// A table of plain text.
    ///
    /// - Parameters:
    ///   - header: the column headers.
    ///   - textRows: the rows of texts.
    ///   - caption: a caption, or nil.
    public init(header: [String], textRows: [[String]], caption: String? = nil) {
        self.init(header: header, rows: textRows.map { $0.map { HTMLTableCell($0) } }, caption: caption)
    }

    /// Whether column `index` is right-aligned: every non-empty cell is numeric and there is one.
    ///
    /// - Parameter index: the column.
    public func isNumericColumn(_ index: Int) -> Bool {
        let cells = rows.compactMap { index < $0.count ? $0[index] : nil }.filter { !$0.text.isEmpty }
        return !cells.isEmpty && cells.allSatisfy(\.isNumeric)
    }

    /// The table as `<table>` markup, every text and link escaped.
    public var markup: String {
        let numeric = header.indices.map(isNumericColumn)
        var out = "<table>\n"
        if let caption { out += "<caption>\(escapeMarkup(caption))</caption>\n" }
        out += "<thead><tr>"
        for (i, title) in header.enumerated() {
            out += numeric[i] ? "<th class=\"num\">" : "<th>"
            out += escapeMarkup(title) + "</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>"
            for i in header.indices {
                let cell = i < row.count ? row[i] : HTMLTableCell("")
                out += numeric[i] || cell.isNumeric ? "<td class=\"num\">" : "<td>"
                if let href = cell.href {
                    out += "<a href=\"\(escapeMarkup(relativeHref(href)))\">\(escapeMarkup(cell.text))</a>"
                } else {
                    out += escapeMarkup(cell.text)
                }
                out += "</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>"
    }
}

/// `path` as a relative link target that cannot leave the report's folder tree for another
/// site or run code: leading `/` removed, every byte outside `A–Z a–z 0–9 - . _ ~ /` and `#`
/// (a fragment) percent-encoded, so `:` becomes `%3A` and no scheme (`http:`, `javascript:`)
/// survives; an empty result becomes `./`. Still to be escaped for the attribute (it has no
/// markup characters left).
///
/// `relativeHref("runs/a b/report.html") == "runs/a%20b/report.html"`,
/// `relativeHref("javascript:alert(1)") == "javascript%3Aalert%281%29"`.
/// - Parameter path: the link target as given.
public func relativeHref(_ path: String) -> String {
    var trimmed = Substring(path)
    while let first = trimmed.first, first == "/" || first == "\\" || first == " " { trimmed = trimmed.dropFirst() }
    var out = ""
    var seenFragment = false
    for byte in trimmed.utf8 {
        let c = Character(Unicode.Scalar(byte))
        if byte < 0x80 && (c.isLetter || c.isNumber || "-._~/".contains(c)) {
            out.append(c)
        } else if c == "#" && !seenFragment {
            seenFragment = true
            out.append(c)
        } else {
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
    }
    return out.isEmpty ? "./" : out
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
