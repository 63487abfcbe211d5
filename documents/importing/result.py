"""What the importer found in a text: the elements of each document, and what it could not find.

Every element is optional: a text that lacks one gives None (or an empty list) and a finding that
says so, never an exception. Line numbers are those of the source file (1-based), so a clerk can
open the file and look.
"""

import datetime
from dataclasses import dataclass, field

from documents.elements import ELEMENTS


@dataclass(frozen=True)
class Finding:
    """One warning about the text: a missing element, or one that breaks GB/T 9704 or the 条例.

    `line` is None for a finding about the whole file (it could not be read). `field` names the
    element it is about, by its key in the JSON shape ("number", "title", "date", …), so that the
    registration form shows it beside that field; None for a finding about the whole document.
    """

    line: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return f"第{self.line}行：{self.message}" if self.line is not None else self.message


@dataclass
class ForwardedDocument:
    """A document the text forwards (转发), as the text names it: 《title》（number）, by issuer."""

    title: str | None
    number: str | None
    issuer: str | None
    line: int
    forwarded: list["ForwardedDocument"] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "number": self.number,
            "issuer": self.issuer,
            "forwarded": [inner.as_json() for inner in self.forwarded],
        }


@dataclass
class ParsedDocument:
    """The elements of one official document found in a text (条例 第九条, GB/T 9704-2012).

    `issuer` is the issuing organ (the mark without 文件 / 明传电报); `issuer_mark` is the mark as
    printed. `signature_organ` (发文机关署名) is what the JSON contract calls "signatory"; the
    person who signed off (签发人) is `signer`. Every element of documents.elements is an attribute
    here, under its own name or the one its definition gives (parsed_as), unless the importer never
    reads it (imported=False); the other attributes say where in the text things were found.
    """

    first_line: int = 1
    last_line: int = 1
    text: str = ""
    issuer_mark: str | None = None
    issuer: str | None = None
    # The Mongolian form of the issuer mark, as the text gives it (a 「蒙古文：…」 line or Mongolian script).
    mongolian_mark: str | None = None
    number: str | None = None  # normalised: 内教工委函〔2022〕90号
    number_text: str | None = None  # as printed
    number_line: int | None = None
    # How the number and the date depart from GB/T 9704, for the conformance check to report.
    number_problems: tuple[str, ...] = ()
    kind: str | None = None
    title: str | None = None
    # Where the source starts each new line of the title (offsets into it): layout, not an element.
    title_breaks: list[int] = field(default_factory=list)
    title_line: int | None = None
    urgency: str | None = None
    classification: str | None = None
    classification_period: str | None = None
    copy_number: str | None = None
    signer: str | None = None
    page_count: int | None = None
    main_recipients: list[str] = field(default_factory=list)
    main_recipients_text: str | None = None
    main_recipients_line: int | None = None
    cc: list[str] = field(default_factory=list)
    cc_text: str | None = None
    body: str | None = None
    body_line: int | None = None
    paragraph_lines: list[int] = field(default_factory=list)  # the source line of each paragraph
    attachment_note: str | None = None
    attachments: list[str] = field(default_factory=list)
    attachments_line: int | None = None
    # How many attachments (「附件1」 headings) follow the document in the text; None: no date, so
    # the end of the document is not known.
    attachment_headings: int | None = None
    signature_organ: str | None = None
    written_on: datetime.date | None = None
    date_text: str | None = None
    date_line: int | None = None
    date_problems: tuple[str, ...] = ()
    annotation: str | None = None
    printing_organ: str | None = None
    printed_on: datetime.date | None = None
    telegram_send_to: str | None = None
    telegram_approval_office: str | None = None
    telegram_approver: str | None = None
    telegram_seal: str | None = None
    forwarded: list[ForwardedDocument] = field(default_factory=list)
    enclosed: list["ParsedDocument"] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # A scan's pages as OCR read them: [{"page": 1, "confidence": 87.5, "text": "…"}], kept with the
    # registration for the clerk and the auditor to check the reading against the paper.
    scanned_pages: list[dict] = field(default_factory=list)

    def warn(self, line: int | None, message: str, *, field: str | None = None) -> None:
        self.findings.append(Finding(line if line is not None else self.first_line, message, field))

    @classmethod
    def unreadable(cls, message: str) -> "ParsedDocument":
        """The result for a file that could not be read at all: no element, and why."""
        document = cls()
        document.findings.append(Finding(None, message))
        return document

    def element_values(self) -> dict[str, object]:
        """The elements the text gave, by element name (documents.elements): what registration stores.

        An element the text lacks (None or empty) is left out, so that it takes its default.
        """
        values = {}
        for element in ELEMENTS:
            if element.parsed_attribute is None:
                continue
            value = getattr(self, element.parsed_attribute)
            if value is not None and value != "":
                values[element.name] = value
        return values

    @property
    def warnings(self) -> list[str]:
        return [str(finding) for finding in sorted(self.findings, key=lambda finding: finding.line or 0)]

    def walk(self):
        """This document, then every enclosed document, depth first."""
        yield self
        for enclosed in self.enclosed:
            yield from enclosed.walk()

    def as_json(self) -> dict:
        """The shape of `import_document --dry-run --json` (a contract: keys never change)."""
        return {
            "issuer": self.issuer,
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "urgency": self.urgency,
            "classification": self.classification,
            "page_count": self.page_count,
            "main_recipients": list(self.main_recipients),
            "cc": list(self.cc),
            "signatory": self.signature_organ,
            "date": self.written_on.isoformat() if self.written_on else None,
            "attachments": list(self.attachments),
            "forwarded": [forwarded.as_json() for forwarded in self.forwarded],
            "enclosed": [enclosed.as_json() for enclosed in self.enclosed],
            "body": self.body,
            "warnings": self.warnings,
        }
