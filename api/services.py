"""Creating and revoking API clients: the system administrator's actions, each audited."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from api.models import SCOPE_ROLES, ApiClient, Scope
from units.errors import InvalidInput
from units.models import Unit
from workflow.audit import audit_record
from workflow.models import AuditVerb
from workflow.services.directory import require_administrator, role_grant, unit_add_member

KEY_PREFIX = "gwk"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_client_create(
    *, actor: AbstractBaseUser | None, unit: Unit, name: str, scopes: list[str], rate_limit_per_minute: int = 600
) -> tuple[ApiClient, str]:
    """A client of `unit` with these scopes, and its key (shown once, never stored).

    The client's service account becomes a member of the unit and receives the roles its scopes
    need (SCOPE_ROLES); the grants are audited like any other.
    """
    require_administrator(actor)
    name = name.strip()
    if not name:
        raise InvalidInput(_("接口客户端的名称不能为空。"))
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(_("权限范围“%(scopes)s”不存在。") % {"scopes": "、".join(unknown)})
    if not scopes:
        raise InvalidInput(_("接口客户端至少需要一项权限范围。"))
    if not unit.is_active:
        raise InvalidInput(_("单位“%(name)s”已停用，不能创建接口客户端。") % {"name": unit.name})
    if rate_limit_per_minute < 1:
        raise InvalidInput(_("每分钟请求上限必须是正整数。"))
    if ApiClient.objects.filter(unit=unit, name=name).exists():
        raise InvalidInput(_("本单位已有名为“%(name)s”的接口客户端。") % {"name": name})
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    scopes = [scope for scope in Scope.values if scope in scopes]
    with transaction.atomic():
        user = get_user_model()(username=f"api-client-{key_id}", first_name=name[:150])
        user.set_unusable_password()
        user.save()
        client = ApiClient.objects.create(
            name=name,
            unit=unit,
            user=user,
            scopes=scopes,
            key_id=key_id,
            key_digest=_digest(secret),
            rate_limit_per_minute=rate_limit_per_minute,
            created_by=actor,
        )
        unit_add_member(actor=actor, unit=unit, user=user)
        for role in dict.fromkeys(SCOPE_ROLES[scope] for scope in scopes):
            if role is not None:
                role_grant(actor=actor, unit=unit, role=role, user=user)
        audit_record(
            actor=actor,
            verb=AuditVerb.API_CLIENT_CREATED,
            object_type="ApiClient",
            object_id=client.pk,
            unit=unit,
            payload={"name": name, "scopes": scopes, "user_id": user.pk},
        )
    return client, f"{KEY_PREFIX}_{key_id}_{secret}"


def api_client_revoke(*, actor: AbstractBaseUser | None, client: ApiClient) -> bool:
    """Revoke the key and deactivate the service account. False when it was revoked already."""
    require_administrator(actor)
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().select_related("user").get(pk=client.pk)
        if client.revoked_at is not None:
            return False
        client.revoked_at, client.revoked_by = timezone.now(), actor
        client.save(update_fields=["revoked_at", "revoked_by"])
        client.user.is_active = False
        client.user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            verb=AuditVerb.API_CLIENT_REVOKED,
            object_type="ApiClient",
            object_id=client.pk,
            unit=client.unit_id,
            payload={"name": client.name},
        )
    return True


def api_client_for_key(key: str) -> ApiClient | None:
    """The active client this key belongs to, with its service account; None for any other key."""
    prefix, _sep, rest = key.partition("_")
    key_id, _sep, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != 12 or not secret:
        return None
    client = ApiClient.objects.select_related("user").filter(key_id=key_id, revoked_at=None).first()
    if client is None or not client.user.is_active or not constant_time_compare(client.key_digest, _digest(secret)):
        return None
    return client
