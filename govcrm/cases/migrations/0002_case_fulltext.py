"""Full-text index of cases (see govcrm/cases/search.py for the rules).

SQLite: an external-content FTS5 table kept in step with cases_case by triggers.
PostgreSQL: a generated text[] column of the terms with a GIN index.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE cases_case_fts USING fts5(search_text, content='cases_case', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF search_text ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO cases_case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_case_fts_au",
    "DROP TRIGGER IF EXISTS cases_case_fts_ad",
    "DROP TRIGGER IF EXISTS cases_case_fts_ai",
    "DROP TABLE IF EXISTS cases_case_fts",
]
PG_FORWARD = [
    "ALTER TABLE cases_case ADD COLUMN search_tokens text[] "
    "GENERATED ALWAYS AS (string_to_array(search_text, ' ')) STORED",
    "CREATE INDEX cases_case_search_tokens_gin ON cases_case USING gin (search_tokens)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS cases_case_search_tokens_gin",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS search_tokens",
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
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
