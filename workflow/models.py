"""How documents move: dispatches, deliveries, receipts, forwards, notifications and the audit log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models import Document, RecipientRole
from units.models import Unit


class Queue(models.TextChoices):
    """Celery queues by urgency (config/celery.py)."""

    URGENT = "urgent", _("紧急")
    ROUTINE = "routine", _("常规")


class Dispatch(models.Model):
    """One issue of a document to its resolved recipient set (发文 / 分发).

    The resolved set is stored here in the issuing transaction; the deliveries are created from it
    afterwards by the worker. The `*_enqueued_at` / `*_at` pairs are the transactional outbox: the
    sweep re-enqueues whatever was enqueued long ago and is still not done.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="dispatches")
    # Empty for a dispatch that records a document received on paper and registered from the command
    # line (收文登记, workflow.services.registration): nobody in the system dispatched it.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queue = models.CharField(max_length=10, choices=Queue.choices)
    # Unit ids, sorted: 主送 and 抄送 (a unit named in both is 主送 only).
    main_unit_ids = models.JSONField(default=list)
    cc_unit_ids = models.JSONField(default=list)
    recipient_count = models.PositiveIntegerField()
    route_enqueued_at = models.DateTimeField(null=True, blank=True)
    route_attempts = models.PositiveIntegerField(default=0)
    routed_at = models.DateTimeField(null=True, blank=True)
    notify_enqueued_at = models.DateTimeField(null=True, blank=True)
    notify_attempts = models.PositiveIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("分发")
        verbose_name_plural = _("分发")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["route_enqueued_at"], condition=models.Q(routed_at__isnull=True), name="dispatch_unrouted"
            ),
            models.Index(
                fields=["notify_enqueued_at"],
                condition=models.Q(routed_at__isnull=False, notified_at__isnull=True),
                name="dispatch_unnotified",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(notified_at__isnull=True) | models.Q(routed_at__isnull=False),
                name="dispatch_notified_after_routed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.recipient_count}"

    @property
    def is_routed(self) -> bool:
        return self.routed_at is not None


class Delivery(models.Model):
    """送达: one document to one recipient unit, with its state."""

    class State(models.TextChoices):
        PENDING = "pending", _("待签收")
        SIGNED = "signed", _("已签收")
        RETURNED = "returned", _("已退文")
        RECALLED = "recalled", _("已撤回")
        COMPLETED = "completed", _("已办结")

    # The allowed transitions, applied as a conditional UPDATE ... WHERE state = <from>.
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.PENDING: frozenset({State.SIGNED, State.RETURNED, State.RECALLED}),
        State.SIGNED: frozenset({State.COMPLETED}),
        State.RETURNED: frozenset(),
        State.RECALLED: frozenset(),
        State.COMPLETED: frozenset(),
    }

    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT, related_name="deliveries")
    # Denormalised from the dispatch: visibility is one indexed EXISTS on (document, unit).
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="deliveries")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="deliveries")
    role = models.CharField(max_length=2, choices=RecipientRole.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("送达")
        verbose_name_plural = _("送达")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "unit"], name="one_delivery_per_dispatch_and_unit"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "signed", "returned", "recalled", "completed"]),
                name="delivery_state_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["signed", "completed"]) | models.Q(signed_at__isnull=False),
                name="delivery_signed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state", "created_at"], name="delivery_inbox"),
            models.Index(fields=["document", "unit"], name="delivery_visibility"),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.unit}"


class Receipt(models.Model):
    """回执: who signed for a delivery, when, and the digest of what they signed for."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="receipt")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    content_digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("回执")
        verbose_name_plural = _("回执")

    def __str__(self) -> str:
        return f"{self.unit} {self.signed_at:%Y-%m-%d %H:%M}"


class Forward(models.Model):
    """转发: a cover letter drafted from a signed delivery. Links the chain's levels together."""

    source_delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="forwards")
    cover = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="forward")
    # The document at the top of the chain, and how far below it the cover letter stands (1 = first
    # forward): the whole chain is one indexed query whatever its size.
    chain_root = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="chain_forwards")
    depth = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("转发")
        verbose_name_plural = _("转发")
        indexes = [models.Index(fields=["chain_root", "depth"], name="forward_chain")]
        constraints = [models.CheckConstraint(condition=models.Q(depth__gte=1), name="forward_depth_positive")]

    def __str__(self) -> str:
        return f"{self.source_delivery_id} → {self.cover_id}"


class Notification(models.Model):
    """An in-app notification to one person, and whether its email went out.

    Unique per (user, delivery, kind, round): a retried or duplicated task creates nothing twice.
    """

    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("来文")
        REMINDER = "reminder", _("催办")
        ESCALATION = "escalation", _("催办升级")
        RECALLED = "recalled", _("撤回")
        RETURNED = "returned", _("退文")
        COMPLETED = "completed", _("办结")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "delivery", "kind", "round"], name="notification_once"),
        ]
        indexes = [
            models.Index(
                fields=["user", "created_at"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class AuditVerb(models.TextChoices):
    UNIT_CREATED = "UNIT_CREATED"
    MEMBER_ADDED = "MEMBER_ADDED"
    MEMBER_REMOVED = "MEMBER_REMOVED"
    ROLE_GRANTED = "ROLE_GRANTED"
    ROLE_REVOKED = "ROLE_REVOKED"
    RECIPIENT_GROUP_SAVED = "RECIPIENT_GROUP_SAVED"
    NUMBER_SERIES_SET = "NUMBER_SERIES_SET"
    DOCUMENT_DRAFTED = "DOCUMENT_DRAFTED"
    DOCUMENT_UPDATED = "DOCUMENT_UPDATED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    DOCUMENT_SIGNED_OFF = "DOCUMENT_SIGNED_OFF"
    DOCUMENT_ISSUED = "DOCUMENT_ISSUED"
    DOCUMENT_FORWARDED = "DOCUMENT_FORWARDED"
    DOCUMENT_REGISTERED = "DOCUMENT_REGISTERED"
    DOCUMENT_SHARED = "DOCUMENT_SHARED"
    DELIVERIES_CREATED = "DELIVERIES_CREATED"
    DISPATCH_ROUTED = "DISPATCH_ROUTED"
    DISPATCH_NOTIFIED = "DISPATCH_NOTIFIED"
    DELIVERY_READ = "DELIVERY_READ"
    DELIVERY_SIGNED = "DELIVERY_SIGNED"


class AuditEvent(models.Model):
    """One append-only, hash-chained record of a state change (审计事件).

    `seq` is assigned under a lock, so the chain has no gaps and no forks; `hash` covers the event's
    fields and the previous event's hash (workflow.audit). PostgreSQL refuses UPDATE, DELETE and
    TRUNCATE on this table (migration 0002); `verify_audit` finds the first broken link anyway.
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verb = models.CharField(max_length=40, choices=AuditVerb.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    # The document the event concerns, when there is one: the chain's audit trail is one query.
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["document", "seq"], name="audit_by_document")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.verb}"
