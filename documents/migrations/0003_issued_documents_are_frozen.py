"""The database refuses to change an issued document, its attachments or its enclosures.

Services refuse first, with a clear message; this is the backstop for everything else (the admin, a
shell, a bug). The content digest then still matches what was issued.
"""

from django.db import migrations

# Every column fixed at issue: the content elements (documents.digest.CONTENT_FIELDS, copied here
# because a migration must not change when the code does), the number, the digest and the issue.
FROZEN = [
    "issuer_mark",
    "kind",
    "copy_number",
    "classification",
    "classification_period",
    "urgency",
    "signatory",
    "title",
    "main_recipients_text",
    "cc_text",
    "body",
    "attachment_note",
    "signature_organ",
    "written_on",
    "seal_note",
    "annotation",
    "printing_organ",
    "printed_on",
    "page_count",
    "telegram_send_to",
    "telegram_approval_office",
    "telegram_approver",
    "telegram_seal",
    "issuing_unit_id",
    "number_prefix",
    "number_year",
    "number_serial",
    "digest",
    "state",
    "issued_at",
    "issued_by_id",
]

POSTGRES = f"""
CREATE FUNCTION documents_refuse_issued_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued document % is frozen: % refused', OLD.id, TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER document_issued_is_frozen BEFORE UPDATE ON documents_document FOR EACH ROW
    WHEN (OLD.state = 'issued' AND ({", ".join("OLD." + c for c in FROZEN)}) IS DISTINCT FROM ({", ".join("NEW." + c for c in FROZEN)}))
    EXECUTE FUNCTION documents_refuse_issued_change();
CREATE TRIGGER document_issued_is_kept BEFORE DELETE ON documents_document FOR EACH ROW
    WHEN (OLD.state = 'issued') EXECUTE FUNCTION documents_refuse_issued_change();

CREATE FUNCTION documents_refuse_part_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner_id bigint;
BEGIN
    IF TG_TABLE_NAME = 'documents_attachment' THEN
        owner_id := CASE WHEN TG_OP = 'INSERT' THEN NEW.document_id ELSE OLD.document_id END;
    ELSE
        owner_id := CASE WHEN TG_OP = 'INSERT' THEN NEW.cover_id ELSE OLD.cover_id END;
    END IF;
    IF EXISTS (SELECT 1 FROM documents_document WHERE id = owner_id AND state = 'issued') THEN
        RAISE EXCEPTION 'document % is issued: % on % refused', owner_id, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER attachment_of_issued_is_frozen BEFORE INSERT OR UPDATE OR DELETE ON documents_attachment
    FOR EACH ROW EXECUTE FUNCTION documents_refuse_part_change();
CREATE TRIGGER enclosure_of_issued_is_frozen BEFORE INSERT OR UPDATE OR DELETE ON documents_enclosure
    FOR EACH ROW EXECUTE FUNCTION documents_refuse_part_change();
"""

_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
SQLITE = [
    f"""CREATE TRIGGER document_issued_is_frozen BEFORE UPDATE ON documents_document
        WHEN OLD.state = 'issued' AND ({_changed})
        BEGIN SELECT RAISE(ABORT, 'issued document is frozen'); END""",
    """CREATE TRIGGER document_issued_is_kept BEFORE DELETE ON documents_document WHEN OLD.state = 'issued'
        BEGIN SELECT RAISE(ABORT, 'issued document is frozen'); END""",
    *(
        f"""CREATE TRIGGER {table}_{op.lower()}_frozen BEFORE {op} ON documents_{table}
            WHEN (SELECT state FROM documents_document WHERE id = {row}.{column}) = 'issued'
            BEGIN SELECT RAISE(ABORT, 'document is issued'); END"""
        for table, column in (("attachment", "document_id"), ("enclosure", "cover_id"))
        for op, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))
    ),
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION documents_refuse_issued_change() CASCADE; DROP FUNCTION documents_refuse_part_change() CASCADE;"
        )
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
