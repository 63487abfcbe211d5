"""Documents that come in as files: registered as received (收文登记), or taken as a unit's draft.

How a document received on paper (or by fax, or as a file) is represented
--------------------------------------------------------------------------
A received document is an issued `Document` of its issuing unit, exactly as if that unit had issued
it in the system: the issuing unit is found in the directory (by the number's prefix, else by the
organ's name); the number is the one printed on it; the digest is computed at registration over
the elements read from the text. The receiving unit then gets a `Delivery` of it through a
`Dispatch` of its own (one unit, routed at once, its clerks notified through the usual task), so
the inbox, 签收, 转发, visibility and the chain views all work unchanged. The delivery starts
pending: the clerk signs for it in the system, which records who and when.

- A number already in the system is never registered twice: the document is linked (the number
  uniqueness constraint holds), provided its title agrees with the text's (else Conflict: the
  number was probably misread). A unit that already has a delivery of it is told so, and nothing is
  written.
- A cover letter that encloses another document's text: the enclosed document is registered (or
  linked) first, and the cover encloses it (the Enclosure closure), as a forward in the system
  does. When the cover is already in the system it is linked as it is, whatever it encloses.
- The dispatch of a registration has no `issued_by` when the actor is the system (the command
  line); the registering person is the actor of the DOCUMENT_REGISTERED audit event.
- What the import found (the text and the conformance findings) is kept per created document in
  `documents.ImportedSource`, for the document page.

A draft from a file (拟稿) is a draft `Document` of the unit with the elements of the text. The
documents it forwards are enclosed when they are in the system and were delivered to the unit (a
unit forwards only what it received), and the first of them gives the draft its `Forward` link, as
`document_forward` does; a forwarded document the system does not have is reported, not invented.
"""

import dataclasses
import hashlib
import re

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from documents.content import DocumentContent
from documents.digest import document_content_digest
from documents.importing import ParsedDocument
from documents.importing.decoding import media_type
from documents.models import Document, Enclosure, ImportedSource, RecipientRole, imported_original_path
from documents.numbering import DocumentNumber, parse_number
from documents.search_index import document_search_index
from units.errors import Conflict, InvalidInput
from units.models import NumberPrefix, RecipientGroup, Role, Unit
from workflow.audit import audit_record
from workflow.deadlines import deadlines_for
from workflow.enqueue import enqueue_notification, queue_for
from workflow.models import AuditVerb, Delivery, Dispatch, Forward
from workflow.services.documents import (
    _number_prefix,
    _reserve_serial,
    _store_recipients,
    enclose,
    forward_chain_position,
)
from workflow.services.rules import require_role as _require_unit_role
from workflow.tally import tally_created


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """The file a registration reads: its name (for messages), its bytes (kept as the original) and
    their SHA-256."""

    name: str
    sha256: str
    data: bytes = dataclasses.field(default=b"", repr=False)

    @classmethod
    def of(cls, name: str, data: bytes) -> "SourceFile":
        return cls(name=name, sha256=hashlib.sha256(data).hexdigest(), data=data)

    def kept(self) -> str:
        """The original's path in storage, written there once (named by content, as attachments are)."""
        path = imported_original_path(self.sha256)
        if default_storage.exists(path):
            return path
        return default_storage.save(path, ContentFile(self.data))  # another name if saved meanwhile


@dataclasses.dataclass
class Registration:
    """What a registration did: the top document, which documents it created and which it linked."""

    document: Document
    created: list[Document] = dataclasses.field(default_factory=list)
    linked: list[Document] = dataclasses.field(default_factory=list)
    delivery: Delivery | None = None
    # Forwarded documents the text names that the system does not have (drafts only).
    not_found: list[str] = dataclasses.field(default_factory=list)
    # 主送 / 抄送 names of a draft that match no unit or recipient group of the unit.
    unresolved_recipients: list[str] = dataclasses.field(default_factory=list)
    # The unit had the document already: nothing was written.
    already_registered: bool = False


def _require_role(actor: AbstractBaseUser | None, unit: Unit, roles: tuple[Role, ...], action: str) -> None:
    """The system (actor None, the command line) may always; a person needs a role on the unit."""
    if actor is not None:
        _require_unit_role(actor, unit, *roles, action=action)


def _fail(source: SourceFile, message: str) -> InvalidInput:
    return InvalidInput(_("文件“%(file)s”：%(message)s") % {"file": source.name, "message": message})


def _plain(text: str | None) -> str:
    return re.sub(r"\s", "", text or "")


# --- 收文登记 ---------------------------------------------------------------------------------------


def document_register_received(
    *,
    actor: AbstractBaseUser | None,
    unit: Unit,
    parsed: ParsedDocument,
    source: SourceFile,
    corrections: dict | None = None,
) -> Registration:
    """收文登记: record that `unit` received the document read from `source` (and what it encloses).

    Preconditions: the actor is a clerk of the unit, or None (the system); the unit is active; the
    text names a number, a title, a 文种 and a body, and an issuing unit that is in the directory.
    Side effects, in one transaction: the documents not yet in the system are created as issued
    documents of their issuing units, with their enclosures, digests and ImportedSource (the original
    file kept, with the clerk's `corrections` of what was read: documents.importing.corrections); a Dispatch
    and a Delivery to the unit; one DOCUMENT_REGISTERED audit event per created document and one
    for the delivery; on commit, the notification of the unit's clerks.
    Errors: NotAllowed; InvalidInput naming the file and the missing or unknown element; Conflict
    when a number in the system belongs to a document with another title. Nothing is written then.
    A unit that already has a delivery of the document gets it back, and nothing is written.
    """
    _require_role(actor, unit, (Role.CLERK,), pgettext("refused action", "登记收文"))
    if not unit.is_active:
        raise _fail(source, _("收文单位“%(unit)s”已停用。") % {"unit": unit.name})
    now = timezone.now()
    with transaction.atomic():
        created: list[Document] = []
        linked: list[Document] = []
        top = _register_issued(actor, unit, parsed, source, created, linked, now, corrections or {})
        if top.issuing_unit_id == unit.pk:
            raise _fail(source, _("%(number)s是%(unit)s自己印发的公文，不能登记为收文。") % _names(top, unit))
        existing = Delivery.objects.filter(document=top, unit=unit).order_by("id").first()
        if existing is not None:  # only a document already in the system can have a delivery
            return Registration(document=top, linked=linked, delivery=existing, already_registered=True)
        delivery = _deliver(actor, unit, top, parsed, source, now)
    return Registration(document=top, created=created, linked=linked, delivery=delivery)


def _names(document: Document, unit: Unit) -> dict:
    return {"number": document.number, "unit": unit.name}


def _register_issued(
    actor: AbstractBaseUser | None,
    unit: Unit,
    parsed: ParsedDocument,
    source: SourceFile,
    created: list[Document],
    linked: list[Document],
    now,
    corrections: dict | None = None,
) -> Document:
    """The document in the system with this number (linked), or a new issued one (created). The
    clerk's corrections are of the top document: the enclosed ones are registered as read."""
    number = _number_of(parsed, source)
    existing = Document.objects.filter(
        number_prefix=number.prefix, number_year=number.year, number_serial=number.serial
    ).first()
    if existing is not None:
        if _plain(existing.title) != _plain(parsed.title):
            raise Conflict(
                _(
                    "文件“%(file)s”：发文字号%(number)s在系统中是《%(stored)s》，与文中的《%(title)s》不一致，请核对发文字号。"
                )
                % {"file": source.name, "number": number, "stored": existing.title, "title": parsed.title}
            )
        linked.append(existing)
        return existing
    enclosed = [_register_issued(actor, unit, inner, source, created, linked, now) for inner in parsed.enclosed]
    issuing_unit = _issuing_unit(parsed, number, source)
    content = _content(parsed, source)
    document = Document(issuing_unit=issuing_unit, created_by=actor, number_prefix=number.prefix)
    for field in dataclasses.fields(content):
        setattr(document, field.name, getattr(content, field.name))
    document.issuer_mark = content.issuer_mark or issuing_unit.name
    if document.title == parsed.title:  # the breaks are offsets into the title as the text gave it
        document.title_breaks = parsed.title_breaks
    document.save()
    _enclose(document, enclosed)
    digest = document_content_digest(document, number=str(number))
    _reserve_serial(number.prefix, number.year, number.serial)
    try:
        with transaction.atomic():
            Document.objects.filter(pk=document.pk).update(
                number_year=number.year,
                number_serial=number.serial,
                digest=digest,
                state=Document.State.ISSUED,
                issued_at=now,
                issued_by=actor,
            )
    except IntegrityError:  # registered by someone else a moment ago
        raise Conflict(
            _("文件“%(file)s”：发文字号%(number)s刚刚已被登记，请重试。") % {"file": source.name, "number": number}
        ) from None
    document.refresh_from_db()
    document_search_index([document.pk])
    _keep_source(document, unit, parsed, source, actor, now, corrections or {})
    payload = {
        "number": str(number),
        "digest": digest,
        "issuing_unit_id": issuing_unit.pk,
        "encloses": [inner.number for inner in enclosed],
        "file": source.name,
        "sha256": source.sha256,
    }
    if corrections:
        payload["corrected"] = corrections
    audit_record(
        actor=actor,
        verb=AuditVerb.DOCUMENT_REGISTERED,
        object_type="Document",
        object_id=document.pk,
        unit=unit,
        document=document,
        payload=payload,
    )
    created.append(document)
    return document


def _number_of(parsed: ParsedDocument, source: SourceFile) -> DocumentNumber:
    if not parsed.number:
        raise _fail(source, _("第%(line)d行起的公文没有找到发文字号，无法登记。") % {"line": parsed.first_line})
    try:
        return parse_number(parsed.number)
    except InvalidInput as error:
        raise _fail(source, error.message) from None


def _issuing_unit(parsed: ParsedDocument, number: DocumentNumber, source: SourceFile) -> Unit:
    """The number's prefix names its unit in the directory; failing that, the organ's name does."""
    prefix = NumberPrefix.objects.filter(prefix=number.prefix).select_related("unit").first()
    if prefix is not None:
        return prefix.unit
    names = [name for name in (parsed.issuer, parsed.issuer_mark, parsed.signature_organ) if name]
    units = list(Unit.objects.filter(Q(name__in=names) | Q(short_name__in=names), is_active=True)[:2])
    if len(units) == 1:
        return units[0]
    if len(units) > 1:
        raise _fail(
            source,
            _("发文机关“%(name)s”对应多个单位，请先为它设置发文字号前缀%(prefix)s。")
            % {"name": parsed.issuer, "prefix": number.prefix},
        )
    raise _fail(
        source,
        _("发文机关“%(name)s”（发文字号前缀%(prefix)s）不在单位目录中，请管理员先添加该单位。")
        % {"name": parsed.issuer or parsed.signature_organ or "?", "prefix": number.prefix},
    )


def _content(parsed: ParsedDocument, source: SourceFile) -> DocumentContent:
    """The elements as DocumentContent, checked (a classified document is refused here)."""
    if not parsed.title:
        raise _fail(source, _("第%(line)d行起的公文没有找到标题。") % {"line": parsed.first_line})
    if not parsed.kind:
        raise _fail(source, _("《%(title)s》没有找到文种（标题应以文种结尾）。") % {"title": parsed.title})
    if not parsed.body:
        raise _fail(source, _("《%(title)s》没有找到正文。") % {"title": parsed.title})
    # Each element under its name in the text's result; one the text lacks takes its default.
    content = DocumentContent(**parsed.element_values())
    try:
        return content.cleaned()
    except InvalidInput as error:
        raise _fail(source, error.message) from None


def _enclose(cover: Document, enclosed: list[Document]) -> None:
    """The closure rows: the cover itself, then everything it encloses."""
    Enclosure.objects.create(cover=cover, enclosed=cover, depth=0)
    enclose(cover, enclosed)


def _keep_source(document, unit, parsed, source, actor, now, corrections: dict | None = None) -> None:
    """What the document was read from: the original file, its text, the findings, the OCR pages."""
    ImportedSource.objects.create(
        document=document,
        unit=unit,
        file_name=source.name[:255],
        sha256=source.sha256,
        text=parsed.text,
        first_line=parsed.first_line,
        warnings=[
            {"line": finding.line, "message": finding.message, "field": finding.field} for finding in parsed.findings
        ],
        original=source.kept() if source.data else "",
        size=len(source.data) if source.data else None,
        content_type=media_type(source.data, name=source.name) if source.data else "",
        scanned_pages=parsed.scanned_pages,
        corrections=corrections or {},
        imported_at=now,
        imported_by=actor,
    )


def _deliver(actor, unit: Unit, document: Document, parsed: ParsedDocument, source: SourceFile, now) -> Delivery:
    """A dispatch of one unit, routed at once; its clerks are notified by the usual task on commit.

    The deadlines are the policy's for the document's urgency, counted from the registration: the
    time the unit has it in the system, as 承办 time limits run from receipt.
    """
    named_in_cc = any(name in (unit.name, unit.short_name) for name in parsed.cc)
    deadlines = deadlines_for(document.urgency, now)
    dispatch = Dispatch.objects.create(
        document=document,
        issuing_unit_id=document.issuing_unit_id,
        issued_by=actor,
        queue=queue_for(document.urgency),
        main_unit_ids=[] if named_in_cc else [unit.pk],
        cc_unit_ids=[unit.pk] if named_in_cc else [],
        recipient_count=1,
        route_enqueued_at=now,
        route_attempts=1,
        routed_at=now,
        notify_enqueued_at=now,
        deadline_sign_for=deadlines.sign_for,
        deadline_complete=deadlines.complete,
    )
    delivery = Delivery.objects.create(
        dispatch=dispatch,
        document=document,
        unit=unit,
        role=RecipientRole.COPY if named_in_cc else RecipientRole.MAIN,
        urgency=document.urgency,
        issuing_unit_id=document.issuing_unit_id,
        is_cover=Enclosure.objects.filter(cover=document, depth__gt=0).exists(),
        created_at=now,
        deadline_sign_for=deadlines.sign_for,
        deadline_complete=deadlines.complete,
    )
    tally_created(dispatch.pk, 1)
    audit_record(
        actor=actor,
        verb=AuditVerb.DOCUMENT_REGISTERED,
        object_type="Delivery",
        object_id=delivery.pk,
        unit=unit,
        document=document,
        payload={
            "dispatch_id": dispatch.pk,
            "number": document.number,
            "file": source.name,
            "sha256": source.sha256,
            "deadline_sign_for": deadlines.sign_for.isoformat() if deadlines.sign_for else None,
            "deadline_complete": deadlines.complete.isoformat() if deadlines.complete else None,
        },
    )
    enqueue_notification(dispatch.pk, dispatch.queue)
    return delivery


# --- A draft from a file --------------------------------------------------------------------------


def document_register_draft(
    *, actor: AbstractBaseUser | None, unit: Unit, parsed: ParsedDocument, source: SourceFile
) -> Registration:
    """拟稿 from a file: a draft of `unit` with the elements of the text, enclosing what it forwards.

    Preconditions: the actor is a drafter or clerk of the unit, or None (the system). Every
    forwarded document that is in the system was delivered to the unit and signed for (a unit
    forwards only what it received). The number in the text is not used (numbers are allocated at
    issue); its prefix is, when it is one of the unit's.
    Side effects, in one transaction: the draft, its recipients (the 主送 and 抄送 names that match
    the unit's recipient groups or a unit), its enclosures and Forward link, its ImportedSource, and
    a DOCUMENT_DRAFTED audit event.
    Errors: NotAllowed; InvalidInput naming the file and the problem; Conflict for a forwarded
    document delivered to the unit but not signed for. Nothing is written on error.
    """
    _require_role(actor, unit, (Role.DRAFTER, Role.CLERK), pgettext("refused action", "拟稿"))
    content = _content(parsed, source)
    prefix = _draft_prefix(unit, parsed, source)
    main, main_unknown = _recipients(unit, parsed.main_recipients)
    cc, cc_unknown = _recipients(unit, parsed.cc)
    now = timezone.now()
    with transaction.atomic():
        forwarded, not_found, source_delivery = _forwarded_in_system(unit, parsed, source)
        document = Document(issuing_unit=unit, created_by=actor, number_prefix=prefix)
        for field in dataclasses.fields(content):
            setattr(document, field.name, getattr(content, field.name))
        document.issuer_mark = content.issuer_mark or unit.name
        document.signature_organ = content.signature_organ or unit.name
        document.save()
        document_search_index([document.pk])
        _enclose(document, forwarded)
        _store_recipients(document, main, cc)
        if source_delivery is not None:
            root, depth = forward_chain_position(source_delivery.document)
            Forward.objects.create(source_delivery=source_delivery, cover=document, chain_root=root, depth=depth)
        _keep_source(document, unit, parsed, source, actor, now)
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_DRAFTED,
            object_type="Document",
            object_id=document.pk,
            unit=unit,
            document=document,
            payload={
                "title": document.title,
                "kind": document.kind,
                "encloses": [inner.number for inner in forwarded],
                "file": source.name,
                "sha256": source.sha256,
            },
        )
    return Registration(
        document=document,
        created=[document],
        linked=forwarded,
        not_found=not_found,
        unresolved_recipients=[*main_unknown, *cc_unknown],
    )


def _draft_prefix(unit: Unit, parsed: ParsedDocument, source: SourceFile) -> str:
    printed = None
    if parsed.number:
        try:
            printed = parse_number(parsed.number).prefix
        except InvalidInput:
            printed = None
    if printed and NumberPrefix.objects.filter(unit=unit, prefix=printed).exists():
        return printed
    try:
        return _number_prefix(unit, None)
    except InvalidInput as error:
        raise _fail(source, error.message) from None


def _recipients(unit: Unit, names: list[str]) -> tuple[list[Unit | RecipientGroup], list[str]]:
    """Names as printed to the unit's recipient groups or to units; the names that match neither."""
    groups = {group.name: group for group in RecipientGroup.objects.filter(owner=unit, name__in=names)}
    units: dict[str, Unit] = {}
    for found in Unit.objects.filter(Q(name__in=names) | Q(short_name__in=names), is_active=True).exclude(pk=unit.pk):
        units.setdefault(found.name, found)
        units.setdefault(found.short_name, found)
    resolved, unknown = [], []
    for name in names:
        recipient = groups.get(name) or units.get(name)
        if recipient is None:
            unknown.append(name)
        elif recipient not in resolved:
            resolved.append(recipient)
    return resolved, unknown


def _forwarded_in_system(
    unit: Unit, parsed: ParsedDocument, source: SourceFile
) -> tuple[list[Document], list[str], Delivery | None]:
    """The forwarded documents the system has (each delivered to the unit), those it has not, and the
    signed delivery the first one came by (the draft's Forward link)."""
    found, not_found, first_delivery = [], [], None
    for forwarded in parsed.forwarded:
        document = None
        if forwarded.number:
            try:
                number = parse_number(forwarded.number)
            except InvalidInput:
                number = None
            if number is not None:
                document = Document.objects.filter(
                    number_prefix=number.prefix, number_year=number.year, number_serial=number.serial
                ).first()
        if document is None:
            not_found.append(forwarded.number or f"《{forwarded.title}》")
            continue
        delivery = _received_delivery(unit, document, source)
        if first_delivery is None:
            first_delivery = delivery
        # What was delivered is what is enclosed: the document itself, or the cover it came in.
        if delivery.document not in found:
            found.append(delivery.document)
    return found, not_found, first_delivery


def _received_delivery(unit: Unit, document: Document, source: SourceFile) -> Delivery:
    """The unit's delivery of the document, or else of a cover letter that encloses it."""
    delivery = Delivery.objects.filter(unit=unit, document=document).select_related("document").order_by("id").first()
    if delivery is None:
        covers = Enclosure.objects.filter(enclosed=document, depth__gt=0).values("cover_id")
        delivery = (
            Delivery.objects.filter(unit=unit, document_id__in=covers).select_related("document").order_by("id").first()
        )
    if delivery is None:
        raise _fail(
            source,
            _("%(number)s没有送达%(unit)s，不能转发（单位只能转发送达本单位的公文；纸质来文请先登记收文）。")
            % _names(document, unit),
        )
    if delivery.state not in Delivery.HELD_STATES:
        raise Conflict(
            _("文件“%(file)s”：%(number)s尚未签收（当前状态：%(state)s），签收后才能转发。")
            % {"file": source.name, "number": document.number, "state": delivery.get_state_display()}
        )
    return delivery
