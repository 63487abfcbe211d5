"""Who sees what inside a recipient unit (issue 14, DESIGN invariant 6): a department with an
assignment sees the delivery and its document, one without does not; a reader sees it once their
slip opens; a deputy sees what their principal sees during the window only; the other unit, the
parent unit's clerk, a child unit of another unit and the anonymous see nothing."""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from tests.factories import build_inner_unit, person, received
from units.errors import NotFound, Withdrawn
from units.models import Role
from workflow import services
from workflow.access import (
    access_delivery,
    access_document,
    access_report_file,
    delivery_list_visible,
    document_list_visible,
)
from workflow.models import Assignment, AssignmentReportFile, ReadingSlip


@pytest.fixture
def inner(world):
    return build_inner_unit(world)


@pytest.fixture
def handled(world, inner):
    """A delivery to the university, registered and instructed: 组织部 主办, reader_a then reader_b."""
    delivery = received(world)
    record = services.delivery_register(inner.office_clerk, delivery.pk)
    services.handling_instruct(
        inner.secretary,
        record.pk,
        text="同意。",
        lead_department_ids=[inner.organization.pk],
        reader_ids=[inner.reader_a.pk, inner.reader_b.pk],
    )
    return delivery


def _sees(user, delivery) -> tuple[bool, bool]:
    return (
        delivery_list_visible(user).filter(pk=delivery.pk).exists(),
        document_list_visible(user).filter(pk=delivery.document_id).exists(),
    )


def test_a_department_with_an_assignment_sees_the_delivery_and_its_document(inner, handled):
    assert _sees(inner.org_handler, handled) == (True, True)
    assert access_delivery(inner.org_handler, handled.pk).pk == handled.pk
    assert access_document(inner.org_handler, handled.document_id).pk == handled.document_id


def test_a_department_without_an_assignment_sees_nothing(inner, handled):
    assert _sees(inner.pub_handler, handled) == (False, False)
    with pytest.raises(NotFound):
        access_delivery(inner.pub_handler, handled.pk)
    with pytest.raises(NotFound):
        access_document(inner.pub_handler, handled.document_id)


def test_a_reader_sees_it_once_their_slip_opens(inner, handled):
    assert _sees(inner.reader_a, handled) == (True, True)
    assert _sees(inner.reader_b, handled) == (False, False)  # their turn has not come (依次传阅)
    first = ReadingSlip.objects.get(reader=inner.reader_a)
    services.reading_done(inner.reader_a, first.pk)
    assert _sees(inner.reader_a, handled) == (True, True)  # read stays visible
    assert _sees(inner.reader_b, handled) == (True, True)


def test_the_units_members_see_everything_it_received(world, inner, handled):
    unregistered = received(world)
    for member in (inner.office_clerk, inner.secretary, world.imu):
        assert _sees(member, handled) == (True, True)
        assert _sees(member, unregistered) == (True, True)
    # A department's people see only what their department was given.
    assert _sees(inner.org_handler, unregistered) == (False, False)


def test_a_deputy_sees_what_their_principal_sees_during_the_window_only(world, inner, handled):
    deputy = person(inner.publicity, Role.HANDLER, username="pub_deputy")
    assert _sees(deputy, handled) == (False, False)
    starts = timezone.now() + datetime.timedelta(hours=1)
    services.delegation_grant(
        world.imu,
        unit_id=inner.organization.pk,
        principal_id=inner.org_handler.pk,
        deputy_id=deputy.pk,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
    )
    assert _sees(deputy, handled) == (False, False)
    with time_machine.travel(starts + datetime.timedelta(minutes=1)):
        assert _sees(deputy, handled) == (True, True)
    with time_machine.travel(starts + datetime.timedelta(hours=2)):
        assert _sees(deputy, handled) == (False, False)


def test_a_deputy_of_the_units_clerk_sees_what_the_unit_received(world, inner, handled):
    services.delegation_grant(
        world.imu,
        unit_id=world.university.pk,
        principal_id=world.imu.pk,
        deputy_id=inner.pub_handler.pk,
        starts_at=timezone.now() - datetime.timedelta(minutes=1),
        ends_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert _sees(inner.pub_handler, handled) == (True, True)
    delegation = inner.pub_handler.delegations_held.get()
    services.delegation_withdraw(world.imu, delegation.pk)
    assert _sees(inner.pub_handler, handled) == (False, False)


@pytest.mark.parametrize(
    "outsider",
    [
        "other_clerk",  # another unit
        "jygw_leader",  # the parent unit's people (the issuer's signer sees its document, not the 办理单's people)
        "univ_b_clerk",  # a sibling unit
        "college_clerk",  # a child unit of the recipient
        "anonymous",
    ],
)
def test_outsiders_see_nothing_of_the_handling(world, inner, handled, outsider):
    other_department = services.department_create(world.univ_b_clerk, world.university_b.pk, name="组织部")
    other_handler = person(other_department, Role.HANDLER)
    user = AnonymousUser() if outsider == "anonymous" else getattr(world, outsider)
    lead = Assignment.objects.get()
    report = services.assignment_report(
        inner.org_handler, lead.pk, text="已落实。", files=[("情况.pdf", io.BytesIO(b"%PDF-1.4\n"))]
    )
    stored = AssignmentReportFile.objects.get(report=report)
    assert access_report_file(inner.org_handler, stored.pk) == stored
    for person_outside in (user, other_handler):
        if outsider == "jygw_leader" and person_outside is user:
            # The issuing unit sees its delivery (as before), not through the handling record.
            assert _sees(user, handled) == (True, True)
            continue
        assert _sees(person_outside, handled) == (False, False)
        with pytest.raises(NotFound):
            access_delivery(person_outside, handled.pk)
        with pytest.raises(NotFound):
            access_report_file(person_outside, stored.pk)


def test_a_recalled_delivery_leaves_the_department_only_the_stub(world, inner, handled):
    services.delivery_recall(actor=world.jygw, delivery_id=handled.pk, reason="发错了")
    with pytest.raises(Withdrawn):
        access_delivery(inner.org_handler, handled.pk)
    assert _sees(inner.org_handler, handled) == (False, False)
