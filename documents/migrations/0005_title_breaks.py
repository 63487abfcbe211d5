"""A document keeps the line breaks of its imported title (Document.title_breaks), frozen at issue.

The frozen-document trigger of 0003 is re-created with the new column in its list.
"""

import importlib

from django.db import migrations, models

_0003 = importlib.import_module("documents.migrations.0003_issued_documents_are_frozen")
FROZEN = [*_0003.FROZEN, "title_breaks"]


def _postgres(columns: list[str]) -> str:
    return f"""
DROP TRIGGER document_issued_is_frozen ON documents_document;
CREATE TRIGGER document_issued_is_frozen BEFORE UPDATE ON documents_document FOR EACH ROW
    WHEN (OLD.state = 'issued' AND ({", ".join("OLD." + c for c in columns)}) IS DISTINCT FROM ({", ".join("NEW." + c for c in columns)}))
    EXECUTE FUNCTION documents_refuse_issued_change();
"""


def _sqlite(columns: list[str]) -> list[str]:
    """0003's SQLite triggers, the document's with these columns."""
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return [
        f"""CREATE TRIGGER document_issued_is_frozen BEFORE UPDATE ON documents_document
        WHEN OLD.state = 'issued' AND ({changed})
        BEGIN SELECT RAISE(ABORT, 'issued document is frozen'); END""",
        *_0003.SQLITE[1:],
    ]


def _sqlite_trigger_names() -> list[str]:
    return [statement.split()[2] for statement in _0003.SQLITE]


def _drop_sqlite_triggers(apps, schema_editor):
    """SQLite adds the column by rebuilding documents_document (a copy renamed into place), which the
    triggers that name the table refuse: they go first and come back after (_trigger_on)."""
    if schema_editor.connection.vendor == "sqlite":
        for name in _sqlite_trigger_names():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def _trigger_on(columns: list[str]):
    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_postgres(columns), params=None)
        elif schema_editor.connection.vendor == "sqlite":
            for statement in _sqlite(columns):
                schema_editor.execute(statement)

    return create


def _before_removing(apps, schema_editor):
    """Backwards: PostgreSQL's trigger forgets the column before it is dropped; SQLite's go."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_postgres(_0003.FROZEN), params=None)
    _drop_sqlite_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_imported_source")]
    operations = [
        migrations.RunPython(_drop_sqlite_triggers, _trigger_on(_0003.FROZEN)),
        migrations.AddField(
            model_name="document",
            name="title_breaks",
            field=models.JSONField(blank=True, default=list, verbose_name="标题回行"),
        ),
        migrations.RunPython(_trigger_on(FROZEN), _before_removing),
    ]
