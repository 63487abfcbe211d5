"""The permission matrix: every URL that takes an id, for everyone who must not reach it.

Anonymous, a user of another unit, of the parent unit, of a child unit and an auditor whose scope
does not include it: never a 2xx, and nothing written (no row, no state change, no task).
"""

import re

import pytest
from django.urls import reverse

from tests.web.conftest import sign_in

OUTSIDERS = ["anonymous", "other_clerk", "region_clerk", "imu", "other_auditor"]


def _urls(scenario, world):
    telegram, received, cover = scenario["telegram"], scenario["received"], scenario["cover"]
    return [
        ("get", reverse("delivery", args=[received.pk])),
        ("post", reverse("delivery-sign", args=[received.pk])),
        ("get", reverse("delivery-forward", args=[received.pk])),
        ("post", reverse("delivery-forward", args=[received.pk])),
        ("post", reverse("delivery-forward-preview", args=[received.pk])),
        ("get", reverse("document", args=[telegram.pk])),
        ("get", reverse("document", args=[cover.pk])),
        ("post", reverse("document-sign-off", args=[cover.pk])),
        ("post", reverse("document-issue", args=[cover.pk])),
        ("get", reverse("chain", args=[telegram.pk])),
        ("get", reverse("chain-json", args=[telegram.pk])),
        ("get", reverse("chain-csv", args=[telegram.pk])),
        ("get", reverse("attachment", args=[scenario["attachment"].pk])),
        ("get", reverse("outbox") + f"?unit={world.education.pk}"),
    ]


def _forward_form(world):
    return {
        "groups": [world.groups["各高校党委"].pk],
        "urgency": "特提",
        "number_prefix": "内教工委函",
        "body": "请认真贯彻落实。",
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_outsider_reaches_any_object_page_and_nothing_is_written(client, world, scenario, who, nothing_written):
    if who != "anonymous":
        sign_in(client, getattr(world, who))
    for method, url in _urls(scenario, world):
        with nothing_written():
            response = client.get(url) if method == "get" else client.post(url, _forward_form(world))
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
