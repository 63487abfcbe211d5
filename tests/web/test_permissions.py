"""The permission matrix: every URL pattern of the site, for everyone who must not reach it.

Every pattern is in MATRIX, or a test fails: a new page cannot go live without saying who may reach
it. The pages that take an id are tried by anonymous, a user of another unit, of the parent unit, of
a child unit and an auditor whose scope does not include it: never a 2xx, and nothing written (no
row, no state change, no task). The recipient's clerk is tried on deliveries that are recalled,
returned and completed, with every action their state forbids.
"""

import datetime
import io
import re

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from documents.importing import parse_text
from tests.factories import delivery_of, forward, issue
from tests.web.conftest import sign_in
from tests.web.inunit import assignment_of, build_inside, instructed, slip_of
from workflow import services
from workflow.models import ReturnReason
from workflow.services import SourceFile

# Another unit, the parent unit, a child unit, an auditor of another subtree, and a department (内设机构)
# of the recipient unit that has no assignment on its delivery.
OUTSIDERS = ["anonymous", "other_clerk", "region_clerk", "imu", "other_auditor", "idle_handler"]

# How each URL pattern is guarded, and where that is tested.
OBJECT = "an object by its id: `_urls` below, for every outsider"
OWN = "the person's own lists: restricted in the query (test_lists_show_outsiders_nothing_of_others)"
ACCOUNT = "the person's own account (tests/web/test_accounts.py)"
PUBLIC = "open to anyone: nothing to protect"
API = "the JSON API: bearer token, the sign-for door (test_the_api_refuses_outsiders_and_writes_nothing)"
API_V1 = "/api/v1/: a bearer credential (no session) and the client's scope; the doors per route (tests/api/)"
API_DOCS = "/api/v1/: the schema, its docs and the problem types are public; any other path is a 404 problem"
STAFF = "the admin: staff only (test_the_admin_is_for_staff_only; tests/workflow/test_admin.py)"
PEER = "公文交换: a peer installation's signed message, no session (tests/exchange/test_receive.py)"
MATRIX = {
    "delivery": OBJECT,
    "delivery-sign": OBJECT,
    "delivery-forward": OBJECT,
    "delivery-forward-preview": OBJECT,
    "delivery-return": OBJECT,
    "delivery-complete": OBJECT,
    "delivery-remind": OBJECT,
    "delivery-recall": OBJECT,
    "delivery-pdf": OBJECT,
    "delivery-ofd": OBJECT,
    "dispatch-recall": OBJECT,
    "delivery-register": OBJECT,
    "handling-propose": OBJECT,
    "handling-instruct": OBJECT,
    "assignment-accept": OBJECT,
    "assignment-report": OBJECT,
    "reading-done": OBJECT,
    "reading-pass-on": OBJECT,
    "reply-draft": OBJECT,
    "handling-sheet": OBJECT,
    "delegation-withdraw": OBJECT,
    "todo": OWN,
    "delegations": OWN,
    "return_notice": OBJECT,
    "completion-attachment": OBJECT,
    "document": OBJECT,
    "document-sign-off": OBJECT,
    "document-issue": OBJECT,
    "document-pdf": OBJECT,
    "document-ofd": OBJECT,
    "document-new": OBJECT,  # ?unit= and ?answers= name objects; without them, the person's own unit
    "register-file": OBJECT,  # ?unit= names a unit; without it, the person's first unit they are a clerk of
    "register-file-confirm": OBJECT,  # the signed token names the file, the unit and the clerk
    "imported-original": OBJECT,
    "chain": OBJECT,
    "chain-json": OBJECT,
    "chain-csv": OBJECT,
    "chain-branch": OBJECT,
    "chain-stalled-csv": OBJECT,
    "chain-evidence": OBJECT,
    "attachment": OBJECT,
    "outbox": OBJECT,  # ?unit= names a unit; without it, the person's first unit
    "inbox": OWN,
    "chains": OWN,
    "search": "全文检索: restricted in the query to what the person may see (tests/web/test_search.py)",
    "notifications": OWN,
    "notifications-read": OWN,
    "notifications-bell": OWN,
    "unit-search": "the directory of units: open to anyone signed in (test_the_unit_search_is_for_people_signed_in)",
    "login": PUBLIC,
    "logout": PUBLIC,
    "set_language": PUBLIC,
    "password_change": ACCOUNT,
    "password_change_done": ACCOUNT,
    "otp-enrol": ACCOUNT,
    "otp-verify": ACCOUNT,
    "password_reset": ACCOUNT,
    "password_reset_done": ACCOUNT,
    "password_reset_confirm": ACCOUNT,
    "password_reset_complete": ACCOUNT,
    "api-delivery-sign-for": API,
    "api:units": API_V1,
    "api:recipient-groups": API_V1,
    "api:delivery-sign-for": API_V1,
    "api:inbox": API_V1,
    "api:delivery": API_V1,
    "api:attachment-content": API_V1,
    "api:completion-attachment-content": API_V1,
    "api:outbox": API_V1,
    "api:search": API_V1,
    "api:dispatch": API_V1,
    "api:dispatch-deliveries": API_V1,
    "api:document-chain": API_V1,
    "api:notifications": API_V1,
    "api:notifications-read": API_V1,
    "api:documents": API_V1,
    "api:document": API_V1,
    "api:document-attachments": API_V1,
    "api:document-sign-off": API_V1,
    "api:document-issue": API_V1,
    "api:delivery-return": API_V1,
    "api:delivery-forward": API_V1,
    "api:delivery-complete": API_V1,
    "api:delivery-remind": API_V1,
    "api:delivery-recall": API_V1,
    "api:dispatch-recall": API_V1,
    "api:schema": API_DOCS,
    "api:docs": API_DOCS,
    "api:problem-types": API_DOCS,
    "api:problem-type": API_DOCS,
    "api:not-found": API_DOCS,
    "admin:*": STAFF,
    "exchange-consignments": PEER,
    "exchange-receipts": PEER,
    "exchange-recalls": PEER,
    "exchange-reports": PEER,
    "exchange-files": PEER,
}


def _pattern_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin:*"
            else:
                yield from _pattern_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else (pattern.name or f"unnamed {pattern.pattern}")


def test_every_url_pattern_is_in_the_permission_matrix():
    names = set(_pattern_names(get_resolver().url_patterns))
    assert names - set(MATRIX) == set(), "a URL pattern nobody said who may reach"


def test_every_object_page_of_the_matrix_is_tried_by_every_outsider(world, scenario, handling):
    tried = {resolve(url.split("?")[0]).url_name for _method, url, _form in _urls(scenario, world, handling)}
    assert tried == {name for name, guard in MATRIX.items() if guard == OBJECT}


@pytest.fixture
def handling(world, scenario, settings, tmp_path):
    """The deadlines work on top of the scenario, all between the department and education: a
    pending delivery (to return, urge, recall), a returned one, a completed one with a file."""
    settings.MEDIA_ROOT = tmp_path
    pending_document, pending_dispatch = issue(world.zzb, world.department, main=[world.education], urgency="特急")
    returned_document, _ = issue(world.zzb, world.department, main=[world.education], title="关于退回的通知")
    returned = services.delivery_return(
        actor=world.jygw,
        delivery_id=delivery_of(returned_document, world.education).pk,
        reason=ReturnReason.NOT_COMPETENT,
    )
    completed_document, _ = issue(world.zzb, world.department, main=[world.education], title="关于办结的通知")
    completed = delivery_of(completed_document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=completed.pk)
    completion = services.delivery_complete(
        actor=world.jygw,
        delivery_id=completed.pk,
        feedback="已办结。",
        attachments=[("落实.txt", io.BytesIO("落实".encode()))],
    )
    # Inside education: its departments, its handling record of the telegram it received (组织部 主办,
    # 宣传部 协办, two readers) and a delegation; 统战部 has no assignment (an outsider here).
    inside = build_inside(world.education, world.jygw, prefix="jygw_")
    world.people["idle_handler"] = inside.idle_handler
    record = instructed(inside, scenario["received"], may_pass_on=True)
    now = timezone.now()
    delegation = services.delegation_grant(
        actor=world.jygw,
        unit_id=world.education.pk,
        principal_id=world.jygw.pk,
        deputy_id=world.jygw_leader.pk,
        starts_at=now,
        ends_at=now + datetime.timedelta(days=1),
    )
    # 收文登记 from a file by education: the original kept, and a review form's token of its clerk.
    received_file = SourceFile.of("来文.txt", RECEIVED_TEXT.encode())
    registration = services.document_register_received(
        actor=world.jygw,
        unit=world.education,
        parsed=parse_text(RECEIVED_TEXT),
        source=received_file,
    )
    token = signing.dumps(
        {"sha256": received_file.sha256, "name": "来文.txt", "unit": world.education.pk, "user": world.jygw.pk},
        salt="web.receiving.file",
    )
    return {
        "imported": registration.document.imported_sources.get(),
        "review": {"token": token, "number": "内组字〔2022〕77号", "title": "关于报送年度党建工作总结的通知"},
        "pending": delivery_of(pending_document, world.education),
        "dispatch": pending_dispatch,
        "returned": returned,
        "file": completion.attachments.get(),
        "inside": inside,
        "lead": assignment_of(record, inside.organisation),
        "slip": slip_of(record, inside.reader_a),
        "delegation": delegation,
    }


RECEIVED_TEXT = """中共内蒙古自治区委员会组织部

内组字〔2022〕77号

关于报送年度党建工作总结的通知

自治区教育工委：
    请于12月20日前报送年度党建工作总结。
    特此通知。

内蒙古自治区党委组织部
2022年12月1日
"""


def _urls(scenario, world, handling):
    """(method, url, form) for every page and action that takes an id."""
    telegram, received, cover = scenario["telegram"], scenario["received"], scenario["cover"]
    pending, returned = handling["pending"], handling["returned"]
    forward_form = _forward_form(world)
    draft_form = {
        "kind": "通知",
        "urgency": "普通",
        "classification": "公开",
        "number_prefix": "内组字",
        "written_on": "2022-10-13",
        "title": "冒名拟稿",
        "body": "正文。",
        "main_units": [world.other.pk],
    }
    department = f"?unit={world.department.pk}"
    return [
        ("get", reverse("delivery", args=[received.pk]), None),
        ("post", reverse("delivery-sign", args=[received.pk]), forward_form),
        ("get", reverse("delivery-forward", args=[received.pk]), None),
        ("post", reverse("delivery-forward", args=[received.pk]), forward_form),
        ("post", reverse("delivery-forward-preview", args=[received.pk]), forward_form),
        ("get", reverse("document", args=[telegram.pk]), None),
        ("get", reverse("document", args=[cover.pk]), None),
        ("post", reverse("document-sign-off", args=[cover.pk]), forward_form),
        ("post", reverse("document-issue", args=[cover.pk]), forward_form),
        ("get", reverse("chain", args=[telegram.pk]), None),
        ("get", reverse("chain-json", args=[telegram.pk]), None),
        ("get", reverse("chain-csv", args=[telegram.pk]), None),
        # The big chain's pages (issue 18): a branch (the telegram's own dispatch), the stalled CSV.
        ("get", reverse("chain-branch", args=[telegram.pk, received.dispatch_id]), None),
        ("get", reverse("chain-stalled-csv", args=[telegram.pk]), None),
        ("get", reverse("chain-evidence", args=[telegram.pk]), None),
        ("get", reverse("attachment", args=[scenario["attachment"].pk]), None),
        # 打印 / PDF / OFD (the cover is still a draft: its own unit's people alone may print it).
        ("get", reverse("delivery-pdf", args=[received.pk]), None),
        ("get", reverse("document-pdf", args=[telegram.pk]), None),
        ("get", reverse("document-pdf", args=[cover.pk]), None),
        ("get", reverse("delivery-ofd", args=[received.pk]), None),
        ("get", reverse("document-ofd", args=[telegram.pk]), None),
        ("get", reverse("document-ofd", args=[cover.pk]), None),
        ("get", reverse("outbox") + f"?unit={world.education.pk}", None),
        # The deadlines work.
        ("post", reverse("delivery-return", args=[pending.pk]), {"reason": "other", "text": "冒名退文"}),
        ("post", reverse("delivery-complete", args=[received.pk]), {"feedback": "冒名办结"}),
        ("post", reverse("delivery-remind", args=[pending.pk]), {}),
        ("post", reverse("delivery-recall", args=[pending.pk]), {"reason": "冒名撤回"}),
        ("post", reverse("dispatch-recall", args=[handling["dispatch"].pk]), {"reason": "冒名撤回"}),
        ("post", reverse("document-issue", args=[cover.pk]), {"answers_return": returned.pk}),
        ("get", reverse("return_notice", args=[returned.pk]), None),
        ("get", reverse("completion-attachment", args=[handling["file"].pk]), None),
        ("get", reverse("document-new") + department, None),
        ("get", reverse("document-new") + department + f"&answers={returned.pk}", None),
        ("post", reverse("document-new") + department, draft_form),
        ("get", reverse("outbox") + department, None),
        # Inside the recipient unit (issue 14).
        ("post", reverse("delivery-register", args=[received.pk]), {"copies": 1}),
        ("post", reverse("handling-propose", args=[received.pk]), {"text": "冒名拟办"}),
        ("post", reverse("handling-instruct", args=[received.pk]), {"text": "冒名批示", "reading_mode": "parallel"}),
        ("post", reverse("assignment-accept", args=[received.pk, handling["lead"].pk]), {}),
        (
            "post",
            reverse("assignment-report", args=[received.pk, handling["lead"].pk]),
            {"text": "冒名", "finish": "on"},
        ),
        ("post", reverse("reading-done", args=[received.pk, handling["slip"].pk]), {"remark": "冒名已阅"}),
        ("post", reverse("reading-pass-on", args=[received.pk, handling["slip"].pk]), {"readers": [world.imu.pk]}),
        ("post", reverse("reply-draft", args=[received.pk]), {"title": "冒名答复", "body": "正文"}),
        ("get", reverse("handling-sheet", args=[received.pk]), None),
        ("post", reverse("delegation-withdraw", args=[handling["delegation"].pk]), {}),
        # 登记来文 (issue 12): education's register, its clerk's review form, the file it registered.
        ("get", reverse("register-file") + f"?unit={world.education.pk}", None),
        (
            "post",
            reverse("register-file") + f"?unit={world.education.pk}",
            {"unit": world.education.pk, "file": SimpleUploadedFile("冒名.txt", RECEIVED_TEXT.encode())},
        ),
        ("post", reverse("register-file-confirm"), handling["review"]),
        ("get", reverse("imported-original", args=[handling["imported"].pk]), None),
    ]


def _forward_form(world):
    return {
        "groups": [world.groups["各高校党委"].pk],
        "urgency": "特提",
        "number_prefix": "内教工委函",
        "body": "请认真贯彻落实。",
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_outsider_reaches_any_object_page_and_nothing_is_written(
    client, world, scenario, handling, who, nothing_written
):
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    for method, url, form in _urls(scenario, world, handling):
        with nothing_written():
            response = client.get(url) if method == "get" else client.post(url, form)
        assert not 200 <= response.status_code < 300, (who, method, url, response.status_code)
        if who == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        else:
            assert response.status_code == 404, (who, method, url, response.status_code)


def test_an_id_that_does_not_exist_is_the_same_404(client, world, scenario):
    sign_in(client, world.other_clerk)
    missing = client.get(reverse("delivery", args=[10**9]))
    forbidden = client.get(reverse("delivery", args=[scenario["received"].pk]))
    assert missing.status_code == forbidden.status_code == 404
    assert _main(missing) == _main(forbidden)


def _main(response) -> str:
    return re.search(r"<main.*</main>", response.content.decode(), re.DOTALL).group(0)


def test_the_issuer_sees_the_delivery_but_may_not_sign_for_it(client, world, scenario, nothing_written):
    sign_in(client, world.zzb)
    received = scenario["received"]
    assert client.get(reverse("delivery", args=[received.pk])).status_code == 200
    with nothing_written():
        assert client.get(reverse("delivery-forward", args=[received.pk])).status_code == 404
        assert client.post(reverse("delivery-forward", args=[received.pk]), _forward_form(world)).status_code == 404


def test_a_signer_without_the_clerk_role_cannot_issue(client, world, scenario, nothing_written):
    from workflow import services

    services.document_sign_off(actor=world.jygw_leader, document=scenario["cover"])
    sign_in(client, world.imu_signer)
    with nothing_written():
        response = client.post(reverse("document-issue", args=[scenario["cover"].pk]))
    assert response.status_code == 404  # imu_signer is not of education: the cover is not visible


def test_a_forged_upload_by_another_unit_is_a_404_and_stores_no_file(client, world, handling, nothing_written):
    sign_in(client, world.other_clerk)
    document, _ = issue(world.zzb, world.department, main=[world.education])
    signed = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=signed.pk)
    with nothing_written():
        response = client.post(
            reverse("delivery-complete", args=[signed.pk]),
            {"feedback": "冒名", "attachments": [SimpleUploadedFile("a.txt", b"a")]},
        )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("who", "action"),
    [
        # Visible to them, but not theirs to do: the services refuse, nothing is written.
        ("jygw", "delivery-remind"),
        ("jygw", "delivery-recall"),
        ("zzb", "delivery-return"),
        ("auditor", "delivery-return"),
        ("auditor", "delivery-remind"),
        ("auditor", "delivery-recall"),
        ("auditor", "dispatch-recall"),
    ],
)
def test_actions_on_a_visible_delivery_by_the_wrong_side_write_nothing(
    client, world, handling, who, action, nothing_written
):
    sign_in(client, getattr(world, who))
    target = handling["dispatch"] if action == "dispatch-recall" else handling["pending"]
    with nothing_written():
        response = client.post(reverse(action, args=[target.pk]), {"reason": "other", "text": "x"}, follow=True)
    assert response.redirect_chain[0][1] == 302
    assert "不能" in response.content.decode()  # the service's refusal, shown as a message


def test_the_unit_search_is_for_people_signed_in(client, world):
    response = client.get(reverse("unit-search"), {"role": "main", "q_main": "大学"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_lists_show_outsiders_nothing_of_others(client, world, scenario, handling):
    telegram = scenario["telegram"]
    for who in ("other_clerk", "region_clerk", "imu", "other_auditor", "idle_handler"):
        sign_in(client, getattr(world, who))
        for name in ("inbox", "chains", "notifications", "notifications-bell", "todo", "delegations"):
            for query in ({}, {"tab": "all"}, {"tab": "recalled"}, {"tab": "done"}):
                page = client.get(reverse(name), query).content.decode()
                assert telegram.title not in page, (who, name)
                assert telegram.number not in page, (who, name)
        outbox = client.get(reverse("outbox")).content.decode()
        assert telegram.title not in outbox, who


def test_the_api_refuses_outsiders_and_writes_nothing(client, world, scenario, handling, nothing_written):
    from workflow.api import api_token_for

    pending = handling["pending"]
    url = reverse("api-delivery-sign-for", args=[pending.pk])
    with nothing_written():
        assert client.post(url).status_code == 401
        for who in ("other_clerk", "region_clerk", "imu", "other_auditor", "auditor", "zzb"):
            token = api_token_for(getattr(world, who))
            response = client.post(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 404, who


def test_the_admin_is_for_staff_only(client, world, nothing_written):
    for who in ("anonymous", "zzb", "auditor"):
        if who != "anonymous":
            sign_in(client, getattr(world, who))
        with nothing_written():
            for url in ("/admin/", "/admin/documents/document/", "/admin/workflow/delivery/"):
                response = client.get(url)
                assert response.status_code == 302, (who, url)
                assert response["Location"].startswith("/admin/login/"), (who, url)


# --- the recipient's clerk, on deliveries whose state forbids the action -------------------------------

RECIPIENT_ACTIONS = {
    "delivery-sign": {},
    "delivery-forward": {"units": [], "urgency": "普通", "body": "转发"},
    "delivery-return": {"reason": "other", "text": "退回"},
    "delivery-complete": {"feedback": "已办"},
}
# What each state still allows the recipient's clerk to do (the rules of workflow.services.rules).
ALLOWED = {"returned": set(), "completed": {"delivery-forward"}, "recalled": set()}


@pytest.fixture
def states(world, handling):
    pending = handling["pending"]
    services.delivery_recall(actor=world.zzb, delivery_id=pending.pk, reason="撤回")
    return {
        "returned": handling["returned"].delivery,
        "completed": handling["file"].completion.delivery,
        "recalled": pending,
    }


@pytest.mark.parametrize(
    ("state", "action"),
    [(state, action) for state in ALLOWED for action in sorted(RECIPIENT_ACTIONS) if action not in ALLOWED[state]],
)
def test_the_recipients_clerk_can_do_nothing_its_state_forbids(client, world, states, state, action, nothing_written):
    sign_in(client, world.jygw)
    delivery = states[state]
    with nothing_written():
        response = client.post(reverse(action, args=[delivery.pk]), RECIPIENT_ACTIONS[action])
    if state == "recalled":
        assert response.status_code == 410  # the door: its unit sees only the stub
    else:
        assert response.status_code in (302, 400), response.status_code
        page = client.get(reverse("delivery", args=[delivery.pk])).content.decode()
        assert reverse(action, args=[delivery.pk]) not in page  # the page offers what the rules allow


@pytest.mark.parametrize("state", ["returned", "completed", "recalled"])
def test_the_issuer_may_neither_urge_nor_recall_what_is_closed(client, world, states, state, nothing_written):
    sign_in(client, world.zzb)
    delivery = states[state]
    for action in ("delivery-remind", "delivery-recall"):
        if state == "completed" and action == "delivery-recall":
            continue  # a completed delivery may still be recalled
        with nothing_written():
            response = client.post(reverse(action, args=[delivery.pk]), {"reason": "x"}, follow=True)
        assert "不能" in response.content.decode(), (state, action)


def test_an_escalation_tells_the_parent_unit_without_a_link_it_could_not_open(client, world, settings, handling):
    settings.REMINDER_ESCALATE_AFTER = 1
    pending = handling["pending"]
    services.delivery_remind(actor=world.zzb, delivery_id=pending.pk)  # education's parent: the region
    sign_in(client, world.region_clerk)
    page = client.get(reverse("notifications")).content.decode()
    assert "请督促办理" in page
    assert reverse("delivery", args=[pending.pk]) not in page
    assert client.get(reverse("delivery", args=[pending.pk])).status_code == 404


# --- inside the recipient unit (issue 14) --------------------------------------------------------------


def test_a_department_sees_a_delivery_only_while_it_has_an_assignment_on_it(client, world, scenario, handling):
    inside, received = handling["inside"], scenario["received"]
    for who, status in ((inside.org_handler, 200), (inside.pub_handler, 200), (inside.idle_handler, 404)):
        sign_in(client, who)
        assert client.get(reverse("delivery", args=[received.pk])).status_code == status, who
        assert client.get(reverse("handling-sheet", args=[received.pk])).status_code == status, who
    sign_in(client, inside.reader_a)  # a reader, by their slip
    assert client.get(reverse("handling-sheet", args=[received.pk])).status_code == 200


def test_a_deputy_withdrawing_someone_elses_delegation_writes_nothing(client, world, handling, nothing_written):
    sign_in(client, world.jygw_leader)  # the deputy, not the principal
    with nothing_written():
        response = client.post(reverse("delegation-withdraw", args=[handling["delegation"].pk]), follow=True)
    assert response.status_code == 404


@pytest.mark.parametrize("delivered_as_set", [2_000, 0], ids=["deliveries as a set", "deliveries probed"])
def test_the_search_door_sees_exactly_what_the_document_door_sees(
    world, scenario, handling, monkeypatch, delivered_as_set
):
    """workflow.access.document_visible_among is document_list_visible reshaped for many candidates
    (search): for every person of every kind — members, auditors, a share, departments with and
    without an assignment, readers, a deputy, a unit a document was recalled from, anonymous — the
    two name the same documents, or one of them has drifted from the rule. Both shapes of "delivered
    to a unit of mine": a set (a unit with few deliveries) and a probe per candidate (with many)."""
    monkeypatch.setattr("workflow.access.DELIVERED_AS_SET", delivered_as_set)
    from django.contrib.auth.models import AnonymousUser
    from guardian.shortcuts import assign_perm

    from documents.models import Document, DocumentSearch
    from workflow.access import document_list_visible, document_visible_among

    assign_perm("documents.view_document", world.other_leader, scenario["telegram"])  # shared with a person
    services.delivery_recall(actor=world.zzb, delivery_id=handling["pending"].pk, reason="撤回")
    # A document a unit sees only through what encloses it: forwarded to the universities, and by one
    # of them on to its college (two levels of enclosure).
    original, _ = issue(world.zzb, world.department, main=[world.education], title="关于只经转发可见的通知")
    cover, _ = forward(world.jygw, delivery_of(original, world.education), main=[world.groups["各高校党委"]])
    forward(world.imu, delivery_of(cover, world.university), main=[world.college])
    inside = handling["inside"]
    people = [
        *world.people.values(),
        *(getattr(inside, name) for name in ("secretary", "reader_a", "reader_b", "org_handler", "pub_handler")),
        AnonymousUser(),
    ]
    seen = {}
    for who in people:
        expected = set(document_list_visible(who).values_list("pk", flat=True))
        among = set(Document.objects.filter(document_visible_among(who, "pk")).values_list("pk", flat=True))
        assert among == expected, who
        # As the search asks it: on the search rows, "issued by mine" tested on their issuing unit.
        door = document_visible_among(who, "document_id", issuer_field="issuing_unit_id")
        assert set(DocumentSearch.objects.filter(door).values_list("document_id", flat=True)) == expected, who
        seen[str(who)] = frozenset(among)
    # The people see different things: the comparison is not of empty sets.
    assert len(set(seen.values())) >= 3
    assert scenario["telegram"].pk in seen["other_leader"]
    assert original.pk in seen["univ_b_clerk"]
    assert original.pk in seen["college_clerk"]
