"""JSON API for clients that are not a browser: a clerk's desktop client, another office's system.

Authentication is a bearer token (`Authorization: Bearer <token>`), minted by `api_token_for` (the
`api_token` command). A token is a signed (user id, password fingerprint) pair with an age limit:
no table to look up or grow, and changing the person's password or deactivating them revokes every
token they hold. Tokens travel in a header a browser never adds by itself, so these views need no
CSRF token; a session cookie is not accepted here.

Every view goes through the door (workflow.access) and then one service; the services hold the rules.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from units.errors import Conflict, Damaged, DomainError, InvalidInput, NotAllowed, NotFound, Withdrawn
from workflow import services, sql
from workflow.access import access_delivery
from workflow.models import Receipt

_SALT = "workflow.api.token"
TOKEN_MAX_AGE_SECONDS = 12 * 3600
# Damaged: the server cannot give what it owes (a receipt gone behind its back); no retry helps.
_STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409, InvalidInput: 400, Withdrawn: 410, Damaged: 500}
# Chinese as Chinese in the body (UTF-8, as application/json is), not as \uXXXX escapes.
_UTF8 = {"ensure_ascii": False}


def _password_fingerprint(user: AbstractBaseUser) -> str:
    return salted_hmac(_SALT, user.password).hexdigest()[:20]


def api_token_for(user: AbstractBaseUser) -> str:
    """A bearer token for this person, valid TOKEN_MAX_AGE_SECONDS or until their password changes."""
    return signing.dumps([user.pk, _password_fingerprint(user)], salt=_SALT)


def user_for_token(token: str) -> AbstractBaseUser | None:
    """The active person a bearer token of `api_token_for` names, if it is genuine, young enough and
    minted since their last password change; None for anything else. One query (none for garbage).
    The /api/v1/ authentication (api.authentication) uses it too."""
    try:
        user_id, fingerprint = signing.loads(token.strip(), salt=_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if type(user_id) is not int or not isinstance(fingerprint, str):
        return None
    user = _active_user(user_id)
    if user is None or not constant_time_compare(fingerprint, _password_fingerprint(user)):
        return None
    return user


def _authenticated_user(request: HttpRequest) -> AbstractBaseUser | None:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user_for_token(token)


def _active_user(user_id: int) -> AbstractBaseUser | None:
    """The person (id, password, is_active only), if active. Every API request asks this: one
    statement written out (workflow/sql.py), not composed by the ORM each time."""
    with connection.cursor() as cursor:
        found = sql.user_active().one(cursor, {"user_id": user_id})
    if found is None:
        return None
    model = get_user_model()
    return model.from_db(
        connection.alias, [model._meta.pk.attname, "password", "is_active"], [found.id, found.password, True]
    )


def _error(status: int, message: str, code: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status, json_dumps_params=_UTF8)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="gongwen"'
    return response


def _withdrawn(user: AbstractBaseUser, delivery_id: int) -> JsonResponse:
    """410 Gone with the stub (number, title, who recalled it, when, why): what the door shows."""
    try:
        access_delivery(user, delivery_id)
    except Withdrawn as withdrawn:
        body = {"error": {"code": Withdrawn.code, "message": withdrawn.message}, "stub": withdrawn.stub.as_json()}
        return JsonResponse(body, status=410, json_dumps_params=_UTF8)
    except NotFound as missing:
        return _error(404, missing.message, NotFound.code)
    # The door shows the content (a member who also audits the unit): the service's refusal stands.
    return _error(409, _("这份公文已撤回，不能签收。"), Conflict.code)


def _receipt_json(receipt: Receipt) -> dict:
    return {
        "id": receipt.pk,
        "delivery_id": receipt.delivery_id,
        "document": receipt.delivery.document.number,
        "unit": receipt.unit.name,
        "signed_by_id": receipt.signed_by_id,
        "signed_at": receipt.signed_at.isoformat(),
        "content_digest": receipt.content_digest,
    }


@csrf_exempt
@require_POST
def delivery_sign_for_view(request: HttpRequest, delivery_id: int) -> JsonResponse:
    """POST /api/deliveries/<id>/sign-for: 签收. Idempotent: a repeat returns the same receipt (200)."""
    user = _authenticated_user(request)
    if user is None:
        return _error(401, _("需要有效的访问令牌（Authorization: Bearer …）。"), "unauthenticated")
    try:
        # The door for this action is the service's own query: it reads the delivery (or its
        # receipt) only together with the actor's clerk role on the delivery's unit. Not a clerk
        # there is answered like a missing delivery, so an id reveals nothing.
        receipt = services.delivery_sign_for(actor=user, delivery_id=delivery_id)
    except NotAllowed:
        return _error(404, _("送达记录不存在或无权查看。"), NotFound.code)
    except Withdrawn:
        return _withdrawn(user, delivery_id)
    except DomainError as error:
        return _error(_STATUS.get(type(error), 400), error.message, error.code)
    return JsonResponse({"receipt": _receipt_json(receipt)}, json_dumps_params=_UTF8)
