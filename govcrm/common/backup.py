"""Backup and restore of the embedded default: one archive of everything under $GOVCRM_HOME that
cannot be rebuilt. The commands `govcrm backup` and `govcrm restore` are thin wrappers; see
docs/backup.md for the procedures (and for PostgreSQL, which this module refuses).

Rules:
- An archive is a .tar.gz whose members are named `<part>/<path>` and a `manifest.json` (last).
  The parts are listed in PARTS: the SQLite database, uploaded files (`media/`), the
  classifier's model files (`models/`) and the local keys (`keys/`: the generated Django secret
  key and the field-encryption key, without which restored identities cannot be decrypted).
  The file cache, the collected static files and the analytics warehouse are rebuilt, so they
  are left out (the warehouse notices a restored database and rebuilds itself whole).
- Consistent while the system runs: the database is copied with SQLite's online backup API from
  a read-only connection (one read transaction, so a snapshot even in WAL mode), never by copying
  the live file; counts and the applied migrations are read from that copy. Files are copied
  after the snapshot: every attachment the snapshot names was written before its row committed.
- The manifest holds the format version, GovCRM's version, the UTC time, the applied
  migrations, counts of cases and attachments, and the size and SHA-256 of every file.
- Restore writes nothing before the whole archive is checked: every member is extracted into a
  staging folder while its SHA-256 is computed, and only when every name is safe (relative, no
  `..`, regular files only), every file is in the manifest and every checksum matches are the
  files moved into place. An existing database is replaced only when forced, and is then kept
  beside as `<name>.replaced-<UTC time>`; stale `-wal`/`-shm` files are removed with it.
- PostgreSQL (DATABASE_URL) is refused: pg_dump does that job (docs/backup.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = "database/govcrm.sqlite3"
# Local key files written by config/settings/local.py, by archive name.
KEY_FILES = {"keys/secret_key": ".secret_key", "keys/field_key": ".field_key"}
PARTS = ("database", "media", "models", "keys")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for the operator, in their language."""


@dataclass(frozen=True)
class Layout:
    """Where each part lives on this machine."""

    home: Path
    database: Path
    media: Path
    models: Path

    @classmethod
    def from_settings(cls) -> Layout:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.sqlite3":
            raise BackupError(_(
                "The database is not the embedded SQLite database (DATABASE_URL is set): back it up with "
                "pg_dump and copy the media, models and keys as described in docs/backup.md."
            ))
        home = Path(settings.GOVCRM_HOME)
        return cls(home=home, database=Path(db["NAME"]), media=Path(settings.MEDIA_ROOT), models=home / "models")

    def target(self, member: str) -> Path:
        """The file a (checked) archive member is restored to."""
        part, _sep, rest = member.partition("/")
        if not rest:
            raise BackupError(_("The archive holds an unexpected member: %(name)s.") % {"name": member})
        if member == DATABASE_MEMBER:
            return self.database
        if member in KEY_FILES:
            return self.home / KEY_FILES[member]
        if part == "media":
            return self.media.joinpath(*PurePosixPath(rest).parts)
        if part == "models":
            return self.models.joinpath(*PurePosixPath(rest).parts)
        raise BackupError(_("The archive holds an unexpected member: %(name)s.") % {"name": member})


@dataclass(frozen=True)
class Summary:
    path: Path
    cases: int
    attachments: int
    files: int
    manifest: dict


def key_fingerprint(key: str) -> str:
    """A short digest that tells whether two keys are the same, without revealing either."""
    return hashlib.sha256(b"govcrm-backup-key-fingerprint\x00" + key.encode()).hexdigest()[:16]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_output(layout: Layout) -> Path:
    return layout.home / "backups" / f"govcrm-{_now():%Y%m%dT%H%M%SZ}.tar.gz"


# --- Backup -----------------------------------------------------------------------------------------


def _snapshot(source: Path, copy: Path) -> None:
    """Copy the live database with SQLite's online backup API (a consistent snapshot, WAL included)."""
    if not source.exists():
        raise BackupError(_("There is no database at %(path)s: nothing to back up.") % {"path": source})
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one point in time
    finally:
        dst.close()
        src.close()


def _facts(copy: Path) -> dict:
    """Applied migrations and counts, read from the snapshot (so they describe exactly what is in it)."""
    from govcrm.cases.models import Case
    from govcrm.channels.models import Attachment

    con = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
    try:
        migrations = [f"{app}.{name}" for app, name in
                      con.execute("SELECT app, name FROM django_migrations ORDER BY id")]
        counts = {
            "cases": con.execute(f'SELECT COUNT(*) FROM "{Case._meta.db_table}"').fetchone()[0],  # noqa: S608
            "attachments": con.execute(f'SELECT COUNT(*) FROM "{Attachment._meta.db_table}"').fetchone()[0],  # noqa: S608
        }
    except sqlite3.DatabaseError as e:
        raise BackupError(_("The database cannot be read as a GovCRM database: %(error)s") % {"error": e}) from e
    finally:
        con.close()
    return {"migrations": migrations, "counts": counts}


def _files(root: Path, part: str) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield f"{part}/{path.relative_to(root).as_posix()}", path


class _HashingReader:
    """Reads a file for tarfile while computing its SHA-256."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mtime = int(path.stat().st_mtime)
    info.mode = 0o600
    with path.open("rb") as f:
        reader = _HashingReader(f)
        tar.addfile(info, reader)  # type: ignore[arg-type]  # tarfile only calls read()
    return {"path": name, "size": info.size, "sha256": reader.sha.hexdigest()}


def backup_create(*, layout: Layout, output: Path | None = None) -> Summary:
    """Write one archive of the database, media, models and local keys; return what it holds."""
    output = output or default_output(layout)
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    files: list[dict] = []
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".govcrm-backup-") as tmp:
        copy = Path(tmp) / "govcrm.sqlite3"
        _snapshot(layout.database, copy)
        facts = _facts(copy)
        # The archive holds the keys: readable by its owner only, from the first byte on.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            files.append(_add(tar, DATABASE_MEMBER, copy))
            for name, path in [*_files(layout.media, "media"), *_files(layout.models, "models")]:
                files.append(_add(tar, name, path))
            keys: dict = {}
            for name, filename in KEY_FILES.items():
                path = layout.home / filename
                if path.is_file():
                    files.append(_add(tar, name, path))
            # With GOVCRM_FIELD_KEY set, a leftover key file is not the key in use: say it is not in the archive.
            key_file = layout.home / KEY_FILES["keys/field_key"]
            keys["field_key_in_archive"] = (key_file.is_file()
                                            and key_file.read_text().strip() == settings.GOVCRM_FIELD_KEY)
            keys["field_key_fingerprint"] = key_fingerprint(settings.GOVCRM_FIELD_KEY)
            manifest = {
                "format": FORMAT,
                "govcrm_version": _version(),
                "created_at": _now().isoformat(timespec="seconds"),
                "parts": {
                    "database": {"engine": "sqlite", "member": DATABASE_MEMBER},
                    "media": {"root": "media/"},
                    "models": {"root": "models/"},
                    "keys": keys,
                },
                "migrations": facts["migrations"],
                "counts": facts["counts"],
                "files": files,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(_now().timestamp())
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    os.replace(partial, output)
    return Summary(path=output, cases=facts["counts"]["cases"], attachments=facts["counts"]["attachments"],
                   files=len(files), manifest=manifest)


def _version() -> str:
    try:
        return metadata.version("govcrm")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- Restore ----------------------------------------------------------------------------------------


def safe_member_name(name: str) -> str:
    """The member's name if it is a plain relative path inside the archive, else BackupError."""
    path = PurePosixPath(name)
    if (not name or "\\" in name or "\x00" in name or path.is_absolute() or name.startswith("/")
            or any(p in ("..", ".", "") for p in name.split("/"))):
        raise BackupError(_("The archive holds an unsafe member name: %(name)s. Nothing was restored.")
                          % {"name": name})
    return name


def _extract(archive: Path, staging: Path) -> tuple[dict, dict[str, str]]:
    """Every member into `staging` with its SHA-256; the manifest. Refuses unsafe or odd members."""
    digests: dict[str, str] = {}
    manifest: dict | None = None
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                name = safe_member_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():  # links, devices, fifos: never in our archives
                    raise BackupError(_("The archive holds an unsafe member name: %(name)s. Nothing was restored.")
                                      % {"name": name})
                if name in digests or (name == MANIFEST and manifest is not None):
                    raise BackupError(_("The archive holds %(name)s twice.") % {"name": name})
                f = tar.extractfile(member)
                assert f is not None  # noqa: S101  # a regular file always has a reader
                if name == MANIFEST:
                    manifest = json.loads(f.read().decode())
                    continue
                target = staging.joinpath(*PurePosixPath(name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := f.read(CHUNK):
                        sha.update(chunk)
                        out.write(chunk)
                digests[name] = sha.hexdigest()
    except (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError, ValueError) as e:
        raise BackupError(_("The archive cannot be read (%(error)s). Nothing was restored.") % {"error": e}) from e
    if not isinstance(manifest, dict):
        raise BackupError(_("The archive has no manifest. Nothing was restored."))
    return manifest, digests


def _verify(manifest: dict, digests: dict[str, str], known_migrations: set[str] | None) -> None:
    if manifest.get("format") != FORMAT:
        raise BackupError(_("The archive's format %(format)s is not supported by this version of GovCRM.")
                          % {"format": manifest.get("format")})
    listed = {f["path"]: f["sha256"] for f in manifest.get("files", [])}
    for name in listed:
        safe_member_name(name)
    bad = sorted(n for n in listed.keys() | digests.keys() if listed.get(n) != digests.get(n))
    if bad:
        raise BackupError(_("The archive is damaged or was changed: %(files)s does not match its manifest. "
                            "Nothing was restored.") % {"files": ", ".join(bad[:5])})
    if DATABASE_MEMBER not in listed:
        raise BackupError(_("The archive has no database. Nothing was restored."))
    if known_migrations is not None:
        unknown = [m for m in manifest.get("migrations", []) if m not in known_migrations]
        if unknown:
            raise BackupError(_("The backup was made by a newer GovCRM (migrations unknown here: %(names)s). "
                                "Upgrade GovCRM first. Nothing was restored.") % {"names": ", ".join(unknown[:5])})


def database_exists(layout: Layout) -> bool:
    return layout.database.is_file() and layout.database.stat().st_size > 0


def restore_archive(*, archive: Path, layout: Layout, force: bool = False,
                    known_migrations: set[str] | None = None) -> dict:
    """Check the whole archive, then put its files in place. Returns the manifest.

    The caller migrates afterwards (an older backup has an older schema). Nothing is written
    outside the staging folder unless every check passed.
    """
    if database_exists(layout) and not force:
        raise BackupError(_("A database already exists at %(path)s. Restore with --force to replace it "
                            "(it is kept beside as a .replaced file).") % {"path": layout.database})
    if not archive.is_file():
        raise BackupError(_("There is no archive at %(path)s.") % {"path": archive})
    layout.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=layout.home, prefix=".govcrm-restore-") as tmp:
        staging = Path(tmp)
        manifest, digests = _extract(archive, staging)
        _verify(manifest, digests, known_migrations)
        targets = {name: layout.target(name) for name in digests}  # refuses members of unknown parts
        if database_exists(layout):
            stamp = f"{_now():%Y%m%dT%H%M%SZ}"
            layout.database.replace(layout.database.with_name(f"{layout.database.name}.replaced-{stamp}"))
        for suffix in ("-wal", "-shm", "-journal"):  # a stale log would be replayed into the new file
            layout.database.with_name(layout.database.name + suffix).unlink(missing_ok=True)
        for name, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging.joinpath(*PurePosixPath(name).parts), target)
            if name in KEY_FILES:
                target.chmod(0o600)
    return manifest


def restored_key_warning(manifest: dict, layout: Layout) -> str | None:
    """A warning when the field key now in use is not the one the backup's identities were encrypted with."""
    keys = manifest.get("parts", {}).get("keys", {})
    expected = keys.get("field_key_fingerprint")
    path = layout.home / KEY_FILES["keys/field_key"]
    current = os.environ.get("GOVCRM_FIELD_KEY") or (path.read_text().strip() if path.is_file() else "")
    if expected and key_fingerprint(current) != expected:
        return _("The field-encryption key in use is not the one this backup was made with: phone and ID "
                 "numbers will not decrypt. Set GOVCRM_FIELD_KEY to the key of the backed-up system "
                 "(see docs/backup.md).")
    return None
