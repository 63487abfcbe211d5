"""What every page needs: the door that turns NotFound into a 404, and the way back."""

import functools

from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from units.errors import NotFound
from units.models import Role


def door(view):
    """Turn the access layer's NotFound into a 404 page."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None

    return wrapped


ISSUER_ROLES = (Role.CLERK, Role.SIGNER)  # who may 催办 and 撤回 for the issuing unit


def back_to(request, fallback: str) -> str:
    """Where an issuer's action returns to: the page it was pressed on (a local URL only)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
