"""`govcrm backup` and `govcrm restore` as an operator runs them: subprocesses on real $GOVCRM_HOME
folders (the embedded SQLite default, whatever DATABASE_URL the suite itself runs with), plus the
archive checks of govcrm/common/backup.py in-process on hand-made archives."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from django.utils import translation

from govcrm.common import backup

ROOT = Path(__file__).resolve().parents[3]
MARK = "BACKUP-TEST-JSON:"

pytestmark = pytest.mark.slow

MAKE_CASES = """
import json
from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.channels.uploads import CleanFile
from govcrm.citizens.actions import citizen_input_clean
for i in range(3):
    intake_receive(IntakeMessage(
        channel="portal", text=f"和平街{i}号路灯不亮", external_id=f"backup-test-{i}",
        citizen=citizen_input_clean(name="张三", phone=f"+86138001380{i:02d}"),
        attachments=(CleanFile(name=f"photo{i}.jpg", content_type="image/jpeg", data=bytes([i]) * 5000),),
    ))
"""

# Everything a restored system must still have: cases, attachment bytes, decrypted phone numbers.
INVENTORY = f"""
import hashlib, json
from govcrm.cases.models import Case
from govcrm.channels.models import Attachment
from govcrm.citizens import identities
from govcrm.citizens.queries import citizen_view
from govcrm.organization.models import Role
from govcrm.organization.queries import Actor
admin = Actor(user_id=None, username="backup-test", role=Role.ADMIN, unit_id=None, unit_path="/")
cases = {{c.number: citizen_view(c.citizen, admin).identities.get(identities.PHONE) if c.citizen else None
         for c in Case.objects.select_related("citizen")}}
files, damaged = {{}}, []
for a in Attachment.objects.all():
    with a.file.open("rb") as f:
        files[a.file.name] = hashlib.sha256(f.read()).hexdigest()
    if files[a.file.name] != a.sha256:
        damaged.append(a.file.name)
print("{MARK}" + json.dumps({{"cases": cases, "files": files, "damaged": damaged}}))
"""

# Cases with attachments arriving, as on a busy day, until told to stop (a file); a file once started.
WRITER = """
import os, time
from pathlib import Path
from govcrm.channels.intake import IntakeMessage, intake_receive
from govcrm.channels.uploads import CleanFile
stop, end, n = Path(os.environ["BACKUP_TEST_STOP"]), time.monotonic() + 120, 0
while not stop.exists() and time.monotonic() < end:
    intake_receive(IntakeMessage(
        channel="portal", text=f"live {n}", external_id=f"live-{n}",
        attachments=(CleanFile(name=f"live{n}.jpg", content_type="image/jpeg", data=n.to_bytes(4) * 2000),),
    ))
    n += 1
    if n == 1:
        Path(os.environ["BACKUP_TEST_STARTED"]).write_text("started")
"""


def embedded_env(home: Path, **extra: str) -> dict[str, str]:
    """The embedded default's environment on `home`, as `make run` has it, whatever this suite runs on."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "GOVCRM_FIELD_KEY", "DJANGO_SECRET_KEY", "GOVCRM_CACHE")}
    return {**env, "GOVCRM_HOME": str(home), "DJANGO_SETTINGS_MODULE": "config.settings.local", **extra}


def govcrm(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `govcrm ARGS` on `home`."""
    return subprocess.run([sys.executable, "-m", "govcrm", *args], cwd=ROOT,  # noqa: S603
                          env=embedded_env(home, **(env or {})), capture_output=True, text=True, timeout=120,
                          check=False)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def inventory(home: Path) -> dict:
    out = ok(govcrm(home, "shell", "-c", INVENTORY))
    return json.loads(out.split(MARK, 1)[1])


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, Path, dict]:
    """A running system's home with three cases and their attachments, and a backup of it."""
    home = tmp_path_factory.mktemp("source")
    ok(govcrm(home, "migrate", "-v", "0"))
    ok(govcrm(home, "shell", "-c", MAKE_CASES))
    archive = home / "backup.tar.gz"
    ok(govcrm(home, "backup", "--output", str(archive)))
    return home, archive, inventory(home)


def test_a_backup_restored_into_a_fresh_home_has_every_case_and_attachment(source, tmp_path):
    home, archive, expected = source
    assert len(expected["cases"]) == 3 and len(expected["files"]) == 3
    assert all(phone and phone.startswith("+86138001380") for phone in expected["cases"].values())
    fresh = tmp_path / "fresh"
    ok(govcrm(fresh, "restore", str(archive)))
    assert inventory(fresh) == expected  # numbers, bytes of each file, and phone numbers decrypted
    assert expected["damaged"] == []
    assert (fresh / ".field_key").read_text() == (home / ".field_key").read_text()
    assert oct((fresh / ".field_key").stat().st_mode & 0o777) == "0o600"


def test_a_backup_taken_while_cases_arrive_is_consistent(source, tmp_path):
    home, _archive, _expected = source
    started, stop = tmp_path / "started", tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-m", "govcrm", "shell", "-c", WRITER], cwd=ROOT,  # noqa: S603
                              env=embedded_env(home, BACKUP_TEST_STARTED=str(started), BACKUP_TEST_STOP=str(stop)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), writer.stderr.read() if writer.poll() is not None else "writer did not start"
        live = tmp_path / "live.tar.gz"
        ok(govcrm(home, "backup", "--output", str(live)))
        assert writer.poll() is None, "the backup must have run while cases were arriving"
    finally:
        stop.write_text("stop")
        _out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    with tarfile.open(live) as tar:
        manifest = json.load(tar.extractfile(backup.MANIFEST))
    fresh = tmp_path / "fresh"
    ok(govcrm(fresh, "restore", str(live)))
    restored = inventory(fresh)  # reads every attachment's file: a missing one fails here
    assert restored["damaged"] == []
    assert len(restored["cases"]) == manifest["counts"]["cases"] > 3
    assert len(restored["files"]) == manifest["counts"]["attachments"]
    with sqlite3.connect(fresh / "govcrm.sqlite3") as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_manifest_lists_every_file_with_its_checksum(source):
    _home, archive, _expected = source
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile(backup.MANIFEST))
        members = {m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                   for m in tar if m.name != backup.MANIFEST}
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == members
    assert manifest["format"] == backup.FORMAT
    assert manifest["counts"] == {"cases": 3, "attachments": 3}
    assert "cases.0001_initial" in manifest["migrations"]
    assert {"database/govcrm.sqlite3", "keys/field_key", "keys/secret_key"} <= members.keys()
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds the keys


def test_restore_refuses_to_replace_a_database_without_force(source, tmp_path):
    _home, archive, expected = source
    target = tmp_path / "target"
    ok(govcrm(target, "restore", str(archive)))
    refused = govcrm(target, "restore", str(archive))
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    assert not list(target.glob("govcrm.sqlite3.replaced-*"))
    ok(govcrm(target, "restore", "--force", str(archive)))
    assert len(list(target.glob("govcrm.sqlite3.replaced-*"))) == 1  # the replaced one is kept beside
    assert sorted(inventory(target)["cases"]) == sorted(expected["cases"])


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy `archive` to `out`, letting `change(name, data)` alter each member's bytes."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


def test_a_changed_archive_restores_nothing(source, tmp_path):
    _home, archive, _expected = source
    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(archive, tampered, lambda name, data: b"!" + data[1:] if name.startswith("media/") else data)
    fresh = tmp_path / "fresh"
    refused = govcrm(fresh, "restore", str(tampered))
    assert refused.returncode != 0
    assert "media/attachments/" in refused.stderr
    assert not (fresh / "govcrm.sqlite3").exists()
    assert not (fresh / "media").exists()
    assert not list(fresh.glob(".govcrm-restore-*"))  # the staging folder is gone too


def test_postgresql_is_refused_with_a_pointer_to_the_procedure(tmp_path):
    refused = govcrm(tmp_path, "backup", env={"DATABASE_URL": "postgres://backup@127.0.0.1:9/none"})
    assert refused.returncode != 0
    assert "pg_dump" in refused.stderr and "docs/backup.md" in refused.stderr
    assert not (tmp_path / "backups").exists()


# --- Archive checks, in-process on hand-made archives --------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def _layout(home: Path) -> backup.Layout:
    return backup.Layout(home=home, database=home / "govcrm.sqlite3", media=home / "media", models=home / "models")


def _archive(path: Path, members: dict[str, bytes], *, symlink: str | None = None,
             migrations: tuple[str, ...] = ()) -> Path:
    files = [{"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
             for name, data in members.items()]
    manifest = json.dumps({"format": backup.FORMAT, "files": files, "migrations": list(migrations)}).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**members, backup.MANIFEST: manifest}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            link = tarfile.TarInfo(symlink)
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/govcrm-evil.txt", "media/../../evil.txt", "media/./x"])
def test_unsafe_member_names_are_refused_and_nothing_is_written(english, tmp_path, name):
    home = tmp_path / "home"
    archive = _archive(tmp_path / "evil.tar.gz", {backup.DATABASE_MEMBER: b"db", name: b"evil"})
    with pytest.raises(backup.BackupError, match="unsafe member"):
        backup.restore_archive(archive=archive, layout=_layout(home))
    assert not (tmp_path / "evil.txt").exists()
    assert not (home / "govcrm.sqlite3").exists()
    assert list(home.iterdir()) == []


def test_links_and_members_of_unknown_parts_are_refused(english, tmp_path):
    home = tmp_path / "home"
    linked = _archive(tmp_path / "link.tar.gz", {backup.DATABASE_MEMBER: b"db"}, symlink="media/passwd")
    with pytest.raises(backup.BackupError, match="unsafe member"):
        backup.restore_archive(archive=linked, layout=_layout(home))
    odd = _archive(tmp_path / "odd.tar.gz", {backup.DATABASE_MEMBER: b"db", "etc/cron.d/x": b"x"})
    with pytest.raises(backup.BackupError, match="unexpected member"):
        backup.restore_archive(archive=odd, layout=_layout(home))
    assert not (home / "govcrm.sqlite3").exists()


def test_a_member_missing_from_the_manifest_is_refused(english, tmp_path):
    home = tmp_path / "home"
    archive = _archive(tmp_path / "a.tar.gz", {backup.DATABASE_MEMBER: b"db"})
    extra = tmp_path / "extra.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(extra, "w:gz") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
        info = tarfile.TarInfo("media/unlisted.jpg")
        info.size = 1
        dst.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(backup.BackupError, match=re.escape("media/unlisted.jpg")):
        backup.restore_archive(archive=extra, layout=_layout(home))
    assert not (home / "govcrm.sqlite3").exists()


def test_a_backup_from_a_newer_schema_is_refused(english, tmp_path):
    archive = _archive(tmp_path / "a.tar.gz", {backup.DATABASE_MEMBER: b"db"},
                       migrations=("cases.0001_initial", "cases.9999_future"))
    home = tmp_path / "home"
    with pytest.raises(backup.BackupError, match=re.escape("cases.9999_future")):
        backup.restore_archive(archive=archive, layout=_layout(home), known_migrations={"cases.0001_initial"})
    assert not (home / "govcrm.sqlite3").exists()
    backup.restore_archive(archive=archive, layout=_layout(home),
                           known_migrations={"cases.0001_initial", "cases.9999_future"})
    assert (home / "govcrm.sqlite3").read_bytes() == b"db"


def test_a_different_field_key_is_warned_about(english, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".field_key").write_text("the-key-of-the-backed-up-system")
    manifest = {"parts": {"keys": {"field_key_fingerprint": backup.key_fingerprint("the-key-of-the-backed-up-system")}}}
    monkeypatch.delenv("GOVCRM_FIELD_KEY", raising=False)
    assert backup.restored_key_warning(manifest, _layout(home)) is None
    monkeypatch.setenv("GOVCRM_FIELD_KEY", "another-key")
    assert "GOVCRM_FIELD_KEY" in backup.restored_key_warning(manifest, _layout(home))


def test_refusals_speak_the_callers_language(tmp_path):
    archive = _archive(tmp_path / "evil.tar.gz", {"../evil": b"x"})
    for language, word in (("en", "unsafe"), ("zh-hans", "不安全")):
        with translation.override(language), pytest.raises(backup.BackupError, match=word):
            backup.restore_archive(archive=archive, layout=_layout(tmp_path / "home"))
