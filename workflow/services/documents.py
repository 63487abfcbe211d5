"""A document's life before it moves: draft, edit, attach, sign off, issue; and forward.

Each service runs in one transaction, takes the acting person explicitly, checks what they may do
for the unit (a role on the unit) and the document's state, and records its audit event.
"""

import datetime
from collections.abc import Sequence
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from guardian.shortcuts import assign_perm

from documents.attachments import check_attachment
from documents.content import DocumentContent
from documents.digest import document_content_digest
from documents.elements import ELEMENTS, Fallback
from documents.models import (
    Attachment,
    Document,
    DocumentRecipient,
    DocumentUserObjectPermission,
    Enclosure,
    Kind,
    NumberSeries,
    RecipientRole,
    Urgency,
)
from documents.numbering import format_number
from documents.search_index import document_search_index
from exchange.outgoing import consignments_create
from units.errors import InvalidInput
from units.models import NumberPrefix, RecipientGroup, Role, Unit
from workflow.audit import audit_record
from workflow.deadlines import CALENDAR_ZONE, Deadlines, deadlines_for, local_text
from workflow.enqueue import enqueue_routing, queue_for
from workflow.models import AuditVerb, Delivery, DeliveryReturn, Dispatch, Forward
from workflow.services.rules import (
    DeliveryAction,
    DocumentAction,
    require_delivery_action,
    require_document_action,
    require_role,
)

Recipient = Unit | RecipientGroup

FORWARD_BODY = "现将《{title}》（{number}）转发给你们，请认真组织学习并抓好贯彻落实。"


def _check_recipients(unit: Unit, recipients: Sequence[Recipient]) -> None:
    for recipient in recipients:
        if isinstance(recipient, RecipientGroup):
            if recipient.owner_id != unit.pk:
                raise InvalidInput(
                    _("收文对象组“%(name)s”不属于%(unit)s。") % {"name": recipient.name, "unit": unit.name}
                )
        elif isinstance(recipient, Unit):
            if not recipient.is_active or recipient.pk is None:
                raise InvalidInput(_("收文单位“%(name)s”已停用或不存在。") % {"name": recipient.name})
            if recipient.pk == unit.pk:
                raise InvalidInput(_("不能向本单位发文。"))
            if recipient.kind == Unit.Kind.INNER_DEPARTMENT:
                # A department receives nothing from outside: its work comes from its unit's 批办.
                raise InvalidInput(_("内设机构不能作为收文单位：%(names)s。") % {"names": recipient.name})
        else:
            raise InvalidInput(_("收文对象“%(value)s”既不是单位也不是收文对象组。") % {"value": recipient})


def _recipients_text(recipients: Sequence[Recipient]) -> str:
    names = [r.name if isinstance(r, RecipientGroup) else r.short_name for r in recipients]
    return "、".join(names) + "：" if names else ""


def _store_recipients(document: Document, main: Sequence[Recipient], cc: Sequence[Recipient]) -> None:
    DocumentRecipient.objects.filter(document=document).delete()
    DocumentRecipient.objects.bulk_create(
        DocumentRecipient(
            document=document,
            role=role,
            position=position,
            unit=recipient if isinstance(recipient, Unit) else None,
            group=recipient if isinstance(recipient, RecipientGroup) else None,
        )
        for role, recipients in ((RecipientRole.MAIN, main), (RecipientRole.COPY, cc))
        for position, recipient in enumerate(dict.fromkeys(recipients))
    )


def _number_prefix(unit: Unit, prefix: str | None) -> str:
    prefixes = NumberPrefix.objects.filter(unit=unit)
    chosen = prefixes.filter(prefix=prefix).first() if prefix else prefixes.filter(is_default=True).first()
    if chosen is None:
        if prefix:
            raise InvalidInput(_("发文字号前缀“%(prefix)s”不属于%(unit)s。") % {"prefix": prefix, "unit": unit.name})
        raise InvalidInput(_("%(unit)s还没有发文字号前缀，请管理员先设置。") % {"unit": unit.name})
    return chosen.prefix


def _apply_content(document: Document, content: DocumentContent, unit: Unit, main: Sequence[Recipient], cc) -> None:
    """Every element onto the draft; one left empty that has a fallback is derived from the draft."""
    fallbacks = {
        Fallback.ISSUING_UNIT: unit.name,
        Fallback.MAIN_RECIPIENTS: _recipients_text(main),
        Fallback.CC_RECIPIENTS: _recipients_text(cc).rstrip("："),
    }
    for element in ELEMENTS:
        value = getattr(content, element.name)
        if element.fallback is not None and not value:
            value = fallbacks[element.fallback]
        setattr(document, element.name, value)


def _check_urgency(content: DocumentContent) -> None:
    """A drafter writes a level the document's kind carries (Urgency.carried_by). What arrives from
    outside is registered as it was written; only our own documents are held to it."""
    if Urgency.carried_by(content.kind, content.urgency) != content.urgency:
        raise InvalidInput(
            _("%(urgency)s只用于明传电报；%(kind)s的紧急程度为特急或加急。")
            % {"urgency": content.urgency, "kind": content.kind}
        )


def _create_draft(
    actor: AbstractBaseUser,
    unit: Unit,
    content: DocumentContent,
    main: Sequence[Recipient],
    cc: Sequence[Recipient],
    number_prefix: str | None,
) -> Document:
    document = Document(issuing_unit=unit, created_by=actor, number_prefix=_number_prefix(unit, number_prefix))
    _apply_content(document, content, unit, main, cc)
    document.save()
    Enclosure.objects.create(cover=document, enclosed=document, depth=0)
    _store_recipients(document, main, cc)
    document_search_index([document.pk])
    return document


def document_draft(
    *,
    actor: AbstractBaseUser,
    unit: Unit,
    content: DocumentContent,
    main_recipients: Sequence[Recipient] = (),
    cc_recipients: Sequence[Recipient] = (),
    number_prefix: str | None = None,
) -> Document:
    """Draft a document of `unit` (拟稿).

    Preconditions: the actor is a drafter or clerk of the unit; the recipients are active units or
    the unit's own recipient groups; the prefix is one of the unit's (default: its default prefix).
    Errors: NotAllowed, InvalidInput naming the bad element. Nothing is written on error.
    """
    require_role(actor, unit, Role.DRAFTER, Role.CLERK, action=pgettext("refused action", "拟稿"))
    content = content.cleaned()
    _check_urgency(content)
    _check_recipients(unit, [*main_recipients, *cc_recipients])
    with transaction.atomic():
        document = _create_draft(actor, unit, content, main_recipients, cc_recipients, number_prefix)
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_DRAFTED,
            object_type="Document",
            object_id=document.pk,
            unit=unit,
            document=document,
            payload={"title": document.title, "kind": document.kind},
        )
    return document


def document_update(
    *,
    actor: AbstractBaseUser,
    document: Document,
    content: DocumentContent,
    main_recipients: Sequence[Recipient] | None = None,
    cc_recipients: Sequence[Recipient] | None = None,
) -> Document:
    """Rewrite a draft's elements (and, when given, its recipients). Only drafts change."""
    unit = document.issuing_unit
    content = content.cleaned()
    _check_urgency(content)
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=document.pk)
        require_document_action(actor, DocumentAction.EDIT, document)
        if main_recipients is None or cc_recipients is None:
            current = DocumentRecipient.objects.filter(document=document).select_related("unit", "group")
            stored = {role: [r.unit or r.group for r in current if r.role == role] for role in RecipientRole.values}
            main_recipients = stored[RecipientRole.MAIN] if main_recipients is None else main_recipients
            cc_recipients = stored[RecipientRole.COPY] if cc_recipients is None else cc_recipients
        _check_recipients(unit, [*main_recipients, *cc_recipients])
        _apply_content(document, content, unit, main_recipients, cc_recipients)
        document.save()
        _store_recipients(document, main_recipients, cc_recipients)
        document_search_index([document.pk])
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_UPDATED,
            object_type="Document",
            object_id=document.pk,
            unit=unit,
            document=document,
            payload={"title": document.title},
        )
    return document


def attachment_add(*, actor: AbstractBaseUser, document: Document, name: str, stream: BinaryIO) -> Attachment:
    """Attach a file to a draft. Refuses a wrong type, an oversized or an empty file (InvalidInput)."""
    require_role(actor, document.issuing_unit, Role.DRAFTER, Role.CLERK, action=pgettext("refused action", "添加附件"))
    checked = check_attachment(name, stream)
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=document.pk)
        require_document_action(actor, DocumentAction.ATTACH, document)
        position = document.attachments.count() + 1
        attachment = Attachment(
            document=document,
            position=position,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        attachment.file.save(checked.sha256, File(stream), save=False)
        attachment.save()
        document_search_index([document.pk])
        audit_record(
            actor=actor,
            verb=AuditVerb.ATTACHMENT_ADDED,
            object_type="Attachment",
            object_id=attachment.pk,
            unit=document.issuing_unit_id,
            document=document,
            payload={"name": checked.name, "size": checked.size, "sha256": checked.sha256},
        )
    return attachment


def document_sign_off(*, actor: AbstractBaseUser, document: Document, dated: bool = True) -> Document:
    """签发: a signer of the issuing unit approves the draft for issue.

    A draft without a 成文日期 gets the day of signing off (Asia/Shanghai): 条例 第九条 dates a
    document by its 签发, and GB/T 9704 prints the date under the 署名. A date the drafter set stays.
    `dated=False` leaves a draft without a date undated: a record of a document whose date is not
    known (the demo's replay of the seed, whose cover letter shows none) prints no date rather than
    an invented one.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=document.pk)
        require_document_action(actor, DocumentAction.SIGN_OFF, document)
        now = timezone.now()
        written_on = document.written_on or (now.astimezone(CALENDAR_ZONE).date() if dated else None)
        Document.objects.filter(pk=document.pk).update(
            state=Document.State.SIGNED_OFF, signed_off_by=actor, signed_off_at=now, written_on=written_on
        )
        document.state, document.signed_off_by, document.signed_off_at = Document.State.SIGNED_OFF, actor, now
        document.written_on = written_on
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_SIGNED_OFF,
            object_type="Document",
            object_id=document.pk,
            unit=document.issuing_unit,
            document=document,
            payload={"written_on": written_on.isoformat() if written_on else None},
        )
    return document


def _resolve_recipients(document: Document) -> tuple[list[int], list[int]]:
    """Groups to units, at issue time: (主送 unit ids, 抄送 unit ids), sorted.

    A unit named in both is 主送 only; the issuing unit never sends to itself. Three queries whatever
    the number of units. Errors: InvalidInput naming a unit that has been deactivated since drafting.
    """
    chosen = list(DocumentRecipient.objects.filter(document=document).values_list("role", "unit_id", "group_id"))
    group_ids = {group_id for _role, _unit, group_id in chosen if group_id}
    members: dict[int, set[int]] = {}
    for group_id, unit_id in RecipientGroup.members.through.objects.filter(
        recipientgroup_id__in=group_ids, unit__is_active=True
    ).values_list("recipientgroup_id", "unit_id"):
        members.setdefault(group_id, set()).add(unit_id)
    direct_ids = {unit_id for _role, unit_id, _group in chosen if unit_id}
    inactive = Unit.objects.filter(pk__in=direct_ids, is_active=False).values_list("name", flat=True).first()
    if inactive:
        raise InvalidInput(_("收文单位“%(name)s”已停用。") % {"name": inactive})
    main: set[int] = set()
    cc: set[int] = set()
    for role, unit_id, group_id in chosen:
        (main if role == RecipientRole.MAIN else cc).update({unit_id} if unit_id else members.get(group_id, set()))
    cc -= main
    main.discard(document.issuing_unit_id)
    cc.discard(document.issuing_unit_id)
    return sorted(main), sorted(cc)


def _allocate_serial(prefix: str, year: int) -> int:
    """The next serial of (prefix, year), under a row lock held until the issuing transaction ends.

    Gapless: a rolled-back issue rolls its increment back too. Unique: concurrent issuers queue on
    the lock.
    """
    series = _series(NumberPrefix.objects.get(prefix=prefix), year).select_for_update().get()
    series.last_serial += 1
    series.save(update_fields=["last_serial"])
    return series.last_serial


def _reserve_serial(prefix: str, year: int, serial: int) -> None:
    """A number issued outside the system (a registered paper document) is in use: when its prefix is
    one of the directory's, its series moves up to it, never down, so no issue hands it out again.

    Takes the series' row lock (as `_allocate_serial` does) until the transaction ends.
    """
    number_prefix = NumberPrefix.objects.filter(prefix=prefix).first()
    if number_prefix is not None:
        _series(number_prefix, year).filter(last_serial__lt=serial).update(last_serial=serial)


def _series(number_prefix: NumberPrefix, year: int) -> QuerySet[NumberSeries]:
    """The (prefix, year) series' row, created at 0 if it is the year's first number (never twice:
    concurrent creators skip the conflict)."""
    NumberSeries.objects.bulk_create([NumberSeries(prefix=number_prefix, year=year)], ignore_conflicts=True)
    return NumberSeries.objects.filter(prefix=number_prefix, year=year)


def _issue_deadlines(document: Document, now: datetime.datetime, complete_by: datetime.datetime | None) -> Deadlines:
    """The deadlines the recipients get: the policy's, or earlier ones the issuer sets, never later
    than what a forwarding unit itself received.

    The policy of the urgency gives both clocks; a cover letter (转发) runs on the clocks of the most
    urgent of its own level, the forwarded document's and the chain's original's, so that a forward
    of a 特提 telegram, a 通知 printed 特急 (Urgency.carried_by), is still signed for on the 特提
    clock at every level. `complete_by` may
    bring the completion deadline forward, never move it back. A cover letter caps the completion
    deadline at the one its unit received: silently when it comes from the policy, with an error
    when the issuer asked for a later one. The sign-for deadline never falls after the completion
    deadline.
    """
    received, *enclosed_urgencies = (
        Forward.objects.filter(cover=document)
        .values_list("source_delivery__deadline_complete", "source_delivery__document__urgency", "chain_root__urgency")
        .first()
    ) or (None,)
    policy = deadlines_for(min((document.urgency, *enclosed_urgencies), key=Urgency.rank), now)
    sign_for, complete = policy.sign_for, policy.complete
    if complete_by is not None:
        if complete_by <= now:
            raise InvalidInput(_("办结时限%(deadline)s已经过去。") % {"deadline": local_text(complete_by)})
        if complete is not None and complete_by > complete:
            raise InvalidInput(
                _("办结时限%(asked)s晚于%(urgency)s公文规定的办结时限%(policy)s，只能提前，不能推后。")
                % {"asked": local_text(complete_by), "urgency": document.urgency, "policy": local_text(complete)}
            )
        complete = complete_by
    if received is not None and (complete is None or complete > received):
        if complete_by is not None:
            raise InvalidInput(
                _("转发给下级的办结时限%(asked)s不能晚于本单位收到的办结时限%(received)s。")
                % {"asked": local_text(complete_by), "received": local_text(received)}
            )
        complete = received
    if sign_for is not None and complete is not None:
        sign_for = min(sign_for, complete)
    return Deadlines(sign_for, complete)


def _answered_return(document: Document, answers_return_id: int | None) -> DeliveryReturn | None:
    if answers_return_id is None:
        return None
    answered = (
        DeliveryReturn.objects.filter(pk=answers_return_id, delivery__document__issuing_unit=document.issuing_unit_id)
        .select_related("delivery__document")
        .first()
    )
    if answered is None:
        raise InvalidInput(_("退文记录 %(id)s 不存在，或不是退给本单位的。") % {"id": answers_return_id})
    return answered


def document_issue(
    *,
    actor: AbstractBaseUser,
    document: Document,
    number_year: int | None = None,
    complete_by: datetime.datetime | None = None,
    answers_return_id: int | None = None,
) -> Dispatch:
    """印发 and 分发: allocate the number, fix the digest, record the dispatch with its resolved set.

    Preconditions: the document is signed off; the actor is a clerk of the issuing unit; at least one
    active recipient. One transaction; on commit the routing is enqueued on the queue of the
    document's urgency. The number's year is `number_year` when given (registering a series kept on
    paper, as the demo does), else that of the 成文日期, else this year.
    Deadlines are fixed here (`_issue_deadlines`); `complete_by` sets an earlier completion deadline.
    `answers_return_id` names the 退文 this corrected document answers (a return to this unit).
    Errors: NotAllowed, Conflict (not signed off, already issued), InvalidInput (no recipients, the
    number already taken, a deadline later than allowed, a return of another unit). Nothing is
    written on error.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=document.pk)
        require_document_action(actor, DocumentAction.ISSUE, document)
        main, cc = _resolve_recipients(document)
        if not main and not cc:
            raise InvalidInput(_("公文“%(title)s”没有收文单位。") % {"title": document.title})
        year = number_year or (document.written_on.year if document.written_on else timezone.localdate().year)
        if not 1949 <= year <= timezone.localdate().year:
            raise InvalidInput(_("发文字号年份 %(year)d 不合理。") % {"year": year})
        serial = _allocate_serial(document.number_prefix, year)
        number = format_number(document.number_prefix, year, serial)
        digest = document_content_digest(document, number=number)
        now = timezone.now()
        deadlines = _issue_deadlines(document, now, complete_by)
        answered = _answered_return(document, answers_return_id)
        try:
            with transaction.atomic():
                Document.objects.filter(pk=document.pk).update(
                    number_year=year,
                    number_serial=serial,
                    digest=digest,
                    state=Document.State.ISSUED,
                    issued_at=now,
                    issued_by=actor,
                )
        except IntegrityError:
            raise InvalidInput(_("发文字号%(number)s已经存在，请核对发文字号序列。") % {"number": number}) from None
        document.number_year, document.number_serial, document.digest = year, serial, digest
        document.state, document.issued_at, document.issued_by = Document.State.ISSUED, now, actor
        # Found by its number from the moment it is issued: the index is written with the issue.
        document_search_index([document.pk])
        dispatch = Dispatch.objects.create(
            document=document,
            issuing_unit_id=document.issuing_unit_id,
            issued_by=actor,
            queue=queue_for(document.urgency),
            main_unit_ids=main,
            cc_unit_ids=cc,
            recipient_count=len(main) + len(cc),
            route_enqueued_at=now,
            deadline_sign_for=deadlines.sign_for,
            deadline_complete=deadlines.complete,
            answers_return=answered,
        )
        # Units another installation hosts get theirs through the exchange, one consignment a peer.
        consignments_create(dispatch, document, main, cc)
        payload = {"number": number, "digest": digest, "dispatch_id": dispatch.pk, "main": len(main), "cc": len(cc)}
        payload["deadline_sign_for"] = deadlines.sign_for.isoformat() if deadlines.sign_for else None
        payload["deadline_complete"] = deadlines.complete.isoformat() if deadlines.complete else None
        if answered is not None:
            payload["answers_return_id"] = answered.pk
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_ISSUED,
            object_type="Document",
            object_id=document.pk,
            unit=document.issuing_unit,
            document=document,
            payload=payload,
        )
        enqueue_routing(dispatch.pk, dispatch.queue)
    return dispatch


def enclose(cover: Document, enclosed: list[Document]) -> None:
    """The closure rows below a new cover: each enclosed document at depth 1, in order, and all they
    enclose one level deeper (each document once, at its shallowest depth). Two queries."""
    rows, seen = [], {cover.pk}
    for position, document in enumerate(enclosed):
        if document.pk not in seen:
            rows.append(Enclosure(cover=cover, enclosed=document, depth=1, position=position))
            seen.add(document.pk)
    below = (
        Enclosure.objects.filter(cover__in=enclosed, depth__gt=0).order_by("depth").values_list("enclosed_id", "depth")
    )
    for enclosed_id, depth in below:
        if enclosed_id not in seen:
            rows.append(Enclosure(cover=cover, enclosed_id=enclosed_id, depth=depth + 1))
            seen.add(enclosed_id)
    Enclosure.objects.bulk_create(rows)


def forward_chain_position(received: Document) -> tuple[Document, int]:
    """Where a forward of `received` stands: the chain's root document and the forward's depth."""
    upstream = Forward.objects.filter(cover=received).select_related("chain_root").first()
    return (upstream.chain_root, upstream.depth + 1) if upstream else (received, 1)


def forward_title(unit: Unit, original_title: str) -> str:
    """发文机关 + 转发 + the original's title (+ 的通知): intermediate 转发 hops are dropped."""
    return f"{unit.name}转发{original_title}" + ("" if original_title.endswith("通知") else "的通知")


def document_forward(
    *,
    actor: AbstractBaseUser,
    delivery: Delivery,
    main_recipients: Sequence[Recipient] = (),
    cc_recipients: Sequence[Recipient] = (),
    urgency: str | None = None,
    number_prefix: str | None = None,
    body: str | None = None,
) -> Document:
    """转发: draft a cover letter of the receiving unit that encloses the delivered document unchanged.

    Preconditions: the actor is a clerk of the delivery's unit; the delivery is signed for (and not
    returned or recalled). The cover is a 通知 titled by `forward_title`, its body `body` or else
    FORWARD_BODY; it then goes through sign-off and issue like any draft.
    Errors: NotAllowed, Conflict (not signed for), InvalidInput (recipients).
    """
    unit = delivery.unit
    _check_recipients(unit, [*main_recipients, *cc_recipients])
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("document__issuing_unit", "unit")
            .get(pk=delivery.pk)
        )
        require_delivery_action(actor, DeliveryAction.FORWARD, delivery)
        received = delivery.document
        root, depth = forward_chain_position(received)
        content = DocumentContent(
            kind=Kind.NOTICE,
            title=forward_title(unit, root.title),
            body=body or FORWARD_BODY.format(title=received.title, number=received.number),
            urgency=urgency or Urgency.carried_by(Kind.NOTICE, received.urgency),
            classification=received.classification,
        ).cleaned()
        _check_urgency(content)
        cover = _create_draft(actor, unit, content, main_recipients, cc_recipients, number_prefix)
        enclose(cover, [received])
        Forward.objects.create(source_delivery=delivery, cover=cover, chain_root=root, depth=depth)
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_FORWARDED,
            object_type="Document",
            object_id=cover.pk,
            unit=unit,
            document=cover,
            payload={"delivery_id": delivery.pk, "encloses": received.number, "encloses_digest": received.digest},
        )
    return cover


def document_share(*, actor: AbstractBaseUser, document: Document, user: AbstractBaseUser) -> bool:
    """Let one person see one issued document beyond its deliveries (an exception, on the record).

    Precondition: the actor is a signer of the issuing unit. A guardian object permission on the
    document, which the visibility query honours. Returns False when it was already shared.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("issuing_unit").get(pk=document.pk)
        require_document_action(actor, DocumentAction.SHARE, document)
        if DocumentUserObjectPermission.objects.filter(
            content_object=document, user=user, permission__codename="view_document"
        ).exists():
            return False
        assign_perm("documents.view_document", user, document)
        audit_record(
            actor=actor,
            verb=AuditVerb.DOCUMENT_SHARED,
            object_type="Document",
            object_id=document.pk,
            unit=document.issuing_unit_id,
            document=document,
            payload={"user_id": user.pk, "username": user.get_username()},
        )
    return True
