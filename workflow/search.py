"""全文检索: `document_search`, the one read behind the search page and the API.

Only what the person may see: the door is workflow.access.document_visible_among (the rule of
document_list_visible, shaped for many candidates: a set a unit's clerk joins, or the rule per
candidate for auditors and departments), in the same statement as the match, so that a match is
checked by the door before it counts towards a page.

Order (the measured reason is in the README, "Search"): a document whose heading (number, title,
issuer) matches ranks before one matched only in its body or attachments; within each tier, newest
first. Each tier walks the months newest first (documents.SearchPeriod), each month's matches from
its GIN index led by the month, and stops when the page is full, so a page costs about the same at
10^4 and 10^6 documents; ts_rank would score every match first (seconds for 通知 at 10^6).

Pages are keyset: the cursor is the last candidate's (tier, dated_at, id). The index answers "every
bigram present" exactly and cheaply; the phrase (their order) is checked on a page's few candidates
only. Three queries a page: which branches of the door can hold for this person
(workflow.access), the candidates (both tiers in one UNION ALL), then the candidates' documents
with their issuers and whether each phrase holds in them. A page asks for the candidates it needs
and no more (each costs a hundred matches read for a clerk who may see 1 % of them); when the phrase
check leaves it short, two more queries read on (a second round).
"""

import base64
import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from config.routers import planned_for_their_parameters
from documents.models import Document, DocumentSearch, Kind, Urgency
from documents.search import all_terms_literal, highlight_segments, query_literal, search_period
from workflow import sql
from workflow.access import User, document_visible_among
from workflow.deadlines import CALENDAR_ZONE
from workflow.models import Dispatch

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SNIPPET_CHARACTERS = 120


class SearchState:
    """What a person sees a document as: 草稿 (also signed off, not yet issued), 已印发, 已撤回."""

    DRAFT = "draft"
    ISSUED = "issued"
    RECALLED = "recalled"
    ALL = (DRAFT, ISSUED, RECALLED)


@dataclass(frozen=True)
class SearchFilters:
    kind: str = ""
    urgency: str = ""
    issuer_id: int | None = None
    # Inclusive local (Asia/Shanghai) dates of dated_at: issued, or drafted for drafts.
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    state: str = ""

    def __post_init__(self) -> None:
        if self.kind and self.kind not in Kind.values:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.urgency and self.urgency not in Urgency.values:
            raise ValueError(f"unknown urgency {self.urgency!r}")
        if self.state and self.state not in SearchState.ALL:
            raise ValueError(f"unknown state {self.state!r}")


@dataclass(frozen=True)
class SearchHit:
    document: Document
    state: str
    # The heading matched (tier 1) rather than only the body or the attachments.
    heading_matched: bool
    title_html: SafeString
    snippet_html: SafeString


@dataclass(frozen=True)
class SearchPage:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    # The cursor of the next page; None on the last.
    next_cursor: str | None = None

    @property
    def searched(self) -> bool:
        return bool(query_literal(self.query))


def highlight(text: str, query: str, *, window: int | None = None) -> SafeString:
    """The text, escaped, with the query's runs in <mark>: nothing of the text is ever markup."""
    return mark_safe(  # noqa: S308 (every segment of the text is escaped; only <mark> is added)
        "".join(
            f"<mark>{escape(segment)}</mark>" if hit else escape(segment)
            for segment, hit in highlight_segments(text, query, window=window)
        )
    )


def _cursor(tier: int, dated_at: datetime.datetime, pk: int) -> str:
    raw = f"{tier}|{dated_at.isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_cursor(cursor: str | None) -> tuple[int, datetime.datetime, int] | None:
    """A cursor made by `_cursor`, or None for a missing or malformed one (the first page)."""
    if not cursor:
        return None
    try:
        tier, dated_at, pk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        parsed = datetime.datetime.fromisoformat(dated_at)
        if parsed.tzinfo is None or int(tier) not in (1, 2):
            return None
        return int(tier), parsed, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def _filtered(candidates: QuerySet[DocumentSearch], filters: SearchFilters) -> QuerySet[DocumentSearch]:
    if filters.kind:
        candidates = candidates.filter(document__kind=filters.kind)
    if filters.urgency:
        candidates = candidates.filter(document__urgency=filters.urgency)
    if filters.issuer_id is not None:
        candidates = candidates.filter(document__issuing_unit_id=filters.issuer_id)
    if filters.date_from is not None:
        start = datetime.datetime.combine(filters.date_from, datetime.time.min, tzinfo=CALENDAR_ZONE)
        candidates = candidates.filter(dated_at__gte=start)
    if filters.date_to is not None:
        end = datetime.datetime.combine(
            filters.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=CALENDAR_ZONE
        )
        candidates = candidates.filter(dated_at__lt=end)
    recalled = Exists(Dispatch.objects.filter(document_id=OuterRef("document_id"), recall__isnull=False))
    if filters.state == SearchState.DRAFT:
        candidates = candidates.exclude(document__state=Document.State.ISSUED)
    elif filters.state == SearchState.ISSUED:
        candidates = candidates.filter(document__state=Document.State.ISSUED).filter(~recalled)
    elif filters.state == SearchState.RECALLED:
        candidates = candidates.filter(document__state=Document.State.ISSUED).filter(recalled)
    return candidates


class _Matches(Func):
    """vector @@ query, the operator GIN answers."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _tsquery(literal: str) -> RawSQL:
    return RawSQL("%s::tsquery", [literal])


def _matches(column: str, literal: str) -> _Matches:
    return _Matches(F(column), _tsquery(literal))


def _phrase_holds(literal: str) -> Func:
    """ts_match_vq, the function behind @@: the planner cannot turn it into an index scan, so it is
    evaluated on the rows at hand only (a page's candidates)."""
    return Func(F("vector"), _tsquery(literal), function="ts_match_vq", output_field=BooleanField())


# A query with a phrase (three characters or more) asks for this many candidates beyond the page's
# hits and one more: a candidate holding every bigram of a phrase but not in order is rare in real
# text. When the phrase check still leaves the page short, a second round reads on from the last
# candidate, CANDIDATES_PER_HIT for each hit missing; a page still short then has a next cursor.
PHRASE_SPARE = 4
CANDIDATES_PER_HIT = 3
ROUNDS = 2


class _Page:
    """A page's hits as candidates are read, round after round: `rows` (tier, dated_at, document
    id) whose phrase holds, `last` the last candidate read (the next page starts after it) and
    `more`, whether there may be hits after it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: list[tuple[int, datetime.datetime, int]] = []
        self.last: tuple | None = None
        self.more = False

    def read(self, candidates: list[tuple], count: int, documents: dict[int, Document]) -> bool:
        """Take a round's `count` candidates (of _candidates) in order; True when every one was
        read, there may be more, and the page is still short: a round after `last` would add hits."""
        first_tier_full = sum(1 for c in candidates if c[0] == 1 and not c[3]) >= count
        for candidate in candidates:
            tier, dated_at, pk, is_window_end = candidate
            if len(self.rows) == self.limit:  # one more candidate after the page's last hit
                self.more = True
                return False
            self.last = candidate
            if is_window_end:  # the door's window of this tier is read: the next page goes on from here
                self.more = True
                return False
            if tier == 2 and first_tier_full:  # the heading tier may hold more: read on there first
                self.more = True
                return False
            if documents[pk].phrase_holds:
                self.rows.append((tier, dated_at, pk))
        # Every candidate read: there may be more if a tier gave its whole `count` (the body tier is
        # not read when the heading tier is full).
        self.more = first_tier_full or sum(1 for c in candidates if c[0] == 2 and not c[3]) >= count
        return self.more and len(self.rows) < self.limit


# For a door tested per candidate (auditors, departments): how many matches, newest first, a page
# reads before the door. The door then runs on at most this many rows, never on every match (at
# 10^5 documents a common phrase matched 16,000 in the body: 140 ms of door before the sort).
DOOR_WINDOW = 500


def _period_bounds(filters: SearchFilters, after_dated_at: datetime.datetime | None) -> tuple[int | None, int | None]:
    """The newest and oldest months a tier's walk may visit: the cursor's and the date filters'."""
    newest = [search_period(moment) for moment in (filters.date_to, after_dated_at) if moment is not None]
    oldest = search_period(filters.date_from) if filters.date_from is not None else None
    return min(newest, default=None), oldest


def _walk(candidates: QuerySet[DocumentSearch], columns, limit: int, bounds) -> tuple[str, list]:
    """The first `limit` of `candidates` in page order, one month at a time, newest first: each
    month's matches come from a GIN index led by the month (so a word in a quarter of 10^6
    documents reads one month's share, not 250,000 entries) and a top-N sort; the outer LIMIT stops
    the walk as soon as the page is full. The months come from SearchPeriod, ordered, and the
    incremental sort on (period, dated_at, id) keeps that order without reading further months."""
    newest, oldest = bounds
    walked = RawSQL(sql.SEARCH_WALKED_MONTH, ())  # noqa: S611 (a column of workflow.sql's statement, no value)
    month = candidates.filter(period=walked).order_by("-dated_at", "-document_id")
    read = [*columns, *(name for name in ("dated_at", "document_id") if name not in columns)]
    inner, params = month.values_list(*read)[:limit].query.sql_with_params()
    statement = sql.search_month_walk(inner, columns, limit, newest=newest is not None, oldest=oldest is not None)
    return statement, [*(bound for bound in (newest, oldest) if bound is not None), *params]


def _candidates(door, query: str, filters: SearchFilters, after, count: int) -> list[tuple]:
    """(tier, dated_at, document id, is_window_end) of the next `count` candidates after the cursor:
    visible (`door`, document_visible_among's), filtered, every token of the query present (from
    the GIN index alone), both tiers in one UNION ALL, in page order. With a door tested per
    candidate, each tier reads DOOR_WINDOW matches and then the door; the window's last match comes
    too (is_window_end), so that the next page starts after it even when the door let none of the
    window through."""
    per_candidate = isinstance(door, Exists)
    base = _filtered(DocumentSearch.objects.all(), filters)
    if connection.vendor != "postgresql":
        return _candidates_by_like(base, door, query, after, count)
    terms = all_terms_literal(query)
    tiers = (
        (1, base.filter(_matches("heading", terms))),
        (2, base.filter(_matches("vector", terms)).exclude(_matches("heading", terms))),
    )
    columns = ("tier", "dated_at", "document_id", "is_window_end")
    parts: dict[int, list[tuple[str, list]]] = {1: [], 2: []}
    for tier, candidates in tiers:
        after_dated_at = None
        if after is not None:
            after_tier, dated_at, pk = after
            if tier < after_tier:
                continue
            if tier == after_tier:
                candidates = candidates.filter(Q(dated_at__lt=dated_at) | Q(dated_at=dated_at, document_id__lt=pk))
                after_dated_at = dated_at
        bounds = _period_bounds(filters, after_dated_at)
        marked = candidates.annotate(tier=Value(tier), is_window_end=Value(False))
        if not per_candidate:
            parts[tier].append(_walk(marked.filter(door), columns, count, bounds))
            continue
        # The window: the tier's DOOR_WINDOW newest matches, walked once; the door on those only,
        # and the window's last row (is_window_end), so that the next page starts after it.
        window_sql, window_params = _walk(marked, columns, DOOR_WINDOW, bounds)
        in_window = RawSQL(sql.SEARCH_WINDOW_IDS, ())  # noqa: S611 (a statement of workflow.sql's, no value)
        passed_sql, passed_params = (
            DocumentSearch.objects.filter(door, document_id__in=in_window)
            .annotate(tier=Value(tier), is_window_end=Value(False))
            .order_by("-dated_at", "-document_id")
            .values_list(*columns)[:count]
            .query.sql_with_params()
        )
        parts[tier].append((sql.search_window(window_sql, passed_sql, DOOR_WINDOW), [*window_params, *passed_params]))
    statement, params = _tiers_statement(parts[1], parts[2], count)
    if not statement:
        return []
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    # The window's end after a hit on the same row (it is read once, as the hit).
    return sorted(rows, key=lambda row: (row[0], -row[1].timestamp(), -row[2], row[3]))


def _tiers_statement(first: list[tuple[str, list]], second: list[tuple[str, list]], count: int) -> tuple[str, list]:
    """One statement for both tiers' parts, in which the body tier is read only when the heading
    tier leaves room on the page: neither full nor stopped at its window's end. A word in nearly
    every heading (党委: 54 % of them) is in few bodies without being in the heading, and finding
    that out walks every month (2.6 s at 10^6 documents) for a page the heading tier fills anyway."""

    def union(parts: list[tuple[str, list]]) -> tuple[str, list]:
        return " UNION ALL ".join(f"({statement})" for statement, _ in parts), [p for _, ps in parts for p in ps]

    if not first or not second:
        return union(first or second)
    (first_sql, first_params), (second_sql, second_params) = union(first), union(second)
    return sql.search_tiers(first_sql, second_sql), [*first_params, *second_params, count]


def _candidates_by_like(base: QuerySet[DocumentSearch], door, query: str, after, count: int) -> list[tuple]:
    """The embedded SQLite default: LIKE on the document's title and body, one tier."""
    words = Q()
    for part in query.split():
        words &= Q(document__title__icontains=part) | Q(document__body__icontains=part)
    candidates = base.filter(words, door)
    if after is not None:
        _tier, dated_at, pk = after
        candidates = candidates.filter(Q(dated_at__lt=dated_at) | Q(dated_at=dated_at, document_id__lt=pk))
    return list(
        candidates.annotate(tier=Value(1), is_window_end=Value(False))
        .order_by("-dated_at", "-document_id")
        .values_list("tier", "dated_at", "document_id", "is_window_end")[:count]
    )


def document_search(
    user: User,
    query: str,
    filters: SearchFilters | None = None,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> SearchPage:
    """The documents this person may see that match `query` (documents.search: every part a phrase,
    all parts), filtered, heading matches first, newest first; `limit` hits from `cursor` on.
    Three queries; none for an anonymous person or an empty query."""
    filters = filters or SearchFilters()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = " ".join(query.split())[:200]
    active = user is not None and user.is_authenticated and user.is_active
    if not active or not query_literal(query):
        return SearchPage(query=query)
    with planned_for_their_parameters():  # a generic plan knows neither the words nor the months
        return _document_search(user, query, filters, cursor, limit)


def _document_search(user: User, query: str, filters: SearchFilters, cursor: str | None, limit: int) -> SearchPage:
    door = document_visible_among(user, "document_id", issuer_field="issuing_unit_id")
    # Whether each phrase holds (the order of its bigrams) is checked on the candidates' documents;
    # a query of single words and pairs holds whenever its terms are present.
    phrase = query_literal(query)
    checks_phrase = connection.vendor == "postgresql" and phrase != all_terms_literal(query)
    holds = (
        Exists(DocumentSearch.objects.filter(_phrase_holds(phrase), document_id=OuterRef("pk")))
        if checks_phrase
        else Value(True)
    )
    recalled = Exists(Dispatch.objects.filter(document_id=OuterRef("pk"), recall__isnull=False))
    documents: dict[int, Document] = {}
    page = _Page(limit)
    # A page's hits and one more: for a county clerk who may see 1 % of the matches, each candidate
    # costs about a hundred matches read (bench/scale_search.py), so the first round asks for no more
    # than the page needs, and the phrase check's rare misses get a second round.
    count = limit + 1 + (PHRASE_SPARE if checks_phrase else 0)
    after = _parse_cursor(cursor)
    for round_ in range(ROUNDS):
        candidates = _candidates(door, query, filters, after, count)
        documents |= (
            Document.objects.select_related("issuing_unit")
            .annotate(is_recalled=recalled, phrase_holds=holds)
            .in_bulk([c[2] for c in candidates if not c[3]])
        )
        if not page.read(candidates, count, documents) or round_ == ROUNDS - 1:
            break
        # Every candidate read, and the phrase check left the page short: read on after the last.
        after = page.last[:3]
        count = (limit + 1 - len(page.rows)) * CANDIDATES_PER_HIT
    hits = []
    for tier, _dated_at, pk in page.rows:
        document = documents[pk]
        if document.state != Document.State.ISSUED:
            state = SearchState.DRAFT
        else:
            state = SearchState.RECALLED if document.is_recalled else SearchState.ISSUED
        hits.append(
            SearchHit(
                document=document,
                state=state,
                heading_matched=tier == 1,
                title_html=highlight(document.title, query),
                snippet_html=highlight(document.body, query, window=SNIPPET_CHARACTERS),
            )
        )
    # The cursor is the last candidate read, hit or not: the next page starts after it.
    next_cursor = _cursor(*page.last[:3]) if page.more and page.last is not None else None
    return SearchPage(query=query, hits=hits, next_cursor=next_cursor)
