"""The database refuses to change what was signed for and what was sent: receipts, a delivery's signed
facts, notifications' sent facts.

- A receipt (回执) is never updated or deleted (nor truncated).
- A delivery is never deleted. Its dispatch, document, unit, role and creation time never change;
  `signed_at` is set once, by the move to 已签收, and never changes or clears afterwards; `read_at`
  and `read_by`, once set, never change; its state moves only along the transition table.
- A notification is never deleted. Whom, about what and when it told never changes, nor its text;
  `emailed_at`, once set, never changes.

Each refusal names the table and the operation (and on PostgreSQL the row). The services never meet
them: they are the backstop for a shell, a bug or an administrator. As with the audit log (migration
0002), a table owner or a superuser can switch triggers off; `verify_audit` therefore also compares
every receipt with its DELIVERY_SIGNED event (workflow.receipt_audit), which it does not trust the
tables for.

The transition table is copied here, as documents' migration 0003 copies its frozen fields: a
migration must not change when the code does, and a trigger already installed would not follow a
table generated from today's model anyway. tests/workflow/test_frozen_records.py checks that this
copy, and what the installed trigger admits, equal Delivery.TRANSITIONS: a change to the table fails
that test until a new migration replaces the trigger.
"""

from django.db import migrations

# Delivery.TRANSITIONS as of this migration: state -> the states it may move to.
TRANSITIONS = {
    "pending": ("signed", "returned", "recalled"),
    "signed": ("completed", "returned", "recalled_signed"),
    "completed": ("recalled_signed",),
    "returned": (),
    "recalled": (),
    "recalled_signed": (),
}
MOVES = [(source, target) for source, targets in TRANSITIONS.items() for target in targets]
SIGNING_SOURCES = [source for source, target in MOVES if target == "signed"]

# What a delivery is from its creation: what was delivered, to whom, by which dispatch, when.
DELIVERY_IDENTITY = ["dispatch_id", "document_id", "unit_id", "role", "created_at"]
# What a notification told whom, about what and when.
NOTIFICATION_CONTENT = ["user_id", "delivery_id", "kind", "round", "text", "created_at"]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _row(prefix: str, columns: list[str]) -> str:
    return "(" + ", ".join(f'{prefix}."{column}"' for column in columns) + ")"


# (trigger, table, the condition under which an UPDATE is refused, the rule it breaks)
def _update_rules(distinct: str, moves: str) -> list[tuple[str, str, str, str]]:
    """`distinct(a, b)` and `moves` spell "differs" and "(OLD.state, NEW.state) is a move of the
    table" in the vendor's SQL."""
    signing = " OR ".join(f"OLD.state = {_quote(state)}" for state in SIGNING_SOURCES)
    return [
        (
            "delivery_identity_is_frozen",
            "workflow_delivery",
            distinct(_row("OLD", DELIVERY_IDENTITY), _row("NEW", DELIVERY_IDENTITY)),
            "its dispatch, document, unit, role and created_at never change",
        ),
        (
            "delivery_signed_at_is_frozen",
            "workflow_delivery",
            f"{distinct('OLD.signed_at', 'NEW.signed_at')} AND NOT (OLD.signed_at IS NULL AND NEW.state = 'signed' AND ({signing}))",
            "signed_at is set by the move to signed only, and never changes or clears",
        ),
        (
            "delivery_reading_is_frozen",
            "workflow_delivery",
            f"(OLD.read_at IS NOT NULL AND {distinct('OLD.read_at', 'NEW.read_at')}) "
            f"OR (OLD.read_by_id IS NOT NULL AND {distinct('OLD.read_by_id', 'NEW.read_by_id')})",
            "read_at and read_by never change once set",
        ),
        (
            "delivery_moves_by_the_table",
            "workflow_delivery",
            f"{distinct('OLD.state', 'NEW.state')} AND NOT ({moves})",
            "its state moves only along Delivery.TRANSITIONS",
        ),
        (
            "notification_content_is_frozen",
            "workflow_notification",
            distinct(_row("OLD", NOTIFICATION_CONTENT), _row("NEW", NOTIFICATION_CONTENT)),
            "whom, about what, when and what it told never change",
        ),
        (
            "notification_emailed_at_is_frozen",
            "workflow_notification",
            f"OLD.emailed_at IS NOT NULL AND {distinct('OLD.emailed_at', 'NEW.emailed_at')}",
            "emailed_at never changes once set",
        ),
    ]


# (table, the operations refused on every row, the rule)
KEPT = [
    ("workflow_receipt", ("UPDATE", "DELETE"), "a receipt never changes"),
    ("workflow_delivery", ("DELETE",), "a delivery is never deleted"),
    ("workflow_notification", ("DELETE",), "a notification is never deleted"),
]

_PG_MOVES = "(OLD.state, NEW.state) IN (" + ", ".join(f"({_quote(s)}, {_quote(t)})" for s, t in MOVES) + ")"


def _postgres() -> str:
    statements = [
        """CREATE FUNCTION workflow_refuse_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION '%: % of row % refused: %', TG_TABLE_NAME, TG_OP, OLD.id, TG_ARGV[0]
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION '%: % refused: %', TG_TABLE_NAME, TG_OP, TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;""",
        # The move refused names the two states, so that the message says which step is not in the table.
        """CREATE FUNCTION workflow_delivery_refuse_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % of row % refused: state % -> % is not in Delivery.TRANSITIONS',
        TG_TABLE_NAME, TG_OP, OLD.id, OLD.state, NEW.state USING ERRCODE = 'restrict_violation';
END $$;""",
    ]
    for table, operations, rule in KEPT:
        name = table.removeprefix("workflow_")
        statements.append(
            f"CREATE TRIGGER {name}_no_{'_or_'.join(operations).lower()} BEFORE {' OR '.join(operations)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION workflow_refuse_frozen({_quote(rule)});"
        )
        statements.append(
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION workflow_refuse_frozen({_quote(rule)});"
        )
    for trigger, table, condition, rule in _update_rules(lambda a, b: f"{a} IS DISTINCT FROM {b}", _PG_MOVES):
        function = "workflow_delivery_refuse_move()" if trigger == "delivery_moves_by_the_table" else None
        function = function or f"workflow_refuse_frozen({_quote(rule)})"
        # The condition is the trigger's WHEN: an allowed UPDATE (every one the services make) calls
        # no function, which keeps the cost of a sign-for's UPDATE to a few comparisons.
        statements.append(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {function};"
        )
    return "\n".join(statements)


_SQLITE_MOVES = "(OLD.state, NEW.state) IN (VALUES " + ", ".join(f"({_quote(s)}, {_quote(t)})" for s, t in MOVES) + ")"


def _sqlite() -> list[str]:
    statements = []
    for table, operations, rule in KEPT:
        name = table.removeprefix("workflow_")
        for operation in operations:
            statements.append(
                f"""CREATE TRIGGER {name}_no_{operation.lower()} BEFORE {operation} ON {table}
                BEGIN SELECT RAISE(ABORT, {_quote(f"{table}: {operation} refused: {rule}")}); END"""
            )
    for trigger, table, condition, rule in _update_rules(lambda a, b: f"{a} IS NOT {b}", _SQLITE_MOVES):
        statements.append(
            f"""CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} WHEN {condition}
            BEGIN SELECT RAISE(ABORT, {_quote(f"{table}: UPDATE refused: {rule}")}); END"""
        )
    return statements


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_postgres(), params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in _sqlite():
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION workflow_refuse_frozen() CASCADE; DROP FUNCTION workflow_delivery_refuse_move() CASCADE;"
        )
    elif schema_editor.connection.vendor == "sqlite":
        for statement in _sqlite():
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0010_audit_merkle_tree")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
