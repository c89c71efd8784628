"""`govcrm registry import FILE --kind residents|enterprises --source 公安局户籍科`

Imports a department registry file (CSV or XLSX) whole, or nothing: a file with any bad row is
rejected and the per-row report printed (row, column, problem), with exit status 1.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from govcrm.organization.queries import SYSTEM, actor_for_user

from ...actions import ImportRejected, registry_import
from ...models import RegistryKind


class Command(BaseCommand):
    help = "Import a department registry (residents or enterprises) from a CSV or XLSX file."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import", help="import a file (all rows or none)")
        imp.add_argument("file")
        imp.add_argument("--kind", required=True, choices=RegistryKind.values)
        imp.add_argument("--source", required=True, help="the department the registry comes from")
        imp.add_argument("--user", help="import as this staff account (default: the system)")
        imp.add_argument("--language", default="zh-hans", choices=("zh-hans", "en"),
                         help="language of the report")

    def handle(self, *args, **opts):
        translation.activate(opts["language"])
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = SYSTEM
        if opts["user"]:
            actor = actor_for_user(get_user_model().objects.get(username=opts["user"]))
        try:
            batch = registry_import(actor=actor, data=path.read_bytes(), file_name=path.name, kind=opts["kind"],
                                    source=opts["source"])
        except ImportRejected as err:
            self.stderr.write(err.message)
            for e in err.report:
                self.stderr.write(f"{e.row}\t{e.column}\t{e.message}")
            raise CommandError(err.message, returncode=1) from None
        self.stdout.write(f"import #{batch.pk}: {batch.rows} rows, {batch.created} new, {batch.updated} updated")
