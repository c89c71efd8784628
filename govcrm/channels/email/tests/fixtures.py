"""The sample messages in ../fixtures/, read as bytes."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INTAKE = "12345@govcrm.localhost"


def eml(name: str, **replace: str) -> bytes:
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw
