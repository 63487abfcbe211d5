"""Scopes: what an API client may call. A client's service account holds the roles its scopes need
(api.models.SCOPE_ROLES), so the doors and the services already decide what it may see and do; the
scope is checked on top, per endpoint and method, so that a client made to read cannot sign for
even where its account could. A person's roles alone decide for a person.

Each view names the scope of each method in `required_scopes` ({"GET": Scope.READ, …}); a method it
does not name is refused to every client (a view that forgets a scope opens nothing).
"""

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission

from api.models import ApiClient, Scope


class ScopeMissing(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scope: Scope | None):
        self.scope = scope
        if scope is None:
            detail = _("接口客户端不能调用这个接口。")
        else:
            detail = _("接口客户端缺少权限范围“%(scope)s”（%(label)s）。") % {
                "scope": scope.value,
                "label": scope.label,
            }
        super().__init__(detail)
        self.status_code = status.HTTP_403_FORBIDDEN


def required_scope(view, method: str) -> Scope | None:
    method = method.upper()
    return getattr(view, "required_scopes", {}).get("GET" if method == "HEAD" else method)


class ScopeRequired(BasePermission):
    """Authenticated, and for a client, holding the scope the view names for this method."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers NotAuthenticated (401) when no credential was given
        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        scope = required_scope(view, request.method)
        if scope is None or not client.has_scope(scope):
            raise ScopeMissing(scope)
        return True
