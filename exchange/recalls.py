"""Recalls (撤回) between installations (公文交换): a recall here that withdraws deliveries to units
a peer hosts travels to that peer, signed, and withdraws its deliveries there through the same
recall services.

At the recalling installation (`recalls_from`, run by exchange.derive over the audit log): each
DELIVERIES_WITHDRAWN event names the deliveries a recall withdrew (the one recalled, a whole
dispatch, or those below them in a chain); those of units a peer hosts, by a dispatch sent to that
peer, become one `OutgoingRecall` per consignment, sent by exchange.outgoing.

At the peer (`recall_receive`, the endpoint /exchange/v1/recalls): the checks of any message
(exchange.services), then the recall must name a consignment this installation took in from that
peer. The recalling peer acts through its stand-in (a clerk of the units it hosts, among them the
dispatch's issuing unit): `dispatch_recall` when it names every unit of the dispatch, else
`delivery_recall` per unit. Deliveries withdrawn already are left as they are (a repeat changes
nothing). The recall as signed is kept (`ReceivedRecall`) with a RECALL_ACCEPTED event.

A recall, version 1 (same body and headers as a consignment; "files" is empty):

    {"protocol": "gongwen-exchange/1", "type": "recall", "id": "<UUID>",
     "consignment": "<the consignment's id>",
     "from": {"installation": "A", "unit": "<the dispatch's issuing unit>"},
     "units": ["<each recipient unit whose delivery is withdrawn>", …],
     "reason": "…", "at": "<ISO 8601>", "by": "<who recalled>"}
"""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from exchange import keys
from exchange.directory import peer_user
from exchange.envelope import Code, Received, Refused, answer_parts, canonical, utc_text
from exchange.keys import PROTOCOL
from exchange.models import OutgoingConsignment, OutgoingRecall, Peer, ReceivedConsignment, ReceivedRecall
from exchange.services import Answer, Duplicate, Handler, duplicate_of, message_receive
from units.errors import DomainError
from workflow.audit import audit_record
from workflow.models import AuditVerb, Delivery, Recall
from workflow.services.rules import person_name

_NAMESPACE = uuid.UUID("0c7f3b61-2a44-4f0e-8a8c-52d9b8e1f4a7")


def recalls_from(events: list[dict], key, now) -> list[OutgoingRecall]:
    """The recalls of a batch of audit events (exchange.derive): per DELIVERIES_WITHDRAWN event, one
    per consignment whose units' deliveries it withdrew."""
    withdrawn = [e for e in events if e["verb"] == AuditVerb.DELIVERIES_WITHDRAWN]
    if not withdrawn:
        return []
    ids = {pk for e in withdrawn for pk in (e["payload"] or {}).get("delivery_ids", [])}
    deliveries = {
        delivery.pk: delivery
        for delivery in Delivery.objects.filter(pk__in=ids, unit__peer__isnull=False).select_related("unit")
    }
    if not deliveries:
        return []
    consignments = {
        (c.dispatch_id, c.peer_id): c
        for c in OutgoingConsignment.objects.filter(
            dispatch_id__in={d.dispatch_id for d in deliveries.values()}
        ).select_related("peer", "dispatch__issuing_unit")
    }
    recalls = Recall.objects.in_bulk({int(e["object_id"]) for e in withdrawn})
    actors = {recall.recalled_by_id for recall in recalls.values()}
    names = {user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=actors)}
    rows = []
    for event in withdrawn:
        recall = recalls[int(event["object_id"])]
        by_consignment: dict[OutgoingConsignment, list[str]] = {}
        for pk in event["payload"].get("delivery_ids", []):
            delivery = deliveries.get(pk)
            consignment = delivery and consignments.get((delivery.dispatch_id, delivery.unit.peer_id))
            if consignment is not None:
                by_consignment.setdefault(consignment, []).append(delivery.unit.name)
        for consignment, units in by_consignment.items():
            issuer = consignment.dispatch.issuing_unit.name
            envelope = {
                "protocol": PROTOCOL,
                "type": "recall",
                "id": str(uuid.uuid5(_NAMESPACE, f"{settings.EXCHANGE_INSTALLATION}:{event['seq']}:{consignment.pk}")),
                "consignment": str(consignment.consignment_id),
                "from": {"installation": settings.EXCHANGE_INSTALLATION, "unit": issuer},
                "units": sorted(units),
                "reason": recall.reason,
                "at": utc_text(recall.recalled_at),
                "by": names.get(recall.recalled_by_id, ""),
            }
            envelope_bytes = canonical(envelope)
            rows.append(
                OutgoingRecall(
                    recall_id=envelope["id"],
                    peer=consignment.peer,
                    dispatch=consignment.dispatch,
                    envelope=envelope_bytes,
                    signature=keys.envelope_signature(key, envelope_bytes),
                    queue=consignment.queue,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    return rows


# --- at the peer --------------------------------------------------------------------------------------


def _malformed(what: str) -> Refused:
    return Refused(Code.MALFORMED, _("不是有效的撤回通知：%(what)s。") % {"what": what})


_KEYS = {"protocol", "type", "id", "consignment", "from", "units", "reason", "at", "by"}


def recall_parse(body: bytes) -> Received:
    recall, signature, _files = answer_parts(body, _malformed, "recall", _KEYS)
    if not isinstance(recall["from"], dict) or set(recall["from"]) != {"installation", "unit"}:
        raise _malformed("from")
    units = recall["units"]
    if not isinstance(units, list) or not units or not all(isinstance(name, str) for name in units):
        raise _malformed(_("收文单位"))
    if not all(isinstance(recall[name], str) for name in ("reason", "by")) or not isinstance(signature, str):
        raise _malformed(_("撤回原因"))
    return Received(envelope=recall, envelope_bytes=canonical(recall), signature=signature, files={})


def _duplicate(peer: Peer, received: Received) -> Answer | None:
    return duplicate_of(ReceivedRecall.objects.filter(peer=peer, recall_id=received.envelope["id"]), received)


def _take_in(peer: Peer, received: Received, now) -> Answer:
    from workflow import services

    recall = received.envelope
    consignment = (
        ReceivedConsignment.objects.filter(peer=peer, consignment_id=recall["consignment"])
        .select_related("dispatch")
        .first()
    )
    if consignment is None:
        raise Refused(Code.NOT_ACCEPTED, _("本系统没有从对端系统接收过这件公文。"))
    dispatch = consignment.dispatch
    deliveries = list(Delivery.objects.filter(dispatch=dispatch).select_related("unit"))
    named = [d for d in deliveries if d.unit.name in set(recall["units"])]
    if len(named) != len(set(recall["units"])):
        raise Refused(Code.UNKNOWN_RECIPIENT, _("撤回通知所列的单位不都是这件公文在本系统的收文单位。"))
    actor = peer_user(peer)
    live = [d for d in named if d.state not in Delivery.WITHDRAWN_STATES and d.recall_id is None]
    try:
        if live and len(named) == len(deliveries) and dispatch.recall_id is None:
            counts = services.dispatch_recall(actor=actor, dispatch_id=dispatch.pk, reason=recall["reason"])
        else:
            counts = {"withdrawn": 0, "held": 0, "downstream": 0}
            for delivery in live:
                for name, value in services.delivery_recall(
                    actor=actor, delivery_id=delivery.pk, reason=recall["reason"]
                ).items():
                    counts[name] = counts.get(name, 0) + value
    except DomainError as error:
        raise Refused(Code.NOT_ACCEPTED, error.message) from None
    try:
        with transaction.atomic():
            ReceivedRecall.objects.create(
                peer=peer,
                recall_id=recall["id"],
                envelope=received.envelope_bytes,
                signature=received.signature,
                dispatch=dispatch,
                received_at=now,
            )
    except IntegrityError:
        raise Duplicate from None
    audit_record(
        actor=actor,
        verb=AuditVerb.RECALL_ACCEPTED,
        object_type="Dispatch",
        object_id=dispatch.pk,
        unit=dispatch.issuing_unit_id,
        document=dispatch.document_id,
        payload={"peer": peer.name, "recall": recall["id"], "units": recall["units"], "by": recall["by"], **counts},
    )
    return Answer(Code.ACCEPTED, _("已接收。"), recall["id"], now)


RECALLS = Handler("recall", recall_parse, _duplicate, _take_in, AuditVerb.RECALL_REFUSED)


def recall_receive(**kwargs) -> Answer:
    return message_receive(RECALLS, **kwargs)
