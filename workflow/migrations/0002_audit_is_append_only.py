"""The database refuses UPDATE, DELETE and TRUNCATE on audit events.

A table owner can still disable triggers, and `session_replication_role = replica` skips them: in
production the application's role must not own this table. `verify_audit` trusts none of this and
recomputes the hash chain.
"""

from django.db import migrations

POSTGRES = """
CREATE FUNCTION workflow_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER audit_event_no_update_or_delete BEFORE UPDATE OR DELETE ON workflow_auditevent
    FOR EACH ROW EXECUTE FUNCTION workflow_audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON workflow_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_audit_append_only();
"""

SQLITE = [
    f"""CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON workflow_auditevent
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
        schema_editor.execute("DROP FUNCTION workflow_audit_append_only() CASCADE;")
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
