"""Deliveries (送达): a delivery with its document, and what a recipient does with it."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from api.models import Scope
from api.serializers import ReceiptSerializer
from api.views.base import ApiView
from units.errors import Conflict, NotAllowed, Withdrawn
from workflow.access import access_delivery
from workflow.services import delivery_sign_for


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
