"""API clients: created by the administrator with scopes, key shown once and kept hashed, revocable."""

import hashlib

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiClient
from api.services import api_client_create, api_client_for_key, api_client_revoke
from units.errors import InvalidInput, NotAllowed
from units.selectors import unit_roles
from workflow.models import AuditEvent, AuditVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root-admin", password="x")


def test_a_client_holds_the_roles_its_scopes_need_and_its_key_is_kept_only_as_a_digest(world, admin_user):
    client, key = api_client_create(
        actor=admin_user, unit=world.university, name="机要终端", scopes=["sign-for", "read"]
    )

    assert client.scopes == ["read", "sign-for"]
    prefix, key_id, secret = key.split("_", 2)
    assert (prefix, key_id) == ("gwk", client.key_id)
    assert client.key_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiClient.objects.filter(pk=client.pk).values().get())
    assert unit_roles(client.user, [world.university.pk]) == {world.university.pk: frozenset({"clerk"})}
    assert client.user.groups.filter(pk=world.university.group_id).exists()
    assert not client.user.has_usable_password()
    event = AuditEvent.objects.filter(verb=AuditVerb.API_CLIENT_CREATED).get()
    assert (event.actor_id, event.unit_id, event.payload) == (
        admin_user.pk,
        world.university.pk,
        {"name": "机要终端", "scopes": ["read", "sign-for"], "user_id": client.user.pk},
    )
    assert api_client_for_key(key) == client


@pytest.mark.parametrize(
    "key_of",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # the secret changed
        lambda key: key.replace("gwk_", "gwx_"),
        lambda key: "gwk_000000000000_" + key.split("_", 2)[2],  # another id, the same secret
        lambda key: "",
        lambda key: "gwk__",
    ],
)
def test_any_other_key_finds_no_client(world, admin_user, key_of):
    _client, key = api_client_create(actor=admin_user, unit=world.university, name="终端", scopes=["read"])
    assert api_client_for_key(key_of(key)) is None


def test_a_revoked_client_is_gone_and_its_account_inactive(world, admin_user):
    client, key = api_client_create(actor=admin_user, unit=world.university, name="终端", scopes=["read"])

    assert api_client_revoke(actor=admin_user, client=client) is True
    assert api_client_revoke(actor=admin_user, client=client) is False

    client.refresh_from_db()
    client.user.refresh_from_db()
    assert client.revoked_by == admin_user
    assert client.revoked_at is not None
    assert client.user.is_active is False
    assert api_client_for_key(key) is None
    assert AuditEvent.objects.filter(verb=AuditVerb.API_CLIENT_REVOKED).count() == 1


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", ["read"], "接口客户端的名称不能为空。"),
        ("终端", [], "接口客户端至少需要一项权限范围。"),
        ("终端", ["read", "delete-everything"], "权限范围“delete-everything”不存在。"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, admin_user, nothing_written, name, scopes, message):
    users = get_user_model().objects.count()
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        api_client_create(actor=admin_user, unit=world.university, name=name, scopes=scopes)
    assert refused.value.message == message
    assert get_user_model().objects.count() == users
    assert not ApiClient.objects.exists()


def test_only_an_administrator_creates_a_client(world, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed):
        api_client_create(actor=world.imu, unit=world.university, name="终端", scopes=["read"])
    assert not ApiClient.objects.exists()
