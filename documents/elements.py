"""The elements of a 公文 (条例 第九条, GB/T 9704-2012), defined once.

Everything that lists the elements derives from ELEMENTS: the model's content columns
(documents.models.DocumentElements), the digest's canonical serialisation (documents.digest.CONTENT_FIELDS),
what a drafter writes and how it is checked (documents.content.DocumentContent), what the importer hands
to registration (ParsedDocument.element_values), the draft page's fields (web.forms.DraftForm) and what a
draft derives from its unit and recipients (workflow.services.documents). The one copy kept on purpose is
the frozen-document trigger's column list in documents/migrations/0003: a migration is history and must
not change when the code does, so a new element needs a migration that re-creates that trigger, and
tests/documents/test_elements.py reads the trigger from PostgreSQL to fail until it does.

Adding an element to a version of the digest changes every digest made under that version: give the
canonical serialisation a new version first (documents.digest).
"""

import enum
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


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

    @classmethod
    def carried_by(cls, kind: str, value: str) -> str:
        """The level a document of `kind` carries for `value` (GB/T 9704 7.2.4; 明传电报: 等级).

        特提 and 平急 are telegrams' levels; any other document is 特急 or 加急. A level the kind cannot
        carry becomes the nearest one it can: 特提 → 特急 (it keeps the urgent queue and its reminders
        around the clock), 平急 → 加急 (a telegram of any level is urgent business). A forward of a
        特提 telegram is a 通知 and so goes out 特急.
        """
        if kind == Kind.TELEGRAM:
            return value
        return {cls.FLASH: cls.EXTRA_URGENT, cls.PRIORITY: cls.URGENT}.get(value, value)


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


class Value(enum.Enum):
    """What kind of value an element holds."""

    LINE = "line"  # one line of text: runs of white space are stored as one space
    TEXT = "text"  # paragraphs, "\n" between them
    DATE = "date"
    COUNT = "count"  # a whole number from 1 to the element's max_value
    CHOICE = "choice"  # one of the element's choices


class Fallback(enum.Enum):
    """What a draft's element is derived from when the drafter leaves it empty."""

    ISSUING_UNIT = "issuing_unit"  # the unit's name
    MAIN_RECIPIENTS = "main_recipients"  # the chosen 主送, 、-separated, ending in ：
    CC_RECIPIENTS = "cc_recipients"  # the chosen 抄送, 、-separated


@dataclass(frozen=True, kw_only=True)
class Element:
    name: str  # the model's column, DocumentContent's field and the digest's key
    label: str | Promise  # 中文 name, the model's verbose_name
    value: Value
    # The draft page asks for it (web.forms.DraftForm). No default: each new element decides.
    drafted: bool
    max_length: int | None = None  # LINE and CHOICE: the column's length
    max_value: int | None = None  # COUNT
    choices: type[models.TextChoices] | None = None  # CHOICE
    default: str | None = None  # what an element not given holds (else empty)
    # The element must hold a value (the column is not blank). One with a fallback gets it from there.
    required: bool = False
    fallback: Fallback | None = None
    # The importer's result (documents.importing.ParsedDocument) carries it under this name; None: the
    # same name. `imported=False`: the importer never reads it from a text.
    parsed_as: str | None = None
    imported: bool = True

    def __post_init__(self) -> None:
        needs_length = self.value in (Value.LINE, Value.CHOICE)
        if needs_length != (self.max_length is not None):
            raise TypeError(f"{self.name}: a max_length belongs to LINE and CHOICE elements, and they need one")
        if (self.value is Value.COUNT) != (self.max_value is not None):
            raise TypeError(f"{self.name}: a max_value belongs to COUNT elements, and they need one")
        if (self.value is Value.CHOICE) != (self.choices is not None):
            raise TypeError(f"{self.name}: choices belong to CHOICE elements, and they need them")

    @property
    def empty(self) -> str | None:
        """The value of an element that is absent: "" for text, None for a date or a count."""
        return None if self.value in (Value.DATE, Value.COUNT) else ""

    @property
    def parsed_attribute(self) -> str | None:
        """The ParsedDocument attribute that carries it, or None when the importer does not read it."""
        return (self.parsed_as or self.name) if self.imported else None


# In the order of 条例 第九条 and the layout of GB/T 9704-2012: 版头, 主体, 版记; then the telegram's header.
ELEMENTS: tuple[Element, ...] = (
    # 版头
    Element(name="copy_number", label=_("份号"), value=Value.LINE, max_length=6, drafted=False),
    Element(
        name="classification",
        label=_("密级"),
        value=Value.CHOICE,
        max_length=4,
        choices=Classification,
        default=Classification.PUBLIC,
        required=True,
        drafted=True,
    ),
    Element(name="classification_period", label=_("保密期限"), value=Value.LINE, max_length=20, drafted=False),
    Element(
        name="urgency",
        label=_("紧急程度"),
        value=Value.CHOICE,
        max_length=4,
        choices=Urgency,
        default=Urgency.ROUTINE,
        required=True,
        drafted=True,
    ),
    Element(
        name="issuer_mark",
        label=_("发文机关标志"),
        value=Value.LINE,
        max_length=200,
        required=True,
        fallback=Fallback.ISSUING_UNIT,
        drafted=False,
    ),
    # 发文字号 is not an element a drafter writes: it is allocated at issue (Document.number_*).
    # 签发人: the importer calls the person `signer`, keeping `signatory` for its JSON's 署名.
    Element(name="signatory", label=_("签发人"), value=Value.LINE, max_length=50, parsed_as="signer", drafted=False),
    # 主体
    Element(name="title", label=_("标题"), value=Value.LINE, max_length=500, required=True, drafted=True),
    # The 文种 closes the 标题 (关于…的通知).
    Element(name="kind", label=_("文种"), value=Value.CHOICE, max_length=10, choices=Kind, required=True, drafted=True),
    Element(
        name="main_recipients_text",
        label=_("主送机关"),
        value=Value.TEXT,
        fallback=Fallback.MAIN_RECIPIENTS,
        drafted=False,
    ),
    Element(name="body", label=_("正文"), value=Value.TEXT, required=True, drafted=True),
    # The files themselves (附件) are rows of documents.Attachment, digested by their SHA-256.
    Element(name="attachment_note", label=_("附件说明"), value=Value.TEXT, drafted=False),
    Element(
        name="signature_organ",
        label=_("发文机关署名"),
        value=Value.LINE,
        max_length=200,
        fallback=Fallback.ISSUING_UNIT,
        drafted=False,
    ),
    Element(name="written_on", label=_("成文日期"), value=Value.DATE, drafted=True),
    # A seal is an image on paper: the importer reads text only. The drafter names the seal the document
    # bears (内蒙古自治区党委组织部印); a document that names one is printed as sealed (GB/T 9704 7.3.5.1,
    # documents.rendering), one that does not as unsealed (7.3.5.2).
    Element(name="seal_note", label=_("印章"), value=Value.LINE, max_length=200, imported=False, drafted=True),
    Element(name="annotation", label=_("附注"), value=Value.TEXT, drafted=False),
    # 版记
    Element(name="cc_text", label=_("抄送机关"), value=Value.TEXT, fallback=Fallback.CC_RECIPIENTS, drafted=False),
    Element(name="printing_organ", label=_("印发机关"), value=Value.LINE, max_length=200, drafted=False),
    Element(name="printed_on", label=_("印发日期"), value=Value.DATE, drafted=False),
    # 页码 are printed, not stored; a telegram states its length (共 N 页).
    Element(name="page_count", label=_("页数"), value=Value.COUNT, max_value=9999, drafted=True),
    # The telegram header (明传电报): 发往, 签批 (office, person and seal).
    Element(name="telegram_send_to", label=_("发往"), value=Value.LINE, max_length=200, drafted=True),
    Element(name="telegram_approval_office", label=_("签批机关"), value=Value.LINE, max_length=100, drafted=True),
    Element(name="telegram_approver", label=_("签批人"), value=Value.LINE, max_length=50, drafted=True),
    Element(name="telegram_seal", label=_("签批印章"), value=Value.LINE, max_length=100, drafted=True),
)

DRAFTED_ELEMENTS: tuple[Element, ...] = tuple(element for element in ELEMENTS if element.drafted)
