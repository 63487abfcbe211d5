"""The hand-written statements (workflow/sql.py, units/sql.py, webhooks/sql.py): the models have every
name they use, their rows are read by column name, and ruff's S608 is excused only there, each time
with a reason."""

import inspect
import io
import os
import re
import tokenize
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, get_origin

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import delivery_of, issue
from units import sql as units_sql
from units.errors import NotAllowed
from units.models import Role, Unit
from units.selectors import user_list_with_role_in_units
from webhooks import sql as webhooks_sql
from workflow import services
from workflow import sql as workflow_sql
from workflow.models import AuditEvent, Delivery, Notification

ROOT = Path(__file__).resolve().parent.parent
# workflow/tally.py: the dispatch figures (issue 18) are statements of their own (INSERT … ON CONFLICT of
# deltas); tests/workflow/test_tally.py runs every one of them against the recount.
SQL_MODULES = {"units/sql.py", "workflow/sql.py", "webhooks/sql.py", "workflow/tally.py"}

# The public functions of the sql modules that build no statement: names, literals, parameters.
HELPERS = {"quoted", "literal", "table", "column", "pk", "role_params", "audit_event_fields"}


def statements(vendor: str) -> dict[str, Callable[[], tuple[str, object]]]:
    """Every hand-written statement that runs on `vendor` ("postgresql" or "sqlite"), by the name of
    the function that builds it: a function building it, with parameters of the right types that
    name no row, as (SQL, parameters). Built one by one, so that a field renamed in a model fails
    the statements that name it, each with FieldDoesNotExist.

    tests/test_embedded_default.py plans the SQLite ones on SQLite."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    role = units_sql.role_params(None, Role.CLERK)
    sign = {"state": Delivery.State.SIGNED, "signed_at": now, "reader_id": 0, "delivery_id": 0, **role}
    receipt = {"delivery_id": 0, "unit_id": 0, "signed_by_id": 0, "signed_at": now, "content_digest": "0" * 64}
    delivery = {
        "dispatch_id": 0,
        "document_id": 0,
        "urgency": "普通",
        "issuing_unit_id": 0,
        "is_cover": False,
        "state": Delivery.State.PENDING,
        "recall_id": None,
        "created_at": now,
        "deadline_sign_for": now,
        "deadline_complete": now,
    }

    def audit_event_insert():
        event = {field.attname: None for field in workflow_sql.audit_event_fields()}
        event.update(seq=0, occurred_at=now, verb="delivery_read", object_type="Delivery", object_id="0")
        event.update(payload="{}", prev_hash="0" * 64, hash="0" * 64)
        return workflow_sql.audit_event_insert(2), [*event.values()] * 2

    def delivery_insert_values():
        one = {**delivery, "unit_id": 0, "role": "主送"}
        values = [one[Delivery._meta.get_field(name).attname] for name in workflow_sql.DELIVERY_INSERT_FIELDS]
        return workflow_sql.delivery_insert_values(1).sql, values

    def notification_insert_select():
        return workflow_sql.notification_insert_select(
            Delivery.objects.filter(pk=0),
            user_list_with_role_in_units(Unit.objects.filter(pk=0), Role.CLERK),
            kind=Notification.Kind.RECALLED,
            text="",
            created_at=now,
        )

    def subquery(expression):
        return f"SELECT * FROM ({expression.sql}) subquery", expression.params

    found = {
        "delivery_signing": lambda: (workflow_sql.delivery_signing().sql, {"delivery_id": 0, **role}),
        "delivery_sign": lambda: (workflow_sql.delivery_sign(), sign),
        "receipt_insert": lambda: (workflow_sql.receipt_insert().sql, receipt),
        "user_active": lambda: (workflow_sql.user_active().sql, {"user_id": 0}),
        "audit_head": lambda: (workflow_sql.audit_head().sql, None),
        "signed_records": lambda: (workflow_sql.signed_records(vendor).sql, None),
        "audit_event_insert": audit_event_insert,
        "delivery_insert_values": delivery_insert_values,
        "notification_insert_select": notification_insert_select,
        "deliveries_below": lambda: subquery(workflow_sql.deliveries_below(0)),
        "granted_unit_ids": lambda: subquery(units_sql.granted_unit_ids(0, Role.CLERK)),
        "granted_unit_ids_sql": lambda: (units_sql.granted_unit_ids_sql("%s", "%s"), [0, "clerk", 0, "clerk"]),
        "role_condition_sql": lambda: (f"SELECT 1 WHERE {units_sql.role_condition_sql('0')}", role),
        "events_insert_select": lambda: (
            webhooks_sql.events_insert_select(vendor),
            {"after": 0, "upto": 0, "now": now, "state": "pending"},
        ),
    }
    if vendor == "postgresql":
        chain = "SELECT 0, 0, now()"
        found["chain_first_per_dispatch"] = lambda: (
            f"({workflow_sql.chain_first_per_dispatch(chain, signed=True, limit=10)}) UNION ALL "
            f"({workflow_sql.chain_first_per_dispatch(chain, signed=False, limit=10)})",
            None,
        )
        month = (
            "SELECT 1 AS tier, dated_at, document_id, false AS is_window_end FROM documents_documentsearch "
            f"WHERE period = {workflow_sql.SEARCH_WALKED_MONTH} AND period > %s ORDER BY dated_at DESC LIMIT 3"
        )
        columns = ("tier", "dated_at", "document_id", "is_window_end")
        walk = workflow_sql.search_month_walk(month, columns, 3, newest=True, oldest=True)
        found["search_month_walk"] = lambda: (walk, [1, 0, 0])
        passed = (
            "SELECT 1 AS tier, dated_at, document_id, false AS is_window_end FROM documents_documentsearch "
            f"WHERE document_id IN ({workflow_sql.SEARCH_WINDOW_IDS}) AND period > %s LIMIT 3"
        )
        found["search_window"] = lambda: (workflow_sql.search_window(walk, passed, 3), [1, 0, 0, 0])
        found["search_tiers"] = lambda: (workflow_sql.search_tiers(walk, walk), [1, 0, 0, 1, 0, 0, 3])
        found["audit_lock"] = lambda: (workflow_sql.audit_lock(), {"key": 0})
        found["audit_occurred_text"] = lambda: (
            f"SELECT {workflow_sql.audit_occurred_text().sql} FROM {units_sql.table(AuditEvent)}",
            [],
        )
        found["delivery_insert_unnest"] = lambda: (
            workflow_sql.delivery_insert_unnest().sql,
            {**delivery, "unit_ids": [0], "roles": ["主送"]},
        )
    return found


def _builders(module) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isfunction(inspect.unwrap(value))
        and value.__module__ == module.__name__
        and name not in HELPERS
    }


def _all_builders() -> set[str]:
    return _builders(workflow_sql) | _builders(units_sql) | _builders(webhooks_sql)


def test_every_statement_of_the_sql_modules_is_checked_here(db):
    assert set(statements("postgresql")) == _all_builders()


@pytest.mark.parametrize("builder", sorted(_all_builders()))
def test_postgresql_plans_every_statement_with_the_models_names(db, builder):
    # EXPLAIN parses and plans without running: a table or column the database lacks (a literal
    # name that drifted from the models) fails here. A field renamed in a model fails earlier, when
    # `statements` builds the statement from _meta.
    sql, params = statements("postgresql")[builder]()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        assert cursor.fetchall()


QUERIES = {
    "delivery_signing": workflow_sql.delivery_signing,
    "receipt_insert": workflow_sql.receipt_insert,
    "user_active": workflow_sql.user_active,
    "audit_head": workflow_sql.audit_head,
    "signed_records": lambda: workflow_sql.signed_records("postgresql"),
    "delivery_insert_values": lambda: workflow_sql.delivery_insert_values(1),
    "delivery_insert_unnest": workflow_sql.delivery_insert_unnest,
}


@pytest.mark.parametrize("builder", sorted(QUERIES))
def test_each_query_returns_the_columns_its_rows_are_named_by(db, builder):
    # Run for real (foreign keys are checked at commit, and this transaction never commits).
    query = QUERIES[builder]()
    sql, params = statements("postgresql")[builder]()
    assert query.sql == sql
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(query.sql, params)
        assert tuple(column.name for column in cursor.description) == query.row._fields
        transaction.set_rollback(True)


def test_every_query_of_the_sql_modules_is_run_here():
    queries = {
        name
        for name, value in vars(workflow_sql).items()
        if name in _builders(workflow_sql)
        and get_origin(inspect.signature(value).return_annotation) is workflow_sql.Query
    }
    assert queries == set(QUERIES)


class _Pair(NamedTuple):
    first: int
    second: int


def test_a_query_reads_its_rows_by_column_name(db):
    with connection.cursor() as cursor:
        pair = workflow_sql.Query('SELECT 1 AS "first", 2 AS "second"', _Pair).one(cursor)
    assert (pair.first, pair.second) == (1, 2)


def test_a_query_whose_columns_are_not_its_rows_fields_is_refused_at_its_first_run(db):
    swapped = workflow_sql.Query('SELECT 2 AS "second", 1 AS "first"', _Pair)
    with (
        connection.cursor() as cursor,
        pytest.raises(
            RuntimeError, match=r"_Pair: the statement returns \('second', 'first'\), not \('first', 'second'\)"
        ),
    ):
        swapped.all(cursor)


def test_a_deactivated_clerk_may_not_sign_and_nothing_is_written(world, nothing_written):
    # The role rule passes nobody as NULL, which no grant's person equals.
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    world.jygw.is_active = False
    with nothing_written(), pytest.raises(NotAllowed):
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)


# --- ruff's S608 -------------------------------------------------------------------------------

# As ruff reads it: codes after the colon, separated by commas or spaces; the rest is the reason.
_NOQA = re.compile(r"#\s*(?i:noqa)(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?(?P<reason>.*)")
_SKIPPED_DIRECTORIES = {"var", "node_modules", "__pycache__", "test-artifacts"}


def _python_files():
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [
            name for name in subdirectories if not name.startswith(".") and name not in _SKIPPED_DIRECTORIES
        ]
        for name in files:
            if name.endswith(".py"):
                path = Path(directory, name)
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def _noqa_comments(source: str):
    """(line, codes, reason) of each noqa comment: comments only, never a string that mentions one."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and (found := _NOQA.search(token.string)):
            yield token.start[0], re.findall(r"[A-Z]+[0-9]+", found["codes"] or ""), found["reason"]


def test_s608_is_excused_only_in_the_sql_modules_and_each_time_with_a_reason():
    misplaced, unexplained, blanket, excused = [], [], [], []
    for path, source in _python_files():
        for line, codes, reason in _noqa_comments(source):
            where = f"{path}:{line}"
            if not codes:
                blanket.append(where)  # a bare noqa silences S608 too, and says nothing
            elif "S608" in codes:
                excused.append(where)
                if path not in SQL_MODULES:
                    misplaced.append(where)
                if len(re.findall(r"\w+", reason)) < 3:
                    unexplained.append(where)
    assert (misplaced, unexplained, blanket) == ([], [], [])
    assert {where.split(":")[0] for where in excused} == SQL_MODULES


def test_ruff_checks_s608_everywhere_but_in_migrations_and_tests():
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert "S608" not in lint["ignore"]
    assert {glob for glob, codes in lint["per-file-ignores"].items() if "S608" in codes} == {
        "*/migrations/*",
        "tests/*",
        "bench/scale_data.py",  # the scale bench's data, built by set-based SQL: not the product
    }
