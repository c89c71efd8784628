"""Answers in the two formats of GeoReport v2: XML (required by the spec) and JSON (optional).

Rules (GeoReport v2 "Formats" and "Errors"; JSON_and_XML_Conversion):
- XML is UTF-8 with the XML declaration, has no namespace and is served as `text/xml; charset=utf-8`;
  booleans are `true`/`false`, an unknown value is an empty element.
- JSON is the same document by the Spark convention: a container whose children are one repeated
  element is always an array — so a service list, a request list, the answer to a POST and an
  error list are top-level arrays, even with one item. Served as `application/json; charset=utf-8`.
- Errors are `<errors><error><code/><description/></error></errors>` / `[{"code", "description"}]`
  with HTTP 404 (no such resource), 403 (api_key missing or wrong) or 400 (anything else).
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring  # building only; incoming XML: defusedxml

from django.http import HttpResponse

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

# Container element → its repeated child element. These are the Spark convention's arrays.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """A refused call, answered in the spec's error format; nothing was stored."""

    def __init__(self, status: int, description: str, *, code: int | None = None):
        super().__init__(str(description))
        self.status = status
        self.description = str(description)
        self.code = code or status


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: Element, value: Any) -> None:
    tag = element.tag
    if isinstance(value, list):
        item = LIST_ITEMS.get(tag, "item")
        for v in value:
            _fill(SubElement(element, item), v)
    elif isinstance(value, dict):
        for key, v in value.items():
            _fill(SubElement(element, key), v)
    else:
        element.text = _text(value)


def xml_bytes(root: str, data: Any) -> bytes:
    element = Element(root)
    _fill(element, data)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="unicode").encode("utf-8")


def render(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """One document: `root` names the XML root element (JSON has no root: the data is the document)."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8") if fmt == "json" else xml_bytes(root, data)
    return HttpResponse(body, status=status, content_type=FORMATS.get(fmt, FORMATS["xml"]))


def render_errors(fmt: str, errors: list[Open311Error]) -> HttpResponse:
    """The spec's error list; the HTTP status is the first error's."""
    data = [{"code": e.code, "description": e.description} for e in errors]
    return render(fmt if fmt in FORMATS else "xml", "errors", data, status=errors[0].status)


def render_error_for_path(path: str, status: int, description: str) -> HttpResponse:
    """One error in the format the request's path asks for (`….json`, else XML): for answers given
    before the Open311 views run (rate limits, NUL characters, database outages)."""
    last = path.rsplit("/", 1)[-1]
    fmt = last.rsplit(".", 1)[-1] if "." in last else "xml"
    return render_errors(fmt, [Open311Error(status, description)])


class Open311Errors(Exception):
    """Several refusals at once (the spec allows a list of errors)."""

    def __init__(self, errors: list[Open311Error]):
        super().__init__("; ".join(e.description for e in errors))
        self.errors = errors
