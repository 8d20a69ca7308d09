"""Database triggers that make the access log append-only, whatever client writes to it."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_accesslogentry_no_update BEFORE UPDATE ON core_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_accesslogentry_no_delete BEFORE DELETE ON core_accesslogentry
       BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_accesslogentry_no_update",
    "DROP TRIGGER IF EXISTS core_accesslogentry_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_accesslogentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the access log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_accesslogentry_append_only BEFORE UPDATE OR DELETE ON core_accesslogentry
       FOR EACH ROW EXECUTE FUNCTION core_accesslogentry_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS core_accesslogentry_append_only ON core_accesslogentry",
    "DROP FUNCTION IF EXISTS core_accesslogentry_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
