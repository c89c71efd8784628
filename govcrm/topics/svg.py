"""Tiny inline SVG drawings for the console: a trend sparkline and a map as a scatter of points.

No external assets (no map tiles): the map is the points inside the bounds of every located
case of the run's period, with north up. The drawings are decorative next to the numbers they
summarise, which the pages also give as text (role="img" with an aria-label).
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def _n(value: float) -> str:
    return f"{value:.1f}"


def sparkline(counts: list[int], *, width: int = 120, height: int = 24) -> SafeString:
    """Bars, one per day, oldest first."""
    n = max(len(counts), 1)
    top = max(counts or [0]) or 1
    bar = width / n
    rects = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}"></rect>', (
        (_n(i * bar), _n(height - height * c / top), _n(max(bar - 0.5, 0.5)), _n(height * c / top))
        for i, c in enumerate(counts) if c
    ))
    return format_html('<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" aria-hidden="true" '
                       'focusable="false" fill="currentColor">{}</svg>', width, height, width, height, rects)


def scatter(points: list[tuple[float, float, str]], bounds: list[float] | None, *, width: int = 480,
            height: int = 360) -> SafeString:
    """Points (lat, lon, title) inside bounds [min_lat, min_lon, max_lat, max_lon]."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    lo_lat, lo_lon, hi_lat, hi_lon = bounds or [min(lats), min(lons), max(lats), max(lons)]
    span_lat = (hi_lat - lo_lat) or 0.01
    span_lon = (hi_lon - lo_lon) or 0.01
    pad = 12

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (pad + (lon - lo_lon) / span_lon * (width - 2 * pad),
                pad + (hi_lat - lat) / span_lat * (height - 2 * pad))

    dots = format_html_join("", '<circle cx="{}" cy="{}" r="5"><title>{}</title></circle>',
                            ((*map(_n, xy(lat, lon)), title) for lat, lon, title in points))
    return format_html('<svg class="topic-map" width="{}" height="{}" viewBox="0 0 {} {}" focusable="false" '
                       'fill="#b3261e" fill-opacity="0.7" stroke="#ffffff">'
                       '<rect x="0" y="0" width="{}" height="{}" fill="#eef2f6" stroke="#9aa5b1"></rect>{}</svg>',
                       width, height, width, height, width, height, dots)
