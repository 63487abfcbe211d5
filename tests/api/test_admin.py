"""The administrator creates a client in the admin and sees its key once; revokes it there."""

import pytest
from django.urls import reverse

from api.models import ApiClient
from api.services import api_client_for_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client, admin_user):
    client.force_login(admin_user)
    return client


def _create(browser, world, **overrides):
    data = {
        "name": "档案系统",
        "unit": world.education.pk,
        "scopes": ["read", "sign-for"],
        "rate_limit_per_minute": 120,
        **overrides,
    }
    return browser.post(reverse("admin:api_apiclient_add"), data)


def test_creating_a_client_shows_its_key_once(world, admin_browser, admin_user):
    response = _create(admin_browser, world)

    assert response.status_code == 200
    client = ApiClient.objects.get()
    key = response.context["key"]
    assert key.startswith(f"gwk_{client.key_id}_")
    assert key.encode() in response.content
    assert api_client_for_key(key) == client
    assert (client.name, client.unit, client.scopes, client.rate_limit_per_minute) == (
        "档案系统",
        world.education,
        ["read", "sign-for"],
        120,
    )
    assert client.created_by == admin_user
    assert response["Cache-Control"] == "private, no-store"
    # Never again: not on the client's page, not in the list, and never its digest.
    for page in (
        admin_browser.get(reverse("admin:api_apiclient_change", args=[client.pk])),
        admin_browser.get(reverse("admin:api_apiclient_changelist")),
    ):
        assert page.status_code == 200
        assert key.split("_", 2)[2].encode() not in page.content
        assert client.key_digest.encode() not in page.content
        assert f"gwk_{client.key_id}_…".encode() in page.content


def test_a_refused_creation_says_why_and_writes_nothing(world, admin_browser):
    response = _create(admin_browser, world, scopes=[])
    assert response.status_code == 200
    assert "接口客户端至少需要一项权限范围。" in response.content.decode()
    assert not ApiClient.objects.exists()


def test_the_revoke_action_revokes_the_key(world, admin_browser):
    _create(admin_browser, world)
    client = ApiClient.objects.get()

    response = admin_browser.post(
        reverse("admin:api_apiclient_changelist"), {"action": "revoke", "_selected_action": [client.pk]}, follow=True
    )

    assert "已吊销 1 个接口客户端。" in response.content.decode()
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert client.user.is_active is False
