"""The read endpoints: the inbox, a delivery with its document, files, the outbox and a dispatch, the
chain, notifications. Whole answers, the doors' refusals, and equal query counts at two sizes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.digest import CONTENT_FIELDS
from tests.factories import delivery_of, forward, issue
from tests.web.conftest import issue_with_attachments
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Delivery, Dispatch, Notification
from workflow.selectors import chain_for_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _local(moment):
    return timezone.localtime(moment).isoformat() if moment is not None else None


def _unit(unit):
    return {"id": unit.pk, "name": unit.name}


def _summary(document):
    return {
        "id": document.pk,
        "number": document.number,
        "title": document.title,
        "kind": document.kind,
        "urgency": document.urgency,
        "issuer": _unit(document.issuing_unit),
    }


def _inbox_row(delivery, *, is_overdue=False):
    delivery.refresh_from_db()
    return {
        "id": delivery.pk,
        "state": delivery.state,
        "role": delivery.role,
        "unit": _unit(delivery.unit),
        "document": _summary(delivery.document),
        "delivered_at": _local(delivery.created_at),
        "read_at": _local(delivery.read_at),
        "signed_at": _local(delivery.signed_at),
        "completed_at": _local(delivery.completed_at),
        "returned_at": _local(delivery.returned_at),
        "deadline_sign_for": _local(delivery.deadline_sign_for),
        "deadline_complete": _local(delivery.deadline_complete),
        "is_overdue": is_overdue,
        "reminder_count": delivery.reminder_count,
    }


def _queries(api, path, who, **params):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, who, **params)
    assert response.status_code == 200, response.content
    return len(queries)


# --- 收文 -----------------------------------------------------------------------------------------


def test_the_inbox_lists_the_callers_units_deliveries_newest_first(world, api):
    first, _ = issue(world.zzb, world.department, main=[world.education], title="关于第一件事的通知")
    second, _ = issue(world.zzb, world.department, cc=[world.education], title="关于第二件事的通知", urgency="特急")
    issue(world.zzb, world.department, main=[world.other], title="关于别人的事的通知")

    response = api.get("/api/v1/inbox", world.jygw)

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            _inbox_row(delivery_of(second, world.education)),
            _inbox_row(delivery_of(first, world.education)),
        ],
    }
    assert response.json()["results"][0]["role"] == "抄送"


def test_the_inbox_filters(world, api, time_machine):
    time_machine.move_to(datetime.datetime(2022, 10, 13, 1, 0, tzinfo=datetime.UTC), tick=False)
    telegram, _ = issue(world.zzb, world.department, main=[world.education], title="关于学习贯彻的通知", urgency="特提")
    time_machine.move_to(datetime.datetime(2022, 10, 20, 1, 0, tzinfo=datetime.UTC), tick=False)
    routine, _ = issue(world.zzb, world.department, main=[world.education], title="关于报送材料的通知")
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(routine, world.education).pk)
    time_machine.move_to(datetime.datetime(2022, 10, 27, 1, 0, tzinfo=datetime.UTC), tick=False)

    def ids(**params):
        response = api.get("/api/v1/inbox", world.jygw, **params)
        assert response.status_code == 200, response.json()
        return [row["document"]["id"] for row in response.json()["results"]]

    assert ids() == [routine.pk, telegram.pk]
    assert ids(state="pending") == [telegram.pk]
    assert ids(state=["pending", "signed"]) == [routine.pk, telegram.pk]
    assert ids(urgency="特提") == [telegram.pk]
    assert ids(overdue="true") == [telegram.pk]  # 特提: a day to sign for; the signed one has days to complete
    assert ids(overdue="false") == [routine.pk]
    assert ids(delivered_from="2022-10-14") == [routine.pk]
    assert ids(delivered_to="2022-10-13") == [telegram.pk]
    assert ids(q="学习 通知") == [telegram.pk]
    assert ids(q=f"〔2022〕{routine.number_serial}号") == [routine.pk]
    assert ids(q="没有这个词") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"urgency": "很急"}, "urgency"),
        ({"overdue": "maybe"}, "overdue"),
        ({"delivered_from": "2022-13-45"}, "delivered_from"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_a_bad_filter_is_a_validation_problem_naming_it(world, api, params, field):
    response = api.get("/api/v1/inbox", world.jygw, **params)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_the_inbox_shows_nothing_of_other_units(world, api):
    issue(world.zzb, world.department, main=[world.education])
    for who in ("other_clerk", "zzb", "imu", "auditor"):
        assert api.get("/api/v1/inbox", getattr(world, who)).json()["results"] == [], who


def test_inbox_queries_do_not_grow(world, api):
    issue(world.zzb, world.department, main=[world.education])
    small = _queries(api, "/api/v1/inbox", world.jygw)
    for _ in range(12):
        issue(world.zzb, world.department, main=[world.education], urgency="特急")
    large = _queries(api, "/api/v1/inbox", world.jygw, page_size=100, q="通知", state="pending")
    # The token's person, then the page of deliveries with their documents and units.
    assert small == large == 2


# --- a delivery -----------------------------------------------------------------------------------


def _document_json(document):
    document.refresh_from_db()
    elements = {}
    for name in CONTENT_FIELDS:
        value = getattr(document, name)
        elements[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return {
        "id": document.pk,
        "number": document.number,
        "state": "issued",
        "issuer": _unit(document.issuing_unit),
        "issued_at": _local(document.issued_at),
        "digest": document.digest,
        **elements,
    }


def test_a_delivery_with_its_document_files_and_actions(world, api):
    document = issue_with_attachments(world, attachments=1)
    delivery = delivery_of(document, world.education)
    attachment = document.attachments.get()

    response = api.get(f"/api/v1/deliveries/{delivery.pk}", world.jygw)

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.read_at is not None  # opening is reading
    assert delivery.read_by == world.jygw
    body = response.json()
    history = body.pop("history")
    assert [entry["what"] for entry in history] == ["DELIVERED", "DELIVERY_READ"]
    assert history[1]["actor"] == "jygw"
    assert body == {
        **_inbox_row(delivery),
        "document": _document_json(document),
        "dispatch_id": delivery.dispatch_id,
        "enclosures": [],
        "attachments": [
            {
                "id": attachment.pk,
                "position": 1,
                "name": "附件1.txt",
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "download_url": f"/api/v1/attachments/{attachment.pk}/content",
            }
        ],
        "receipt": None,
        "clock": {"action": "sign_for", "deadline": _local(delivery.deadline_sign_for), "overdue_seconds": None},
        "returned": None,
        "completion": None,
        "recall": None,
        "actions": ["return", "sign_for"],
    }
    assert body["document"]["title"] == document.title

    download = api.get(body["attachments"][0]["download_url"], world.jygw)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == "第1个附件\n".encode()
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_client_is_offered_only_the_actions_of_its_scopes(world, api, make_client):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    _client, key = make_client(world.education, "read", "sign-for")
    body = api.get(f"/api/v1/deliveries/{delivery_of(document, world.education).pk}", key).json()
    assert body["actions"] == ["sign_for"]


def test_a_forward_shows_what_it_encloses(world, api):
    document = issue_with_attachments(world, attachments=2)
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    body = api.get(f"/api/v1/deliveries/{delivery_of(cover, world.university).pk}", world.imu).json()

    assert body["document"]["id"] == cover.pk
    (enclosed,) = body["enclosures"]
    assert (enclosed["id"], enclosed["depth"], enclosed["number"], enclosed["is_withdrawn"]) == (
        document.pk,
        1,
        document.number,
        False,
    )
    assert enclosed["document"] == _document_json(document)
    assert [attachment["name"] for attachment in enclosed["attachments"]] == ["附件1.txt", "附件2.txt"]


def test_the_issuer_opens_it_without_reading_it(world, api):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    body = api.get(f"/api/v1/deliveries/{delivery.pk}", world.zzb).json()
    assert body["read_at"] is None
    assert body["actions"] == ["recall", "remind"]
    assert not AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_READ).exists()


@pytest.mark.parametrize("who", ["other_clerk", "imu", "college_clerk", "other_auditor"])
def test_a_delivery_others_cannot_see_is_not_found(world, api, nothing_written, who):
    document = issue_with_attachments(world, attachments=1)
    delivery = delivery_of(document, world.education)
    with nothing_written():
        response = api.get(f"/api/v1/deliveries/{delivery.pk}", getattr(world, who))
        download = api.get(f"/api/v1/attachments/{document.attachments.get().pk}/content", getattr(world, who))
    assert response.status_code == 404
    assert response.json()["detail"] == "送达记录不存在或无权查看。"
    assert download.status_code == 404
    assert download.json()["detail"] == "附件不存在或无权查看。"


def test_anonymous_and_a_client_without_read_are_refused(world, api, make_client, nothing_written):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    _client, key = make_client(world.education, "sign-for")
    with nothing_written():
        assert api.get(f"/api/v1/deliveries/{delivery.pk}").status_code == 401
        refused = api.get(f"/api/v1/deliveries/{delivery.pk}", key)
    assert (refused.status_code, refused.json()["required_scope"]) == (403, "read")


def test_a_recalled_delivery_and_its_files_answer_410_with_the_stub(world, api, nothing_written):
    document = issue_with_attachments(world, attachments=1)
    delivery = delivery_of(document, world.education)
    services.delivery_recall(actor=world.zzb, delivery_id=delivery.pk, reason="重发")
    with nothing_written():
        response = api.get(f"/api/v1/deliveries/{delivery.pk}", world.jygw)
        download = api.get(f"/api/v1/attachments/{document.attachments.get().pk}/content", world.jygw)
    assert response.status_code == 410
    assert response.json()["stub"]["reason"] == "重发"
    assert response.json()["stub"]["number"] == document.number
    assert "body" not in response.content.decode()
    assert download.status_code == 410


def test_delivery_queries_do_not_grow_with_attachments_enclosures_and_history(world, api):
    small = delivery_of(issue_with_attachments(world, attachments=1, main=[world.university]), world.university)
    api.get(f"/api/v1/deliveries/{small.pk}", world.imu)  # the first opening writes the read
    small_count = _queries(api, f"/api/v1/deliveries/{small.pk}", world.imu)

    document = issue_with_attachments(world, attachments=4, title="关于大件的通知")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    large = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=large.pk)
    services.delivery_remind(actor=world.jygw, delivery_id=delivery_of(cover, world.university_b).pk)
    api.get(f"/api/v1/deliveries/{large.pk}", world.imu)
    large_count = _queries(api, f"/api/v1/deliveries/{large.pk}", world.imu)

    # The person; the door; membership, then the read's conditional UPDATE in its savepoint (3, a
    # no-op once read); the notifications marked; the receipt; the parts (visibility, enclosures,
    # attachments); the history (events, forwards); the standing (roles, whether forwarded).
    assert (small_count, large_count) == (15, 15)


# --- 发文 -----------------------------------------------------------------------------------------


def _dispatch_json(dispatch, **figures):
    dispatch.refresh_from_db()
    return {
        "id": dispatch.pk,
        "document": _summary(dispatch.document),
        "created_at": _local(dispatch.created_at),
        "queue": dispatch.queue,
        "recipient_count": dispatch.recipient_count,
        "is_routed": dispatch.routed_at is not None,
        "routed_at": _local(dispatch.routed_at),
        "notified_at": _local(dispatch.notified_at),
        "deadline_sign_for": _local(dispatch.deadline_sign_for),
        "deadline_complete": _local(dispatch.deadline_complete),
        "recall": None,
        "figures": {
            "delivered": 0,
            "signed": 0,
            "pending": 0,
            "completed": 0,
            "returned": 0,
            "recalled": 0,
            "recallable": 0,
            "forwards": 0,
            **figures,
        },
    }


def test_the_outbox_gives_each_dispatch_its_figures(world, api):
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    _later, unrouted = issue(world.zzb, world.department, main=[world.education], route=False)

    response = api.get("/api/v1/outbox", world.zzb)

    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            _dispatch_json(unrouted),
            _dispatch_json(dispatch, delivered=2, signed=1, pending=1, recallable=2, forwards=1),
        ],
    }
    assert api.get(f"/api/v1/dispatches/{dispatch.pk}", world.zzb).json() == _dispatch_json(
        dispatch, delivered=2, signed=1, pending=1, recallable=2, forwards=1
    )
    # The education unit's outbox holds its forward only.
    (cover_dispatch,) = api.get("/api/v1/outbox", world.jygw).json()["results"]
    assert cover_dispatch["document"]["title"].startswith("自治区教育工委转发")


def test_a_dispatchs_deliveries_for_its_issuer(world, api):
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(document, world.education).pk)

    response = api.get(f"/api/v1/dispatches/{dispatch.pk}/deliveries", world.zzb)
    rows = response.json()["results"]
    assert [(row["unit"]["id"], row["state"]) for row in rows] == [
        (world.education.pk, "signed"),
        (world.other.pk, "pending"),
    ]
    assert set(rows[0]) == {
        "id",
        "unit",
        "role",
        "state",
        "delivered_at",
        "read_at",
        "signed_at",
        "completed_at",
        "returned_at",
        "deadline_sign_for",
        "deadline_complete",
        "is_overdue",
        "reminder_count",
    }
    signed = api.get(f"/api/v1/dispatches/{dispatch.pk}/deliveries", world.zzb, state="signed").json()
    assert [row["unit"]["id"] for row in signed["results"]] == [world.education.pk]


def test_the_outbox_of_one_unit_and_of_a_unit_not_ones_own(world, api, nothing_written):
    issue(world.zzb, world.department, main=[world.education])
    assert len(api.get("/api/v1/outbox", world.zzb, unit=world.department.pk).json()["results"]) == 1
    with nothing_written():
        response = api.get("/api/v1/outbox", world.zzb, unit=world.education.pk)
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["jygw", "other_clerk", "other_auditor"])
def test_a_dispatch_is_for_its_issuer_and_auditors_only(world, api, nothing_written, who):
    # The recipient, another unit, an auditor of another subtree (the parent's auditor may see it).
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    with nothing_written():
        detail = api.get(f"/api/v1/dispatches/{dispatch.pk}", getattr(world, who))
        deliveries = api.get(f"/api/v1/dispatches/{dispatch.pk}/deliveries", getattr(world, who))
    assert (detail.status_code, deliveries.status_code) == (404, 404)
    assert detail.json()["detail"] == "分发记录不存在或无权查看。"
    assert api.get(f"/api/v1/dispatches/{dispatch.pk}", world.auditor).status_code == 200


def test_outbox_queries_do_not_grow(world, api):
    issue(world.zzb, world.department, main=[world.education])
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    small = _queries(api, "/api/v1/outbox", world.zzb)
    small_deliveries = _queries(api, f"/api/v1/dispatches/{dispatch.pk}/deliveries", world.zzb)
    for _ in range(8):
        document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
        forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    _document, big = issue(world.zzb, world.department, main=[world.education, world.other, world.university])
    assert _queries(api, "/api/v1/outbox", world.zzb) == small == 2  # the person, the page with figures
    # The person, the dispatch's door, the page of its deliveries.
    assert _queries(api, f"/api/v1/dispatches/{big.pk}/deliveries", world.zzb) == small_deliveries == 3
    # The person, the door, the dispatch with its figures.
    assert _queries(api, f"/api/v1/dispatches/{dispatch.pk}", world.zzb) == 3
    assert _queries(api, f"/api/v1/dispatches/{big.pk}", world.zzb) == 3


# --- 流转链 ---------------------------------------------------------------------------------------


def test_the_chain_is_the_commands_json_with_per_level_figures(world, api):
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
    forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])

    response = api.get(f"/api/v1/documents/{document.pk}/chain", world.auditor)

    assert response.status_code == 200
    body = response.json()
    assert body["chain"] == chain_for_document(document).as_json()
    assert [(level["depth"], level["total"], level["signed"], level["stalled"]) for level in body["levels"]] == [
        (1, 2, 1, 1),
        (2, 2, 0, 2),
    ]
    assert set(body["levels"][0]) == {
        "depth",
        "total",
        "signed",
        "completed",
        "stalled",
        "overdue",
        "late_signs",
        "completion_overdue",
        "median_sign_seconds",
        "slowest_sign_seconds",
    }
    assert api.get(f"/api/v1/documents/{document.pk}/chain", world.zzb).status_code == 200


@pytest.mark.parametrize("who", ["jygw", "other_clerk", "imu", "other_auditor"])
def test_the_chain_is_not_for_recipients_or_strangers(world, api, nothing_written, who):
    # Education and the universities received it; they see their own forward's chain, not the root's.
    document, _ = issue(world.zzb, world.department, main=[world.education])
    forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    with nothing_written():
        response = api.get(f"/api/v1/documents/{document.pk}/chain", getattr(world, who))
    assert response.status_code == 404


def test_an_audit_client_reads_the_chain_and_a_read_client_of_another_unit_does_not(world, api, make_client):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    _auditing, audit_key = make_client(world.region, "audit")
    _reading, read_key = make_client(world.education, "read")
    assert api.get(f"/api/v1/documents/{document.pk}/chain", audit_key).status_code == 200
    assert api.get(f"/api/v1/documents/{document.pk}/chain", read_key).status_code == 404


def test_chain_queries_do_not_grow(world, api):
    small_document, _ = issue(world.zzb, world.department, main=[world.education])
    small = _queries(api, f"/api/v1/documents/{small_document.pk}/chain", world.zzb)
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    forward(world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer)
    assert _queries(api, f"/api/v1/documents/{document.pk}/chain", world.zzb) == small == 7


# --- notifications --------------------------------------------------------------------------------


def test_notifications_of_the_caller_and_marking_them_read(world, api):
    first, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    second, dispatch = issue(world.zzb, world.department, main=[world.education], title="关于另一件事的通知")
    services.dispatch_notify(dispatch_id=dispatch.pk)
    mine = list(Notification.objects.filter(user=world.jygw).order_by("-created_at", "-id"))
    assert len(mine) == 2

    body = api.get("/api/v1/notifications", world.jygw).json()
    assert body == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": notification.pk,
                "kind": "delivered",
                "round": 0,
                "text": notification.text,
                "delivery_id": notification.delivery_id,
                "created_at": _local(notification.created_at),
                "read_at": None,
            }
            for notification in mine
        ],
    }
    assert api.get("/api/v1/notifications", world.other_clerk).json()["results"] == []

    marked = api.post("/api/v1/notifications/read", world.jygw, {"delivery_id": delivery_of(first, world.education).pk})
    assert (marked.status_code, marked.json()) == (200, {"marked": 1})
    unread = api.get("/api/v1/notifications", world.jygw, unread="true").json()["results"]
    assert [row["delivery_id"] for row in unread] == [delivery_of(second, world.education).pk]
    assert api.post("/api/v1/notifications/read", world.jygw, {}).json() == {"marked": 1}
    assert api.get("/api/v1/notifications", world.jygw, unread="true").json()["results"] == []


def test_marking_read_refuses_a_bad_body(world, api, nothing_written):
    with nothing_written():
        response = api.post("/api/v1/notifications/read", world.jygw, {"delivery_id": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "delivery_id"


def test_notification_queries_do_not_grow(world, api):
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    small = _queries(api, "/api/v1/notifications", world.jygw)
    for _ in range(10):
        _document, dispatch = issue(world.zzb, world.department, main=[world.education])
        services.dispatch_notify(dispatch_id=dispatch.pk)
    assert Notification.objects.filter(user=world.jygw).count() == 11
    assert _queries(api, "/api/v1/notifications", world.jygw, unread="true") == small == 2


def test_every_list_holds_the_same_rows_for_a_client_as_for_its_units_clerk(world, api, make_client):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    _client, key = make_client(world.education, "read")
    assert api.get("/api/v1/inbox", key).json()["results"] == api.get("/api/v1/inbox", world.jygw).json()["results"]
    assert Delivery.objects.filter(document=document).count() == 1
    assert Dispatch.objects.count() == 1
