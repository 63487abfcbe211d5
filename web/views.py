"""The pages. Each view parses input, goes through the door (workflow.access), calls one service or
selector, and renders. No business rules and no ORM writes live here; what a button offers is only
a hint, the service decides.

Missing and forbidden objects are both a 404, so an id reveals nothing.
"""

import csv
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.content import DocumentContent
from documents.models import Document
from units.errors import DomainError, NotFound
from units.models import Role
from web import charts
from web.forms import ForwardForm, InboxSearchForm
from workflow.access import access_chain, access_delivery, access_document
from workflow.models import Delivery
from workflow.selectors import chain_for_document
from workflow.selectors_pages import (
    INBOX_TABS,
    attachment_get_visible,
    chain_audit_trail,
    chain_levels,
    chain_list_for_user,
    delivery_history,
    document_parts,
    draft_list_for_unit,
    forward_preview,
    inbox_counts_for_user,
    inbox_list_for_user,
    notification_list_for_user,
    outbox_list_for_unit,
    outbox_rows,
    receipt_for_delivery,
    unit_list_for_outbox,
    unit_roles_for_user,
)
from workflow.services import (
    FORWARD_BODY,
    delivery_open,
    delivery_sign_for,
    document_forward,
    document_issue,
    document_sign_off,
    document_update,
    notification_mark_read,
)

INBOX_PAGE_SIZE = 20
OUTBOX_PAGE_SIZE = 10
NOTIFICATIONS_PAGE_SIZE = 30
CHAINS_PAGE_SIZE = 20


def door(view):
    """Turn the access layer's NotFound into a 404 page."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapped


# --- 收文 ---------------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request):
    tab = request.GET.get("tab", "pending")
    if tab not in INBOX_TABS:
        tab = "pending"
    form = InboxSearchForm(request.GET or None)
    filters = form.filters()
    page = Paginator(inbox_list_for_user(request.user, tab=tab, filters=filters), INBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/inbox.html",
        {
            "active": "inbox",
            "tab": tab,
            "tabs": [
                ("pending", _("待签收")),
                ("signed", _("已签收")),
                ("completed", _("已办结")),
                ("all", _("全部")),
            ],
            "counts": inbox_counts_for_user(request.user),
            "form": form,
            "is_searching": not filters.is_empty,
            "page": page,
        },
    )


@login_required
@require_GET
@door
def delivery_detail(request, pk: int):
    delivery = access_delivery(request.user, pk)
    # Opening records the read time (for a member of the recipient unit only; the service decides).
    delivery_open(actor=request.user, delivery=delivery)
    notification_mark_read(actor=request.user, delivery_id=delivery.pk)
    roles = unit_roles_for_user(request.user, delivery.unit_id)
    is_clerk = Role.CLERK in roles
    return render(
        request,
        "web/delivery.html",
        {
            "delivery": delivery,
            "document": delivery.document,
            "receipt": receipt_for_delivery(delivery),
            "parts": document_parts(delivery.document),
            "history": delivery_history(delivery),
            "can_sign_for": is_clerk and delivery.state == Delivery.State.PENDING,
            "can_forward": is_clerk and delivery.state in (Delivery.State.SIGNED, Delivery.State.COMPLETED),
        },
    )


@login_required
@require_POST
@door
def delivery_sign(request, pk: int):
    delivery = access_delivery(request.user, pk)
    try:
        receipt = delivery_sign_for(actor=request.user, delivery_id=delivery.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("已签收%(number)s，回执已送达发文机关。签收的内容摘要：%(digest)s")
            % {"number": delivery.document.number, "digest": receipt.content_digest},
        )
    return redirect(reverse("delivery", args=[delivery.pk]) + "#receipt")


def _forward_context(request, pk: int):
    """The delivery to forward and the form, for a clerk of the receiving unit; 404 for anyone else."""
    delivery = access_delivery(request.user, pk)
    if Role.CLERK not in unit_roles_for_user(request.user, delivery.unit_id):
        raise NotFound(_("送达记录不存在或无权查看。"))
    return delivery


def _prefilled_body(delivery: Delivery) -> str:
    return FORWARD_BODY.format(title=delivery.document.title, number=delivery.document.number)


@login_required
@require_http_methods(["GET", "POST"])
@door
def delivery_forward(request, pk: int):
    delivery = _forward_context(request, pk)
    if delivery.state not in (Delivery.State.SIGNED, Delivery.State.COMPLETED):
        messages.error(request, _("签收后才能转发。"))
        return redirect("delivery", pk=delivery.pk)
    initial = {"urgency": delivery.document.urgency, "body": _prefilled_body(delivery)}
    form = ForwardForm(request.POST or None, unit=delivery.unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: the cover letter is drafted with its own text, or not at all.
            with transaction.atomic():
                cover = document_forward(
                    actor=request.user,
                    delivery=delivery,
                    main_recipients=form.recipients(),
                    urgency=data["urgency"],
                    number_prefix=data["number_prefix"],
                )
                if data["body"] != cover.body:
                    cover = document_update(
                        actor=request.user,
                        document=cover,
                        content=DocumentContent(
                            kind=cover.kind,
                            title=cover.title,
                            body=data["body"],
                            urgency=cover.urgency,
                            classification=cover.classification,
                            issuer_mark=cover.issuer_mark,
                        ),
                    )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("转发通知已拟好，请签发并印发。"))
            return redirect("document", pk=cover.pk)
    preview = forward_preview(
        delivery,
        body=form["body"].value() or "",
        urgency=form["urgency"].value() or delivery.document.urgency,
        main_recipients=form.recipients(),
    )
    return render(request, "web/forward.html", {"delivery": delivery, "form": form, "preview": preview})


@login_required
@require_POST
@door
def delivery_forward_preview(request, pk: int):
    """The cover letter in the official layout as the form now stands (htmx); writes nothing."""
    delivery = _forward_context(request, pk)
    form = ForwardForm(request.POST, unit=delivery.unit)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    preview = forward_preview(
        delivery,
        body=data.get("body") or request.POST.get("body", ""),
        urgency=data.get("urgency") or delivery.document.urgency,
        main_recipients=form.recipients(),
    )
    return render(request, "web/_official.html", {"document": preview, "is_preview": True})


# --- documents ----------------------------------------------------------------------------------


@login_required
@require_GET
@door
def document_detail(request, pk: int):
    document = access_document(request.user, pk)
    roles = unit_roles_for_user(request.user, document.issuing_unit_id)
    try:
        access_chain(request.user, document.pk)
    except NotFound:
        can_see_chain = False
    else:
        can_see_chain = True
    return render(
        request,
        "web/document.html",
        {
            "document": document,
            "parts": document_parts(document),
            "forward": getattr(document, "forward", None) if document.state != Document.State.ISSUED else None,
            "can_sign_off": Role.SIGNER in roles and document.state == Document.State.DRAFT,
            "can_issue": Role.CLERK in roles and document.state == Document.State.SIGNED_OFF,
            "can_see_chain": can_see_chain,
        },
    )


@login_required
@require_POST
@door
def document_sign_off_view(request, pk: int):
    document = access_document(request.user, pk)
    try:
        document_sign_off(actor=request.user, document=document)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已签发，可以印发。"))
    return redirect("document", pk=document.pk)


@login_required
@require_POST
@door
def document_issue_view(request, pk: int):
    document = access_document(request.user, pk)
    try:
        dispatch = document_issue(actor=request.user, document=document)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("document", pk=document.pk)
    messages.success(
        request,
        _("已印发%(number)s，正在分发给 %(count)d 个单位。")
        % {"number": dispatch.document.number, "count": dispatch.recipient_count},
    )
    return redirect(reverse("outbox") + f"?unit={document.issuing_unit_id}")


@login_required
@require_GET
def attachment_download(request, pk: int):
    attachment = attachment_get_visible(request.user, pk)
    if attachment is None:
        raise Http404(_("附件不存在或无权查看。"))
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


# --- 发文 ---------------------------------------------------------------------------------------


@login_required
@require_GET
def outbox(request):
    units = list(unit_list_for_outbox(request.user))
    unit = units[0] if units else None
    if "unit" in request.GET:
        unit = next((u for u in units if str(u.pk) == request.GET["unit"]), None)
        if unit is None:
            raise Http404(_("单位不存在或无权查看。"))
    context = {"active": "outbox", "units": units, "unit": unit, "page": None, "rows": [], "drafts": []}
    if unit is not None:
        page = Paginator(outbox_list_for_unit(request.user, unit_id=unit.pk), OUTBOX_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context.update(
            page=page,
            rows=outbox_rows(list(page)),
            drafts=draft_list_for_unit(request.user, unit_id=unit.pk),
        )
    template = "web/_outbox_list.html" if request.htmx else "web/outbox.html"
    return render(request, template, context)


@login_required
@require_GET
def chain_list(request):
    words = request.GET.get("q", "").strip()[:100]
    page = Paginator(chain_list_for_user(request.user, words=words), CHAINS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/chains.html", {"active": "chains", "page": page, "q": words})


# --- chain --------------------------------------------------------------------------------------


@login_required
@require_GET
@door
def chain(request, pk: int):
    document = access_chain(request.user, pk)
    tree = chain_for_document(document)
    now = timezone.now()
    levels = chain_levels(tree, now=now)
    return render(
        request,
        "web/chain.html",
        {
            "document": document,
            "tree": tree,
            "levels": levels,
            "stalled": [stalled for level in levels for stalled in level.stalled],
            "sign_times": charts.sign_time_chart(levels),
            "signed_curve": charts.signed_curve_chart(tree),
            "trail": chain_audit_trail(tree),
            "now": now,
        },
    )


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
                ]
            )
    return response


# --- notifications ------------------------------------------------------------------------------


@login_required
@require_GET
def notifications(request):
    page = Paginator(notification_list_for_user(request.user), NOTIFICATIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request):
    notification_mark_read(actor=request.user)
    return redirect("notifications")


@login_required
@require_GET
def notifications_bell(request):
    """The bell's badge alone, for htmx to refresh it."""
    return render(request, "web/_bell.html")
