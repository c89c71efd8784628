"""The "unclassified" leaf where channel intake without a category lands for the dispatcher."""

from django.db import migrations

ROWS = [
    ("other", None, "其他", "Other"),
    ("other.general", "other", "综合", "General"),
    ("other.general.unclassified", "other.general", "待分类", "Unclassified (to be classified)"),
]


def forward(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for code, parent, zh, en in ROWS:
        parent_obj = Category.objects.get(code=parent) if parent else None
        Category.objects.get_or_create(code=code, defaults={
            "parent": parent_obj, "level": code.count(".") + 1, "name_zh": zh, "name_en": en})


def backward(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for code, *_rest in reversed(ROWS):
        Category.objects.filter(code=code).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_reference_data")]
    operations = [migrations.RunPython(forward, backward)]
