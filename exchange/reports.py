"""Reports (转发情况) between installations (公文交换): the chain below a consignment, as the
installation that received it knows it, travels back to the installation that sent it, so that an
auditor there sees the whole tree as far as receipts and reports have flowed back.

A receipt says what a recipient unit did with its delivery; a report says what became of it after:
the forwards issued from it, their deliveries here and at the peers they went on to (whose states
come from those peers' receipts), and whatever those peers reported in turn. A report is the whole
subtree each time, not a change: a report lost, repeated or overtaken is harmless, because the
newest version is all the sender shows.

At the reporting installation (run by exchange.derive over the audit log): every audit event of a
document in the chain below a consignment taken in (a forward of it, of a forward of it, …: its
`Forward.chain_root` is the consignment's document) marks that consignment as owing its peer a
report (`reports_owed`), due at once or EXCHANGE_REPORT_SECONDS after the last one, so that a busy
chain makes one report in that time, not one per event. Once due, the report is read from the chain
as it stands (`reports_make`), unless it would say what the last one said. Its version is the
newest such event's seq, its id derived from the consignment and the version (deriving twice makes
one); an older one not yet sent is superseded. Events of the peers' receipts and reports
(RECEIPT_ACCEPTED, REPORT_ACCEPTED) are events of the chain too: what C reports to B reaches A in
B's next report.

At the sending installation (`report_receive`, the endpoint /exchange/v1/reports): the checks of
any message (exchange.services), then the report must name a consignment sent to that peer and
units that peer hosts among its recipients; every forward must enclose what it forwards (the
digest of the document delivered, then of each cover above it: equal at every hop), or it is
refused (digest_mismatch). It is kept as signed (`ReceivedReport`) with a REPORT_ACCEPTED event,
and the chain (workflow.selectors.chain_for_document) shows the newest one below the deliveries
it names. A report is the reporting installation's signed statement of its part of the chain; the
receipts of the units of its peers are verified there, with their keys.

A report, version 1 (same body and headers as a consignment; "files" is empty):

    {"protocol": "gongwen-exchange/1", "type": "report", "id": "<UUID>",
     "consignment": "<the consignment's id>", "from": {"installation": "B"},
     "version": <a number that grows with each report of the consignment>,
     "at": "<ISO 8601, when it was made>",
     "units": [{"unit": "<a recipient unit of the consignment>", "forwards": [<node>, …]}, …]}

A node is a forward as the chain's JSON writes it (manage.py chain --json), every key present:
number, title, issuer, installation (where it was issued), kind, urgency, page_count, date,
signature_organ, main_recipients_text, digest, issued_at, encloses [{number, digest}] and
deliveries [{unit, installation, role, state, read_at, signed_at, completed_at, receipt_digest,
deadline_sign_for, deadline_complete, reminders, forwards: [<node>, …]}].
"""

import datetime
import hashlib
import json
import re
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from documents.models import RecipientRole
from exchange import keys
from exchange.envelope import Code, Received, Refused, answer_parts, canonical, utc_text
from exchange.keys import PROTOCOL
from exchange.models import Outgoing, OutgoingConsignment, OutgoingReport, Peer, ReceivedConsignment, ReceivedReport
from exchange.outgoing import lease
from exchange.services import Answer, Duplicate, Handler, duplicate_of, message_receive
from workflow.audit import audit_record
from workflow.enqueue import queue_for
from workflow.models import AuditVerb, Delivery, Forward
from workflow.selectors import ChainNode, chain_for_document

# Report ids: UUID 5 of the installation, the consignment and the version, in this namespace.
_NAMESPACE = uuid.UUID("9d3c1f0a-6b7e-4a52-8f14-3e2a7c5d0b96")
# How deep a reported tree may nest: far beyond any real chain (a region's is 4 or 5 levels).
MAX_DEPTH = 40


# --- the reporting installation's side (B) ------------------------------------------------------


def _stamped(data: dict, own: str) -> dict:
    """A node of this installation's chain JSON with every installation named: its own for the
    documents and units here (None in the chain's JSON)."""
    data["installation"] = data["installation"] or own
    for delivery in data["deliveries"]:
        delivery["installation"] = delivery["installation"] or own
        for forward in delivery["forwards"]:
            _stamped(forward, own)
    return data


def report_units(consignment: ReceivedConsignment, tree: ChainNode) -> list[dict]:
    """What a report of the consignment says: per recipient unit of it, the forwards below its
    delivery (from `tree`, the chain of the consignment's document here), in the order of the units'
    names."""
    own = settings.EXCHANGE_INSTALLATION
    units = [
        {"unit": delivery.unit, "forwards": [_stamped(forward.as_json(), own) for forward in delivery.forwards]}
        for delivery in tree.deliveries
        if delivery.dispatch_id == consignment.dispatch_id
    ]
    return sorted(units, key=lambda entry: entry["unit"])


def reports_owed(events: list[dict], now) -> int:
    """Mark the consignments taken in whose chain below had events in this batch (exchange.derive)
    as owing their peer a report: the newest such event's seq, due EXCHANGE_REPORT_SECONDS after
    their last report (at once for the first). Returns how many were marked."""
    documents = {event["document_id"] for event in events if event["document_id"] is not None}
    if not documents or not ReceivedConsignment.objects.exists():
        return 0
    roots = dict(Forward.objects.filter(cover_id__in=documents).values_list("cover_id", "chain_root_id"))
    newest: dict[int, int] = {}
    for event in events:
        root = roots.get(event["document_id"])
        if root is not None:
            newest[root] = max(newest.get(root, 0), event["seq"])
    if not newest:
        return 0
    interval = datetime.timedelta(seconds=settings.EXCHANGE_REPORT_SECONDS)
    marked = 0
    last_made = OutgoingReport.objects.filter(consignment=OuterRef("pk")).order_by("-version").values("created_at")[:1]
    consignments = ReceivedConsignment.objects.filter(dispatch__document_id__in=newest).annotate(
        last_made=Subquery(last_made)
    )
    for consignment in consignments.values("pk", "dispatch__document_id", "report_due_at", "last_made"):
        due = consignment["report_due_at"]
        if due is None:
            due = max(now, consignment["last_made"] + interval) if consignment["last_made"] else now
        marked += ReceivedConsignment.objects.filter(pk=consignment["pk"]).update(
            report_version=Greatest(
                Coalesce(F("report_version"), Value(0)), Value(newest[consignment["dispatch__document_id"]])
            ),
            report_due_at=due,
        )
    return marked


def reports_make(key, now, *, limit: int = 100) -> list[OutgoingReport]:
    """The reports owed and due (`reports_owed`), read from the chain as it stands: one per
    consignment, unless it would say what the last one said; the debts are settled either way."""
    owed = ReceivedConsignment.objects.filter(report_due_at__lte=now).select_related("peer", "dispatch__document")
    rows, trees = [], {}
    for consignment in owed.order_by("report_due_at", "pk")[:limit]:
        document, version = consignment.dispatch.document, consignment.report_version
        ReceivedConsignment.objects.filter(pk=consignment.pk).update(report_version=None, report_due_at=None)
        if document.pk not in trees:
            trees[document.pk] = chain_for_document(document)
        units = report_units(consignment, trees[document.pk])
        content = hashlib.sha256(canonical(units)).hexdigest()
        last = consignment.reports.order_by("-version").values_list("version", "content_sha256").first()
        if last is not None and (last[0] >= version or last[1] == content):
            continue
        envelope = {
            "protocol": PROTOCOL,
            "type": "report",
            "id": str(uuid.uuid5(_NAMESPACE, f"{settings.EXCHANGE_INSTALLATION}:{consignment.pk}:{version}")),
            "consignment": str(consignment.consignment_id),
            "from": {"installation": settings.EXCHANGE_INSTALLATION},
            "version": version,
            "at": utc_text(now),
            "units": units,
        }
        envelope_bytes = canonical(envelope)
        rows.append(
            OutgoingReport(
                report_id=envelope["id"],
                peer=consignment.peer,
                consignment=consignment,
                version=version,
                content_sha256=content,
                envelope=envelope_bytes,
                signature=keys.envelope_signature(key, envelope_bytes),
                queue=queue_for(document.urgency),
                created_at=now,
                next_attempt_at=now,
            )
        )
    return rows


def reports_supersede(rows: list[OutgoingReport], now) -> int:
    """Older reports of the same consignments, still pending, are not sent (again): the new ones say
    more. Not one a worker may be posting now (claimed within its lease): its answer is recorded."""
    superseded = 0
    for row in rows:
        superseded += (
            OutgoingReport.objects.filter(
                consignment_id=row.consignment_id, version__lt=row.version, state=Outgoing.State.PENDING
            )
            .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - lease()))
            .update(state=Outgoing.State.SUPERSEDED)
        )
    return superseded


# --- the sending installation's side (A) -----------------------------------------------------------


def _malformed(what: str) -> Refused:
    return Refused(Code.MALFORMED, _("不是有效的转发情况报告：%(what)s。") % {"what": what})


_KEYS = {"protocol", "type", "id", "consignment", "from", "version", "at", "units"}
_NODE_KEYS = {
    "number",
    "title",
    "issuer",
    "installation",
    "kind",
    "urgency",
    "page_count",
    "date",
    "signature_organ",
    "main_recipients_text",
    "digest",
    "issued_at",
    "encloses",
    "deliveries",
}
_DELIVERY_KEYS = {
    "unit",
    "installation",
    "role",
    "state",
    "read_at",
    "signed_at",
    "completed_at",
    "receipt_digest",
    "deadline_sign_for",
    "deadline_complete",
    "reminders",
    "forwards",
}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ROLES = set(RecipientRole.values)
_STATES = set(Delivery.State.values)


def _texts(data: dict, names: tuple[str, ...], *, null: bool = False) -> bool:
    return all(isinstance(data[name], str) or (null and data[name] is None) for name in names)


def _moments(data: dict, names: tuple[str, ...]) -> bool:
    for name in names:
        if data[name] is None:
            continue
        try:
            if not isinstance(data[name], str) or datetime.datetime.fromisoformat(data[name]).tzinfo is None:
                return False
        except ValueError:
            return False
    return True


def _node_check(node: object, depth: int) -> None:
    """A node of a report has the chain JSON's shape (module docstring), else Refused(MALFORMED)."""
    if depth > MAX_DEPTH:
        raise _malformed(_("转发层级过深"))
    if not isinstance(node, dict) or set(node) != _NODE_KEYS:
        raise _malformed(_("转发公文"))
    if not (
        _texts(node, ("number", "title", "issuer", "installation", "signature_organ", "main_recipients_text"))
        and _texts(node, ("kind", "urgency", "date"), null=True)
        and (node["page_count"] is None or type(node["page_count"]) is int)
        and isinstance(node["digest"], str)
        and _HEX64.match(node["digest"])
        and _moments(node, ("issued_at",))
        and isinstance(node["encloses"], list)
        and isinstance(node["deliveries"], list)
    ):
        raise _malformed(_("转发公文“%(number)s”") % {"number": str(node.get("number", ""))[:100]})
    if node["date"] is not None:
        try:
            datetime.date.fromisoformat(node["date"])
        except ValueError:
            raise _malformed(_("成文日期")) from None
    for enclosed in node["encloses"]:
        if not (
            isinstance(enclosed, dict)
            and set(enclosed) == {"number", "digest"}
            and _texts(enclosed, ("number", "digest"))
            and _HEX64.match(enclosed["digest"])
        ):
            raise _malformed(_("所附公文"))
    for delivery in node["deliveries"]:
        if not (
            isinstance(delivery, dict)
            and set(delivery) == _DELIVERY_KEYS
            and _texts(delivery, ("unit", "installation"))
            and delivery["role"] in _ROLES
            and delivery["state"] in _STATES
            and _texts(delivery, ("receipt_digest",), null=True)
            and _moments(delivery, ("read_at", "signed_at", "completed_at", "deadline_sign_for", "deadline_complete"))
            and type(delivery["reminders"]) is int
            and delivery["reminders"] >= 0
            and isinstance(delivery["forwards"], list)
        ):
            raise _malformed(_("“%(number)s”的送达") % {"number": node["number"][:100]})
        for forward in delivery["forwards"]:
            _node_check(forward, depth + 1)


def report_parse(body: bytes) -> Received:
    """The body as a Received (its envelope the report), or Refused(MALFORMED) naming what is wrong."""
    report, signature, files = answer_parts(body, _malformed, "report", _KEYS)
    if not isinstance(report["from"], dict) or set(report["from"]) != {"installation"}:
        raise _malformed("from")
    if type(report["version"]) is not int or report["version"] < 1:
        raise _malformed(_("版本号"))
    if not isinstance(signature, str) or files != {}:
        raise _malformed(_("签名或文件"))
    if not isinstance(report["units"], list):
        raise _malformed("units")
    for entry in report["units"]:
        if not (
            isinstance(entry, dict)
            and set(entry) == {"unit", "forwards"}
            and isinstance(entry["unit"], str)
            and isinstance(entry["forwards"], list)
        ):
            raise _malformed("units")
        for forward in entry["forwards"]:
            _node_check(forward, 1)
    if len({entry["unit"] for entry in report["units"]}) != len(report["units"]):
        raise _malformed(_("收文单位重复"))
    return Received(envelope=report, envelope_bytes=canonical(report), signature=signature, files={})


def _duplicate(peer: Peer, received: Received) -> Answer | None:
    return duplicate_of(ReceivedReport.objects.filter(peer=peer, report_id=received.envelope["id"]), received)


def _hops_check(forwards: list[dict], enclosed: str) -> int:
    """Every forward encloses the document it was forwarded from (`enclosed`, its digest), all the
    way down; the number of forwards checked, or Refused(DIGEST_MISMATCH) naming the first that does
    not."""
    count = 0
    for forward in forwards:
        if enclosed not in {entry["digest"] for entry in forward["encloses"]}:
            raise Refused(
                Code.DIGEST_MISMATCH,
                _("转发公文%(number)s所附的公文与所转发公文的摘要不符。") % {"number": forward["number"][:100]},
            )
        count += 1
        for delivery in forward["deliveries"]:
            count += _hops_check(delivery["forwards"], forward["digest"])
    return count


def _take_in(peer: Peer, received: Received, now) -> Answer:
    report = received.envelope
    consignment = (
        OutgoingConsignment.objects.filter(peer=peer, consignment_id=report["consignment"])
        .select_related("dispatch")
        .first()
    )
    if consignment is None:
        raise Refused(Code.NOT_ACCEPTED, _("本系统没有发给对端系统的这件公文。"))
    digests = dict(
        Delivery.objects.filter(dispatch_id=consignment.dispatch_id, unit__peer=peer).values_list(
            "unit__name", "document__digest"
        )
    )
    forwards = 0
    for entry in report["units"]:
        if entry["unit"] not in digests:
            raise Refused(
                Code.NOT_ACCEPTED,
                _("“%(unit)s”不是这件公文在对端系统的收文单位。") % {"unit": entry["unit"][:100]},
            )
        forwards += _hops_check(entry["forwards"], digests[entry["unit"]])
    newest = consignment.reports.order_by("-version").values_list("version", flat=True).first()
    try:
        with transaction.atomic():
            ReceivedReport.objects.create(
                peer=peer,
                report_id=report["id"],
                envelope=received.envelope_bytes,
                signature=received.signature,
                consignment=consignment,
                version=report["version"],
                received_at=now,
            )
    except IntegrityError:
        raise Duplicate from None
    audit_record(
        actor=None,
        verb=AuditVerb.REPORT_ACCEPTED,
        object_type="Dispatch",
        object_id=consignment.dispatch_id,
        unit=consignment.dispatch.issuing_unit_id,
        document=consignment.dispatch.document_id,
        payload={
            "peer": peer.name,
            "report": report["id"],
            "consignment": report["consignment"],
            "version": report["version"],
            # An older version than one kept already is kept too, and shown by none.
            "newest": newest is None or report["version"] > newest,
            "forwards": forwards,
        },
    )
    return Answer(Code.ACCEPTED, _("已接收。"), report["id"], now)


REPORTS = Handler("report", report_parse, _duplicate, _take_in, AuditVerb.REPORT_REFUSED)


def report_receive(**kwargs) -> Answer:
    return message_receive(REPORTS, **kwargs)


def reported_forwards(documents: QuerySet, *, until: datetime.datetime | None = None) -> dict[tuple[int, str], list]:
    """(dispatch id, unit name) -> the forwards its peer reported below that delivery, as JSON, from
    the newest report of each consignment of `documents` (received by `until` when given): one
    query (a correlated subquery by the index received_report_newest, on any database)."""
    kept = ReceivedReport.objects.all() if until is None else ReceivedReport.objects.filter(received_at__lte=until)
    newest_of_its_consignment = kept.filter(consignment=OuterRef("consignment")).order_by("-version", "-pk")
    newest = kept.filter(
        consignment__dispatch__document__in=documents, pk=Subquery(newest_of_its_consignment.values("pk")[:1])
    ).values_list("consignment__dispatch_id", "envelope")
    found = {}
    for dispatch_id, envelope in newest:
        for entry in json.loads(bytes(envelope))["units"]:
            found[(dispatch_id, entry["unit"])] = entry["forwards"]
    return found
