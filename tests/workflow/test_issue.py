import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from documents.digest import document_content_digest
from documents.models import Document, NumberSeries
from tests.factories import content, issue, unit
from units.errors import Conflict, InvalidInput, NotAllowed
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Queue


def test_issue_allocates_number_fixes_digest_and_records_the_resolved_dispatch(
    world, django_capture_on_commit_callbacks
):
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(urgency="特提"),
        main_recipients=[world.groups["各直属党委"]],
        cc_recipients=[world.university, world.education],
        number_prefix="内组电明字",
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    with django_capture_on_commit_callbacks() as callbacks:
        dispatch = services.document_issue(actor=world.zzb, document=draft)

    document = Document.objects.get(pk=draft.pk)
    assert document.state == Document.State.ISSUED
    assert document.number == "内组电明字〔2022〕1号"
    assert document.digest == document_content_digest(document)
    assert len(document.digest) == 64
    # The group resolved to its units; education is in both 主送 (via the group) and 抄送: 主送 wins.
    assert dispatch.main_unit_ids == sorted([world.education.pk, world.other.pk])
    assert dispatch.cc_unit_ids == [world.university.pk]
    assert dispatch.recipient_count == 3
    assert dispatch.queue == Queue.URGENT
    assert len(callbacks) == 1
    assert Delivery.objects.count() == 0  # routing is the worker's job
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.verb, event.document_id, event.actor_id) == (AuditVerb.DOCUMENT_ISSUED, document.pk, world.zzb.pk)
    assert event.payload == {
        "number": "内组电明字〔2022〕1号",
        "digest": document.digest,
        "dispatch_id": dispatch.pk,
        "main": 2,
        "cc": 1,
        # The deadlines fixed at issue (workflow.deadlines; tests/workflow/test_deadlines.py).
        "deadline_sign_for": dispatch.deadline_sign_for.isoformat(),
        "deadline_complete": dispatch.deadline_complete.isoformat(),
    }


def test_routine_urgency_goes_to_the_routine_queue(world):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], urgency="平急", route=False)
    assert dispatch.queue == Queue.ROUTINE


def test_group_membership_changed_after_issue_does_not_change_the_recipients(world):
    group = world.groups["各直属党委"]
    _document, dispatch = issue(world.zzb, world.department, main=[group], route=False)
    services.recipient_group_save(actor=None, owner=world.department, name=group.name, members=[world.other])
    services.dispatch_route(dispatch_id=dispatch.pk)
    assert set(Delivery.objects.filter(dispatch=dispatch).values_list("unit_id", flat=True)) == {
        world.education.pk,
        world.other.pk,
    }


def test_numbers_run_on_without_gaps_and_continue_a_series_set_mid_year(world):
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=10)
    numbers = [issue(world.zzb, world.department, main=[world.education], route=False)[0].number for _ in range(3)]
    assert numbers == ["内组电明字〔2022〕11号", "内组电明字〔2022〕12号", "内组电明字〔2022〕13号"]


def test_series_cannot_be_moved_back_below_an_issued_number(world, nothing_written):
    issue(world.zzb, world.department, main=[world.education], route=False)
    with nothing_written(), pytest.raises(Conflict, match="已经用到 1 号"):
        services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=0)


def test_issue_refuses_a_draft_that_was_not_signed_off(world, nothing_written):
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    with nothing_written(), pytest.raises(Conflict, match="不能印发"):
        services.document_issue(actor=world.zzb, document=draft)


def test_issue_refuses_a_person_who_is_not_a_clerk_of_the_issuing_unit(world, nothing_written):
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区党委组织部的收发员"):
        services.document_issue(actor=world.jygw, document=draft)


def test_issue_refuses_a_document_without_recipients(world, nothing_written):
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=content())
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    with nothing_written(), pytest.raises(InvalidInput, match="没有收文单位"):
        services.document_issue(actor=world.zzb, document=draft)


def test_issue_refuses_a_number_already_taken_and_gives_the_serial_back(world, nothing_written):
    taken, _dispatch = issue(world.zzb, world.department, main=[world.education], route=False)
    # The series lost its place (as after registering a paper copy of 1号 by hand): it offers 1 again.
    NumberSeries.objects.filter(prefix__prefix="内组电明字", year=2022).update(last_serial=0)
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    with nothing_written(), pytest.raises(InvalidInput, match="内组电明字〔2022〕1号已经存在"):
        services.document_issue(actor=world.zzb, document=draft)
    assert taken.number == "内组电明字〔2022〕1号"


def test_issue_to_a_deactivated_unit_is_refused(world, nothing_written):
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.other]
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    type(world.other).objects.filter(pk=world.other.pk).update(is_active=False)
    with nothing_written(), pytest.raises(InvalidInput, match="自治区直属机关工委”已停用"):
        services.document_issue(actor=world.zzb, document=draft)


def _issue_to(world, units):
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=content(), main_recipients=units)
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    return draft


def test_issue_runs_the_same_queries_for_10_and_for_1000_recipients(world, count_queries):
    many = [unit(f"单位{i}", world.region) for i in range(1000)]
    group_small = services.recipient_group_save(actor=None, owner=world.department, name="小组", members=many[:10])
    group_large = services.recipient_group_save(actor=None, owner=world.department, name="大组", members=many)
    small, large = _issue_to(world, [group_small]), _issue_to(world, [group_large])

    small_count, small_dispatch = count_queries(services.document_issue, actor=world.zzb, document=small)
    large_count, large_dispatch = count_queries(services.document_issue, actor=world.zzb, document=large)

    assert (small_dispatch.recipient_count, large_dispatch.recipient_count) == (10, 1000)
    # 20 for the issue itself (a cover letter's source delivery, locked: a recall may have taken it
    # away), + 3 for the deadlines (workflow.deadlines): the urgency's policy, the calendar (one query
    # for both working-day clocks of 普通) and the deadline a cover's unit received, + 3 for the
    # search index (workflow.search): the document's fields, its attachments' names, the INSERT, + 1
    # for the exchange: the units other installations host (none of these).
    assert small_count == large_count == 27


def test_the_database_refuses_two_documents_with_one_number(world):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], route=False)
    twin = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=twin.pk).update(number_year=2022, number_serial=document.number_serial)


@pytest.mark.parametrize(
    ("signed_off_at", "written_on"),
    [
        ("2022-10-13T23:30:00+08:00", "2022-10-13"),
        ("2022-10-14T07:30:00+08:00", "2022-10-14"),  # still 10-13 in UTC: the date is Beijing's
    ],
)
def test_signing_off_dates_a_draft_without_a_date_by_the_day_of_signing_off(world, signed_off_at, written_on):
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=content(written_on=None))
    with time_machine.travel(datetime.datetime.fromisoformat(signed_off_at), tick=False):
        services.document_sign_off(actor=world.zzb_leader, document=draft)

    draft.refresh_from_db()
    assert draft.written_on.isoformat() == written_on
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_SIGNED_OFF, document=draft)
    assert event.payload == {"written_on": written_on}


def test_signing_off_keeps_the_date_the_drafter_set(world):
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(written_on=datetime.date(2022, 9, 30))
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    draft.refresh_from_db()
    assert draft.written_on == datetime.date(2022, 9, 30)
