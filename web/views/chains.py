"""Chains: the list, the chain page and its exports."""

import csv
import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from documents.numbering import format_number
from web.forms import ChainAsOfForm, ListSearchForm
from web.pagination import lean_page_uncounted
from web.selectors import (
    STALLED_CSV_CHUNK,
    STALLED_CSV_HEADER,
    chain_big_page,
    chain_branch_page,
    chain_figures,
    chain_is_big,
    chain_list_for_user,
    chain_list_rows,
    chain_page,
    chain_stalled_rows,
)
from web.views.common import door
from workflow import evidence
from workflow.access import (
    access_chain,
)
from workflow.deadlines import CALENDAR_ZONE
from workflow.models import Delivery
from workflow.selectors import ChainNode, chain_as_of, chain_for_document, chain_stream_json, chain_stream_rows

CHAINS_PAGE_SIZE = 20


@login_required
@require_GET
@reads_from_replica
def chain_list(request):
    form = ListSearchForm(request.GET, auto_id="chain-%s")
    words = form.words()
    # Not counted: an auditor's count checks every document against their scope (web.pagination).
    page = lean_page_uncounted(
        chain_list_for_user(request.user, words=words),
        chain_list_rows(),
        request.GET.get("page"),
        per_page=CHAINS_PAGE_SIZE,
    )
    return render(request, "web/chains.html", {"active": "chains", "page": page, "form": form, "q": words})


# --- chain --------------------------------------------------------------------------------------


def _as_of_form(request, now: datetime.datetime) -> ChainAsOfForm:
    """?as_of= (the chain as it stood then): unbound, and so now, when the request has none."""
    return ChainAsOfForm(request.GET if "as_of" in request.GET else None, now=now, auto_id="asof-%s")


def _refusal(form: ChainAsOfForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _export_name(pk: int, as_of: datetime.datetime | None, extension: str) -> str:
    if as_of is None:
        return f"chain-{pk}.{extension}"
    return f"chain-{pk}-as-of-{as_of.astimezone(CALENDAR_ZONE):%Y%m%dT%H%M}.{extension}"


def _chain_tree(document, as_of: datetime.datetime | None) -> ChainNode | None:
    """The tree the exports write: as it stands, or as it stood at `as_of` (None: not yet issued)."""
    return chain_for_document(document) if as_of is None else chain_as_of(document, moment=as_of)


@login_required
@require_GET
@door
@reads_from_replica
def chain(request, pk: int):
    document = access_chain(request.user, pk)
    now = timezone.now()
    form = _as_of_form(request, now)
    levels = chain_figures(document, now=now)
    if chain_is_big(levels):
        return _big_chain(request, document, levels, form, now)
    page = chain_page(document, now=now, as_of=form.moment())
    # A refused moment (malformed, to come) names the problem above the chain as it stands now.
    status = 400 if form.errors else 200
    return render(request, "web/chain.html", {"page": page, "form": form, **vars(page)}, status=status)


def _number(text: str | None) -> int:
    """A keyset position or a level from the address: a positive number, else 0 (the start)."""
    return int(text) if text and text.isdigit() and len(text) < 12 else 0


def _big_chain(request, document, levels, form: ChainAsOfForm, now):
    """The chain page of a tree above CHAIN_TREE_LIMIT deliveries: figures per level, the slowest,
    and with ?level= that level's branches (?after= the keyset, ?stalled=1 the stalled ones). A
    moment (?as_of=) is refused: replaying a big tree would read every event of it."""
    level = _number(request.GET.get("level")) or None
    page = chain_big_page(
        document,
        levels=levels,
        now=now,
        level=level,
        after=_number(request.GET.get("after")),
        stalled=request.GET.get("stalled") == "1",
    )
    refused = "as_of" in request.GET
    context = {"page": page, "document": document, "refused_as_of": refused, "limit": settings.CHAIN_TREE_LIMIT}
    return render(request, "web/chain_big.html", context, status=400 if refused else 200)


@login_required
@require_GET
@door
@reads_from_replica
def chain_branch(request, pk: int, dispatch_pk: int):
    """One branch of a chain (a dispatch: the document's, or a forward's below it) and a page of its
    deliveries, by unit (?after= the keyset, ?stalled=1 the stalled ones)."""
    document = access_chain(request.user, pk)
    page = chain_branch_page(
        document,
        dispatch_pk,
        now=timezone.now(),
        after=_number(request.GET.get("after")),
        stalled=request.GET.get("stalled") == "1",
    )
    return render(request, "web/chain_branch.html", {"page": page, "document": document})


class _Echo:
    """A file-like whose write returns what it was given: csv.writer's rows, one at a time."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
@door
@reads_from_replica
def chain_stalled_csv(request, pk: int):
    """The chain's stalled units (pending past the sign-for deadline, open past the completion
    deadline) as CSV, streamed: rows come STALLED_CSV_CHUNK at a time from a server-side cursor and
    leave as they are written, so a 10^6-row export never sits in memory."""
    document = access_chain(request.user, pk)
    now = timezone.now()
    rows, levels = chain_stalled_rows(document, now=now)
    states = dict(Delivery.State.choices)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(STALLED_CSV_HEADER)
        for (
            dispatch_id,
            prefix,
            year,
            serial,
            issuer,
            unit,
            role,
            state,
            signed_at,
            sign_for,
            complete,
            reminders,
        ) in rows.iterator(chunk_size=STALLED_CSV_CHUNK):
            yield writer.writerow(
                [
                    levels.get(dispatch_id, ""),
                    format_number(prefix, year, serial),
                    issuer,
                    unit,
                    role,
                    states.get(state, state),
                    _local(signed_at),
                    _local(sign_for),
                    _local(complete),
                    reminders,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    moment = now.astimezone(CALENDAR_ZONE)
    response["Content-Disposition"] = f'attachment; filename="chain-{pk}-stalled-{moment:%Y%m%dT%H%M}.csv"'
    return response


@login_required
@require_GET
@door
@reads_from_replica
def chain_json(request, pk: int):
    document = access_chain(request.user, pk)
    form = _as_of_form(request, timezone.now())
    if form.errors:
        return JsonResponse({"error": _refusal(form)}, status=400, json_dumps_params={"ensure_ascii": False})
    as_of = form.moment()
    if _is_big(document):
        if as_of is not None:
            return JsonResponse({"error": _big_as_of_refusal()}, status=400, json_dumps_params={"ensure_ascii": False})
        response = StreamingHttpResponse(chain_stream_json(document), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{_export_name(pk, None, "json")}"'
        return response
    tree = _chain_tree(document, as_of)
    if as_of is None:
        data = tree.as_json()
    elif tree is None:
        # Kept as it stood: nothing yet. The number and title are the document's, issued later.
        data = {"as_of": as_of.isoformat(), "issued": False, "number": document.number, "title": document.title}
        data["deliveries"] = []
    else:
        data = {"as_of": as_of.isoformat(), "issued": True, **tree.as_json()}
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="{_export_name(pk, as_of, "json")}"'
    return response


CSV_HEADER = [
    "层级",
    "发文字号",
    "发文机关",
    "收文单位",
    "主送/抄送",
    "状态",
    "阅读时间",
    "签收时间",
    "回执摘要",
    "转发为",
    "签收时限",
    "办结时限",
    "催办次数",
    "办结时间",
    # 公文交换: where the document was issued and where the unit is (an installation's name; this
    # one's for its own, empty when it has none).
    "发文所在系统",
    "收文所在系统",
]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _csv_row(node: ChainNode, delivery, states: dict[str, str]) -> list:
    return [
        node.depth + 1,
        node.number,
        node.issuer,
        delivery.unit,
        delivery.role,
        states.get(delivery.state, delivery.state),
        _local(delivery.read_at),
        _local(delivery.signed_at),
        delivery.receipt_digest or "",
        " ".join(forward.number for forward in delivery.forwards),
        _local(delivery.deadline_sign_for),
        _local(delivery.deadline_complete),
        delivery.reminders,
        _local(delivery.completed_at),
        node.installation or settings.EXCHANGE_INSTALLATION,
        delivery.installation or settings.EXCHANGE_INSTALLATION,
    ]


def _is_big(document) -> bool:
    """Above CHAIN_TREE_LIMIT deliveries the exports stream (never the whole tree in memory)."""
    return chain_is_big(chain_figures(document, now=timezone.now()))


def _big_as_of_refusal() -> str:
    return _("本链送达超过 %(limit)s 条，不能按时刻回放；可导出现在的情况。") % {"limit": settings.CHAIN_TREE_LIMIT}


@login_required
@require_GET
@door
@reads_from_replica
def chain_csv(request, pk: int):
    document = access_chain(request.user, pk)
    form = _as_of_form(request, timezone.now())
    if form.errors:
        return HttpResponse(_refusal(form), status=400, content_type="text/plain; charset=utf-8")
    as_of = form.moment()
    states = dict(Delivery.State.choices)
    filename = f'attachment; filename="{_export_name(pk, as_of, "csv")}"'
    if _is_big(document):
        if as_of is not None:
            return HttpResponse(_big_as_of_refusal(), status=400, content_type="text/plain; charset=utf-8")
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff" + writer.writerow(CSV_HEADER)
            for node, delivery, covers in chain_stream_rows(document):
                delivery.forwards = covers
                yield writer.writerow(_csv_row(node, delivery, states))

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = filename
        return response
    tree = _chain_tree(document, as_of)
    # A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = filename
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for node in tree.walk() if tree is not None else ():
        for delivery in node.deliveries:
            writer.writerow(_csv_row(node, delivery, states))
    return response


@login_required
@require_GET
@door
@reads_from_replica
def chain_evidence(request, pk: int):
    """The chain's evidence bundle (workflow.evidence), streamed; 409 naming why when it cannot be
    made now (no checkpoint covers the chain's newest events, and no signing key is configured)."""
    export = evidence.EvidenceExport(access_chain(request.user, pk))
    try:
        export.prepare()
    except evidence.EvidenceError as error:
        return HttpResponse(error.message, content_type="text/plain; charset=utf-8", status=409)
    response = StreamingHttpResponse(export.chunks(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="evidence-{pk}.zip"'
    return response
