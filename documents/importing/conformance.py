"""Conformance of an imported document with GB/T 9704-2012 and the 条例 (党政机关公文处理工作条例).

Each finding names the line it is about. The checks read the parsed elements only; they never
change them, so an import shows what the text says and, beside it, what the standard would want.
"""

import re

from documents.importing import patterns
from documents.importing.result import ParsedDocument
from documents.models import Kind

_KIND_LIST = "、".join(value for value in Kind.values if value != Kind.TELEGRAM)
_ATTACHMENT_HEADING = re.compile(r"^附\s?件\s{0,2}(?P<n>\d{1,2})?\s{0,2}$")


def check(document: ParsedDocument) -> None:
    """Add a finding to `document` for each element missing or out of the standard."""
    _check_number(document)
    _check_title(document)
    _check_main_recipients(document)
    _check_date(document)
    _check_attachments(document)
    _check_forwarded_not_attached(document)
    _check_telegram(document)


def _check_number(document: ParsedDocument) -> None:
    if document.number is None:
        document.warn(document.first_line, "未找到发文字号", field="number")
        return
    for problem in document.number_problems:
        document.warn(document.number_line, f"发文字号“{document.number_text}”：{problem}", field="number")


def _check_title(document: ParsedDocument) -> None:
    if document.title is None:
        document.warn(document.first_line, "未找到标题", field="title")
    elif patterns.kind_of_title(document.title) is None:
        document.warn(document.title_line, f"标题应以文种结尾（{_KIND_LIST}）", field="title")
    if document.issuer_mark is None:
        document.warn(document.first_line, "未找到发文机关标志", field="issuer")


def _check_main_recipients(document: ParsedDocument) -> None:
    text = document.main_recipients_text
    if text is None:
        return
    if text.endswith(":"):
        document.warn(document.main_recipients_line, "主送机关后应使用全角冒号“：”", field="main_recipients")
    elif not text.endswith("："):
        document.warn(
            document.main_recipients_line, "主送机关最后一个机关名称后应标全角冒号“：”", field="main_recipients"
        )


def _check_date(document: ParsedDocument) -> None:
    if document.date_text is None:
        document.warn(document.last_line, "未找到成文日期", field="date")
        return
    for problem in document.date_problems:
        document.warn(document.date_line, f"成文日期“{document.date_text}”：{problem}", field="date")
    if document.signature_organ is None:
        document.warn(document.date_line, "未找到发文机关署名", field="signatory")


def _check_attachments(document: ParsedDocument) -> None:
    headings = document.attachment_headings
    names = document.attachments
    line = document.attachments_line
    if names:
        note_lines = (document.attachment_note or "").split("\n")
        numbered = [
            patterns.ATTACHMENT_ITEM.match(re.sub(r"^附\s?件\s{0,2}[:：]\s{0,2}", "", text)) for text in note_lines
        ]
        numbers = [int(match["n"]) for match in numbered if match]
        if len(names) > 1 and numbers != list(range(1, len(names) + 1)):
            document.warn(line, "附件说明中的附件应按 1. 2. 3. 依次编号", field="attachments")
        if len(names) == 1 and numbers:
            document.warn(line, "只有一个附件时，附件说明不编序号", field="attachments")
        for name in names:
            if name and name[-1] in "。.，,；;：:":
                document.warn(line, f"附件名称“{name}”后不加标点符号", field="attachments")
    # No attachment in the text at all is normal (they travel as files); a different count is not.
    if headings and headings != len(names):
        if names:
            document.warn(line, f"附件说明列出 {len(names)} 个附件，正文后附有 {headings} 个附件", field="attachments")
        else:
            document.warn(document.last_line, f"正文后附有 {headings} 个附件，但没有附件说明", field="attachments")
    if not names and document.body and re.search(r"见附件|详见附件|附件\s?\d", document.body):
        document.warn(document.body_line, "正文提到附件，但没有附件说明", field="attachments")


def _check_forwarded_not_attached(document: ParsedDocument) -> None:
    plain = [re.sub(r"[\s《》]", "", name) for name in document.attachments]
    for forwarded in document.forwarded:
        title = re.sub(r"[\s《》]", "", forwarded.title or "")
        if title and any(title == name or title in name for name in plain):
            document.warn(
                document.attachments_line,
                f"转发的公文《{forwarded.title}》不是附件，不应列入附件说明",
                field="attachments",
            )


def _check_telegram(document: ParsedDocument) -> None:
    if document.kind == Kind.TELEGRAM and document.page_count is None:
        document.warn(document.number_line or document.first_line, "明传电报应标注页数（共 N 页）", field="page_count")


def count_attachment_headings(text_lines: list[str]) -> int:
    """How many 「附件1」「附件 2」 headings stand alone on a line (the attachments that follow)."""
    return sum(1 for text in text_lines if _ATTACHMENT_HEADING.match(text.strip()))
