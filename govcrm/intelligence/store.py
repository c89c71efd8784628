"""Model files: saved once, checked against their recorded SHA-256 before every load.

A version lives in $GOVCRM_HOME/models/classifier/<version>/ as model.joblib and meta.json. The
database row (`ClassifierModel`) names the active version; each process keeps the loaded active
model in memory until the active row changes (reference cache, 30 s at most on other processes).
Several web machines share $GOVCRM_HOME (or copy the folder) — see docs/intelligence.md.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import joblib
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from govcrm.common.reference import cached

from .classifier import Trained
from .models import ClassifierModel


class ModelFileError(Exception):
    """The file of a version is missing or is not the file that was saved."""


def models_dir() -> Path:
    return Path(settings.GOVCRM_HOME) / "models" / "classifier"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_save(*, trained: Trained, source: str, activate: bool = True) -> ClassifierModel:
    now = timezone.now()
    version = now.strftime("%Y%m%d-%H%M%S-%f")
    folder = models_dir() / version
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / "model.joblib"
    joblib.dump(trained.model, path, compress=3)
    metrics = {"cv": trained.cv, "cv_folds": trained.cv_folds, "dropped": trained.dropped,
               "cv_seconds": round(trained.cv_seconds, 1)}
    meta = {"version": version, "trained_at": now.isoformat(), "source": source, "n": trained.n,
            "labels": list(trained.labels), "train_seconds": round(trained.seconds, 1), **metrics}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    with transaction.atomic():
        if activate:
            ClassifierModel.objects.filter(active=True).update(active=False)
        row = ClassifierModel.objects.create(
            version=version, created_at=now, source=source[:300], n_samples=trained.n,
            labels=list(trained.labels), metrics=metrics, train_seconds=round(trained.seconds, 1),
            path=str(path.relative_to(settings.GOVCRM_HOME)), sha256=_sha256(path), active=activate)
    return row


def model_activate(*, version: str) -> ClassifierModel:
    with transaction.atomic():
        row = ClassifierModel.objects.select_for_update().get(version=version)
        ClassifierModel.objects.filter(active=True).exclude(pk=row.pk).update(active=False)
        row.active = True
        row.save(update_fields=["active"])
    return row


_loaded: dict[str, object] = {}
_lock = threading.Lock()


def load(row: ClassifierModel):
    """The pipeline of a version; refuses a file whose hash differs from the recorded one."""
    with _lock:
        if row.version in _loaded:
            return _loaded[row.version]
        path = Path(settings.GOVCRM_HOME) / row.path
        if not path.is_file():
            raise ModelFileError(f"model file missing: {row.path}")
        if _sha256(path) != row.sha256:
            raise ModelFileError(f"model file changed since it was saved: {row.path}")
        model = joblib.load(path)  # safe: the bytes are the ones this system wrote (hash checked)
        _loaded.clear()  # keep one version in memory
        _loaded[row.version] = model
        return model


def active_row() -> ClassifierModel | None:
    return cached("classifier_active", lambda: ClassifierModel.objects.filter(active=True).first())


def active_model():
    """(row, pipeline) of the active version, or None when no model has been trained."""
    row = active_row()
    if row is None:
        return None
    return row, load(row)
