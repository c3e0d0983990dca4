// A chart drawn once: its SVG kept, so that pages showing the same chart do not draw it again
// (a run's section appears in its own report and in its experiment's).

/// A chart whose SVG was drawn when it was made; `svg()` returns that text.
public struct RenderedChart: Chart {
    public let title: String
    public let hasData: Bool
    private let text: String

    /// Draws `chart` now.
    public init(_ chart: any Chart) {
        title = chart.title
        hasData = chart.hasData
        text = chart.svg()
    }

    public func svg() -> String { text }
}

extension HTMLSection {
    /// The same section with every chart, in it and in its subsections, drawn now
    /// (`RenderedChart`): the markup is unchanged, and writing it again draws nothing.
    public func rendered() -> HTMLSection {
        HTMLSection(
            title: title,
            blocks: blocks.map { block in
                if case .chart(let chart, let caption) = block { return .chart(RenderedChart(chart), caption: caption) }
                return block
            },
            subsections: subsections.map { $0.rendered() })
    }
}
