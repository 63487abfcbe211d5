"""Inside a recipient unit (issue 14): its departments and people, and its handling record built
with the real services, for the page, permission, query-count and browser tests."""

from dataclasses import dataclass

from tests.factories import delivery_of, issue, person
from units.models import Role, Unit
from workflow import services
from workflow.models import (
    Assignment,
    Delivery,
    HandlingRecord,
    ReadingSlip,
)


@dataclass
class Inside:
    """A recipient unit from the inside: its 办公室 clerk, its 党委书记 (leader), two readers, and
    three departments (组织部 and 宣传部 get the work, 统战部 never does), each with a handler."""

    unit: Unit
    clerk: object
    secretary: object
    reader_a: object
    reader_b: object
    organisation: Unit
    publicity: Unit
    united_front: Unit
    org_handler: object
    pub_handler: object
    idle_handler: object


def build_inside(unit: Unit, clerk, *, prefix: str) -> Inside:
    departments = [
        services.department_create(actor=clerk, unit_id=unit.pk, name=f"{unit.name}{name}", short_name=name)
        for name in ("组织部", "宣传部", "统战部")
    ]
    organisation, publicity, united_front = departments
    return Inside(
        unit=unit,
        clerk=clerk,
        secretary=person(unit, Role.LEADER, username=f"{prefix}secretary"),
        reader_a=person(unit, Role.READER, username=f"{prefix}reader_a"),
        reader_b=person(unit, Role.READER, username=f"{prefix}reader_b"),
        organisation=organisation,
        publicity=publicity,
        united_front=united_front,
        org_handler=person(organisation, Role.HANDLER, username=f"{prefix}org_handler"),
        pub_handler=person(publicity, Role.HANDLER, username=f"{prefix}pub_handler"),
        idle_handler=person(united_front, Role.HANDLER, username=f"{prefix}idle_handler"),
    )


def received_by(world, unit: Unit, clerk, **overrides) -> Delivery:
    """The education commission's notice to `unit`, signed for by its clerk."""
    document, _ = issue(world.jygw, world.education, main=[unit], **overrides)
    delivery = delivery_of(document, unit)
    services.delivery_sign_for(actor=clerk, delivery_id=delivery.pk)
    return delivery


def instructed(inside: Inside, delivery: Delivery, *, may_pass_on: bool = False) -> HandlingRecord:
    """Registered, proposed and instructed: 组织部 主办, 宣传部 协办, reader_a then reader_b."""
    record = services.delivery_register(actor=inside.clerk, delivery_id=delivery.pk)
    services.handling_propose(
        actor=inside.clerk,
        record_id=record.pk,
        text="请组织部牵头落实，宣传部配合。",
        department_ids=[inside.organisation.pk, inside.publicity.pk],
    )
    services.handling_instruct(
        actor=inside.secretary,
        record_id=record.pk,
        text="同意。请组织部抓好落实。",
        lead_department_ids=[inside.organisation.pk],
        assist_department_ids=[inside.publicity.pk],
        reader_ids=[inside.reader_a.pk, inside.reader_b.pk],
        readers_may_pass_on=may_pass_on,
    )
    return record


def assignment_of(record: HandlingRecord, department: Unit) -> Assignment:
    return Assignment.objects.get(record=record, department=department)


def slip_of(record: HandlingRecord, reader) -> ReadingSlip:
    return ReadingSlip.objects.get(record=record, reader=reader)
