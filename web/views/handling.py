"""Inside a recipient unit: 待办 / 已办, the 办理单's actions (登记, 拟办, 批办, 承办, 传阅, 答复), the
printable 办理单, and 代理.

Each action passes the delivery's door (workflow.access.access_delivery), parses its form and calls
its one service; a refusal is the service's message (messages framework), never a rule of the page.
What the page offers is workflow.services.rules.handling_actions (web.selectors.delivery_handling).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from units.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from units.selectors import unit_list_for_member
from web.forms import (
    DelegationForm,
    InstructForm,
    PassOnForm,
    ProposeForm,
    ReadForm,
    RegisterForm,
    ReplyForm,
    ReportForm,
)
from web.selectors import (
    delegation_list_for_user,
    department_list_for_unit,
    deputy_candidates_for_user,
    reader_list_for_unit,
)
from web.views.common import door
from workflow.access import access_delivery
from workflow.models import Delivery, HandlingRecord
from workflow.selectors import done_for, handling_sheet, todo_for
from workflow.services import (
    assignment_accept,
    assignment_report,
    delegation_grant,
    delegation_withdraw,
    delivery_register,
    handling_instruct,
    handling_propose,
    reading_done,
    reading_pass_on,
    reply_draft,
)

DONE_PAGE_SIZE = 20


# --- 待办 / 已办 ------------------------------------------------------------------------------------


@login_required
@require_GET
def todo(request):
    tab = "done" if request.GET.get("tab") == "done" else "todo"
    context = {"active": "todo", "tab": tab, "now": timezone.now()}
    if tab == "done":
        context["page"] = Paginator(done_for(request.user), DONE_PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        context["todo"] = todo_for(request.user, now=context["now"])
    return render(request, "web/todo.html", context)


# --- the 办理单's actions ------------------------------------------------------------------------


def _sheet_url(delivery: Delivery) -> str:
    return reverse("delivery", args=[delivery.pk]) + "#handling"


def _act(request, delivery: Delivery, form, call, success: str):
    """Call one service with a valid form; its refusal (or the form's first error) as a message."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_sheet_url(delivery))
    try:
        result = call(form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(_sheet_url(delivery))


@login_required
@require_POST
@door
def delivery_register_view(request, pk: int):
    """收文登记: the register's next 收文编号 for the unit and year."""
    delivery = access_delivery(request.user, pk)
    return _act(
        request,
        delivery,
        RegisterForm(request.POST),
        lambda data: delivery_register(
            actor=request.user, delivery_id=delivery.pk, copies=data["copies"], remark=data["remark"]
        ),
        lambda record: _("已登记，收文编号%(number)s。") % {"number": str(record)},
    )


def _record_id(request, delivery: Delivery) -> int:
    """The delivery's handling record, for the services that take it (0 before 登记: the service
    then refuses, naming the problem)."""
    try:
        return delivery.handling_record.pk
    except HandlingRecord.DoesNotExist:
        return 0


@login_required
@require_POST
@door
def handling_propose_view(request, pk: int):
    """拟办, with the departments it suggests."""
    delivery = access_delivery(request.user, pk)
    form = ProposeForm(request.POST, departments=department_list_for_unit(delivery.unit))
    return _act(
        request,
        delivery,
        form,
        lambda data: handling_propose(
            actor=request.user,
            record_id=_record_id(request, delivery),
            text=data["text"],
            department_ids=[unit.pk for unit in data["departments"]],
        ),
        _("拟办意见已提交。"),
    )


def _ordered_ids(request, name: str, chosen) -> list[int]:
    """The chosen ids in the order the form posted them (the order of 依次传阅)."""
    ids = {item.pk for item in chosen}
    ordered = []
    for value in request.POST.getlist(name):
        if value.isdigit() and int(value) in ids and int(value) not in ordered:
            ordered.append(int(value))
    return ordered


@login_required
@require_POST
@door
def handling_instruct_view(request, pk: int):
    """批办: 主办 and 协办 departments, readers in order, the reading mode and a deadline."""
    delivery = access_delivery(request.user, pk)
    form = InstructForm(
        request.POST, departments=department_list_for_unit(delivery.unit), readers=reader_list_for_unit(delivery.unit)
    )
    return _act(
        request,
        delivery,
        form,
        lambda data: handling_instruct(
            actor=request.user,
            record_id=_record_id(request, delivery),
            text=data["text"],
            lead_department_ids=[unit.pk for unit in data["lead_departments"]],
            assist_department_ids=[unit.pk for unit in data["assist_departments"]],
            reader_ids=_ordered_ids(request, "readers", data["readers"]),
            reading_mode=data["reading_mode"],
            readers_may_pass_on=data["readers_may_pass_on"],
            deadline=form.deadline_moment(),
        ),
        _("批示已提交，已交办承办部门和传阅人。"),
    )


@login_required
@require_POST
@door
def assignment_accept_view(request, pk: int, assignment_id: int):
    """承办: the department takes it on."""
    delivery = access_delivery(request.user, pk)
    return _act(
        request,
        delivery,
        RegisterForm({"copies": 1}),  # no input: a form that is always valid
        lambda _data: assignment_accept(actor=request.user, assignment_id=assignment_id),
        lambda assignment: _("%(department)s已接办。") % {"department": assignment.department.name},
    )


@login_required
@require_POST
@door
def assignment_report_view(request, pk: int, assignment_id: int):
    """承办情况, with files; 办毕 when the department's part is done."""
    delivery = access_delivery(request.user, pk)
    form = ReportForm(request.POST, request.FILES)
    return _act(
        request,
        delivery,
        form,
        lambda data: assignment_report(
            actor=request.user,
            assignment_id=assignment_id,
            text=data["text"],
            files=[(file.name, file) for file in data["files"]],
            finish=data["finish"],
        ),
        lambda report: _("承办情况已报送，本部门已办毕。") if form.cleaned_data["finish"] else _("承办情况已报送。"),
    )


@login_required
@require_POST
@door
def reading_done_view(request, pk: int, slip_id: int):
    """已阅, with a remark."""
    delivery = access_delivery(request.user, pk)
    return _act(
        request,
        delivery,
        ReadForm(request.POST),
        lambda data: reading_done(actor=request.user, slip_id=slip_id, remark=data["remark"]),
        _("已阅。"),
    )


@login_required
@require_POST
@door
def reading_pass_on_view(request, pk: int, slip_id: int):
    """转阅: more readers after this one, where the leader allowed it."""
    delivery = access_delivery(request.user, pk)
    form = PassOnForm(request.POST, readers=reader_list_for_unit(delivery.unit))
    return _act(
        request,
        delivery,
        form,
        lambda data: reading_pass_on(
            actor=request.user, slip_id=slip_id, reader_ids=_ordered_ids(request, "readers", data["readers"])
        ),
        lambda slips: (
            _("已转阅给%(people)s。")
            % {"people": "、".join(slip.reader.get_full_name() or slip.reader.get_username() for slip in slips)}
        ),
    )


@login_required
@require_POST
@door
def reply_draft_view(request, pk: int):
    """答复: a reply document to the issuer, drafted here, then signed off and issued as any other."""
    delivery = access_delivery(request.user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            reply = reply_draft(
                actor=request.user,
                delivery_id=delivery.pk,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("答复稿已拟好，请签发并印发。"))
            return redirect("document", pk=reply.document_id)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(_sheet_url(delivery))


# --- the printable 办理单 --------------------------------------------------------------------------


@login_required
@require_GET
@door
def handling_sheet_view(request, pk: int):
    """办理单 in the customary layout, to print (A4, bordered): through the delivery's door."""
    delivery = access_delivery(request.user, pk)
    return render(request, "web/handling_sheet.html", {"delivery": delivery, "sheet": handling_sheet(delivery)})


# --- 代理 ----------------------------------------------------------------------------------------


def _delegation_form(request, data=None) -> DelegationForm:
    return DelegationForm(
        data,
        units=unit_list_for_member(request.user).order_by("path"),
        people=deputy_candidates_for_user(request.user),
        auto_id="delegation-%s",
    )


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request):
    """代理: the person's delegations not yet over, and a form to name a deputy for one of their units."""
    form = _delegation_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                delegation_grant(
                    actor=request.user,
                    unit_id=data["unit"].pk,
                    principal_id=request.user.pk,
                    deputy_id=data["deputy"].pk,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("已委托%(deputy)s代理。")
                    % {"deputy": data["deputy"].get_full_name() or data["deputy"].get_username()},
                )
                return redirect("delegations")
        status = 400
    now = timezone.now()
    return render(
        request,
        "web/delegations.html",
        {
            "active": "delegations",
            "form": form,
            "delegations": delegation_list_for_user(request.user, now=now),
            "now": now,
        },
        status=status,
    )


@login_required
@require_POST
@door
def delegation_withdraw_view(request, pk: int):
    """收回代理: the service decides who may. A delegation that is not theirs to withdraw is a 404,
    as a missing one: no door lists delegations, so its id must reveal nothing."""
    try:
        delegation_withdraw(actor=request.user, delegation_id=pk)
    except NotAllowed as error:
        raise NotFound(error.message) from None
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("代理已收回。"))
    return redirect("delegations")
