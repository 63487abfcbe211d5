"""公文交换 between installations: the peers an installation trusts, and what it received from them.

A peer (对端系统) is another installation: its name, the base URL of its exchange endpoint and the
Ed25519 public key its messages are signed with. Units it hosts are units of the directory with
`Unit.peer` set (external units): they can be recipients here, and documents they issue arrive
through the exchange. An installation's own signing key is a file (EXCHANGE_SIGNING_KEY_FILE),
never a row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Peer(models.Model):
    """An installation this one exchanges documents with. A revoked peer's messages are refused (and
    logged); its row stays, for the records that name it."""

    name = models.CharField(_("系统名称"), max_length=100, unique=True)
    base_url = models.URLField(_("交换地址"), max_length=300)
    # PEM (SubjectPublicKeyInfo) of its Ed25519 key.
    public_key = models.TextField(_("公钥"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    # Per-peer limits: the largest message accepted, and messages per minute.
    max_bytes = models.PositiveBigIntegerField(_("单件上限（字节）"), default=50 * 1024 * 1024)
    per_minute = models.PositiveIntegerField(_("每分钟上限"), default=600)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("对端系统")
        verbose_name_plural = _("对端系统")

    def __str__(self) -> str:
        return self.name


class ReceivedConsignment(models.Model):
    """A consignment accepted from a peer: its id (unique per peer, so that a repeat is answered
    "duplicate" and creates nothing), the envelope exactly as signed and its signature (evidence
    that the peer sent it), and the dispatch that routes it to the recipient units here."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="received")
    consignment_id = models.UUIDField()
    envelope = models.BinaryField()
    signature = models.CharField(max_length=100)
    dispatch = models.OneToOneField("workflow.Dispatch", on_delete=models.PROTECT, related_name="consignment")
    received_at = models.DateTimeField()
    # A report (exchange.reports) owed to the peer: the newest audit event of the chain below it not
    # reported yet, and when the report is due (EXCHANGE_REPORT_SECONDS after the last one). Null
    # when nothing is owed.
    report_version = models.BigIntegerField(null=True, blank=True)
    report_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "consignment_id"], name="one_consignment_per_peer_and_id")
        ]
        indexes = [
            models.Index(
                fields=["report_due_at"], condition=models.Q(report_due_at__isnull=False), name="reports_owed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.peer} {self.consignment_id}"


class Outgoing(models.Model):
    """A message to one peer, signed once and sent as it is on every attempt (its id is what the
    peer deduplicates on). Attempts follow the webhooks' pattern: a conditional claim with a lease,
    exponential back-off with jitter, and a window (EXCHANGE_RETRY_WINDOW_SECONDS from `created_at`)
    after which it has failed and the clerks concerned are told (exchange.outgoing)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待送达")
        ACCEPTED = "accepted", _("对方已接收")
        REFUSED = "refused", _("对方拒收")
        FAILED = "failed", _("送达失败")
        # A report (OutgoingReport) a newer one of the same consignment made unneeded before it went.
        SUPERSEDED = "superseded", _("已被新版取代")

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    envelope = models.BinaryField()
    signature = models.CharField(max_length=100)
    # The queue of the document's urgency (workflow.models.Queue): a 特提 goes first here too.
    queue = models.CharField(max_length=10)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The peer's last answer code (exchange.envelope.Code), or empty when none came.
    last_code = models.CharField(max_length=30, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True


class OutgoingConsignment(Outgoing):
    """A consignment to one peer: the units it hosts among a dispatch's recipients, made at issue."""

    consignment_id = models.UUIDField(unique=True)
    dispatch = models.ForeignKey("workflow.Dispatch", on_delete=models.PROTECT, related_name="consignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "peer"], name="one_consignment_per_dispatch_and_peer")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="consignments_due"),
        ]

    def __str__(self) -> str:
        return f"{self.peer} {self.consignment_id}"


class ReceiptEvent(models.TextChoices):
    """What a receipt (回执) tells the sender of a consignment about one of its units' deliveries."""

    READ = "read", _("已阅")
    SIGNED = "signed", _("签收")
    RETURNED = "returned", _("退文")
    COMPLETED = "completed", _("办结")


class OutgoingReceipt(Outgoing):
    """A receipt to the peer a consignment came from: one audit event of a delivery it made here
    (read, signed for, returned, completed), derived from the audit log (exchange.receipts). Its id
    is derived from the event, so deriving twice makes one."""

    receipt_id = models.UUIDField(unique=True)
    delivery = models.ForeignKey("workflow.Delivery", on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=10, choices=ReceiptEvent.choices)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="receipts_due"),
        ]

    def __str__(self) -> str:
        return f"{self.peer} {self.receipt_id}"


class AuditCursor(models.Model):
    """The last audit event (seq) turned into receipts and recalls (exchange.derive): one row."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last_seq)


class ReceivedReceipt(models.Model):
    """A receipt accepted from a peer, as signed (evidence of what its unit did, and when), and the
    delivery here it moved."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    receipt_id = models.UUIDField()
    envelope = models.BinaryField()
    signature = models.CharField(max_length=100)
    delivery = models.ForeignKey("workflow.Delivery", on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=10, choices=ReceiptEvent.choices)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "receipt_id"], name="one_receipt_per_peer_and_id")]

    def __str__(self) -> str:
        return f"{self.peer} {self.receipt_id}"


class OutgoingRecall(Outgoing):
    """A recall (撤回) to a peer: the units it hosts whose deliveries of a dispatch a recall here
    withdrew, derived from the audit log (exchange.recalls). Its id is derived from the event and
    the consignment, so deriving twice makes one."""

    recall_id = models.UUIDField(unique=True)
    dispatch = models.ForeignKey("workflow.Dispatch", on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="recalls_due"),
        ]

    def __str__(self) -> str:
        return f"{self.peer} {self.recall_id}"


class ReceivedRecall(models.Model):
    """A recall accepted from a peer, as signed, and the dispatch here it withdrew from."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    recall_id = models.UUIDField()
    envelope = models.BinaryField()
    signature = models.CharField(max_length=100)
    dispatch = models.ForeignKey("workflow.Dispatch", on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "recall_id"], name="one_recall_per_peer_and_id")]

    def __str__(self) -> str:
        return f"{self.peer} {self.recall_id}"


class OutgoingReport(Outgoing):
    """A report (转发情况) to the peer a consignment came from: what became, here, of the deliveries
    it made: the forwards issued from them, their deliveries (here and at the peers they went on
    to, as far as those peers' receipts and reports have come back) and the forwards of those, the
    chain below the consignment as this installation knows it (exchange.reports). Made from the
    audit log whenever it changes; `version` is the seq of the newest event it reflects, so that
    the peer keeps the newest whatever order they arrive in. Its id is derived from the
    consignment and the version, so deriving twice makes one; a pending one a newer one has
    replaced is not sent (SUPERSEDED)."""

    report_id = models.UUIDField(unique=True)
    consignment = models.ForeignKey(ReceivedConsignment, on_delete=models.PROTECT, related_name="reports")
    version = models.BigIntegerField()
    # SHA-256 of the canonical "units" of the report: an event that changes nothing in it makes none.
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="reports_due"),
            models.Index(fields=["consignment", "-version"], name="report_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.peer} {self.report_id}"


class ReceivedReport(models.Model):
    """A report accepted from a peer, as signed: its statement of the chain below a consignment sent
    to it, which the chain here shows below that consignment's deliveries (the newest version)."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    report_id = models.UUIDField()
    envelope = models.BinaryField()
    signature = models.CharField(max_length=100)
    consignment = models.ForeignKey(OutgoingConsignment, on_delete=models.PROTECT, related_name="reports")
    version = models.BigIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "report_id"], name="one_report_per_peer_and_id")]
        indexes = [models.Index(fields=["consignment", "-version"], name="received_report_newest")]

    def __str__(self) -> str:
        return f"{self.peer} {self.report_id}"


class StagedFile(models.Model):
    """A file a peer is sending in chunks ahead of the consignment that names it (PUT
    /exchange/v1/files/<sha256>, exchange.files): how much has arrived, in a staging file under
    MEDIA_ROOT, and when it was complete and matched its SHA-256. A consignment from that peer takes
    a complete one as if it came inline."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    received = models.PositiveBigIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "sha256"], name="one_staged_file_per_peer_and_sha256")]

    def __str__(self) -> str:
        return f"{self.peer} {self.sha256}"
