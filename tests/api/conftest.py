"""Calling /api/v1/ as another system does: a bearer credential (a person's token or a client's key)."""

import json

import pytest
from django.contrib.auth import get_user_model

from api.services import api_client_create
from workflow.api import api_token_for


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root-admin", password="x")


@pytest.fixture
def make_client(admin_user):
    """make_client(unit, *scopes, rate_limit_per_minute=600) -> (ApiClient, key)."""

    def make(unit, *scopes, name=None, rate_limit_per_minute=600):
        return api_client_create(
            actor=admin_user,
            unit=unit,
            name=name or f"系统-{'-'.join(scopes)}",
            scopes=list(scopes),
            rate_limit_per_minute=rate_limit_per_minute,
        )

    return make


def bearer(who) -> dict:
    """The Authorization header for a person (a token) or a client's key (a str)."""
    credential = who if isinstance(who, str) else api_token_for(who)
    return {"Authorization": f"Bearer {credential}"}


class Api:
    """The Django test client, speaking JSON with a credential."""

    def __init__(self, client):
        self.client = client

    def get(self, path, who=None, *, headers=None, **params):
        return self.client.get(path, params, headers={**(bearer(who) if who else {}), **(headers or {})})

    def post(self, path, who=None, body=None, *, headers=None):
        return self.client.post(
            path,
            json.dumps(body) if body is not None else b"",
            content_type="application/json",
            headers={**(bearer(who) if who else {}), **(headers or {})},
        )


@pytest.fixture
def api(client):
    return Api(client)
