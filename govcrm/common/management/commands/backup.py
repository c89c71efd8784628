"""`govcrm backup [--output FILE]`: one archive of the embedded default, taken while it runs.

The database is copied with SQLite's online backup API, then the uploaded files, the classifier's
models and the local keys are added with a manifest of SHA-256 checksums (govcrm/common/backup.py).
Without --output the archive goes to $GOVCRM_HOME/backups/govcrm-<UTC time>.tar.gz. PostgreSQL is
refused: see docs/backup.md for pg_dump.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from govcrm.common import backup


class Command(BaseCommand):
    help = "Write one archive of the database, uploaded files, models and keys (embedded SQLite default)."
    requires_system_checks: list[str] = []  # a backup must work even when a check would fail

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="archive to write (default: $GOVCRM_HOME/backups/…)")

    def handle(self, *args, **opts):
        try:
            layout = backup.Layout.from_settings()
            summary = backup.backup_create(layout=layout, output=opts["output"])
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(_("Backup written to %(path)s: %(cases)d cases, %(attachments)d attachments, "
                            "%(files)d files.") % {"path": summary.path, "cases": summary.cases,
                                                   "attachments": summary.attachments, "files": summary.files})
        if not summary.manifest["parts"]["keys"]["field_key_in_archive"]:
            self.stderr.write(_("The field-encryption key comes from GOVCRM_FIELD_KEY and is not in the archive: "
                                "keep it safe apart, or the restored phone and ID numbers cannot be decrypted."))
        self.stdout.write(_("The archive holds the keys: keep it as safe as the database."))
