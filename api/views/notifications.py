"""The caller's notifications (来文, 催办, 撤回, 退文, 办结), and marking them read."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from api.models import Scope
from api.pagination import cursor_ordered_by
from api.serializers import (
    NotificationSerializer,
    NotificationsMarkedSerializer,
    NotificationsReadSerializer,
    QueryBoolean,
)
from api.views.base import ApiView
from workflow.selectors import notification_list_for_user
from workflow.services import notification_mark_read


class NotificationQuery(serializers.Serializer):
    unread = QueryBoolean(help_text=_("true：只看未读。"))


@extend_schema_view(
    get=extend_schema(
        operation_id="notifications_list",
        summary=_("通知"),
        description=_("调用方自己的通知，新的在前。"),
        parameters=[NotificationQuery],
        tags=["notifications"],
    )
)
class NotificationList(ApiView, ListAPIView):
    serializer_class = NotificationSerializer
    required_scopes = {"GET": Scope.READ}
    pagination_class = cursor_ordered_by("-created_at", "-id")

    def get_queryset(self):
        query = NotificationQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        notifications = notification_list_for_user(self.request.user)
        unread = query.validated_data.get("unread")
        if unread is not None:
            notifications = notifications.filter(read_at__isnull=unread)
        return notifications


class NotificationsRead(ApiView):
    required_scopes = {"POST": Scope.READ}

    @extend_schema(
        operation_id="notifications_read",
        summary=_("标为已读"),
        description=_("把调用方的未读通知标为已读：全部，或关于一份送达的。"),
        request=NotificationsReadSerializer,
        responses=NotificationsMarkedSerializer,
        tags=["notifications"],
    )
    def post(self, request):
        body = NotificationsReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = notification_mark_read(actor=request.user, delivery_id=body.validated_data.get("delivery_id"))
        return Response({"marked": marked})
