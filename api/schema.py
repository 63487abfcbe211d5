"""The OpenAPI 3.1 schema's conventions, applied to every operation (drf-spectacular):

- security: the bearer credential, with the scope the operation needs for a client
  (api.permissions: `required_scopes`);
- the headers every call may carry: Accept-Language (zh-hans by default, en), and on every POST an
  optional Idempotency-Key (the answer then may carry Idempotent-Replayed);
- the problems every call may answer (api.problems), as application/problem+json.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from api import problems
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import REPLAYED_HEADER
from api.permissions import required_scopes
from api.serializers import ProblemSerializer


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "个人访问令牌（manage.py api_token 生成，12 小时有效）或接口客户端密钥（gwk_…，由系统管理员"
                    "在管理后台创建，只显示一次）。客户端还须具有接口所需的权限范围。"
                )
            ),
        }

    def get_security_requirement(self, auto_schema):
        # One requirement per scope that suffices (OpenAPI: any one of the listed requirements).
        scopes = required_scopes(auto_schema.view, auto_schema.method)
        return [{self.name: [scope.value]} for scope in scopes] or [{self.name: []}]


ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("错误信息（title、detail）的语言：默认简体中文，en 为英文。"),
    enum=["zh-hans", "en"],
)
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x21-\x7e]+$"},
    OpenApiParameter.HEADER,
    description=_(
        "幂等键：同一调用方以同一键重试同一请求，得到第一次的应答（带 Idempotent-Replayed: true），"
        "不会重复执行；同一键用于不同的请求返回 422。保留 24 小时。"
    ),
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    REPLAYED_HEADER,
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    description=_("这是按幂等键重放的第一次应答。"),
    response=True,
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    {"type": "string", "pattern": "^[0-9]+$"},
    OpenApiParameter.HEADER,
    description=_("可以重试前须等待的秒数。"),
    response=[429],
)
WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='Bearer realm="gongwen"',
    response=[401],
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        parameters = [*super().get_override_parameters(), ACCEPT_LANGUAGE, RETRY_AFTER, WWW_AUTHENTICATE]
        if self.method == "POST":
            parameters += [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
        return parameters

    def _problem_types(self) -> list[problems.ProblemType]:
        if not self.view.get_authenticators():  # public documentation (the problem types)
            return [problems.NOT_ACCEPTABLE] + ([problems.NOT_FOUND] if "{" in self.path else [])
        kinds = [
            problems.VALIDATION,
            problems.UNAUTHENTICATED,
            problems.FORBIDDEN,
            problems.NOT_ACCEPTABLE,
            problems.RATE_LIMITED,
        ]
        if "{" in self.path or getattr(self.view, "may_be_not_found", False):
            kinds.append(problems.NOT_FOUND)
        if getattr(self.view, "may_be_withdrawn", False):
            kinds.append(problems.WITHDRAWN)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            kinds += [problems.CONFLICT, problems.TOO_LARGE, problems.UNSUPPORTED_MEDIA_TYPE]
        if self.method == "POST":
            kinds.append(problems.IDEMPOTENCY_KEY_REUSED)
        return kinds

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        problem = self.resolve_serializer(ProblemSerializer, direction).ref
        by_status: dict[str, list[str]] = {}
        for kind in self._problem_types():
            by_status.setdefault(str(kind.status), []).append(f"{kind.uri}（{kind.title}）")
        for status, kinds in by_status.items():
            if status in responses:
                continue
            headers = self._get_response_headers_for_code(status, direction)
            responses[status] = {
                **({"headers": headers} if headers else {}),
                "description": "；".join(kinds),
                "content": {problems.PROBLEM_CONTENT_TYPE: {"schema": problem}},
            }
        return dict(sorted(responses.items()))
