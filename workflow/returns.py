"""The printable 退文告知单 (return notice): one view function for the pages to link to.

It holds no rules of its own: `selectors.return_notice_get` is the door (NotFound for anyone who
may not see the return, missing and forbidden alike).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from units.errors import NotFound
from workflow.deadlines import CALENDAR_ZONE
from workflow.selectors import return_notice_get


@login_required
def return_notice(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        returned = return_notice_get(request.user, pk)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(
        request,
        "workflow/return_notice.html",
        {
            "returned": returned,
            "document": returned.delivery.document,
            "returned_on": returned.returned_at.astimezone(CALENDAR_ZONE),
        },
    )
