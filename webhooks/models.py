"""Webhooks (事件推送): an API client's subscription to what happens to the deliveries of its unit,
and the outbox of calls made to it.

The events are derived from the hash-chained audit log (webhooks.services.webhook_events_derive),
never from a second record of what happened: a cursor (`WebhookCursor`) names the last audit event
turned into calls.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient
from workflow.models import AuditEvent, Delivery


class EventType(models.TextChoices):
    """What a subscriber may be told about a delivery (送达). Each comes from one audit verb
    (webhooks/sql.py says which)."""

    DELIVERED = "delivered", _("来文送达")
    READ = "read", _("已阅")
    SIGNED = "signed", _("签收")
    RETURNED = "returned", _("退文")
    FORWARDED = "forwarded", _("转发")
    COMPLETED = "completed", _("办结")
    RECALLED = "recalled", _("撤回")
    OVERDUE = "overdue", _("逾期催办")
    REMINDED = "reminded", _("人工催办")


class WebhookSubscription(models.Model):
    """A client's address for calls about the deliveries its unit received or issued.

    The signing secret ("whsec_…", shown once at creation) is kept sealed with a key derived from
    SECRET_KEY (webhooks.signing): a database dump or replica holds nothing that signs a call.
    `since_seq` is the audit event that created it: only later events are sent.
    """

    client = models.ForeignKey(
        ApiClient, verbose_name=_("接口客户端"), on_delete=models.PROTECT, related_name="webhook_subscriptions"
    )
    url = models.CharField(_("推送地址"), max_length=2000)
    event_types = models.JSONField(_("事件类型"), default=list)
    sealed_secret = models.TextField(editable=False)
    is_active = models.BooleanField(_("启用"), default=True, editable=False)
    since_seq = models.BigIntegerField(editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    deactivated_at = models.DateTimeField(_("停用时间"), null=True, blank=True, editable=False)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("事件推送订阅")
        verbose_name_plural = _("事件推送订阅")
        ordering = ["client_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "url"],
                name="webhook_subscription_url_unique_per_client",
                violation_error_message=_("这个接口客户端已订阅这个推送地址。"),
            ),
            models.CheckConstraint(
                condition=models.Q(is_active=True, deactivated_at__isnull=True)
                | models.Q(is_active=False, deactivated_at__isnull=False),
                name="webhook_subscription_deactivated_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client.name} → {self.url}"


class WebhookDelivery(models.Model):
    """One call to make: an event about one delivery (送达), for one subscription.

    `event_id` ("evt_<audit seq>_<delivery id>") is the same at every attempt, so the receiver
    deduplicates by it (the webhook-id header). The body is built at the first attempt and kept, so
    every retry sends the same bytes. A call waits while an earlier call of the same subscription
    about the same delivery is pending: a `signed` never overtakes its `delivered`.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已送达")
        DEAD = "dead", _("已放弃")

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("订阅"), on_delete=models.PROTECT, related_name="deliveries"
    )
    event_id = models.CharField(_("事件编号"), max_length=64)
    event_type = models.CharField(_("事件类型"), max_length=16, choices=EventType.choices)
    delivery = models.ForeignKey(Delivery, verbose_name=_("送达"), on_delete=models.PROTECT, related_name="+")
    # No foreign key in the database: the audit table keeps its events anyway (its triggers refuse
    # DELETE and TRUNCATE), and a key into it would have PostgreSQL refuse a TRUNCATE of it for the
    # key, before the append-only trigger could say why (tests/workflow/test_audit.py).
    audit_event = models.ForeignKey(
        AuditEvent, verbose_name=_("审计事件"), on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    payload = models.JSONField(_("内容"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"))
    # Retries stop WEBHOOK_RETRY_WINDOW_SECONDS after this: when the call was derived, or sent again.
    window_started_at = models.DateTimeField(_("重试起算时间"))
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("最近响应状态码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("事件推送记录")
        verbose_name_plural = _("事件推送记录")
        ordering = ["-audit_event_id", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once_per_event"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "sent", "dead"]), name="webhook_state_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False), name="webhook_sent_has_time"
            ),
        ]
        indexes = [
            # The sender's due calls, and the earlier calls that hold one back (the order per delivery).
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="webhook_due"),
            models.Index(
                fields=["subscription", "delivery", "audit_event"],
                condition=models.Q(state="pending"),
                name="webhook_pending_per_delivery",
            ),
        ]

    def __str__(self) -> str:
        return self.event_id


class WebhookCursor(models.Model):
    """The last audit event turned into calls: one row (pk 1), advanced by webhook_events_derive."""

    last_seq = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("事件推送游标")
        verbose_name_plural = _("事件推送游标")
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="webhook_cursor_single_row")]

    def __str__(self) -> str:
        return str(self.last_seq)
