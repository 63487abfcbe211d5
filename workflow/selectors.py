"""Reads shaped for screens, APIs and commands, already restricted to what the person may see."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import BooleanField, Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from documents.models import Document, Enclosure, Urgency
from documents.numbering import format_number
from units.selectors import unit_list_for_member
from workflow.deadlines import overdue_q
from workflow.models import AuditEvent, AuditVerb, Completion, Delivery, Forward

User = AbstractBaseUser | AnonymousUser | None

URGENCY_RANK = Case(
    *(When(document__urgency=value, then=Value(rank)) for rank, value in enumerate(Urgency.values)),
    default=Value(len(Urgency.values)),
    output_field=IntegerField(),
)


def _is_overdue(now: datetime.datetime) -> Case:
    return Case(When(overdue_q(now), then=Value(True)), default=Value(False), output_field=BooleanField())


def inbox_for_user(user: User, *, states: list[str] | None = None) -> QuerySet[Delivery]:
    """收文: deliveries to the person's units, most urgent first, then newest first.

    Withdrawn (recalled) deliveries are listed too, as their stubs: number, title and state, which
    is all their unit may still see. Each row carries its deadlines (`deadline_sign_for`,
    `deadline_complete`) and `is_overdue` (the badge).
    """
    deliveries = (
        Delivery.objects.filter(unit__in=unit_list_for_member(user))
        .select_related("document", "document__issuing_unit", "unit")
        .annotate(urgency_rank=URGENCY_RANK, is_overdue=_is_overdue(timezone.now()))
        .order_by("urgency_rank", "-created_at", "-id")
    )
    if states:
        deliveries = deliveries.filter(state__in=states)
    return deliveries


def completion_list_for_chain(document: Document) -> QuerySet[Completion]:
    """办结 feedback (落实情况) of a document and of every issued cover letter below it in the chain.

    The caller has passed the chain's door (workflow.access.access_chain): the feedback is for the
    issuing unit's people and the chain's auditors. Two queries with the attachments."""
    below = Enclosure.objects.filter(enclosed=document, depth__gt=0, cover__state=Document.State.ISSUED)
    return (
        Completion.objects.filter(Q(delivery__document=document) | Q(delivery__document__in=below.values("cover_id")))
        .select_related("unit", "completed_by", "delivery__document")
        .prefetch_related("attachments")
        .order_by("completed_at", "id")
    )


@dataclass
class ChainDelivery:
    id: int
    unit_id: int
    unit: str
    role: str
    state: str
    read_at: datetime.datetime | None
    signed_at: datetime.datetime | None
    receipt_digest: str | None
    deadline_sign_for: datetime.datetime | None = None
    deadline_complete: datetime.datetime | None = None
    reminders: int = 0
    completed_at: datetime.datetime | None = None
    forwards: list["ChainNode"] = field(default_factory=list)
    # The 办结 record, for a page listing the feedback of a chain as it stood (chain_as_of only).
    completion_id: int | None = None

    def as_json(self) -> dict:
        return {
            "unit": self.unit,
            "role": self.role,
            "state": self.state,
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "receipt_digest": self.receipt_digest,
            "deadline_sign_for": self.deadline_sign_for.isoformat() if self.deadline_sign_for else None,
            "deadline_complete": self.deadline_complete.isoformat() if self.deadline_complete else None,
            "reminders": self.reminders,
            "forwards": [node.as_json() for node in self.forwards],
        }

    def sign_for_lateness(self, now: datetime.datetime) -> datetime.timedelta | None:
        """How late the sign-for was (or is, still unsigned); None when on time or without a clock."""
        if self.deadline_sign_for is None or self.state == Delivery.State.RETURNED:
            return None
        if self.signed_at is None and self.state in Delivery.WITHDRAWN_STATES:
            return None
        late = (self.signed_at or now) - self.deadline_sign_for
        return late if late >= datetime.timedelta(0) else None

    def completion_lateness(self, now: datetime.datetime) -> datetime.timedelta | None:
        """How late the completion was (or is, still open); None when on time or not applicable."""
        if self.deadline_complete is None or self.state == Delivery.State.RETURNED:
            return None
        if self.completed_at is None and self.state in Delivery.WITHDRAWN_STATES:
            return None
        late = (self.completed_at or now) - self.deadline_complete
        return late if late >= datetime.timedelta(0) else None


@dataclass
class ChainNode:
    id: int
    number: str
    title: str
    issuer: str
    issuer_id: int
    kind: str
    urgency: str
    page_count: int | None
    digest: str
    issued_at: datetime.datetime | None
    depth: int
    encloses: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[ChainDelivery] = field(default_factory=list)
    # Deliveries the audit events say were created whose rows are gone (chain_as_of only): a row
    # deleted behind the services' back, which the replay cannot show but will not hide.
    missing_unit_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        data = {
            "number": self.number,
            "title": self.title,
            "issuer": self.issuer,
            "kind": self.kind,
            "urgency": self.urgency,
            "page_count": self.page_count,
            "digest": self.digest,
            "encloses": [{"number": number, "digest": digest} for number, digest in self.encloses],
            "deliveries": [delivery.as_json() for delivery in self.deliveries],
        }
        if self.missing_unit_ids:
            data["missing_delivery_unit_ids"] = self.missing_unit_ids
        return data

    def walk(self):
        """Every node of the tree, top down."""
        yield self
        for delivery in self.deliveries:
            for node in delivery.forwards:
                yield from node.walk()


_NODE_FIELDS = (
    "id",
    "number_prefix",
    "number_year",
    "number_serial",
    "title",
    "issuing_unit__name",
    "issuing_unit_id",
    "kind",
    "urgency",
    "page_count",
    "digest",
    "issued_at",
)


def _chain_position(document: Document) -> tuple[int, int]:
    """The chain's root document and the depth of `document` below it (0: it is the root)."""
    upstream = Forward.objects.filter(cover=document).values_list("chain_root_id", "depth").first()
    return upstream if upstream else (document.pk, 0)


def _enclosed_by(chain_documents: QuerySet[Document]) -> dict[int, list[tuple[str, str]]]:
    """What each cover letter of the chain encloses directly: (number, digest), in order. One query."""
    encloses: dict[int, list[tuple[str, str]]] = {}
    for cover_id, prefix, year, serial, digest in (
        Enclosure.objects.filter(cover__in=chain_documents.values("pk"), depth=1)
        .order_by("cover_id", "position")
        .values_list(
            "cover_id",
            "enclosed__number_prefix",
            "enclosed__number_year",
            "enclosed__number_serial",
            "enclosed__digest",
        )
    ):
        encloses.setdefault(cover_id, []).append((format_number(prefix, year, serial), digest))
    return encloses


def chain_for_document(document: Document) -> ChainNode:
    """The forwarding tree below an issued document, in five queries whatever its size.

    The caller has already passed the door (workflow.access.access_chain). The tree holds only
    issued cover letters; drafts of a forward appear once they are issued.
    """
    root_id, top_depth = _chain_position(document)
    forwards = Forward.objects.filter(chain_root_id=root_id, depth__gt=top_depth, cover__state=Document.State.ISSUED)
    chain_documents = Document.objects.filter(Q(pk=document.pk) | Q(pk__in=forwards.values("cover_id")))
    source_of, depth_of = {}, {document.pk: top_depth}
    for cover_id, delivery_id, depth in forwards.values_list("cover_id", "source_delivery_id", "depth"):
        source_of[cover_id], depth_of[cover_id] = delivery_id, depth
    encloses = _enclosed_by(chain_documents)
    nodes = {
        pk: ChainNode(
            id=pk,
            number=format_number(prefix, year, serial),
            title=title,
            issuer=issuer,
            issuer_id=issuer_id,
            kind=kind,
            urgency=urgency,
            page_count=page_count,
            digest=digest,
            issued_at=issued_at,
            depth=depth_of[pk] - top_depth,
            encloses=encloses.get(pk, []),
        )
        for pk, prefix, year, serial, title, issuer, issuer_id, kind, urgency, page_count, digest, issued_at in (
            chain_documents.values_list(*_NODE_FIELDS)
        )
    }
    deliveries: dict[int, ChainDelivery] = {}
    for row in (
        Delivery.objects.filter(document__in=chain_documents.values("pk"))
        .order_by("document_id", "id")
        .values_list(
            "id",
            "document_id",
            "unit_id",
            "unit__name",
            "role",
            "state",
            "read_at",
            "signed_at",
            "receipt__content_digest",
            "deadline_sign_for",
            "deadline_complete",
            "reminder_count",
            "completed_at",
        )
    ):
        delivery = ChainDelivery(row[0], *row[2:])
        deliveries[delivery.id] = delivery
        nodes[row[1]].deliveries.append(delivery)
    for cover_id, delivery_id in sorted(source_of.items()):
        if cover_id in nodes and delivery_id in deliveries:
            deliveries[delivery_id].forwards.append(nodes[cover_id])
    return nodes[document.pk]


# --- the chain as it stood at a moment ----------------------------------------------------------

# The events a replay reads; what each one's payload holds is written where _Replay applies it (and
# in workflow/services, which record them). The chain's other events (drafted, signed off, attached,
# notified, escalated) change nothing the tree shows.
REPLAYED_VERBS = (
    AuditVerb.DOCUMENT_ISSUED,
    AuditVerb.DOCUMENT_REGISTERED,
    AuditVerb.DELIVERIES_CREATED,
    AuditVerb.DELIVERY_READ,
    AuditVerb.DELIVERY_SIGNED,
    AuditVerb.DELIVERY_RETURNED,
    AuditVerb.DELIVERY_COMPLETED,
    AuditVerb.DELIVERY_REMINDED,
    AuditVerb.DISPATCH_RECALLED,
    AuditVerb.DELIVERY_RECALLED,
    AuditVerb.DELIVERIES_WITHDRAWN,
)


def _moment(text: str | None) -> datetime.datetime | None:
    """A deadline as an event's payload writes it, in UTC as the database gives the rows' moments."""
    return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC) if text else None


@dataclass(frozen=True)
class _DeliveryRow:
    """What a delivery's row says that was fixed when it was inserted and that no service changes."""

    document_id: int
    dispatch_id: int
    unit_id: int
    unit: str
    role: str


@dataclass
class _Replay:
    """The chain's events applied in order (by seq) to an empty chain."""

    rows: dict[int, _DeliveryRow]
    # (dispatch, unit) -> delivery: DELIVERIES_CREATED names the units of a chunk, not the rows.
    by_unit: dict[tuple[int, int], int] = field(default_factory=dict)
    by_dispatch: dict[int, list[int]] = field(default_factory=dict)
    # document -> (issued at, number, digest), as DOCUMENT_ISSUED (or DOCUMENT_REGISTERED) said.
    issued: dict[int, tuple[datetime.datetime, str, str]] = field(default_factory=dict)
    # dispatch -> (sign-for deadline, completion deadline), fixed at issue and copied to each delivery.
    deadlines: dict[int, tuple[datetime.datetime | None, datetime.datetime | None]] = field(default_factory=dict)
    deliveries: dict[int, ChainDelivery] = field(default_factory=dict)
    # document -> the units of deliveries created by the events whose rows are not in the table.
    missing: dict[int, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for delivery_id, row in self.rows.items():
            self.by_unit[(row.dispatch_id, row.unit_id)] = delivery_id
            self.by_dispatch.setdefault(row.dispatch_id, []).append(delivery_id)

    def apply(self, at: datetime.datetime, verb: str, object_type: str, object_id: str, document_id: int, payload):
        delivery = self.deliveries.get(int(object_id)) if object_type == "Delivery" else None
        if verb == AuditVerb.DOCUMENT_ISSUED:
            # {number, digest, dispatch_id, main, cc, deadline_sign_for, deadline_complete, …}
            self.issued.setdefault(document_id, (at, payload["number"], payload["digest"]))
            self._fix_deadlines(payload)
        elif verb == AuditVerb.DOCUMENT_REGISTERED and object_type == "Document":
            # 收文登记 of a paper document: {number, digest, issuing_unit_id, encloses, file, sha256}
            self.issued.setdefault(document_id, (at, payload["number"], payload["digest"]))
        elif verb == AuditVerb.DOCUMENT_REGISTERED and object_type == "Delivery":
            # Its delivery to the registering unit, routed at once: {dispatch_id, deadline_*, …}
            self._fix_deadlines(payload)
            self._create(int(object_id))
        elif verb == AuditVerb.DELIVERIES_CREATED:
            # One routing chunk of the dispatch: {count, unit_ids, recall_id when already recalled}
            for unit_id in payload["unit_ids"]:
                delivery_id = self.by_unit.get((int(object_id), unit_id))
                if delivery_id is None:
                    self.missing.setdefault(document_id, []).append(unit_id)
                else:
                    self._create(delivery_id, withdrawn="recall_id" in payload)
        elif verb in (AuditVerb.DISPATCH_RECALLED, AuditVerb.DELIVERIES_WITHDRAWN, AuditVerb.DELIVERY_RECALLED):
            # DELIVERIES_WITHDRAWN names every delivery a recall took, below the recalled one too
            # ({delivery_ids}, per document, recorded before the recall's own event); the recall's
            # event names its dispatch or its delivery.
            if verb == AuditVerb.DELIVERIES_WITHDRAWN:
                withdrawn = payload["delivery_ids"]
            elif verb == AuditVerb.DISPATCH_RECALLED:
                withdrawn = self.by_dispatch.get(int(object_id), [])
            else:
                withdrawn = [int(object_id)]
            for delivery_id in withdrawn:
                if delivery_id in self.deliveries:
                    _withdraw(self.deliveries[delivery_id])
        elif delivery is None:
            return
        elif verb == AuditVerb.DELIVERY_READ:
            delivery.read_at = delivery.read_at or at
        elif verb == AuditVerb.DELIVERY_SIGNED:
            # {receipt_id, content_digest}; signing is the first reading too, if none came before.
            delivery.state, delivery.signed_at = Delivery.State.SIGNED, at
            delivery.read_at = delivery.read_at or at
            delivery.receipt_digest = payload["content_digest"]
        elif verb == AuditVerb.DELIVERY_RETURNED:
            delivery.state = Delivery.State.RETURNED
        elif verb == AuditVerb.DELIVERY_COMPLETED:
            # {completion_id, feedback, attachments}
            delivery.state, delivery.completed_at = Delivery.State.COMPLETED, at
            delivery.completion_id = payload["completion_id"]
        elif verb == AuditVerb.DELIVERY_REMINDED:
            delivery.reminders += 1

    def _fix_deadlines(self, payload: dict) -> None:
        self.deadlines[payload["dispatch_id"]] = (
            _moment(payload.get("deadline_sign_for")),
            _moment(payload.get("deadline_complete")),
        )

    def _create(self, delivery_id: int, *, withdrawn: bool = False) -> None:
        row = self.rows.get(delivery_id)
        if row is None or delivery_id in self.deliveries:
            return
        sign_for, complete = self.deadlines.get(row.dispatch_id, (None, None))
        self.deliveries[delivery_id] = ChainDelivery(
            id=delivery_id,
            unit_id=row.unit_id,
            unit=row.unit,
            role=row.role,
            # A chunk routed after its dispatch was recalled is created withdrawn (dispatch_route).
            state=Delivery.State.RECALLED if withdrawn else Delivery.State.PENDING,
            read_at=None,
            signed_at=None,
            receipt_digest=None,
            deadline_sign_for=sign_for,
            deadline_complete=complete,
        )


def _withdraw(delivery: ChainDelivery) -> None:
    """撤回 as the transition table moves a delivery: an unsigned one to recalled, a held one to
    recalled after signing; a returned or already withdrawn one stays as it is."""
    allowed = Delivery.TRANSITIONS[delivery.state]
    for target in (Delivery.State.RECALLED, Delivery.State.RECALLED_AFTER_SIGNING):
        if target in allowed:
            delivery.state = target
            return


def chain_as_of(document: Document, *, moment: datetime.datetime) -> ChainNode | None:
    """The forwarding tree below a document as it stood at `moment`, replayed from the audit events
    of the chain's documents; None when the document had not been issued by then. Six queries
    whatever the size of the chain; the caller has passed the chain's door (access_chain).

    Not from the rows' current columns: which documents had been issued (number, digest, time),
    which deliveries existed, which were read, signed (the digest signed for), returned, completed,
    withdrawn and urged, and the deadlines they were given, all come from the events with
    occurred_at <= moment, applied in the log's order. From the rows it takes only what was fixed
    when they were written and what no service changes: which cover letter forwards which delivery
    and encloses what, a delivery's dispatch, unit and role, a document's title, issuer, kind,
    urgency and page count (frozen at issue). Times are the events' (a few milliseconds after the
    rows' own); the tree has the shape of chain_for_document's.
    """
    root_id, top_depth = _chain_position(document)
    # Every cover letter of the chain, drafts included: the events say which had been issued by then.
    covers = Forward.objects.filter(chain_root_id=root_id, depth__gt=top_depth)
    chain_documents = Document.objects.filter(Q(pk=document.pk) | Q(pk__in=covers.values("cover_id")))
    source_of, depth_of = {}, {document.pk: top_depth}
    for cover_id, delivery_id, depth in covers.values_list("cover_id", "source_delivery_id", "depth"):
        source_of[cover_id], depth_of[cover_id] = delivery_id, depth
    encloses = _enclosed_by(chain_documents)
    documents = {
        pk: fields
        for pk, *fields in chain_documents.values_list(
            "id", "title", "issuing_unit__name", "issuing_unit_id", "kind", "urgency", "page_count"
        )
    }
    replay = _Replay(
        {
            delivery_id: _DeliveryRow(*fields)
            for delivery_id, *fields in Delivery.objects.filter(document__in=chain_documents.values("pk"))
            .order_by("document_id", "id")
            .values_list("id", "document_id", "dispatch_id", "unit_id", "unit__name", "role")
        }
    )
    # One indexed query (audit_by_document): the chain's events up to the moment, in the log's order.
    events = (
        AuditEvent.objects.filter(
            document__in=chain_documents.values("pk"), occurred_at__lte=moment, verb__in=REPLAYED_VERBS
        )
        .order_by("seq")
        .values_list("occurred_at", "verb", "object_type", "object_id", "document_id", "payload")
    )
    for event in events.iterator(chunk_size=5000):
        replay.apply(*event)
    if document.pk not in replay.issued:
        return None
    nodes = {}
    for pk, (issued_at, number, digest) in replay.issued.items():
        title, issuer, issuer_id, kind, urgency, page_count = documents[pk]
        nodes[pk] = ChainNode(
            id=pk,
            number=number,
            title=title,
            issuer=issuer,
            issuer_id=issuer_id,
            kind=kind,
            urgency=urgency,
            page_count=page_count,
            digest=digest,
            issued_at=issued_at,
            depth=depth_of[pk] - top_depth,
            encloses=encloses.get(pk, []),
            missing_unit_ids=replay.missing.get(pk, []),
        )
    for delivery_id, delivery in sorted(replay.deliveries.items()):
        node = nodes.get(replay.rows[delivery_id].document_id)
        if node is not None:  # a delivery is created after its document's issue, in the same log
            node.deliveries.append(delivery)
    for cover_id, delivery_id in sorted(source_of.items()):
        if cover_id in nodes and delivery_id in replay.deliveries:
            replay.deliveries[delivery_id].forwards.append(nodes[cover_id])
    return nodes[document.pk]
