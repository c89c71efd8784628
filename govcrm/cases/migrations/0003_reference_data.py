"""Reference data: the three-level category tree and the default deadline policies.

The tree's first level follows the sixteen first-level classes common in Chinese 12345
practice, so that a dispatch classifier trained on real messages maps onto it.
Default time limits (working hours / working days) per urgency, editable in the admin:
normal 4 h to accept, 16 h to contact, 5 days to reply; urgent 2 h / 4 h / 2 days;
critical 1 h / 2 h / 1 day.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "categories.json"
DEFAULTS = [("normal", 4, 16, 5), ("urgent", 2, 4, 2), ("critical", 1, 2, 1)]


def load(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    DeadlinePolicy = apps.get_model("cases", "DeadlinePolicy")
    by_code = {}
    for row in json.loads(DATA.read_text(encoding="utf-8")):
        parent = by_code.get(row["parent"])
        level = 1 if parent is None else parent.level + 1
        by_code[row["code"]] = Category.objects.create(
            code=row["code"], parent=parent, level=level, name_zh=row["name_zh"], name_en=row["name_en"]
        )
    for urgency, accept, contact, reply in DEFAULTS:
        DeadlinePolicy.objects.create(category=None, urgency=urgency, accept_hours=accept,
                                      contact_hours=contact, reply_days=reply)


def unload(apps, schema_editor):
    apps.get_model("cases", "DeadlinePolicy").objects.filter(category=None).delete()
    Category = apps.get_model("cases", "Category")
    for level in (3, 2, 1):
        Category.objects.filter(level=level).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_fulltext")]
    operations = [migrations.RunPython(load, unload)]
