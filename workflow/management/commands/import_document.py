"""import_document FILE [FILE ...] [--dry-run] [--json] [--as-received-by UNIT] [--draft-for UNIT]

Reads official documents from text (UTF-8 or GB18030) or .docx files. With --dry-run it writes
nothing and shows what it read; with --json it prints one JSON object per file on its own line:

    {"issuer", "number", "kind", "title", "urgency", "classification", "page_count",
     "main_recipients": [...], "cc": [...], "signatory", "date", "attachments": [...],
     "forwarded": [{"title", "number", "issuer", "forwarded": [...]}],
     "enclosed": [<the same object for each enclosed document>], "body", "warnings": [...]}

"signatory" is the 发文机关署名 (the organ that signs above the date); "date" is the 成文日期 as
YYYY-MM-DD; absent elements are null or []; each warning is 「第N行：…」 with the file's line number.

A file that cannot be read at all still gets its JSON line (every element empty, the reason as its
one warning); the reason also goes to stderr and the command exits non-zero at the end.

Without --dry-run it registers each file through workflow.services.registration: as received by
UNIT (收文登记) or as a draft of UNIT, acting as the system. UNIT is a unit's full or short name.
Each file is one transaction: a file that fails leaves nothing behind, and the others go on; the
command then exits non-zero. With --json, stdout holds only the JSON lines; the rest goes to stderr.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from documents.importing import ParsedDocument, import_bytes, read_file
from units.errors import DomainError
from units.models import Unit
from workflow.services import Registration, SourceFile, document_register_draft, document_register_received


class Command(BaseCommand):
    help = "Read official documents from text or .docx files; show them (--dry-run) or register them."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="text (UTF-8 or GB18030) or .docx")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; show what was read")
        parser.add_argument("--json", action="store_true", help="one JSON object per file, one a line")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--as-received-by", metavar="UNIT", help="register as received by this unit (收文登记)")
        target.add_argument("--draft-for", metavar="UNIT", help="register as a draft of this unit")

    def handle(self, *args, files, dry_run, json, as_received_by, draft_for, **options):
        if not dry_run and not (as_received_by or draft_for):
            raise CommandError(
                "请用 --as-received-by 单位 或 --draft-for 单位 指明登记到哪个单位，或用 --dry-run 只看解析结果。"
            )
        unit = _unit(as_received_by or draft_for) if (as_received_by or draft_for) else None
        report = self.stderr if json else self.stdout
        failed = 0
        for path in files:
            read = _read(path)
            if isinstance(read, str):
                self.stderr.write(read)
                if json:  # one line for every file, so that lines and files pair up
                    self.stdout.write(_dumps(ParsedDocument.unreadable(read).as_json()))
                failed += 1
                continue
            data, parsed = read
            if json:
                self.stdout.write(_dumps(parsed.as_json()))
            else:
                self._show(path, parsed)
            if dry_run:
                continue
            register = document_register_received if as_received_by else document_register_draft
            try:
                registration = register(actor=None, unit=unit, parsed=parsed, source=SourceFile.of(path, data))
            except DomainError as error:
                self.stderr.write(f"{path}：未登记。{error}")
                failed += 1
                continue
            report.write(_registered(path, unit, registration, received=bool(as_received_by)))
        if failed:
            raise CommandError(f"{failed} 个文件未能导入（见上）。")

    def _show(self, path: str, parsed: ParsedDocument) -> None:
        self.stdout.write(path)
        self._show_document(parsed, "  ")

    def _show_document(self, document: ParsedDocument, indent: str) -> None:
        flags = "".join(f"【{flag}】" for flag in (document.classification, document.urgency) if flag)
        pages = f" 共 {document.page_count} 页" if document.page_count else ""
        number, kind = document.number or "（无发文字号）", document.kind or "（文种不明）"
        self.stdout.write(f"{indent}{number} {kind}{flags}{pages}")
        self.stdout.write(f"{indent}《{document.title or '（未找到标题）'}》")
        self.stdout.write(f"{indent}发文机关：{document.issuer or '—'}　署名：{document.signature_organ or '—'}")
        date = document.written_on.isoformat() if document.written_on else "—"
        self.stdout.write(f"{indent}主送：{'、'.join(document.main_recipients) or '—'}　成文日期：{date}")
        if document.cc:
            self.stdout.write(f"{indent}抄送：{'、'.join(document.cc)}")
        for name in document.attachments:
            self.stdout.write(f"{indent}附件：{name}")
        for forwarded in document.forwarded:
            number = forwarded.number or "无文号"
            self.stdout.write(f"{indent}转发：{forwarded.issuer or ''}《{forwarded.title}》（{number}）")
        for warning in document.warnings:
            self.stdout.write(f"{indent}! {warning}")
        for enclosed in document.enclosed:
            self.stdout.write(f"{indent}所附公文：")
            self._show_document(enclosed, indent + "  ")


def _read(path: str) -> tuple[bytes, ParsedDocument] | str:
    """The file's bytes and what was read from them, or the message saying why it could not be read."""
    try:
        data = read_file(path)  # refuses a file past the import limit before reading it
    except OSError as error:
        return f"{path}：无法读取文件（{error.strerror or error}）。"
    except DomainError as error:
        return str(error)
    try:
        return data, import_bytes(data, name=path)
    except DomainError as error:
        return str(error)


def _unit(name: str) -> Unit:
    units = list(Unit.objects.filter(Q(name=name) | Q(short_name=name), is_active=True)[:5])
    exact = [unit for unit in units if unit.name == name]
    if len(exact) == 1 or len(units) == 1:
        return (exact or units)[0]
    if not units:
        raise CommandError(f"单位“{name}”不存在或已停用（请用单位全称或简称）。")
    raise CommandError(f"“{name}”对应多个单位：{'、'.join(unit.name for unit in units)}，请用全称。")


def _registered(path: str, unit: Unit, registration: Registration, *, received: bool) -> str:
    document = registration.document
    if not received:
        lines = [f"{path}：已登记为{unit.name}的草稿《{document.title}》（编号 {document.pk}）。"]
        lines += [f"  所附公文：{inner.number}《{inner.title}》" for inner in registration.linked]
        lines += [f"  转发的 {name} 不在系统中，未附上。" for name in registration.not_found]
        if registration.unresolved_recipients:
            names = "、".join(registration.unresolved_recipients)
            lines.append(f"  收文单位“{names}”不在目录中，请在印发前选定。")
        return "\n".join(lines)
    if registration.already_registered:
        return f"{path}：{document.number}已送达{unit.name}，无需重复登记，未作任何改动。"
    lines = [f"{path}：已登记{unit.name}收文 {document.number}《{document.title}》。"]
    lines += [f"  新登记：{created.number}（{created.issuing_unit.name}）" for created in registration.created]
    lines += [f"  系统中已有，已关联：{linked.number}" for linked in registration.linked]
    return "\n".join(lines)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
