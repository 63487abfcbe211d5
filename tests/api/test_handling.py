"""退文, 转发, 办结, 催办 and 撤回 through /api/v1/deliveries/{id}/… and /api/v1/dispatches/{id}/recall:
each end to end on PostgreSQL, with exact answers, the client recorded, and every refusal a problem
that wrote nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from documents.models import Document
from tests.api.actions import document_json, moment, not_found, problem
from tests.api.conftest import bearer
from tests.factories import delivery_of, forward, issue, unit
from workflow import services
from workflow.models import (
    AuditEvent,
    AuditVerb,
    Completion,
    Delivery,
    DeliveryReturn,
    Forward,
    Notification,
    Recall,
)

pytestmark = pytest.mark.django_db


def _url(delivery_id, action: str) -> str:
    return f"/api/v1/deliveries/{delivery_id}/{action}"


@pytest.fixture
def sent(world):
    """内组电明字〔2022〕1号 from the organisation department to education and the other committee."""
    document, _dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    return delivery_of(document, world.education)


def _signed(world, delivery):
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    return delivery


# --- 退文 -----------------------------------------------------------------------------------------


def test_a_client_returns_a_delivery_with_its_reason(world, api, make_client, sent):
    client, key = make_client(world.education, "handle")

    response = api.post(_url(sent.pk, "return"), key, {"reason": "wrong_format", "text": "文种应为函。"})

    assert response.status_code == 201
    returned = DeliveryReturn.objects.get()
    assert response.json() == {
        "delivery_id": sent.pk,
        "document": {"id": sent.document_id, "number": "内组电明字〔2022〕1号", "title": sent.document.title},
        "unit": {"id": world.education.pk, "name": "自治区教育工委"},
        "id": returned.pk,
        "reason": "wrong_format",
        "text": "文种应为函。",
        "returned_by": client.user.username,
        "returned_at": moment(returned.returned_at),
    }
    assert Delivery.objects.get(pk=sent.pk).state == "returned"
    assert list(Notification.objects.filter(kind="returned").values_list("user__username", flat=True)) == ["zzb"]
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_RETURNED)
    assert event.payload == {
        "return_id": returned.pk,
        "reason": "wrong_format",
        "text": "文种应为函。",
        "api_client": {"id": client.pk, "name": client.name},
    }


def test_a_return_for_another_reason_must_say_which(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "return"), world.jygw, {"reason": "other"})
    assert (response.status_code, response.json()["detail"]) == (400, "退文理由为“其他”时，请写明具体理由。")


def test_an_unknown_reason_is_named(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "return"), world.jygw, {"reason": "lazy"})
    assert response.json()["errors"] == [{"field": "reason", "detail": "“lazy” 不是合法选项。"}]


def test_a_delivery_is_returned_once(world, api, sent, nothing_written):
    api.post(_url(sent.pk, "return"), world.jygw, {"reason": "not_competent"})
    with nothing_written():
        response = api.post(_url(sent.pk, "return"), world.jygw, {"reason": "not_competent"})
    assert (response.status_code, response.json()) == (
        409,
        problem(
            _url(sent.pk, "return"),
            "conflict",
            "与当前状态冲突",
            409,
            "送给自治区教育工委的内组电明字〔2022〕1号状态为已退文，不能退文。",
        ),
    )


# --- 转发 -----------------------------------------------------------------------------------------


def test_a_client_forwards_what_it_signed_for_as_a_cover_draft(world, api, make_client, sent):
    client, key = make_client(world.education, "handle")
    _signed(world, sent)
    group = world.groups["各高校党委"]

    response = api.post(_url(sent.pk, "forward"), key, {"main_groups": [group.pk], "urgency": "特急"})

    assert response.status_code == 201
    forward = Forward.objects.select_related("cover__issuing_unit").get()
    cover = forward.cover
    assert response["Location"] == f"/api/v1/documents/{cover.pk}"
    # Its account is a clerk, who may edit the cover on the pages; the client lacks the draft scope.
    assert response.json() == document_json(
        cover,
        actions=[],
        main=[group],
        forward={
            "delivery_id": sent.pk,
            "encloses": {"id": sent.document_id, "number": "内组电明字〔2022〕1号", "title": sent.document.title},
        },
    )
    assert (cover.state, cover.title, cover.urgency, cover.created_by_id) == (
        "draft",
        "自治区教育工委转发关于做好测试工作的通知",
        "特急",
        client.user_id,
    )
    assert cover.body == services.FORWARD_BODY.format(title=sent.document.title, number="内组电明字〔2022〕1号")


def test_what_is_not_signed_for_is_not_forwarded(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "forward"), world.jygw, {"main_units": [world.university.pk]})
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "送给自治区教育工委的内组电明字〔2022〕1号状态为待签收，不能转发。签收后才能转发。",
    )


def test_the_issuer_may_not_forward_and_learns_nothing_of_the_recipients_groups(world, api, sent, nothing_written):
    _signed(world, sent)
    with nothing_written():
        response = api.post(_url(sent.pk, "forward"), world.zzb, {"main_groups": [10**9]})
    assert (response.status_code, response.json()["detail"]) == (
        403,
        "您不是自治区教育工委的收发员，不能转发。",
    )


def test_forwarding_costs_the_same_for_one_recipient_and_many(world, api, sent, count_queries):
    _signed(world, sent)
    schools = [unit(f"高校{i}", world.education) for i in range(6)]
    group = world.groups["各高校党委"]

    few, first = count_queries(
        api.post, _url(sent.pk, "forward"), world.jygw, {"main_units": [schools[0].pk], "main_groups": [group.pk]}
    )
    many, second = count_queries(
        api.post,
        _url(sent.pk, "forward"),
        world.jygw,
        {"main_units": [school.pk for school in schools], "main_groups": [group.pk]},
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert few == many


# --- 办结 -----------------------------------------------------------------------------------------


def test_a_client_completes_with_its_feedback(world, api, make_client, sent):
    client, key = make_client(world.education, "handle")
    _signed(world, sent)

    response = api.post(_url(sent.pk, "complete"), key, {"feedback": "已组织学习，全部落实。"})

    assert response.status_code == 201
    completion = Completion.objects.get()
    # The completion as the delivery shows it (api.serializers.CompletionSerializer).
    assert response.json() == {
        "id": completion.pk,
        "feedback": "已组织学习，全部落实。",
        "completed_by": client.user.username,
        "completed_at": moment(completion.completed_at),
        "attachments": [],
    }
    assert Delivery.objects.get(pk=sent.pk).state == "completed"


def test_a_completion_carries_its_files(world, client, sent):
    _signed(world, sent)
    report = SimpleUploadedFile("落实情况.pdf", b"%PDF-1.4 report", content_type="application/pdf")

    response = client.post(
        _url(sent.pk, "complete"), {"feedback": "已落实。", "files": [report]}, headers=bearer(world.jygw)
    )

    assert response.status_code == 201
    attachment = Completion.objects.get().attachments.get()
    assert response.json()["attachments"] == [
        {
            "id": attachment.pk,
            "position": 1,
            "name": "落实情况.pdf",
            "content_type": "application/pdf",
            "size": 15,
            "sha256": attachment.sha256,
            "download_url": f"/api/v1/completion-attachments/{attachment.pk}/content",
        }
    ]


def test_a_bad_feedback_file_is_named_and_nothing_is_completed(world, client, sent, nothing_written):
    _signed(world, sent)
    with nothing_written():
        response = client.post(
            _url(sent.pk, "complete"),
            {"feedback": "已落实。", "files": [SimpleUploadedFile("x.pdf", b"")]},
            headers=bearer(world.jygw),
        )
    assert (response.status_code, response.json()["errors"]) == (
        400,
        [{"field": "files.0", "detail": "附件“x.pdf”是空文件。"}],
    )


def test_what_is_not_signed_for_is_not_completed(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "complete"), world.jygw, {"feedback": "已落实。"})
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "送给自治区教育工委的内组电明字〔2022〕1号状态为待签收，不能办结。请先签收。",
    )


def test_an_empty_feedback_is_refused(world, api, sent, nothing_written):
    _signed(world, sent)
    with nothing_written():
        response = api.post(_url(sent.pk, "complete"), world.jygw, {"feedback": " "})
    assert response.json()["errors"] == [{"field": "feedback", "detail": "该字段不能为空。"}]


# --- 催办 -----------------------------------------------------------------------------------------


def test_the_issuers_client_reminds_a_recipient(world, api, make_client, sent):
    client, key = make_client(world.department, "handle")

    response = api.post(_url(sent.pk, "remind"), key)

    assert response.status_code == 200
    delivery = Delivery.objects.get(pk=sent.pk)
    assert response.json() == {
        "delivery_id": sent.pk,
        "unit": {"id": world.education.pk, "name": "自治区教育工委"},
        "reminder_count": 1,
        "last_reminded_at": moment(delivery.last_reminded_at),
    }
    assert list(Notification.objects.filter(kind="reminder").values_list("user__username", flat=True)) == ["jygw"]
    event = AuditEvent.objects.get(verb=AuditVerb.DELIVERY_REMINDED)
    assert (event.actor_id, event.payload["round"], event.payload["api_client"]["id"]) == (
        client.user_id,
        1,
        client.pk,
    )


def test_a_second_reminder_within_a_minute_is_refused(world, api, sent, nothing_written):
    api.post(_url(sent.pk, "remind"), world.zzb)
    with nothing_written():
        response = api.post(_url(sent.pk, "remind"), world.zzb)
    assert (response.status_code, response.json()["detail"]) == (409, "刚刚已经催办过，请稍后再催办。")


def test_the_recipient_does_not_remind_itself(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "remind"), world.jygw)
    assert (response.status_code, response.json()["detail"]) == (
        403,
        "您不是自治区党委组织部的收发员或签发人，不能催办。",
    )


# --- 撤回 -----------------------------------------------------------------------------------------


def test_the_issuers_client_recalls_one_delivery(world, api, make_client, sent):
    client, key = make_client(world.department, "issue")
    _signed(world, sent)

    response = api.post(_url(sent.pk, "recall"), key, {"reason": "发错了单位"})

    assert response.status_code == 201
    recall = Recall.objects.get()
    assert response.json() == {
        "id": recall.pk,
        "recalled_by": client.user.username,
        "dispatch_id": sent.dispatch_id,
        "delivery_id": sent.pk,
        "recalled_at": moment(recall.recalled_at),
        "reason": "发错了单位",
        "withdrawn": 0,
        "held": 1,
        "downstream": 0,
    }
    other = delivery_of(sent.document, world.other)
    assert (Delivery.objects.get(pk=sent.pk).state, other.state) == ("recalled_signed", "pending")


def test_a_recalled_delivery_answers_its_unit_with_the_stub(world, api, sent, nothing_written):
    api.post(_url(sent.pk, "recall"), world.zzb, {"reason": "发错了"})
    for action, body in [("return", {"reason": "not_competent"}), ("complete", {"feedback": "x"})]:
        with nothing_written():
            response = api.post(_url(sent.pk, action), world.jygw, body)
        assert (response.status_code, response.json()["stub"]["reason"]) == (410, "发错了")


def test_a_delivery_is_recalled_once(world, api, sent, nothing_written):
    api.post(_url(sent.pk, "recall"), world.zzb)
    with nothing_written():
        response = api.post(_url(sent.pk, "recall"), world.zzb)
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "送给自治区教育工委的内组电明字〔2022〕1号状态为已撤回，不能撤回。",
    )


def test_an_over_long_reason_is_refused_by_the_service(world, api, sent, nothing_written):
    with nothing_written():
        response = api.post(_url(sent.pk, "recall"), world.zzb, {"reason": "错" * 201})
    assert (response.status_code, response.json()["detail"]) == (400, "撤回原因过长（201 字，上限 200 字）。")


def test_the_issuer_recalls_a_whole_dispatch_and_what_was_forwarded_from_it(world, api, make_client, sent):
    client, key = make_client(world.department, "issue")
    forward(world.jygw, sent, main=[world.university])
    url = f"/api/v1/dispatches/{sent.dispatch_id}/recall"

    response = api.post(url, key, {"reason": "内容有误"})

    assert response.status_code == 201
    recall = Recall.objects.get()
    assert response.json() == {
        "id": recall.pk,
        "recalled_by": client.user.username,
        "dispatch_id": sent.dispatch_id,
        "delivery_id": None,
        "recalled_at": moment(recall.recalled_at),
        "reason": "内容有误",
        "withdrawn": 1,
        "held": 1,
        "downstream": 1,
    }
    assert dict(Delivery.objects.values_list("unit__name", "state")) == {
        "自治区教育工委": "recalled_signed",
        "自治区直属机关工委": "recalled",
        "内蒙古大学党委": "recalled",  # the forward's delivery, withdrawn with it
    }


def test_a_dispatch_still_routing_is_not_recalled(world, api, nothing_written):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education], route=False)
    url = f"/api/v1/dispatches/{dispatch.pk}/recall"
    with nothing_written():
        response = api.post(url, world.zzb)
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "内组电明字〔2022〕1号正在分发，分发完成后才能撤回，请稍后再试。",
    )


def test_recalling_a_dispatch_costs_the_same_for_few_deliveries_and_many(world, api, count_queries):
    schools = [unit(f"高校{i}", world.department) for i in range(8)]
    _few, few_dispatch = issue(world.zzb, world.department, main=[world.education])
    _many, many_dispatch = issue(world.zzb, world.department, main=[world.education, *schools])

    few, first = count_queries(api.post, f"/api/v1/dispatches/{few_dispatch.pk}/recall", world.zzb)
    many, second = count_queries(api.post, f"/api/v1/dispatches/{many_dispatch.pk}/recall", world.zzb)

    assert (first.json()["withdrawn"], second.json()["withdrawn"]) == (1, 9)
    assert few == many


def test_a_missing_delivery_is_answered_like_a_forbidden_one(world, api, nothing_written):
    for action in ("return", "forward", "complete", "remind", "recall"):
        with nothing_written():
            response = api.post(_url(10**9, action), world.jygw, {})
        assert (response.status_code, response.json()) == (
            404,
            not_found(_url(10**9, action), "送达记录不存在或无权查看。"),
        )


def test_a_forwarded_cover_is_signed_off_and_issued_through_the_documents_endpoints(world, api, sent):
    _signed(world, sent)
    cover_id = api.post(_url(sent.pk, "forward"), world.jygw, {"main_units": [world.university.pk]}).json()["id"]

    signed_off = api.post(f"/api/v1/documents/{cover_id}/sign-off", world.jygw_leader)
    issued = api.post(f"/api/v1/documents/{cover_id}/issue", world.jygw)

    assert (signed_off.status_code, issued.status_code) == (200, 201)
    cover = Document.objects.get(pk=cover_id)
    # Signed off today without a 成文日期: numbered in this year's series.
    number = f"内教工委函〔{timezone.localdate().year}〕1号"
    assert issued.json()["document"] == {
        "id": cover_id,
        "number": number,
        "title": cover.title,
        "kind": "通知",
        "urgency": cover.urgency,
        "issuer": {"id": world.education.pk, "name": world.education.name},
    }
