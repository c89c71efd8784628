"""Full-text index of article versions (see govcrm/knowledge/search.py for the rules).

SQLite: an external-content FTS5 table kept in step with knowledge_articleversion by triggers.
PostgreSQL: a generated text[] column of the terms with a GIN index. As for cases (ADR 0004).
"""

from django.db import migrations

T = "knowledge_articleversion"
SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {T}_fts USING fts5(search_text, content='{T}', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER {T}_fts_ai AFTER INSERT ON {T} BEGIN "
    f"INSERT INTO {T}_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {T}_fts_ad AFTER DELETE ON {T} BEGIN "
    f"INSERT INTO {T}_fts({T}_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER {T}_fts_au AFTER UPDATE OF search_text ON {T} BEGIN "
    f"INSERT INTO {T}_fts({T}_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {T}_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {T}_fts_au",
    f"DROP TRIGGER IF EXISTS {T}_fts_ad",
    f"DROP TRIGGER IF EXISTS {T}_fts_ai",
    f"DROP TABLE IF EXISTS {T}_fts",
]
PG_FORWARD = [
    f"ALTER TABLE {T} ADD COLUMN search_tokens text[] GENERATED ALWAYS AS (string_to_array(search_text, ' ')) STORED",
    f"CREATE INDEX {T}_search_tokens_gin ON {T} USING gin (search_tokens)",
]
PG_BACKWARD = [
    f"DROP INDEX IF EXISTS {T}_search_tokens_gin",
    f"ALTER TABLE {T} DROP COLUMN IF EXISTS search_tokens",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = SQLITE_FORWARD if vendor == "sqlite" else PG_FORWARD if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = SQLITE_BACKWARD if vendor == "sqlite" else PG_BACKWARD if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
