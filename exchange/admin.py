"""公文交换 in the admin, for the administrator who runs the exchange: the peers, and what went to
them and came from them, with each message's state, attempts and last answer (a failure is visible
here as well as to the clerks told of it). Read only, like the rest of the admin's records: peers
change through `manage.py exchange_peer`, which audits each change. No envelope is shown: it holds
the documents' text."""

from django.contrib import admin

from exchange.models import (
    OutgoingConsignment,
    OutgoingRecall,
    OutgoingReceipt,
    OutgoingReport,
    Peer,
    ReceivedConsignment,
    ReceivedRecall,
    ReceivedReceipt,
    ReceivedReport,
)
from workflow.admin import ReadOnlyAdmin

_OUTGOING = ["peer", "state", "queue", "attempts", "created_at", "next_attempt_at", "last_code", "last_error"]


@admin.register(Peer)
class PeerAdmin(ReadOnlyAdmin):
    list_display = ["name", "base_url", "revoked_at", "max_bytes", "per_minute", "created_at"]
    exclude = ["public_key"]


@admin.register(OutgoingConsignment)
class OutgoingConsignmentAdmin(ReadOnlyAdmin):
    list_display = ["consignment_id", "dispatch", *_OUTGOING]
    list_filter = ["state", "peer"]
    exclude = ["envelope", "signature"]


@admin.register(OutgoingReceipt)
class OutgoingReceiptAdmin(ReadOnlyAdmin):
    list_display = ["receipt_id", "event", "delivery", *_OUTGOING]
    list_filter = ["state", "peer", "event"]
    exclude = ["envelope", "signature"]


@admin.register(OutgoingRecall)
class OutgoingRecallAdmin(ReadOnlyAdmin):
    list_display = ["recall_id", "dispatch", *_OUTGOING]
    list_filter = ["state", "peer"]
    exclude = ["envelope", "signature"]


@admin.register(ReceivedConsignment)
class ReceivedConsignmentAdmin(ReadOnlyAdmin):
    list_display = ["consignment_id", "peer", "dispatch", "received_at"]
    list_filter = ["peer"]
    exclude = ["envelope", "signature"]


@admin.register(ReceivedReceipt)
class ReceivedReceiptAdmin(ReadOnlyAdmin):
    list_display = ["receipt_id", "peer", "event", "delivery", "received_at"]
    list_filter = ["peer", "event"]
    exclude = ["envelope", "signature"]


@admin.register(ReceivedRecall)
class ReceivedRecallAdmin(ReadOnlyAdmin):
    list_display = ["recall_id", "peer", "dispatch", "received_at"]
    list_filter = ["peer"]
    exclude = ["envelope", "signature"]


@admin.register(OutgoingReport)
class OutgoingReportAdmin(ReadOnlyAdmin):
    list_display = ["report_id", "version", "consignment", *_OUTGOING]
    list_filter = ["state", "peer"]
    exclude = ["envelope", "signature"]


@admin.register(ReceivedReport)
class ReceivedReportAdmin(ReadOnlyAdmin):
    list_display = ["report_id", "peer", "version", "consignment", "received_at"]
    list_filter = ["peer"]
    exclude = ["envelope", "signature"]
