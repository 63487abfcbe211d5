"""What is done with a delivery after it arrives, through the API: 退文, 转发, 办结 by the recipient
unit; 催办 and 撤回 by the issuer (撤回 of one delivery or of a whole dispatch). As the delivery page
does it: the door first (workflow.access: 404 for what the caller may not see, 410 with the stub for
a unit whose delivery was recalled), then the service, which checks the role and the state under the
row's lock (workflow.services.rules): 403 for a caller who may see it but not act, 409 for a state
that does not allow the action, naming the state.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.models import Scope
from api.serializers import CompletionSerializer
from api.serializers_actions import (
    CompleteFeedbackSerializer,
    CompleteInputSerializer,
    DeliveryReturnSerializer,
    ForwardInputSerializer,
    OwnDocumentSerializer,
    RecallInputSerializer,
    RecallResultSerializer,
    ReminderSerializer,
    ReturnInputSerializer,
)
from api.views.base import ApiView
from api.views.drafting import document_answer
from workflow.access import access_delivery, access_dispatch
from workflow.models import Delivery, Recall
from workflow.services import (
    delivery_complete,
    delivery_recall,
    delivery_remind,
    delivery_return,
    dispatch_recall,
    document_forward,
)
from workflow.services.rules import DeliveryAction, require_delivery_action

TAGS = ["deliveries"]


class DeliveryReturnCreate(ApiView):
    required_scopes = {"POST": Scope.HANDLE}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_return",
        summary=gettext_lazy("退文"),
        description=gettext_lazy(
            "收文单位的收发员把这份送达退回发文机关，说明理由（理由为 other 时须写明 text）。待签收的，"
            "或已签收而未转发、未办结的可以退文；发文机关的收发员随即收到通知。"
        ),
        request=ReturnInputSerializer,
        responses={201: DeliveryReturnSerializer},
        examples=[
            OpenApiExample("退文", value={"reason": "wrong_format", "text": "文种应为函。"}, request_only=True),
            OpenApiExample(
                "退文记录",
                value={
                    "id": 4,
                    "delivery_id": 42,
                    "document": {"id": 3, "number": "内组电明字〔2022〕11号", "title": "关于……的通知"},
                    "unit": {"id": 5, "name": "中共内蒙古自治区教育工作委员会"},
                    "reason": "wrong_format",
                    "text": "文种应为函。",
                    "returned_by": "jygw",
                    "returned_at": "2022-10-13T10:00:00+08:00",
                },
                response_only=True,
            ),
        ],
        tags=TAGS,
    )
    def post(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        given = ReturnInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        returned = delivery_return(
            actor=request.user,
            delivery_id=delivery.pk,
            reason=given.validated_data["reason"],
            text=given.validated_data.get("text", ""),
        )
        return Response(DeliveryReturnSerializer(returned).data, status=status.HTTP_201_CREATED)


class DeliveryForward(ApiView):
    required_scopes = {"POST": Scope.HANDLE}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_forward",
        summary=gettext_lazy("转发"),
        description=gettext_lazy(
            "收文单位的收发员为已签收的公文拟一份转发通知（通知，标题为“本单位转发……的通知”），原件原样"
            "附在其后。答复的是这份转发通知的草稿：它与其他草稿一样，须经签发（/documents/{id}/sign-off）"
            "和印发（/documents/{id}/issue）才送到收文单位。"
        ),
        request=ForwardInputSerializer,
        responses={201: OwnDocumentSerializer},
        examples=[
            OpenApiExample(
                "转发",
                value={"main_groups": [2], "urgency": "特急", "body": "现将《……》转发给你们，请认真贯彻落实。"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    def post(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        # The rule first, so that only whom may forward it learns which groups the unit has.
        require_delivery_action(request.user, DeliveryAction.FORWARD, delivery)
        given = ForwardInputSerializer(data=request.data, unit=delivery.unit)
        given.is_valid(raise_exception=True)
        cover = document_forward(
            actor=request.user,
            delivery=delivery,
            main_recipients=given.recipients("main") or [],
            cc_recipients=given.recipients("cc") or [],
            urgency=given.validated_data.get("urgency"),
            number_prefix=given.validated_data.get("number_prefix") or None,
            body=given.validated_data.get("body") or None,
        )
        return document_answer(request, cover, status_code=status.HTTP_201_CREATED)


class DeliveryComplete(ApiView):
    required_scopes = {"POST": Scope.HANDLE}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_complete",
        summary=gettext_lazy("办结"),
        description=gettext_lazy(
            "收文单位的收发员报告已办结这份已签收的公文，写明落实情况，可附文件（multipart/form-data，"
            "字段 files 可重复；不附文件时也可用 JSON）。发文机关和流转链的审计人员看得到。"
        ),
        request={"application/json": CompleteFeedbackSerializer, "multipart/form-data": CompleteInputSerializer},
        responses={201: CompletionSerializer},
        examples=[OpenApiExample("办结", value={"feedback": "已组织学习，全部落实。"}, request_only=True)],
        tags=TAGS,
    )
    def post(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        given = CompleteInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        completion = delivery_complete(
            actor=request.user,
            delivery_id=delivery.pk,
            feedback=given.validated_data["feedback"],
            attachments=[(file.name, file) for file in given.validated_data.get("files", [])],
        )
        return Response(CompletionSerializer(completion).data, status=status.HTTP_201_CREATED)


class DeliveryRemind(ApiView):
    required_scopes = {"POST": Scope.HANDLE}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="deliveries_remind",
        summary=gettext_lazy("催办"),
        description=gettext_lazy(
            "发文机关的收发员或签发人催办这个收文单位：尚未签收，或已签收而未办结的送达都可以催办（与后台的"
            "超时催办合计次数）。一分钟内重复催办返回 409。"
        ),
        request=None,
        responses=ReminderSerializer,
        tags=TAGS,
    )
    def post(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        delivery_remind(actor=request.user, delivery_id=delivery.pk)
        reminded = Delivery.objects.select_related("unit").get(pk=delivery.pk)
        return Response(ReminderSerializer(reminded).data)


def _recall_answer(recall: Recall, counts: dict[str, int]) -> Response:
    recall.withdrawn, recall.held, recall.downstream = counts["withdrawn"], counts["held"], counts["downstream"]
    return Response(RecallResultSerializer(recall).data, status=status.HTTP_201_CREATED)


_RECALL_EXAMPLES = [
    OpenApiExample("撤回", value={"reason": "发错了单位"}, request_only=True),
    OpenApiExample(
        "撤回记录",
        value={
            "id": 3,
            "dispatch_id": 17,
            "delivery_id": 42,
            "recalled_by": "zzb",
            "recalled_at": "2022-10-13T11:00:00+08:00",
            "reason": "发错了单位",
            "withdrawn": 0,
            "held": 1,
            "downstream": 20,
        },
        response_only=True,
    ),
]


class DeliveryRecall(ApiView):
    required_scopes = {"POST": Scope.ISSUE}

    @extend_schema(
        operation_id="deliveries_recall",
        summary=gettext_lazy("撤回一个单位的送达"),
        description=gettext_lazy(
            "发文机关的收发员或签发人撤回送给这一个单位的公文（其余单位不受影响）。该单位从此只看到存根；"
            "它由此转发到下级的，随之撤回。已撤回或已退文的返回 409。"
        ),
        request=RecallInputSerializer,
        responses={201: RecallResultSerializer},
        examples=_RECALL_EXAMPLES,
        tags=TAGS,
    )
    def post(self, request, pk: int):
        delivery = access_delivery(request.user, pk)
        given = RecallInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        counts = delivery_recall(
            actor=request.user, delivery_id=delivery.pk, reason=given.validated_data.get("reason", "")
        )
        return _recall_answer(Recall.objects.select_related("recalled_by").get(deliveries__pk=delivery.pk), counts)


class DispatchRecall(ApiView):
    required_scopes = {"POST": Scope.ISSUE}

    @extend_schema(
        operation_id="dispatches_recall",
        summary=gettext_lazy("撤回整个分发"),
        description=gettext_lazy(
            "发文机关的收发员或签发人撤回这次分发的全部送达；各收文单位由此转发到下级的，随之撤回。"
            "仍在分发中（routed_at 为空）或已撤回的返回 409。"
        ),
        request=RecallInputSerializer,
        responses={201: RecallResultSerializer},
        examples=_RECALL_EXAMPLES,
        tags=["dispatches"],
    )
    def post(self, request, pk: int):
        dispatch = access_dispatch(request.user, pk)
        given = RecallInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        counts = dispatch_recall(
            actor=request.user, dispatch_id=dispatch.pk, reason=given.validated_data.get("reason", "")
        )
        return _recall_answer(Recall.objects.select_related("recalled_by").get(dispatches__pk=dispatch.pk), counts)
