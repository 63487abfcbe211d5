"""The official document (公文) with the elements of 条例 第九条 and GB/T 9704-2012.

No knowledge of deliveries lives here: who received a document is the workflow's business.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

# Classification, Kind and Urgency are defined with the elements; most code imports them from here.
from documents.elements import (
    ELEMENTS,
    Classification,  # noqa: F401
    Element,
    Kind,
    Urgency,
    Value,
)
from units.models import RecipientGroup, Unit

# 特提 and 特急: their own queue and worker (workflow.enqueue), reminded around the clock (催办).
URGENT_LEVELS = (Urgency.FLASH, Urgency.EXTRA_URGENT)


def _element_field(element: Element) -> models.Field:
    """The column of an element: blank (and null for dates and counts) unless it is required."""
    optional = not element.required
    match element.value:
        case Value.LINE:
            return models.CharField(element.label, max_length=element.max_length, blank=optional)
        case Value.TEXT:
            return models.TextField(element.label, blank=optional)
        case Value.DATE:
            return models.DateField(element.label, null=optional, blank=optional)
        case Value.COUNT:
            return models.PositiveSmallIntegerField(element.label, null=optional, blank=optional)
        case Value.CHOICE:
            default = {} if element.default is None else {"default": element.default}
            return models.CharField(
                element.label,
                max_length=element.max_length,
                choices=element.choices.choices,
                blank=optional,
                **default,
            )
    raise TypeError(element.value)


# The content columns, one per element of documents.elements: frozen once the document is issued (a
# database trigger refuses a change), digested at issue.
DocumentElements = type(
    "DocumentElements",
    (models.Model,),
    {
        "__module__": __name__,
        "__doc__": "The content columns of a Document, one per element (documents.elements.ELEMENTS).",
        "Meta": type("Meta", (), {"abstract": True}),
        **{element.name: _element_field(element) for element in ELEMENTS},
    },
)


class RecipientRole(models.TextChoices):
    MAIN = "主送", _("主送")
    COPY = "抄送", _("抄送")


class Document(DocumentElements):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SIGNED_OFF = "signed_off", _("已签发")
        ISSUED = "issued", _("已印发")

    # With the elements (DocumentElements), also frozen at issue: the issuing unit and the number.
    issuing_unit = models.ForeignKey(Unit, verbose_name=_("发文机关"), on_delete=models.PROTECT, related_name="+")
    number_prefix = models.CharField(_("发文字号前缀"), max_length=40)
    number_year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True)
    number_serial = models.PositiveIntegerField(_("序号"), null=True, blank=True)

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
    # Where the title's source (an imported text) starts each new line: offsets into the title. Layout
    # only (documents.titles), so outside the digest: a text wrapped otherwise is the same document.
    # Frozen at issue with the elements (migration 0005), so that a document always prints alike.
    title_breaks = models.JSONField(_("标题回行"), default=list, blank=True)

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
        indexes = [
            models.Index(fields=["issuing_unit", "state"], name="document_issuer_state"),
            # The chains list, newest first: its page is a walk down this index (issue 18).
            models.Index(
                fields=["-issued_at", "-id"], condition=models.Q(state="issued"), name="document_issued_order"
            ),
            # 公文交换: a document that arrives from a peer is linked to the copy held here by digest.
            models.Index(fields=["digest"], condition=~models.Q(digest=""), name="document_by_digest"),
        ]

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
        indexes = [
            models.Index(fields=["enclosed", "cover"], name="enclosure_by_enclosed"),
            # What covers enclose, without every document's row for itself: the search door's set of
            # what a unit's deliveries enclose reads this small index, not one probe per delivery.
            models.Index(
                fields=["cover"], include=["enclosed"], condition=models.Q(depth__gt=0), name="enclosure_of_covers"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cover_id} ⊃ {self.enclosed_id} ({self.depth})"


def imported_upload_to(source: "ImportedSource", filename: str) -> str:
    # Named by content, like attachments: the same file registered twice is kept once.
    return imported_original_path(source.sha256)


def imported_original_path(sha256: str) -> str:
    return f"imported/{sha256[:2]}/{sha256}"


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
    # [{"line": 7, "message": "…", "field": "date"}], line numbers of the file; field None: the whole document.
    warnings = models.JSONField(_("检查意见"), default=list)
    # The file as it arrived, byte for byte (its SHA-256 is `sha256`): the evidence the registration
    # was read from. Empty for sources imported before originals were kept.
    original = models.FileField(_("原件"), upload_to=imported_upload_to, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # A scan's pages as OCR read them: [{"page": 1, "confidence": 87.5, "text": "…"}]; [] for text.
    scanned_pages = models.JSONField(_("扫描页"), default=list, blank=True)
    # What the clerk changed of what was read: {"title": {"read": …, "entered": …}}.
    corrections = models.JSONField(_("人工更正"), default=dict, blank=True)
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


class SearchVectorField(models.TextField):
    """A tsvector on PostgreSQL; text elsewhere (the embedded SQLite default searches with LIKE)."""

    def db_type(self, connection) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"


class DocumentSearch(models.Model):
    """全文检索: a document's words for search (documents.search: overlapping character bigrams),
    kept beside the document rather than in it, so that no read of a document carries its vector.

    Written by `documents.search_index.document_search_index` in the transaction that drafts, edits,
    issues or registers the document (workflow.services), so a document is found as soon as it is
    issued; migration 0007 filled it for the documents issued before. Not content: an index, rebuilt
    from the document at will, outside the digest and the frozen trigger.
    """

    document = models.OneToOneField(Document, primary_key=True, on_delete=models.CASCADE, related_name="+")
    # The order of results (newest first): issued_at, or created_at while it is a draft.
    dated_at = models.DateTimeField()
    # dated_at's month (documents.search.search_period): the search walks the months newest first,
    # and each GIN index leads with it, so one month's matches cost the same in any size of archive.
    period = models.IntegerField()
    # The document's issuing unit, copied (it never changes): the search's door tests "issued by a
    # unit of mine" on the row itself (workflow.access.document_visible_among), where a set of
    # everything a busy office issued took 0.4 s to build at 10^6 documents.
    issuing_unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", db_index=False)
    # number, title, issuer (unit's name and 发文机关标志), body, attachment names and 附件说明. GIN-indexed.
    vector = SearchVectorField()
    # number, title and issuer alone, GIN-indexed too: what matches here ranks first (workflow.search).
    heading = SearchVectorField()

    class Meta:
        verbose_name = _("检索索引")
        verbose_name_plural = _("检索索引")
        default_permissions = ()
        # No btree on dated_at or period, on purpose: with one, PostgreSQL walks the dates and reads
        # every row's vector until a page is full, which is slow whenever the match is rarer than
        # it guesses (1.3 s at 10^5 documents for a word in every heading but none of the bodies).
        # The GIN indexes on (period, heading) and (period, vector) (migration 0009, btree_gin) find
        # one month's matches; a top-N sort orders them; SearchPeriod says which months to walk.

    def __str__(self) -> str:
        return f"{self.document_id}"


class SearchPeriod(models.Model):
    """A month that holds at least one DocumentSearch row (documents.search.search_period): what
    the search walks, newest first, so that it never probes an empty month. Written with the rows
    (documents.search_index); a month left empty by a deleted document only costs an empty probe."""

    period = models.IntegerField(primary_key=True)

    class Meta:
        verbose_name = _("检索月份")
        verbose_name_plural = _("检索月份")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.period // 12}-{self.period % 12 + 1:02d}"
