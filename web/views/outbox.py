"""发文: the outbox."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from web.forms import ListSearchForm
from web.pagination import lean_page_uncounted
from web.selectors import (
    draft_list_for_unit,
    outbox_figures,
    outbox_list_for_unit,
    outbox_list_rows,
    outbox_rows,
    overdue_list_for_unit,
    return_list_for_unit,
    unit_list_for_outbox,
)
from web.views.common import door
from workflow.access import access_unit_as_member
from workflow.services.rules import unit_actions

OUTBOX_PAGE_SIZE = 10
# The overdue panel is a glance at the most overdue units (3 per document, the rest folded); the
# whole of them is each chain's stalled filter and CSV. Each listed unit costs about 1.5 ms of
# template (its 催办 and 撤回 forms): 50 of them were a third of the page at 10^5 (issue 18).
OVERDUE_SHOWN = 20
RETURNS_SHOWN = 20


@login_required
@require_GET
@door
@reads_from_replica
def outbox(request):
    units = list(unit_list_for_outbox(request.user))
    unit = access_unit_as_member(request.user, request.GET["unit"]) if "unit" in request.GET else None
    unit = unit or (units[0] if units else None)
    form = ListSearchForm(request.GET, auto_id="outbox-%s")
    words = form.words()
    context = {"active": "outbox", "units": units, "unit": unit, "form": form, "q": words}
    context.update(page=None, rows=[], drafts=[])
    if unit is not None:
        # Not counted (第 N 页, 上一页 / 下一页): a unit's dispatches over years are 10^5, and
        # counting them was the page's largest cost (issue 18), as for the chains list.
        page = lean_page_uncounted(
            outbox_list_for_unit(unit, words=words),
            outbox_list_rows(),
            request.GET.get("page"),
            per_page=OUTBOX_PAGE_SIZE,
        )
        actions = unit_actions(request.user, unit)
        context.update(
            page=page,
            rows=outbox_rows(outbox_figures(page.object_list)),
            drafts=draft_list_for_unit(unit, words=words),
            can_act="recall" in actions,
        )
        if not request.htmx:  # the list refreshes itself; these parts come with the page
            now = timezone.now()
            returns = return_list_for_unit(unit)
            context.update(
                now=now,
                can_draft="draft" in actions,
                overdue=overdue_list_for_unit(unit, now=now, limit=OVERDUE_SHOWN),
                returns=list(returns[:RETURNS_SHOWN]),
                returns_count=returns.count(),
            )
    template = "web/_outbox_list.html" if request.htmx else "web/outbox.html"
    return render(request, template, context)
