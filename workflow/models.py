"""How documents move: dispatches, deliveries, receipts, forwards, notifications and the audit log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from documents.models import Document, RecipientRole, Urgency
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
    # The document's issuing unit, copied (frozen at issue with it): 发文 pages a unit's dispatches,
    # newest first, from the index dispatch_outbox without joining every document it issued (issue 18).
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False)
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
    # Fixed at issue (workflow.deadlines) and copied into every delivery by routing.
    deadline_sign_for = models.DateTimeField(_("签收时限"), null=True, blank=True)
    deadline_complete = models.DateTimeField(_("办结时限"), null=True, blank=True)
    # A corrected document re-issued in answer to a 退文 records which return it answers.
    answers_return = models.ForeignKey(
        "DeliveryReturn", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    # Set when the whole dispatch was recalled (撤回), by its issuer or because the delivery its
    # cover letter forwards was recalled (workflow.services.recall).
    recall = models.ForeignKey("Recall", null=True, blank=True, on_delete=models.PROTECT, related_name="dispatches")

    class Meta:
        verbose_name = _("分发")
        verbose_name_plural = _("分发")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["issuing_unit", "-created_at", "-id"], name="dispatch_outbox"),
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
        COMPLETED = "completed", _("已办结")
        RETURNED = "returned", _("已退文")
        # 撤回: withdrawn before it was signed for, or after. Either way its unit (and every unit it
        # reached through this delivery) has lost the content; the record and its history stay.
        RECALLED = "recalled", _("已撤回")
        RECALLED_AFTER_SIGNING = "recalled_signed", _("签收后撤回")

    # The one state machine: every change of `state` is a conditional UPDATE ... WHERE state IN
    # (the states that may move to the target), applied by workflow.transitions.delivery_move, the
    # hand-written sign-for included. A signed delivery may still be returned: 初审 follows 签收
    # (条例 第二十四条).
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.PENDING: frozenset({State.SIGNED, State.RETURNED, State.RECALLED}),
        State.SIGNED: frozenset({State.COMPLETED, State.RETURNED, State.RECALLED_AFTER_SIGNING}),
        State.COMPLETED: frozenset({State.RECALLED_AFTER_SIGNING}),
        State.RETURNED: frozenset(),
        State.RECALLED: frozenset(),
        State.RECALLED_AFTER_SIGNING: frozenset(),
    }
    # Its clocks run (催办): not yet signed for, or signed and not yet completed.
    OPEN_STATES = (State.PENDING, State.SIGNED)
    # Its unit holds the document: it may forward it.
    HELD_STATES = (State.SIGNED, State.COMPLETED)
    # No content for its unit: every door shows the stub (number, title, who recalled it, when, why).
    WITHDRAWN_STATES = (State.RECALLED, State.RECALLED_AFTER_SIGNING)

    # Neither foreign key has an index of its own: one_delivery_per_dispatch_and_unit leads with the
    # dispatch and delivery_visibility with the document. With a plain document index beside it, the
    # search door's probe (document and the person's units) read every delivery of the document from
    # the table instead of one entry of delivery_visibility (issue 18); both cost every fan-out a write.
    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    # Denormalised from the dispatch: visibility is one indexed EXISTS on (document, unit).
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    # No index of its own: delivery_inbox and delivery_inbox_all lead with the unit (issue 18: with a
    # plain unit index beside them the planner read a unit's 10^5 rows from the table, not the index).
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    role = models.CharField(max_length=2, choices=RecipientRole.choices)
    # Copied from the document, frozen at issue like the rest of its content: 收文 待签收 sorts a
    # unit's pending deliveries by urgency from the index delivery_inbox_pending, without reading
    # each one's document (issue 18).
    urgency = models.CharField(max_length=4, choices=Urgency.choices, editable=False)
    # Copied from the document as well: 发文's overdue list reads the issuing unit's open deliveries
    # past a deadline, most overdue first, from the two partial indexes below (delivery_overdue_*),
    # without the unit's closed history or a join to the documents (issue 18). No index of its own.
    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False)
    # Whether the document encloses others (a cover letter: 转发, or one registered with what it
    # forwards), fixed with the document at issue. The search door reads what a unit may see through
    # its covers from the partial index delivery_covers: the unit's covers, not all its deliveries.
    is_cover = models.BooleanField(default=False, db_default=False, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # Copied from the dispatch when the delivery is created: a later policy change moves nothing.
    deadline_sign_for = models.DateTimeField(_("签收时限"), null=True, blank=True)
    deadline_complete = models.DateTimeField(_("办结时限"), null=True, blank=True)
    # 催办: how many reminders were sent (automatic and by hand), the last one, and when the parent
    # unit was told. db_default, because routing inserts rows with one raw statement.
    reminder_count = models.PositiveSmallIntegerField(_("催办次数"), default=0, db_default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Who recalled it, when and why: set with the move to a withdrawn state, in the same UPDATE.
    recall = models.ForeignKey("Recall", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")

    class Meta:
        verbose_name = _("送达")
        verbose_name_plural = _("送达")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "unit"], name="one_delivery_per_dispatch_and_unit"),
            models.CheckConstraint(
                condition=models.Q(
                    state__in=["pending", "signed", "completed", "returned", "recalled", "recalled_signed"]
                ),
                name="delivery_state_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["signed", "completed", "recalled_signed"])
                | models.Q(signed_at__isnull=False),
                name="delivery_signed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=["recalled", "recalled_signed"], recall__isnull=False)
                | ~models.Q(state__in=["recalled", "recalled_signed"]) & models.Q(recall__isnull=True),
                name="delivery_withdrawn_has_recall",
            ),
        ]
        indexes = [
            # 收文: a tab of a unit, and its counts by an index-only scan (read_at: 未读).
            models.Index(fields=["unit", "state", "created_at"], include=["read_at"], name="delivery_inbox"),
            # 收文 待签收, in its order (the most urgent first, then the overdue, then the newest): an
            # index-only read of the unit's pending deliveries, sorted without their documents.
            models.Index(
                fields=["unit", "urgency", "-created_at", "-id"],
                include=["deadline_sign_for", "deadline_complete"],
                condition=models.Q(state="pending"),
                name="delivery_inbox_pending",
            ),
            # 收文 全部, newest first: a walk down the index, not a sort of the unit's deliveries.
            models.Index(fields=["unit", "-created_at", "-id"], name="delivery_inbox_all"),
            # 发文: a page's dispatches' figures by state (and signed), an index-only scan.
            models.Index(fields=["dispatch", "state"], include=["signed_at"], name="delivery_progress"),
            # The chains list's 签收 figure, per document of its page: an index-only count.
            models.Index(
                fields=["document"], condition=models.Q(signed_at__isnull=False), name="delivery_signed_by_document"
            ),
            models.Index(fields=["document", "unit"], name="delivery_visibility"),
            # A unit's covers (the search door: what they enclose is visible to the unit).
            models.Index(
                fields=["unit"],
                include=["document", "state"],
                condition=models.Q(is_cover=True),
                name="delivery_covers",
            ),
            # The reminder sweep: the two clocks of the deliveries still open.
            models.Index(
                fields=["deadline_sign_for"], condition=models.Q(state="pending"), name="delivery_sign_for_clock"
            ),
            models.Index(
                fields=["deadline_complete"],
                condition=models.Q(state__in=["pending", "signed"]),
                name="delivery_complete_clock",
            ),
            # 发文's overdue list (issue 18): an issuing unit's pending deliveries by their sign-for
            # deadline, and its open ones by their completion deadline. Each is walked from the
            # oldest deadline and stops at the page's units; counted index-only.
            models.Index(
                fields=["issuing_unit", "deadline_sign_for", "id"],
                condition=models.Q(state="pending"),
                name="delivery_overdue_sign_for",
            ),
            models.Index(
                fields=["issuing_unit", "deadline_complete", "id"],
                include=["state", "deadline_sign_for"],
                condition=models.Q(state__in=["pending", "signed"]),
                name="delivery_overdue_complete",
            ),
            # The big chain page (issue 18): per dispatch, the pending ones (stalled, the CSV) and
            # the signed ones latest first (a dispatch's slowest: its sign-for time runs from one
            # issue). Both read a branch's few rows instead of the chain's 10^6.
            models.Index(
                fields=["dispatch", "deadline_sign_for"],
                condition=models.Q(state="pending"),
                name="delivery_pending_by_dispatch",
            ),
            models.Index(
                fields=["dispatch", "-signed_at"],
                condition=models.Q(signed_at__isnull=False),
                name="delivery_signed_by_dispatch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.unit}"


class DispatchTally(models.Model):
    """The figures of one dispatch's deliveries, by state: what the chain page of a 10^6-delivery
    tree reads instead of its deliveries (workflow.tally keeps them, in the transaction of every
    service that creates a delivery or moves its state).

    A dispatch's figures are spread over up to TALLY_SLOTS rows (a sign-for adds to the slot of its
    delivery's id), so that a thousand clerks signing for one national notice at once do not queue
    on one row lock; the figures are the sums over the slots. A slot alone may hold a negative
    count (routing adds the pending ones to slot 0, each sign-for takes one away from its own).
    """

    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT, related_name="tallies")
    slot = models.PositiveSmallIntegerField()
    total = models.IntegerField(default=0)
    # Where the deliveries are now (Delivery.State; both withdrawn states count as withdrawn).
    pending = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    completed = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    # How many were ever signed for, and of those how many at or after their sign-for deadline.
    signed_ever = models.IntegerField(default=0)
    signed_late = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("分发统计")
        verbose_name_plural = _("分发统计")
        constraints = [models.UniqueConstraint(fields=["dispatch", "slot"], name="dispatch_tally_slot")]

    def __str__(self) -> str:
        return f"{self.dispatch_id}/{self.slot}"


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


class Recall(models.Model):
    """撤回: one act of an issuer withdrawing a dispatch, or its delivery to one unit, with the reason.

    Every delivery the act withdrew points here (`Delivery.recall`), the deliveries of the cover
    letters forwarded from them included, so that each stub can say who recalled what, when and why.
    """

    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT, related_name="recalls")
    # The one delivery recalled, when the act was about one unit (empty: the whole dispatch).
    delivery = models.ForeignKey("Delivery", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recalled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recalled_at = models.DateTimeField(_("撤回时间"))
    reason = models.CharField(_("撤回原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("撤回")
        verbose_name_plural = _("撤回")
        ordering = ["-recalled_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dispatch} {self.recalled_at:%Y-%m-%d %H:%M}"


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
        # Inside a recipient unit (workflow.services.inunit): a department's handlers are given work
        # (承办) and urged when it is overdue, its instructing leader is told after the second
        # reminder, and a reader is handed the document (传阅).
        ASSIGNED = "assigned", _("承办")
        ASSIGNMENT_REMINDER = "task_remind", _("承办催办")
        ASSIGNMENT_ESCALATION = "task_raised", _("承办催办升级")
        READING = "reading", _("传阅")
        # 公文交换: a consignment to another installation was refused, or could not be delivered.
        EXCHANGE = "exchange", _("交换失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # When the email outbox was done with it: emailed, or nobody to email (no address, inactive).
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
            # notification_list, the notifications page's order (unread first, then newest), is made by
            # migration 0017 on PostgreSQL only: SQLite (the embedded default) has no NULLS FIRST in
            # an index, and needs none at its sizes.
            # The email outbox, every kind (services.notifications.notification_email_send).
            models.Index(fields=["id"], condition=models.Q(emailed_at__isnull=True), name="notification_unemailed"),
        ]

    def __str__(self) -> str:
        return self.text


class ReturnReason(models.TextChoices):
    """退文的理由 (条例 第二十四条: 初审 不符合规定的公文，退回来文单位并说明理由)."""

    NOT_COMPETENT = "not_competent", _("不应由本机关办理")
    AGAINST_RULES = "against_rules", _("不符合行文规则")
    WRONG_FORMAT = "wrong_format", _("文种格式不符")
    NOT_CONSULTED = "not_consulted", _("未协商会签")
    OTHER = "other", _("其他")


class DeliveryReturn(models.Model):
    """退文: a recipient unit sent a delivery back to the issuer, with the reason."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="return_record")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("退文理由"), max_length=20, choices=ReturnReason.choices)
    text = models.TextField(_("说明"), blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("退文")
        verbose_name_plural = _("退文")
        ordering = ["-returned_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason="other") | ~models.Q(text=""), name="return_other_has_text"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_reason_display()}"


class Completion(models.Model):
    """办结: the recipient unit finished handling a delivery; its feedback (落实情况)."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="completion")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    feedback = models.TextField(_("落实情况"))
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("办结")
        verbose_name_plural = _("办结")
        constraints = [models.CheckConstraint(condition=~models.Q(feedback=""), name="completion_has_feedback")]

    def __str__(self) -> str:
        return f"{self.unit} {self.completed_at:%Y-%m-%d %H:%M}"


def completion_attachment_upload_to(attachment: "CompletionAttachment", filename: str) -> str:
    # Named by content, like documents' attachments.
    return f"feedback/{attachment.sha256[:2]}/{attachment.sha256}"


class CompletionAttachment(models.Model):
    """A file attached to the 落实情况 (checked by documents.attachments.check_attachment)."""

    completion = models.ForeignKey(Completion, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("附件名称"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=completion_attachment_upload_to)

    class Meta:
        verbose_name = _("办结附件")
        verbose_name_plural = _("办结附件")
        ordering = ["completion", "position"]
        constraints = [
            models.UniqueConstraint(fields=["completion", "position"], name="completion_attachment_position_unique")
        ]

    def __str__(self) -> str:
        return self.name


# --- inside a recipient unit: the handling record (办理单) -----------------------------------------
# A signed-for delivery is registered (收文登记) in its unit's register, which makes its handling
# record (HandlingRecord); the steps hang from it: proposals (拟办), instructions (批办), assignments
# to the unit's departments (承办 / 协办) with their reports, and reading slips (传阅). Departments
# (内设机构) are units below the recipient unit (Unit.Kind.INNER_DEPARTMENT). Each row is written by one service in
# workflow.services.inunit with its audit event; none is edited in place except an assignment's or a
# slip's state, which moves forward only.


class RegistrationSeries(models.Model):
    """The last 收文编号 a unit gave in a year; locked (SELECT … FOR UPDATE) to give the next, so the
    register has no gaps and no duplicates when two clerks register at once."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="registration_series_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year}: {self.last_serial}"


class HandlingRecord(models.Model):
    """办理单: made by 收文登记, when a signed-for delivery is entered in its unit's register under the
    unit's own number for the year (收文编号, shown 收〔2022〕15号). The steps hang from it."""

    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="handling_record")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="handling_records")
    year = models.PositiveSmallIntegerField(_("年度"))
    serial = models.PositiveIntegerField(_("收文编号"))
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    remark = models.CharField(_("备注"), max_length=500, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # 代理: the person a deputy acted for (Delegation); empty when the actor acted for themselves.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("办理单")
        verbose_name_plural = _("办理单")
        ordering = ["unit", "-year", "-serial"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "serial"], name="registration_number_unique"),
            models.CheckConstraint(condition=models.Q(serial__gte=1), name="registration_serial_positive"),
            models.CheckConstraint(condition=models.Q(copies__gte=1), name="registration_copies_positive"),
        ]

    def __str__(self) -> str:
        return f"收〔{self.year}〕{self.serial}号"


class Proposal(models.Model):
    """拟办: the office's proposal of how to handle it, with the departments it suggests."""

    record = models.ForeignKey(HandlingRecord, on_delete=models.PROTECT, related_name="proposals")
    text = models.TextField(_("拟办意见"))
    departments = models.ManyToManyField(Unit, verbose_name=_("建议承办部门"), blank=True, related_name="+")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("拟办")
        verbose_name_plural = _("拟办")
        ordering = ["record", "proposed_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="proposal_has_text")]

    def __str__(self) -> str:
        return self.text[:40]


class ReadingMode(models.TextChoices):
    SEQUENTIAL = "sequential", _("依次传阅")
    PARALLEL = "parallel", _("同时传阅")


class Instruction(models.Model):
    """批办 / 批示: a leader's instruction. It assigns 主办 and 协办 departments (Assignment) and 传阅
    readers (ReadingSlip), with an optional deadline no later than the one received."""

    record = models.ForeignKey(HandlingRecord, on_delete=models.PROTECT, related_name="instructions")
    text = models.TextField(_("批示"))
    instructed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instructed_at = models.DateTimeField()
    deadline = models.DateTimeField(_("办理时限"), null=True, blank=True)
    reading_mode = models.CharField(
        _("传阅方式"), max_length=20, choices=ReadingMode.choices, default=ReadingMode.SEQUENTIAL
    )
    # Whether a reader may pass it on to someone the leader did not name.
    readers_may_pass_on = models.BooleanField(_("阅文人可转阅"), default=False)

    class Meta:
        verbose_name = _("批办")
        verbose_name_plural = _("批办")
        ordering = ["record", "instructed_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="instruction_has_text")]

    def __str__(self) -> str:
        return self.text[:40]


class Assignment(models.Model):
    """承办: one department's part of the work, 主办 (lead) or 协办 (assist). The unit-level 办结
    closes only when every 主办 has finished."""

    class Part(models.TextChoices):
        LEAD = "lead", _("主办")
        ASSIST = "assist", _("协办")

    class State(models.TextChoices):
        ASSIGNED = "assigned", _("待承办")
        ACCEPTED = "accepted", _("办理中")
        FINISHED = "finished", _("已办毕")

    record = models.ForeignKey(HandlingRecord, on_delete=models.PROTECT, related_name="assignments")
    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="assignments")
    department = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    part = models.CharField(_("承办方式"), max_length=10, choices=Part.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.ASSIGNED)
    deadline = models.DateTimeField(_("办理时限"), null=True, blank=True)
    assigned_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # 催办 inside the unit: reminders sent to the department, and when it went to the leader.
    reminders = models.PositiveIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("承办")
        verbose_name_plural = _("承办")
        ordering = ["record", "part", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "department"], name="assignment_once_per_department"),
            models.CheckConstraint(
                condition=models.Q(state="assigned", accepted_at__isnull=True, finished_at__isnull=True)
                | models.Q(state="accepted", accepted_at__isnull=False, finished_at__isnull=True)
                | models.Q(state="finished", accepted_at__isnull=False, finished_at__isnull=False),
                name="assignment_state_times",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="assignment_department_state"),
            models.Index(fields=["deadline"], name="assignment_open_deadline", condition=~models.Q(state="finished")),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.get_part_display()} {self.get_state_display()}"


class AssignmentReport(models.Model):
    """What a department reports of its work (承办情况), with files; the last one before it finished
    is its result."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="reports")
    text = models.TextField(_("承办情况"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()

    class Meta:
        verbose_name = _("承办情况")
        verbose_name_plural = _("承办情况")
        ordering = ["assignment", "reported_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="assignment_report_has_text")]

    def __str__(self) -> str:
        return self.text[:40]


def report_file_upload_to(attachment: "AssignmentReportFile", filename: str) -> str:
    return f"reports/{attachment.sha256[:2]}/{attachment.sha256}"


class AssignmentReportFile(models.Model):
    """A file of a report (checked by documents.attachments.check_attachment)."""

    report = models.ForeignKey(AssignmentReport, on_delete=models.PROTECT, related_name="files")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("附件名称"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=report_file_upload_to)

    class Meta:
        ordering = ["report", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "position"], name="report_file_position_unique")]

    def __str__(self) -> str:
        return self.name


class ReadingSlip(models.Model):
    """传阅: one reader's turn. Sequential slips open one after another (position order); parallel ones
    open together. A slip is read once: 已阅 with the time and a remark."""

    class State(models.TextChoices):
        WAITING = "waiting", _("未到")
        OPEN = "open", _("待阅")
        READ = "read", _("已阅")

    record = models.ForeignKey(HandlingRecord, on_delete=models.PROTECT, related_name="reading_slips")
    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="reading_slips")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reading_slips")
    position = models.PositiveSmallIntegerField()
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.WAITING)
    # Who put it in this reader's hands: the leader's instruction, or a reader passing it on.
    passed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    remark = models.CharField(_("阅文意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("传阅")
        verbose_name_plural = _("传阅")
        ordering = ["record", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "reader"], name="reading_slip_once_per_reader"),
            models.UniqueConstraint(fields=["record", "position"], name="reading_slip_position_unique"),
            models.CheckConstraint(
                condition=models.Q(state="waiting", opened_at__isnull=True, read_at__isnull=True)
                | models.Q(state="open", opened_at__isnull=False, read_at__isnull=True)
                | models.Q(state="read", opened_at__isnull=False, read_at__isnull=False),
                name="reading_slip_state_times",
            ),
        ]
        indexes = [models.Index(fields=["reader", "state"], name="reading_slip_reader_state")]

    def __str__(self) -> str:
        return f"{self.reader_id} {self.get_state_display()}"


class Reply(models.Model):
    """答复: a reply document to the issuer, drafted by the recipient unit and linked to the delivery
    it answers; it is signed off and issued like any document of the unit."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="replies")
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="reply_to")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        ordering = ["delivery", "drafted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} -> {self.document_id}"


class Delegation(models.Model):
    """代理: a person lets a deputy act for them in a unit for a time window (代理签收 and the other
    steps the person may take). Every act under it records "deputy for person"; it can be withdrawn."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="delegations")
    principal = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_held")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("代理")
        verbose_name_plural = _("代理")
        ordering = ["unit", "-starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="delegation_window"),
            models.CheckConstraint(condition=~models.Q(principal=models.F("deputy")), name="delegation_not_self"),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | models.Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="delegation_withdrawn_by_someone",
            ),
        ]
        indexes = [models.Index(fields=["deputy", "unit", "ends_at"], name="delegation_deputy_unit")]

    def __str__(self) -> str:
        return f"{self.deputy_id} for {self.principal_id}"

    @staticmethod
    def active_at(moment) -> models.Q:
        """The one rule of when a delegation lets its deputy act: within its window, not withdrawn,
        from a principal whose account is still active. The rules, the doors and 待办 filter by it."""
        return models.Q(starts_at__lte=moment, ends_at__gt=moment, withdrawn_at__isnull=True, principal__is_active=True)


class ClockUnit(models.TextChoices):
    """How a deadline is counted: minutes and hours on the clock, working days on the calendar."""

    MINUTES = "minutes", _("分钟")
    HOURS = "hours", _("小时")
    WORKING_DAYS = "working_days", _("工作日")


class DeadlinePolicy(models.Model):
    """办理时限 by urgency: how long recipients have to sign for (签收) and to complete (办结).

    Applied when a document is issued (workflow.deadlines); changing a policy moves no deadline
    already fixed. Edited in the admin through `deadline_policy_set`.
    """

    urgency = models.CharField(_("紧急程度"), max_length=4, choices=Urgency.choices, unique=True)
    sign_for_amount = models.PositiveIntegerField(_("签收时限"))
    sign_for_unit = models.CharField(_("签收时限单位"), max_length=12, choices=ClockUnit.choices)
    complete_amount = models.PositiveIntegerField(_("办结时限"))
    complete_unit = models.CharField(_("办结时限单位"), max_length=12, choices=ClockUnit.choices)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sign_for_amount__gt=0, complete_amount__gt=0), name="deadline_policy_positive"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.urgency}：{self.sign_for_amount}{self.get_sign_for_unit_display()}内签收，"
            f"{self.complete_amount}{self.get_complete_unit_display()}内办结"
        )


class CalendarDay(models.Model):
    """An exception to the week: a public holiday (放假) or a weekend day made a working day (调休上班).

    Every other Monday to Friday is a working day and every other Saturday and Sunday is not. The
    official calendars are shipped by migration from the State Council's notices; edited in the
    admin through `calendar_day_set` / `calendar_day_remove`.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("上班"), help_text=_("勾选：调休上班；不勾选：放假"))
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如：国庆节、国庆节调休"))
    source = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_working_day else '放假'} {self.name}"


class AuditVerb(models.TextChoices):
    UNIT_CREATED = "UNIT_CREATED"
    UNIT_SIGN_OFF_POLICY_SET = "UNIT_SIGN_OFF_POLICY_SET"
    UNIT_LETTERHEAD_SET = "UNIT_LETTERHEAD_SET"
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
    DEADLINE_POLICY_SET = "DEADLINE_POLICY_SET"
    CALENDAR_DAY_SET = "CALENDAR_DAY_SET"
    CALENDAR_DAY_REMOVED = "CALENDAR_DAY_REMOVED"
    DELIVERY_REMINDED = "DELIVERY_REMINDED"
    DELIVERY_ESCALATED = "DELIVERY_ESCALATED"
    DISPATCH_RECALLED = "DISPATCH_RECALLED"
    DELIVERY_RECALLED = "DELIVERY_RECALLED"
    DELIVERIES_WITHDRAWN = "DELIVERIES_WITHDRAWN"
    DELIVERY_RETURNED = "DELIVERY_RETURNED"
    DELIVERY_COMPLETED = "DELIVERY_COMPLETED"
    DELIVERY_LOGGED = "DELIVERY_LOGGED"  # 收文登记 (DOCUMENT_REGISTERED is a document received on paper)
    HANDLING_PROPOSED = "HANDLING_PROPOSED"
    HANDLING_INSTRUCTED = "HANDLING_INSTRUCTED"
    ASSIGNMENT_ACCEPTED = "ASSIGNMENT_ACCEPTED"
    ASSIGNMENT_REPORTED = "ASSIGNMENT_REPORTED"
    ASSIGNMENT_FINISHED = "ASSIGNMENT_FINISHED"
    ASSIGNMENT_REMINDED = "ASSIGNMENT_REMINDED"
    ASSIGNMENT_ESCALATED = "ASSIGNMENT_ESCALATED"
    READING_OPENED = "READING_OPENED"
    READING_DONE = "READING_DONE"
    READING_PASSED_ON = "READING_PASSED_ON"
    REPLY_DRAFTED = "REPLY_DRAFTED"
    DELEGATION_GRANTED = "DELEGATION_GRANTED"
    DELEGATION_WITHDRAWN = "DELEGATION_WITHDRAWN"
    API_CLIENT_CREATED = "API_CLIENT_CREATED"
    API_CLIENT_REVOKED = "API_CLIENT_REVOKED"
    WEBHOOK_SUBSCRIPTION_CREATED = "WEBHOOK_SUBSCRIPTION_CREATED"
    WEBHOOK_SUBSCRIPTION_DEACTIVATED = "WEBHOOK_SUBSCRIPTION_DEACTIVATED"
    CONSIGNMENT_ACCEPTED = "CONSIGNMENT_ACCEPTED"  # 公文交换: a peer's consignment taken in
    CONSIGNMENT_REFUSED = "CONSIGNMENT_REFUSED"  # 公文交换: a message refused, with its code
    CONSIGNMENT_SENT = "CONSIGNMENT_SENT"  # 公文交换: a consignment the peer accepted
    CONSIGNMENT_FAILED = "CONSIGNMENT_FAILED"  # 公文交换: refused by the peer, or the window closed
    RECEIPT_ACCEPTED = "RECEIPT_ACCEPTED"  # 公文交换: a peer's receipt taken in (its delivery moved here)
    RECEIPT_REFUSED = "RECEIPT_REFUSED"  # 公文交换: a peer's receipt refused, with its code
    RECEIPT_SENT = "RECEIPT_SENT"  # 公文交换: a receipt the peer accepted
    RECEIPT_FAILED = "RECEIPT_FAILED"  # 公文交换: a receipt refused by the peer, or the window closed
    RECALL_ACCEPTED = "RECALL_ACCEPTED"  # 公文交换: a peer's recall taken in (its deliveries withdrawn here)
    RECALL_REFUSED = "RECALL_REFUSED"  # 公文交换: a peer's recall refused, with its code
    RECALL_SENT = "RECALL_SENT"  # 公文交换: a recall the peer accepted
    RECALL_FAILED = "RECALL_FAILED"  # 公文交换: a recall refused by the peer, or the window closed
    REPORT_ACCEPTED = "REPORT_ACCEPTED"  # 公文交换: a peer's report of its part of a chain taken in
    REPORT_REFUSED = "REPORT_REFUSED"  # 公文交换: a peer's report refused, with its code
    REPORT_SENT = "REPORT_SENT"  # 公文交换: a report the peer accepted
    REPORT_FAILED = "REPORT_FAILED"  # 公文交换: a report refused by the peer, or the window closed
    PEER_SAVED = "PEER_SAVED"  # 公文交换: a peer added or changed
    PEER_REVOKED = "PEER_REVOKED"
    UNIT_HOSTED = "UNIT_HOSTED"  # 公文交换: a unit marked as hosted by a peer, or local again
    WEBHOOK_DELIVERY_RESENT = "WEBHOOK_DELIVERY_RESENT"


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


class MerkleNode(models.Model):
    """A complete subtree of the audit log's Merkle tree (RFC 9162, workflow/merkle.py): the 2**level
    events from seq index * 2**level + 1 on, and its 32-byte hash.

    Derived data, kept so that a tree head or a proof reads O(log n) rows instead of rehashing the
    log: levels from audit_tree.STORED_LEVEL up (lower subtrees are hashed from their few events),
    appended off the hot path by workflow.audit_tree.tree_extend, never changed (append-only like
    the events, migration 0010). Nothing trusts it: a proof made from a wrong row fails against a
    signed checkpoint.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("默克尔树节点")
        verbose_name_plural = _("默克尔树节点")
        default_permissions = ()

    def __str__(self) -> str:
        return f"({self.level}, {self.index})"
