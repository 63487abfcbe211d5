"""Moving an issued document: route a dispatch into deliveries, notify the recipient clerks, and
sweep for work a lost message left unfinished.

All three are idempotent by construction (inserts against unique constraints with conflicts ignored,
conditional updates), so a task that runs twice, or two workers on one dispatch, change nothing
twice. They run in the worker, as the system (actor None).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from documents.models import Enclosure, RecipientRole
from units.models import Role, Unit
from units.selectors import user_list_with_role_in_units
from workflow import sql
from workflow.audit import audit_record
from workflow.enqueue import enqueue_dispatch_emails, enqueue_notification, enqueue_routing
from workflow.models import AuditVerb, Delivery, Dispatch, Notification
from workflow.tally import tally_created

logger = logging.getLogger(__name__)


def _start_attempt(dispatch: Dispatch, field: str) -> bool:
    """Count one more start of routing or notification; False once DISPATCH_MAX_ATTEMPTS are spent.

    Checked here, not only in the sweep: a task whose pool child keeps dying is requeued by the
    broker itself (task_reject_on_worker_lost), and only this count stops that loop.
    """
    started = Dispatch.objects.filter(pk=dispatch.pk, **{f"{field}__lt": settings.DISPATCH_MAX_ATTEMPTS}).update(
        **{field: F(field) + 1}
    )
    if not started:
        logger.error("dispatch %s: %s reached the cap; left for a person", dispatch.pk, field)
    return bool(started)


def _insert_deliveries(dispatch: Dispatch, chunk: list[tuple[int, str]], now, recall_id: int | None) -> list[int]:
    """One statement: insert the chunk's deliveries, skip those that exist, return the new units.

    A dispatch recalled while it was being routed (its cover letter's source was recalled) gets its
    remaining deliveries already withdrawn: every recipient has its row, none gets the content.
    """
    values = {
        "dispatch_id": dispatch.pk,
        "document_id": dispatch.document_id,
        "urgency": dispatch.document_urgency,
        "issuing_unit_id": dispatch.document_issuing_unit_id,
        "is_cover": dispatch.document_is_cover,
        "state": Delivery.State.PENDING if recall_id is None else Delivery.State.RECALLED,
        "recall_id": recall_id,
        "created_at": now,
        # The deadlines fixed at issue travel with each delivery, in the same statement.
        "deadline_sign_for": dispatch.deadline_sign_for,
        "deadline_complete": dispatch.deadline_complete,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            unit_ids, roles = [unit for unit, _ in chunk], [role for _, role in chunk]
            created = sql.delivery_insert_unnest().all(cursor, {**values, "unit_ids": unit_ids, "roles": roles})
        else:
            # Positional: each delivery's values in the order of sql.DELIVERY_INSERT_FIELDS.
            order = [Delivery._meta.get_field(name).attname for name in sql.DELIVERY_INSERT_FIELDS]
            rows = ({**values, "unit_id": unit, "role": role} for unit, role in chunk)
            params = [row[attname] for row in rows for attname in order]
            created = sql.delivery_insert_values(len(chunk)).all(cursor, params)
    return [delivery.unit_id for delivery in created]


def dispatch_route(*, dispatch_id: int) -> bool:
    """Create one delivery per recipient unit, chunk by chunk, each chunk in its own transaction.

    Safe to run again at any point: existing deliveries are skipped and only the new ones are
    audited. Marks the dispatch routed when every delivery is in, then enqueues the notifications.
    Returns whether the dispatch is routed; False when it no longer exists.
    """
    # The document's urgency and issuing unit come with it, and whether it encloses others: every
    # delivery carries a copy of each.
    dispatch = (
        Dispatch.objects.filter(pk=dispatch_id)
        .annotate(
            document_urgency=F("document__urgency"),
            document_issuing_unit_id=F("document__issuing_unit"),
            document_is_cover=Exists(Enclosure.objects.filter(cover=OuterRef("document_id"), depth__gt=0)),
        )
        .first()
    )
    if dispatch is None:
        logger.warning("dispatch %s is gone; nothing to route", dispatch_id)
        return False
    if dispatch.routed_at is not None:
        return True
    if not _start_attempt(dispatch, "route_attempts"):
        return False
    recipients = [(unit, RecipientRole.MAIN.value) for unit in dispatch.main_unit_ids] + [
        (unit, RecipientRole.COPY.value) for unit in dispatch.cc_unit_ids
    ]
    size = settings.ROUTING_CHUNK_SIZE
    for start in range(0, len(recipients), size):
        with transaction.atomic():
            # The dispatch's row lock orders this chunk with a recall (workflow.services.recall): a
            # recall waits for the chunk to commit and then withdraws it, or the chunk sees the recall.
            recall_id = (
                Dispatch.objects.select_for_update(no_key=True).filter(pk=dispatch.pk).values_list("recall_id").get()
            )[0]
            created = _insert_deliveries(dispatch, recipients[start : start + size], timezone.now(), recall_id)
            if created:
                state = Delivery.State.PENDING if recall_id is None else Delivery.State.RECALLED
                tally_created(dispatch.pk, len(created), state=state)
                payload = {"count": len(created), "unit_ids": sorted(created)}
                if recall_id is not None:
                    payload["recall_id"] = recall_id
                audit_record(
                    actor=None,
                    verb=AuditVerb.DELIVERIES_CREATED,
                    object_type="Dispatch",
                    object_id=dispatch.pk,
                    document=dispatch.document_id,
                    payload=payload,
                )
    with transaction.atomic():
        routed = Dispatch.objects.filter(pk=dispatch.pk, routed_at__isnull=True).update(
            routed_at=timezone.now(), notify_enqueued_at=timezone.now()
        )
        if routed:
            count = Delivery.objects.filter(dispatch=dispatch).count()
            if count != dispatch.recipient_count:  # a unit deleted mid-way would do it; never silently
                raise RuntimeError(f"dispatch {dispatch.pk}: {count} deliveries for {dispatch.recipient_count} units")
            audit_record(
                actor=None,
                verb=AuditVerb.DISPATCH_ROUTED,
                object_type="Dispatch",
                object_id=dispatch.pk,
                document=dispatch.document_id,
                payload={"deliveries": count},
            )
            enqueue_notification(dispatch.pk, dispatch.queue)
    return True


def _delivered_text(document) -> str:
    return f"【{document.urgency}】{document.number} {document.title}"[:500]


def dispatch_notify(*, dispatch_id: int) -> bool:
    """Notify every clerk of every recipient unit: one in-app DELIVERED notification each, and their
    emails through the outbox.

    Chunk by chunk over the deliveries, each chunk in its own transaction; notifications are unique
    per (user, delivery, kind), so a re-run writes nothing twice. The last transaction marks the
    dispatch notified and enqueues the outbox for this dispatch on commit (notification_email_send,
    on the dispatch's queue): the emails are rows of the outbox from the moment their notification
    is, so a crash anywhere loses none (the beat sends what no run did). Returns whether the
    dispatch is notified.
    """
    dispatch = Dispatch.objects.select_related("document").filter(pk=dispatch_id).first()
    if dispatch is None:
        logger.warning("dispatch %s is gone; nothing to notify", dispatch_id)
        return False
    if dispatch.notified_at is not None:
        return True
    if dispatch.routed_at is None:
        return False
    if not _start_attempt(dispatch, "notify_attempts"):
        return False
    text = _delivered_text(dispatch.document)
    size = settings.ROUTING_CHUNK_SIZE
    last_id, notified = 0, 0
    while True:
        chunk = list(
            Delivery.objects.filter(dispatch=dispatch, id__gt=last_id)
            .exclude(state__in=Delivery.WITHDRAWN_STATES)
            .order_by("id")
            .values_list("id", "unit_id")[:size]
        )
        if not chunk:
            break
        first_id, last_id = chunk[0][0], chunk[-1][0]
        delivery_of_unit = {unit_id: delivery_id for delivery_id, unit_id in chunk}
        units = Unit.objects.filter(
            pk__in=Delivery.objects.filter(dispatch=dispatch, id__gte=first_id, id__lte=last_id)
            .exclude(state__in=Delivery.WITHDRAWN_STATES)
            .values("unit_id")
        )
        now = timezone.now()
        with transaction.atomic():
            rows = [
                Notification(
                    user_id=user_id,
                    delivery_id=delivery_of_unit[unit_id],
                    kind=Notification.Kind.DELIVERED,
                    text=text,
                    created_at=now,
                )
                for user_id, unit_id in user_list_with_role_in_units(units, Role.CLERK)
            ]
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            notified += len(rows)
    with transaction.atomic():
        if Dispatch.objects.filter(pk=dispatch.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
            audit_record(
                actor=None,
                verb=AuditVerb.DISPATCH_NOTIFIED,
                object_type="Dispatch",
                object_id=dispatch.pk,
                document=dispatch.document_id,
                payload={"notifications": notified},
            )
            enqueue_dispatch_emails(dispatch.pk, dispatch.queue)
    return True


def _requeue(due, *, attempts: str, enqueued_at: str, enqueue, now, stage: str) -> tuple[int, int]:
    """Stamp and re-enqueue the due dispatches (up to 1000 a sweep); skip those that keep failing."""
    rows = list(due.select_for_update(skip_locked=True).values_list("pk", "queue", attempts)[:1000])
    retry = [(pk, queue) for pk, queue, count in rows if count < settings.DISPATCH_MAX_ATTEMPTS]
    for pk, _queue, count in rows:
        if count >= settings.DISPATCH_MAX_ATTEMPTS:
            logger.error("dispatch %s: %s started %s times, not re-enqueued", pk, stage, count)
    Dispatch.objects.filter(pk__in=[pk for pk, _queue in retry]).update(**{enqueued_at: now})
    for pk, queue in retry:
        enqueue(pk, queue)
    return len(retry), len(rows) - len(retry)


def dispatch_sweep(*, now=None) -> dict[str, int]:
    """Re-enqueue routing and notification that were enqueued long ago and are still not done.

    The database is the source of truth: a message lost in Redis, a worker killed mid-way or a crash
    between commit and publish all leave a dispatch whose `*_enqueued_at` grows old. Dispatches
    started DISPATCH_MAX_ATTEMPTS times are left alone and logged. A constant number of queries.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SWEEP_STALE_SECONDS)
    with transaction.atomic():
        route, route_gave_up = _requeue(
            Dispatch.objects.filter(routed_at__isnull=True, route_enqueued_at__lt=stale),
            attempts="route_attempts",
            enqueued_at="route_enqueued_at",
            enqueue=enqueue_routing,
            now=now,
            stage="routing",
        )
        notify, notify_gave_up = _requeue(
            Dispatch.objects.filter(routed_at__isnull=False, notified_at__isnull=True, notify_enqueued_at__lt=stale),
            attempts="notify_attempts",
            enqueued_at="notify_enqueued_at",
            enqueue=enqueue_notification,
            now=now,
            stage="notification",
        )
    return {"route": route, "notify": notify, "gave_up": route_gave_up + notify_gave_up}
