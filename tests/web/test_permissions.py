"""The permission matrix: every URL that takes an id, for everyone who must not reach it.

Anonymous, a user of another unit, of the parent unit, of a child unit and an auditor whose scope
does not include it: never a 2xx, and nothing written (no row, no state change, no task).
"""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import delivery_of, issue
from tests.web.conftest import sign_in
from workflow import services
from workflow.models import ReturnReason

OUTSIDERS = ["anonymous", "other_clerk", "region_clerk", "imu", "other_auditor"]


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
    return {
        "pending": delivery_of(pending_document, world.education),
        "dispatch": pending_dispatch,
        "returned": returned,
        "file": completion.attachments.get(),
    }


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
        ("get", reverse("attachment", args=[scenario["attachment"].pk]), None),
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

    services.document_sign_off(actor=world.jygw, document=scenario["cover"])
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
