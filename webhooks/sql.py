"""The webhooks' one hand-written statement: new audit events into calls, set-based.

Written out because the ORM cannot say it: an INSERT … SELECT that expands the delivery ids an
audit event names in its JSON payload (a routing chunk names up to ROUTING_CHUNK_SIZE units, a
recall every delivery it withdrew) and joins them to the subscriptions, ON CONFLICT DO NOTHING.
A dispatch to 10^5 units is one statement, whatever the number of subscribers. Names come from
the models' _meta and constants of the code are literals (units.sql); values are parameters. It
runs on PostgreSQL and on SQLite (make run): only the JSON functions differ (_DIALECTS).

Which audit verb is which event, and of which delivery:

    DELIVERIES_CREATED (a routing chunk)   delivered   each unit of payload.unit_ids of the dispatch;
                                                       not when the dispatch was recalled meanwhile
                                                       (payload.recall_id: created withdrawn)
    DELIVERY_READ / _SIGNED / _RETURNED /  read / signed / returned / completed
    _COMPLETED                                         the delivery the event names
    DELIVERY_REMINDED                      overdue     by the beat's sweep (no actor), which urges
                                                       only deliveries past a deadline
                                           reminded    by a person (催办 pressed)
    DOCUMENT_ISSUED of a cover letter      forwarded   the delivery it forwards: once it is issued,
                                                       as the issuer's chain view shows a forward
    DELIVERIES_WITHDRAWN                   recalled    each of payload.delivery_ids (a recall names
                                                       every delivery it took, the one recalled
                                                       included, so DISPATCH_RECALLED and
                                                       DELIVERY_RECALLED would say it twice)

DELIVERY_ESCALATED is left out: it tells the parent unit, which is neither party to the delivery,
and comes with a DELIVERY_REMINDED of the same round. Who receives an event: the subscriptions of
the active clients of the delivery's unit and of its document's issuing unit, created before the
event, that asked for its type. What each may see of it is decided when the call is built, at the
door (webhooks.selectors).
"""

import functools

from api.models import ApiClient
from documents.models import Document
from units.sql import column, literal, pk, table
from webhooks.models import EventType, WebhookDelivery, WebhookSubscription
from workflow.models import AuditEvent, AuditVerb, Delivery, Forward

# The verbs of one delivery each, named by object_id, and the event each is.
_ONE_DELIVERY = {
    AuditVerb.DELIVERY_READ: EventType.READ,
    AuditVerb.DELIVERY_SIGNED: EventType.SIGNED,
    AuditVerb.DELIVERY_RETURNED: EventType.RETURNED,
    AuditVerb.DELIVERY_COMPLETED: EventType.COMPLETED,
}

_DIALECTS = {
    # The elements of a JSON array (as rows of a column `value`), whether a key is absent, and
    # whether a JSON array holds a string.
    "postgresql": {
        "elements": "jsonb_array_elements_text(({json}) -> {key}) AS u(value)",
        "absent": "({json} -> {key}) IS NULL",
        "holds": "jsonb_exists({json}, {value})",
    },
    "sqlite": {
        "elements": "json_each({json}, '$.' || {key}) AS u",
        "absent": "json_extract({json}, '$.' || {key}) IS NULL",
        "holds": "EXISTS (SELECT 1 FROM json_each({json}) AS t WHERE t.value = {value})",
    },
}


@functools.cache
def events_insert_select(vendor: str) -> str:
    """Every call the audit events after seq `after` up to seq `upto` make. Parameters: after,
    upto, now (adapted for the database), state (pending). The statement's row count is the
    number of calls created; a call that exists already is skipped."""
    dialect = _DIALECTS[vendor]
    seq, verb = pk(AuditEvent, "a"), column(AuditEvent, "verb", "a")
    object_id, payload = column(AuditEvent, "object_id", "a"), column(AuditEvent, "payload", "a")
    in_range = f"{seq} > %(after)s AND {seq} <= %(upto)s"

    def only(verbs: list[str], value: str) -> str:
        # CASE keeps the database from casting or expanding a value of another verb (an object_id
        # that is a date, a payload key of another shape): it is evaluated after the verb's test.
        return f"CASE WHEN {verb} IN ({', '.join(literal(v) for v in verbs)}) THEN {value} END"

    def named_id(verbs: list[str]) -> str:
        return f"CAST({only(verbs, object_id)} AS bigint)"

    def elements(verbs: list[str], key: str) -> str:
        return dialect["elements"].format(json=only(verbs, payload), key=literal(key))

    created, withdrawn = [AuditVerb.DELIVERIES_CREATED], [AuditVerb.DELIVERIES_WITHDRAWN]
    one = [*_ONE_DELIVERY, AuditVerb.DELIVERY_REMINDED]
    kind = " ".join(f"WHEN {literal(v)} THEN {literal(event)}" for v, event in _ONE_DELIVERY.items())
    reminded = (
        f"WHEN {literal(AuditVerb.DELIVERY_REMINDED)} THEN CASE WHEN {column(AuditEvent, 'actor', 'a')} IS NULL "
        f"THEN {literal(EventType.OVERDUE)} ELSE {literal(EventType.REMINDED)} END"
    )
    issued = [AuditVerb.DOCUMENT_ISSUED]
    audit, delivery = table(AuditEvent), table(Delivery)
    events = (
        f"SELECT {seq} AS seq, {literal(EventType.DELIVERED)} AS event_type, {pk(Delivery, 'd')} AS delivery_id "  # noqa: S608 (names from _meta and the code's constants, values are parameters)
        f"FROM {audit} a CROSS JOIN {elements(created, 'unit_ids')} "
        f"JOIN {delivery} d ON {column(Delivery, 'dispatch', 'd')} = {named_id(created)} "
        f"AND {column(Delivery, 'unit', 'd')} = CAST(u.value AS bigint) "
        f"WHERE {in_range} AND {verb} = {literal(AuditVerb.DELIVERIES_CREATED)} "
        f"AND {dialect['absent'].format(json=payload, key=literal('recall_id'))} "
        f"UNION ALL SELECT {seq}, {literal(EventType.RECALLED)}, CAST(u.value AS bigint) "
        f"FROM {audit} a CROSS JOIN {elements(withdrawn, 'delivery_ids')} "
        f"WHERE {in_range} AND {verb} = {literal(AuditVerb.DELIVERIES_WITHDRAWN)} "
        f"UNION ALL SELECT {seq}, CASE {verb} {kind} {reminded} END, {named_id(one)} FROM {audit} a "
        f"WHERE {in_range} AND {verb} IN ({', '.join(literal(v) for v in one)}) "
        f"AND {column(AuditEvent, 'object_type', 'a')} = {literal('Delivery')} "
        f"UNION ALL SELECT {seq}, {literal(EventType.FORWARDED)}, {column(Forward, 'source_delivery', 'f')} "
        f"FROM {audit} a JOIN {table(Forward)} f ON {column(Forward, 'cover', 'f')} = {named_id(issued)} "
        f"WHERE {in_range} AND {verb} = {literal(AuditVerb.DOCUMENT_ISSUED)}"
    )
    # Each event once for the delivery's unit and once for its document's issuing unit: two
    # equi-joins (the subscriptions' clients by unit), not an OR that no index serves.
    document = column(Delivery, "document", "d")
    parties = (
        f"SELECT e.seq, e.event_type, e.delivery_id, {column(Delivery, 'unit', 'd')} AS unit_id "  # noqa: S608 (names from _meta, no values)
        f"FROM e JOIN {delivery} d ON {pk(Delivery, 'd')} = e.delivery_id "
        f"UNION ALL SELECT e.seq, e.event_type, e.delivery_id, {column(Document, 'issuing_unit', 'doc')} "
        f"FROM e JOIN {delivery} d ON {pk(Delivery, 'd')} = e.delivery_id "
        f"JOIN {table(Document)} doc ON {pk(Document, 'doc')} = {document}"
    )
    target = ", ".join(
        column(WebhookDelivery, name)
        for name in (
            "subscription",
            "event_id",
            "event_type",
            "delivery",
            "audit_event",
            "state",
            "attempts",
            "next_attempt_at",
            "window_started_at",
            "created_at",
            "last_error",
        )
    )
    subscription = WebhookSubscription
    wants = dialect["holds"].format(json=column(subscription, "event_types", "s"), value="p.event_type")
    return (
        # The WITH inside the INSERT, not before it: SQLite counts the rows of a statement that
        # starts with INSERT only (cursor.rowcount).
        f"INSERT INTO {table(WebhookDelivery)} ({target}) WITH e AS ({events}) "  # noqa: S608 (names from _meta and the code's constants, values are parameters)
        f"SELECT {pk(subscription, 's')}, 'evt_' || CAST(p.seq AS text) || '_' || CAST(p.delivery_id AS text), "
        f"p.event_type, p.delivery_id, p.seq, %(state)s, 0, %(now)s, %(now)s, %(now)s, '' "
        f"FROM ({parties}) p "
        f"JOIN {table(ApiClient)} c ON {column(ApiClient, 'unit', 'c')} = p.unit_id "
        f"AND {column(ApiClient, 'revoked_at', 'c')} IS NULL "
        f"JOIN {table(subscription)} s ON {column(subscription, 'client', 's')} = {pk(ApiClient, 'c')} "
        f"AND {column(subscription, 'is_active', 's')} AND {column(subscription, 'since_seq', 's')} < p.seq "
        f"WHERE {wants} "
        f"ON CONFLICT ({column(WebhookDelivery, 'subscription')}, {column(WebhookDelivery, 'event_id')}) DO NOTHING"
    )
