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
from workflow.models import Completion, Delivery, Forward

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

    def as_json(self) -> dict:
        return {
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


def chain_for_document(document: Document) -> ChainNode:
    """The forwarding tree below an issued document, in five queries whatever its size.

    The caller has already passed the door (workflow.access.access_chain). The tree holds only
    issued cover letters; drafts of a forward appear once they are issued.
    """
    upstream = Forward.objects.filter(cover=document).values_list("chain_root_id", "depth").first()
    root_id, top_depth = upstream if upstream else (document.pk, 0)
    forwards = Forward.objects.filter(chain_root_id=root_id, depth__gt=top_depth, cover__state=Document.State.ISSUED)
    chain_documents = Document.objects.filter(Q(pk=document.pk) | Q(pk__in=forwards.values("cover_id")))
    source_of, depth_of = {}, {document.pk: top_depth}
    for cover_id, delivery_id, depth in forwards.values_list("cover_id", "source_delivery_id", "depth"):
        source_of[cover_id], depth_of[cover_id] = delivery_id, depth
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
