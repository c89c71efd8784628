"""Repair citizens whose kind was overwritten by the kind of their last identity (citizen_input_clean
reused the name `kind` in its loop): an identity kind becomes `enterprise` for a credit code and
`person` for every other (phone, ID card, e-mail, WeChat). Idempotent."""

from django.db import migrations
from django.db.models import Case, Value, When


def repair(apps, schema_editor):
    Citizen = apps.get_model("citizens", "Citizen")
    Citizen.objects.exclude(kind__in=["person", "enterprise"]).update(
        kind=Case(When(kind="credit_code", then=Value("enterprise")), default=Value("person")))


class Migration(migrations.Migration):
    dependencies = [("citizens", "0001_initial")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
