"""收文: the inbox."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from web.context_processors import navigation_for
from web.forms import InboxSearchForm
from web.pagination import lean_page
from web.selectors import (
    INBOX_TABS,
    inbox_counts_for_units,
    inbox_order_for_units,
    inbox_rows,
    inbox_rows_with_forwards,
)

INBOX_PAGE_SIZE = 20

# --- 收文 ---------------------------------------------------------------------------------------


@login_required
@require_GET
@reads_from_replica
def inbox(request):
    if not navigation_for(request).has_units:
        return redirect("chains")  # no unit, no 收文: an auditor lands on the chains they oversee
    if navigation_for(request).works_in_departments_only:
        return redirect("todo")  # a department receives nothing: its people land on their 待办
    tab = request.GET.get("tab", "pending")
    if tab not in INBOX_TABS:
        tab = "pending"
    form = InboxSearchForm(request.GET or None)
    filters = form.filters()
    unit_ids = [unit.pk for unit in navigation_for(request).units]
    counts = inbox_counts_for_units(unit_ids)
    # Unsearched, the tab's count is the page's: no COUNT(*) of 10^5 deliveries again.
    page = lean_page(
        inbox_order_for_units(request.user, unit_ids, tab=tab, filters=filters),
        inbox_rows(unit_ids),
        request.GET.get("page"),
        per_page=INBOX_PAGE_SIZE,
        count=counts[tab] if filters.is_empty else None,
    )
    page.object_list = inbox_rows_with_forwards(page.object_list)
    # The list refreshes itself (htmx, every few seconds): then only the list and the tabs' counts.
    return render(
        request,
        "web/_inbox_list.html" if request.htmx else "web/inbox.html",
        {
            "active": "inbox",
            "tab": tab,
            "tabs": [
                ("pending", _("待签收")),
                ("signed", _("已签收")),
                ("completed", _("已办结")),
                ("recalled", _("已撤回")),
                ("all", _("全部")),
            ],
            "counts": counts,
            "now": timezone.now(),
            "form": form,
            "is_searching": not filters.is_empty,
            "page": page,
        },
    )
