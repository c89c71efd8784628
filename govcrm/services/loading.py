"""Loading the shipped processes and online items (command `services_load`, `govcrm demo`)."""

from __future__ import annotations

from pathlib import Path

from govcrm.organization.models import Unit

from .actions import process_definition_load
from .catalogue import ITEMS
from .models import ProcessDefinition, ServiceItem

PROCESS_DIR = Path(__file__).resolve().parent / "processes"


def load_processes(folder: Path | None = None) -> list[tuple[ProcessDefinition, bool]]:
    folder = folder or PROCESS_DIR
    out = []
    for bpmn in sorted(folder.glob("*.bpmn")):
        dmn = bpmn.with_suffix(".dmn")
        out.append(process_definition_load(
            key=bpmn.stem, bpmn_xml=bpmn.read_text(encoding="utf-8"),
            dmn_xml=dmn.read_text(encoding="utf-8") if dmn.exists() else "", source=bpmn.name))
    return out


def load_catalogue() -> list[tuple[str, str]]:
    out = []
    for row in ITEMS:
        unit = Unit.objects.filter(code=row["unit"]).first()
        if unit is None:
            out.append((row["code"], f"skipped: no unit with code {row['unit']!r}"))
            continue
        fields = {k: v for k, v in row.items() if k not in {"code", "unit"}}
        item, created = ServiceItem.objects.update_or_create(
            code=row["code"], defaults={**fields, "unit": unit, "online": True, "active": True})
        out.append((item.code, "created" if created else "updated"))
    return out
