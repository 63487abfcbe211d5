"""特提 and 平急 are telegrams' levels; a document is 特急 or 加急 (issue 13). Drafting holds our own
documents to it; a forward of a telegram maps the level and keeps the telegram's clock."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from documents.models import Kind, Urgency
from tests.factories import content, delivery_of, issue
from units.errors import InvalidInput
from workflow import services
from workflow.models import Queue

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("kind", "urgency", "carried"),
    [
        (Kind.TELEGRAM, Urgency.FLASH, Urgency.FLASH),
        (Kind.TELEGRAM, Urgency.PRIORITY, Urgency.PRIORITY),
        (Kind.NOTICE, Urgency.FLASH, Urgency.EXTRA_URGENT),
        (Kind.NOTICE, Urgency.PRIORITY, Urgency.URGENT),
        (Kind.LETTER, Urgency.EXTRA_URGENT, Urgency.EXTRA_URGENT),
        (Kind.OPINION, Urgency.URGENT, Urgency.URGENT),
        (Kind.NOTICE, Urgency.ROUTINE, Urgency.ROUTINE),
    ],
)
def test_a_level_is_carried_as_is_or_mapped_to_the_nearest_the_kind_can_carry(kind, urgency, carried):
    assert Urgency.carried_by(kind, urgency) == carried


@pytest.mark.parametrize("urgency", [Urgency.FLASH, Urgency.PRIORITY])
def test_a_notice_drafted_at_a_telegrams_level_is_refused_and_nothing_is_written(world, nothing_written, urgency):
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        services.document_draft(
            actor=world.zzb, unit=world.department, content=content(kind=Kind.NOTICE, urgency=urgency)
        )
    assert str(refused.value) == f"{urgency}只用于明传电报；通知的紧急程度为特急或加急。"


def test_a_draft_cannot_be_changed_to_a_level_its_kind_cannot_carry(world, nothing_written):
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=content(kind=Kind.NOTICE))
    with nothing_written(), pytest.raises(InvalidInput, match="特提只用于明传电报；通知的紧急程度为特急或加急。"):
        services.document_update(
            actor=world.zzb, document=draft, content=content(kind=Kind.NOTICE, urgency=Urgency.FLASH)
        )


@time_machine.travel(datetime.datetime(2022, 10, 13, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_the_forward_of_a_flash_telegram_goes_out_extra_urgent_on_the_telegrams_clock(world):
    telegram, _dispatch = issue(world.zzb, world.department, main=[world.education], urgency=Urgency.FLASH)
    assert telegram.kind == Kind.TELEGRAM
    delivery = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    cover = services.document_forward(actor=world.jygw, delivery=delivery, main_recipients=[world.university])
    services.document_sign_off(actor=world.jygw_leader, document=cover)
    dispatch = services.document_issue(actor=world.jygw, document=cover)

    assert (cover.kind, cover.urgency, dispatch.queue) == (Kind.NOTICE, Urgency.EXTRA_URGENT, Queue.URGENT)
    # 特提: 30 minutes to sign for it (特急 would give 2 hours), however the cover is printed.
    assert dispatch.deadline_sign_for == datetime.datetime(2022, 10, 13, 9, 30, tzinfo=SHANGHAI)


def test_a_forward_refuses_a_telegrams_level_asked_for_a_notice(world, nothing_written):
    telegram, _dispatch = issue(world.zzb, world.department, main=[world.education], urgency=Urgency.FLASH)
    delivery = delivery_of(telegram, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(InvalidInput, match="平急只用于明传电报"):
        services.document_forward(
            actor=world.jygw, delivery=delivery, main_recipients=[world.university], urgency=Urgency.PRIORITY
        )
