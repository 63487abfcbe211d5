"""Reads shaped for screens, APIs and commands, already restricted to what the person may see."""

import datetime
import json
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.db.models.lookups import IContains
from django.db.models.query import Prefetch
from django.utils import timezone

from documents.models import Attachment, Document, Enclosure, Urgency
from documents.numbering import format_number
from units.models import Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from units.selectors import unit_list_for_member
from units.sql import granted_unit_ids
from workflow.access import enclosed_visibility
from workflow.deadlines import overdue_q
from workflow.models import (
    Assignment,
    AssignmentReport,
    AuditEvent,
    AuditVerb,
    Completion,
    Delegation,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Forward,
    HandlingRecord,
    Instruction,
    Notification,
    Proposal,
    ReadingSlip,
    Recall,
    Receipt,
    Reply,
)
from workflow.services.rules import delivery_actions
from workflow.tally import tally_figure_annotations

User = AbstractBaseUser | AnonymousUser | None

# A delivery's urgency as a rank, the most urgent first: from its own copy (Delivery.urgency), so
# that ordering a unit's deliveries by it reads no document.
URGENCY_RANK = Case(
    *(When(urgency=value, then=Value(rank)) for rank, value in enumerate(Urgency.values)),
    default=Value(len(Urgency.values)),
    output_field=IntegerField(),
)


def overdue_flag(now: datetime.datetime) -> Case:
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
        .annotate(urgency_rank=URGENCY_RANK, is_overdue=overdue_flag(timezone.now()))
        .order_by("urgency_rank", "-created_at", "-id")
    )
    if states:
        deliveries = deliveries.filter(state__in=states)
    return deliveries


# --- the number search: one condition for the inbox, the outbox and the chains list --------------

# Every bracket a clerk types around the year, and full-width digits, read as the printed number's.
_FRAGMENT_FORMS = str.maketrans(
    {
        **dict.fromkeys("[［(（【〖﹝", "〔"),
        **dict.fromkeys("]］)）】〗﹞", "〕"),
        **{chr(ord("０") + digit): str(digit) for digit in range(10)},
    }
)


def number_fragment(text: str) -> str:
    """What was typed of a 发文字号, written as the number is printed (documents.Document.number):
    〔〕 for any bracket, ASCII digits, no spaces, no 第 before the serial. "(2022)11号" ->
    "〔2022〕11号"; "电明字 [2022]" -> "电明字〔2022〕"."""
    return "".join(text.translate(_FRAGMENT_FORMS).split()).replace("〕第", "〕")


def printed_number(path: str = "") -> Concat:
    """The 发文字号 as printed (内组电明字〔2022〕11号), built in the query from the document's
    prefix, year and serial; `path` reaches the document from the rows queried ("document__")."""
    return Concat(
        F(f"{path}number_prefix"),
        Value("〔"),
        Cast(F(f"{path}number_year"), CharField()),
        Value("〕"),
        Cast(F(f"{path}number_serial"), CharField()),
        Value("号"),
        output_field=CharField(),
    )


def number_matches(text: str, path: str = "") -> Q:
    """Documents whose number, as printed, holds what was typed: the whole number or any part of it
    (prefix, year and serial alike, with or across the brackets), in any bracket form.

    Any fragment of a printed number is a substring of it, so one condition serves every fragment:
    parsing fragments into (prefix, year, serial) would need a case for each way a fragment can
    cut the number and would find the same documents. Not indexed: every list it filters is
    already restricted to one person's or one unit's documents.
    """
    fragment = number_fragment(text)
    return Q(**{f"{path}number_serial__isnull": False}) & Q(IContains(printed_number(path), fragment))


def words_match(words: str, path: str = "", *, numbers: tuple[str, ...] = ("",)) -> Q:
    """One search box: every word typed is part of the title or of a number (the document's, or
    another reached through one of `numbers`, paths from the document)."""
    condition = Q()
    for word in words.split():
        match = Q(**{f"{path}title__icontains": word})
        for number_path in numbers:
            match |= number_matches(word, f"{path}{number_path}")
        condition &= match
    return condition


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's search: the page's form fills it, and the API's query.

    `number`: any part of the 发文字号 (number_matches); `words`: words of the title; `text`: words
    each of the title or the number (words_match); `issuer`: the issuing unit's name or mark;
    `date_from`/`date_to`: the day delivered (Beijing time); `urgency`; `states`; `overdue`: past a
    deadline (True) or not (False), either when None.
    """

    number: str = ""
    words: str = ""
    text: str = ""
    issuer: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    urgency: str = ""
    states: tuple[str, ...] = ()
    overdue: bool | None = None

    @property
    def is_empty(self) -> bool:
        return self == InboxFilters()


def inbox_search(deliveries: QuerySet[Delivery], filters: InboxFilters) -> QuerySet[Delivery]:
    """`deliveries` (inbox_for_user's, annotated with is_overdue) narrowed by the search."""
    if filters.number:
        deliveries = deliveries.filter(number_matches(filters.number, "document__"))
    for word in filters.words.split():
        deliveries = deliveries.filter(document__title__icontains=word)
    if filters.text:
        deliveries = deliveries.filter(words_match(filters.text, "document__"))
    if filters.issuer:
        deliveries = deliveries.filter(
            Q(document__issuing_unit__name__icontains=filters.issuer)
            | Q(document__issuing_unit__short_name__icontains=filters.issuer)
            | Q(document__issuer_mark__icontains=filters.issuer)
        )
    if filters.date_from:
        deliveries = deliveries.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        deliveries = deliveries.filter(created_at__date__lte=filters.date_to)
    if filters.urgency:
        deliveries = deliveries.filter(document__urgency=filters.urgency)
    if filters.states:
        deliveries = deliveries.filter(state__in=filters.states)
    if filters.overdue is not None:
        deliveries = deliveries.filter(is_overdue=filters.overdue)
    return deliveries


# What a 撤回 of a whole dispatch would still reach: the states the transition table lets move to a
# withdrawn state.
def dispatch_list_with_progress(dispatches: QuerySet[Dispatch]) -> QuerySet[Dispatch]:
    """`dispatches` with their figures (workflow.tally.DISPATCH_FIGURES: delivered, signed, pending,
    completed, returned, recalled, recallable) and how many forwards were made from them, in the same
    query. The caller has restricted `dispatches` to what the person may see (their units' outbox,
    workflow.access)."""
    forwards = (
        Forward.objects.filter(source_delivery__dispatch=OuterRef("pk"))
        .order_by()
        .values("source_delivery__dispatch")
        .annotate(n=Count("id"))
        .values("n")
    )
    return dispatches.annotate(
        **tally_figure_annotations(), forward_count=Coalesce(Subquery(forwards, output_field=IntegerField()), Value(0))
    )


def dispatch_list_for_units(units: QuerySet[Unit], *, words: str = "") -> QuerySet[Dispatch]:
    """发文 of these units (the person's own, unit_list_for_member, or one of them that passed
    access_unit_as_member), with their figures (dispatch_list_with_progress); with `words`, those
    whose document's title or number holds every word."""
    dispatches = Dispatch.objects.filter(document__issuing_unit__in=units).filter(words_match(words, "document__"))
    return dispatch_list_with_progress(dispatches).select_related("document__issuing_unit", "recall__recalled_by")


def delivery_list_for_dispatch(dispatch: Dispatch) -> QuerySet[Delivery]:
    """The deliveries of a dispatch, each with its unit and `is_overdue`. The caller has passed the
    dispatch's door (workflow.access.access_dispatch: its issuer's people and auditors)."""
    return (
        Delivery.objects.filter(dispatch=dispatch)
        .select_related("unit")
        .annotate(is_overdue=overdue_flag(timezone.now()))
    )


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
    # The installation that hosts the unit (公文交换), or None for a unit of this one: its states
    # come from that installation's receipts.
    installation: str | None = None
    # The dispatch it belongs to (None for a delivery a peer reported: it has no row here).
    dispatch_id: int | None = None
    forwards: list["ChainNode"] = field(default_factory=list)
    # The 办结 record, for a page listing the feedback of a chain as it stood (chain_as_of only).
    completion_id: int | None = None
    # Where its unit stands inside (登记 … 办结): chain_handling_states, for the chain page.
    handling: "HandlingState | None" = None

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
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "installation": self.installation,
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
    written_on: datetime.date | None = None  # 成文日期, None when the document gives none
    signature_organ: str = ""  # 署名
    main_recipients: str = ""  # 主送, as printed
    encloses: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[ChainDelivery] = field(default_factory=list)
    # Deliveries the audit events say were created whose rows are gone (chain_as_of only): a row
    # deleted behind the services' back, which the replay cannot show but will not hide.
    missing_unit_ids: list[int] = field(default_factory=list)
    # The installation that issued it, for a forward a peer reported (公文交换, exchange.reports);
    # None for a document of this installation's chain. Such a node has no row here (id 0).
    installation: str | None = None

    def as_json(self) -> dict:
        data = {
            "number": self.number,
            "title": self.title,
            "issuer": self.issuer,
            "kind": self.kind,
            "urgency": self.urgency,
            "page_count": self.page_count,
            "date": self.written_on.isoformat() if self.written_on else None,  # the key import_document uses
            "signature_organ": self.signature_organ,
            "main_recipients_text": self.main_recipients,
            "digest": self.digest,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "installation": self.installation,
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


# What a node says of its document, as ChainNode's field → the Document lookup (chain_for_document
# and chain_as_of read the same).
_NODE_DOCUMENT_FIELDS = {
    "title": "title",
    "issuer": "issuing_unit__name",
    "issuer_id": "issuing_unit_id",
    "kind": "kind",
    "urgency": "urgency",
    "page_count": "page_count",
    "written_on": "written_on",
    "signature_organ": "signature_organ",
    "main_recipients": "main_recipients_text",
}


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


@dataclass
class ChainSkeleton:
    """The documents of a chain below `root` (ChainNode, without deliveries) and which delivery each
    cover letter was forwarded from: what the tree is, read without its deliveries."""

    root: ChainNode
    nodes: dict[int, ChainNode]
    source_of: dict[int, int]  # cover letter's document id -> the delivery it was forwarded from
    documents: QuerySet[Document]

    def covers_of(self) -> dict[int, list[ChainNode]]:
        """Delivery id -> the cover letters forwarded from it, in the order of their ids."""
        covers: dict[int, list[ChainNode]] = {}
        for cover_id, delivery_id in sorted(self.source_of.items()):
            if cover_id in self.nodes:
                covers.setdefault(delivery_id, []).append(self.nodes[cover_id])
        return covers


def chain_skeleton(document: Document) -> ChainSkeleton:
    """The chain's documents below an issued document, in four queries whatever its size (issued cover
    letters only: drafts of a forward appear once they are issued). The caller has passed the door
    (workflow.access.access_chain)."""
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
            digest=digest,
            issued_at=issued_at,
            depth=depth_of[pk] - top_depth,
            encloses=encloses.get(pk, []),
            **dict(zip(_NODE_DOCUMENT_FIELDS, described, strict=True)),
        )
        for pk, prefix, year, serial, digest, issued_at, *described in chain_documents.values_list(
            "id",
            "number_prefix",
            "number_year",
            "number_serial",
            "digest",
            "issued_at",
            *_NODE_DOCUMENT_FIELDS.values(),
        )
    }
    return ChainSkeleton(nodes[document.pk], nodes, source_of, chain_documents)


# A ChainDelivery's fields after its id, as the Delivery lookups that read them.
_CHAIN_DELIVERY_FIELDS = (
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
    "unit__peer__name",
    "dispatch_id",
)


def _moment_of(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None


def chain_node_from_json(data: dict, depth: int) -> ChainNode:
    """A node as ChainNode.as_json wrote it (a peer's report: exchange.reports, which checked its
    shape when it came), at `depth` below the top of the tree shown; it and its deliveries have no
    rows here (ids 0)."""
    deliveries = [
        ChainDelivery(
            id=0,
            unit_id=0,
            unit=delivery["unit"],
            role=delivery["role"],
            state=delivery["state"],
            read_at=_moment_of(delivery["read_at"]),
            signed_at=_moment_of(delivery["signed_at"]),
            receipt_digest=delivery["receipt_digest"],
            deadline_sign_for=_moment_of(delivery["deadline_sign_for"]),
            deadline_complete=_moment_of(delivery["deadline_complete"]),
            reminders=delivery["reminders"],
            completed_at=_moment_of(delivery["completed_at"]),
            installation=delivery["installation"],
            forwards=[chain_node_from_json(forward, depth + 1) for forward in delivery["forwards"]],
        )
        for delivery in data["deliveries"]
    ]
    return ChainNode(
        id=0,
        number=data["number"],
        title=data["title"],
        issuer=data["issuer"],
        issuer_id=0,
        kind=data["kind"],
        urgency=data["urgency"],
        page_count=data["page_count"],
        digest=data["digest"],
        issued_at=_moment_of(data["issued_at"]),
        depth=depth,
        written_on=datetime.date.fromisoformat(data["date"]) if data["date"] else None,
        signature_organ=data["signature_organ"],
        main_recipients=data["main_recipients_text"],
        encloses=[(enclosed["number"], enclosed["digest"]) for enclosed in data["encloses"]],
        deliveries=deliveries,
        installation=data["installation"],
    )


class _Reported:
    """The forwards the peers reported below a chain's deliveries to units other installations
    host (公文交换: the newest report of each consignment, received by `until` when given), read in
    one query at the first such delivery asked about: none for a chain that crossed nothing."""

    def __init__(self, documents: QuerySet[Document], *, until: datetime.datetime | None = None) -> None:
        self.documents, self.until, self.by_delivery = documents, until, None

    def data(self, delivery: ChainDelivery) -> list[dict]:
        """As the report wrote them (ChainNode.as_json)."""
        if self.by_delivery is None:
            from exchange.reports import reported_forwards

            self.by_delivery = reported_forwards(self.documents.values("pk"), until=self.until)
        return self.by_delivery.get((delivery.dispatch_id, delivery.unit), [])

    def nodes(self, delivery: ChainDelivery, depth: int) -> list[ChainNode]:
        return [chain_node_from_json(data, depth) for data in self.data(delivery)]


def _reported(nodes: list[ChainNode], reported: _Reported) -> None:
    """Below each delivery of `nodes` to another installation's unit, what its peer reported."""
    for node in nodes:
        for delivery in node.deliveries:
            if delivery.installation:
                delivery.forwards.extend(reported.nodes(delivery, node.depth + 1))


def chain_for_document(document: Document) -> ChainNode:
    """The forwarding tree below an issued document, in five queries whatever its size (six when some
    delivery went to another installation: its peer's reports, `_Reported`): the whole tree in
    memory (the page and exports of a chain up to CHAIN_TREE_LIMIT deliveries; above it,
    chain_stream_json and chain_stream_rows). The caller has passed the door (access_chain)."""
    skeleton = chain_skeleton(document)
    deliveries: dict[int, ChainDelivery] = {}
    for row in (
        Delivery.objects.filter(document__in=skeleton.documents.values("pk"))
        .order_by("document_id", "id")
        .values_list("id", "document_id", *_CHAIN_DELIVERY_FIELDS)
    ):
        delivery = ChainDelivery(row[0], *row[2:])
        deliveries[delivery.id] = delivery
        skeleton.nodes[row[1]].deliveries.append(delivery)
    for delivery_id, covers in skeleton.covers_of().items():
        if delivery_id in deliveries:
            deliveries[delivery_id].forwards.extend(covers)
    _reported(list(skeleton.nodes.values()), _Reported(skeleton.documents))
    return skeleton.root


# A streamed export reads a node's deliveries this many at a time from a server-side cursor.
CHAIN_STREAM_CHUNK = 2000


def _node_deliveries(node: ChainNode) -> Iterator[ChainDelivery]:
    """A node's deliveries in the order of their ids, from a server-side cursor (one query)."""
    rows = (
        Delivery.objects.filter(document_id=node.id)
        .order_by("id")
        .values_list("id", *_CHAIN_DELIVERY_FIELDS)
        .iterator(chunk_size=CHAIN_STREAM_CHUNK)
    )
    for row in rows:
        yield ChainDelivery(*row)


def chain_stream_rows(document: Document) -> Iterator[tuple[ChainNode, ChainDelivery, list[ChainNode]]]:
    """The chain as ChainNode.walk orders it (a node's deliveries, then the trees forwarded from
    them), one delivery at a time: (its node, the delivery, the cover letters forwarded from it).
    Never the whole tree in memory: a server-side cursor per node (one query each), nested no deeper
    than the chain. For the CSV of a chain of any size; run inside a transaction (the cursors)."""
    skeleton = chain_skeleton(document)
    covers_of = skeleton.covers_of()
    reported = _Reported(skeleton.documents)

    def walk(node: ChainNode):
        below = []
        for delivery in _node_deliveries(node) if node.id else node.deliveries:
            covers = covers_of.get(delivery.id, []) if node.id else delivery.forwards
            if delivery.installation and node.id:
                covers = covers + reported.nodes(delivery, node.depth + 1)
            below.extend(covers)
            yield node, delivery, covers
        for cover in below:
            yield from walk(cover)

    yield from walk(skeleton.root)


def chain_stream_json(document: Document) -> Iterator[str]:
    """The chain's JSON (ChainNode.as_json, the same document) as text, piece by piece: each
    delivery's forwards nested in it, read as chain_stream_rows reads them (a cursor per node)."""
    skeleton = chain_skeleton(document)
    covers_of = skeleton.covers_of()
    reported = _Reported(skeleton.documents)

    def opened(data: dict, key: str) -> str:
        # The object's text without its closing brace, then the key of the list that follows.
        return json.dumps(data, ensure_ascii=False)[:-1] + (", " if data else "") + json.dumps(key) + ": ["

    def node_text(node: ChainNode):
        head = node.as_json()
        del head["deliveries"]
        yield opened(head, "deliveries")
        for n, delivery in enumerate(_node_deliveries(node)):
            data = delivery.as_json()
            del data["forwards"]
            yield ("," if n else "") + opened(data, "forwards")
            for m, cover in enumerate(covers_of.get(delivery.id, [])):
                if m:
                    yield ","
                yield from node_text(cover)
            if delivery.installation:
                # What the peer reported is JSON already, in this shape.
                for m, data in enumerate(reported.data(delivery)):
                    yield ("," if m or covers_of.get(delivery.id) else "") + json.dumps(data, ensure_ascii=False)
            yield "]}"
        yield "]}"

    yield from node_text(skeleton.root)


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
    installation: str | None  # the peer hosting the unit (公文交换), None for a unit here


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
            installation=row.installation,
            dispatch_id=row.dispatch_id,
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
    whatever the size of the chain (seven with peers' reports: those received by `moment`); the
    caller has passed the chain's door (access_chain).

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
        pk: dict(zip(_NODE_DOCUMENT_FIELDS, described, strict=True))
        for pk, *described in chain_documents.values_list("id", *_NODE_DOCUMENT_FIELDS.values())
    }
    replay = _Replay(
        {
            delivery_id: _DeliveryRow(*fields)
            for delivery_id, *fields in Delivery.objects.filter(document__in=chain_documents.values("pk"))
            .order_by("document_id", "id")
            .values_list("id", "document_id", "dispatch_id", "unit_id", "unit__name", "role", "unit__peer__name")
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
        nodes[pk] = ChainNode(
            id=pk,
            number=number,
            digest=digest,
            issued_at=issued_at,
            depth=depth_of[pk] - top_depth,
            encloses=encloses.get(pk, []),
            missing_unit_ids=replay.missing.get(pk, []),
            **documents[pk],
        )
    for delivery_id, delivery in sorted(replay.deliveries.items()):
        node = nodes.get(replay.rows[delivery_id].document_id)
        if node is not None:  # a delivery is created after its document's issue, in the same log
            node.deliveries.append(delivery)
    for cover_id, delivery_id in sorted(source_of.items()):
        if cover_id in nodes and delivery_id in replay.deliveries:
            replay.deliveries[delivery_id].forwards.append(nodes[cover_id])
    _reported(list(nodes.values()), _Reported(chain_documents, until=moment))
    return nodes[document.pk]


# --- a delivery and what it shows (the delivery page, the API) ----------------------------------


@dataclass
class DocumentPart:
    """One document shown on a page: the cover letter (depth 0) or a document it encloses."""

    document: Document
    depth: int
    attachments: list[Attachment] = field(default_factory=list)
    is_withdrawn: bool = False


def document_parts(user: User, document: Document) -> list[DocumentPart]:
    """The document and everything it encloses, outermost first, each with its attachments: three
    queries. A part whose content the person may no longer see (a document recalled from the unit
    that forwarded it) comes without attachments, `is_withdrawn`, for the page to show as a stub.

    The caller has passed the door for `document`.
    """
    visible = enclosed_visibility(user, document)
    parts = [
        DocumentPart(enclosure.enclosed, enclosure.depth, is_withdrawn=not visible.get(enclosure.enclosed_id, False))
        for enclosure in Enclosure.objects.filter(cover=document)
        .select_related("enclosed", "enclosed__issuing_unit")
        .order_by("depth", "position", "enclosed_id")
    ]
    by_id = {part.document.pk: part for part in parts if not part.is_withdrawn}
    for attachment in Attachment.objects.filter(document_id__in=list(by_id)).order_by("document_id", "position"):
        by_id[attachment.document_id].attachments.append(attachment)
    return parts


def receipt_for_delivery(delivery: Delivery) -> Receipt | None:
    return Receipt.objects.filter(delivery=delivery).select_related("signed_by").first()


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime.datetime
    what: str  # an AuditVerb value, or "DELIVERED" / "FORWARDED" for the rows not read from events
    actor: str = ""
    detail: str = ""
    cover: Document | None = None
    payload: dict = field(default_factory=dict)


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def delivery_history(delivery: Delivery) -> list[HistoryEntry]:
    """What happened to one delivery, oldest first: delivered, its audit events (read, signed, 催办,
    退文, 办结, 撤回, with what their payload says), the recall of its whole dispatch, the forwards
    made from it. Two queries."""
    entries = [HistoryEntry(delivery.created_at, "DELIVERED")]
    events = (
        AuditEvent.objects.filter(document_id=delivery.document_id)
        .filter(
            Q(object_type="Delivery", object_id=str(delivery.pk))
            | Q(object_type="Dispatch", object_id=str(delivery.dispatch_id), verb=AuditVerb.DISPATCH_RECALLED)
        )
        .select_related("actor")
        .order_by("seq")
    )
    entries += [
        HistoryEntry(event.occurred_at, event.verb, _person(event.actor), payload=event.payload) for event in events
    ]
    for forward in Forward.objects.filter(source_delivery=delivery).select_related("cover").order_by("pk"):
        entries.append(HistoryEntry(forward.created_at, "FORWARDED", detail=forward.cover.number, cover=forward.cover))
    return sorted(entries, key=lambda entry: entry.at)


@dataclass(frozen=True)
class DeliveryClock:
    """The deadline a delivery now runs against: sign-for while pending, completion once signed;
    none once it is completed, returned or recalled."""

    action: str  # "sign_for", "complete", or "" when no clock runs
    deadline: datetime.datetime | None
    lateness: datetime.timedelta | None  # how far past the deadline, None when not past it

    @property
    def is_overdue(self) -> bool:
        return self.lateness is not None


def delivery_clock(delivery: Delivery, *, now: datetime.datetime) -> DeliveryClock:
    """No queries: it reads the delivery's own deadlines, fixed at issue (workflow.deadlines)."""
    if delivery.state not in Delivery.OPEN_STATES:
        return DeliveryClock("", None, None)
    if delivery.state == Delivery.State.PENDING:
        action, deadline = "sign_for", delivery.deadline_sign_for
    else:
        action, deadline = "complete", delivery.deadline_complete
    late = now - deadline if deadline is not None and now >= deadline else None
    return DeliveryClock(action, deadline, late)


@dataclass
class DeliveryHandling:
    """What the delivery page shows beyond the document: its clock, and the 退文, 办结 or 撤回
    recorded on it."""

    clock: DeliveryClock
    returned: DeliveryReturn | None = None
    completion: Completion | None = None
    recall: Recall | None = None


def delivery_get_handling(delivery: Delivery, *, now: datetime.datetime) -> DeliveryHandling:
    """No query, one for a returned or recalled delivery, two for a completed one (its attachments).

    The caller has passed the door for `delivery` (workflow.access.access_delivery).
    """
    handling = DeliveryHandling(delivery_clock(delivery, now=now))
    if delivery.state == Delivery.State.RETURNED:
        handling.returned = DeliveryReturn.objects.filter(delivery=delivery).select_related("returned_by").first()
    if delivery.completed_at is not None:
        handling.completion = (
            Completion.objects.filter(delivery=delivery)
            .select_related("completed_by", "unit")
            .prefetch_related("attachments")
            .first()
        )
    if delivery.recall_id is not None:
        handling.recall = Recall.objects.select_related("recalled_by", "dispatch__document").get(pk=delivery.recall_id)
    return handling


@dataclass
class DeliveryPage:
    """Everything the delivery page shows, read in one trip once the door has been passed."""

    receipt: Receipt | None
    parts: list[DocumentPart]
    history: list[HistoryEntry]
    handling: DeliveryHandling
    actions: frozenset[str]


def delivery_page(user: User, delivery: Delivery, *, now: datetime.datetime) -> DeliveryPage:
    """The delivery page of a person who has passed its door (access_delivery); what it offers to
    do is the services' answer (workflow.services.rules.delivery_actions), never the page's."""
    return DeliveryPage(
        receipt=receipt_for_delivery(delivery),
        parts=document_parts(user, delivery.document),
        history=delivery_history(delivery),
        handling=delivery_get_handling(delivery, now=now),
        actions=frozenset(str(action) for action in delivery_actions(user, delivery)),
    )


# --- the chain's levels ----------------------------------------------------------------------


@dataclass
class StalledDelivery:
    node: ChainNode
    delivery: ChainDelivery
    waited: datetime.timedelta
    is_overdue: bool


@dataclass
class ChainLevel:
    """One level of the tree: the deliveries of every document issued at that depth."""

    depth: int  # 1: the recipients of the root document; 2: the recipients of its forwards; …
    total: int = 0
    signed: int = 0
    # How long each signed unit took, and whether it signed after its own deadline (same order).
    durations: list[datetime.timedelta] = field(default_factory=list)
    signed_late: list[bool] = field(default_factory=list)
    # The sign-for time each delivery was given (its deadline minus its document's issue), distinct.
    allowances: set[datetime.timedelta] = field(default_factory=set)
    completed: int = 0
    completion_overdue: int = 0
    stalled: list[StalledDelivery] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.signed / self.total if self.total else 0.0

    @property
    def median(self) -> datetime.timedelta | None:
        return statistics.median(self.durations) if self.durations else None

    @property
    def slowest(self) -> datetime.timedelta | None:
        return max(self.durations) if self.durations else None

    @property
    def overdue(self) -> int:
        return sum(1 for stalled in self.stalled if stalled.is_overdue)

    @property
    def late_signs(self) -> int:
        return sum(self.signed_late)

    @property
    def shortest_allowance(self) -> datetime.timedelta | None:
        return min(self.allowances) if self.allowances else None

    @property
    def longest_allowance(self) -> datetime.timedelta | None:
        return max(self.allowances) if self.allowances else None


def chain_levels(tree: ChainNode, *, now: datetime.datetime | None = None) -> list[ChainLevel]:
    """Per level: how many units received, signed and completed, how long each took against its own
    deadline (fixed on the delivery at issue), who is stalled and who is overdue.

    A delivery is stalled while it waits to be signed for, overdue once its sign-for deadline has
    passed; a signed one is overdue for completion once its completion deadline has passed. A
    recalled or returned delivery is nobody's business any more. No queries: it reads the tree.
    """
    now = now or timezone.now()
    levels: dict[int, ChainLevel] = {}
    for node in tree.walk():
        level = levels.setdefault(node.depth + 1, ChainLevel(node.depth + 1))
        for delivery in node.deliveries:
            level.total += 1
            if delivery.deadline_sign_for is not None and node.issued_at is not None:
                level.allowances.add(delivery.deadline_sign_for - node.issued_at)
            if delivery.completed_at is not None:
                level.completed += 1
            elif delivery.completion_lateness(now) is not None:
                level.completion_overdue += 1
            if delivery.signed_at is not None:
                level.signed += 1
                if node.issued_at is not None:
                    level.durations.append(delivery.signed_at - node.issued_at)
                    level.signed_late.append(delivery.sign_for_lateness(now) is not None)
            elif delivery.state == Delivery.State.PENDING and node.issued_at is not None:
                level.stalled.append(
                    StalledDelivery(
                        node, delivery, now - node.issued_at, is_overdue=delivery.sign_for_lateness(now) is not None
                    )
                )
    return [levels[depth] for depth in sorted(levels)]


# --- notifications ------------------------------------------------------------------------------


def notification_list_for_user(user: User) -> QuerySet[Notification]:
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(user=user)
        .select_related("delivery__return_record")
        .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")
    )


def notification_unread_count(user: User) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- inside a recipient unit: 待办, 已办, the 办理单 and the chain's handling states ------------------


def _holds_role(role: Role | str, user_ref, unit_ref) -> Q:
    """Whether the person `user_ref` holds `role` on the unit `unit_ref` (references into the outer
    query), granted to them or to a group of theirs: two correlated EXISTS."""
    grant = Q(permission__codename=str(role), permission__content_type__app_label="units")
    direct = UnitUserObjectPermission.objects.filter(grant, user_id=user_ref, content_object_id=unit_ref)
    via_group = UnitGroupObjectPermission.objects.filter(grant, group__user__id=user_ref, content_object_id=unit_ref)
    return Q(Exists(direct)) | Q(Exists(via_group))


def unit_list_acting_with_role(user: User, role: Role | str, *, now: datetime.datetime) -> QuerySet[Unit]:
    """The units for which a person holds `role`, or acts as the deputy (代理, Delegation) of someone
    who holds it, during the delegation's window and until it is withdrawn. For the 待办 list: what
    each item lets the person do is the services' answer (rules.handling_actions) on its page."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Unit.objects.none()
    deputised = Delegation.objects.filter(
        _holds_role(role, OuterRef("principal_id"), OuterRef("unit_id")),
        Delegation.active_at(now),
        deputy=user,
        unit=OuterRef("pk"),
    )
    return Unit.objects.filter(Q(pk__in=granted_unit_ids(user.pk, role)) | Q(Exists(deputised)), is_active=True)


TODO_SHOWN = 100  # items listed per kind; the count says how many there are


@dataclass
class TodoGroup:
    """One kind of 待办: the first TODO_SHOWN items (oldest first: they have waited longest; for
    待承办 the nearest deadline first) and how many there are in all."""

    kind: str  # register, propose, instruct, handle, read
    items: list
    total: int


@dataclass
class Todo:
    groups: list[TodoGroup]

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)

    def group(self, kind: str) -> TodoGroup:
        return next(group for group in self.groups if group.kind == kind)


_RECORD_DOCUMENT = ("delivery__document__issuing_unit", "delivery__unit")


def _group(kind: str, rows: QuerySet) -> TodoGroup:
    """The first TODO_SHOWN rows, and the total from the same query (a window count): one query."""
    items = list(rows.annotate(todo_total=Window(Count("pk")))[:TODO_SHOWN])
    return TodoGroup(kind, items, items[0].todo_total if items else 0)


def todo_for(user: User, *, now: datetime.datetime | None = None) -> Todo:
    """待办 of one person, by kind: five queries, whatever the number of items.

    - 待登记: signed-for deliveries of the units whose clerk they are (or whose clerk they deputise
      for) that are not yet registered;
    - 待拟办: registered, neither proposed nor instructed, not yet 办结 (the same clerks);
    - 待批办: registered, not instructed, not yet 办结 (the units' leaders);
    - 待承办: assignments of the departments they handle for, not finished, with their deadline and
      `is_overdue`;
    - 待阅: their open reading slips.
    """
    now = now or timezone.now()
    clerk_units = unit_list_acting_with_role(user, Role.CLERK, now=now)
    leader_units = unit_list_acting_with_role(user, Role.LEADER, now=now)
    handler_units = unit_list_acting_with_role(user, Role.HANDLER, now=now)
    open_record = Q(delivery__state=Delivery.State.SIGNED)
    register = (
        Delivery.objects.filter(unit__in=clerk_units, state=Delivery.State.SIGNED, handling_record__isnull=True)
        .select_related("document__issuing_unit", "unit")
        .annotate(urgency_rank=URGENCY_RANK)
        .order_by("urgency_rank", "signed_at", "id")
    )
    records = HandlingRecord.objects.select_related(*_RECORD_DOCUMENT).order_by("registered_at", "id")
    proposed = Exists(Proposal.objects.filter(record=OuterRef("pk")))
    instructed = Exists(Instruction.objects.filter(record=OuterRef("pk")))
    propose = records.filter(open_record, ~Q(proposed), ~Q(instructed), unit__in=clerk_units)
    instruct = records.filter(open_record, ~Q(instructed), unit__in=leader_units).annotate(
        proposal_text=Subquery(
            Proposal.objects.filter(record=OuterRef("pk")).order_by("-proposed_at", "-id").values("text")[:1]
        )
    )
    handle = (
        Assignment.objects.filter(department__in=handler_units)
        .exclude(state=Assignment.State.FINISHED)
        .select_related("department", *(f"record__{path}" for path in _RECORD_DOCUMENT))
        .annotate(
            is_overdue=Case(When(deadline__lt=now, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .order_by(F("deadline").asc(nulls_last=True), "assigned_at", "id")
    )
    read = (
        ReadingSlip.objects.filter(reader=user, state=ReadingSlip.State.OPEN)
        .select_related("passed_by", *(f"record__{path}" for path in _RECORD_DOCUMENT))
        .order_by("opened_at", "id")
        if user is not None and user.is_authenticated
        else ReadingSlip.objects.none()
    )
    return Todo(
        [
            _group("register", register),
            _group("propose", propose),
            _group("instruct", instruct),
            _group("handle", handle),
            _group("read", read),
        ]
    )


@dataclass(frozen=True)
class DoneRow:
    """One step a person took (已办): what, when, on which delivery, and the text they wrote."""

    kind: str  # registered, proposed, instructed, reported, finished, read
    at: datetime.datetime
    delivery_id: int
    number: str
    title: str
    detail: str


def _done_rows(rows: QuerySet, kind: str, at: str, delivery: str, detail) -> QuerySet:
    # No ordering of its own (the models' Meta.ordering): SQLite refuses ORDER BY in a UNION's parts.
    return (
        rows.order_by()
        .annotate(
            done_kind=Value(kind, output_field=CharField()),
            done_at=F(at),
            done_delivery=F(f"{delivery}id"),
            done_number=printed_number(f"{delivery}document__"),
            done_title=F(f"{delivery}document__title"),
            done_detail=detail,
        )
        .values_list("done_kind", "done_at", "done_delivery", "done_number", "done_title", "done_detail")
    )


class DoneList:
    """已办 of one person, newest first, as a sliceable sequence for the paginator: each page is one
    UNION query (and one for the count), whatever the person did."""

    def __init__(self, rows: QuerySet) -> None:
        self.rows = rows

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return [DoneRow(*row) for row in self.rows[index]]


def done_for(user: User) -> DoneList:
    """已办: what a person registered (收文登记), proposed (拟办), instructed (批办), reported and
    finished (承办), and read (传阅), from the rows they wrote, newest first."""
    if user is None or not user.is_authenticated:
        return DoneList(HandlingRecord.objects.none().values_list("pk"))
    empty = Value("", output_field=CharField())
    registered = _done_rows(
        HandlingRecord.objects.filter(registered_by=user),
        "registered",
        "registered_at",
        "delivery__",
        Concat(Value("收〔"), Cast("year", CharField()), Value("〕"), Cast("serial", CharField()), Value("号")),
    )
    proposed = _done_rows(
        Proposal.objects.filter(proposed_by=user), "proposed", "proposed_at", "record__delivery__", F("text")
    )
    instructed = _done_rows(
        Instruction.objects.filter(instructed_by=user), "instructed", "instructed_at", "record__delivery__", F("text")
    )
    reported = _done_rows(
        AssignmentReport.objects.filter(reported_by=user),
        "reported",
        "reported_at",
        "assignment__record__delivery__",
        F("text"),
    )
    finished = _done_rows(
        Assignment.objects.filter(finished_by=user, state=Assignment.State.FINISHED),
        "finished",
        "finished_at",
        "record__delivery__",
        empty,
    )
    read = _done_rows(
        ReadingSlip.objects.filter(reader=user, state=ReadingSlip.State.READ),
        "read",
        "read_at",
        "record__delivery__",
        F("remark"),
    )
    rows = registered.union(proposed, instructed, reported, finished, read, all=True).order_by(
        "-done_at", "-done_delivery"
    )
    return DoneList(rows)


@dataclass
class HandlingSheet:
    """办理单: everything the handling sheet shows of one delivery, the screen's and the printed one.

    `record` is None until the delivery is registered (收文登记); then the steps hang from it, each
    with who and when (and, where a deputy acted, `on_behalf_of`: "deputy for X")."""

    delivery: Delivery
    record: HandlingRecord | None
    proposals: list[Proposal] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    slips: list[ReadingSlip] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    @property
    def document(self) -> Document:
        return self.delivery.document

    @property
    def received_on(self) -> datetime.datetime | None:
        """收文日期: the day it was registered, or signed for while it is not yet registered."""
        return self.record.registered_at if self.record else self.delivery.signed_at

    @property
    def number(self) -> str:
        """收文编号, as the register writes it: 收〔2022〕15号."""
        return str(self.record) if self.record else ""

    @property
    def leads_finished(self) -> bool:
        leads = [a for a in self.assignments if a.part == Assignment.Part.LEAD]
        return bool(leads) and all(a.state == Assignment.State.FINISHED for a in leads)

    @property
    def state(self) -> "HandlingState":
        return handling_state(
            completed=self.delivery.state == Delivery.State.COMPLETED,
            is_registered=self.record is not None,
            is_proposed=bool(self.proposals),
            is_instructed=bool(self.instructions),
            assignments=len(self.assignments),
            finished=sum(1 for a in self.assignments if a.state == Assignment.State.FINISHED),
        )


def handling_sheet(delivery: Delivery) -> HandlingSheet:
    """The 办理单 of a delivery whose door has been passed (access_delivery): eight queries (one
    when it is not registered yet), whatever the number of proposals, assignments, reports, files,
    readers and replies."""
    record = HandlingRecord.objects.filter(delivery=delivery).select_related("registered_by", "on_behalf_of").first()
    if record is None:
        return HandlingSheet(delivery, None)
    people = ("on_behalf_of",)
    reports = AssignmentReport.objects.select_related("reported_by", *people).prefetch_related("files")
    return HandlingSheet(
        delivery,
        record,
        proposals=list(
            Proposal.objects.filter(record=record)
            .select_related("proposed_by", *people)
            .prefetch_related(Prefetch("departments", queryset=Unit.objects.order_by("pk")))
        ),
        instructions=list(Instruction.objects.filter(record=record).select_related("instructed_by", *people)),
        assignments=list(
            Assignment.objects.filter(record=record)
            .select_related("department", "accepted_by", "finished_by")
            # 主办 before 协办, as the sheet lists them (the model orders by part's code: assist first).
            .order_by(Case(When(part=Assignment.Part.LEAD, then=Value(0)), default=Value(1)), "id")
            .prefetch_related(Prefetch("reports", queryset=reports))
        ),
        slips=list(ReadingSlip.objects.filter(record=record).select_related("reader", "passed_by", "instruction")),
        replies=list(
            Reply.objects.filter(delivery=delivery).select_related("document", "drafted_by").order_by("drafted_at")
        ),
    )


@dataclass(frozen=True)
class HandlingState:
    """Where a unit stands with a delivery inside: 已登记 / 已拟办 / 已批办 / 承办中 n/m / 已办结."""

    code: str  # "", registered, proposed, instructed, assigned, completed
    finished: int = 0
    assignments: int = 0


def handling_state(
    *,
    completed: bool,
    is_registered: bool,
    is_proposed: bool,
    is_instructed: bool,
    assignments: int,
    finished: int,
) -> HandlingState:
    if completed:
        return HandlingState("completed", finished, assignments)
    if assignments:
        return HandlingState("assigned", finished, assignments)
    if is_instructed:
        return HandlingState("instructed")
    if is_proposed:
        return HandlingState("proposed")
    if is_registered:
        return HandlingState("registered")
    return HandlingState("")


def chain_handling_states(tree: ChainNode) -> None:
    """Give each delivery of the tree its unit's handling state (ChainDelivery.handling): one query
    for the whole tree, by its documents (never by a list of delivery ids, which a national chain
    would make longer than a statement may be)."""
    documents = [node.id for node in tree.walk()]
    count = Assignment.objects.filter(record=OuterRef("pk")).order_by().values("record")
    rows = (
        HandlingRecord.objects.filter(delivery__document_id__in=documents)
        .annotate(
            is_proposed=Exists(Proposal.objects.filter(record=OuterRef("pk"))),
            is_instructed=Exists(Instruction.objects.filter(record=OuterRef("pk"))),
            assignment_count=Coalesce(
                Subquery(count.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
            ),
            finished_count=Coalesce(
                Subquery(
                    count.filter(state=Assignment.State.FINISHED).annotate(n=Count("pk")).values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
        .values_list("delivery_id", "is_proposed", "is_instructed", "assignment_count", "finished_count")
    )
    found = {row[0]: row[1:] for row in rows}
    for node in tree.walk():
        for delivery in node.deliveries:
            proposed, instructed, assignments, finished = found.get(delivery.id, (False, False, 0, 0))
            delivery.handling = handling_state(
                completed=delivery.completed_at is not None and delivery.state == Delivery.State.COMPLETED,
                is_registered=delivery.id in found,
                is_proposed=proposed,
                is_instructed=instructed,
                assignments=assignments,
                finished=finished,
            )
