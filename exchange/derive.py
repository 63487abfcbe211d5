"""Receipts, recalls and reports for peers, derived from the audit log (公文交换): the log is the
source, as for the webhooks. Under one cursor (`AuditCursor`), each batch of new events gives the
receipts of deliveries that received consignments made (exchange.receipts), the recalls of
deliveries sent to peers (exchange.recalls) and the reports of the chains below received
consignments (exchange.reports); their ids come from the events, so a batch derived twice makes
nothing twice. The cursor starts just before the first event that can concern a peer: the first consignment
taken in, or the issue of the first document sent to one. Run by the beat's exchange sweep."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from exchange import keys
from exchange.models import AuditCursor, OutgoingConsignment, OutgoingRecall, OutgoingReceipt, OutgoingReport
from exchange.outgoing import RECALL, RECEIPT, REPORT, enqueue
from exchange.recalls import recalls_from
from exchange.receipts import receipts_from
from exchange.reports import reports_make, reports_owed, reports_supersede
from workflow.models import AuditEvent, AuditVerb

BATCH = 1000


def _start() -> int:
    firsts = [
        AuditEvent.objects.filter(verb=AuditVerb.CONSIGNMENT_ACCEPTED)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first(),
        AuditEvent.objects.filter(
            verb=AuditVerb.DOCUMENT_ISSUED,
            document_id__in=OutgoingConsignment.objects.values("dispatch__document_id"),
        )
        .order_by("seq")
        .values_list("seq", flat=True)
        .first(),
    ]
    found = [seq for seq in firsts if seq is not None]
    if found:
        return min(found) - 1
    return AuditEvent.objects.aggregate(head=Max("seq"))["head"] or 0


def _keep(model, rows: list, kind: str, id_field: str) -> None:
    model.objects.bulk_create(rows, ignore_conflicts=True)
    ids = [getattr(row, id_field) for row in rows]
    for pk, queue in model.objects.filter(**{f"{id_field}__in": ids}, state=model.State.PENDING).values_list(
        "pk", "queue"
    ):
        enqueue(kind, pk, queue)


def exchange_derive() -> int:
    """Turn the audit events since the cursor into receipts and recalls, batch after batch, and mark
    the reports they make owed; then make the reports owed and due. Returns how many messages were
    made. Nothing when this installation has no exchange name or key (the cursor waits for them)."""
    if not settings.EXCHANGE_INSTALLATION:
        return 0
    try:
        key = keys.signing_key()
    except keys.ExchangeKeyError:
        return 0
    made = 0
    while True:
        with transaction.atomic():
            cursor = AuditCursor.objects.select_for_update().filter(pk=1).first()
            if cursor is None:
                cursor = AuditCursor.objects.create(pk=1, last_seq=_start())
            events = list(
                AuditEvent.objects.filter(seq__gt=cursor.last_seq)
                .order_by("seq")
                .values("seq", "verb", "object_type", "object_id", "occurred_at", "actor_id", "payload", "document_id")[
                    :BATCH
                ]
            )
            if not events:
                # Every event is in: the reports owed and due now read the chain as they left it.
                now = timezone.now()
                reports = reports_make(key, now)
                _keep(OutgoingReport, reports, REPORT, "report_id")
                reports_supersede(reports, now)
                return made + len(reports)
            now = timezone.now()
            receipts, recalls = receipts_from(events, key, now), recalls_from(events, key, now)
            _keep(OutgoingReceipt, receipts, RECEIPT, "receipt_id")
            _keep(OutgoingRecall, recalls, RECALL, "recall_id")
            reports_owed(events, now)
            made += len(receipts) + len(recalls)
            AuditCursor.objects.filter(pk=1).update(last_seq=events[-1]["seq"])
