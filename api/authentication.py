"""Who is calling: `Authorization: Bearer <credential>`, either a person's signed token (minted by
`manage.py api_token`, verified by workflow.api.user_for_token, the same as the old sign-for URL) or
an API client's key, `gwk_<key_id>_<secret>` (api.services.api_client_for_key).

request.user is the person, or the client's service account (the doors and the services treat it as
a person holding the roles of its scopes); request.auth is the ApiClient, or None for a person.
Nothing else authenticates here: no session, so no CSRF and no cookie a browser adds by itself.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.services import KEY_PREFIX, api_client_for_key
from workflow.api import user_for_token

REALM = 'Bearer realm="gongwen"'


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        scheme, _space, credential = get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"bearer":
            return None  # no credential at all: the permission check answers 401
        try:
            credential = credential.decode("ascii").strip()
        except UnicodeDecodeError:
            credential = ""
        if credential.startswith(f"{KEY_PREFIX}_"):
            client = api_client_for_key(credential)
            if client is not None:
                return client.user, client
        else:
            user = user_for_token(credential) if credential else None
            if user is not None:
                return user, None
        raise exceptions.AuthenticationFailed(_("访问令牌或接口密钥无效、已过期或已吊销。"))

    def authenticate_header(self, request) -> str:
        return REALM
