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
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return [
        "DROP TRIGGER IF EXISTS document_issued_is_frozen",
        f"""CREATE TRIGGER document_issued_is_frozen BEFORE UPDATE ON documents_document
        WHEN OLD.state = 'issued' AND ({changed})
        BEGIN SELECT RAISE(ABORT, 'issued document is frozen'); END""",
    ]


def _trigger_on(columns: list[str]):
    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_postgres(columns), params=None)
        elif schema_editor.connection.vendor == "sqlite":
            for statement in _sqlite(columns):
                schema_editor.execute(statement)

    return create


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_imported_source")]
    operations = [
        migrations.AddField(
            model_name="document",
            name="title_breaks",
            field=models.JSONField(blank=True, default=list, verbose_name="标题回行"),
        ),
        migrations.RunPython(_trigger_on(FROZEN), _trigger_on(_0003.FROZEN)),
    ]
