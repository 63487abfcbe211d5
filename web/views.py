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
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.content import DocumentContent
from documents.models import Document
from units.errors import DomainError, NotFound
from units.models import Role, Unit
from web import charts
from web.forms import CompleteForm, DraftForm, ForwardForm, InboxSearchForm, IssueForm, RecallForm, ReturnForm
from workflow.access import (
    access_chain,
    access_completion_attachment,
    access_delivery,
    access_dispatch,
    access_document,
    access_return,
    access_unit_for_drafting,
)
from workflow.deadlines import CALENDAR_ZONE
from workflow.models import Delivery
from workflow.selectors import chain_for_document, completion_list_for_chain, delivery_list_overdue_for_unit
from workflow.selectors_pages import (
    INBOX_TABS,
    attachment_get_visible,
    chain_audit_trail,
    chain_levels,
    chain_list_for_user,
    delivery_clock,
    delivery_get_handling,
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
    return_list_for_unit,
    unit_list_for_drafting,
    unit_list_for_outbox,
    unit_list_matching,
    unit_roles_for_user,
)
from workflow.services import (
    FORWARD_BODY,
    attachment_add,
    delivery_complete,
    delivery_open,
    delivery_recall,
    delivery_remind,
    delivery_return,
    delivery_sign_for,
    dispatch_recall,
    document_draft,
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
            "now": timezone.now(),
            "form": form,
            "is_searching": not filters.is_empty,
            "page": page,
        },
    )


ISSUER_ROLES = (Role.CLERK, Role.SIGNER)  # who may 催办 and 撤回 for the issuing unit


def _delivery_page(request, delivery: Delivery, *, return_form=None, complete_form=None, status: int = 200):
    """The delivery page: the document, its receipt and history, and the actions this person may
    take on either side (the recipient's clerk: 签收, 转发, 退文, 办结; the issuer's clerk or
    signer: 催办, 撤回). The buttons are hints; the services decide."""
    now = timezone.now()
    recipient_roles = unit_roles_for_user(request.user, delivery.unit_id)
    issuer_roles = unit_roles_for_user(request.user, delivery.document.issuing_unit_id)
    is_clerk = Role.CLERK in recipient_roles
    is_issuer = any(role in issuer_roles for role in ISSUER_ROLES)
    history = delivery_history(delivery)
    is_forwarded = any(entry.what == "FORWARDED" for entry in history)
    is_open = delivery.recalled_at is None and delivery.state in (Delivery.State.PENDING, Delivery.State.SIGNED)
    held = delivery.state in (Delivery.State.SIGNED, Delivery.State.COMPLETED)
    return render(
        request,
        "web/delivery.html",
        {
            "delivery": delivery,
            "document": delivery.document,
            "receipt": receipt_for_delivery(delivery),
            "parts": document_parts(delivery.document),
            "history": history,
            "handling": delivery_get_handling(delivery, now=now),
            "now": now,
            "can_sign_for": is_clerk and delivery.state == Delivery.State.PENDING and delivery.recalled_at is None,
            "can_forward": is_clerk and held,
            "can_return": is_clerk and is_open and not is_forwarded,
            "can_complete": is_clerk and is_open and delivery.state == Delivery.State.SIGNED,
            "can_remind": is_issuer and is_open,
            "can_recall": is_issuer and delivery.recalled_at is None and delivery.state != Delivery.State.RETURNED,
            "return_form": return_form or ReturnForm(),
            "complete_form": complete_form or CompleteForm(),
            "recall_form": RecallForm(),
        },
        status=status,
    )


@login_required
@require_GET
@door
def delivery_detail(request, pk: int):
    delivery = access_delivery(request.user, pk)
    # Opening records the read time (for a member of the recipient unit only; the service decides).
    delivery_open(actor=request.user, delivery=delivery)
    notification_mark_read(actor=request.user, delivery_id=delivery.pk)
    return _delivery_page(request, delivery)


@login_required
@require_POST
@door
def delivery_return_view(request, pk: int):
    """退文 with a reason; the issuer is told and gets the printable 退文告知单."""
    delivery = access_delivery(request.user, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _delivery_page(request, delivery, return_form=form, status=400)
    reason, text = form.cleaned_data["reason"], form.cleaned_data["text"]
    try:
        returned = delivery_return(actor=request.user, delivery_id=delivery.pk, reason=reason, text=text)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("已退文：%(number)s退回%(issuer)s，理由：%(reason)s。")
            % {
                "number": delivery.document.number,
                "issuer": delivery.document.issuing_unit.name,
                "reason": returned.get_reason_display(),
            },
        )
    return redirect("delivery", pk=delivery.pk)


@login_required
@require_POST
@door
def delivery_complete_view(request, pk: int):
    """办结 with the 落实情况 and optional files, which the issuer and the chain's auditors see."""
    delivery = access_delivery(request.user, pk)
    form = CompleteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _delivery_page(request, delivery, complete_form=form, status=400)
    try:
        delivery_complete(
            actor=request.user,
            delivery_id=delivery.pk,
            feedback=form.cleaned_data["feedback"],
            attachments=[(file.name, file) for file in form.cleaned_data["attachments"]],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已办结%(number)s，落实情况已报发文机关。") % {"number": delivery.document.number})
    return redirect(reverse("delivery", args=[delivery.pk]) + "#completion")


def _back(request, fallback: str) -> str:
    """Where an issuer's action returns to: the page it was pressed on (a local URL only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
@door
def delivery_remind_view(request, pk: int):
    """催办 one recipient unit by hand (the issuer's clerk or signer)."""
    delivery = access_delivery(request.user, pk)
    try:
        round_number = delivery_remind(actor=request.user, delivery_id=delivery.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("已向%(unit)s催办（第%(round)d次）。") % {"unit": delivery.unit.name, "round": round_number},
        )
    return redirect(_back(request, reverse("outbox") + f"?unit={delivery.document.issuing_unit_id}"))


def _recall(request, document: Document, recall) -> HttpResponse:
    """撤回, of one delivery or a whole dispatch: `recall(reason)` calls the service."""
    form = RecallForm(request.POST)
    # An over-long reason goes to the service as typed, so that its refusal names the problem.
    reason = form.cleaned_data["reason"] if form.is_valid() else request.POST.get("reason", "")
    try:
        counts = recall(reason)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        parts = [_("已撤回%(number)s。") % {"number": document.number}]
        if counts["withdrawn"]:
            parts.append(_("未签收的 %(count)d 件已从对方收文中撤回。") % {"count": counts["withdrawn"]})
        if counts["held"] or counts["downstream"]:
            parts.append(
                _("已签收的 %(held)d 个单位及其下级 %(downstream)d 个单位已收到撤回通知。")
                % {"held": counts["held"], "downstream": counts["downstream"]}
            )
        messages.success(request, "".join(str(part) for part in parts))
    return redirect(_back(request, reverse("outbox") + f"?unit={document.issuing_unit_id}"))


@login_required
@require_POST
@door
def delivery_recall_view(request, pk: int):
    """撤回 the delivery to one unit (the issuer's clerk or signer)."""
    delivery = access_delivery(request.user, pk)
    return _recall(
        request,
        delivery.document,
        lambda reason: delivery_recall(actor=request.user, delivery_id=delivery.pk, reason=reason),
    )


@login_required
@require_POST
@door
def dispatch_recall_view(request, pk: int):
    """撤回 a whole dispatch (the issuer's clerk or signer)."""
    dispatch = access_dispatch(request.user, pk)
    return _recall(
        request,
        dispatch.document,
        lambda reason: dispatch_recall(actor=request.user, dispatch_id=dispatch.pk, reason=reason),
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
        number_prefix=_chosen_prefix(form),
    )
    return render(request, "web/forward.html", {"delivery": delivery, "form": form, "preview": preview})


def _chosen_prefix(form: ForwardForm) -> str:
    """The number prefix the form shows chosen, if it is one of the unit's (the preview's format)."""
    chosen = form["number_prefix"].value() or ""
    return chosen if chosen in dict(form.fields["number_prefix"].choices) else ""


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
        number_prefix=_chosen_prefix(form),
    )
    return render(request, "web/_official.html", {"document": preview, "is_preview": True})


# --- documents ----------------------------------------------------------------------------------


RETURNS_OFFERED = 50  # how many 退文 the issue form offers to answer (the unanswered first)


def _issue_form(request, document: Document, data=None) -> IssueForm:
    returns = list(return_list_for_unit(request.user, unit_id=document.issuing_unit_id)[:RETURNS_OFFERED])
    initial = {"answers_return": request.GET.get("answers", "")}
    return IssueForm(data, returns=returns, initial=initial)


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
    can_issue = Role.CLERK in roles and document.state == Document.State.SIGNED_OFF
    return render(
        request,
        "web/document.html",
        {
            "document": document,
            "parts": document_parts(document),
            "forward": getattr(document, "forward", None) if document.state != Document.State.ISSUED else None,
            "can_sign_off": Role.SIGNER in roles and document.state == Document.State.DRAFT,
            "can_issue": can_issue,
            "issue_form": _issue_form(request, document) if can_issue else None,
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
    return redirect(reverse("document", args=[document.pk]) + _answers_query(request.POST))


def _answers_query(data) -> str:
    """Carry the 退文 a draft answers from page to page until it is issued (?answers=<id>)."""
    answers = data.get("answers", "")
    return f"?answers={answers}" if answers.isdigit() else ""


@login_required
@require_POST
@door
def document_issue_view(request, pk: int):
    document = access_document(request.user, pk)
    form = _issue_form(request, document, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("document", pk=document.pk)
    try:
        dispatch = document_issue(
            actor=request.user,
            document=document,
            complete_by=form.complete_by_moment(),
            answers_return_id=form.cleaned_data["answers_return"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("document", pk=document.pk)
    messages.success(
        request,
        _("已印发%(number)s，正在分发给 %(count)d 个单位。")
        % {"number": dispatch.document.number, "count": dispatch.recipient_count},
    )
    return redirect(reverse("outbox") + f"?unit={document.issuing_unit_id}")


# --- 拟稿 -----------------------------------------------------------------------------------------


def _draft_unit(request) -> tuple[Unit, list[Unit]]:
    """The unit to draft for (?unit=, else the first one the person may draft for) and the others."""
    units = list(unit_list_for_drafting(request.user))
    wanted = request.GET.get("unit") or (units[0].pk if units else None)
    unit = next((u for u in units if str(u.pk) == str(wanted)), None)
    if unit is None:
        # Not a unit of theirs: the door's answer, the same for a missing one.
        unit = access_unit_for_drafting(request.user, wanted)
    return unit, units


def _answered_return_initial(request, unit: Unit) -> dict:
    """A corrected document starts from the returned one: its kind, title, text and the unit that
    returned it (?answers=<return id>, through the door)."""
    answers = request.GET.get("answers", "")
    if not answers.isdigit():
        return {}
    returned = access_return(request.user, int(answers))
    original = returned.delivery.document
    if original.issuing_unit_id != unit.pk:
        raise NotFound(_("退文记录不存在或无权查看。"))
    return {
        "kind": original.kind,
        "urgency": original.urgency,
        "title": original.title,
        "body": original.body,
        "main_units": [returned.unit_id],
    }


@login_required
@require_http_methods(["GET", "POST"])
@door
def document_new(request):
    """拟稿: a new document of one of the person's units, then 签发 and 印发 on its page."""
    unit, units = _draft_unit(request)
    initial = _answered_return_initial(request, unit)
    searching = request.method == "POST" and "search" in request.POST
    form = DraftForm(request.POST or None, request.FILES or None, unit=unit, initial=initial)
    if request.method == "POST" and not searching and form.is_valid():
        data = form.cleaned_data
        main, cc = form.recipients()
        try:
            # One transaction: the draft with all its files, or nothing.
            with transaction.atomic():
                document = document_draft(
                    actor=request.user,
                    unit=unit,
                    content=DocumentContent(
                        kind=data["kind"],
                        title=data["title"],
                        body=data["body"],
                        urgency=data["urgency"],
                        classification=data["classification"],
                        written_on=data["written_on"],
                        page_count=data["page_count"],
                        telegram_send_to=data["telegram_send_to"],
                        telegram_approval_office=data["telegram_approval_office"],
                        telegram_approver=data["telegram_approver"],
                        telegram_seal=data["telegram_seal"],
                    ),
                    main_recipients=main,
                    cc_recipients=cc,
                    number_prefix=data["number_prefix"],
                )
                for file in data["attachments"]:
                    attachment_add(actor=request.user, document=document, name=file.name, stream=file)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("公文已拟好，请签发并印发。"))
            return redirect(reverse("document", args=[document.pk]) + _answers_query(request.GET))
    results = {}
    if searching:
        for role in ("main", "cc"):
            chosen = set(request.POST.getlist(f"{role}_units"))
            found = unit_list_matching(request.POST.get(f"q_{role}", ""))
            results[role] = [found_unit for found_unit in found if str(found_unit.pk) not in chosen]
    return render(
        request,
        "web/draft.html",
        {
            "active": "outbox",
            "unit": unit,
            "units": units,
            "form": form,
            # A search for units re-shows the form as it stands, without calling it wrong.
            "hide_errors": searching,
            "searching": searching,
            "chosen_main": form.chosen_units("main_units"),
            "chosen_cc": form.chosen_units("cc_units"),
            "results": results,
            "answers": request.GET.get("answers", ""),
        },
    )


@login_required
@require_GET
def unit_search(request):
    """The units whose names hold the words typed, as checkboxes for 主送 or 抄送 (htmx)."""
    role = request.GET.get("role")
    if role not in ("main", "cc"):
        raise Http404(_("找不到这个页面。"))
    chosen = set(request.GET.getlist(f"{role}_units"))
    found = [unit for unit in unit_list_matching(request.GET.get(f"q_{role}", "")) if str(unit.pk) not in chosen]
    return render(request, "web/_unit_results.html", {"role": role, "found": found, "searched": True})


@login_required
@require_GET
def attachment_download(request, pk: int):
    attachment = attachment_get_visible(request.user, pk)
    if attachment is None:
        raise Http404(_("附件不存在或无权查看。"))
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@login_required
@require_GET
@door
def completion_attachment_download(request, pk: int):
    attachment = access_completion_attachment(request.user, pk)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@login_required
@require_GET
@door
def return_notice(request, pk: int):
    """The printable 退文告知单 of one return."""
    returned = access_return(request.user, pk)
    return render(
        request,
        "web/return_notice.html",
        {
            "returned": returned,
            "document": returned.delivery.document,
            "returned_on": timezone.localtime(returned.returned_at, CALENDAR_ZONE),
        },
    )


# --- 发文 ---------------------------------------------------------------------------------------

OVERDUE_SHOWN = 50
RETURNS_SHOWN = 20


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
        roles = unit_roles_for_user(request.user, unit.pk)
        context.update(
            page=page,
            rows=outbox_rows(list(page)),
            drafts=draft_list_for_unit(request.user, unit_id=unit.pk),
            can_act=any(role in roles for role in ISSUER_ROLES),
        )
        if not request.htmx:  # the list refreshes itself; these parts come with the page
            now = timezone.now()
            overdue = delivery_list_overdue_for_unit(request.user, unit_id=unit.pk, now=now)
            returns = return_list_for_unit(request.user, unit_id=unit.pk)
            context.update(
                now=now,
                can_draft=Role.DRAFTER in roles or Role.CLERK in roles,
                overdue=[(delivery, delivery_clock(delivery, now=now)) for delivery in overdue[:OVERDUE_SHOWN]],
                overdue_count=overdue.count(),
                returns=list(returns[:RETURNS_SHOWN]),
                returns_count=returns.count(),
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

COMPLETIONS_SHOWN = 200  # the 办结 feedback listed on the chain page (the CSV has every delivery)


@login_required
@require_GET
@door
def chain(request, pk: int):
    document = access_chain(request.user, pk)
    tree = chain_for_document(document)
    now = timezone.now()
    levels = chain_levels(tree, now=now)
    completions = completion_list_for_chain(request.user, document.pk)
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
            "completions": list(completions[:COMPLETIONS_SHOWN]),
            "completion_count": completions.count(),
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
