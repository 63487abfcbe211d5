"""The peers an installation trusts, and the units they host: the system administrator's changes,
each audited in its transaction (as workflow.services.directory's). `actor` is a superuser, or None
for the system itself (the `exchange_peer` command).

Each peer has a stand-in here (`peer_user`): a user who cannot sign in (no usable password) and is
a clerk of every unit the peer hosts. The peer's receipts act through it (exchange.receipts), so a
unit elsewhere signs for, returns and completes through the same services, rules and audit events
as a unit here; the receipt as the peer signed it is kept beside.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import keys
from exchange.models import Peer
from units.errors import InvalidInput
from units.models import Role, Unit
from workflow.audit import audit_record
from workflow.checkpoints import key_id
from workflow.models import AuditVerb
from workflow.services.directory import require_administrator, role_grant, role_revoke


def peer_user(peer: Peer) -> AbstractBaseUser:
    """The peer's stand-in (made on first use): active, without a usable password, named after it."""
    user, created = get_user_model().objects.get_or_create(
        username=f"peer.{peer.pk}", defaults={"first_name": _("%(name)s（对端系统）") % {"name": peer.name}}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def peer_save(
    *,
    actor: AbstractBaseUser | None,
    name: str,
    base_url: str,
    public_key: str,
    max_bytes: int | None = None,
    per_minute: int | None = None,
) -> Peer:
    """Add a peer, or change one's address, key or limits (a revoked peer stays revoked). Errors:
    NotAllowed; InvalidInput for an empty name, a URL that is not http(s), a text that is not an
    Ed25519 public key in PEM, a limit below 1."""
    require_administrator(actor)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("对端系统名称不能为空。"))
    try:
        URLValidator(schemes=["http", "https"])(base_url)
    except ValidationError:
        raise InvalidInput(_("交换地址“%(url)s”不是 http(s) 地址。") % {"url": base_url}) from None
    public = keys.public_key_of(public_key)
    if public is None:
        raise InvalidInput(_("对端系统“%(name)s”的公钥不是 PEM 格式的 Ed25519 公钥。") % {"name": name})
    for limit in (max_bytes, per_minute):
        if limit is not None and limit < 1:
            raise InvalidInput(_("上限必须是正整数。"))
    with transaction.atomic():
        peer = Peer.objects.select_for_update().filter(name=name).first() or Peer(name=name)
        created = peer.pk is None
        peer.base_url, peer.public_key = base_url, public_key.strip() + "\n"
        if max_bytes is not None:
            peer.max_bytes = max_bytes
        if per_minute is not None:
            peer.per_minute = per_minute
        peer.save()
        audit_record(
            actor=actor,
            verb=AuditVerb.PEER_SAVED,
            object_type="Peer",
            object_id=peer.pk,
            payload={
                "name": name,
                "base_url": base_url,
                "key_id": key_id(public),
                "max_bytes": peer.max_bytes,
                "per_minute": peer.per_minute,
                "created": created,
            },
        )
    return peer


def peer_revoke(*, actor: AbstractBaseUser | None, peer: Peer) -> bool:
    """Refuse the peer's messages from now on, and sending to its units. False if already revoked."""
    require_administrator(actor)
    with transaction.atomic():
        revoked = Peer.objects.filter(pk=peer.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit_record(
                actor=actor,
                verb=AuditVerb.PEER_REVOKED,
                object_type="Peer",
                object_id=peer.pk,
                payload={"name": peer.name},
            )
    return bool(revoked)


def unit_host(*, actor: AbstractBaseUser | None, unit: Unit, peer: Peer | None) -> bool:
    """Record that `peer` hosts `unit` (an external unit, reached through the exchange), or, with
    None, that it is this installation's own again. False when nothing changes."""
    require_administrator(actor)
    with transaction.atomic():
        previous = Unit.objects.select_for_update().get(pk=unit.pk).peer
        changed = Unit.objects.filter(pk=unit.pk).exclude(peer=peer).update(peer=peer)
        if changed:
            # The stand-in of the peer that hosts it is its clerk, and only that one.
            if previous is not None:
                role_revoke(actor=actor, unit=unit, role=Role.CLERK, user=peer_user(previous))
            if peer is not None:
                role_grant(actor=actor, unit=unit, role=Role.CLERK, user=peer_user(peer))
            audit_record(
                actor=actor,
                verb=AuditVerb.UNIT_HOSTED,
                object_type="Unit",
                object_id=unit.pk,
                unit=unit,
                payload={"unit": unit.name, "peer": peer.name if peer else None},
            )
    unit.peer = peer
    return bool(changed)
