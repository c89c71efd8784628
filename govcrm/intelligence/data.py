"""Training and evaluation examples: from a labelled CSV file, or from the cases' own history.

A CSV is UTF-8 (a byte-order mark is allowed) with a header row. Errors name the file, the
column or the row, in the language of the caller, and nothing is trained or stored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q
from django.utils.translation import gettext as _

from govcrm.cases.models import Case
from govcrm.cases.workflow import Status
from govcrm.channels.intake import UNCLASSIFIED

from . import classifier

HISTORY_LIMIT = 100_000


class DataError(Exception):
    pass


@dataclass(frozen=True)
class Examples:
    docs: list[list[str]]
    labels: list[str]
    source: str
    skipped: int  # rows without text or label


def from_csv(path: str, *, text_column: str, label_column: str | None,
             title_column: str | None = None) -> Examples:
    file = Path(path)
    if not file.is_file():
        raise DataError(_("No such file: %(path)s") % {"path": path})
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(_("%(path)s is not UTF-8 text.") % {"path": path}) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    for col in [text_column, label_column, title_column]:
        if col and col not in columns:
            raise DataError(_("%(path)s has no column %(column)s (it has: %(columns)s)")
                            % {"path": path, "column": col, "columns": ", ".join(columns)})
    docs, labels, skipped = [], [], 0
    for row in reader:
        body = (row.get(text_column) or "").strip()
        title = (row.get(title_column) or "").strip() if title_column else ""
        label = (row.get(label_column) or "").strip() if label_column else ""
        if not (body or title) or (label_column and not label):
            skipped += 1
            continue
        docs.append(classifier.document(body, title))
        labels.append(label)
    if not docs:
        raise DataError(_("%(path)s has no usable rows.") % {"path": path})
    return Examples(docs, labels, f"csv:{file.name}", skipped)


def from_history(*, limit: int = HISTORY_LIMIT, before=None) -> Examples:
    """The most recent dispatched cases with their final category (after returns and corrections).

    Cases still waiting for dispatch, withdrawn or merged ones, and the unclassified bucket are
    left out: their category is nobody's decision.
    """
    rows = (Case.objects.exclude(status=Status.REGISTERED)
            .exclude(category__code=UNCLASSIFIED)
            .exclude(Q(close_reason__in=["withdrawn", "merged"]))
            .filter(dispatch_count__gt=0)
            .filter(**({"created_at__lt": before} if before else {}))
            .order_by("-id").values_list("title", "description", "category__code")[:limit])
    docs, labels = [], []
    for title, description, code in rows:
        docs.append(classifier.document(description, title))
        labels.append(code)
    return Examples(docs, labels, "history", 0)
