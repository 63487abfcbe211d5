"""A document's life before it moves, through the API: 拟稿 (create, read, rewrite, attach files),
签发 and 印发, as the draft and document pages do it.

Each view passes the door (workflow.access) and calls the service (workflow.services), which checks
the roles and the state under the row's lock (workflow.services.rules); a refusal is the domain's
error, answered as a problem by api.problems.
"""

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.models import ApiClient, Scope
from api.parsers import MultiPartParser
from api.permissions import actions_in_scope
from api.serializers import DispatchSerializer
from api.serializers_actions import (
    MAX_ID,
    AttachmentsInputSerializer,
    DraftSerializer,
    IssueInputSerializer,
    OwnDocumentSerializer,
)
from api.views.base import ApiView
from api.views.outbox import dispatch_answer
from documents.models import Attachment, Document, DocumentRecipient
from units.models import Unit
from web.forms import end_of_day
from workflow.access import access_document, access_unit_for_drafting
from workflow.models import Forward
from workflow.services import attachment_add, document_draft, document_issue, document_sign_off, document_update
from workflow.services.rules import DocumentAction, document_actions, require_document_action

TAGS = ["documents"]


def document_answer(request, document: Document, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The document as OwnDocumentSerializer shows it, with what the caller may do with it now (the
    rules' answer). Four to six queries, whatever the number of recipients and files."""
    prefetch_related_objects(
        [document],
        Prefetch("recipients", DocumentRecipient.objects.select_related("unit", "group").order_by("position", "id")),
        Prefetch("attachments", Attachment.objects.order_by("position")),
    )
    forward = Forward.objects.filter(cover=document).select_related("source_delivery__document").first()
    # What the caller may do now: the rules' answer, for a client narrowed to its scopes (its
    # account's clerk role, held for the issue scope, would otherwise offer drafting too).
    context = {"forward": forward, "actions": actions_in_scope(request, document_actions(request.user, document))}
    headers = {"Location": reverse("api:document", args=[document.pk])} if status_code == 201 else None
    return Response(OwnDocumentSerializer(document, context=context).data, status=status_code, headers=headers)


class _UnitChoiceSerializer(serializers.Serializer):
    unit = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


def _drafting_unit(request) -> Unit:
    """The unit to draft for: the one named, else a client's own; through the door (404 when the
    caller may not draft for it, as for a unit that does not exist)."""
    chosen = _UnitChoiceSerializer(data=request.data)
    chosen.is_valid(raise_exception=True)
    pk = chosen.validated_data.get("unit")
    if pk is None:
        if not isinstance(request.auth, ApiClient):
            raise serializers.ValidationError({"unit": [_("请填写拟稿单位（unit）。")]})
        pk = request.auth.unit_id
    return access_unit_for_drafting(request.user, pk)


_DRAFT_EXAMPLE = OpenApiExample(
    "拟稿",
    value={
        "unit": 5,
        "kind": "通知",
        "title": "关于做好2022年秋季学期疫情防控工作的通知",
        "body": "各高等学校党委：\n现将有关事项通知如下……",
        "urgency": "特急",
        "written_on": "2022-10-14",
        "main_groups": [2],
        "cc_units": [9],
    },
    request_only=True,
)
_DOCUMENT_EXAMPLE = OpenApiExample(
    "草稿",
    value={
        "id": 31,
        "state": "draft",
        "unit": {"id": 5, "name": "中共内蒙古自治区教育工作委员会"},
        "number": "",
        "number_prefix": "内教工委函",
        "title": "关于做好2022年秋季学期疫情防控工作的通知",
        "kind": "通知",
        "urgency": "特急",
        "main_recipients": [{"type": "group", "id": 2, "name": "各高等学校党委"}],
        "cc_recipients": [{"type": "unit", "id": 9, "name": "内蒙古自治区教育厅"}],
        "attachments": [],
        "forward": None,
        "created_at": "2022-10-14T08:30:00+08:00",
        "signed_off_at": None,
        "issued_at": None,
        "digest": "",
        "actions": ["attach", "edit", "sign_off"],
    },
    response_only=True,
)


class DocumentCreate(ApiView):
    required_scopes = {"POST": Scope.DRAFT}
    may_be_not_found = True  # a unit the caller may not draft for is answered as missing

    @extend_schema(
        operation_id="documents_create",
        summary=gettext_lazy("拟稿"),
        description=gettext_lazy(
            "为本单位拟一份公文草稿：公文的各要素（documents.elements，与拟稿页面相同；不填的取默认值，"
            "发文机关标志、主送机关等由单位和收文对象生成）、主送和抄送（单位 id、本单位的收文对象组 id）、"
            "发文字号前缀。发文字号在印发时分配。附件另行上传（/documents/{id}/attachments）。"
            "调用方须为该单位的拟稿人或收发员。"
        ),
        request=DraftSerializer,
        responses={201: OwnDocumentSerializer},
        examples=[_DRAFT_EXAMPLE, _DOCUMENT_EXAMPLE],
        tags=TAGS,
    )
    def post(self, request):
        unit = _drafting_unit(request)
        draft = DraftSerializer(data=request.data, unit=unit)
        draft.is_valid(raise_exception=True)
        document = document_draft(
            actor=request.user,
            unit=unit,
            content=draft.content(),
            main_recipients=draft.recipients("main") or [],
            cc_recipients=draft.recipients("cc") or [],
            number_prefix=draft.validated_data.get("number_prefix") or None,
        )
        return document_answer(request, document, status_code=status.HTTP_201_CREATED)


class DocumentDetail(ApiView):
    required_scopes = {"GET": Scope.DRAFT, "PUT": Scope.DRAFT}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="documents_retrieve",
        summary=gettext_lazy("一份公文"),
        description=gettext_lazy(
            "调用方可以查看的一份公文（本单位的草稿、已签发、已印发的公文，或收到的公文）：各要素、主送和抄送、"
            "附件、所转发的公文，以及调用方现在可以做的操作（actions）。看不到的一律 404；从本单位撤回的返回 410。"
        ),
        responses=OwnDocumentSerializer,
        examples=[_DOCUMENT_EXAMPLE],
        tags=TAGS,
    )
    def get(self, request, pk: int):
        return document_answer(request, access_document(request.user, pk))

    @extend_schema(
        operation_id="documents_update",
        summary=gettext_lazy("修改草稿"),
        description=gettext_lazy(
            "重写草稿的全部要素（未给出的取默认值）。给出 main_units 或 main_groups 时主送改为所给的，"
            "两者都不给则不变；抄送同理。unit 与 number_prefix 不变。只有草稿可以修改（否则 409）。"
        ),
        request=DraftSerializer,
        responses=OwnDocumentSerializer,
        examples=[_DOCUMENT_EXAMPLE],
        tags=TAGS,
    )
    def put(self, request, pk: int):
        document = access_document(request.user, pk)
        # The rule first, so that only whom may edit the draft learns what its unit's groups are.
        require_document_action(request.user, DocumentAction.EDIT, document)
        draft = DraftSerializer(data=request.data, unit=document.issuing_unit)
        draft.is_valid(raise_exception=True)
        document = document_update(
            actor=request.user,
            document=document,
            content=draft.content(),
            main_recipients=draft.recipients("main"),
            cc_recipients=draft.recipients("cc"),
        )
        return document_answer(request, document)


class DocumentAttachments(ApiView):
    required_scopes = {"POST": Scope.DRAFT}
    parser_classes = [MultiPartParser]
    may_be_withdrawn = True

    @extend_schema(
        operation_id="documents_attachments_create",
        summary=gettext_lazy("上传附件"),
        description=gettext_lazy(
            "给草稿添加附件（multipart/form-data，字段 files 可重复）。每个文件的类型、大小与页面相同地检查，"
            "不合格的逐一列出；一次提交的文件合计超过上限时返回 413。全部保存或全部不保存。"
        ),
        request={"multipart/form-data": AttachmentsInputSerializer},
        responses={201: OwnDocumentSerializer},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        document = access_document(request.user, pk)
        files = AttachmentsInputSerializer(data=request.data)
        files.is_valid(raise_exception=True)
        # One transaction: every file, or none.
        with transaction.atomic():
            for file in files.validated_data["files"]:
                attachment_add(actor=request.user, document=document, name=file.name, stream=file)
        return document_answer(request, document, status_code=status.HTTP_201_CREATED)


class DocumentSignOff(ApiView):
    required_scopes = {"POST": Scope.SIGN_OFF}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="documents_sign_off",
        summary=gettext_lazy("签发"),
        description=gettext_lazy(
            "本单位的签发人签发草稿，之后可以印发。起草或修改过草稿的人（或接口客户端）不能自己签发，"
            "除非本单位允许（403）。没有成文日期的草稿以签发当天为成文日期。"
        ),
        request=None,
        responses=OwnDocumentSerializer,
        tags=TAGS,
    )
    def post(self, request, pk: int):
        document = document_sign_off(actor=request.user, document=access_document(request.user, pk))
        return document_answer(request, document)


class DocumentIssue(ApiView):
    required_scopes = {"POST": Scope.ISSUE}
    may_be_withdrawn = True

    @extend_schema(
        operation_id="documents_issue",
        summary=gettext_lazy("印发"),
        description=gettext_lazy(
            "本单位的收发员印发已签发的公文：分配发文字号，固定内容摘要，按主送和抄送（收文对象组展开为单位）"
            "记录分发，随后由后台按紧急程度分发到各收文单位（routed_at 为空表示仍在分发）。答复的是这次分发。"
        ),
        request=IssueInputSerializer,
        responses={201: DispatchSerializer},
        examples=[
            OpenApiExample("印发", value={"complete_by": "2022-10-20"}, request_only=True),
        ],
        tags=TAGS,
    )
    def post(self, request, pk: int):
        document = access_document(request.user, pk)
        options = IssueInputSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        complete_by = options.validated_data.get("complete_by")
        dispatch = document_issue(
            actor=request.user,
            document=document,
            complete_by=end_of_day(complete_by) if complete_by else None,
            answers_return_id=options.validated_data.get("answers_return"),
        )
        return Response(dispatch_answer(dispatch), status=status.HTTP_201_CREATED)
