import itertools
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.factories import delivery_of, issue
from workflow import services
from workflow.audit import (
    GENESIS_HASH,
    _rows,
    _utc_text,
    audit_record,
    audit_record_many,
    audit_verify,
    event_hash,
)
from workflow.models import AuditEvent, AuditVerb


def _tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back, as a superuser can (triggers skipped)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


def test_every_state_change_of_a_document_writes_one_event_in_order(world):
    before = AuditEvent.objects.count()
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(document, world.education).pk)
    verbs = list(AuditEvent.objects.filter(seq__gt=before).values_list("verb", flat=True))
    assert verbs == [
        AuditVerb.DOCUMENT_DRAFTED,
        AuditVerb.DOCUMENT_SIGNED_OFF,
        AuditVerb.DOCUMENT_ISSUED,
        AuditVerb.DELIVERIES_CREATED,
        AuditVerb.DISPATCH_ROUTED,
        AuditVerb.DELIVERY_SIGNED,
    ]


def test_the_chain_links_each_event_to_the_previous_one(world):
    events = list(AuditEvent.objects.order_by("seq"))
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    last = events[-1]
    assert last.hash == event_hash(
        seq=last.seq,
        occurred_at=last.occurred_at,
        actor_id=last.actor_id,
        unit_id=last.unit_id,
        verb=last.verb,
        object_type=last.object_type,
        object_id=last.object_id,
        document_id=last.document_id,
        payload=last.payload,
        prev_hash=last.prev_hash,
    )
    assert audit_verify().is_intact


def test_recording_more_events_than_one_statement_takes_writes_them_all_in_order(world):
    # audit_record_many writes 1,000 events a statement: 2,001 events need three statements.
    before = AuditEvent.objects.count()
    events = [
        {"actor": world.zzb, "verb": AuditVerb.DELIVERY_REMINDED, "object_type": "Delivery", "object_id": n}
        for n in range(2001)
    ]
    with transaction.atomic():
        recorded = audit_record_many(events)

    stored = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [event.seq for event in stored] == list(range(before + 1, before + 2002))
    assert [event.object_id for event in stored] == [str(n) for n in range(2001)]
    assert [event.hash for event in stored] == [event.hash for event in recorded]
    assert audit_verify().is_intact


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflow_auditevent SET payload = '{}' WHERE seq = 1",
        "DELETE FROM workflow_auditevent WHERE seq = 1",
        "TRUNCATE workflow_auditevent",
    ],
)
def test_the_database_refuses_to_change_audit_events(world, statement):
    count = AuditEvent.objects.count()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants no deferred checks pending
        cursor.execute(statement)
    assert AuditEvent.objects.count() == count


def test_the_orm_cannot_change_audit_events_either(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(verb="ROLE_REVOKED")


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_a_bug(committed_db):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, verb=AuditVerb.UNIT_CREATED, object_type="Unit", object_id=1)


def test_verify_finds_an_altered_payload(world, capsys):
    _tamper('UPDATE workflow_auditevent SET payload = \'{"name": "改"}\' WHERE seq = 5', [])
    result = audit_verify()
    assert (result.is_intact, result.first_broken_seq, result.events) == (False, 5, 4)
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    assert exit_info.value.code == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "broken at event 5: event 5 was altered (its hash does not match its content)"
    )


def test_verify_finds_a_moment_moved_by_one_microsecond(world):
    _tamper("UPDATE workflow_auditevent SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 6", [])
    result = audit_verify()
    assert (result.is_intact, result.first_broken_seq, result.events) == (False, 6, 5)


def test_verify_reads_the_moments_as_they_were_hashed(world):
    # PostgreSQL prints the moment for the verifier; it must be the very text audit_record hashed.
    events = list(AuditEvent.objects.order_by("seq"))
    assert [_utc_text(event.occurred_at) for event in events] == [row[1] for row in _rows(batch_size=100)]
    assert audit_verify().is_intact


def test_verify_finds_a_deleted_event(world):
    _tamper("DELETE FROM workflow_auditevent WHERE seq = 7", [])
    result = audit_verify()
    assert (result.is_intact, result.first_broken_seq) == (False, 7)
    assert result.reason == "event 7 is missing (next is 8)"


def test_verify_finds_a_recomputed_hash_that_no_longer_links(world):
    # Someone rewrites event 3 and recomputes its own hash: event 4 no longer links to it.
    event = AuditEvent.objects.get(seq=3)
    forged = event_hash(
        seq=3,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        unit_id=event.unit_id,
        verb=event.verb,
        object_type=event.object_type,
        object_id=event.object_id,
        document_id=event.document_id,
        payload={"forged": True},
        prev_hash=event.prev_hash,
    )
    _tamper("UPDATE workflow_auditevent SET payload = %s, hash = %s WHERE seq = 3", ['{"forged": true}', forged])
    result = audit_verify()
    assert (result.is_intact, result.first_broken_seq) == (False, 4)


def test_verify_audit_command_says_ok_with_the_number_of_events(world, capsys):
    call_command("verify_audit")
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"ok {AuditEvent.objects.count()} events, 0 checkpoints"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_cannot_fork_the_chain(committed_db):
    def write(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    audit_record(actor=None, verb=AuditVerb.UNIT_CREATED, object_type="Unit", object_id=f"{n}-{i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AuditEvent.objects.count() == 80
    assert audit_verify().is_intact
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 80
