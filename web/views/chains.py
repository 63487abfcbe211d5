"""Chains: the list, the chain page and its exports."""

import csv
import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from web.forms import ChainAsOfForm, ListSearchForm
from web.pagination import lean_page_uncounted
from web.selectors import chain_list_for_user, chain_list_rows, chain_page
from web.views.common import door
from workflow import evidence
from workflow.access import (
    access_chain,
)
from workflow.deadlines import CALENDAR_ZONE
from workflow.models import Delivery
from workflow.selectors import ChainNode, chain_as_of, chain_for_document

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
    page = chain_page(document, now=now, as_of=form.moment())
    # A refused moment (malformed, to come) names the problem above the chain as it stands now.
    status = 400 if form.errors else 200
    return render(request, "web/chain.html", {"page": page, "form": form, **vars(page)}, status=status)


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
]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


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
    tree = _chain_tree(document, as_of)
    # A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(pk, as_of, "csv")}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    states = dict(Delivery.State.choices)
    for node in tree.walk() if tree is not None else ():
        for delivery in node.deliveries:
            writer.writerow(
                [
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
                ]
            )
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
