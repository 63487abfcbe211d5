"""A document of one's own unit: 签发 and 印发, 拟稿, files, and the 退文告知单."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.models import Document
from units.errors import DomainError, NotFound
from units.models import Unit
from web.forms import DraftForm, IssueForm
from web.selectors import return_list_for_unit, unit_list_for_drafting, unit_list_matching
from web.views.common import door
from workflow.access import (
    access_attachment,
    access_completion_attachment,
    access_document,
    access_return,
    access_unit_for_drafting,
    may_open_chain,
)
from workflow.deadlines import CALENDAR_ZONE
from workflow.selectors import document_parts
from workflow.services import (
    attachment_add,
    document_draft,
    document_issue,
    document_sign_off,
)
from workflow.services.rules import DocumentAction, document_actions

# --- documents ----------------------------------------------------------------------------------


RETURNS_OFFERED = 50  # how many 退文 the issue form offers to answer (the unanswered first)


def _issue_form(request, document: Document, data=None, *, may_issue: bool) -> IssueForm:
    """The 印发 form; the unit's 退文 to answer are offered only to whom may issue the document."""
    returns = list(return_list_for_unit(document.issuing_unit)[:RETURNS_OFFERED]) if may_issue else []
    initial = {"answers_return": request.GET.get("answers", "")}
    return IssueForm(data, returns=returns, initial=initial)


@login_required
@require_GET
@door
def document_detail(request, pk: int):
    document = access_document(request.user, pk)
    actions = document_actions(request.user, document)
    can_issue = DocumentAction.ISSUE in actions
    return render(
        request,
        "web/document.html",
        {
            "document": document,
            "parts": document_parts(request.user, document),
            "forward": getattr(document, "forward", None) if document.state != Document.State.ISSUED else None,
            "can_sign_off": DocumentAction.SIGN_OFF in actions,
            "can_issue": can_issue,
            "issue_form": _issue_form(request, document, may_issue=True) if can_issue else None,
            "can_see_chain": may_open_chain(request.user, document),
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
    may_issue = DocumentAction.ISSUE in document_actions(request.user, document)
    form = _issue_form(request, document, request.POST, may_issue=may_issue)
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
                    content=form.content(),
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
@door
def attachment_download(request, pk: int):
    attachment = access_attachment(request.user, pk)
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
