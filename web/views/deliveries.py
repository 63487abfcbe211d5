"""A received document: its page, 签收, 转发, 退文, 办结, and the issuer's 催办 and 撤回."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.content import DocumentContent
from documents.models import Document
from units.errors import DomainError, NotFound
from units.models import Role
from web.forms import CompleteForm, ForwardForm, RecallForm, ReturnForm
from web.selectors import (
    delivery_get_handling,
    delivery_history,
    document_parts,
    forward_preview,
    receipt_for_delivery,
    unit_roles_for_user,
)
from web.views.common import ISSUER_ROLES, back_to, door
from workflow.access import (
    access_delivery,
    access_dispatch,
)
from workflow.models import Delivery
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
    document_update,
    notification_mark_read,
)


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
        if counts["held"] or counts["downstream"]:
            parts.append(
                _("已签收的 %(held)d 个单位及其下级 %(downstream)d 个单位已收到撤回通知。")
                % {"held": counts["held"], "downstream": counts["downstream"]}
            )
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
