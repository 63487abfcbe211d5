"""What a drafter writes: the elements of a document, checked and normalised before they are stored."""

import dataclasses
import datetime
import re

from django.conf import settings
from django.utils.translation import gettext as _

from documents.digest import normalise_text
from documents.models import Classification, Kind, Urgency
from units.errors import InvalidInput

_CLASSIFIED = {Classification.SECRET, Classification.CONFIDENTIAL, Classification.TOP_SECRET}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DocumentContent:
    """The elements of 条例 第九条 a drafter supplies. The number is not here: it is allocated at issue."""

    kind: str
    title: str
    body: str
    urgency: str = Urgency.ROUTINE
    classification: str = Classification.PUBLIC
    classification_period: str = ""
    issuer_mark: str = ""  # default: the issuing unit's name
    copy_number: str = ""
    signatory: str = ""
    main_recipients_text: str = ""  # default: the chosen recipients, 、-separated, ending in ：
    cc_text: str = ""
    attachment_note: str = ""
    signature_organ: str = ""  # default: the issuing unit's name
    written_on: datetime.date | None = None
    seal_note: str = ""
    annotation: str = ""
    printing_organ: str = ""
    printed_on: datetime.date | None = None
    page_count: int | None = None
    telegram_send_to: str = ""
    telegram_approval_office: str = ""
    telegram_approver: str = ""
    telegram_seal: str = ""

    def cleaned(self) -> "DocumentContent":
        """Return a normalised copy, or raise InvalidInput naming the first bad element."""
        values = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            values[field.name] = normalise_text(value) if isinstance(value, str) else value
        for field in ("title", "issuer_mark", "signature_organ", "signatory", "copy_number"):
            values[field] = " ".join(values[field].split())
        content = DocumentContent(**values)
        content._check()
        return content

    def _check(self) -> None:
        if self.kind not in Kind.values:
            raise InvalidInput(
                _("文种“%(kind)s”不存在，可选：%(kinds)s。") % {"kind": self.kind, "kinds": "、".join(Kind.values)}
            )
        if self.urgency not in Urgency.values:
            raise InvalidInput(
                _("紧急程度“%(value)s”不存在，可选：%(values)s。")
                % {"value": self.urgency, "values": "、".join(Urgency.values)}
            )
        if self.classification not in Classification.values:
            raise InvalidInput(_("密级“%(value)s”不存在。") % {"value": self.classification})
        if self.classification in _CLASSIFIED and not settings.CLASSIFIED_ALLOWED:
            raise InvalidInput(_("本系统不是涉密信息系统，不能处理%(level)s公文。") % {"level": self.classification})
        if not self.title:
            raise InvalidInput(_("标题不能为空。"))
        if len(self.title) > 500:
            raise InvalidInput(_("标题过长（%(length)d 字，上限 500 字）。") % {"length": len(self.title)})
        if not self.body:
            raise InvalidInput(_("正文不能为空。"))
        if self.copy_number and not re.fullmatch(r"\d{6}", self.copy_number):
            raise InvalidInput(_("份号“%(value)s”应为 6 位阿拉伯数字。") % {"value": self.copy_number})
        if self.page_count is not None and not 1 <= self.page_count <= 9999:
            raise InvalidInput(_("页数 %(value)s 不合理。") % {"value": self.page_count})
        if self.printed_on and self.written_on and self.printed_on < self.written_on:
            raise InvalidInput(_("印发日期不能早于成文日期。"))
