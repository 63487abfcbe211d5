"""Chains: the list, the chain page and its exports."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from web.forms import ListSearchForm
from web.selectors import chain_list_for_user, chain_page
from web.views.common import door
from workflow import evidence
from workflow.access import (
    access_chain,
)
from workflow.models import Delivery
from workflow.selectors import chain_for_document

CHAINS_PAGE_SIZE = 20


@login_required
@require_GET
def chain_list(request):
    form = ListSearchForm(request.GET, auto_id="chain-%s")
    words = form.words()
    page = Paginator(chain_list_for_user(request.user, words=words), CHAINS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/chains.html", {"active": "chains", "page": page, "form": form, "q": words})


# --- chain --------------------------------------------------------------------------------------


@login_required
@require_GET
@door
def chain(request, pk: int):
    page = chain_page(access_chain(request.user, pk), now=timezone.now())
    return render(request, "web/chain.html", {"page": page, **vars(page)})


@login_required
@require_GET
@door
def chain_json(request, pk: int):
    tree = chain_for_document(access_chain(request.user, pk))
    response = JsonResponse(tree.as_json(), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="chain-{pk}.json"'
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
def chain_csv(request, pk: int):
    tree = chain_for_document(access_chain(request.user, pk))
    # A byte-order mark, so that spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="chain-{pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    states = dict(Delivery.State.choices)
    for node in tree.walk():
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
