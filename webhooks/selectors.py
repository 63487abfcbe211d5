"""The body of a call: what happened to which delivery, as much as the subscriber's door shows.

A call is built for the client's service account through workflow.access (`delivery_list_reachable`),
as when that account asks the API for the delivery: nothing reaches a client its door would refuse,
and what a call says is within what the stub of a withdrawn delivery shows (number, title, issuer)
plus the event's own facts. The document's content never travels in a call: a receiver that may see
it fetches it through the API, through the same door.
"""

import datetime

from django.db.models import QuerySet

from webhooks.models import EventType, WebhookDelivery, WebhookSubscription
from workflow.access import delivery_list_reachable
from workflow.models import AuditEvent, Delivery

# What a call's queryset needs to build its body in one query.
CALL_RELATED = ("subscription__client__user", "audit_event", "delivery__unit", "delivery__document__issuing_unit")


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _event_facts(event_type: str, event: AuditEvent) -> dict:
    """The event's own facts, from its audit payload (webhooks/sql.py maps verbs to events)."""
    payload = event.payload
    if event_type in (EventType.OVERDUE, EventType.REMINDED):
        return {"reminder": {"round": payload["round"], "clock": payload["clock"], "deadline": payload["deadline"]}}
    if event_type == EventType.SIGNED:
        return {"receipt_id": payload["receipt_id"]}
    if event_type == EventType.RETURNED:
        return {"return_id": payload["return_id"], "reason": payload["reason"]}
    if event_type == EventType.COMPLETED:
        return {"completion_id": payload["completion_id"]}
    if event_type == EventType.RECALLED:
        return {"recall_id": int(event.object_id)}
    return {}


def webhook_body(call: WebhookDelivery) -> dict:
    """The body of a call (its delivery, document and audit event loaded: CALL_RELATED)."""
    delivery: Delivery = call.delivery
    document = delivery.document
    return {
        "id": call.event_id,
        "type": call.event_type,
        "timestamp": _utc(call.audit_event.occurred_at),
        "data": {
            "delivery": {"id": delivery.pk, "unit": {"id": delivery.unit_id, "name": delivery.unit.name}},
            "document": {
                "number": document.number,
                "title": document.title,
                "issuer": document.issuing_unit.name,
            },
            **_event_facts(call.event_type, call.audit_event),
        },
    }


def webhook_reachable(subscription: WebhookSubscription, delivery_ids: list[int]) -> QuerySet[Delivery]:
    """Those of these deliveries the subscription's client reaches through its door. One query."""
    return delivery_list_reachable(subscription.client.user).filter(pk__in=delivery_ids)
