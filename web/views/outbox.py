"""发文: the outbox."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from units.models import Role
from web.selectors import (
    delivery_clock,
    draft_list_for_unit,
    outbox_list_for_unit,
    outbox_rows,
    return_list_for_unit,
    unit_list_for_outbox,
    unit_roles_for_user,
)
from web.views.common import ISSUER_ROLES
from workflow.selectors import delivery_list_overdue_for_unit

OUTBOX_PAGE_SIZE = 10

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
