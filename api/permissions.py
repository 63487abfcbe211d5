"""Scopes: what an API client may call. A client's service account holds the roles its scopes need
(api.models.SCOPE_ROLES), so the doors and the services already decide what it may see and do; the
scope is checked on top, per endpoint and method, so that a client made to read cannot sign for
even where its account could. A person's roles alone decide for a person.

Each view names the scope of each method in `required_scopes` ({"GET": Scope.READ, …}; a tuple:
any one of them); a method it does not name is refused to every client (a view that forgets a scope
opens nothing).
"""

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission

from api.models import ApiClient, Scope


class ScopeMissing(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scopes: tuple[Scope, ...]):
        # The first scope that would do; the detail names every one (any of them suffices).
        self.scope = scopes[0] if scopes else None
        if not scopes:
            detail = _("接口客户端不能调用这个接口。")
        else:
            detail = _("接口客户端缺少权限范围“%(scope)s”（%(label)s）。") % {
                "scope": "”或“".join(scope.value for scope in scopes),
                "label": "；".join(str(scope.label) for scope in scopes),
            }
        super().__init__(detail)
        self.status_code = status.HTTP_403_FORBIDDEN


def required_scopes(view, method: str) -> tuple[Scope, ...]:
    """The scopes, any one of which lets a client call this method of this view (none: no client)."""
    method = method.upper()
    scopes = getattr(view, "required_scopes", {}).get("GET" if method == "HEAD" else method, ())
    return scopes if isinstance(scopes, tuple) else (scopes,)


# What each action of a delivery (workflow.services.rules.DeliveryAction) needs of a client.
ACTION_SCOPES: dict[str, Scope] = {
    "sign_for": Scope.SIGN_FOR,
    "forward": Scope.HANDLE,
    "return": Scope.HANDLE,
    "complete": Scope.HANDLE,
    "remind": Scope.HANDLE,
    "recall": Scope.ISSUE,
    # A document's (workflow.services.rules.DocumentAction); "share" has no API route.
    "edit": Scope.DRAFT,
    "attach": Scope.DRAFT,
    "sign_off": Scope.SIGN_OFF,
    "issue": Scope.ISSUE,
}


def actions_in_scope(request, actions) -> list[str]:
    """The actions the services allow the caller, less those a client lacks the scope for."""
    client = request.auth
    if not isinstance(client, ApiClient):
        return sorted(str(action) for action in actions)
    return sorted(
        str(action) for action in actions if str(action) in ACTION_SCOPES and client.has_scope(ACTION_SCOPES[action])
    )


class ScopeRequired(BasePermission):
    """Authenticated, and for a client, holding the scope the view names for this method."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers NotAuthenticated (401) when no credential was given
        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        scopes = required_scopes(view, request.method)
        if not any(client.has_scope(scope) for scope in scopes):
            raise ScopeMissing(scopes)
        return True
