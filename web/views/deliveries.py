"""A received document: its page, 签收, 转发, 退文, 办结, and the issuer's 催办 and 撤回."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.models import Document, Kind, Urgency
from units.errors import Conflict, DomainError, NotAllowed, NotFound
from web.context_processors import navigation_for
from web.forms import (
    CompleteForm,
    ForwardForm,
    InstructForm,
    PassOnForm,
    ProposeForm,
    ReadForm,
    RecallForm,
    RegisterForm,
    ReplyForm,
    ReportForm,
    ReturnForm,
)
from web.selectors import (
    HandlingPanel,
    delivery_handling,
    department_list_for_unit,
    forward_preview,
    person_side,
    reader_list_for_unit,
)
from web.views.common import back_to, door
from workflow.access import (
    access_delivery,
    access_dispatch,
    imported_source_list_visible,
)
from workflow.models import Delivery
from workflow.selectors import delivery_page
from workflow.services import (
    FORWARD_BODY,
    delivery_complete,
    delivery_open,
    delivery_recall,
    delivery_remind,
    delivery_return,
    delivery_sign_for,
    dispatch_recall,
    document_forward,
    notification_mark_read,
)
from workflow.services.rules import DeliveryAction, delivery_action_refusal


def _handling_forms(delivery: Delivery, inunit: HandlingPanel) -> dict:
    """The 办理单's forms this person is offered (inunit.actions), each with its choices."""
    actions, unit = inunit.actions, delivery.unit
    departments = department_list_for_unit(unit) if actions.propose or actions.instruct else None
    readers = reader_list_for_unit(unit) if actions.instruct or actions.pass_on else None
    return {
        "register_form": RegisterForm(auto_id="register-%s"),
        "propose_form": ProposeForm(departments=departments, auto_id="propose-%s"),
        "instruct_form": InstructForm(departments=departments, readers=readers, auto_id="instruct-%s"),
        "report_form": ReportForm(auto_id="report-%s"),
        "read_form": ReadForm(auto_id="read-%s"),
        "pass_on_form": PassOnForm(readers=readers, auto_id="pass-on-%s"),
        "reply_form": ReplyForm(
            auto_id="reply-%s",
            initial={"title": _("关于《%(title)s》的答复") % {"title": delivery.document.title}},
        ),
    }


def _delivery_page(request, delivery: Delivery, *, return_form=None, complete_form=None, status: int = 200):
    """The delivery page: the document, its receipt and history, the 办理单, and what this person
    may do with it (the services' answer: workflow.services.rules.delivery_actions and
    handling_actions)."""
    now = timezone.now()
    page = delivery_page(request.user, delivery, now=now)
    inunit = delivery_handling(request.user, delivery)
    side = person_side(
        navigation_for(request).units,
        recipient_unit_id=delivery.unit_id,
        issuer_unit_id=delivery.document.issuing_unit_id,
    )
    if side == "chain" and any(slip.reader_id == request.user.pk for slip in inunit.sheet.slips):
        side = "todo"  # a reader (传阅) who is no member of the unit came from their 待办
    return render(
        request,
        "web/delivery.html",
        {
            "delivery": delivery,
            "document": delivery.document,
            "page": page,
            "receipt": page.receipt,
            "parts": page.parts,
            "history": page.history,
            "handling": page.handling,
            "actions": page.actions,
            "now": now,
            "return_form": return_form or ReturnForm(),
            "complete_form": complete_form or CompleteForm(),
            "recall_form": RecallForm(),
            "inunit": inunit,
            "side": side,
            # What the unit registered the document from (登记来文 of a file), when this person may see it.
            "imported": imported_source_list_visible(request.user)
            .filter(document_id=delivery.document_id, unit_id=delivery.unit_id)
            .select_related("imported_by"),
            **_handling_forms(delivery, inunit),
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
    return redirect(back_to(request, reverse("outbox") + f"?unit={delivery.document.issuing_unit_id}"))


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
        if counts["held"]:
            parts.append(_("已签收的 %(count)d 件已撤回，对方不能再查看。") % {"count": counts["held"]})
        if counts["downstream"]:
            parts.append(_("由此转发到下级的 %(count)d 件随之撤回。") % {"count": counts["downstream"]})
        messages.success(request, "".join(str(part) for part in parts))
    return redirect(back_to(request, reverse("outbox") + f"?unit={document.issuing_unit_id}"))


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


def _forward_context(request, pk: int) -> tuple[Delivery, Conflict | None]:
    """The delivery to forward, for a clerk of the receiving unit, and why it cannot be forwarded
    now (None when it can); 404 for anyone else, as the door answers (the rule:
    workflow.services.rules, DeliveryAction.FORWARD)."""
    delivery = access_delivery(request.user, pk)
    refusal = delivery_action_refusal(request.user, DeliveryAction.FORWARD, delivery)
    if isinstance(refusal, NotAllowed):
        raise NotFound(_("送达记录不存在或无权查看。"))
    return delivery, refusal


def _prefilled_body(delivery: Delivery) -> str:
    return FORWARD_BODY.format(title=delivery.document.title, number=delivery.document.number)


@login_required
@require_http_methods(["GET", "POST"])
@door
def delivery_forward(request, pk: int):
    delivery, refusal = _forward_context(request, pk)
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect("delivery", pk=pk)
    initial = {"urgency": Urgency.carried_by(Kind.NOTICE, delivery.document.urgency), "body": _prefilled_body(delivery)}
    form = ForwardForm(request.POST or None, unit=delivery.unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cover = document_forward(
                actor=request.user,
                delivery=delivery,
                main_recipients=form.recipients(),
                urgency=data["urgency"],
                number_prefix=data["number_prefix"],
                body=data["body"],
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
    delivery, refusal = _forward_context(request, pk)
    if refusal is not None:
        return HttpResponse(refusal.message, status=409, content_type="text/plain; charset=utf-8")
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
