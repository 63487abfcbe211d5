"""The official document (公文) with the elements of 条例 第九条 and GB/T 9704-2012.

No knowledge of deliveries lives here: who received a document is the workflow's business.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from units.models import RecipientGroup, Unit


class Urgency(models.TextChoices):
    """紧急程度 / 等级, most urgent first. Telegrams use 特提 to 平急; documents 特急 and 加急."""

    FLASH = "特提", _("特提")
    EXTRA_URGENT = "特急", _("特急")
    URGENT = "加急", _("加急")
    PRIORITY = "平急", _("平急")
    ROUTINE = "普通", _("普通")

    @classmethod
    def rank(cls, value: str) -> int:
        """0 for 特提 … 4 for 普通: sort ascending to put the most urgent first."""
        return list(cls.values).index(value)


# 特提 and 特急: their own queue and worker (workflow.enqueue), reminded around the clock (催办).
URGENT_LEVELS = (Urgency.FLASH, Urgency.EXTRA_URGENT)


class Classification(models.TextChoices):
    PUBLIC = "公开", _("公开")
    INTERNAL = "内部", _("内部")
    # Classified (涉密) levels exist so that they can be named and refused: this system is not an
    # approved channel for classified documents unless deployed as one (CLASSIFIED_ALLOWED).
    SECRET = "秘密", _("秘密")
    CONFIDENTIAL = "机密", _("机密")
    TOP_SECRET = "绝密", _("绝密")


class Kind(models.TextChoices):
    """文种: the fifteen of 条例 第八条, plus the plain telegram (明传电报)."""

    RESOLUTION = "决议", _("决议")
    DECISION = "决定", _("决定")
    ORDER = "命令", _("命令（令）")
    COMMUNIQUE = "公报", _("公报")
    ANNOUNCEMENT = "公告", _("公告")
    PUBLIC_NOTICE = "通告", _("通告")
    OPINION = "意见", _("意见")
    NOTICE = "通知", _("通知")
    CIRCULAR = "通报", _("通报")
    REPORT = "报告", _("报告")
    REQUEST = "请示", _("请示")
    REPLY = "批复", _("批复")
    MOTION = "议案", _("议案")
    LETTER = "函", _("函")
    MINUTES = "纪要", _("纪要")
    TELEGRAM = "明传电报", _("明传电报")


class RecipientRole(models.TextChoices):
    MAIN = "主送", _("主送")
    COPY = "抄送", _("抄送")


class Document(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SIGNED_OFF = "signed_off", _("已签发")
        ISSUED = "issued", _("已印发")

    # Content columns: frozen once the document is issued (a database trigger refuses a change).
    issuing_unit = models.ForeignKey(Unit, verbose_name=_("发文机关"), on_delete=models.PROTECT, related_name="+")
    issuer_mark = models.CharField(_("发文机关标志"), max_length=200)
    kind = models.CharField(_("文种"), max_length=10, choices=Kind.choices)
    copy_number = models.CharField(_("份号"), max_length=6, blank=True)
    classification = models.CharField(
        _("密级"), max_length=4, choices=Classification.choices, default=Classification.PUBLIC
    )
    classification_period = models.CharField(_("保密期限"), max_length=20, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=4, choices=Urgency.choices, default=Urgency.ROUTINE)
    number_prefix = models.CharField(_("发文字号前缀"), max_length=40)
    number_year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True)
    number_serial = models.PositiveIntegerField(_("序号"), null=True, blank=True)
    signatory = models.CharField(_("签发人"), max_length=50, blank=True)
    title = models.CharField(_("标题"), max_length=500)
    main_recipients_text = models.TextField(_("主送机关"), blank=True)
    cc_text = models.TextField(_("抄送机关"), blank=True)
    body = models.TextField(_("正文"))
    attachment_note = models.TextField(_("附件说明"), blank=True)
    signature_organ = models.CharField(_("发文机关署名"), max_length=200, blank=True)
    written_on = models.DateField(_("成文日期"), null=True, blank=True)
    seal_note = models.CharField(_("印章"), max_length=200, blank=True)
    annotation = models.TextField(_("附注"), blank=True)
    printing_organ = models.CharField(_("印发机关"), max_length=200, blank=True)
    printed_on = models.DateField(_("印发日期"), null=True, blank=True)
    page_count = models.PositiveSmallIntegerField(_("页数"), null=True, blank=True)
    # The telegram header (明传电报): 发往, 签批 (office, person and seal).
    telegram_send_to = models.CharField(_("发往"), max_length=200, blank=True)
    telegram_approval_office = models.CharField(_("签批机关"), max_length=100, blank=True)
    telegram_approver = models.CharField(_("签批人"), max_length=50, blank=True)
    telegram_seal = models.CharField(_("签批印章"), max_length=100, blank=True)

    # Lifecycle.
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("拟稿时间"), auto_now_add=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(_("签发时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    # Hex SHA-256 of the canonical serialisation (documents.digest), fixed at issue.
    digest = models.CharField(_("内容摘要"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("公文")
        verbose_name_plural = _("公文")
        ordering = ["-issued_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["number_prefix", "number_year", "number_serial"], name="document_number_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="issued")
                | (
                    models.Q(number_year__isnull=False, number_serial__gt=0, issued_at__isnull=False)
                    & ~models.Q(digest="")
                ),
                name="issued_document_has_number_and_digest",
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="document_title_not_empty"),
        ]
        indexes = [models.Index(fields=["issuing_unit", "state"], name="document_issuer_state")]

    def __str__(self) -> str:
        return f"{self.number or _('（未编号）')} {self.title}"

    @property
    def number(self) -> str:
        """发文字号 as printed: 内教工委函〔2022〕90号; empty until issued."""
        if self.number_serial is None:
            return ""
        return f"{self.number_prefix}〔{self.number_year}〕{self.number_serial}号"

    @property
    def is_issued(self) -> bool:
        return self.state == self.State.ISSUED

    @property
    def is_telegram(self) -> bool:
        return self.kind == Kind.TELEGRAM


class DocumentRecipient(models.Model):
    """Who a draft is addressed to, as chosen: units and recipient groups, main or copy.

    Resolved to a set of units only when the document is issued (see workflow.services).
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="recipients")
    role = models.CharField(max_length=2, choices=RecipientRole.choices)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(RecipientGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["document", "role", "position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit__isnull=True, group__isnull=False)
                | models.Q(unit__isnull=False, group__isnull=True),
                name="recipient_is_unit_or_group",
            ),
            models.UniqueConstraint(fields=["document", "role", "unit"], name="recipient_unit_once"),
            models.UniqueConstraint(fields=["document", "role", "group"], name="recipient_group_once"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.unit or self.group}"


def attachment_upload_to(attachment: "Attachment", filename: str) -> str:
    # Named by content, never by the uploader's file name: the digest is the identity.
    return f"attachments/{attachment.sha256[:2]}/{attachment.sha256}"


class Attachment(models.Model):
    """附件: a file attached to a document, identified by its SHA-256."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("附件名称"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_upload_to)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["document", "position"]
        constraints = [models.UniqueConstraint(fields=["document", "position"], name="attachment_position_unique")]

    def __str__(self) -> str:
        return self.name


class Enclosure(models.Model):
    """A cover letter encloses a document by reference, never by copy (所附公文).

    Holds the transitive closure, self included: (D, D, 0) for every document, (C, E, 1) when C
    directly encloses E, (C, X, 2) when E in turn encloses X, and so on. "Everything C encloses" is
    then one indexed lookup, which keeps a document's visibility one EXISTS (workflow.access).
    """

    cover = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="enclosure_paths")
    enclosed = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="enclosed_by_paths")
    depth = models.PositiveSmallIntegerField()
    # Order among the cover's direct enclosures (depth 1); 0 elsewhere.
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cover", "depth", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cover", "enclosed"], name="enclosure_once"),
            models.CheckConstraint(
                condition=models.Q(depth=0, cover=models.F("enclosed"))
                | models.Q(depth__gt=0) & ~models.Q(cover=models.F("enclosed")),
                name="enclosure_depth_zero_is_self",
            ),
        ]
        indexes = [models.Index(fields=["enclosed", "cover"], name="enclosure_by_enclosed")]

    def __str__(self) -> str:
        return f"{self.cover_id} ⊃ {self.enclosed_id} ({self.depth})"


class ImportedSource(models.Model):
    """The text a document was imported from (收文登记 or a draft from a file), and what the
    conformance check found in it: the document page shows these findings beside the document.

    Not part of the document's content (not digested, not frozen): a record of how it came in.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="imported_sources")
    unit = models.ForeignKey(Unit, verbose_name=_("导入单位"), on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=255)
    # SHA-256 of the whole file's bytes: the same file imported twice is recognisable.
    sha256 = models.CharField(max_length=64)
    # This document's part of the file's text, and the first line of that part in the file.
    text = models.TextField(_("原文"))
    first_line = models.PositiveIntegerField(default=1)
    # [{"line": 7, "message": "…"}], line numbers of the file.
    warnings = models.JSONField(_("检查意见"), default=list)
    imported_at = models.DateTimeField(_("导入时间"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("导入来源")
        verbose_name_plural = _("导入来源")
        ordering = ["document", "-imported_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.file_name} → {self.document_id}"


class NumberSeries(models.Model):
    """Where a (prefix, year) series stands: the last serial allocated.

    Allocation locks this row inside the issuing transaction, so serials are gapless (a rolled-back
    issue gives its serial back) and unique under concurrent issuers. An office that adopts the
    system mid-year sets `last_serial` to where its paper series stopped.
    """

    prefix = models.ForeignKey("units.NumberPrefix", on_delete=models.PROTECT, related_name="series")
    year = models.PositiveSmallIntegerField(_("年份"))
    last_serial = models.PositiveIntegerField(_("已用到的序号"), default=0)

    class Meta:
        verbose_name = _("发文字号序列")
        verbose_name_plural = _("发文字号序列")
        ordering = ["prefix", "-year"]
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="number_series_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.last_serial}号"


class DocumentUserObjectPermission(UserObjectPermissionBase):
    """For exceptions only: sharing one document with a person beyond its deliveries."""

    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)


class DocumentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)
