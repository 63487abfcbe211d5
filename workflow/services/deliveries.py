"""What a recipient unit does with a delivery: open it (read tracking) and sign for it (签收)."""

import datetime
import functools
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document
from units.errors import DomainError, NotAllowed, NotFound, Withdrawn
from units.models import Role, Unit
from units.selectors import unit_list_for_member, unit_role_condition_sql
from workflow.audit import audit_record
from workflow.models import AuditVerb, Delivery, Receipt
from workflow.services.rules import DeliveryAction, Standing, delivery_refusal
from workflow.transitions import sources


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
# system's clerks do at once after a national notice: its statements are written out, not built by
# the ORM, which spent most of a sign-for composing them (make bench, receipts). The rules stay
# those of the models: the clerk check is `unit_role_condition_sql`, the one of `unit_list_with_role`.


@functools.cache
def _signing_sql() -> str:
    """The delivery as signing sees it: its state, unit, document number and digest, its receipt if
    any, and (last column) whether the actor is a clerk of its unit. Parameters: the clerk check's,
    then the delivery's id."""
    return (
        "SELECT d.id, d.document_id, d.unit_id, d.state, u.name, doc.number_prefix, doc.number_year, "
        "doc.number_serial, doc.digest, r.id, r.signed_by_id, r.signed_at, r.content_digest, "
        "CASE WHEN {is_clerk} THEN 1 ELSE 0 END "
        f"FROM {Delivery._meta.db_table} d "
        f"JOIN {Unit._meta.db_table} u ON u.id = d.unit_id "
        f"JOIN {Document._meta.db_table} doc ON doc.id = d.document_id "
        f"LEFT JOIN {Receipt._meta.db_table} r ON r.delivery_id = d.id "
        "WHERE d.id = %s"
    )


@functools.cache
def _sign_sql() -> tuple[str, str]:
    """The two writes of a sign-for: the move to SIGNED (only from the states the transition table
    allows, only by a clerk: the row's lock decides between concurrent signers) and the receipt."""
    allowed = ", ".join(f"'{state}'" for state in sources(Delivery.State.SIGNED))  # the table's own constants
    update = (
        f"UPDATE {Delivery._meta.db_table} SET state = %s, signed_at = %s, "
        "read_at = COALESCE(read_at, %s), read_by_id = COALESCE(read_by_id, %s) "
        f"WHERE id = %s AND state IN ({allowed}) AND {{is_clerk}}"
    )
    insert = (
        f"INSERT INTO {Receipt._meta.db_table} (delivery_id, unit_id, signed_by_id, signed_at, content_digest) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id"
    )
    return update, insert


@dataclass(frozen=True)
class _Signing:
    """One row of `_signing_sql`."""

    delivery_id: int
    document_id: int
    unit_id: int
    state: str
    unit_name: str
    number_prefix: str
    number_year: int | None
    number_serial: int | None
    digest: str
    receipt_id: int | None
    signed_by_id: int | None
    signed_at: datetime.datetime | None
    content_digest: str | None
    is_clerk: int

    def refusal(self) -> DomainError | None:
        """The rule of workflow.services.rules for 签收, on what this read found: no query."""
        db = connection.alias
        document = Document.from_db(
            db,
            ["id", "number_prefix", "number_year", "number_serial"],
            [self.document_id, self.number_prefix, self.number_year, self.number_serial],
        )
        delivery = Delivery.from_db(
            db,
            ["id", "unit_id", "document_id", "state"],
            [self.delivery_id, self.unit_id, self.document_id, self.state],
        )
        delivery.unit = Unit.from_db(db, ["id", "name"], [self.unit_id, self.unit_name])
        delivery.document = document
        standing = Standing(recipient=frozenset({Role.CLERK}) if self.is_clerk else frozenset())
        return delivery_refusal(DeliveryAction.SIGN_FOR, delivery, standing)

    def receipt(self, *, receipt_id: int, signed_by_id: int, signed_at, content_digest: str) -> Receipt:
        """The receipt, with its unit's name and its document's number loaded (as callers show them)."""
        db = connection.alias
        document = Document.from_db(
            db,
            ["id", "number_prefix", "number_year", "number_serial", "digest"],
            [self.document_id, self.number_prefix, self.number_year, self.number_serial, self.digest],
        )
        unit = Unit.from_db(db, ["id", "name"], [self.unit_id, self.unit_name])
        # Not its state: read before signing, it would be stale (a deferred field loads when asked).
        delivery = Delivery.from_db(
            db, ["id", "document_id", "unit_id"], [self.delivery_id, self.document_id, self.unit_id]
        )
        delivery.document = document
        receipt = Receipt.from_db(
            db,
            ["id", "delivery_id", "unit_id", "signed_by_id", "signed_at", "content_digest"],
            [receipt_id, self.delivery_id, self.unit_id, signed_by_id, signed_at, content_digest],
        )
        receipt.delivery, receipt.unit = delivery, unit
        return receipt

    def existing_receipt(self) -> Receipt | None:
        if self.receipt_id is None:
            return None
        return self.receipt(
            receipt_id=self.receipt_id,
            signed_by_id=self.signed_by_id,
            signed_at=_from_db(Receipt, "signed_at", self.signed_at),
            content_digest=self.content_digest,
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


def _read_signing(actor: AbstractBaseUser, delivery_id: int) -> _Signing:
    row = None
    if 0 < delivery_id <= _MAX_ID:
        is_clerk, params = unit_role_condition_sql(actor, Role.CLERK, "d.unit_id")
        with connection.cursor() as cursor:
            cursor.execute(_signing_sql().format(is_clerk=is_clerk), [*params, delivery_id])
            row = cursor.fetchone()
    if row is None:
        raise NotFound(_("送达记录不存在或无权查看。"))
    return _Signing(*row)


def _refuse_or_receipt(signing: _Signing) -> Receipt | None:
    """The receipt already written, or None when this sign-for may go ahead; raises the refusal
    otherwise. A withdrawn delivery is refused even with a receipt: its unit has lost it."""
    refusal = signing.refusal()
    if isinstance(refusal, NotAllowed):
        raise refusal
    if signing.state in Delivery.WITHDRAWN_STATES:
        raise Withdrawn(refusal.message)
    existing = signing.existing_receipt()
    if existing is not None:
        return existing
    if refusal is not None:
        raise refusal
    return None


def delivery_sign_for(*, actor: AbstractBaseUser, delivery_id: int) -> Receipt:
    """签收: a clerk of the recipient unit acknowledges receipt of exactly this content.

    The receipt records who, when, and the digest of the document signed for. Signing again, or
    concurrently, returns the one receipt: the move out of PENDING is a conditional UPDATE, so of
    concurrent signers exactly one writes, and the others read its receipt once it has committed.
    Errors: NotFound (no such delivery), NotAllowed (not a clerk of the recipient unit), Conflict
    (the delivery was recalled or returned). Nothing is written on error.
    """
    # A repeat (a client retrying, a second click) is answered by this one read, without a
    # transaction or a lock: a receipt, once written, never changes.
    signing = _read_signing(actor, delivery_id)
    existing = _refuse_or_receipt(signing)
    if existing is not None:
        return existing
    update, insert = _sign_sql()
    is_clerk, params = unit_role_condition_sql(actor, Role.CLERK, "unit_id")
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        at = connection.ops.adapt_datetimefield_value(now)
        cursor.execute(
            update.format(is_clerk=is_clerk),
            [Delivery.State.SIGNED, at, at, actor.pk, delivery_id, *params],
        )
        if cursor.rowcount != 1:
            # Signed by someone else while this one waited for the row (their receipt has committed
            # now, and this statement sees it), recalled or returned meanwhile, or no longer a clerk.
            signing = _read_signing(actor, delivery_id)
            existing = _refuse_or_receipt(signing)
            if existing is not None:
                return existing
            raise RuntimeError(f"delivery {delivery_id}: sign-for neither moved nor refused")
        cursor.execute(insert, [delivery_id, signing.unit_id, actor.pk, at, signing.digest])
        (receipt_id,) = cursor.fetchone()
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_SIGNED,
            object_type="Delivery",
            object_id=delivery_id,
            unit=signing.unit_id,
            document=signing.document_id,
            payload={"receipt_id": receipt_id, "content_digest": signing.digest},
        )
    return signing.receipt(receipt_id=receipt_id, signed_by_id=actor.pk, signed_at=now, content_digest=signing.digest)
