"""拟稿, 签发 and 印发 through /api/v1/documents: each end to end on PostgreSQL, with the client that
acted on the record, every refusal a problem that wrote nothing, and equal query counts at two sizes."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from documents.models import Attachment, Document
from tests.api.actions import attachment_json, document_json, moment, not_found, problem
from tests.api.conftest import bearer
from tests.factories import content, issue, unit
from web.forms import end_of_day
from workflow import services
from workflow.models import AuditEvent, AuditVerb, Dispatch

pytestmark = pytest.mark.django_db

DOCUMENTS = "/api/v1/documents"


def _url(document_id, action: str = "") -> str:
    return f"{DOCUMENTS}/{document_id}" + (f"/{action}" if action else "")


def _draft_body(world, **overrides) -> dict:
    return {
        "kind": "通知",
        "title": "关于做好秋季学期安全工作的通知",
        "body": "各高等学校党委：\n请认真做好安全工作。",
        "urgency": "特急",
        "written_on": "2022-10-14",
        "page_count": 2,
        "main_groups": [world.groups["各高校党委"].pk],
        "cc_units": [world.other.pk],
        **overrides,
    }


def _draft(world, actor=None, **overrides) -> Document:
    """A draft of the education committee, written by the service (not through the API)."""
    return services.document_draft(
        actor=actor or world.jygw,
        unit=world.education,
        content=content(**overrides),
        main_recipients=[world.university],
    )


# --- 拟稿 -----------------------------------------------------------------------------------------


def test_a_client_drafts_a_document_for_its_unit(world, api, make_client):
    client, key = make_client(world.education, "draft")

    response = api.post(DOCUMENTS, key, _draft_body(world))

    assert response.status_code == 201
    document = Document.objects.select_related("issuing_unit").get()
    assert response["Location"] == _url(document.pk)
    group = world.groups["各高校党委"]
    assert response.json() == document_json(document, actions=["attach", "edit"], main=[group], cc=[world.other])
    assert (document.state, document.created_by_id, document.issuing_unit_id) == (
        "draft",
        client.user_id,
        world.education.pk,
    )
    # What the client wrote, and what the service derived from the unit and the recipients.
    assert (document.title, document.urgency, document.written_on, document.page_count) == (
        "关于做好秋季学期安全工作的通知",
        "特急",
        datetime.date(2022, 10, 14),
        2,
    )
    assert (document.issuer_mark, document.main_recipients_text, document.cc_text, document.number_prefix) == (
        "自治区教育工委",
        "各高等学校党委：",
        "自治区直属机关工委",
        "内教工委函",
    )
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_DRAFTED)
    assert (event.actor_id, event.document_id) == (client.user_id, document.pk)
    assert event.payload == {
        "title": document.title,
        "kind": "通知",
        "api_client": {"id": client.pk, "name": client.name},
    }


def test_a_person_names_the_unit_to_draft_for(world, api):
    response = api.post(DOCUMENTS, world.jygw, _draft_body(world, unit=world.education.pk))
    assert response.status_code == 201
    assert Document.objects.get().created_by == world.jygw


def test_a_person_who_names_no_unit_is_asked_for_one(world, api, nothing_written):
    with nothing_written():
        response = api.post(DOCUMENTS, world.jygw, _draft_body(world))
    assert (response.status_code, response.json()) == (
        400,
        problem(
            DOCUMENTS,
            "validation",
            "输入有误",
            400,
            "unit：请填写拟稿单位（unit）。",
            errors=[{"field": "unit", "detail": "请填写拟稿单位（unit）。"}],
        ),
    )


@pytest.mark.parametrize("who", ["other_clerk", "imu", "auditor", "jygw_leader"])
def test_drafting_for_a_unit_one_may_not_draft_for_is_not_found(world, api, nothing_written, who):
    # Another unit's clerk, a child unit's, the region's auditor (parent), a signer of the unit.
    with nothing_written():
        response = api.post(DOCUMENTS, getattr(world, who), _draft_body(world, unit=world.education.pk))
    assert (response.status_code, response.json()) == (404, not_found(DOCUMENTS, "单位不存在或无权拟稿。"))


def test_a_client_cannot_draft_for_another_unit(world, api, make_client, nothing_written):
    _client, key = make_client(world.other, "draft")
    with nothing_written():
        response = api.post(DOCUMENTS, key, _draft_body(world, unit=world.education.pk))
    assert (response.status_code, response.json()) == (404, not_found(DOCUMENTS, "单位不存在或无权拟稿。"))


def test_every_bad_element_is_named(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    body = {"kind": "短信", "title": "", "urgency": "特急", "page_count": 0, "written_on": "2022-13-01"}
    with nothing_written():
        response = api.post(DOCUMENTS, key, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "title", "detail": "该字段不能为空。"},
        {"field": "kind", "detail": "“短信” 不是合法选项。"},
        {"field": "body", "detail": "这个字段是必填项。"},
        {"field": "written_on", "detail": "日期格式错误。请从这些格式中选择：YYYY-MM-DD。"},
        {"field": "page_count", "detail": "请确保该值大于或者等于 1。"},
    ]


def test_unknown_units_and_another_units_groups_are_named(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    body = _draft_body(world, main_units=[world.university.pk, 10**9], cc_groups=[world.groups["各直属党委"].pk])
    with nothing_written():
        response = api.post(DOCUMENTS, key, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "main_units", "detail": f"单位 {10**9} 不存在或已停用。"},
    ]
    body = _draft_body(world, cc_groups=[world.groups["各直属党委"].pk])
    with nothing_written():
        response = api.post(DOCUMENTS, key, body)
    assert response.json()["errors"] == [
        {"field": "cc_groups", "detail": f"收文对象组 {world.groups['各直属党委'].pk} 不是本单位的收文对象组。"}
    ]


def test_the_service_refuses_a_classified_draft_naming_why(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    with nothing_written():
        response = api.post(DOCUMENTS, key, _draft_body(world, classification="秘密"))
    assert (response.status_code, response.json()) == (
        400,
        problem(DOCUMENTS, "validation", "输入有误", 400, "本系统不是涉密信息系统，不能处理秘密公文。", errors=[]),
    )


def test_the_refusal_is_in_english_when_asked(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    with nothing_written():
        response = api.post(DOCUMENTS, key, _draft_body(world, title=""), headers={"Accept-Language": "en"})
    assert response.json()["title"] == "Invalid input"
    assert response.json()["errors"] == [{"field": "title", "detail": "This field may not be blank."}]


def test_drafting_needs_the_draft_scope(world, api, make_client, nothing_written):
    # Its account is a clerk of the unit, and a clerk may draft on the pages: the scope decides here.
    _client, key = make_client(world.education, "read", "issue")
    with nothing_written():
        response = api.post(DOCUMENTS, key, _draft_body(world))
    assert response.status_code == 403
    assert response.json()["required_scope"] == "draft"


def test_drafting_anonymously_is_refused(world, api, nothing_written):
    with nothing_written():
        response = api.post(DOCUMENTS, None, _draft_body(world, unit=world.education.pk))
    assert response.status_code == 401


def test_a_retried_draft_with_the_same_key_is_drafted_once(world, api, make_client):
    _client, key = make_client(world.education, "draft")
    headers = {"Idempotency-Key": "oa-draft-2022-0090"}

    first = api.post(DOCUMENTS, key, _draft_body(world), headers=headers)
    again = api.post(DOCUMENTS, key, _draft_body(world), headers=headers)
    other = api.post(DOCUMENTS, key, _draft_body(world, title="另一份"), headers=headers)

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Document.objects.count() == 1
    assert other.status_code == 422


def test_drafting_costs_the_same_for_one_recipient_and_for_many(world, api, make_client, count_queries):
    _client, key = make_client(world.education, "draft")
    schools = [unit(f"高校{i}", world.education) for i in range(6)]

    few, _ = count_queries(api.post, DOCUMENTS, key, _draft_body(world, main_units=[schools[0].pk]))
    many, _ = count_queries(api.post, DOCUMENTS, key, _draft_body(world, main_units=[school.pk for school in schools]))

    assert few == many


# --- reading and rewriting a draft ----------------------------------------------------------------


def test_a_client_reads_its_draft_with_files_and_actions(world, api, make_client):
    _client, key = make_client(world.education, "draft", "sign-off")
    document = _draft(world)
    attachment = services.attachment_add(
        actor=world.jygw, document=document, name="名单.pdf", stream=SimpleUploadedFile("名单.pdf", b"%PDF-1.4 x")
    )

    response = api.get(_url(document.pk), key)

    assert response.status_code == 200
    document = Document.objects.select_related("issuing_unit").get(pk=document.pk)
    assert response.json() == document_json(
        document,
        # It did not write the draft: it may sign it off.
        actions=["attach", "edit", "sign_off"],
        main=[world.university],
        attachments=[attachment_json(attachment)],
    )


def test_a_clients_actions_are_those_its_scopes_reach(world, api, make_client):
    _drafting, drafting_key = make_client(world.education, "draft")
    _issuing, issuing_key = make_client(world.education, "draft", "issue")
    document = services.document_sign_off(actor=world.jygw_leader, document=_draft(world))

    # A drafter does not issue; the issue scope brings a clerk's role and the scope. (A client whose
    # clerk role would offer more than its scopes: tests/api/test_handling.py, the forwarded cover.)
    assert api.get(_url(document.pk), drafting_key).json()["actions"] == []
    assert api.get(_url(document.pk), issuing_key).json()["actions"] == ["issue"]
    assert api.get(_url(document.pk), world.jygw).json()["actions"] == ["issue"]


@pytest.mark.parametrize("who", ["other_clerk", "imu", "auditor", "college_clerk"])
def test_a_draft_is_not_found_outside_its_unit(world, api, nothing_written, who):
    document = _draft(world)
    with nothing_written():
        response = api.get(_url(document.pk), getattr(world, who))
    assert (response.status_code, response.json()) == (404, not_found(_url(document.pk), "公文不存在或无权查看。"))


def test_reading_a_draft_needs_the_draft_scope(world, api, make_client):
    _client, key = make_client(world.education, "read")
    response = api.get(_url(_draft(world).pk), key)
    assert (response.status_code, response.json()["required_scope"]) == (403, "draft")


def test_reading_a_draft_costs_the_same_whatever_it_holds(world, api, make_client, count_queries):
    _client, key = make_client(world.education, "draft")
    small = _draft(world)
    big = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(),
        main_recipients=[world.university, world.university_b, world.groups["各高校党委"]],
        cc_recipients=[world.other, world.department],
    )
    for position in range(4):
        name = f"附件{position}.pdf"
        services.attachment_add(
            actor=world.jygw, document=big, name=name, stream=SimpleUploadedFile(name, b"%PDF-1.4 " + bytes([position]))
        )

    few, answer_small = count_queries(api.get, _url(small.pk), key)
    many, answer_big = count_queries(api.get, _url(big.pk), key)

    assert (answer_small.status_code, answer_big.status_code) == (200, 200)
    assert (len(answer_big.json()["attachments"]), len(answer_big.json()["cc_recipients"])) == (4, 2)
    assert few == many


def test_a_client_rewrites_its_draft(world, api, make_client):
    client, key = make_client(world.education, "draft")
    document = _draft(world)

    body = {"kind": "函", "title": "关于商请协助的函", "body": "请予协助。", "main_units": [world.other.pk]}
    response = client_put(api, _url(document.pk), key, body)

    assert response.status_code == 200
    document = Document.objects.select_related("issuing_unit").get(pk=document.pk)
    assert response.json() == document_json(document, actions=["attach", "edit"], main=[world.other])
    assert (document.kind, document.title, document.urgency, document.main_recipients_text) == (
        "函",
        "关于商请协助的函",
        "普通",  # not given: the element's default
        "自治区直属机关工委：",
    )
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_UPDATED)
    assert event.payload["api_client"] == {"id": client.pk, "name": client.name}


def client_put(api, path, key, body, headers=None):
    import json

    return api.client.put(
        path, json.dumps(body), content_type="application/json", headers={**bearer(key), **(headers or {})}
    )


def test_recipients_not_given_stay_as_they_were(world, api, make_client):
    _client, key = make_client(world.education, "draft")
    document = _draft(world)
    response = client_put(api, _url(document.pk), key, {"kind": "通知", "title": "新标题", "body": "新正文"})
    assert response.json()["main_recipients"] == [
        {"type": "unit", "id": world.university.pk, "name": world.university.name}
    ]


def test_an_issued_document_cannot_be_rewritten(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    with nothing_written():
        response = client_put(api, _url(document.pk), key, {"kind": "通知", "title": "改", "body": "改"})
    assert (response.status_code, response.json()) == (
        409,
        problem(_url(document.pk), "conflict", "与当前状态冲突", 409, f"{document.number}已经印发，不能再修改。"),
    )


def test_a_signer_who_is_no_drafter_may_see_the_draft_but_not_rewrite_it(world, api, nothing_written):
    document = _draft(world)
    with nothing_written():
        response = client_put(api, _url(document.pk), world.jygw_leader, {"kind": "通知", "title": "改", "body": "改"})
    assert (response.status_code, response.json()["detail"]) == (
        403,
        "您不是自治区教育工委的拟稿人或收发员，不能修改。",
    )


# --- attachments ------------------------------------------------------------------------------------


def _pdf(name: str, data: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_a_client_attaches_files_to_its_draft(world, client, make_client):
    api_client, key = make_client(world.education, "draft")
    document = _draft(world)

    response = client.post(
        _url(document.pk, "attachments"),
        {"files": [_pdf("名单.pdf"), SimpleUploadedFile("说明.txt", "说明".encode())]},
        headers=bearer(key),
    )

    assert response.status_code == 201
    attachments = list(Attachment.objects.filter(document=document).order_by("position"))
    assert [(a.position, a.name, a.content_type) for a in attachments] == [
        (1, "名单.pdf", "application/pdf"),
        (2, "说明.txt", "text/plain; charset=utf-8"),
    ]
    document = Document.objects.select_related("issuing_unit").get(pk=document.pk)
    assert response.json() == document_json(
        document,
        actions=["attach", "edit"],
        main=[world.university],
        attachments=[attachment_json(attachment) for attachment in attachments],
    )
    events = AuditEvent.objects.filter(verb=AuditVerb.ATTACHMENT_ADDED)
    assert [event.actor_id for event in events] == [api_client.user_id, api_client.user_id]


def test_every_bad_file_is_named_and_none_is_kept(world, client, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    document = _draft(world)
    files = [_pdf("a.pdf"), _pdf("b.pdf", b"not a pdf"), SimpleUploadedFile("c.exe", b"MZ")]
    with nothing_written():
        response = client.post(_url(document.pk, "attachments"), {"files": files}, headers=bearer(key))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "files.1", "detail": "附件“b.pdf”的内容与扩展名 .pdf 不符。"},
        {"field": "files.2", "detail": "附件“c.exe”的类型不允许，只接受：pdf、ofd、docx、xlsx、txt、png、jpg、jpeg。"},
    ]


def test_an_upload_without_files_is_refused(world, client, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    document = _draft(world)
    with nothing_written():
        response = client.post(_url(document.pk, "attachments"), {"note": "x"}, headers=bearer(key))
    assert (response.status_code, response.json()["errors"]) == (
        400,
        [{"field": "files", "detail": "请至少上传一个附件。"}],
    )


def test_attachments_come_as_multipart_only(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft")
    document = _draft(world)
    with nothing_written():
        response = api.post(_url(document.pk, "attachments"), key, {"files": []})
    assert (response.status_code, response.json()["type"]) == (415, "/api/v1/problems/unsupported-media-type")


def test_files_past_the_request_limit_are_refused_with_413(world, client, make_client, settings, nothing_written):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1024
    _client, key = make_client(world.education, "draft")
    document = _draft(world)
    with nothing_written():
        response = client.post(
            _url(document.pk, "attachments"), {"files": [_pdf("big.pdf", b"%PDF-" + b"x" * 4096)]}, headers=bearer(key)
        )
    assert (response.status_code, response.json()["type"]) == (413, "/api/v1/problems/too-large")


def test_another_units_draft_takes_no_files(world, client, make_client, nothing_written):
    _client, key = make_client(world.other, "draft")
    document = _draft(world)
    with nothing_written():
        response = client.post(_url(document.pk, "attachments"), {"files": [_pdf("a.pdf")]}, headers=bearer(key))
    assert response.status_code == 404


# --- 签发 -----------------------------------------------------------------------------------------


def test_a_client_that_drafted_may_not_sign_off_its_own_draft(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft", "sign-off")
    document_id = api.post(DOCUMENTS, key, _draft_body(world)).json()["id"]

    with nothing_written():
        response = api.post(_url(document_id, "sign-off"), key)

    assert (response.status_code, response.json()) == (
        403,
        problem(
            _url(document_id, "sign-off"),
            "forbidden",
            "无权执行此操作",
            403,
            "您起草或修改过“关于做好秋季学期安全工作的通知”，按自治区教育工委的规定须由另一位签发人签发。",
        ),
    )


def test_a_client_that_drafted_may_sign_off_where_the_unit_allows_it(world, api, make_client, admin_user):
    client, key = make_client(world.education, "draft", "sign-off")
    document_id = api.post(DOCUMENTS, key, _draft_body(world)).json()["id"]
    services.unit_sign_off_policy_set(actor=admin_user, unit=world.education, allows_self_sign_off=True)

    response = api.post(_url(document_id, "sign-off"), key)

    assert response.status_code == 200
    document = Document.objects.select_related("issuing_unit").get(pk=document_id)
    assert (document.state, document.signed_off_by_id) == ("signed_off", client.user_id)
    assert response.json() == document_json(document, actions=[], main=[world.groups["各高校党委"]], cc=[world.other])


def test_another_signer_signs_off_the_clients_draft(world, api, make_client):
    _client, key = make_client(world.education, "draft")
    document_id = api.post(DOCUMENTS, key, _draft_body(world)).json()["id"]

    response = api.post(_url(document_id, "sign-off"), world.jygw_leader)

    assert (response.status_code, response.json()["state"]) == (200, "signed_off")
    assert response.json()["signed_off_at"] == moment(Document.objects.get(pk=document_id).signed_off_at)


def test_a_draft_is_signed_off_once(world, api, nothing_written):
    document = _draft(world)
    api.post(_url(document.pk, "sign-off"), world.jygw_leader)
    with nothing_written():
        response = api.post(_url(document.pk, "sign-off"), world.jygw_leader)
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "公文“关于做好测试工作的通知”当前状态为已签发，不能签发。",
    )


@pytest.mark.parametrize("who", ["other_leader", "imu_signer", "college_leader", "auditor"])
def test_signers_of_other_units_do_not_find_the_draft(world, api, nothing_written, who):
    document = _draft(world)
    with nothing_written():
        response = api.post(_url(document.pk, "sign-off"), getattr(world, who))
    assert response.status_code == 404


def test_signing_off_needs_the_sign_off_scope(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft", "issue")
    document = _draft(world)
    with nothing_written():
        response = api.post(_url(document.pk, "sign-off"), key)
    assert (response.status_code, response.json()["required_scope"]) == (403, "sign-off")


# --- 印发 -----------------------------------------------------------------------------------------


def _signed_off(world, **overrides) -> Document:
    document = _draft(world, **overrides)
    return services.document_sign_off(actor=world.jygw_leader, document=document)


def test_a_client_issues_and_gets_the_dispatch(world, api, make_client, django_capture_on_commit_callbacks):
    client, key = make_client(world.education, "issue")
    document = _signed_off(world, urgency="特急")

    with django_capture_on_commit_callbacks() as callbacks:
        # Earlier than the policy's deadline of a 特急 document (3 working days): allowed.
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        response = api.post(_url(document.pk, "issue"), key, {"complete_by": tomorrow.isoformat()})

    assert response.status_code == 201
    dispatch = Dispatch.objects.select_related("document").get()
    # The dispatch as the outbox shows it (api.views.outbox.dispatch_answer), not routed yet.
    answer = response.json()
    assert answer == api.get(f"/api/v1/dispatches/{dispatch.pk}", world.jygw).json()
    assert (answer["document"]["number"], answer["recipient_count"], answer["is_routed"]) == (
        "内教工委函〔2022〕1号",
        1,
        False,
    )
    assert (answer["deadline_sign_for"], answer["deadline_complete"]) == (
        moment(dispatch.deadline_sign_for),
        moment(end_of_day(tomorrow)),
    )
    assert answer["figures"] == {key: 0 for key in answer["figures"]}
    assert dispatch.main_unit_ids == [world.university.pk]
    assert len(callbacks) == 1, "the routing is enqueued on commit"
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_ISSUED)
    assert event.payload["api_client"] == {"id": client.pk, "name": client.name}


def test_a_draft_not_signed_off_is_not_issued(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "issue")
    document = _draft(world)
    with nothing_written():
        response = api.post(_url(document.pk, "issue"), key)
    assert (response.status_code, response.json()["detail"]) == (
        409,
        "公文“关于做好测试工作的通知”当前状态为草稿，不能印发。",
    )


def test_a_completion_deadline_already_past_is_refused(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "issue")
    document = _signed_off(world)
    with nothing_written():
        response = api.post(_url(document.pk, "issue"), key, {"complete_by": "2001-01-01"})
    assert (response.status_code, response.json()["detail"]) == (400, "办结时限2001年1月1日24时已经过去。")


@pytest.mark.parametrize("body", [{"complete_by": "9999-12-31"}, {"answers_return": 0}, {"complete_by": "明天"}])
def test_bad_issue_options_are_named(world, api, make_client, nothing_written, body):
    _client, key = make_client(world.education, "issue")
    document = _signed_off(world)
    with nothing_written():
        response = api.post(_url(document.pk, "issue"), key, body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == list(body)


def test_issuing_needs_the_issue_scope(world, api, make_client, nothing_written):
    _client, key = make_client(world.education, "draft", "sign-off")
    document = _signed_off(world)
    with nothing_written():
        response = api.post(_url(document.pk, "issue"), key)
    assert (response.status_code, response.json()["required_scope"]) == (403, "issue")


@pytest.mark.parametrize("who", ["other_clerk", "imu", "college_clerk"])
def test_other_units_do_not_find_the_document_to_issue(world, api, nothing_written, who):
    document = _signed_off(world)
    with nothing_written():
        response = api.post(_url(document.pk, "issue"), getattr(world, who))
    assert response.status_code == 404


def test_issuing_costs_the_same_for_few_recipients_and_many(world, api, make_client, count_queries):
    _client, key = make_client(world.education, "issue")
    schools = [unit(f"高校{i}", world.education) for i in range(8)]
    one = services.recipient_group_save(actor=None, owner=world.education, name="一所高校", members=schools[:1])
    all_schools = services.recipient_group_save(actor=None, owner=world.education, name="全部高校", members=schools)

    def signed_off(main, cc=()):
        draft = services.document_draft(
            actor=world.jygw, unit=world.education, content=content(), main_recipients=main, cc_recipients=cc
        )
        return services.document_sign_off(actor=world.jygw_leader, document=draft)

    # Groups and units are each read in one query when there are any (the service skips a query for
    # none), so both drafts name both.
    few = signed_off([one, world.university])
    many = signed_off([all_schools, world.university], [world.other, world.department])

    queries_few, answer_few = count_queries(api.post, _url(few.pk, "issue"), key)
    queries_many, answer_many = count_queries(api.post, _url(many.pk, "issue"), key)

    assert (answer_few.json()["recipient_count"], answer_many.json()["recipient_count"]) == (2, 11)
    assert queries_few == queries_many
