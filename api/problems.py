"""Every error of the API as RFC 9457 problem details (`application/problem+json`), from one handler.

Each kind of error has a stable `type` (a URI reference to /api/v1/problems/<slug>, which describes
it), a `title` in the request's language (Chinese unless `Accept-Language: en`), the HTTP `status`,
a `detail` saying what went wrong this time (a domain error's own message, in the same language)
and the `instance` (the request's path). Some carry more members: `errors` (validation: each field
and what is wrong with it), `stub` (withdrawn: what the unit still sees of a recalled document),
`required_scope` (insufficient-scope).

The domain's errors (units.errors) map by class: the services and the doors raise them, and this
module only says which status each one is. NotFound covers missing and forbidden alike (the doors
make them one), so an id reveals nothing.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api.permissions import ScopeMissing
from units.errors import Conflict, Damaged, DomainError, InvalidInput, NotAllowed, NotFound, Withdrawn

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEMS_PATH = "/api/v1/problems/"  # + slug; the list is /api/v1/problems


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: Promise
    description: Promise

    @property
    def uri(self) -> str:
        return f"{PROBLEMS_PATH}{self.slug}"


NOT_FOUND = ProblemType(
    "not-found", 404, gettext_lazy("未找到"), gettext_lazy("对象不存在，或调用方无权查看（两者不作区分）。")
)
CONFLICT = ProblemType(
    "conflict",
    409,
    gettext_lazy("与当前状态冲突"),
    gettext_lazy("对象当前的状态不允许这项操作（例如已退文、已办结）。"),
)
WITHDRAWN = ProblemType(
    "withdrawn",
    410,
    gettext_lazy("已撤回"),
    gettext_lazy("发文机关已撤回这份公文：本单位只能看到存根（文号、标题、撤回人、时间和原因）。"),
)
VALIDATION = ProblemType(
    "validation", 400, gettext_lazy("输入有误"), gettext_lazy("请求的内容不符合要求；errors 列出每个字段的问题。")
)
MALFORMED = ProblemType(
    "malformed-request", 400, gettext_lazy("请求格式有误"), gettext_lazy("请求体无法解析（例如不是合法的 JSON）。")
)
UNAUTHENTICATED = ProblemType(
    "unauthenticated",
    401,
    gettext_lazy("需要身份认证"),
    gettext_lazy("缺少有效的 Authorization: Bearer 凭据（个人访问令牌或接口客户端密钥）。"),
)
FORBIDDEN = ProblemType(
    "forbidden", 403, gettext_lazy("无权执行此操作"), gettext_lazy("调用方可以查看该对象，但无权对它执行这项操作。")
)
INSUFFICIENT_SCOPE = ProblemType(
    "insufficient-scope",
    403,
    gettext_lazy("权限范围不足"),
    gettext_lazy("接口客户端没有这个接口所需的权限范围（required_scope）。"),
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed", 405, gettext_lazy("不支持的请求方法"), gettext_lazy("这个地址不接受该 HTTP 方法。")
)
NOT_ACCEPTABLE = ProblemType(
    "not-acceptable", 406, gettext_lazy("无法提供所要求的格式"), gettext_lazy("接口只返回 JSON。")
)
TOO_LARGE = ProblemType(
    "too-large", 413, gettext_lazy("请求体过大"), gettext_lazy("请求体或所附文件超过上限，没有保存任何内容。")
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    415,
    gettext_lazy("不支持的请求格式"),
    gettext_lazy("请求体须为 application/json 或 multipart/form-data。"),
)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    422,
    gettext_lazy("幂等键已用于另一请求"),
    gettext_lazy("同一个 Idempotency-Key 只能用于同一请求（同一地址、同一请求体）；重试请原样重发。"),
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    429,
    gettext_lazy("请求过于频繁"),
    gettext_lazy("超过每分钟请求上限；Retry-After 给出可以重试前须等待的秒数。"),
)
DAMAGED = ProblemType(
    "damaged",
    500,
    gettext_lazy("数据已损坏"),
    gettext_lazy("数据库中应有的记录缺失或相互矛盾；请联系系统管理员核查（verify_audit）。"),
)

PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        NOT_FOUND,
        CONFLICT,
        WITHDRAWN,
        VALIDATION,
        MALFORMED,
        UNAUTHENTICATED,
        FORBIDDEN,
        INSUFFICIENT_SCOPE,
        METHOD_NOT_ALLOWED,
        NOT_ACCEPTABLE,
        TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        IDEMPOTENCY_KEY_REUSED,
        RATE_LIMITED,
        DAMAGED,
    )
}


class Problem(exceptions.APIException):
    """An error of the API itself (not of the domain), with its problem type and extra members."""

    def __init__(self, problem: ProblemType, detail: str, **members) -> None:
        super().__init__(detail)
        self.problem, self.members = problem, members
        self.status_code = problem.status


class RequestTooLarge(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(TOO_LARGE, detail)


def problem_body(request, problem: ProblemType, detail: str, **members) -> dict:
    return {
        "type": problem.uri,
        "title": str(problem.title),
        "status": problem.status,
        "detail": str(detail),
        "instance": request.path if request is not None else None,
        **members,
    }


def problem_response(request, problem: ProblemType, detail: str, *, headers: dict | None = None, **members) -> Response:
    body = problem_body(request, problem, detail, **members)
    return Response(body, status=problem.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt
def not_found_view(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/v1/ that names no route (an id that is not a number, a typo): the same
    problem as a missing object, not the pages' HTML 404. Whatever the method: like the API's views
    (DRF exempts them), it takes no session, so a POST has no CSRF token to check and must not
    get the pages' HTML 403 instead."""
    body = problem_body(request, NOT_FOUND, _("接口地址不存在。"))
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})


def field_errors(detail, field: str | None = None) -> list[dict]:
    """DRF's nested validation errors as a flat list: [{"field": "recipients.0", "detail": "…"}]. A
    field of None is about the request as a whole."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = field if key == api_settings.NON_FIELD_ERRORS_KEY else f"{field}.{key}" if field else str(key)
            errors += field_errors(value, name)
        return errors
    if isinstance(detail, list):
        errors = []
        for position, item in enumerate(detail):
            nested = isinstance(item, dict | list)
            errors += field_errors(item, (f"{field}.{position}" if field else str(position)) if nested else field)
        return errors
    return [{"field": field, "detail": str(detail)}]


def _validation_detail(errors: list[dict]) -> str:
    return "；".join(f"{error['field']}：{error['detail']}" if error["field"] else error["detail"] for error in errors)


def _domain_problem(request, error: DomainError) -> Response:
    if isinstance(error, Withdrawn):
        stub = error.stub.as_json() if error.stub is not None else None
        return problem_response(request, WITHDRAWN, error.message, stub=stub)
    if isinstance(error, NotFound):
        return problem_response(request, NOT_FOUND, error.message)
    if isinstance(error, NotAllowed):
        return problem_response(request, FORBIDDEN, error.message)
    if isinstance(error, Conflict):
        return problem_response(request, CONFLICT, error.message)
    if isinstance(error, Damaged):
        logger.error("damaged record met by the API: %s", error.message)
        return problem_response(request, DAMAGED, error.message)
    if not isinstance(error, InvalidInput):
        logger.warning("domain error %s answered as a validation problem", type(error).__name__)
    return problem_response(request, VALIDATION, error.message, errors=[])


# DRF's own exceptions, by class: the problem each one is.
_DRF_PROBLEMS: list[tuple[type[exceptions.APIException], ProblemType]] = [
    (ScopeMissing, INSUFFICIENT_SCOPE),
    (exceptions.NotAuthenticated, UNAUTHENTICATED),
    (exceptions.AuthenticationFailed, UNAUTHENTICATED),
    (exceptions.PermissionDenied, FORBIDDEN),
    (exceptions.NotFound, NOT_FOUND),
    (exceptions.ParseError, MALFORMED),
    (exceptions.UnsupportedMediaType, UNSUPPORTED_MEDIA_TYPE),
    (exceptions.NotAcceptable, NOT_ACCEPTABLE),
    (exceptions.MethodNotAllowed, METHOD_NOT_ALLOWED),
    (exceptions.Throttled, RATE_LIMITED),
]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: the problem for any error a view (or DRF) raised. Anything
    it does not know is left to Django (a 500, logged with its traceback)."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return _domain_problem(request, exc)
    if isinstance(exc, Problem):
        return problem_response(request, exc.problem, exc.detail, **exc.members)
    if isinstance(exc, Http404):
        return problem_response(request, NOT_FOUND, _("对象不存在或无权查看。"))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return problem_response(request, TOO_LARGE, _("请求体超过上限，没有保存任何内容。"))
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        return problem_response(request, VALIDATION, _validation_detail(errors), errors=errors)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    problem = next((problem for cls, problem in _DRF_PROBLEMS if isinstance(exc, cls)), None)
    members = {}
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        detail = _("超过每分钟请求上限，请在 %(seconds)d 秒后重试。") % {"seconds": wait}
    elif isinstance(exc, ScopeMissing):
        detail = str(exc.detail)
        members["required_scope"] = exc.scope.value if exc.scope is not None else None
    elif isinstance(exc, exceptions.NotAuthenticated):
        detail = _("需要有效的访问令牌或接口密钥（Authorization: Bearer …）。")
    elif isinstance(exc, exceptions.MethodNotAllowed):
        detail = _("这个地址不接受 %(method)s 请求。") % {"method": request.method if request else ""}
    else:
        detail = str(exc.detail)
    if problem is None:  # another APIException: its status, described by its own message
        body = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code, "detail": str(exc.detail)}
        body["instance"] = request.path if request is not None else None
        return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return problem_response(request, problem, detail, headers=headers, **members)
