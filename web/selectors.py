"""Reads shaped for the pages, already restricted to what the person may see (page-shaped: the
engine's own reads, shared with the API and the commands, are workflow.selectors).

The rules of workflow.selectors hold: no writes, lists restricted in the query, and a number of
queries that does not grow with the data.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.db.models.query import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document, Enclosure
from documents.ofd import write_ofd
from documents.rendering import PrintedPdf, enclosed_documents, print_pdf
from units.errors import NotFound
from units.models import NumberPrefix, RecipientGroup, Role, Unit, UnitGroupObjectPermission, UnitUserObjectPermission
from units.selectors import unit_list_directory, unit_list_for_member, unit_list_with_role
from web import charts
from workflow import sql as workflow_sql
from workflow.access import chain_list_visible, enclosed_visibility
from workflow.audit import GENESIS_HASH, event_hash
from workflow.deadlines import CALENDAR_ZONE, overdue_q
from workflow.models import (
    AuditEvent,
    Completion,
    Delegation,
    Delivery,
    DeliveryReturn,
    Dispatch,
    DispatchTally,
    Forward,
)
from workflow.selectors import (
    URGENCY_RANK,
    ChainLevel,
    ChainNode,
    DeliveryClock,
    HandlingSheet,
    InboxFilters,
    StalledDelivery,
    chain_as_of,
    chain_for_document,
    chain_handling_states,
    chain_levels,
    completion_list_for_chain,
    delivery_clock,
    handling_sheet,
    inbox_for_user,
    inbox_search,
    overdue_flag,
    words_match,
)
from workflow.services import forward_title
from workflow.services.rules import HandlingActions, handling_actions
from workflow.tally import tally_figures

User = AbstractBaseUser | AnonymousUser | None


# --- 收文 inbox ---------------------------------------------------------------------------------

INBOX_TABS: dict[str, list[str] | None] = {
    "pending": [Delivery.State.PENDING],
    "signed": [Delivery.State.SIGNED],
    "completed": [Delivery.State.COMPLETED],
    "recalled": list(Delivery.WITHDRAWN_STATES),
    "all": None,
}


def inbox_list_for_user(user: User, *, tab: str, filters: InboxFilters) -> QuerySet[Delivery]:
    """The inbox tab, searched. 待签收 puts the most urgent first, and within an urgency the overdue
    first (so 特提 and 特急 stay at the top); the other tabs run newest first."""
    deliveries = inbox_for_user(user, states=INBOX_TABS[tab])
    if tab == "pending":
        deliveries = deliveries.order_by("urgency_rank", "-is_overdue", "-created_at", "-id")
    else:
        deliveries = deliveries.order_by("-created_at", "-id")
    return inbox_search(deliveries, filters)


def inbox_order_for_units(user: User, unit_ids: list[int], *, tab: str, filters: InboxFilters) -> QuerySet[Delivery]:
    """inbox_list_for_user's rows in its order, with only the joins its order needs: what
    web.pagination.lean_page pages. `unit_ids` are the person's units (unit_list_for_member, which
    the page has read for its header): filtered by them, the planner walks the unit's part of
    delivery_inbox_all (newest first) or delivery_inbox (a tab) instead of sorting the unit's 10^5
    deliveries joined to their documents. A search keeps the full query."""
    if not filters.is_empty:
        return inbox_list_for_user(user, tab=tab, filters=filters)
    deliveries = Delivery.objects.filter(unit_id__in=unit_ids)
    if INBOX_TABS[tab]:
        deliveries = deliveries.filter(state__in=INBOX_TABS[tab])
    if tab == "pending":  # the most urgent first, and within an urgency the overdue first
        return deliveries.annotate(urgency_rank=URGENCY_RANK, is_overdue=overdue_flag(timezone.now())).order_by(
            "urgency_rank", "-is_overdue", "-created_at", "-id"
        )
    return deliveries.order_by("-created_at", "-id")


def inbox_rows(unit_ids: list[int]) -> QuerySet[Delivery]:
    """The inbox's rows in full (as inbox_for_user reads them: document, issuer, unit, deadlines,
    is_overdue), for the ids of a page (web.pagination.lean_page); `unit_ids` as above."""
    return (
        Delivery.objects.filter(unit_id__in=unit_ids)
        .select_related("document", "document__issuing_unit", "unit")
        .annotate(urgency_rank=URGENCY_RANK, is_overdue=overdue_flag(timezone.now()))
    )


def inbox_counts_for_units(unit_ids: list[int]) -> dict[str, int]:
    """How many deliveries each tab holds, and how many pending ones nobody has opened: one query,
    over the deliveries alone: COUNT(state), not COUNT(id), so that it is an index-only scan of
    delivery_inbox (unit, state, read_at).
    `unit_ids` are the person's units (unit_list_for_member)."""
    return (
        Delivery.objects.filter(unit_id__in=unit_ids)
        .order_by()
        .aggregate(
            pending=Count("state", filter=Q(state=Delivery.State.PENDING)),
            signed=Count("state", filter=Q(state=Delivery.State.SIGNED)),
            completed=Count("state", filter=Q(state=Delivery.State.COMPLETED)),
            recalled=Count("state", filter=Q(state__in=Delivery.WITHDRAWN_STATES)),
            all=Count("*"),
            unread=Count("state", filter=Q(state=Delivery.State.PENDING, read_at__isnull=True)),
        )
    )


def inbox_rows_with_forwards(deliveries: list[Delivery]) -> list[Delivery]:
    """What each delivery of an inbox page became after it was signed for, beyond its state (办结,
    退文, 撤回): the cover letters forwarded from it, as `forwarded` (each `cover` with its number
    once issued). One query for the page, whatever its length."""
    covers = Forward.objects.select_related("cover").only(
        "source_delivery_id", "cover__state", "cover__number_prefix", "cover__number_year", "cover__number_serial"
    )
    prefetch_related_objects(deliveries, Prefetch("forwards", queryset=covers.order_by("pk"), to_attr="forwarded"))
    return deliveries


# --- who may do what ----------------------------------------------------------------------------


def unit_list_for_drafting(user: User) -> QuerySet[Unit]:
    """The units a person may draft for (拟稿: a drafter or clerk of the unit)."""
    return (unit_list_with_role(user, Role.DRAFTER) | unit_list_with_role(user, Role.CLERK)).order_by("path")


def unit_list_for_outbox(user: User) -> QuerySet[Unit]:
    """The units whose 发文 a person may watch: the units they belong to."""
    return unit_list_for_member(user).order_by("path")


def person_side(member_units: Iterable[Unit], *, issuer_unit_id: int, recipient_unit_id: int | None = None) -> str:
    """Which side of a delivery (or a document) a person stands on, for the way back (the
    breadcrumb): "inbox" for the people of the recipient unit, "outbox" for the issuer's, "todo"
    for the people of one of the recipient unit's departments (内设机构), "chain" for anyone else
    (an auditor). No query: `member_units` are the person's units
    (unit_list_for_member, already read for the header)."""
    member_units = list(member_units)
    units = {unit.pk for unit in member_units}
    if recipient_unit_id in units:
        return "inbox"
    if issuer_unit_id in units:
        return "outbox"
    if recipient_unit_id is not None and any(
        unit.parent_id == recipient_unit_id and unit.kind == Unit.Kind.INNER_DEPARTMENT for unit in member_units
    ):
        return "todo"  # a department of the recipient unit: its work comes from its 待办
    return "chain"


# --- document and delivery pages ----------------------------------------------------------------


def document_pdf(user: User, document: Document) -> PrintedPdf:
    """The PDF that 打印 / PDF gives: the document in the official layout, then each document it
    encloses that this person may still see, in the order render_document prints them, each from a
    new page and numbered from 1. A document recalled from the person's unit is left out (the page
    shows its stub; a stub is not a document to print). Three queries, then the layout.

    The caller has passed the door for `document`.
    """
    return print_pdf(document, enclosures=_printed_enclosures(user, document))


def document_ofd(user: User, document: Document) -> bytes:
    """The OFD that 下载 OFD gives: the pages of document_pdf, as OFD (documents.ofd).

    The caller has passed the door for `document`.
    """
    return write_ofd(document, enclosures=_printed_enclosures(user, document))


def _printed_enclosures(user: User, document: Document) -> list[Document]:
    visible = enclosed_visibility(user, document)
    return [enclosed for enclosed in enclosed_documents(document) if visible.get(enclosed.pk, False)]


# --- forward page -------------------------------------------------------------------------------


def forward_recipient_options(unit: Unit) -> tuple[QuerySet[RecipientGroup], QuerySet[Unit]]:
    """What a unit may forward to: its recipient groups (with their sizes) and its active child units."""
    groups = RecipientGroup.objects.filter(owner=unit).annotate(member_count=Count("members")).order_by("name")
    children = Unit.objects.filter(parent=unit, is_active=True).order_by("path")
    return groups, children


def number_prefix_list_for_unit(unit: Unit) -> QuerySet[NumberPrefix]:
    return NumberPrefix.objects.filter(unit=unit).order_by("-is_default", "prefix")


def forward_preview(
    delivery: Delivery,
    *,
    body: str,
    urgency: str,
    main_recipients: Iterable[RecipientGroup | Unit],
    number_prefix: str = "",
) -> Document:
    """The cover letter as it would be drafted, unsaved, for the preview in the official layout (its
    number prefix decides the format: a 函 series prints as a letter)."""
    received = delivery.document
    root = Forward.objects.filter(cover=received).select_related("chain_root").first()
    unit = delivery.unit
    names = [r.name if isinstance(r, RecipientGroup) else r.short_name for r in main_recipients]
    return Document(
        issuing_unit=unit,
        issuer_mark=unit.name,
        kind="通知",
        urgency=urgency,
        title=forward_title(unit, (root.chain_root if root else received).title),
        main_recipients_text="、".join(names) + "：" if names else "",
        body=body,
        signature_organ=unit.name,
        written_on=timezone.localdate(),
        number_prefix=number_prefix,
    )


# --- 发文 outbox --------------------------------------------------------------------------------

# How many not-yet-signed units and forwards a dispatch row names before it says "and N more".
OUTBOX_NAMES_SHOWN = 12


# Signed for, whatever came after (办结, 撤回): the count an issuer watches grow.
_SIGNED = Q(deliveries__signed_at__isnull=False)


def outbox_for_unit(unit: Unit) -> QuerySet[Dispatch]:
    """发文: the unit's dispatches with their progress (signed: signed for, whatever came after).

    The caller has passed the unit's door (workflow.access.access_unit_as_member)."""
    return (
        Dispatch.objects.filter(document__issuing_unit=unit)
        .select_related("document", "recall")
        .annotate(
            delivered=Count("deliveries"), signed=Count("deliveries", filter=Q(deliveries__signed_at__isnull=False))
        )
        .order_by("-created_at", "-id")
    )


def _overdue_parts(unit: Unit, now: datetime.datetime) -> tuple[QuerySet[Delivery], QuerySet[Delivery]]:
    """The unit's overdue deliveries (workflow.deadlines.overdue_q, of what it issued) in two
    disjoint parts, each overdue since a deadline of its own: pending past the sign-for deadline
    (since that deadline), and the other open ones past the completion deadline (since that one).
    Each walks its partial index (delivery_overdue_sign_for, delivery_overdue_complete) in its order."""
    late_to_sign = Q(state=Delivery.State.PENDING, deadline_sign_for__lte=now)
    open_states = Delivery.OPEN_STATES
    by_sign_for = (
        Delivery.objects.filter(late_to_sign, issuing_unit=unit)
        .annotate(overdue_since=F("deadline_sign_for"))
        .order_by("deadline_sign_for", "id")
    )
    by_complete = (
        Delivery.objects.filter(issuing_unit=unit, state__in=open_states, deadline_complete__lte=now)
        .exclude(late_to_sign)
        .annotate(overdue_since=F("deadline_complete"))
        .order_by("deadline_complete", "id")
    )
    return by_sign_for, by_complete


def delivery_list_overdue_for_unit(unit: Unit, *, now: datetime.datetime | None = None) -> list[Delivery]:
    """发文 overdue list: deliveries of what the unit issued that are past a deadline, the most
    overdue first (overdue since the earliest moment, then by id). One query. The caller has passed
    the unit's door."""
    return _most_overdue(unit, now or timezone.now())


def _most_overdue(unit: Unit, now: datetime.datetime, limit: int | None = None) -> list[Delivery]:
    """The unit's overdue deliveries with their documents and units, the most overdue first (overdue
    since the earliest moment, then by id); with `limit`, the first `limit` of each part and of all.
    One query: the parts of _overdue_parts in one UNION ALL."""
    parts = [part.select_related("document", "unit")[:limit] for part in _overdue_parts(unit, now)]
    deliveries = sorted(parts[0].union(parts[1], all=True), key=lambda d: (d.overdue_since, d.pk))
    return deliveries[:limit]


@dataclass
class OverdueDocument:
    """One document's overdue units, the most overdue first: `total` of them in all, `units` (each
    with its clock) those listed."""

    document: Document
    total: int
    units: list[tuple[Delivery, DeliveryClock]] = field(default_factory=list)


# 发文 counts the overdue units up to this many, then says "more than" (1000+): a national notice
# can have 10^5 overdue at once, and counting them was most of the page's time (issue 18). Each
# listed document's own total stays exact (from its figures), and so does its chain page.
OVERDUE_COUNTED = 1000


@dataclass
class OverdueList:
    documents: list[OverdueDocument]
    total: int  # overdue units of every document of the unit, counted up to OVERDUE_COUNTED
    shown: int  # units listed (the most overdue ones)
    counted_all: bool = True  # False: there are more than `total`


def overdue_list_for_unit(unit: Unit, *, now: datetime.datetime, limit: int) -> OverdueList:
    """发文 overdue list, grouped by document: a title once, then its units. The `limit` most
    overdue units, their documents in the order of their most overdue unit, and how many units
    each document (and all of them, up to OVERDUE_COUNTED) has overdue. Three queries, none of which
    reads more than the units it lists or counts (issue 18: a national notice has 10^5 units overdue
    at once):

    - the units: the first `limit` of each part of _overdue_parts, from its index, in one UNION ALL;
    - the overdue units of the unit, counted up to OVERDUE_COUNTED, index-only on the same indexes;
    - each listed document's total, from its dispatches' figures (DispatchTally, kept by the
      services), since a delivery's deadlines are its dispatch's (copied at routing, never changed).

    The caller has passed the unit's door."""
    deliveries = _most_overdue(unit, now, limit)
    if not deliveries:
        return OverdueList([], 0, 0)
    capped = [part.order_by().values_list("id", flat=True)[: OVERDUE_COUNTED + 1] for part in _overdue_parts(unit, now)]
    counted = len(capped[0].union(capped[1], all=True))
    sign_for_passed = Q(dispatch__deadline_sign_for__lte=now)
    complete_passed = Q(dispatch__deadline_complete__lte=now)
    totals = dict(
        DispatchTally.objects.filter(dispatch__document_id__in={d.document_id for d in deliveries})
        .values_list("dispatch__document_id")
        .annotate(
            n=Coalesce(Sum("pending", filter=sign_for_passed | complete_passed), Value(0))
            + Coalesce(Sum("signed", filter=complete_passed), Value(0))
        )
    )
    groups: dict[int, OverdueDocument] = {}
    for delivery in deliveries:
        group = groups.get(delivery.document_id)
        if group is None:
            group = groups[delivery.document_id] = OverdueDocument(delivery.document, totals[delivery.document_id])
        group.units.append((delivery, delivery_clock(delivery, now=now)))
    total = min(counted, OVERDUE_COUNTED)
    return OverdueList(list(groups.values()), total, len(deliveries), counted_all=counted <= OVERDUE_COUNTED)


def outbox_list_for_unit(unit: Unit, *, words: str = "") -> QuerySet[Dispatch]:
    """The unit's dispatches, newest first; with `words`, those whose document's title or number
    holds every word (words_match). Only what the filter and the order need: web.pagination.lean_page
    pages it (and counts it without the figures), outbox_list_rows reads the page's rows."""
    return (
        Dispatch.objects.filter(issuing_unit=unit)
        .filter(words_match(words, "document__"))
        .order_by("-created_at", "-id")
    )


def outbox_list_rows() -> QuerySet[Dispatch]:
    """The outbox's rows, for the ids of a page: each dispatch with its document, its return and
    recall, and how many forwards were made from it. Its delivery figures come from
    outbox_figures: grouped here, Django grouped by every joined column and sorted 3 × 10^5 wide
    rows on disk for a page of three national notices (issue 18)."""
    forwards = (
        Forward.objects.filter(source_delivery__dispatch=OuterRef("pk"))
        .order_by()
        .values("source_delivery__dispatch")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Dispatch.objects.select_related(
            "document", "document__issuing_unit", "recall", "answers_return__unit", "answers_return__delivery__document"
        )
        # The resolved recipients are routing's: a national notice's hold 10^5 unit ids, 2 MB of
        # JSON a page of three would read and decode for nothing (issue 18).
        .defer("main_unit_ids", "cc_unit_ids")
        .annotate(forward_count=Coalesce(Subquery(forwards, output_field=IntegerField()), Value(0)))
    )


def outbox_figures(dispatches: list[Dispatch]) -> list[Dispatch]:
    """Give each dispatch of a page its figures (workflow.tally.DISPATCH_FIGURES, as the API's
    dispatch_list_with_progress): one query over the page's tallies, not its deliveries."""
    figures = tally_figures(dispatch.pk for dispatch in dispatches)
    for dispatch in dispatches:
        for name, value in figures[dispatch.pk].items():
            setattr(dispatch, name, value)
    return dispatches


@dataclass
class OutboxRow:
    dispatch: Dispatch
    pending_units: list[tuple[int, str]] = field(default_factory=list)  # (delivery id, unit's short name)
    forwards: list[Forward] = field(default_factory=list)


def outbox_rows(dispatches: list[Dispatch]) -> list[OutboxRow]:
    """Per dispatch of a page: the first units not yet signed, and the first forwards made below it.

    Two queries for the whole page, however many recipients each dispatch has.
    """
    rows = {dispatch.pk: OutboxRow(dispatch) for dispatch in dispatches}
    # One part per dispatch, UNION ALL: each walks the units in directory order and stops at the
    # OUTBOX_NAMES_SHOWN-th pending one (a window over a national notice sorted its 10^5 pending
    # deliveries by their units' paths first: 0.7 s, issue 18).
    parts = [
        Delivery.objects.filter(dispatch_id=dispatch_id, state=Delivery.State.PENDING)
        .order_by("unit__path")
        .values_list("dispatch_id", "id", "unit__short_name", "unit__path")[:OUTBOX_NAMES_SHOWN]
        for dispatch_id in rows
    ]
    pending = parts[0].union(*parts[1:], all=True) if parts else []
    for dispatch_id, delivery_id, name, _path in sorted(pending, key=lambda row: (row[0], row[3])):
        rows[dispatch_id].pending_units.append((delivery_id, name))
    signed = Q(state__in=[Delivery.State.SIGNED, Delivery.State.COMPLETED])
    cover_total = Delivery.objects.filter(document=OuterRef("cover_id")).order_by().values("document")
    forwards = (
        Forward.objects.filter(source_delivery__dispatch_id__in=list(rows))
        .annotate(
            row=Window(RowNumber(), partition_by=F("source_delivery__dispatch_id"), order_by=F("pk").asc()),
            cover_delivered=Coalesce(
                Subquery(cover_total.annotate(n=Count("id")).values("n"), output_field=IntegerField()), Value(0)
            ),
            cover_signed=Coalesce(
                Subquery(cover_total.annotate(n=Count("id", filter=signed)).values("n"), output_field=IntegerField()),
                Value(0),
            ),
        )
        .filter(row__lte=OUTBOX_NAMES_SHOWN)
        .select_related("cover", "source_delivery__unit")
        .order_by("pk")
    )
    for forward in forwards:
        rows[forward.source_delivery.dispatch_id].forwards.append(forward)
    return list(rows.values())


def draft_list_for_unit(unit: Unit, *, words: str = "") -> QuerySet[Document]:
    """The unit's documents waiting for sign-off or issue (a forward's cover letter, for one); with
    `words`, those whose title holds every word (a draft has no number yet). The caller has passed
    the unit's door."""
    return (
        Document.objects.filter(issuing_unit=unit, state__in=[Document.State.DRAFT, Document.State.SIGNED_OFF])
        .filter(words_match(words))
        .select_related("forward__source_delivery__document")
        .order_by("-created_at", "-id")
    )


def return_list_for_unit(unit: Unit) -> QuerySet[DeliveryReturn]:
    """退文 received by a unit (returns of what it issued), the unanswered first, then the newest;
    each `is_answered` when a corrected document answers it. The caller has passed the unit's door
    (or the door of a document the unit issued)."""
    answered = Exists(Dispatch.objects.filter(answers_return=OuterRef("pk")))
    return (
        DeliveryReturn.objects.filter(delivery__issuing_unit=unit)
        .select_related("delivery__document", "unit")
        .annotate(is_answered=answered)
        .order_by("is_answered", "-returned_at", "-id")
    )


# --- chain page ---------------------------------------------------------------------------------


@dataclass
class AuditTrail:
    events: list[AuditEvent]
    total: int
    is_intact: bool
    first_broken_seq: int | None = None


def chain_audit_trail(tree: ChainNode, *, limit: int = 200, until: datetime.datetime | None = None) -> AuditTrail:
    """The chain's latest audit events (those up to `until` when given), each checked against the
    hash chain: three queries.

    Every shown event's hash is recomputed from its fields and its link to the event before it
    (which may belong to another document) is checked; `manage.py verify_audit` walks the whole log.
    """
    documents = [node.id for node in tree.walk()]
    chain_events = AuditEvent.objects.filter(document_id__in=documents)
    if until is not None:
        chain_events = chain_events.filter(occurred_at__lte=until)
    events = list(chain_events.select_related("actor", "unit").order_by("-seq")[:limit])
    total = chain_events.count()
    previous = dict(AuditEvent.objects.filter(seq__in=[event.seq - 1 for event in events]).values_list("seq", "hash"))
    previous[0] = GENESIS_HASH
    first_broken = None
    for event in sorted(events, key=lambda e: e.seq):
        computed = event_hash(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            unit_id=event.unit_id,
            verb=event.verb,
            object_type=event.object_type,
            object_id=event.object_id,
            document_id=event.document_id,
            payload=event.payload,
            prev_hash=event.prev_hash,
        )
        if computed != event.hash or previous.get(event.seq - 1) != event.prev_hash:
            first_broken = event.seq
            break
    return AuditTrail(events, total, first_broken is None, first_broken)


COMPLETIONS_SHOWN = 200  # the 办结 feedback listed on the chain page (the CSV has every delivery)


@dataclass
class ChainPage:
    """Everything the chain page shows, read in one trip once the chain's door has been passed.

    `now` is the moment the page describes: the present, or `as_of`, the moment chosen (then the
    tree is replayed from the audit events, and None when the document had not been issued yet).
    """

    document: Document
    tree: ChainNode | None
    levels: list[ChainLevel]
    stalled: list[StalledDelivery]
    sign_times: object
    signed_curve: object
    trail: AuditTrail | None
    completions: list[Completion]
    completion_count: int
    now: datetime.datetime
    as_of: datetime.datetime | None = None

    @property
    def as_of_param(self) -> str:
        """The moment as ?as_of= writes it (Beijing time), for the links that keep it."""
        if self.as_of is None:
            return ""
        local = timezone.localtime(self.as_of, CALENDAR_ZONE)
        return f"{local:%Y-%m-%dT%H:%M:%S}" if local.second or local.microsecond else f"{local:%Y-%m-%dT%H:%M}"


def chain_page(document: Document, *, now: datetime.datetime, as_of: datetime.datetime | None = None) -> ChainPage:
    """The chain page of a document whose door (workflow.access.access_chain) has been passed: as it
    stands `now`, or as it stood at `as_of` (a moment not after now), replayed from the chain's audit
    events (workflow.selectors.chain_as_of) and everything on the page following that moment."""
    if as_of is None:
        tree = chain_for_document(document)
        chain_handling_states(tree)  # each unit's 登记 … 办结, one query
        completions = completion_list_for_chain(document)
        completion_list, completion_count = list(completions[:COMPLETIONS_SHOWN]), completions.count()
    else:
        now, tree = as_of, chain_as_of(document, moment=as_of)  # the replay has no handling states
        if tree is None:
            return ChainPage(document, None, [], [], None, None, None, [], 0, now=as_of, as_of=as_of)
        completion_list, completion_count = _completions_replayed(document, tree)
    levels = chain_levels(tree, now=now)
    return ChainPage(
        document=document,
        tree=tree,
        levels=levels,
        stalled=[stalled for level in levels for stalled in level.stalled],
        sign_times=charts.sign_time_chart(levels),
        signed_curve=charts.signed_curve_chart(tree),
        trail=chain_audit_trail(tree, until=as_of),
        completions=completion_list,
        completion_count=completion_count,
        now=now,
        as_of=as_of,
    )


def _completions_replayed(document: Document, tree: ChainNode) -> tuple[list[Completion], int]:
    """The 办结 feedback the replayed tree had received, in the order it came: the first
    COMPLETIONS_SHOWN (two queries, with their files) and how many there were."""
    done = sorted(
        (delivery.completed_at, delivery.completion_id)
        for node in tree.walk()
        for delivery in node.deliveries
        if delivery.completion_id is not None
    )
    shown = [completion_id for _at, completion_id in done[:COMPLETIONS_SHOWN]]
    return list(completion_list_for_chain(document).filter(pk__in=shown)), len(done)


# --- chain list ---------------------------------------------------------------------------------


def chain_list_for_user(user: User, *, words: str = "") -> QuerySet[Document]:
    """The chains the list offers a person, each one they may open (workflow.access.chain_list_visible):
    every chain at its top (a document that is not a forward's cover letter), and every document a
    unit of theirs issued, forwards included (a forward's chain page shows the tree below it; a unit
    that only forwards has nothing else). A forward carries what it forwards (`forwarded_id`, and
    forward.source_delivery.document). With `words`, those whose title or number, or the number of
    what they forward, holds every word. Newest first.

    Only what the filter and the order need: web.pagination.lean_page pages it (walking the index
    document_issued_order), chain_list_rows reads the page's rows in full."""
    chains = chain_list_visible(user).filter(Q(forward__isnull=True) | Q(issuing_unit__in=unit_list_for_member(user)))
    return chains.filter(words_match(words, numbers=("", "forward__source_delivery__document__"))).order_by(
        "-issued_at", "-id"
    )


def chain_list_rows() -> QuerySet[Document]:
    """The chains list's rows in full, for the ids of a page (chain_list_for_user's): issuer, what a
    forward forwards, and how many units received each and how many signed for it. The figures are
    correlated subqueries, counted for the page's rows only (a GROUP BY over every visible
    document's deliveries took seconds at 10^5 documents)."""
    deliveries = Delivery.objects.filter(document=OuterRef("pk")).order_by().values("document")
    return Document.objects.select_related("issuing_unit", "forward__source_delivery__document").annotate(
        forwarded_id=F("forward__source_delivery__document_id"),
        delivered=Coalesce(
            Subquery(deliveries.annotate(n=Count("*")).values("n"), output_field=IntegerField()), Value(0)
        ),
        signed=Coalesce(
            Subquery(
                deliveries.filter(signed_at__isnull=False).annotate(n=Count("*")).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )


# --- drafting ------------------------------------------------------------------------------------

UNIT_SEARCH_LIMIT = 20


def unit_list_matching(words: str, *, limit: int = UNIT_SEARCH_LIMIT) -> list[Unit]:
    """Active units whose full or short name holds every word typed, in directory order: one query
    (units.selectors.unit_list_directory; nothing when nothing was typed)."""
    if not words.split():
        return []
    return list(unit_list_directory(words)[:limit])


# --- inside a recipient unit: the delivery page's 办理单 and its forms, 代理 ----------------------


def department_list_for_unit(unit: Unit) -> QuerySet[Unit]:
    """The unit's 内设机构 (the departments 拟办 suggests and 批办 assigns), in the order they were set
    up (by id: siblings' paths sort as text, /10/ before /9/)."""
    return Unit.objects.filter(parent=unit, kind=Unit.Kind.INNER_DEPARTMENT, is_active=True).order_by("pk")


def _people_holding(unit: Unit, roles: Iterable[Role]) -> QuerySet:
    grant = Q(
        permission__codename__in=[str(role) for role in roles],
        permission__content_type__app_label="units",
        content_object=unit,
    )
    direct = UnitUserObjectPermission.objects.filter(grant, user=OuterRef("pk"))
    via_group = UnitGroupObjectPermission.objects.filter(grant, group__user=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(Q(Exists(direct)) | Q(Exists(via_group)), is_active=True)
        .order_by("last_name", "first_name", "username")
    )


def reader_list_for_unit(unit: Unit) -> QuerySet:
    """Whom 批办 and 转阅 offer as readers (传阅): the unit's leaders and readers."""
    return _people_holding(unit, (Role.LEADER, Role.READER))


@dataclass
class HandlingPanel:
    """The delivery page's 办理单 and what this person may do on it (the services' answer:
    workflow.services.rules.handling_actions), with the choices its forms offer."""

    sheet: HandlingSheet
    actions: HandlingActions
    # The person a deputy acts for (代理), when they do.
    acting_for: AbstractBaseUser | None = None

    @property
    def is_shown(self) -> bool:
        """The 办理单 is shown once the delivery is registered, or to whoever may register it."""
        return self.sheet.record is not None or self.actions.register


def delivery_handling(user: User, delivery: Delivery) -> HandlingPanel:
    """The 办理单 of a delivery whose door has been passed, and the person's actions on it: a
    constant number of queries (handling_sheet's, the rules', and the principal a deputy acts for)."""
    sheet = handling_sheet(delivery)
    actions = handling_actions(user, delivery)
    panel = HandlingPanel(sheet, actions)
    if actions.acting_for:
        panel.acting_for = get_user_model().objects.filter(pk=actions.acting_for).first()
    return panel


def delegation_list_for_user(user: User, *, now: datetime.datetime) -> QuerySet[Delegation]:
    """代理 that concern a person and are not over: given by them or held by them, not withdrawn and
    not yet ended; the current ones first. One query."""
    if user is None or not user.is_authenticated:
        return Delegation.objects.none()
    return (
        Delegation.objects.filter(Q(principal=user) | Q(deputy=user), withdrawn_at__isnull=True, ends_at__gt=now)
        .select_related("unit", "principal", "deputy")
        .order_by("starts_at", "id")
    )


def deputy_candidates_for_user(user: User) -> QuerySet:
    """Whom a person may name as their deputy (代理人): the other people of their units."""
    return (
        get_user_model()
        .objects.filter(groups__unit__in=unit_list_for_member(user), is_active=True)
        .exclude(pk=getattr(user, "pk", None))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- the chain of a big tree (issue 18) -----------------------------------------------------------
#
# Above CHAIN_TREE_LIMIT deliveries the chain page reads no delivery it does not show: the figures
# per level and per branch are sums of the dispatch figures (workflow.tally, kept by the services),
# "overdue" compares a dispatch's deadlines with now (a delivery's deadlines are its dispatch's,
# copied at routing and never changed), and the deliveries shown (the slowest, the longest waiting,
# a branch's page, the stalled CSV) are read through the per-dispatch indexes of workflow.models.

BRANCHES_SHOWN = 50  # a level's branches per page
BRANCH_DELIVERIES_SHOWN = 100  # a branch's deliveries per page
SLOWEST_SHOWN = 10  # the slowest to sign, and the longest waiting, on the chain page
STALLED_CSV_CHUNK = 2000  # rows fetched at a time from the server-side cursor of the stalled CSV


def _tally_sums(tally: str, dispatch: str, now: datetime.datetime) -> dict:
    """The figures summed over DispatchTally rows reached through `tally`, their dispatch through
    `dispatch` (its deadlines are every delivery's: copied at routing, never changed)."""

    def total(name: str, condition: Q | None = None):
        return Coalesce(Sum(f"{tally}{name}", filter=condition), Value(0))

    sign_for_passed = Q(**{f"{dispatch}deadline_sign_for__lte": now})
    complete_passed = Q(**{f"{dispatch}deadline_complete__lte": now})
    return {
        "total": total("total"),
        "pending": total("pending"),
        "signed": total("signed_ever"),
        "signed_late": total("signed_late"),
        "completed": total("completed"),
        "returned": total("returned"),
        "withdrawn": total("withdrawn"),
        "overdue": total("pending", sign_for_passed),
        "open_pending": total("pending", complete_passed),
        "open_signed": total("signed", complete_passed),
        "stalled_pending": total("pending", sign_for_passed | complete_passed),
    }


@dataclass
class Figures:
    """Deliveries of a level or a branch: received, signed for (late: at or after the deadline),
    pending and past the sign-for deadline now (overdue), completed, open past the completion
    deadline, returned, withdrawn (撤回)."""

    total: int = 0
    pending: int = 0
    signed: int = 0
    signed_late: int = 0
    completed: int = 0
    returned: int = 0
    withdrawn: int = 0
    overdue: int = 0
    open_pending: int = 0
    open_signed: int = 0
    stalled_pending: int = 0

    @property
    def completion_overdue(self) -> int:
        return self.open_pending + self.open_signed

    @property
    def stalled(self) -> int:
        """Pending past the sign-for deadline, or open past the completion deadline (each once):
        the rows of the stalled CSV."""
        return self.stalled_pending + self.open_signed

    @property
    def share(self) -> float:
        return self.signed / self.total if self.total else 0.0


@dataclass
class LevelFigures(Figures):
    depth: int = 0
    branches: int = 0


def _chain_dispatches(document: Document, *, level: int | None = None) -> QuerySet[Dispatch]:
    """The dispatches of `document` and of every issued cover letter below it (those of one level
    only, when given), each with `level` (1: the document's own). The caller has passed the chain's
    door. One filter() call: the level and the chain are conditions on the same enclosure row."""
    on_path = {"document__enclosure_paths__enclosed": document, "document__state": Document.State.ISSUED}
    if level is not None:
        on_path["document__enclosure_paths__depth"] = level - 1
    return Dispatch.objects.filter(**on_path).annotate(level=F("document__enclosure_paths__depth") + 1)


def chain_figures(document: Document, *, now: datetime.datetime) -> list[LevelFigures]:
    """The figures per level of the chain below `document`, from the dispatch figures: one query,
    whatever the number of deliveries. The caller has passed the chain's door."""
    paths = Enclosure.objects.filter(enclosed=document, cover__state=Document.State.ISSUED)
    rows = (
        paths.values("depth")
        .annotate(
            branches=Count("cover__dispatches", distinct=True),
            **_tally_sums("cover__dispatches__tallies__", "cover__dispatches__", now),
        )
        .order_by("depth")
    )
    return [LevelFigures(**{**row, "depth": row["depth"] + 1}) for row in rows if row["branches"]]


@dataclass
class Branch:
    """One dispatch of a level: the root's, or a forward's cover letter under the delivery it
    forwards (`dispatch.document.forward.source_delivery`), with its figures."""

    dispatch: Dispatch
    figures: Figures


def _branch(dispatch: Dispatch) -> Branch:
    return Branch(dispatch, Figures(**{name: getattr(dispatch, name) for name in Figures.__dataclass_fields__}))


def _branch_list(document: Document, now: datetime.datetime, *, level: int | None = None) -> QuerySet[Dispatch]:
    return (
        _chain_dispatches(document, level=level)
        .annotate(**_tally_sums("tallies__", "", now))
        .select_related("document__issuing_unit", "document__forward__source_delivery__unit")
    )


def chain_branch_list(
    document: Document, *, level: int, now: datetime.datetime, after: int = 0, stalled: bool = False
) -> tuple[list[Branch], int | None]:
    """A level's branches, by dispatch id after `after` (keyset): BRANCHES_SHOWN of them, and the
    `after` of the next page (None: the last). With `stalled`, only those with a delivery pending
    past its sign-for deadline or open past its completion deadline. One query."""
    dispatches = _branch_list(document, now, level=level).filter(pk__gt=after)
    if stalled:
        dispatches = dispatches.filter(Q(stalled_pending__gt=0) | Q(open_signed__gt=0))
    rows = list(dispatches.order_by("pk")[: BRANCHES_SHOWN + 1])
    following = rows[BRANCHES_SHOWN - 1].pk if len(rows) > BRANCHES_SHOWN else None
    return [_branch(dispatch) for dispatch in rows[:BRANCHES_SHOWN]], following


@dataclass
class UnitRow:
    """A delivery shown on the big chain's pages, with its branch's level and sign-for time."""

    delivery: Delivery
    level: int
    waited: datetime.timedelta | None = None  # from its document's issue to its sign-for, or to now
    is_overdue: bool = False
    forwarded: list[Dispatch] = field(default_factory=list)  # the branches below it


def _units(pks_in_order: list[int], levels: dict[int, int], now: datetime.datetime) -> list[UnitRow]:
    """The deliveries `pks_in_order` with their unit and document: one query."""
    found = {
        delivery.pk: delivery
        for delivery in Delivery.objects.filter(pk__in=pks_in_order).select_related(
            "unit", "document", "document__issuing_unit"
        )
    }
    rows = []
    for pk in pks_in_order:
        delivery = found[pk]
        issued = delivery.document.issued_at
        waited = (delivery.signed_at or now) - issued if issued else None
        overdue = delivery.state == Delivery.State.PENDING and bool(
            delivery.deadline_sign_for and delivery.deadline_sign_for <= now
        )
        rows.append(UnitRow(delivery, levels.get(pk, 0), waited, overdue))
    return rows


def _first_per_dispatch(document: Document, *, signed: bool) -> list[tuple[int, int]]:
    """(delivery id, level) of the SLOWEST_SHOWN slowest signed (`signed`) or longest waiting pending
    deliveries of the chain: per dispatch the first few by its index (delivery_signed_by_dispatch,
    delivery_pending_by_dispatch), then the first of those. One query; a sign-for time and a wait
    run from the document's issue, so a dispatch's slowest are its latest signed."""
    dispatches = _chain_dispatches(document).values_list("pk", "level", "document__issued_at")
    if connection.vendor != "postgresql":
        return _first_read_whole(dispatches, signed=signed)
    inner_sql, params = dispatches.query.sql_with_params()
    sql = workflow_sql.chain_first_per_dispatch(inner_sql, signed=signed, limit=SLOWEST_SHOWN)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _first_read_whole(dispatches: QuerySet, *, signed: bool) -> list[tuple[int, int]]:
    """_first_per_dispatch without LATERAL (SQLite, the embedded default): the chain's signed or
    pending deliveries read whole, and sorted here."""
    levels = {pk: (level, issued_at) for pk, level, issued_at in dispatches}
    chosen = Delivery.objects.filter(dispatch__in=list(levels))
    if signed:
        rows = chosen.filter(signed_at__isnull=False).values_list("pk", "dispatch_id", "signed_at")
        ordered = sorted(rows, key=lambda r: (-(r[2] - levels[r[1]][1]).total_seconds(), r[0]))
    else:
        rows = chosen.filter(state=Delivery.State.PENDING).values_list("pk", "dispatch_id", "created_at")
        ordered = sorted(rows, key=lambda r: (levels[r[1]][1], r[0]))
    return [(pk_, levels[dispatch_id][0]) for pk_, dispatch_id, _at in ordered[:SLOWEST_SHOWN]]


@dataclass
class BigChainPage:
    """The chain page of a tree above CHAIN_TREE_LIMIT deliveries: its figures per level, the
    slowest and the longest waiting units, and (with ?level=) a level's branches."""

    document: Document
    levels: list[LevelFigures]
    slowest: list[UnitRow]
    waiting: list[UnitRow]
    now: datetime.datetime
    level: int | None = None
    branches: list[Branch] = field(default_factory=list)
    next_after: int | None = None
    stalled_only: bool = False

    @property
    def total(self) -> int:
        return sum(level.total for level in self.levels)

    @property
    def shown_level(self) -> LevelFigures | None:
        return next((level for level in self.levels if level.depth == self.level), None)


def chain_is_big(levels: list[LevelFigures]) -> bool:
    """Whether the chain page shows figures and branches rather than the whole tree."""
    return sum(level.total for level in levels) > settings.CHAIN_TREE_LIMIT


def chain_big_page(
    document: Document,
    *,
    levels: list[LevelFigures],
    now: datetime.datetime,
    level: int | None = None,
    after: int = 0,
    stalled: bool = False,
) -> BigChainPage:
    """The big chain page (`levels`: chain_figures, already read to choose this page): six queries
    more, whatever the size: the slowest and the longest waiting (two each), a level's branches."""
    slowest = _first_per_dispatch(document, signed=True)
    waiting = _first_per_dispatch(document, signed=False)
    shown = {pk: lvl for pk, lvl in [*slowest, *waiting]}
    rows = _units(list(shown), shown, now)
    by_pk = {row.delivery.pk: row for row in rows}
    page = BigChainPage(
        document,
        levels,
        [by_pk[pk] for pk, _ in slowest],
        [by_pk[pk] for pk, _ in waiting],
        now,
        stalled_only=stalled,
    )
    if level is not None:
        page.level = level
        page.branches, page.next_after = chain_branch_list(document, level=level, now=now, after=after, stalled=stalled)
    return page


@dataclass
class BranchPage:
    """One branch (a dispatch of the chain) and a page of its deliveries, by unit id (keyset)."""

    document: Document
    branch: Branch
    level: int
    deliveries: list[UnitRow]
    next_after: int | None
    stalled_only: bool
    now: datetime.datetime


def chain_branch_page(
    document: Document, dispatch_pk: int, *, now: datetime.datetime, after: int = 0, stalled: bool = False
) -> BranchPage:
    """A branch of the chain below `document` (NotFound when the dispatch is not one of them) and
    BRANCH_DELIVERIES_SHOWN of its deliveries after unit id `after`; with `stalled`, only those
    pending past the sign-for deadline or open past the completion deadline. Three queries: the
    branch with its figures, the page of deliveries, the branches forwarded from them."""
    branch = _branch_list(document, now).filter(pk=dispatch_pk).first()
    if branch is None:
        raise NotFound(_("分支不存在或无权查看。"))
    deliveries = Delivery.objects.filter(dispatch_id=branch.pk, unit_id__gt=after).select_related("unit")
    if stalled:
        deliveries = deliveries.filter(overdue_q(now))
    chosen = list(deliveries.order_by("unit_id")[: BRANCH_DELIVERIES_SHOWN + 1])
    following = chosen[BRANCH_DELIVERIES_SHOWN - 1].unit_id if len(chosen) > BRANCH_DELIVERIES_SHOWN else None
    chosen = chosen[:BRANCH_DELIVERIES_SHOWN]
    issued = branch.document.issued_at
    rows = []
    for delivery in chosen:
        waited = (delivery.signed_at or now) - issued if issued else None
        overdue = delivery.state == Delivery.State.PENDING and bool(
            delivery.deadline_sign_for and delivery.deadline_sign_for <= now
        )
        rows.append(UnitRow(delivery, branch.level, waited, overdue))
    below = (
        Dispatch.objects.filter(
            document__forward__source_delivery__in=[row.delivery.pk for row in rows],
            document__state=Document.State.ISSUED,
        )
        .annotate(source=F("document__forward__source_delivery_id"))
        .select_related("document")
        .order_by("pk")
    )
    by_delivery = {row.delivery.pk: row for row in rows}
    for dispatch in below:
        by_delivery[dispatch.source].forwarded.append(dispatch)
    return BranchPage(document, _branch(branch), branch.level, rows, following, stalled, now)


STALLED_CSV_HEADER = [
    "层级",
    "发文字号",
    "发文机关",
    "收文单位",
    "主送/抄送",
    "状态",
    "签收时间",
    "签收时限",
    "办结时限",
    "催办次数",
]


def chain_stalled_rows(document: Document, *, now: datetime.datetime):
    """Every stalled delivery of the chain below `document` (pending past its sign-for deadline, or
    open past its completion deadline), as CSV rows, fetched STALLED_CSV_CHUNK at a time from a
    server-side cursor: never the whole set in memory. One query (a cursor), however many rows."""
    dispatches = _chain_dispatches(document)
    rows = (
        Delivery.objects.filter(dispatch__in=dispatches.values("pk"))
        .filter(overdue_q(now))
        .order_by("dispatch_id", "unit_id")
        .values_list(
            "dispatch_id",
            "document__number_prefix",
            "document__number_year",
            "document__number_serial",
            "document__issuing_unit__name",
            "unit__name",
            "role",
            "state",
            "signed_at",
            "deadline_sign_for",
            "deadline_complete",
            "reminder_count",
        )
    )
    return rows, dict(dispatches.values_list("pk", "level"))
