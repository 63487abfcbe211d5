"""The chain as it stood at a moment (workflow.selectors.chain_as_of), replayed from the audit events.

One history, built with the services while time-machine moves the clock (2022-10-13, Beijing time):

    09:00  the department issues a 特提 telegram to education and other (30 minutes to sign for)
    09:05  education opens it
    09:20  education signs for it
    09:25  education drafts a forward to its universities; 09:40 signed off and issued (30 minutes)
    09:50  university signs for the forward
    10:20  university_b returns the forward (退文)
    10:30  the reminder sweep urges other (overdue since 09:30)
    11:00  the department recalls education's delivery: the forward goes with it
    11:40  other signs for the telegram; 12:00 completes it (办结)

and the replay is checked against what was true at 09:10, 10:00, 11:30 and 12:30, then against the
rows after they were changed behind the services' back.
"""

import datetime
import io
from contextlib import contextmanager

import time_machine
from django.db import connection

from documents.importing import parse_text
from tests.documents.importing_helpers import seed_bytes, seed_text
from tests.factories import delivery_of, forward, issue, person, second_signer, unit
from tests.workflow.test_deadlines import at
from units.models import Role
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Receipt
from workflow.selectors import ChainNode, chain_as_of, chain_for_document, chain_levels
from workflow.services import SourceFile

ISSUED, T1, T2, T3, T4 = (at(f"2022-10-13 {hm}") for hm in ("09:00", "09:10", "10:00", "11:30", "12:30"))


@contextmanager
def clock(text: str):
    with time_machine.travel(at(f"2022-10-13 {text}"), tick=False):
        yield


def history(world) -> dict:
    """The history of the module's docstring; returns its documents and deliveries."""
    with clock("09:00"):
        telegram, _ = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    received, at_other = delivery_of(telegram, world.education), delivery_of(telegram, world.other)
    with clock("09:05"):
        services.delivery_open(actor=world.jygw, delivery=received)
    with clock("09:20"):
        services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    with clock("09:25"):
        cover = services.document_forward(
            actor=world.jygw, delivery=received, main_recipients=[world.groups["各高校党委"]]
        )
    with clock("09:40"):
        services.document_sign_off(actor=second_signer(world.education, world.jygw), document=cover)
        dispatch = services.document_issue(actor=world.jygw, document=cover)
        services.dispatch_route(dispatch_id=dispatch.pk)
    cover.refresh_from_db()
    at_university, at_university_b = delivery_of(cover, world.university), delivery_of(cover, world.university_b)
    with clock("09:50"):
        services.delivery_sign_for(actor=world.imu, delivery_id=at_university.pk)
    with clock("10:20"):
        services.delivery_return(actor=world.univ_b_clerk, delivery_id=at_university_b.pk, reason="not_competent")
    with clock("10:30"):
        assert services.delivery_remind_overdue() == {"reminded": 1, "escalated": 0}
    with clock("11:00"):
        services.delivery_recall(actor=world.zzb, delivery_id=received.pk, reason="发错了")
    with clock("11:40"):
        services.delivery_sign_for(actor=world.other_clerk, delivery_id=at_other.pk)
    with clock("12:00"):
        services.delivery_complete(
            actor=world.other_clerk,
            delivery_id=at_other.pk,
            feedback="已组织学习。",
            attachments=[("落实情况.txt", io.BytesIO("已落实\n".encode()))],
        )
    return {
        "telegram": telegram,
        "cover": cover,
        "received": received,
        "at_other": at_other,
        "at_university": at_university,
        "at_university_b": at_university_b,
    }


def _hm(moment: datetime.datetime | None) -> str | None:
    return f"{moment.astimezone(at('2022-10-13 00:00').tzinfo):%H:%M}" if moment else None


def rows(tree: ChainNode) -> list[tuple]:
    """Every delivery of the tree: (level, unit, state, read, signed, 催办, 办结, forwarded as)."""
    return [
        (
            node.depth + 1,
            delivery.unit,
            delivery.state,
            _hm(delivery.read_at),
            _hm(delivery.signed_at),
            delivery.reminders,
            _hm(delivery.completed_at),
            [child.number for child in delivery.forwards],
        )
        for node in tree.walk()
        for delivery in node.deliveries
    ]


def levels(tree: ChainNode, now: datetime.datetime) -> list[tuple]:
    """Per level: (level, received, signed, stalled, of them overdue, signed late, completed)."""
    return [
        (level.depth, level.total, level.signed, len(level.stalled), level.overdue, level.late_signs, level.completed)
        for level in chain_levels(tree, now=now)
    ]


def test_before_the_issue_there_is_no_chain_yet(world):
    made = history(world)
    assert chain_as_of(made["telegram"], moment=ISSUED - datetime.timedelta(microseconds=1)) is None
    # The moment of the issue itself: issued, and delivered (routing ran at the same moment).
    assert [row[:3] for row in rows(chain_as_of(made["telegram"], moment=ISSUED))] == [
        (1, "自治区教育工委", "pending"),
        (1, "自治区直属机关工委", "pending"),
    ]
    # A forward asked for before its own issue: nothing yet, though its chain had begun.
    assert chain_as_of(made["cover"], moment=T1) is None


def test_at_0910_only_the_first_level_is_delivered_and_nobody_has_signed(world):
    made = history(world)
    tree = chain_as_of(made["telegram"], moment=T1)
    assert (tree.number, tree.digest, tree.issued_at) == (made["telegram"].number, made["telegram"].digest, ISSUED)
    assert rows(tree) == [
        (1, "自治区教育工委", "pending", "09:05", None, 0, None, []),
        (1, "自治区直属机关工委", "pending", None, None, 0, None, []),
    ]
    assert levels(tree, T1) == [(1, 2, 0, 2, 0, 0, 0)]
    assert [delivery.receipt_digest for delivery in tree.deliveries] == [None, None]


def test_at_1000_education_has_signed_and_forwarded(world):
    made = history(world)
    tree = chain_as_of(made["telegram"], moment=T2)
    cover = made["cover"]
    assert rows(tree) == [
        (1, "自治区教育工委", "signed", "09:05", "09:20", 0, None, [cover.number]),
        (1, "自治区直属机关工委", "pending", None, None, 0, None, []),
        (2, "内蒙古大学党委", "signed", "09:50", "09:50", 0, None, []),
        (2, "内蒙古工业大学党委", "pending", None, None, 0, None, []),
    ]
    # other is 30 minutes past its deadline (09:30); university_b's runs to 10:10.
    assert levels(tree, T2) == [(1, 2, 1, 1, 1, 0, 0), (2, 2, 1, 1, 0, 0, 0)]
    (node,) = tree.deliveries[0].forwards
    assert (node.number, node.digest, node.issued_at, node.depth) == (
        cover.number,
        cover.digest,
        at("2022-10-13 09:40"),
        1,
    )
    assert node.encloses == [(made["telegram"].number, made["telegram"].digest)]
    # The digest each unit signed for, as its DELIVERY_SIGNED event recorded it.
    assert tree.deliveries[0].receipt_digest == made["telegram"].digest
    assert node.deliveries[0].receipt_digest == cover.digest
    # The deadlines fixed at issue (DOCUMENT_ISSUED's payload): 30 minutes for a 特提 telegram.
    assert [_hm(d.deadline_sign_for) for d in (tree.deliveries[0], node.deliveries[0])] == ["09:30", "10:10"]


def test_at_1130_the_recall_has_withdrawn_education_and_its_forward(world):
    made = history(world)
    tree = chain_as_of(made["telegram"], moment=T3)
    cover = made["cover"]
    assert rows(tree) == [
        (1, "自治区教育工委", "recalled_signed", "09:05", "09:20", 0, None, [cover.number]),
        (1, "自治区直属机关工委", "pending", None, None, 1, None, []),
        (2, "内蒙古大学党委", "recalled_signed", "09:50", "09:50", 0, None, []),
        (2, "内蒙古工业大学党委", "returned", None, None, 0, None, []),
    ]
    # A withdrawn or returned unit is nobody's business any more: other alone is stalled (and overdue).
    assert levels(tree, T3) == [(1, 2, 1, 1, 1, 0, 0), (2, 2, 1, 0, 0, 0, 0)]


def test_at_1230_other_has_signed_late_and_completed(world):
    made = history(world)
    tree = chain_as_of(made["telegram"], moment=T4)
    assert rows(tree)[1] == (1, "自治区直属机关工委", "completed", "11:40", "11:40", 1, "12:00", [])
    assert levels(tree, T4) == [(1, 2, 2, 0, 0, 1, 1), (2, 2, 1, 0, 0, 0, 0)]
    completion_id = made["at_other"].completion.pk
    assert [d.completion_id for d in tree.deliveries] == [None, completion_id]


def test_each_event_counts_at_its_own_moment_to_the_microsecond(world):
    made = history(world)
    signed = at("2022-10-13 09:20")
    before, then = (
        chain_as_of(made["telegram"], moment=moment) for moment in (signed - datetime.timedelta(microseconds=1), signed)
    )
    assert (before.deliveries[0].state, then.deliveries[0].state) == ("pending", "signed")
    # The forward issued at 09:40 hangs below education from 09:40 on, not while it was a draft.
    assert chain_as_of(made["telegram"], moment=at("2022-10-13 09:39")).deliveries[0].forwards == []


def test_the_replay_of_the_present_is_the_chain_as_the_rows_say(world):
    made = history(world)
    with clock("13:00"):
        now = datetime.datetime.now(datetime.UTC)
    for document in (made["telegram"], made["cover"]):
        replayed, current = chain_as_of(document, moment=now), chain_for_document(document)
        assert replayed.as_json() == current.as_json()
        assert [node.issued_at for node in replayed.walk()] == [node.issued_at for node in current.walk()]


@contextmanager
def triggers_off():
    """As the database's owner: no trigger fires (the attack that needs one to be off)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")


def test_the_replay_reads_the_events_not_the_rows_current_columns(world):
    made = history(world)
    with triggers_off():
        # other is said never to have been urged, and completed at 11:00; education is said never
        # to have lost the document, signed at 10:55 for a digest of zeros; university_b never read
        # it and signed at 10:00 instead of returning it.
        rewritten = at("2022-10-13 11:00")
        Delivery.objects.filter(pk=made["at_other"].pk).update(
            reminder_count=0, last_reminded_at=None, completed_at=rewritten, signed_at=rewritten, read_at=rewritten
        )
        Delivery.objects.filter(pk=made["received"].pk).update(
            state="signed", recall=None, signed_at=at("2022-10-13 10:55")
        )
        Receipt.objects.filter(delivery=made["received"]).update(content_digest="0" * 64)
        Delivery.objects.filter(pk=made["at_university_b"].pk).update(
            state="signed", signed_at=at("2022-10-13 10:00"), returned_at=None
        )
    current = rows(chain_for_document(made["telegram"]))
    assert current[0][2:5] == ("signed", "09:05", "10:55")  # the rows do say it
    assert current[1][5:7] == (0, "11:00")

    cover = made["cover"]
    assert rows(chain_as_of(made["telegram"], moment=T3)) == [
        (1, "自治区教育工委", "recalled_signed", "09:05", "09:20", 0, None, [cover.number]),
        (1, "自治区直属机关工委", "pending", None, None, 1, None, []),
        (2, "内蒙古大学党委", "recalled_signed", "09:50", "09:50", 0, None, []),
        (2, "内蒙古工业大学党委", "returned", None, None, 0, None, []),
    ]
    replayed = chain_as_of(made["telegram"], moment=T4)
    assert rows(replayed)[1] == (1, "自治区直属机关工委", "completed", "11:40", "11:40", 1, "12:00", [])
    assert replayed.deliveries[0].receipt_digest == made["telegram"].digest


def test_a_forward_routed_after_its_source_was_recalled_is_delivered_withdrawn(world):
    with clock("09:00"):
        telegram, _ = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    received = delivery_of(telegram, world.education)
    with clock("09:20"):
        cover, dispatch = forward(world.jygw, received, main=[world.groups["各高校党委"]], route=False)
    with clock("09:30"):
        services.delivery_recall(actor=world.zzb, delivery_id=received.pk, reason="重发")
    with clock("09:40"):
        services.dispatch_route(dispatch_id=dispatch.pk)  # a routing message that arrived late
    received.refresh_from_db()
    created = AuditEvent.objects.get(verb=AuditVerb.DELIVERIES_CREATED, document=cover)
    assert created.payload["recall_id"] == received.recall_id

    def cover_rows(moment: str) -> list[tuple]:
        return [row[:3] for row in rows(chain_as_of(telegram, moment=at(f"2022-10-13 {moment}")))[1:]]

    # Issued at 09:20, not yet routed: the cover letter hangs below education with nobody reached.
    assert [node.number for node in chain_as_of(telegram, moment=at("2022-10-13 09:25")).walk()] == [
        telegram.number,
        cover.number,
    ]
    assert cover_rows("09:25") == []
    assert cover_rows("09:35") == []
    assert cover_rows("09:40") == [(2, "内蒙古大学党委", "recalled"), (2, "内蒙古工业大学党委", "recalled")]


def test_a_chain_registered_from_paper_replays_from_its_registration(world):
    source = SourceFile.of("seed.txt", seed_bytes())
    with clock("09:00"):
        registration = services.document_register_received(
            actor=world.imu, unit=world.university, parsed=parse_text(seed_text()), source=source
        )
    cover = registration.document
    with clock("09:30"):
        services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    assert chain_as_of(cover, moment=at("2022-10-13 08:59")) is None
    assert rows(chain_as_of(cover, moment=at("2022-10-13 09:10"))) == [
        (1, "内蒙古大学党委", "pending", None, None, 0, None, []),
    ]
    replayed = chain_as_of(cover, moment=at("2022-10-13 09:30"))
    assert rows(replayed) == [(1, "内蒙古大学党委", "signed", "09:30", "09:30", 0, None, [])]
    assert replayed.as_json() == chain_for_document(cover).as_json()


def _wide_chain(world, width: int):
    """A telegram to education and half of `width` universities; education forwards it to all of
    them, and every other one signs for the forward."""
    universities = [unit(f"高校{width}-{i}", world.education) for i in range(width)]
    clerks = [person(each, Role.CLERK) for each in universities]
    root, _ = issue(world.zzb, world.department, main=[world.education, *universities[: width // 2]])
    cover, _ = forward(world.jygw, delivery_of(root, world.education), main=universities)
    for each, clerk in list(zip(universities, clerks, strict=True))[::2]:
        services.delivery_sign_for(actor=clerk, delivery_id=delivery_of(cover, each).pk)
    return root


def test_the_replay_is_six_queries_whatever_the_size_of_the_chain(world, count_queries):
    small, large = _wide_chain(world, 2), _wide_chain(world, 40)
    now = datetime.datetime.now(datetime.UTC)
    small_count, _small_tree = count_queries(chain_as_of, small, moment=now)
    large_count, large_tree = count_queries(chain_as_of, large, moment=now)
    assert small_count == large_count == 6
    assert [len(node.deliveries) for node in large_tree.walk()] == [21, 40]
    assert sum(d.signed_at is not None for node in large_tree.walk() for d in node.deliveries) == 1 + 20


def deleted_delivery(world):
    """A telegram to education and other (09:00); other's delivery row deleted, triggers off, as
    the table's owner can (the dispatch was never notified: nothing else points to the row)."""
    with clock("09:00"):
        telegram, _ = issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workflow_delivery WHERE id = %s", [delivery_of(telegram, world.other).pk])
    return telegram


def test_a_delivery_row_deleted_behind_the_services_back_is_named_by_its_unit_not_hidden(world):
    telegram = deleted_delivery(world)
    assert [row[1] for row in rows(chain_for_document(telegram))] == ["自治区教育工委"]  # gone from the rows

    tree = chain_as_of(telegram, moment=T1)
    assert rows(tree) == [(1, "自治区教育工委", "pending", None, None, 0, None, [])]
    assert tree.missing_unit_ids == [world.other.pk]
    assert tree.as_json()["missing_delivery_unit_ids"] == [world.other.pk]
