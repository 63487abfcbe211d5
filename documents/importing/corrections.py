"""A clerk's corrections to what the importer read, before 收文登记 (the registration form).

The form offers the scored fields, each as the importer read it and with its findings beside it
(`Finding.field`). What the clerk changes replaces what was read; the rest stays as read, so the
registration stores the text's own wording wherever nobody touched it. The registration's audit
event records each change as {"read": …, "entered": …}: what the machine read and what the person
decided are both on the record.

    values = reading(parsed)                      # the form's initial values
    parsed, changes = corrected(parsed, cleaned)  # a new ParsedDocument; `parsed` is not changed
"""

import dataclasses
import datetime
import re

from documents.importing import patterns
from documents.importing.result import ParsedDocument

# The fields of the form, by their keys in the import_document JSON shape.
CORRECTABLE = ("issuer", "number", "title", "urgency", "main_recipients", "cc", "signatory", "date", "attachments")


def normalised_number(text: str) -> str | None:
    """A number as a clerk types it (any bracket, spaces) in the form the importer stores, or None
    when it is not a 发文字号 (机关代字〔年份〕序号号)."""
    match = patterns.CITED_NUMBER.fullmatch(re.sub(r"\s", "", text or ""))
    if match is None:
        return None
    number = patterns.read_number(match)
    return number.normalised if number.year is not None else None


def reading(parsed: ParsedDocument) -> dict[str, object]:
    """Each correctable field as the importer read it: a string, a list of names, a date or None."""
    return {
        "issuer": parsed.issuer,
        "number": parsed.number,
        "title": parsed.title,
        "urgency": parsed.urgency,
        "main_recipients": list(parsed.main_recipients),
        "cc": list(parsed.cc),
        "signatory": parsed.signature_organ,
        "date": parsed.written_on,
        "attachments": list(parsed.attachments),
    }


def corrected(parsed: ParsedDocument, values: dict[str, object]) -> tuple[ParsedDocument, dict[str, dict]]:
    """`parsed` with the clerk's `values` (cleaned: the number normalised, the title ending in its
    文种, lists without blanks) where they differ from what was read; and those changes, JSON-ready."""
    read = reading(parsed)
    changes = {
        field: {"read": _json(read[field]), "entered": _json(values[field])}
        for field in CORRECTABLE
        if field in values and _blank_as_none(values[field]) != _blank_as_none(read[field])
    }
    document = dataclasses.replace(parsed)  # shallow: every list below is replaced, never changed
    for field in changes:
        _apply(document, parsed, field, _blank_as_none(values[field]))
    return document, changes


def _apply(document: ParsedDocument, parsed: ParsedDocument, field: str, value) -> None:
    if field == "issuer":
        document.issuer = value
        # The mark as printed names the organ: a misread organ was misread in the mark too.
        if parsed.issuer and parsed.issuer_mark and value:
            document.issuer_mark = parsed.issuer_mark.replace(parsed.issuer, value)
    elif field == "number":
        document.number = document.number_text = value
        document.number_problems = ()
    elif field == "title":
        document.title = value
        document.kind = patterns.kind_of_title(value) if value else None
        document.title_breaks = []  # the source's breaks were offsets into the title as read
    elif field == "urgency":
        document.urgency = value
    elif field == "main_recipients":
        document.main_recipients = list(value or [])
        document.main_recipients_text = "、".join(value) + "：" if value else None
    elif field == "cc":
        document.cc = list(value or [])
        document.cc_text = "、".join(value) + "。" if value else None
    elif field == "signatory":
        document.signature_organ = value
    elif field == "date":
        document.written_on = value
        document.date_text = f"{value.year}年{value.month}月{value.day}日" if value else None
        document.date_problems = ()
    elif field == "attachments":
        document.attachments = list(value or [])
        document.attachment_note = _attachment_note(value or [])


def _attachment_note(names: list[str]) -> str | None:
    """附件说明 as GB/T 9704 7.3.4 writes it: one name unnumbered, several numbered 1. 2. 3."""
    if not names:
        return None
    if len(names) == 1:
        return f"附件：{names[0]}"
    return "附件：" + "\n".join(f"{position}. {name}" for position, name in enumerate(names, 1))


def _blank_as_none(value):
    if value in ("", [], None):
        return None
    return value


def _json(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    return _blank_as_none(value)
