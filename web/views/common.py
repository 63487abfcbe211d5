"""What every page needs: the door's answers as pages, and the way back.

NotFound (missing or forbidden alike) is a 404; Withdrawn (recalled from this person's unit) is the
stub page, 410 Gone: number, title, 已撤回, who recalled it, when and why, never the content.
"""

import functools

from django.http import Http404
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from units.errors import NotFound, Withdrawn


def door(view):
    """Turn the access layer's NotFound into a 404 page and its Withdrawn into the stub page."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Withdrawn as withdrawn:
            return render(
                request, "web/withdrawn.html", {"stub": withdrawn.stub, "message": withdrawn.message}, status=410
            )
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapped


def back_to(request, fallback: str) -> str:
    """Where an issuer's action returns to: the page it was pressed on (a local URL only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
