"""What a recipient unit does with a delivery: open it (read tracking) and sign for it (签收)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document
from units.errors import Damaged, DomainError, NotAllowed, NotFound, Withdrawn
from units.models import Role, Unit
from units.selectors import unit_list_for_member
from units.sql import role_params
from workflow import sql
from workflow.audit import audit_record
from workflow.models import AuditVerb, Delivery, Receipt
from workflow.receipt_audit import signed_at_text
from workflow.services.rules import DeliveryAction, Standing, delivery_refusal, deputy_payload, deputy_principal
from workflow.tally import tally_signed


def delivery_open(*, actor: AbstractBaseUser, delivery: Delivery) -> bool:
    """Record the first time a member of the recipient unit opened the delivery.

    Returns True when this was the first opening (and an audit event was written). Opening by
    anyone else (the issuer, an auditor), or opening a withdrawn delivery (which shows only its
    stub), records nothing.
    """
    if not unit_list_for_member(actor).filter(pk=delivery.unit_id).exists():
        return False
    with transaction.atomic():
        now = timezone.now()
        first = (
            Delivery.objects.filter(pk=delivery.pk, read_at__isnull=True)
            .exclude(state__in=Delivery.WITHDRAWN_STATES)
            .update(read_at=now, read_by=actor)
        )
        if first:
            delivery.read_at, delivery.read_by = now, actor
            audit_record(
                actor=actor,
                verb=AuditVerb.DELIVERY_READ,
                object_type="Delivery",
                object_id=delivery.pk,
                unit=delivery.unit_id,
                document=delivery.document_id,
            )
    return bool(first)


# 签收 is the one write a clerk's client repeats (retries, double clicks) and the one a whole
# system's clerks do at once after a national notice: its statements are written out
# (workflow/sql.py), not built by the ORM, which spent most of a sign-for composing them (make bench,
# receipts). The rules stay those of the models: the clerk check is units.sql's role rule, the one of
# `unit_list_with_role`; the refusals are workflow.services.rules'.


def _document(signing: sql.Signing) -> Document:
    """The document's number, as the read found it (no query)."""
    return Document.from_db(
        connection.alias,
        ["id", "number_prefix", "number_year", "number_serial"],
        [signing.document_id, signing.number_prefix, signing.number_year, signing.number_serial],
    )


def _refusal(signing: sql.Signing) -> DomainError | None:
    """The rule of workflow.services.rules for 签收, on what the read found: no query."""
    db = connection.alias
    document = _document(signing)
    delivery = Delivery.from_db(
        db,
        ["id", "unit_id", "document_id", "state"],
        [signing.delivery_id, signing.unit_id, signing.document_id, signing.state],
    )
    delivery.unit = Unit.from_db(db, ["id", "name"], [signing.unit_id, signing.unit_name])
    delivery.document = document
    standing = Standing(recipient=frozenset({Role.CLERK}) if signing.is_clerk else frozenset())
    return delivery_refusal(DeliveryAction.SIGN_FOR, delivery, standing)


def _receipt(signing: sql.Signing, *, receipt_id: int, signed_by_id: int, signed_at, content_digest: str) -> Receipt:
    """The receipt, with its unit's name and its document's number loaded (as callers show them)."""
    db = connection.alias
    document = Document.from_db(
        db,
        ["id", "number_prefix", "number_year", "number_serial", "digest"],
        [signing.document_id, signing.number_prefix, signing.number_year, signing.number_serial, signing.digest],
    )
    unit = Unit.from_db(db, ["id", "name"], [signing.unit_id, signing.unit_name])
    # Not its state: read before signing, it would be stale (a deferred field loads when asked).
    delivery = Delivery.from_db(
        db, ["id", "document_id", "unit_id"], [signing.delivery_id, signing.document_id, signing.unit_id]
    )
    delivery.document = document
    receipt = Receipt.from_db(
        db,
        ["id", "delivery_id", "unit_id", "signed_by_id", "signed_at", "content_digest"],
        [receipt_id, signing.delivery_id, signing.unit_id, signed_by_id, signed_at, content_digest],
    )
    receipt.delivery, receipt.unit = delivery, unit
    return receipt


def _existing_receipt(signing: sql.Signing) -> Receipt | None:
    if signing.receipt_id is None:
        return None
    return _receipt(
        signing,
        receipt_id=signing.receipt_id,
        signed_by_id=signing.signed_by_id,
        signed_at=_from_db(Receipt, "signed_at", signing.signed_at),
        content_digest=signing.content_digest,
    )


def _from_db(model, field_name: str, value):
    """A value read by a hand-written statement, converted as the ORM would (SQLite's datetimes)."""
    field = model._meta.get_field(field_name)
    column = field.get_col(model._meta.db_table)
    for convert in [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]:
        value = convert(value, column, connection)
    return value


# Ids are 64-bit: a larger number (a URL accepts any) names no delivery, and SQLite cannot bind it.
_MAX_ID = 2**63 - 1


def _read_signing(actor: AbstractBaseUser, delivery_id: int) -> sql.Signing:
    signing = None
    if 0 < delivery_id <= _MAX_ID:
        with connection.cursor() as cursor:
            signing = sql.delivery_signing().one(cursor, {"delivery_id": delivery_id, **role_params(actor, Role.CLERK)})
    if signing is None:
        raise NotFound(_("送达记录不存在或无权查看。"))
    return signing


def _refuse_or_receipt(signing: sql.Signing) -> Receipt | None:
    """The receipt already written, or None when this sign-for may go ahead; raises the refusal
    otherwise. A withdrawn delivery is refused even with a receipt: its unit has lost it."""
    refusal = _refusal(signing)
    if isinstance(refusal, NotAllowed):
        raise refusal
    if signing.state in Delivery.WITHDRAWN_STATES:
        raise Withdrawn(refusal.message)
    existing = _existing_receipt(signing)
    if existing is not None:
        return existing
    if signing.state in Delivery.HELD_STATES:
        # Signed for, and yet no receipt: the row was deleted behind the application's back (the
        # database refuses it otherwise). Say so, rather than answer as if it had never been signed.
        raise Damaged(
            _(
                "送达记录已损坏：%(unit)s对%(number)s的送达（编号 %(delivery)s）已签收，但回执缺失。"
                "请联系系统管理员核查（verify_audit）。"
            )
            % {"unit": signing.unit_name, "number": _document(signing).number, "delivery": signing.delivery_id}
        )
    if refusal is not None:
        raise refusal
    return None


def _as_deputy(signing: sql.Signing, principal: AbstractBaseUser | None) -> sql.Signing:
    """The read as a deputy of a clerk sees it: they sign for the unit as its clerk would."""
    return signing._replace(is_clerk=1) if principal is not None else signing


def delivery_sign_for(*, actor: AbstractBaseUser, delivery_id: int) -> Receipt:
    """签收: a clerk of the recipient unit acknowledges receipt of exactly this content.

    The receipt records who, when, and the digest of the document signed for. Signing again, or
    concurrently, returns the one receipt: the move out of PENDING is a conditional UPDATE, so of
    concurrent signers exactly one writes, and the others read its receipt once it has committed.
    代理签收: a deputy of a clerk of the unit (an active Delegation on the unit) signs for it too;
    the receipt names the deputy, who signed, and the event's payload the clerk they signed for
    (`deputy_for`). The delegation is locked until the sign-for commits, so a withdrawal either
    comes first (and the sign-for is refused) or after.
    Errors: NotFound (no such delivery), NotAllowed (not a clerk of the recipient unit, nor their
    deputy), Conflict (the delivery was recalled or returned), Damaged (signed for, and its receipt
    is gone). Nothing is written on error.
    """
    # A repeat (a client retrying, a second click) is answered by this one read, without a
    # transaction or a lock: a receipt, once written, never changes.
    signing = _read_signing(actor, delivery_id)
    principal = None
    if not signing.is_clerk and signing.state == Delivery.State.PENDING:
        # Not the unit's clerk: perhaps their deputy (one query more, never asked of a clerk).
        principal = deputy_principal(actor, signing.unit_id, (Role.CLERK,))
    existing = _refuse_or_receipt(_as_deputy(signing, principal))
    if existing is not None:
        return existing
    with transaction.atomic(), connection.cursor() as cursor:
        if principal is not None:
            principal = deputy_principal(actor, signing.unit_id, (Role.CLERK,), lock=True)
            if principal is None:  # withdrawn, or over, since the read
                _refuse_or_receipt(signing)
        now = timezone.now()
        at = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(
            sql.delivery_sign(),
            {
                "state": Delivery.State.SIGNED,
                "signed_at": at,
                "reader_id": actor.pk,
                "delivery_id": delivery_id,
                # A deputy's sign-for passes the clerk rule of the statement as their principal's.
                **role_params(principal or actor, Role.CLERK),
            },
        )
        if cursor.rowcount != 1:
            # Signed by someone else while this one waited for the row (their receipt has committed
            # now, and this statement sees it), recalled or returned meanwhile, or no longer a clerk.
            signing = _read_signing(actor, delivery_id)
            existing = _refuse_or_receipt(_as_deputy(signing, principal))
            if existing is not None:
                return existing
            raise RuntimeError(f"delivery {delivery_id}: sign-for neither moved nor refused")
        tally_signed(delivery_id)
        receipt = sql.receipt_insert().one(
            cursor,
            {
                "delivery_id": delivery_id,
                "unit_id": signing.unit_id,
                "signed_by_id": actor.pk,
                "signed_at": at,
                "content_digest": signing.digest,
            },
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_SIGNED,
            object_type="Delivery",
            object_id=delivery_id,
            unit=signing.unit_id,
            document=signing.document_id,
            # The time too, so that verify_audit can hold the receipt to it (workflow.receipt_audit).
            payload={
                "receipt_id": receipt.id,
                "content_digest": signing.digest,
                "signed_at": signed_at_text(now),
                **deputy_payload(principal),
            },
        )
    return _receipt(signing, receipt_id=receipt.id, signed_by_id=actor.pk, signed_at=now, content_digest=signing.digest)
