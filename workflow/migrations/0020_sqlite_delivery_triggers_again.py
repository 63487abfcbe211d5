"""On SQLite, 0018's AlterField of Delivery.unit and 0019's new column rebuilt workflow_delivery (SQLite cannot alter a
column in place: Django copies the table), and a rebuilt table has lost its triggers. This puts back
0011's SQLite triggers of workflow_delivery. PostgreSQL alters in place and keeps them: nothing to do.

A later migration that alters a frozen table's column must do the same; the embedded-default test in
tests/workflow/test_frozen_records.py fails until it does.
"""

import importlib

from django.db import migrations

FROZEN = importlib.import_module("workflow.migrations.0011_receipts_and_signed_facts_are_frozen")


def _delivery_triggers() -> list[str]:
    return [statement for statement in FROZEN._sqlite() if " ON workflow_delivery" in statement]


def recreate(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _delivery_triggers():
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0019_delivery_urgency")]
    operations = [migrations.RunPython(recreate, migrations.RunPython.noop)]
