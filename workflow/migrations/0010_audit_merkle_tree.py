"""The audit log's Merkle tree: the hashes of its complete subtrees (workflow.audit_tree), refused
UPDATE, DELETE and TRUNCATE like the events themselves (migration 0002's function)."""

from django.db import migrations, models

POSTGRES = """
CREATE TRIGGER merkle_node_no_update_or_delete BEFORE UPDATE OR DELETE ON workflow_merklenode
    FOR EACH ROW EXECUTE FUNCTION workflow_audit_append_only();
CREATE TRIGGER merkle_node_no_truncate BEFORE TRUNCATE ON workflow_merklenode
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_audit_append_only();
"""
SQLITE = [
    f"""CREATE TRIGGER merkle_node_no_{op.lower()} BEFORE {op} ON workflow_merklenode
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"""
    for op in ("UPDATE", "DELETE")
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in ("merkle_node_no_update_or_delete", "merkle_node_no_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON workflow_merklenode")
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0009_four_eyes")]

    operations = [
        migrations.CreateModel(
            name="MerkleNode",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "level", "index", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={
                "verbose_name": "默克尔树节点",
                "verbose_name_plural": "默克尔树节点",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
