"""Receipts, a delivery's signed facts and notifications' sent facts are frozen by the database
(migration 0010), and verify_audit holds every receipt to its DELIVERY_SIGNED event (workflow.
receipt_audit): the attacks of issue 15 on receipts, performed with the triggers off, are found."""

import datetime
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.factories import delivery_of, issue
from units.errors import Damaged
from workflow import services, sql
from workflow.api import api_token_for
from workflow.audit import audit_record, audit_verify
from workflow.deadlines import is_office_hours
from workflow.models import AuditEvent, AuditVerb, Delivery, Notification, Recall, Receipt, ReturnReason
from workflow.receipt_audit import receipt_verify, signed_at_text

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = importlib.import_module("workflow.migrations.0011_receipts_and_signed_facts_are_frozen")
TRIGGERS = {
    "workflow_receipt": {"receipt_no_update_or_delete", "receipt_no_truncate"},
    "workflow_delivery": {
        "delivery_no_delete",
        "delivery_no_truncate",
        "delivery_identity_is_frozen",
        "delivery_signed_at_is_frozen",
        "delivery_reading_is_frozen",
        "delivery_moves_by_the_table",
    },
    "workflow_notification": {
        "notification_no_delete",
        "notification_no_truncate",
        "notification_content_is_frozen",
        "notification_emailed_at_is_frozen",
    },
}


def _tamper(statement: str, params=None) -> None:
    """Change a table behind the application's back, as its owner or a superuser can (triggers off)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(statement, params)
        cursor.execute("SET session_replication_role = origin")


def _refusal(statement: str, params=None) -> str:
    """The database's message refusing the statement (which must be refused)."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants no deferred checks pending
        cursor.execute(statement, params)
    return refused.value.__cause__.diag.message_primary


def _frozen_rows() -> dict:
    """Every row of the three frozen tables, every column."""
    return {
        model.__name__: sorted(model.objects.values_list(*(f.attname for f in model._meta.concrete_fields)))
        for model in (Receipt, Delivery, Notification)
    }


def _verify_audit_lines() -> tuple[int, list[str]]:
    """verify_audit's exit status and lines."""
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
        status = 0
    except SystemExit as exit_info:
        status = exit_info.code
    return status, out.getvalue().splitlines()


@pytest.fixture
def signed(world):
    """A document to 教育工委 and 直属机关工委: 教育工委 signed for it (a receipt, read), 直属机关工委 has
    not; every notice emailed."""
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    delivery = delivery_of(document, world.education)
    receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    services.notification_email_send()
    delivery.refresh_from_db()
    return {
        "document": document,
        "delivery": delivery,
        "pending": delivery_of(document, world.other),
        "receipt": Receipt.objects.get(pk=receipt.pk),
        "event": AuditEvent.objects.get(verb=AuditVerb.DELIVERY_SIGNED, object_id=str(delivery.pk)),
        "notification": Notification.objects.filter(delivery=delivery).earliest("id"),
    }


# --- the database refuses --------------------------------------------------------------------------

REFUSED = [
    # (statement, its parameters' names, the refusal with {placeholders})
    (
        "UPDATE workflow_receipt SET content_digest = '00' WHERE id = %(receipt)s",
        "workflow_receipt: UPDATE of row {receipt} refused: a receipt never changes",
    ),
    (
        "UPDATE workflow_receipt SET signed_at = signed_at - interval '1 microsecond' WHERE id = %(receipt)s",
        "workflow_receipt: UPDATE of row {receipt} refused: a receipt never changes",
    ),
    (
        "UPDATE workflow_receipt SET signed_by_id = %(other_user)s WHERE id = %(receipt)s",
        "workflow_receipt: UPDATE of row {receipt} refused: a receipt never changes",
    ),
    (
        "DELETE FROM workflow_receipt WHERE id = %(receipt)s",
        "workflow_receipt: DELETE of row {receipt} refused: a receipt never changes",
    ),
    ("TRUNCATE workflow_receipt", "workflow_receipt: TRUNCATE refused: a receipt never changes"),
    (
        "UPDATE workflow_delivery SET signed_at = signed_at + interval '1 microsecond' WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: "
        "signed_at is set by the move to signed only, and never changes or clears",
    ),
    (
        "UPDATE workflow_delivery SET signed_at = NULL WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: "
        "signed_at is set by the move to signed only, and never changes or clears",
    ),
    (
        "UPDATE workflow_delivery SET signed_at = now() WHERE id = %(pending)s",
        "workflow_delivery: UPDATE of row {pending} refused: "
        "signed_at is set by the move to signed only, and never changes or clears",
    ),
    (
        "UPDATE workflow_delivery SET read_at = read_at + interval '1 second' WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: read_at and read_by never change once set",
    ),
    (
        "UPDATE workflow_delivery SET read_at = NULL, read_by_id = NULL WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: read_at and read_by never change once set",
    ),
    (
        "UPDATE workflow_delivery SET read_by_id = %(other_user)s WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: read_at and read_by never change once set",
    ),
    (
        "UPDATE workflow_delivery SET state = 'pending' WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: state signed -> pending is not in Delivery.TRANSITIONS",
    ),
    (
        "UPDATE workflow_delivery SET state = 'completed' WHERE id = %(pending)s",
        "workflow_delivery: UPDATE of row {pending} refused: state pending -> completed is not in Delivery.TRANSITIONS",
    ),
    (
        "UPDATE workflow_delivery SET unit_id = %(other_unit)s WHERE id = %(signed)s",
        "workflow_delivery: UPDATE of row {signed} refused: "
        "its dispatch, document, unit, role and created_at never change",
    ),
    (
        "UPDATE workflow_delivery SET created_at = created_at - interval '1 day' WHERE id = %(pending)s",
        "workflow_delivery: UPDATE of row {pending} refused: "
        "its dispatch, document, unit, role and created_at never change",
    ),
    (
        "DELETE FROM workflow_delivery WHERE id = %(pending)s",
        "workflow_delivery: DELETE of row {pending} refused: a delivery is never deleted",
    ),
    ("TRUNCATE workflow_delivery CASCADE", "workflow_delivery: TRUNCATE refused: a delivery is never deleted"),
    (
        "UPDATE workflow_notification SET emailed_at = emailed_at + interval '1 second' WHERE id = %(notification)s",
        "workflow_notification: UPDATE of row {notification} refused: emailed_at never changes once set",
    ),
    (
        "UPDATE workflow_notification SET emailed_at = NULL WHERE id = %(notification)s",
        "workflow_notification: UPDATE of row {notification} refused: emailed_at never changes once set",
    ),
    (
        "UPDATE workflow_notification SET text = '改' WHERE id = %(notification)s",
        "workflow_notification: UPDATE of row {notification} refused: "
        "whom, about what, when and what it told never change",
    ),
    (
        "UPDATE workflow_notification SET user_id = %(other_user)s WHERE id = %(notification)s",
        "workflow_notification: UPDATE of row {notification} refused: "
        "whom, about what, when and what it told never change",
    ),
    (
        "DELETE FROM workflow_notification WHERE id = %(notification)s",
        "workflow_notification: DELETE of row {notification} refused: a notification is never deleted",
    ),
    ("TRUNCATE workflow_notification", "workflow_notification: TRUNCATE refused: a notification is never deleted"),
]


@pytest.mark.parametrize(("statement", "message"), REFUSED)
def test_the_database_refuses_to_change_what_was_signed_for_and_sent(world, signed, statement, message):
    ids = {
        "receipt": signed["receipt"].pk,
        "signed": signed["delivery"].pk,
        "pending": signed["pending"].pk,
        "notification": signed["notification"].pk,
        "other_user": world.other_clerk.pk,
        "other_unit": world.other.pk,
    }
    before = _frozen_rows()
    assert _refusal(statement, ids) == message.format(**ids)
    assert _frozen_rows() == before


def test_the_orm_cannot_delete_receipts_or_notifications_either(signed):
    before = _frozen_rows()
    with pytest.raises(IntegrityError, match="workflow_receipt: DELETE of row"), transaction.atomic():
        Receipt.objects.all().delete()
    with pytest.raises(IntegrityError, match="workflow_notification: DELETE of row"), transaction.atomic():
        Notification.objects.all().delete()
    assert _frozen_rows() == before


def test_the_triggers_are_installed_and_enabled(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
            [list(TRIGGERS)],
        )
        found = cursor.fetchall()
    installed = {table: {name for relname, name, _enabled in found if relname == table} for table in TRIGGERS}
    assert installed == TRIGGERS
    assert {enabled for _table, _name, enabled in found} == {"O"}  # fires in the normal (origin) role


# --- the transition table --------------------------------------------------------------------------


def test_the_migrations_copy_of_the_transition_table_is_delivery_transitions():
    # A change to Delivery.TRANSITIONS fails here: write a migration that replaces the trigger.
    assert {state: set(targets) for state, targets in MIGRATION.TRANSITIONS.items()} == {
        str(state): {str(target) for target in targets} for state, targets in Delivery.TRANSITIONS.items()
    }


def test_the_installed_trigger_admits_exactly_the_moves_of_delivery_transitions(world, signed):
    """Every ordered pair of states, tried on one delivery put in the first state behind the
    triggers' back: the trigger refuses exactly the pairs the table lacks."""
    delivery = signed["delivery"]
    recall = Recall.objects.create(
        dispatch=delivery.dispatch, recalled_by=world.zzb, recalled_at=timezone.now(), reason="测试"
    )
    withdrawn = set(Delivery.WITHDRAWN_STATES)
    states = [str(state) for state in Delivery.State]
    admitted, refusals = set(), {}
    for source in states:
        for target in states:
            if source == target:
                continue
            with transaction.atomic():
                _tamper(
                    "UPDATE workflow_delivery SET state = %s, recall_id = %s WHERE id = %s",
                    [source, recall.pk if source in withdrawn else None, delivery.pk],
                )
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(
                            "UPDATE workflow_delivery SET state = %s, recall_id = %s WHERE id = %s",
                            [target, recall.pk if target in withdrawn else None, delivery.pk],
                        )
                    admitted.add((source, target))
                except IntegrityError as error:
                    refusals[source, target] = error.__cause__.diag.message_primary
                transaction.set_rollback(True)
    assert refusals == {
        (source, target): f"workflow_delivery: UPDATE of row {delivery.pk} refused: "
        f"state {source} -> {target} is not in Delivery.TRANSITIONS"
        for source in states
        for target in states
        if source != target and (source, target) not in admitted
    }
    assert admitted == {
        (str(source), str(target)) for source, targets in Delivery.TRANSITIONS.items() for target in targets
    }


# --- every service still works ---------------------------------------------------------------------


def test_every_service_works_with_the_triggers_on(world, signed):
    """签收 (first and repeat), reading, 退文 (pending and signed), 办结, 催办 (by hand and the sweep),
    撤回 (a delivery, a dispatch of signed, completed and pending deliveries), emails, marking read."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other], cc=[world.university])
    education, other = delivery_of(document, world.education), delivery_of(document, world.other)
    university = delivery_of(document, world.university)
    first = services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
    assert services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk) == first
    assert services.delivery_open(actor=world.jygw, delivery=education) is False  # read when signed
    assert services.delivery_open(actor=world.imu, delivery=university) is True
    assert services.delivery_remind(actor=world.zzb, delivery_id=other.pk) == 1
    # Past every deadline, in office hours: each open delivery of both documents is urged.
    later = timezone.localtime() + datetime.timedelta(days=60)
    later = later.replace(hour=10, minute=0)
    while not is_office_hours(later):
        later += datetime.timedelta(days=1)
    assert services.delivery_remind_overdue(now=later) == {"reminded": 5, "escalated": 0}
    services.delivery_complete(actor=world.jygw, delivery_id=education.pk, feedback="已传达学习。")
    services.delivery_return(actor=world.imu, delivery_id=university.pk, reason=ReturnReason.NOT_COMPETENT)
    assert services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="重发") == {
        "withdrawn": 1,
        "held": 1,
        "downstream": 0,
    }
    # The first document: 直属机关工委 returns it after signing, 教育工委's signed delivery is recalled.
    services.delivery_sign_for(actor=world.other_clerk, delivery_id=signed["pending"].pk)
    services.delivery_return(
        actor=world.other_clerk, delivery_id=signed["pending"].pk, reason=ReturnReason.OTHER, text="非本单位职责"
    )
    services.delivery_recall(actor=world.zzb, delivery_id=signed["delivery"].pk, reason="收回")
    mail.outbox.clear()
    sent = services.notification_email_send()
    assert sent == len(mail.outbox) > 0
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
    assert services.notification_mark_read(actor=world.zzb) > 0

    states = dict(Delivery.objects.values_list("id", "state"))
    assert [states[d.pk] for d in (education, other, university)] == ["recalled_signed", "recalled", "returned"]
    assert [states[signed[k].pk] for k in ("delivery", "pending")] == ["recalled_signed", "returned"]
    assert receipt_verify().is_intact
    assert audit_verify().is_intact


# --- the receipts' cross-check ---------------------------------------------------------------------


def test_verify_audit_says_ok_with_the_number_of_receipts_then_events(signed):
    assert _verify_audit_lines() == (0, ["ok 1 receipts", f"ok {AuditEvent.objects.count()} events, 0 checkpoints"])
    result = receipt_verify()
    assert (result.receipts, result.events, result.problems) == (1, 1, 0)


def test_the_event_records_the_signing_time_to_the_microsecond(signed):
    receipt, event = signed["receipt"], signed["event"]
    assert event.payload["signed_at"] == signed_at_text(receipt.signed_at)
    assert datetime.datetime.fromisoformat(event.payload["signed_at"]) == receipt.signed_at


def test_a_receipts_digest_changed_behind_the_triggers_is_found(signed):
    receipt, event, document = signed["receipt"], signed["event"], signed["document"]
    _tamper("UPDATE workflow_receipt SET content_digest = '00' WHERE id = %s", [receipt.pk])

    status, lines = _verify_audit_lines()

    assert status == 1
    assert lines == [
        f"receipt {receipt.pk} of delivery {receipt.delivery_id} disagrees with event {event.seq} "
        f"on content_digest: receipt 00, event {document.digest}",
        "receipts broken: problems 1, receipts 1, DELIVERY_SIGNED events 1",
        # The chain itself is intact: the receipt is what broke.
        f"ok {AuditEvent.objects.count()} events, 0 checkpoints",
    ]


def test_a_receipt_deleted_behind_the_triggers_is_found(signed):
    receipt, event, delivery = signed["receipt"], signed["event"], signed["delivery"]
    _tamper("DELETE FROM workflow_receipt WHERE id = %s", [receipt.pk])

    status, lines = _verify_audit_lines()

    assert status == 1
    assert lines == [
        f"event {event.seq}: DELIVERY_SIGNED of delivery {delivery.pk} (receipt {receipt.pk}) has no receipt",
        f"delivery {delivery.pk} was signed at {signed_at_text(delivery.signed_at)} but has no receipt",
        "receipts broken: problems 2, receipts 0, DELIVERY_SIGNED events 1",
        f"ok {AuditEvent.objects.count()} events, 0 checkpoints",
    ]


def test_signing_again_after_the_receipt_was_deleted_says_the_record_is_damaged(world, signed, nothing_written):
    delivery, receipt = signed["delivery"], signed["receipt"]
    _tamper("DELETE FROM workflow_receipt WHERE id = %s", [receipt.pk])

    with nothing_written(), pytest.raises(Damaged) as damaged:
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    assert damaged.value.message == (
        f"送达记录已损坏：自治区教育工委对{signed['document'].number}的送达（编号 {delivery.pk}）已签收，"
        "但回执缺失。请联系系统管理员核查（verify_audit）。"
    )


def test_the_api_answers_500_damaged_not_409_when_the_receipt_is_gone(world, client, signed, nothing_written):
    delivery, receipt = signed["delivery"], signed["receipt"]
    _tamper("DELETE FROM workflow_receipt WHERE id = %s", [receipt.pk])
    token = api_token_for(world.jygw)

    with nothing_written():
        response = client.post(f"/api/deliveries/{delivery.pk}/sign-for", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "damaged",
            "message": f"送达记录已损坏：自治区教育工委对{signed['document'].number}的送达（编号 {delivery.pk}）"
            "已签收，但回执缺失。请联系系统管理员核查（verify_audit）。",
        }
    }


def test_the_english_page_language_gets_the_damaged_message_in_english(world, signed):
    _tamper("DELETE FROM workflow_receipt WHERE id = %s", [signed["receipt"].pk])
    with translation.override("en"), pytest.raises(Damaged) as damaged:
        services.delivery_sign_for(actor=world.jygw, delivery_id=signed["delivery"].pk)
    assert damaged.value.message.startswith("The delivery record is damaged: ")


@pytest.mark.parametrize(
    ("change", "field", "receipt_value", "event_value"),
    [
        (
            "signed_at = signed_at + interval '1 microsecond'",
            "signed_at",
            lambda s: signed_at_text(s["receipt"].signed_at + datetime.timedelta(microseconds=1)),
            lambda s: signed_at_text(s["receipt"].signed_at),
        ),
        ("signed_by_id = %(other_user)s", "signed_by", lambda s: s["other_user"], lambda s: s["receipt"].signed_by_id),
        ("unit_id = %(other_unit)s", "unit", lambda s: s["other_unit"], lambda s: s["receipt"].unit_id),
    ],
)
def test_a_receipts_time_person_or_unit_changed_behind_the_triggers_is_found(
    world, signed, change, field, receipt_value, event_value
):
    receipt, event = signed["receipt"], signed["event"]
    values = {**signed, "other_user": world.other_clerk.pk, "other_unit": world.other.pk}
    _tamper(
        f"UPDATE workflow_receipt SET {change} WHERE id = %(receipt)s",
        {"receipt": receipt.pk, "other_user": world.other_clerk.pk, "other_unit": world.other.pk},
    )

    result = receipt_verify()

    name = f"receipt {receipt.pk} of delivery {receipt.delivery_id}"
    disagreement = f"on {field}: receipt {receipt_value(values)}"
    expected = [f"{name} disagrees with event {event.seq} {disagreement}, event {event_value(values)}"]
    if field != "signed_by":  # the delivery keeps its own unit and signing time
        delivery_value = event_value(values)
        expected.insert(0, f"{name} disagrees with its delivery {disagreement}, delivery {delivery_value}")
    assert (result.is_intact, list(result.first_problems)) == (False, expected)


def test_a_receipt_forged_for_an_unsigned_delivery_is_found(world, signed):
    pending = signed["pending"]
    at = timezone.now()
    with connection.cursor() as cursor:  # an INSERT, which the triggers let through: sign-for inserts
        receipt = sql.receipt_insert().one(
            cursor,
            {
                "delivery_id": pending.pk,
                "unit_id": world.other.pk,
                "signed_by_id": world.other_clerk.pk,
                "signed_at": at,
                "content_digest": signed["document"].digest,
            },
        )

    result = receipt_verify()

    name = f"receipt {receipt.id} of delivery {pending.pk}"
    assert list(result.first_problems) == [
        f"{name} disagrees with its delivery on signed_at: receipt {signed_at_text(at)}, delivery None",
        f"{name} has no DELIVERY_SIGNED event",
    ]
    assert (result.receipts, result.events, result.problems) == (2, 1, 2)


def test_a_second_delivery_signed_event_for_one_receipt_is_found(world, signed):
    receipt, event = signed["receipt"], signed["event"]
    with transaction.atomic():
        second = audit_record(
            actor=world.jygw,
            verb=AuditVerb.DELIVERY_SIGNED,
            object_type="Delivery",
            object_id=receipt.delivery_id,
            unit=receipt.unit_id,
            document=signed["document"].pk,
            payload=event.payload,
        )
    result = receipt_verify()
    assert list(result.first_problems) == [
        f"receipt {receipt.pk} of delivery {receipt.delivery_id} has another DELIVERY_SIGNED event: event {second.seq}"
    ]


def _legacy_sign_for(actor, delivery: Delivery) -> Receipt:
    """A sign-for as the service wrote it before its event carried the signing time."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workflow_delivery SET state = 'signed', signed_at = %s, read_at = %s, read_by_id = %s "
            "WHERE id = %s",
            [now, now, actor.pk, delivery.pk],
        )
        receipt = sql.receipt_insert().one(
            cursor,
            {
                "delivery_id": delivery.pk,
                "unit_id": delivery.unit_id,
                "signed_by_id": actor.pk,
                "signed_at": now,
                "content_digest": delivery.document.digest,
            },
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_SIGNED,
            object_type="Delivery",
            object_id=delivery.pk,
            unit=delivery.unit_id,
            document=delivery.document_id,
            payload={"receipt_id": receipt.id, "content_digest": delivery.document.digest},
        )
    return Receipt.objects.get(pk=receipt.id)


def test_events_written_before_they_carried_the_time_are_compared_on_what_they_have(world, signed):
    receipt = _legacy_sign_for(world.other_clerk, signed["pending"])
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_SIGNED, object_id=str(receipt.delivery_id))
    assert receipt_verify().is_intact

    # Moved earlier: the event holds no time of its own to compare, the delivery's signing time tells.
    _tamper("UPDATE workflow_receipt SET signed_at = signed_at - interval '1 second' WHERE id = %s", [receipt.pk])
    assert [line.split(" on ")[-1] for line in receipt_verify().first_problems] == [
        f"signed_at: receipt {signed_at_text(receipt.signed_at - datetime.timedelta(seconds=1))}, "
        f"delivery {signed_at_text(receipt.signed_at)}"  # the delivery's own time still tells
    ]
    # Moved after the event was recorded, the digest changed: both found.
    _tamper(
        "UPDATE workflow_receipt SET signed_at = %s, content_digest = '00' WHERE id = %s",
        [event.occurred_at + datetime.timedelta(microseconds=1), receipt.pk],
    )
    _tamper(
        "UPDATE workflow_delivery SET signed_at = %s WHERE id = %s",
        [event.occurred_at + datetime.timedelta(microseconds=1), receipt.delivery_id],
    )
    late = signed_at_text(event.occurred_at + datetime.timedelta(microseconds=1))
    name = f"receipt {receipt.pk} of delivery {receipt.delivery_id} disagrees with event {event.seq}"
    assert list(receipt_verify().first_problems) == [
        f"{name} on content_digest: receipt 00, event {signed['document'].digest}",
        f"{name} on signed_at: receipt {late}, event recorded at {signed_at_text(event.occurred_at)}",
    ]


def test_the_check_streams_in_batches_and_its_queries_do_not_grow_with_the_receipts(world, signed):
    def run(batch_size):
        with CaptureQueriesContext(connection) as queries:
            result = receipt_verify(batch_size=batch_size)
        return len(queries), result

    few = run(1)
    document, _dispatch = issue(world.jygw, world.education, main=[world.university, world.university_b])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(document, world.university).pk)
    services.delivery_sign_for(actor=world.univ_b_clerk, delivery_id=delivery_of(document, world.university_b).pk)
    more = run(1)
    assert few[0] == more[0]
    assert (more[1].receipts, more[1].events, more[1].problems) == (3, 3, 0)
    assert run(5000)[1] == more[1]


def test_the_report_spells_out_the_first_hundred_problems_and_counts_them_all(world, signed):
    # 101 forged DELIVERY_SIGNED events for deliveries that were never signed: each lacks its receipt.
    with transaction.atomic():
        for n in range(101):
            audit_record(
                actor=world.jygw,
                verb=AuditVerb.DELIVERY_SIGNED,
                object_type="Delivery",
                object_id=10**9 + n,
                payload={"receipt_id": None},
            )
    result = receipt_verify()
    lines = result.lines()
    assert (result.problems, len(result.first_problems), len(lines)) == (101, 100, 101)
    assert lines[-1] == "receipts broken: problems 101, receipts 1, DELIVERY_SIGNED events 102, the first 100 above"


# --- SQLite (the embedded default) ----------------------------------------------------------------

SQLITE_SCRIPT = """
import json
from django.db import IntegrityError, connection, transaction
from tests.factories import build_world, delivery_of, issue
from workflow import services
from workflow.models import Notification, Receipt
from workflow.receipt_audit import receipt_verify

world = build_world()
document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
services.dispatch_notify(dispatch_id=_dispatch.pk)
delivery = delivery_of(document, world.education)
receipt = services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
services.notification_email_send()
pending = delivery_of(document, world.other)
notification = Notification.objects.filter(delivery=delivery).earliest("id")
statements = [
    ("UPDATE workflow_receipt SET content_digest = '00' WHERE id = %s", receipt.pk),
    ("DELETE FROM workflow_receipt WHERE id = %s", receipt.pk),
    ("UPDATE workflow_delivery SET signed_at = NULL WHERE id = %s", delivery.pk),
    ("UPDATE workflow_delivery SET read_by_id = NULL WHERE id = %s", delivery.pk),
    ("UPDATE workflow_delivery SET state = 'pending' WHERE id = %s", delivery.pk),
    ("UPDATE workflow_delivery SET unit_id = unit_id + 1 WHERE id = %s", delivery.pk),
    ("DELETE FROM workflow_delivery WHERE id = %s", pending.pk),
    ("UPDATE workflow_notification SET emailed_at = NULL WHERE id = %s", notification.pk),
    ("UPDATE workflow_notification SET text = 'x' WHERE id = %s", notification.pk),
    ("DELETE FROM workflow_notification WHERE id = %s", notification.pk),
]
refusals = []
for statement, row in statements:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [row])
        refusals.append(None)
    except IntegrityError as error:
        refusals.append(str(error))
services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办结")
services.dispatch_recall(actor=world.zzb, dispatch_id=_dispatch.pk, reason="演练")
result = receipt_verify()
print(json.dumps({"refusals": refusals, "lines": result.lines(), "receipts": Receipt.objects.count()}))
"""


def test_the_embedded_sqlite_database_freezes_them_too(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "SECRET_KEY": "embedded-test",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    result = json.loads(manage("shell", "-c", SQLITE_SCRIPT).strip().splitlines()[-1])

    refused = "workflow_{}: {} refused: {}".format
    assert result == {
        "refusals": [
            refused("receipt", "UPDATE", "a receipt never changes"),
            refused("receipt", "DELETE", "a receipt never changes"),
            refused("delivery", "UPDATE", "signed_at is set by the move to signed only, and never changes or clears"),
            refused("delivery", "UPDATE", "read_at and read_by never change once set"),
            refused("delivery", "UPDATE", "its state moves only along Delivery.TRANSITIONS"),
            refused("delivery", "UPDATE", "its dispatch, document, unit, role and created_at never change"),
            refused("delivery", "DELETE", "a delivery is never deleted"),
            refused("notification", "UPDATE", "emailed_at never changes once set"),
            refused("notification", "UPDATE", "whom, about what, when and what it told never change"),
            refused("notification", "DELETE", "a notification is never deleted"),
        ],
        "lines": ["ok 1 receipts"],
        "receipts": 1,
    }
