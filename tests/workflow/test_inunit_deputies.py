"""代理 (issue 14): a deputy signs for the unit (代理签收) and takes the steps their principal's roles
allow, every act recorded "deputy for"; a withdrawn or ended delegation allows nothing. Also: what
handling_actions offers, in a constant number of queries, and the gapless 收文编号 under concurrency."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.factories import build_inner_unit, delivery_of, issue, person, received
from units.errors import Conflict, InvalidInput, NotAllowed
from units.models import Role
from workflow import services
from workflow.models import Assignment, AuditEvent, Delivery, HandlingRecord, ReadingSlip, Receipt
from workflow.services.rules import HandlingActions, delivery_actions


@pytest.fixture
def inner(world):
    return build_inner_unit(world)


def _window(hours: int = 8):
    now = timezone.now()
    return {"starts_at": now - datetime.timedelta(minutes=1), "ends_at": now + datetime.timedelta(hours=hours)}


def _pending(world):
    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    return delivery_of(document, world.university)


def test_a_deputy_signs_for_the_unit_and_registers_for_the_clerk(world, inner):
    delegation = services.delegation_grant(
        world.imu, unit_id=world.university.pk, principal_id=world.imu.pk, deputy_id=inner.office_staff.pk, **_window()
    )
    granted = AuditEvent.objects.order_by("-seq").first()
    assert (granted.verb, granted.unit_id, granted.payload["principal"], granted.payload["deputy"]) == (
        "DELEGATION_GRANTED",
        world.university.pk,
        {"id": world.imu.pk, "name": "imu"},
        {"id": inner.office_staff.pk, "name": "office_staff"},
    )
    delivery = _pending(world)
    assert set(delivery_actions(inner.office_staff, delivery)) == {"sign_for"}
    receipt = services.delivery_sign_for(actor=inner.office_staff, delivery_id=delivery.pk)
    assert (receipt.signed_by_id, Receipt.objects.get(delivery=delivery).signed_by_id) == (
        inner.office_staff.pk,
        inner.office_staff.pk,
    )
    signed = AuditEvent.objects.get(verb="DELIVERY_SIGNED", object_id=str(delivery.pk))
    assert (signed.actor_id, signed.payload["deputy_for"]) == (
        inner.office_staff.pk,
        {"id": world.imu.pk, "name": "imu"},
    )
    delivery.refresh_from_db()
    assert services.handling_actions(inner.office_staff, delivery) == HandlingActions(
        register=True, acting_for=world.imu.pk
    )
    record = services.delivery_register(inner.office_staff, delivery.pk)
    assert (record.registered_by_id, record.on_behalf_of_id) == (inner.office_staff.pk, world.imu.pk)
    logged = AuditEvent.objects.order_by("-seq").first()
    assert (logged.verb, logged.payload["deputy_for"]) == ("DELIVERY_LOGGED", {"id": world.imu.pk, "name": "imu"})
    # Signing for is all a deputy of the clerk does at the unit's level: no 转发, 退文 or 办结.
    assert set(delivery_actions(inner.office_staff, delivery)) == set()
    assert delegation.withdrawn_at is None


def test_a_deputy_handles_for_a_handler_and_instructs_for_a_leader(world, inner):
    delivery = received(world)
    record = services.delivery_register(world.imu, delivery.pk)
    services.delegation_grant(
        inner.secretary,
        unit_id=world.university.pk,
        principal_id=inner.secretary.pk,
        deputy_id=inner.office_staff.pk,
        **_window(),
    )
    # A clerk of the unit sets up a colleague's delegation (the handler is away).
    services.delegation_grant(
        world.imu,
        unit_id=inner.organization.pk,
        principal_id=inner.org_handler.pk,
        deputy_id=inner.pub_handler.pk,
        **_window(),
    )
    instruction = services.handling_instruct(
        inner.office_staff, record.pk, text="同意。", lead_department_ids=[inner.organization.pk]
    )
    assert (instruction.instructed_by_id, instruction.on_behalf_of_id) == (inner.office_staff.pk, inner.secretary.pk)
    assert AuditEvent.objects.get(verb="HANDLING_INSTRUCTED").payload["deputy_for"] == {
        "id": inner.secretary.pk,
        "name": "secretary",
    }
    lead = Assignment.objects.get()
    actions = services.handling_actions(inner.pub_handler, delivery)
    assert (actions.accept, actions.report, actions.acting_for) == ((lead.pk,), (lead.pk,), inner.org_handler.pk)
    report = services.assignment_report(inner.pub_handler, lead.pk, text="代为报送：已落实。", finish=True)
    assert (report.reported_by_id, report.on_behalf_of_id) == (inner.pub_handler.pk, inner.org_handler.pk)
    deputies = AuditEvent.objects.filter(verb__startswith="ASSIGNMENT_").values_list("verb", "payload__deputy_for")
    assert list(deputies.order_by("seq")) == [
        ("ASSIGNMENT_ACCEPTED", {"id": inner.org_handler.pk, "name": "org_handler"}),
        ("ASSIGNMENT_REPORTED", {"id": inner.org_handler.pk, "name": "org_handler"}),
        ("ASSIGNMENT_FINISHED", {"id": inner.org_handler.pk, "name": "org_handler"}),
    ]


def test_a_withdrawn_delegation_allows_nothing_more(world, inner, nothing_written):
    delegation = services.delegation_grant(
        world.imu, unit_id=world.university.pk, principal_id=world.imu.pk, deputy_id=inner.office_staff.pk, **_window()
    )
    withdrawn = services.delegation_withdraw(world.imu, delegation.pk)
    assert withdrawn.withdrawn_by_id == world.imu.pk
    assert AuditEvent.objects.order_by("-seq").first().verb == "DELEGATION_WITHDRAWN"
    delivery = _pending(world)
    assert set(delivery_actions(inner.office_staff, delivery)) == set()
    with nothing_written(), pytest.raises(NotAllowed):
        services.delivery_sign_for(actor=inner.office_staff, delivery_id=delivery.pk)
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert services.handling_actions(inner.office_staff, delivery) == HandlingActions()
    with nothing_written(), pytest.raises(NotAllowed) as refused:
        services.delivery_register(inner.office_staff, delivery.pk)
    assert refused.value.message == "您不是内蒙古大学党委的收发员，不能收文登记。"
    with nothing_written(), pytest.raises(Conflict) as twice:
        services.delegation_withdraw(world.imu, delegation.pk)
    assert twice.value.message.startswith("这项代理已于")


def test_a_delegation_acts_only_within_its_window(world, inner):
    starts = timezone.now() + datetime.timedelta(hours=1)
    services.delegation_grant(
        world.imu,
        unit_id=world.university.pk,
        principal_id=world.imu.pk,
        deputy_id=inner.office_staff.pk,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
    )
    delivery = _pending(world)
    assert set(delivery_actions(inner.office_staff, delivery)) == set()
    with time_machine.travel(starts + datetime.timedelta(minutes=5)):
        assert set(delivery_actions(inner.office_staff, delivery)) == {"sign_for"}
    with time_machine.travel(starts + datetime.timedelta(hours=2)):
        assert set(delivery_actions(inner.office_staff, delivery)) == set()
        with pytest.raises(NotAllowed):
            services.delivery_sign_for(actor=inner.office_staff, delivery_id=delivery.pk)


def test_delegation_grant_refusals_write_nothing(world, inner, nothing_written):
    window = _window()
    cases = [
        (
            inner.reader_a,
            world.imu.pk,
            inner.office_staff.pk,
            window,
            NotAllowed,
            "只有本人或内蒙古大学党委的收发员可以设置代理。",
        ),
        (world.imu, world.imu.pk, world.imu.pk, window, InvalidInput, "不能由本人代理本人。"),
        (
            world.imu,
            world.imu.pk,
            world.univ_b_clerk.pk,
            window,
            InvalidInput,
            "代理人univ_b_clerk不是内蒙古大学党委或其内设机构的人员。",
        ),
        (
            world.imu,
            world.jygw.pk,
            inner.office_staff.pk,
            window,
            InvalidInput,
            "jygw在内蒙古大学党委没有可以代理的角色。",
        ),
        (
            world.imu,
            world.imu.pk,
            inner.office_staff.pk,
            {"starts_at": window["ends_at"], "ends_at": window["starts_at"]},
            InvalidInput,
            None,
        ),
        (
            world.imu,
            world.imu.pk,
            inner.office_staff.pk,
            {"starts_at": window["starts_at"] - datetime.timedelta(days=2), "ends_at": window["starts_at"]},
            InvalidInput,
            None,
        ),
    ]
    for actor, principal, deputy, moments, error, message in cases:
        with nothing_written(), pytest.raises(error) as refused:
            services.delegation_grant(
                actor, unit_id=world.university.pk, principal_id=principal, deputy_id=deputy, **moments
            )
        if message is not None:
            assert refused.value.message == message


# --- what the pages offer ------------------------------------------------------------------------


def test_handling_actions_follow_the_steps(world, inner):
    delivery = received(world)
    assert services.handling_actions(inner.office_clerk, delivery) == HandlingActions(register=True)
    assert services.handling_actions(inner.secretary, delivery) == HandlingActions()
    record = services.delivery_register(inner.office_clerk, delivery.pk)
    assert services.handling_actions(world.imu, delivery) == HandlingActions(propose=True, reply=True)
    assert services.handling_actions(inner.secretary, delivery) == HandlingActions(instruct=True)
    services.handling_instruct(
        inner.secretary,
        record.pk,
        text="同意。",
        lead_department_ids=[inner.organization.pk],
        reader_ids=[inner.reader_a.pk, inner.reader_b.pk],
        readers_may_pass_on=True,
    )
    lead = Assignment.objects.get()
    first, second = ReadingSlip.objects.order_by("position")
    assert services.handling_actions(inner.org_handler, delivery) == HandlingActions(
        accept=(lead.pk,), report=(lead.pk,)
    )
    assert services.handling_actions(inner.pub_handler, delivery) == HandlingActions()
    assert services.handling_actions(inner.reader_a, delivery) == HandlingActions(read=first.pk, pass_on=first.pk)
    assert services.handling_actions(inner.reader_b, delivery) == HandlingActions()
    services.assignment_accept(inner.org_handler, lead.pk)
    services.reading_done(inner.reader_a, first.pk)
    assert services.handling_actions(inner.org_handler, delivery) == HandlingActions(report=(lead.pk,))
    assert services.handling_actions(inner.reader_a, delivery) == HandlingActions(pass_on=first.pk)
    assert services.handling_actions(inner.reader_b, delivery) == HandlingActions(read=second.pk, pass_on=second.pk)


@pytest.mark.parametrize("size", [1, 5])
def test_handling_actions_ask_a_constant_number_of_queries(world, inner, count_queries, size, request):
    delivery = received(world)
    record = services.delivery_register(world.imu, delivery.pk)
    departments = [inner.organization] + [
        services.department_create(world.imu, world.university.pk, name=f"部门{index}") for index in range(size - 1)
    ]
    for department in departments:
        services.role_grant(actor=None, unit=department, role=Role.HANDLER, user=inner.org_handler)
    readers = [inner.reader_a] + [person(world.university, Role.READER) for _index in range(size - 1)]
    services.handling_instruct(
        inner.secretary,
        record.pk,
        text="同意。",
        lead_department_ids=[department.pk for department in departments],
        assist_department_ids=[inner.publicity.pk],
        reader_ids=[reader.pk for reader in readers],
        reading_mode="parallel",
    )
    services.delegation_grant(
        world.imu,
        unit_id=inner.publicity.pk,
        principal_id=inner.pub_handler.pk,
        deputy_id=inner.org_handler.pk,
        **_window(),
    )
    # As the doors give it: with its unit and document.
    delivery = Delivery.objects.select_related("unit", "document__issuing_unit").get(pk=delivery.pk)
    queries, actions = count_queries(services.handling_actions, inner.org_handler, delivery)
    assert (len(actions.accept), actions.acting_for) == (size + 1, inner.pub_handler.pk)  # 宣传部's as a deputy
    # The record, its assignments, the person's slips, their roles, their delegations, the
    # principals' roles: the same at both sizes.
    assert queries == 6


# --- the gapless register under concurrency ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clerks_registering_at_once_get_one_and_two(committed_world):
    world = committed_world
    inner = build_inner_unit(world)
    first, second = received(world), received(world)
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def register(actor, delivery):
        try:
            barrier.wait(timeout=10)
            results[delivery.pk] = services.delivery_register(actor, delivery.pk).serial
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(world.imu, first)),
        threading.Thread(target=register, args=(inner.office_clerk, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results.values()) == [1, 2]
    assert sorted(HandlingRecord.objects.values_list("serial", flat=True)) == [1, 2]
