"""Deliveries (送达): the inbox, a delivery with its document, its files, and signing for it."""

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from api.models import Scope
from api.pagination import cursor_ordered_by
from api.permissions import actions_in_scope
from api.serializers import DeliveryDetailSerializer, InboxDeliverySerializer, QueryBoolean, ReceiptSerializer
from api.views.base import ApiView
from documents.models import Urgency
from units.errors import Conflict, NotAllowed, Withdrawn
from workflow.access import access_attachment, access_completion_attachment, access_delivery
from workflow.models import Delivery
from workflow.selectors import InboxFilters, delivery_page, inbox_for_user, inbox_search
from workflow.services import delivery_open, delivery_sign_for, notification_mark_read


class InboxQuery(serializers.Serializer):
    state = serializers.MultipleChoiceField(
        choices=Delivery.State.choices, required=False, help_text=_("状态，可重复：?state=pending&state=signed")
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    overdue = QueryBoolean(help_text=_("true：已过签收或办结时限；false：未过。"))
    delivered_from = serializers.DateField(required=False, help_text=_("收文日期自（北京时间，含）。"))
    delivered_to = serializers.DateField(required=False, help_text=_("收文日期至（北京时间，含）。"))
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_("标题或发文字号的任一部分，多个词以空格分隔。")
    )

    def filters(self) -> InboxFilters:
        data = self.validated_data
        return InboxFilters(
            text=data.get("q", "").strip(),
            date_from=data.get("delivered_from"),
            date_to=data.get("delivered_to"),
            urgency=data.get("urgency", ""),
            states=tuple(sorted(data.get("state", ()))),
            overdue=data.get("overdue"),
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="inbox_list",
        summary=_("收文"),
        description=_(
            "调用方所在单位收到的送达，新收的在前。已撤回的也列出（只有文号、标题等存根信息；打开返回 410）。"
            "过滤：状态、紧急程度、是否逾期、收文日期、标题或文号。"
        ),
        parameters=[InboxQuery],
        tags=["deliveries"],
    )
)
class InboxList(ApiView, ListAPIView):
    serializer_class = InboxDeliverySerializer
    required_scopes = {"GET": Scope.READ}
    pagination_class = cursor_ordered_by("-created_at", "-id")

    def get_queryset(self):
        query = InboxQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return inbox_search(inbox_for_user(self.request.user), query.filters())


class DeliveryDetail(ApiView):
    required_scopes = {"GET": Scope.READ}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_retrieve",
        summary=_("一份送达"),
        description=_(
            "送达及其公文（全部要素和内容摘要）、所附公文、附件、回执、时限、退文/办结/撤回记录、经过，"
            "以及调用方现在可做的操作。收文单位的人打开即记为已读（与页面相同）。已撤回的返回 410 及存根。"
        ),
        responses=DeliveryDetailSerializer,
        tags=["deliveries"],
    )
    def get(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        # Opening records the read time, as the page does (for the recipient unit's people only:
        # the service decides), and reads the caller's notifications about it.
        delivery_open(actor=request.user, delivery=delivery)
        notification_mark_read(actor=request.user, delivery_id=delivery.pk)
        page = delivery_page(request.user, delivery, now=timezone.now())
        context = {"page": page, "actions": actions_in_scope(request, page.actions)}
        return Response(DeliveryDetailSerializer(delivery, context=context).data)


class DeliverySignFor(ApiView):
    required_scopes = {"POST": Scope.SIGN_FOR}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_sign_for",
        summary=_("签收"),
        description=_(
            "收文单位的收发员签收这份送达，得到回执（谁、何时、所签收内容的摘要）。重复签收返回同一回执（200），"
            "不另记录。调用方看不到的送达一律 404；已撤回的返回 410 及存根。"
        ),
        request=None,
        responses=ReceiptSerializer,
        tags=["deliveries"],
        examples=[
            OpenApiExample(
                "回执",
                value={
                    "id": 7,
                    "delivery_id": 42,
                    "document": {"id": 3, "number": "内组电明字〔2022〕11号"},
                    "unit": {"id": 5, "name": "中共内蒙古自治区教育工作委员会"},
                    "signed_by_id": 12,
                    "signed_at": "2022-10-13T09:30:00+08:00",
                    "content_digest": "9f2c…",
                },
                response_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        try:
            receipt = delivery_sign_for(actor=request.user, delivery_id=pk)
        except NotAllowed:
            # The service reads the delivery only with the caller's clerk role (its own door): a
            # refusal is checked against the read door, so that what the caller may not see stays
            # not found (no id oracle), and what they may see is a 403.
            access_delivery(request.user, pk)
            raise
        except Withdrawn as refused:
            access_delivery(request.user, pk)  # the stub, for the recipient unit's people (410)
            raise Conflict(refused.message) from None  # the door shows them the content: 409
        return Response(ReceiptSerializer(receipt).data)


class AnyAccept(BaseContentNegotiation):
    """A file goes as what it is, whatever the client says it accepts."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _FileView(ApiView):
    required_scopes = {"GET": Scope.READ}
    may_be_withdrawn = True
    content_negotiation_class = AnyAccept

    def file(self, attachment) -> FileResponse:
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type,
        )


class AttachmentContent(_FileView):
    @extend_schema(
        operation_id="attachments_content",
        summary=_("下载附件"),
        description=_("公文的附件文件，经公文的访问控制；已撤回的返回 410 及存根。"),
        responses={(200, "*/*"): OpenApiTypes.BINARY},
        tags=["deliveries"],
    )
    def get(self, request, pk: int):
        return self.file(access_attachment(request.user, pk))


class CompletionAttachmentContent(_FileView):
    @extend_schema(
        operation_id="completion_attachments_content",
        summary=_("下载办结附件"),
        description=_("办结反馈（落实情况）的附件，给能看到该反馈的人：送达的双方、其审计，以及流转链上游的发文机关。"),
        responses={(200, "*/*"): OpenApiTypes.BINARY},
        tags=["deliveries"],
    )
    def get(self, request, pk: int):
        return self.file(access_completion_attachment(request.user, pk))
