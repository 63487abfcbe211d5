"""The bell and the notifications list."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.routers import reads_from_replica
from workflow.selectors import notification_list_for_user
from workflow.services import (
    notification_mark_read,
)

NOTIFICATIONS_PAGE_SIZE = 30

# --- notifications ------------------------------------------------------------------------------


@login_required
@require_GET
@reads_from_replica
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
