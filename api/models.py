"""API clients (接口客户端): another office system that calls the API for one unit.

A client acts through a service account of its own (`user`): a person-shaped holder of the roles its
scopes need on its unit, so that every door and every service treats it exactly as they treat a
person, and every audit event names it as the actor. Its key is shown once; only a SHA-256 of the
secret is kept (the secret is 256 random bits, so a slow hash would add nothing).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Role, Unit


class Scope(models.TextChoices):
    """What a client may call. Each maps to the unit role whose services it reaches (SCOPE_ROLES)."""

    READ = "read", _("查阅（收文、发文、流转链、通知）")
    SIGN_FOR = "sign-for", _("签收")
    HANDLE = "handle", _("办理（退文、转发、办结、催办）")
    DRAFT = "draft", _("拟稿")
    SIGN_OFF = "sign-off", _("签发")
    ISSUE = "issue", _("印发、撤回")
    AUDIT = "audit", _("审计（本单位及下级的流转链）")
    WEBHOOKS = "webhooks", _("事件推送（Webhook）")


# The role a scope needs on the client's unit; None: membership alone (reading the unit's own mail).
SCOPE_ROLES: dict[str, str | None] = {
    Scope.READ: None,
    Scope.SIGN_FOR: Role.CLERK,
    Scope.HANDLE: Role.CLERK,
    Scope.DRAFT: Role.DRAFTER,
    Scope.SIGN_OFF: Role.SIGNER,
    Scope.ISSUE: Role.CLERK,
    Scope.AUDIT: Role.AUDITOR,
    Scope.WEBHOOKS: None,
}


class ApiClient(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(Unit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="api_clients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    scopes = models.JSONField(_("权限范围"), default=list)
    # The key is "gwk_<key_id>_<secret>": key_id finds the row, the secret's digest proves it.
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    key_digest = models.CharField(max_length=64, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=600)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        ordering = ["unit_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="api_client_name_unique_in_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes


class IdempotencyKey(models.Model):
    """The first answer to a POST that carried an `Idempotency-Key` (api.idempotency): a retry with the
    same key gets it again instead of acting twice.

    One row per (caller, key), inserted before the action in the action's own transaction, so that a
    concurrent request with the same key waits on the row and then replays the answer. `fingerprint`
    is a SHA-256 of the method, path and body, so that the key cannot be reused for another request.
    Rows older than settings.API_IDEMPOTENCY_HOURS count as absent and are purged by the beat.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_caller")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self) -> str:
        return self.key
