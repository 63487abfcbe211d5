"""The README's database role: the grants it prints run the product, and leave the audit log to it
append-only, with no way to switch the log's triggers off (only the tables' owner could)."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from tests.factories import delivery_of, issue
from workflow import services
from workflow.audit import audit_verify
from workflow.audit_tree import tree_extend
from workflow.models import AuditEvent, MerkleNode, Receipt

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_grants(role: str, database: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^ {4}CREATE ROLE gongwen_app .*?^ {4}REVOKE [^\n]*FROM gongwen_app;$", text, re.M | re.S)
    assert block, "the README's Security section lost its grants"
    statements = [line.strip() for line in block.group(0).splitlines() if line.strip()]
    return [
        statement.replace("gongwen_app", role).replace("DATABASE gongwen ", f'DATABASE "{database}" ')
        for statement in statements
    ]


@contextmanager
def _connected_as(role: str):
    """The default connection, as `role`, for the block (then back to the test's own role)."""
    owner = connection.settings_dict["USER"]
    connection.close()
    connection.settings_dict["USER"] = role
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"] = owner


def _refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as error:
        return "permission denied" in str(error) or "must be owner" in str(error)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_readmes_grants_run_the_product_and_keep_the_audit_log_append_only(committed_world):
    world = committed_world
    role = f"gongwen_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        for statement in _readme_grants(role, connection.settings_dict["NAME"]):
            cursor.execute(statement)
    try:
        document, _dispatch = issue(world.zzb, world.department, main=[world.education])
        delivery = delivery_of(document, world.education)
        with _connected_as(role):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user")
                assert cursor.fetchone() == (role,)
            receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
            assert Receipt.objects.get().pk == receipt.pk
            assert audit_verify().is_intact
            assert tree_extend() == AuditEvent.objects.count() >> 4 << 4  # the beat's checkpoint extends the tree
            events, nodes = AuditEvent.objects.count(), MerkleNode.objects.count()
            for sql in (
                "UPDATE workflow_auditevent SET payload = '{}'",
                "DELETE FROM workflow_auditevent",
                "TRUNCATE workflow_auditevent",
                "ALTER TABLE workflow_auditevent DISABLE TRIGGER ALL",
                "SET session_replication_role = replica",
                "UPDATE workflow_merklenode SET hash = ''",
                "DELETE FROM workflow_merklenode",
                "TRUNCATE workflow_merklenode",
                "ALTER TABLE workflow_merklenode DISABLE TRIGGER ALL",
            ):
                assert _refused(sql), sql
            assert (AuditEvent.objects.count(), MerkleNode.objects.count()) == (events, nodes)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")
