"""/api/v1/problems: what each problem `type` of the API means (the URIs its errors point to)."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.problems import PROBLEM_TYPES
from api.serializers import ProblemTypeSerializer


class ProblemTypeList(APIView):
    """Public documentation, like the schema: no credential needed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(
        operation_id="problem_types_list",
        summary=_("错误类型"),
        description=_("接口可能返回的每种错误类型（RFC 9457 的 type）及其含义。"),
        responses=ProblemTypeSerializer(many=True),
        tags=["problems"],
        auth=[],
    )
    def get(self, request):
        return Response(ProblemTypeSerializer(PROBLEM_TYPES.values(), many=True).data)


class ProblemTypeDetail(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="problem_types_retrieve",
        summary=_("一种错误类型"),
        responses=ProblemTypeSerializer,
        tags=["problems"],
        auth=[],
    )
    def get(self, request, slug: str):
        problem = PROBLEM_TYPES.get(slug)
        if problem is None:
            raise Http404
        return Response(ProblemTypeSerializer(problem).data)
