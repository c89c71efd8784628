"""The process map drawn as inline SVG on the server (no graphviz here, no script needed).

Activities stand in one column, ordered by their mean position in the traces, so the main flow
reads top to bottom. A directly-follows edge is an arc: forward edges (down the column) on the
right, backward edges — the loops: returns, send-backs, reopens — on the left in the warning
colour, self-loops as a small ring. Width grows with the edge's frequency; each edge has a
<title> with its count and times, and the strongest edges carry a label. The same figures are
in the table under the map, for screen readers and for copying.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .analysis import ProcessMap, Trace

ROW, TOP, X, W, H = 56, 30, 260, 220, 34
LABELLED = 24


def order(pmap: ProcessMap, traces: Sequence[Trace]) -> list[str]:
    """Activities by their mean relative position in the traces (ties by name)."""
    pos: dict[str, list[float]] = defaultdict(list)
    for t in traces:
        n = max(1, len(t.events) - 1)
        for i, e in enumerate(t.events):
            pos[e.activity].append(i / n)
    return sorted(pmap.activities, key=lambda a: (sum(pos[a]) / len(pos[a]) if pos[a] else 1.0, a))


def process_map(pmap: ProcessMap, traces: Sequence[Trace], label: Callable[[str], str],
                duration: Callable[[float], str], title: str) -> SafeString:
    nodes = order(pmap, traces)
    if not nodes:
        return mark_safe("")
    index = {a: i for i, a in enumerate(nodes)}
    height = TOP * 2 + ROW * (len(nodes) - 1) + H
    width = X + W + 260
    top = max((e.count for e in pmap.edges), default=1)
    strongest = {(e.source, e.target) for e in sorted(pmap.edges, key=lambda e: -e.count)[:LABELLED]}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-labelledby="pm-title" class="process-map" font-size="12">'
             f'<title id="pm-title">{escape(title)}</title>',
             '<defs><marker id="pm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    cy = {a: TOP + index[a] * ROW + H / 2 for a in nodes}
    for e in sorted(pmap.edges, key=lambda e: e.count):
        i, j = index[e.source], index[e.target]
        stroke = 1 + 6 * e.count / top
        tip = f"{label(e.source)} → {label(e.target)}: {e.count} · {duration(e.mean_s)}"
        if i == j:
            y = cy[e.source]
            d = f"M{X + W},{y - 6} C{X + W + 40},{y - 30} {X + W + 40},{y + 30} {X + W},{y + 6}"
            color, lx, ly = "#b45309", X + W + 44, y + 4
        else:
            forward = j > i
            spread = 30 + 26 * abs(j - i)
            y1, y2 = cy[e.source] + (4 if forward else -4), cy[e.target] + (-4 if forward else 4)
            if forward:
                x0 = X + W
                d = f"M{x0},{y1} C{x0 + spread},{y1} {x0 + spread},{y2} {x0},{y2}"
                color, lx = "#1d4ed8", x0 + spread * 0.75 + 4
            else:
                x0 = X
                d = f"M{x0},{y1} C{x0 - spread},{y1} {x0 - spread},{y2} {x0},{y2}"
                color, lx = "#b91c1c", x0 - spread * 0.75 - 4
            ly = (y1 + y2) / 2 + 4
        parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-opacity="0.75" stroke-width="{stroke:.1f}" '
                     f'marker-end="url(#pm-arrow)"><title>{escape(tip)}</title></path>')
        if (e.source, e.target) in strongest:
            anchor = "end" if i > j else "start"
            parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}" fill="{color}">'
                         f'{e.count} · {escape(duration(e.mean_s))}</text>')
    for a in nodes:
        y = TOP + index[a] * ROW
        start = pmap.starts.get(a, 0)
        end = pmap.ends.get(a, 0)
        border = "#15803d" if start else ("#374151" if end else "#6b7280")
        parts.append(f'<g><rect x="{X}" y="{y}" width="{W}" height="{H}" rx="6" fill="#f8fafc" stroke="{border}" '
                     f'stroke-width="{2 if start or end else 1}"/>'
                     f'<text x="{X + W / 2}" y="{y + H / 2 + 4}" text-anchor="middle" fill="#111827">'
                     f'{escape(label(a))} ({pmap.activities[a]})</text></g>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
