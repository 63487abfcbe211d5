"""The directory (read): units anyone signed in may address, and the caller's recipient groups."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.generics import ListAPIView

from api.models import Scope
from api.pagination import cursor_ordered_by
from api.serializers import RecipientGroupSerializer, UnitSerializer
from api.views.base import ApiView
from units.models import Unit
from units.selectors import recipient_group_list_for_user, unit_list_directory


@extend_schema_view(
    get=extend_schema(
        operation_id="units_list",
        summary=_("单位名录"),
        description=_("启用的单位，按名录顺序（上级在前）。q：全称或简称包含每个词。"),
        parameters=[OpenApiParameter("q", str, description=_("按全称或简称检索，多个词以空格分隔。"))],
        tags=["directory"],
    )
)
class UnitList(ApiView, ListAPIView):
    serializer_class = UnitSerializer
    required_scopes = {"GET": Scope.READ}

    pagination_class = cursor_ordered_by("path", "id")

    def get_queryset(self):
        return unit_list_directory(self.request.query_params.get("q", ""))


@extend_schema_view(
    get=extend_schema(
        operation_id="recipient_groups_list",
        summary=_("收文对象组"),
        description=_("调用方所在单位的收文对象组（如“各高等学校党委”）及其成员单位，按名称排序。"),
        tags=["directory"],
    )
)
class RecipientGroupList(ApiView, ListAPIView):
    serializer_class = RecipientGroupSerializer
    required_scopes = {"GET": Scope.READ}

    pagination_class = cursor_ordered_by("name", "id")

    def get_queryset(self):
        members = Unit.objects.filter(is_active=True).only("id", "name", "short_name").order_by("path")
        return recipient_group_list_for_user(self.request.user).prefetch_related(Prefetch("members", members))
