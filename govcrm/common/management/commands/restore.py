"""`govcrm restore FILE [--force]`: put a `govcrm backup` archive back into $GOVCRM_HOME.

Every file of the archive is checked against its manifest (SHA-256) before anything is written;
an unsafe member name (absolute, `..`, a link) refuses the whole archive. An existing database is
only replaced with --force (and kept beside as `<name>.replaced-<UTC time>`). Afterwards the
database is migrated, so that an older backup reaches the current schema. Stop the web processes
and the worker first. PostgreSQL is refused: see docs/backup.md for pg_restore.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from govcrm.common import backup


class Command(BaseCommand):
    help = "Restore a backup archive into $GOVCRM_HOME (checked first), then migrate."
    requires_system_checks: list[str] = []  # nothing may open (and so create) the database before the check

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true", help="replace an existing database")

    def handle(self, *args, **opts):
        known = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
        connections.close_all()  # no open handle on the file about to be replaced
        try:
            layout = backup.Layout.from_settings()
            manifest = backup.restore_archive(archive=opts["archive"], layout=layout, force=opts["force"],
                                              known_migrations=known)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        call_command("migrate", interactive=False, verbosity=0)
        counts = manifest.get("counts", {})
        self.stdout.write(_("Restored the backup of %(created_at)s: %(cases)d cases, %(attachments)d attachments, "
                            "%(files)d files; the database is migrated.") % {
            "created_at": manifest.get("created_at", "?"), "cases": counts.get("cases", 0),
            "attachments": counts.get("attachments", 0), "files": len(manifest.get("files", []))})
        warning = backup.restored_key_warning(manifest, layout)
        if warning:
            self.stderr.write(warning)
        else:
            self.stdout.write(_("Restart the web processes and the worker so that they read the restored keys."))
