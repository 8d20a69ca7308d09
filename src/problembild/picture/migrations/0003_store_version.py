"""The store version and the triggers that raise it on every change to stored incidents."""

import uuid

from django.db import migrations, models

SQLITE = [
    # Row triggers (SQLite has no others); only the columns the refresh reads count.
    """CREATE TRIGGER IF NOT EXISTS picture_storeversion_on_update
       AFTER UPDATE OF id, source, occurred_at, indicator, x, y, area_id, area_match, synthetic
       ON incidents_incident
       WHEN EXISTS (SELECT 1 FROM picture_storeversion WHERE NOT changed)
       BEGIN UPDATE picture_storeversion SET version = version + 1, changed = 1; END""",
    """CREATE TRIGGER IF NOT EXISTS picture_storeversion_on_delete AFTER DELETE ON incidents_incident
       WHEN EXISTS (SELECT 1 FROM picture_storeversion WHERE NOT changed)
       BEGIN UPDATE picture_storeversion SET version = version + 1, changed = 1; END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS picture_storeversion_on_update",
    "DROP TRIGGER IF EXISTS picture_storeversion_on_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION picture_storeversion_raise() RETURNS trigger AS $$
       BEGIN UPDATE picture_storeversion SET version = version + 1, changed = TRUE; RETURN NULL; END;
       $$ LANGUAGE plpgsql""",
    # Statement triggers: one raise per statement, however many rows it changes.
    """CREATE TRIGGER picture_storeversion_on_change
       AFTER UPDATE OR DELETE OR TRUNCATE ON incidents_incident
       FOR EACH STATEMENT EXECUTE FUNCTION picture_storeversion_raise()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS picture_storeversion_on_change ON incidents_incident",
    "DROP FUNCTION IF EXISTS picture_storeversion_raise()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


def first_row(apps, schema_editor):
    apps.get_model("picture", "StoreVersion").objects.using(schema_editor.connection.alias).create(
        token=uuid.uuid4().hex
    )


class Migration(migrations.Migration):
    dependencies = [("picture", "0002_refresh_run_status"), ("incidents", "0003_approximate_feed_index")]

    operations = [
        migrations.CreateModel(
            name="StoreVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
                ("version", models.BigIntegerField(default=0)),
                ("changed", models.BooleanField(default=False)),
            ],
        ),
        migrations.RunPython(first_row, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
