"""发文: the caller's units' dispatches and how far each has got."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from api.models import Scope
from api.pagination import cursor_ordered_by
from api.serializers import DispatchDeliverySerializer, DispatchSerializer, QueryBoolean
from api.views.base import ApiView
from units.selectors import unit_list_for_member
from workflow.access import access_dispatch, access_unit_as_member
from workflow.models import Delivery, Dispatch
from workflow.selectors import delivery_list_for_dispatch, dispatch_list_for_units, dispatch_list_with_progress


class OutboxQuery(serializers.Serializer):
    unit = serializers.IntegerField(required=False, min_value=1, help_text=_("只看调用方所在的这一个单位的发文。"))
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_("标题或发文字号的任一部分。")
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="outbox_list",
        summary=_("发文"),
        description=_("调用方所在单位的分发，新的在前，每条附送达、签收、办结、退文、撤回的件数和转发次数。"),
        parameters=[OutboxQuery],
        tags=["outbox"],
    )
)
class OutboxList(ApiView, ListAPIView):
    serializer_class = DispatchSerializer
    required_scopes = {"GET": Scope.READ}
    may_be_not_found = True  # ?unit= of a unit the caller is not a member of
    pagination_class = cursor_ordered_by("-created_at", "-id")

    def get_queryset(self):
        query = OutboxQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        unit = query.validated_data.get("unit")
        if unit is None:
            units = unit_list_for_member(self.request.user)
        else:
            units = unit_list_for_member(self.request.user).filter(pk=access_unit_as_member(self.request.user, unit).pk)
        return dispatch_list_for_units(units, words=query.validated_data.get("q", ""))


def dispatch_answer(dispatch: Dispatch) -> dict:
    """A dispatch the door let through, as the outbox shows it: with its figures (one query)."""
    with_figures = dispatch_list_with_progress(Dispatch.objects.filter(pk=dispatch.pk)).select_related(
        "document__issuing_unit", "recall__recalled_by"
    )
    return DispatchSerializer(with_figures.get()).data


class DispatchDetail(ApiView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema(
        operation_id="dispatches_retrieve",
        summary=_("一次分发"),
        description=_("分发的状态和件数；发文单位的人及其审计可见。"),
        responses=DispatchSerializer,
        tags=["outbox"],
    )
    def get(self, request, pk: int):
        return Response(dispatch_answer(access_dispatch(request.user, pk)))


class DispatchDeliveryQuery(serializers.Serializer):
    state = serializers.MultipleChoiceField(choices=Delivery.State.choices, required=False)
    overdue = QueryBoolean()


@extend_schema_view(
    get=extend_schema(
        operation_id="dispatches_deliveries_list",
        summary=_("一次分发的各收文单位"),
        description=_("每个收文单位的送达状态：已读、签收、办结、退文、撤回时间，时限，是否逾期，催办次数。"),
        parameters=[DispatchDeliveryQuery],
        tags=["outbox"],
    )
)
class DispatchDeliveryList(ApiView, ListAPIView):
    serializer_class = DispatchDeliverySerializer
    required_scopes = {"GET": Scope.READ}
    pagination_class = cursor_ordered_by("id")

    def get_queryset(self):
        dispatch = access_dispatch(self.request.user, self.kwargs["pk"])
        query = DispatchDeliveryQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = delivery_list_for_dispatch(dispatch)
        if query.validated_data.get("state"):
            deliveries = deliveries.filter(state__in=sorted(query.validated_data["state"]))
        if query.validated_data.get("overdue") is not None:
            deliveries = deliveries.filter(is_overdue=query.validated_data["overdue"])
        return deliveries
