"""What a recipient unit does with a delivery: open it (read tracking) and sign for it (签收)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from units.errors import Conflict, NotAllowed, NotFound
from units.models import Role, Unit
from units.selectors import unit_list_for_member, unit_list_with_role
from workflow.audit import audit_record
from workflow.models import AuditVerb, Delivery, Receipt


def delivery_open(*, actor: AbstractBaseUser, delivery: Delivery) -> bool:
    """Record the first time a member of the recipient unit opened the delivery.

    Returns True when this was the first opening (and an audit event was written). Opening by
    anyone else (the issuer, an auditor) records nothing.
    """
    if not unit_list_for_member(actor).filter(pk=delivery.unit_id).exists():
        return False
    with transaction.atomic():
        now = timezone.now()
        first = Delivery.objects.filter(pk=delivery.pk, read_at__isnull=True).update(read_at=now, read_by=actor)
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


def _is_clerk(actor: AbstractBaseUser) -> Exists:
    """Annotation: whether the actor is a clerk of the row's unit (checked in the row's own query)."""
    return Exists(unit_list_with_role(actor, Role.CLERK).filter(pk=OuterRef("unit_id")))


def _refuse_unless_clerk(row: Delivery | Receipt, unit: Unit) -> None:
    if not row.is_clerk:
        raise NotAllowed(_("您不是%(unit)s的收发员，不能签收。") % {"unit": unit.name})


# What a receipt is shown with (its unit, its document's number): not the document's whole text.
_RECEIPT_FIELDS = (
    "delivery_id",
    "unit_id",
    "signed_by_id",
    "signed_at",
    "content_digest",
    "unit__name",
    "delivery__document__number_prefix",
    "delivery__document__number_year",
    "delivery__document__number_serial",
)


# What signing reads of the delivery: its state, its unit's name, its document's number and digest.
_DELIVERY_FIELDS = (
    "document_id",
    "unit_id",
    "state",
    "read_at",
    "read_by_id",
    "unit__name",
    "document__number_prefix",
    "document__number_year",
    "document__number_serial",
    "document__digest",
)


def delivery_sign_for(*, actor: AbstractBaseUser, delivery_id: int) -> Receipt:
    """签收: a clerk of the recipient unit acknowledges receipt of exactly this content.

    The receipt records who, when, and the digest of the document signed for. Signing again, or
    concurrently, returns the one receipt (the delivery row is locked while deciding).
    Errors: NotFound (no such delivery), NotAllowed (not a clerk of the recipient unit), Conflict
    (the delivery was recalled or returned). Nothing is written on error.
    """
    # A repeat (a client retrying, a second click) is answered by one query, without a transaction
    # or a lock: a receipt, once written, never changes.
    receipts = (
        Receipt.objects.select_related("unit", "delivery__document")
        .only(*_RECEIPT_FIELDS)
        .annotate(is_clerk=_is_clerk(actor))
    )
    existing = receipts.filter(delivery_id=delivery_id).first()
    if existing is not None:
        _refuse_unless_clerk(existing, existing.unit)
        return existing
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("document", "unit")
            .only(*_DELIVERY_FIELDS)
            .annotate(is_clerk=_is_clerk(actor))
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            raise NotFound(_("送达记录不存在或无权查看。"))
        _refuse_unless_clerk(delivery, delivery.unit)
        # A receipt and the move out of PENDING are written together, and nothing moves a delivery
        # back: a pending delivery has no receipt. Otherwise it was signed while this one waited for
        # the lock (or signed, then recalled): a statement of its own reads that receipt.
        if delivery.state != Delivery.State.PENDING:
            existing = Receipt.objects.filter(delivery=delivery).first()
            if existing is not None:
                return existing
            raise Conflict(
                _("%(number)s的送达状态为%(state)s，不能签收。")
                % {"number": delivery.document.number, "state": delivery.get_state_display()}
            )
        now = timezone.now()
        receipt = Receipt.objects.create(
            delivery=delivery,
            unit=delivery.unit,
            signed_by=actor,
            signed_at=now,
            content_digest=delivery.document.digest,
        )
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
            state=Delivery.State.SIGNED,
            signed_at=now,
            read_at=delivery.read_at or now,
            read_by_id=delivery.read_by_id or actor.pk,
        )
        audit_record(
            actor=actor,
            verb=AuditVerb.DELIVERY_SIGNED,
            object_type="Delivery",
            object_id=delivery.pk,
            unit=delivery.unit,
            document=delivery.document_id,
            payload={"receipt_id": receipt.pk, "content_digest": receipt.content_digest},
        )
    return receipt
