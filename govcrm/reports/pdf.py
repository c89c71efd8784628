"""A report as PDF (reportlab): landscape A4, every section with its tables, the trend charts drawn
on the server (reportlab.graphics), Chinese and English.

Rules:
- Text uses reportlab's built-in CID font STSong-Light (Adobe-GB1, Unicode encoding): no font file
  is shipped or downloaded; PDF readers supply the glyphs (Latin letters and digits included).
  Reading the text back needs the reader's CJK mapping (poppler-data for pdftotext).
- Numbers are written as the tables hold them (per cent with one decimal); a missing figure is "—".
- A table longer than PDF_ROWS rows shows its first and last PDF_ROWS // 2 rows and says that the
  XLSX holds every row; the XLSX always does.
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable
from reportlab.platypus.flowables import Flowable

from .content import Chart, ReportContent, Section

FONT = "STSong-Light"
PDF_ROWS = 30
PALETTE = [colors.HexColor(c) for c in ("#1f5fa8", "#c0392b", "#1e8449", "#b9770e", "#6c3483")]

pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BASE = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
STYLES = {
    "title": ParagraphStyle("title", parent=_BASE, fontSize=18, leading=24, spaceAfter=4),
    "subtitle": ParagraphStyle("subtitle", parent=_BASE, fontSize=10, textColor=colors.HexColor("#444444"),
                               spaceAfter=10),
    "h1": ParagraphStyle("h1", parent=_BASE, fontSize=14, leading=18, spaceBefore=12, spaceAfter=6),
    "h2": ParagraphStyle("h2", parent=_BASE, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4),
    "note": ParagraphStyle("note", parent=_BASE, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
    "cell": ParagraphStyle("cell", parent=_BASE, fontSize=7.5, leading=9.5),
    "head": ParagraphStyle("head", parent=_BASE, fontSize=7.5, leading=9.5, textColor=colors.white),
}


def text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def plain(value: str) -> str:
    """STSong-Light has no glyph for the middle dot (U+00B7) that titles use as a separator."""
    return value.replace("·", "—")


def _esc(value: str) -> str:
    return plain(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _para(value, style: str = "cell") -> Paragraph:
    return Paragraph(_esc(text(value)), STYLES[style])


def _ranking_view(columns: list[str], rows: list[list]) -> tuple[list[str], list[list]]:
    """The PDF's narrower ranking table (the XLSX has k, n, the interval and both ranks of each rate in
    blocks of 7 columns): unit, then per rate: rate, 95 % interval, n, cautious rank."""
    out_cols = [columns[0]]
    blocks = (len(columns) - 1) // 7
    for b in range(blocks):
        base = 1 + 7 * b
        out_cols += [columns[base], _("Interval (95%)"), "n", columns[base + 6]]
    out_rows = []
    for row in rows:
        out = [row[0]]
        for b in range(blocks):
            base = 1 + 7 * b
            low, high = row[base + 3], row[base + 4]
            interval = None if low is None else f"{text(low)}–{text(high)}"
            out += [row[base], interval, row[base + 2], row[base + 6]]
        out_rows.append(out)
    return out_cols, out_rows


def _table(columns: list[str], rows: list[list], width: float) -> list[Flowable]:
    flow: list[Flowable] = []
    shown = rows
    if len(rows) > PDF_ROWS:
        half = PDF_ROWS // 2
        shown = [*rows[:half], ["…"] + [""] * (len(columns) - 1), *rows[-half:]]
    data = [[_para(c, "head") for c in columns]] + [[_para(v) for v in row] for row in shown]
    first = min(width * 0.26, 55 * mm) if len(columns) > 4 else width * 0.4
    rest = (width - first) / max(1, len(columns) - 1)
    table = PdfTable(data, colWidths=[first] + [rest] * (len(columns) - 1), repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f5fa8")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f1f4f8")]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c4")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    flow.append(table)
    if len(rows) > PDF_ROWS:
        flow.append(Paragraph(_esc(_("%(shown)d of %(total)d rows shown: the first and the last. The XLSX file "
                                     "holds every row.") % {"shown": PDF_ROWS, "total": len(rows)}), STYLES["note"]))
    if not rows:
        flow.append(Paragraph(_esc(_("No figures for this period.")), STYLES["note"]))
    return flow


def chart_drawing(chart: Chart, width: float, height: float = 62 * mm) -> Drawing:
    """A line chart of rates (0–100 %) or a bar chart of counts, with a legend."""
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, plain(chart.title), fontName=FONT, fontSize=9))
    points = [[v for v in values if v is not None] for _name, values in chart.series]
    if not any(points):
        drawing.add(String(30, height / 2, plain(_("No figures for this period.")), fontName=FONT, fontSize=8))
        return drawing
    plot = HorizontalLineChart() if chart.kind == "lines" else VerticalBarChart()
    plot.x, plot.y = 30, 28
    plot.width, plot.height = width - 150, height - 48
    plot.data = [tuple(v for v in values) for _name, values in chart.series] or [()]
    plot.categoryAxis.categoryNames = chart.labels
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = 7
    plot.valueAxis.labels.fontName = FONT
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    if chart.kind == "lines":
        plot.valueAxis.valueMax = 100
        plot.valueAxis.valueStep = 20
        # reportlab draws a joined series only from two points on: with fewer, markers alone
        plot.joinedLines = 1 if all(len(p) >= 2 for p in points) else 0
        for i in range(len(chart.series)):
            plot.lines[i].strokeColor = PALETTE[i % len(PALETTE)]
            plot.lines[i].strokeWidth = 1.5
            # a marker per point: a period between two without figures still shows
            plot.lines[i].symbol = makeMarker("FilledCircle", size=4, fillColor=PALETTE[i % len(PALETTE)])
    else:
        top = max([v for _n, values in chart.series for v in values if v is not None] or [0])
        plot.valueAxis.valueMax = max(5, top * 1.1)
        plot.valueAxis.forceZero = 1
        for i in range(len(chart.series)):
            plot.bars[i].fillColor = PALETTE[i % len(PALETTE)]
            plot.bars[i].strokeColor = None
    drawing.add(plot)
    legend = Legend()
    legend.x, legend.y = width - 110, height - 24
    legend.fontName, legend.fontSize = FONT, 8
    legend.alignment = "right"
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], plain(name)) for i, (name, _v) in enumerate(chart.series)]
    drawing.add(legend)
    return drawing


def _section(section: Section, width: float) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph(_esc(section.title), STYLES["h1"])]
    for chart in section.charts:
        flow.append(chart_drawing(chart, width))
        flow.append(Spacer(1, 4 * mm))
    for table in section.tables:
        columns, rows = table.columns, table.rows
        if table.name.startswith("ranking_"):
            columns, rows = _ranking_view(columns, rows)
        heading = Paragraph(_esc(table.title), STYLES["h2"])
        body = _table(columns, rows, width)
        flow.append(KeepTogether([heading, *body[:1]]) if len(rows) <= 12 else heading)
        flow.extend(body[1:] if len(rows) <= 12 else body)
    for note in section.notes:
        flow.append(Paragraph(_esc(note), STYLES["note"]))
    return flow


def render(report: ReportContent) -> bytes:
    """The PDF bytes, in the language the content was built in."""
    out = io.BytesIO()
    pagesize = landscape(A4)
    margin = 14 * mm
    doc = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=report.title, author="GovCRM", subject=report.subtitle)
    width = pagesize[0] - 2 * margin
    story: list[Flowable] = [Paragraph(_esc(report.title), STYLES["title"]),
                             Paragraph(_esc(report.subtitle), STYLES["subtitle"])]
    for section in report.sections:
        story.extend(_section(section, width))
    footer = plain(_("GovCRM · %(title)s · page %%(page)d") % {"title": report.title})

    def on_page(canvas, doc_):
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawRightString(pagesize[0] - margin, 8 * mm, footer % {"page": doc_.page})
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue()
