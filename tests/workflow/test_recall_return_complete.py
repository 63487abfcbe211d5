"""撤回, 退文 and 办结: what each does, and that each is refused to every wrong unit with nothing written."""

import io
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from tests.factories import content, delivery_of, forward, issue, person, unit
from units.errors import Conflict, InvalidInput, NotAllowed, NotFound, Withdrawn
from units.models import Role
from workflow import services
from workflow.models import (
    AuditEvent,
    AuditVerb,
    Completion,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Notification,
    Recall,
    ReturnReason,
)
from workflow.selectors import inbox_for_user


def _user(world, name):
    if name is None:
        return None
    return AnonymousUser() if name == "anonymous" else world.people[name]


def _notified(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", "delivery_id"))


# --- 撤回 ------------------------------------------------------------------------------------------


@pytest.fixture
def chain(world):
    """department → education (signed, forwarded to university and university_b) and other (pending)."""
    root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    cover, _ = forward(world.jygw, delivery_of(root, world.education), main=[world.groups["各高校党委"]])
    return root, dispatch, cover


def test_recalling_a_dispatch_withdraws_it_from_every_unit_and_from_every_unit_it_was_forwarded_to(world, chain):
    root, dispatch, cover = chain
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)

    counts = services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容需要修改")

    assert counts == {"withdrawn": 1, "held": 1, "downstream": 2}
    education, other = delivery_of(root, world.education), delivery_of(root, world.other)
    university, university_b = delivery_of(cover, world.university), delivery_of(cover, world.university_b)
    # One state each: withdrawn before signing, or after; the units below lose the forward with it.
    assert [d.state for d in (other, education, university, university_b)] == [
        Delivery.State.RECALLED,
        Delivery.State.RECALLED_AFTER_SIGNING,
        Delivery.State.RECALLED_AFTER_SIGNING,
        Delivery.State.RECALLED,
    ]
    recall = Recall.objects.get()
    assert (recall.dispatch_id, recall.delivery_id, recall.recalled_by_id, recall.reason) == (
        dispatch.pk,
        None,
        world.zzb.pk,
        "内容需要修改",
    )
    assert {d.recall_id for d in (other, education, university, university_b)} == {recall.pk}
    # The dispatch, and the dispatch of the cover letter forwarded from what was recalled.
    assert sorted(Dispatch.objects.filter(recall=recall).values_list("document_id", flat=True)) == [root.pk, cover.pk]
    # Their inboxes list only the stubs.
    assert [(d.pk, d.state) for d in inbox_for_user(world.other_clerk)] == [(other.pk, Delivery.State.RECALLED)]
    assert _notified(Notification.Kind.RECALLED) == sorted(
        [
            ("jygw", education.pk),
            ("other_clerk", other.pk),
            ("imu", university.pk),
            ("univ_b_clerk", university_b.pk),
        ]
    )
    assert Notification.objects.get(user=world.imu, kind="recalled").text == (
        f"自治区党委组织部已撤回{root.number}《关于做好测试工作的通知》。撤回原因：内容需要修改"
    )
    event = AuditEvent.objects.get(verb=AuditVerb.DISPATCH_RECALLED)
    assert (event.actor_id, event.object_id, event.payload) == (
        world.zzb.pk,
        str(dispatch.pk),
        {"withdrawn": 1, "held": 1, "downstream": 2, "reason": "内容需要修改", "recall_id": recall.pk},
    )
    # The audit log names every delivery taken away, per document.
    withdrawn = {
        event.document_id: event.payload["delivery_ids"]
        for event in AuditEvent.objects.filter(verb=AuditVerb.DELIVERIES_WITHDRAWN, object_id=str(recall.pk))
    }
    assert withdrawn == {root.pk: sorted([education.pk, other.pk]), cover.pk: sorted([university.pk, university_b.pk])}


def test_recalling_one_unsigned_delivery_leaves_the_rest_of_the_dispatch(world, chain):
    root, _dispatch, _cover = chain
    other = delivery_of(root, world.other)
    assert services.delivery_recall(actor=world.zzb, delivery_id=other.pk) == {
        "withdrawn": 1,
        "held": 0,
        "downstream": 0,
    }
    assert delivery_of(root, world.education).state == Delivery.State.SIGNED
    assert Recall.objects.get().delivery_id == other.pk
    assert _notified(Notification.Kind.RECALLED) == [("other_clerk", other.pk)]
    with pytest.raises(Withdrawn, match="已撤回，不能签收"):
        services.delivery_sign_for(actor=world.other_clerk, delivery_id=other.pk)


def test_recalling_one_signed_delivery_withdraws_the_chain_below_it_and_nothing_else(world, chain):
    root, dispatch, cover = chain
    education = delivery_of(root, world.education)
    assert services.delivery_recall(actor=world.zzb, delivery_id=education.pk)["downstream"] == 2
    assert delivery_of(root, world.education).state == Delivery.State.RECALLED_AFTER_SIGNING
    assert delivery_of(root, world.other).state == Delivery.State.PENDING
    assert Dispatch.objects.get(pk=dispatch.pk).recall_id is None
    assert Dispatch.objects.get(document=cover).recall_id == Recall.objects.get().pk
    assert {username for username, _ in _notified(Notification.Kind.RECALLED)} == {"jygw", "imu", "univ_b_clerk"}


def test_a_signed_delivery_recalled_refuses_even_a_repeated_sign_for(world, chain, nothing_written):
    root, _dispatch, _cover = chain
    education = delivery_of(root, world.education)
    services.delivery_recall(actor=world.zzb, delivery_id=education.pk)
    with nothing_written(), pytest.raises(Withdrawn, match="签收后撤回，不能签收"):
        services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)


def test_a_forward_drafted_before_the_recall_cannot_be_issued_after_it(world, nothing_written):
    root, _dispatch = issue(world.zzb, world.department, main=[world.education])
    education = delivery_of(root, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=education.pk)
    cover = services.document_forward(actor=world.jygw, delivery=education, main_recipients=[world.university])
    services.document_sign_off(actor=world.jygw_leader, document=cover)
    services.delivery_recall(actor=world.zzb, delivery_id=education.pk)
    with nothing_written(), pytest.raises(Conflict, match="状态为签收后撤回，不能印发这份转发通知"):
        services.document_issue(actor=world.jygw, document=cover)
    with nothing_written(), pytest.raises(Conflict, match="签收后撤回，不能转发"):
        services.document_forward(actor=world.jygw, delivery=education, main_recipients=[world.university])


def test_a_cover_letter_still_routing_when_its_source_is_recalled_creates_its_rest_withdrawn(world):
    root, _dispatch = issue(world.zzb, world.department, main=[world.education])
    education = delivery_of(root, world.education)
    cover, cover_dispatch = forward(world.jygw, education, main=[world.groups["各高校党委"]], route=False)
    services.delivery_recall(actor=world.zzb, delivery_id=education.pk, reason="有误")
    services.dispatch_route(dispatch_id=cover_dispatch.pk)
    assert (
        sorted(Delivery.objects.filter(document=cover).values_list("state", "recall_id"))
        == [(Delivery.State.RECALLED, Recall.objects.get().pk)] * 2
    )
    # Their clerks are never told it arrived.
    services.dispatch_notify(dispatch_id=cover_dispatch.pk)
    assert not Notification.objects.filter(kind=Notification.Kind.DELIVERED, delivery__document=cover).exists()


def test_recalling_twice_is_refused_and_writes_nothing(world, chain, nothing_written):
    root, dispatch, _cover = chain
    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk)
    with nothing_written(), pytest.raises(Conflict, match="已经撤回"):
        services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk)
    with nothing_written(), pytest.raises(Conflict, match="状态为签收后撤回，不能撤回"):
        services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(root, world.education).pk)


def test_a_dispatch_still_routing_cannot_be_recalled_yet(world, nothing_written):
    _root, dispatch = issue(world.zzb, world.department, main=[world.education], route=False)
    with nothing_written(), pytest.raises(Conflict, match="正在分发"):
        services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk)


# Another unit, a recipient, the recipient's child unit, the issuer's parent (auditor), anonymous, nobody.
INTRUDERS = ["other_clerk", "jygw", "imu", "auditor", "anonymous", None]


@pytest.mark.parametrize("intruder", INTRUDERS)
def test_only_the_issuing_unit_may_recall(world, chain, nothing_written, intruder):
    root, dispatch, _cover = chain
    user = _user(world, intruder)
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区党委组织部的收发员或签发人，不能撤回"):
        services.dispatch_recall(actor=user, dispatch_id=dispatch.pk)
    with nothing_written(), pytest.raises(NotAllowed):
        services.delivery_recall(actor=user, delivery_id=delivery_of(root, world.other).pk)


def test_recalling_what_does_not_exist_is_not_found(world, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.dispatch_recall(actor=world.zzb, dispatch_id=10**9)
    with nothing_written(), pytest.raises(NotFound):
        services.delivery_recall(actor=world.zzb, delivery_id=10**9)


# --- 退文 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ReturnReason.values)
def test_a_recipient_returns_a_delivery_with_each_reason_and_the_issuer_is_told(world, reason):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    text = "请按规定重新报送。" if reason == ReturnReason.OTHER else ""

    returned = services.delivery_return(actor=world.jygw, delivery_id=delivery.pk, reason=reason, text=text)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.returned_at) == (Delivery.State.RETURNED, returned.returned_at)
    assert (returned.unit_id, returned.reason, returned.text, returned.returned_by_id) == (
        world.education.pk,
        reason,
        text,
        world.jygw.pk,
    )
    label = ReturnReason(reason).label
    assert list(Notification.objects.filter(kind="returned").values_list("user__username", "text")) == [
        ("zzb", f"自治区教育工委退回了{document.number}《关于做好测试工作的通知》，理由：{label}。{text}")
    ]
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_RETURNED)
    assert event.payload == {"return_id": returned.pk, "reason": reason, "text": text}


def test_a_signed_delivery_may_be_returned_after_first_review_unless_forwarded(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    other = delivery_of(document, world.other)
    services.delivery_sign_for(actor=world.other_clerk, delivery_id=other.pk)
    services.delivery_return(actor=world.other_clerk, delivery_id=other.pk, reason=ReturnReason.WRONG_FORMAT)
    assert Delivery.objects.get(pk=other.pk).state == Delivery.State.RETURNED

    forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    with nothing_written(), pytest.raises(Conflict, match="本单位已经转发了这份公文"):
        services.delivery_return(
            actor=world.jygw, delivery_id=delivery_of(document, world.education).pk, reason=ReturnReason.NOT_COMPETENT
        )


@pytest.mark.parametrize(
    ("reason", "text", "message"),
    [("other", "", "请写明具体理由"), ("lost", "", "退文理由“lost”不存在"), ("not_competent", "字" * 2001, "过长")],
)
def test_a_return_without_a_valid_reason_is_refused(world, nothing_written, reason, text, message):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    with nothing_written(), pytest.raises(InvalidInput, match=message):
        services.delivery_return(
            actor=world.jygw, delivery_id=delivery_of(document, world.education).pk, reason=reason, text=text
        )


# Another unit, the issuer, the recipient's parent (region auditor), its child unit's clerk, anonymous, nobody.
RECIPIENT_INTRUDERS = ["other_clerk", "zzb", "auditor", "imu", "anonymous", None]


@pytest.mark.parametrize("intruder", RECIPIENT_INTRUDERS)
def test_only_a_clerk_of_the_recipient_unit_may_return(world, nothing_written, intruder):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区教育工委的收发员，不能退文"):
        services.delivery_return(
            actor=_user(world, intruder),
            delivery_id=delivery_of(document, world.education).pk,
            reason=ReturnReason.NOT_COMPETENT,
        )


def test_the_issuer_answers_a_return_with_a_corrected_document_that_records_it(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    returned = services.delivery_return(
        actor=world.jygw, delivery_id=delivery_of(document, world.education).pk, reason=ReturnReason.AGAINST_RULES
    )
    draft = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    dispatch = services.document_issue(actor=world.zzb, document=draft, answers_return_id=returned.pk)
    assert (dispatch.answers_return_id, list(returned.corrections.all())) == (returned.pk, [dispatch])
    assert AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_ISSUED, document=draft).payload["answers_return_id"] == (
        returned.pk
    )

    # Another unit cannot claim to answer it.
    other_draft = services.document_draft(
        actor=world.other_clerk, unit=world.other, content=content(), main_recipients=[world.education]
    )
    services.document_sign_off(actor=world.other_leader, document=other_draft)
    with nothing_written(), pytest.raises(InvalidInput, match="不是退给本单位的"):
        services.document_issue(actor=world.other_clerk, document=other_draft, answers_return_id=returned.pk)


# --- 办结 ------------------------------------------------------------------------------------------


def test_a_recipient_completes_a_delivery_with_feedback_and_attachments(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)

    completion = services.delivery_complete(
        actor=world.jygw,
        delivery_id=delivery.pk,
        feedback="已传达学习，并部署到各高校。",
        attachments=[("落实情况.txt", io.BytesIO("第一条。".encode()))],
    )

    delivery.refresh_from_db()
    assert (delivery.state, delivery.completed_at) == (Delivery.State.COMPLETED, completion.completed_at)
    assert (completion.feedback, completion.completed_by_id, completion.unit_id) == (
        "已传达学习，并部署到各高校。",
        world.jygw.pk,
        world.education.pk,
    )
    (attachment,) = completion.attachments.all()
    assert (attachment.name, attachment.size, attachment.file.read().decode()) == ("落实情况.txt", 12, "第一条。")
    assert _notified(Notification.Kind.COMPLETED) == [("zzb", delivery.pk)]
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_COMPLETED)
    assert event.payload == {
        "completion_id": completion.pk,
        "feedback": "已传达学习，并部署到各高校。",
        "attachments": [{"name": "落实情况.txt", "size": 12, "sha256": attachment.sha256}],
    }


def test_completion_needs_a_sign_for_first_and_happens_once(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    with nothing_written(), pytest.raises(Conflict, match="请先签收"):
        services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办。")
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办。")
    with nothing_written(), pytest.raises(Conflict, match="已办结，不能办结"):
        services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="又办了。")
    assert Completion.objects.count() == 1


@pytest.mark.parametrize(
    ("feedback", "attachments", "message"),
    [
        ("  ", [], "请填写落实情况"),
        ("已办。", [("病毒.exe", io.BytesIO(b"MZ"))], "类型不允许"),
        ("已办。", [("空.txt", io.BytesIO(b""))], "是空文件"),
    ],
)
def test_completion_refuses_empty_feedback_and_bad_files(world, nothing_written, feedback, attachments, message):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(InvalidInput, match=message):
        services.delivery_complete(
            actor=world.jygw, delivery_id=delivery.pk, feedback=feedback, attachments=attachments
        )


@pytest.mark.parametrize("intruder", RECIPIENT_INTRUDERS)
def test_only_a_clerk_of_the_recipient_unit_may_complete(world, nothing_written, intruder):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    with nothing_written(), pytest.raises(NotAllowed, match="不是自治区教育工委的收发员，不能办结"):
        services.delivery_complete(actor=_user(world, intruder), delivery_id=delivery.pk, feedback="代办。")


def test_a_returned_delivery_cannot_be_completed_nor_returned_again(world, nothing_written):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_return(actor=world.jygw, delivery_id=delivery.pk, reason=ReturnReason.NOT_CONSULTED)
    with nothing_written(), pytest.raises(Conflict, match="已退文"):
        services.delivery_return(actor=world.jygw, delivery_id=delivery.pk, reason=ReturnReason.NOT_CONSULTED)
    with nothing_written(), pytest.raises(Conflict, match="已退文"):
        services.delivery_complete(actor=world.jygw, delivery_id=delivery.pk, feedback="已办。")
    assert DeliveryReturn.objects.count() == 1


def test_notices_are_written_in_chinese_whatever_language_the_actor_reads_pages_in(world, chain):
    # Notices and their emails are records other units' clerks read: never in the sender's English.
    root, dispatch, cover = chain
    university = delivery_of(cover, world.university)
    with translation.override("en"):
        services.delivery_remind(actor=world.zzb, delivery_id=delivery_of(root, world.other).pk)
        services.delivery_return(
            actor=world.imu, delivery_id=university.pk, reason=ReturnReason.OTHER, text="请补充附件。"
        )
        services.delivery_complete(
            actor=world.jygw, delivery_id=delivery_of(root, world.education).pk, feedback="已传达。"
        )
        services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容需要修改")

    texts = dict(Notification.objects.exclude(kind="delivered").values_list("kind", "text").distinct())
    assert set(texts) == {"reminder", "returned", "completed", "recalled"}
    assert texts["returned"] == f"内蒙古大学党委退回了{cover.number}《{cover.title}》，理由：其他。请补充附件。"
    assert texts["completed"] == f"自治区教育工委已办结{root.number}《关于做好测试工作的通知》。落实情况：已传达。"
    assert texts["recalled"] == f"自治区党委组织部已撤回{root.number}《关于做好测试工作的通知》。撤回原因：内容需要修改"
    assert texts["reminder"].startswith(f"{root.number}《关于做好测试工作的通知》签收时限为")
    assert texts["reminder"].endswith("，请尽快办理（第1次催办）。")
    assert not re.search("[A-Za-z]", texts["reminder"])


def test_recalling_a_dispatch_runs_the_same_queries_for_2_units_and_for_40(world, count_queries):
    # Half the units signed for it and forwarded it one level down: withdrawn, held and downstream
    # deliveries at both sizes. Every clerk below is told, and nothing is loaded unit by unit.
    runs = []
    for size in (2, 40):
        schools = [unit(f"学校{size}-{i:02d}", world.education, prefixes=[f"校{size}-{i}发"]) for i in range(size)]
        colleges = [unit(f"学院{size}-{i:02d}", school) for i, school in enumerate(schools)]
        for place in schools + colleges:
            person(place, Role.CLERK, Role.SIGNER)
            person(place, Role.SIGNER)  # who signs off what the clerk drafts
        root, dispatch = issue(world.jygw, world.education, main=schools)
        for school, college in list(zip(schools, colleges, strict=True))[: size // 2]:
            clerk = school.group.user_set.order_by("pk").first()  # the clerk, created first
            forward(clerk, delivery_of(root, school), main=[college])

        queries, counts = count_queries(
            services.dispatch_recall, actor=world.jygw, dispatch_id=dispatch.pk, reason="内容需要修改"
        )

        assert counts == {"withdrawn": size // 2, "held": size // 2, "downstream": size // 2}
        told = Notification.objects.filter(kind=Notification.Kind.RECALLED, delivery__unit__in=schools + colleges)
        assert told.count() == 2 * size - size // 2
        runs.append(queries)
    assert runs[0] == runs[1]


def test_a_recall_tells_every_clerk_once_whatever_the_chunks_of_its_notices(world, monkeypatch):
    # notify_clerks_of names the deliveries by id, NOTIFY_CHUNK at a time (a recall_id written in the
    # same transaction was misestimated into a plan quadratic in the units): chunks of 7 over 23
    # units tell each clerk exactly once, as one statement would.
    monkeypatch.setattr("workflow.services.notifications.NOTIFY_CHUNK", 7)
    schools = [unit(f"分批学校{i:02d}", world.education) for i in range(23)]
    clerks = {school.pk: person(school, Role.CLERK) for school in schools}
    _root, dispatch = issue(world.jygw, world.education, main=schools)
    services.dispatch_recall(actor=world.jygw, dispatch_id=dispatch.pk, reason="内容需要修改")
    told = Notification.objects.filter(kind=Notification.Kind.RECALLED, delivery__dispatch=dispatch)
    assert sorted(told.values_list("user_id", "delivery__unit_id")) == sorted(
        (clerk.pk, unit_id) for unit_id, clerk in clerks.items()
    )
