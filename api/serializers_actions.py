"""The shapes of the write endpoints (drafting, 签发, 印发, and what is done with a delivery): what a
request may carry and what the answer holds.

A draft's elements are not listed here: their fields come from documents.elements (the one list of
公文 elements) and DocumentContent's defaults, as the draft page's form does. Request serializers
parse and check the input's form only; the services decide what is allowed and check the content
again (workflow.services). Answer serializers shape rows the doors and services already returned.
"""

import dataclasses
import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import AttachmentSerializer, RecallSerializer, ReturnSerializer, UnitRefSerializer
from documents.attachments import check_attachment
from documents.content import DocumentContent
from documents.elements import ELEMENTS, Element, Value
from documents.models import Document, RecipientRole, Urgency
from units.errors import InvalidInput
from units.models import RecipientGroup, Unit
from units.selectors import unit_list_addressable
from workflow.models import ReturnReason
from workflow.services.rules import DocumentAction

# Ids as the database holds them: a bigger number is bad input, never a query that overflows.
MAX_ID = 2**63 - 1

_CONTENT_DEFAULTS = {field.name: field.default for field in dataclasses.fields(DocumentContent)}


def _element_input(element: Element) -> serializers.Field:
    """The request field of a 公文 element: required when DocumentContent has no default for it."""
    required = _CONTENT_DEFAULTS[element.name] is dataclasses.MISSING
    options = {"required": required, "help_text": element.label}
    match element.value:
        case Value.LINE:
            return serializers.CharField(max_length=element.max_length, allow_blank=not required, **options)
        case Value.TEXT:
            return serializers.CharField(allow_blank=not required, trim_whitespace=False, **options)
        case Value.DATE:
            return serializers.DateField(allow_null=True, **options)
        case Value.COUNT:
            return serializers.IntegerField(min_value=1, max_value=element.max_value, allow_null=True, **options)
        case Value.CHOICE:
            return serializers.ChoiceField(choices=element.choices.choices, **options)


def _element_output(element: Element) -> serializers.Field:
    options = {"read_only": True, "help_text": element.label}
    match element.value:
        case Value.DATE:
            return serializers.DateField(allow_null=True, **options)
        case Value.COUNT:
            return serializers.IntegerField(allow_null=True, **options)
        case Value.CHOICE:
            return serializers.ChoiceField(choices=element.choices.choices, **options)
        case _:
            return serializers.CharField(**options)


def _ids(help_text) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, help_text=help_text
    )


class RecipientsInputSerializer(serializers.Serializer):
    """主送 and 抄送: active units by id, and recipient groups of the drafting unit by id.

    Every id is looked up in one query per kind; an id that names no such unit (or no group of the
    unit) is refused, naming it. The service checks the recipients again (_check_recipients).
    """

    main_units = _ids(gettext_lazy("主送单位的 id。"))
    main_groups = _ids(gettext_lazy("主送的收文对象组（本单位的）的 id。"))
    cc_units = _ids(gettext_lazy("抄送单位的 id。"))
    cc_groups = _ids(gettext_lazy("抄送的收文对象组（本单位的）的 id。"))

    def __init__(self, *args, unit: Unit | None = None, **kwargs) -> None:
        # The unit whose groups may be named; None only where the schema is drawn (no group is one).
        super().__init__(*args, **kwargs)
        self.unit = unit

    def _resolve(self, data: dict, name: str, queryset, missing_message: str) -> None:
        if name not in data:
            return
        ids = list(dict.fromkeys(data[name]))
        found = queryset.in_bulk(ids)
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError({name: [missing_message % {"ids": "、".join(missing)}]})
        data[name] = [found[pk] for pk in ids]

    def validate(self, data: dict) -> dict:
        units = unit_list_addressable()
        groups = RecipientGroup.objects.filter(owner=self.unit)
        for role in ("main", "cc"):
            self._resolve(data, f"{role}_units", units, _("单位 %(ids)s 不存在或已停用。"))
            self._resolve(
                data,
                f"{role}_groups",
                groups,
                _("收文对象组 %(ids)s 不是本单位的收文对象组。"),
            )
        return data

    def recipients(self, role: str) -> list | None:
        """The 主送 ("main") or 抄送 ("cc") chosen, groups first as on the page; None when the
        request names neither list (the draft's stay as they are)."""
        data = self.validated_data
        if f"{role}_units" not in data and f"{role}_groups" not in data:
            return None
        return [*data.get(f"{role}_groups", []), *data.get(f"{role}_units", [])]


class _DraftElements(serializers.Serializer):
    """A field per element of documents.elements, in their order."""

    def content(self) -> DocumentContent:
        """The elements given; the others take DocumentContent's defaults (a fallback element left
        empty is filled from the unit or the recipients by the service)."""
        names = {element.name for element in ELEMENTS}
        return DocumentContent(**{key: value for key, value in self.validated_data.items() if key in names})


DraftElementsSerializer = type(
    "DraftElementsSerializer",
    (_DraftElements,),
    {"__module__": __name__, **{element.name: _element_input(element) for element in ELEMENTS}},
)


class DraftSerializer(DraftElementsSerializer, RecipientsInputSerializer):
    """拟稿 (POST) and rewriting a draft (PUT): every element, 主送 and 抄送, and the number prefix."""

    unit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=gettext_lazy("拟稿单位的 id；接口客户端不填即为其所属单位，个人须填写。修改草稿时忽略。"),
    )
    number_prefix = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("发文字号前缀，须为本单位的；不填为本单位的默认前缀。修改草稿时忽略。"),
    )


class RecipientSerializer(serializers.Serializer):
    """One 主送 or 抄送 as the draft names it: a unit or a recipient group."""

    type = serializers.ChoiceField(choices=["unit", "group"])
    id = serializers.IntegerField()
    name = serializers.CharField()


class DocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text=gettext_lazy("发文字号；未印发时为空。"))
    title = serializers.CharField()


class ForwardSourceSerializer(serializers.Serializer):
    """What a cover letter (转发通知) forwards: the delivery it was drafted from and its document."""

    delivery_id = serializers.IntegerField(source="source_delivery_id")
    encloses = DocumentRefSerializer(source="source_delivery.document")


def _recipients(document: Document, role: str) -> list[dict]:
    return [
        {"type": "unit", "id": row.unit_id, "name": row.unit.name}
        if row.unit_id
        else {"type": "group", "id": row.group_id, "name": row.group.name}
        for row in document.recipients.all()
        if row.role == role
    ]


class _DocumentHead(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    state = serializers.ChoiceField(choices=Document.State.choices, read_only=True)
    issuer = UnitRefSerializer(source="issuing_unit", read_only=True)
    number = serializers.CharField(read_only=True, help_text=gettext_lazy("发文字号，印发时分配；此前为空。"))
    number_prefix = serializers.CharField(read_only=True)


# Its state and number first, then a field per element of documents.elements, in their order.
DocumentElementsSerializer = type(
    "DocumentElementsSerializer",
    (_DocumentHead,),
    {"__module__": __name__, **{element.name: _element_output(element) for element in ELEMENTS}},
)


class OwnDocumentSerializer(DocumentElementsSerializer):
    """A document of the caller's own unit (a draft, or one it issued) as the drafting system sees
    it: its state, every element, its recipients and files, what it forwards, and what the caller
    may do with it now. (A received document is api.serializers.DocumentSerializer: what the
    recipient sees, with no recipients list.)

    The view passes `forward` (the Forward row or None) and `actions` (workflow.services.rules
    .document_actions) in the context, and prefetches `recipients` (with unit and group) and
    `attachments`.
    """

    main_recipients = serializers.SerializerMethodField()
    cc_recipients = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    forward = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    signed_off_at = serializers.DateTimeField(read_only=True, allow_null=True)
    issued_at = serializers.DateTimeField(read_only=True, allow_null=True)
    digest = serializers.CharField(
        read_only=True, help_text=gettext_lazy("内容摘要（SHA-256），印发时固定；此前为空。")
    )
    actions = serializers.SerializerMethodField()

    @extend_schema_field(RecipientSerializer(many=True))
    def get_main_recipients(self, document: Document) -> list[dict]:
        return _recipients(document, RecipientRole.MAIN)

    @extend_schema_field(RecipientSerializer(many=True))
    def get_cc_recipients(self, document: Document) -> list[dict]:
        return _recipients(document, RecipientRole.COPY)

    @extend_schema_field(ForwardSourceSerializer(allow_null=True))
    def get_forward(self, document: Document) -> dict | None:
        forward = self.context["forward"]
        return ForwardSourceSerializer(forward).data if forward is not None else None

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=[action.value for action in DocumentAction]),
            help_text=gettext_lazy("调用方现在可以对这份公文做的操作（与页面提供的相同）。"),
        )
    )
    def get_actions(self, document: Document) -> list[str]:
        return sorted(str(action) for action in self.context["actions"])


# --- files ----------------------------------------------------------------------------------------


class FilesInputSerializer(serializers.Serializer):
    """Files of a multipart request (field `files`, repeated), each checked as the services check it
    (documents.attachments.check_attachment), so that every bad file is named at once."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        required=False,
        help_text=gettext_lazy("附件（multipart/form-data，可重复）。"),
    )

    def validate_files(self, files: list) -> list:
        errors = {}
        for position, file in enumerate(files):
            try:
                check_attachment(file.name, file)
            except InvalidInput as error:
                errors[position] = [error.message]
        if errors:
            raise serializers.ValidationError(errors)
        return files


class AttachmentsInputSerializer(FilesInputSerializer):
    def validate(self, data: dict) -> dict:
        if not data.get("files"):
            raise serializers.ValidationError({"files": [_("请至少上传一个附件。")]})
        return data


# --- 签发 and 印发 ----------------------------------------------------------------------------------


class IssueInputSerializer(serializers.Serializer):
    complete_by = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("办结时限（到这一天 24 时，北京时间），只能早于紧急程度规定的时限；不填按规定。"),
    )
    answers_return = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("这份更正后的公文所答复的退文记录 id（退给本单位的）。"),
    )

    def validate_complete_by(self, day: datetime.date | None) -> datetime.date | None:
        if day is not None and day >= datetime.date.max:
            raise serializers.ValidationError(_("日期超出范围。"))
        return day


# --- what is done with a delivery ------------------------------------------------------------------


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices, help_text=gettext_lazy("退文理由。"))
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=gettext_lazy("具体说明；理由为 other（其他）时必填。"),
    )


class DeliveryReturnSerializer(ReturnSerializer):
    """退文 as the act answers it: the return (as a delivery shows it), with its delivery, document
    and unit."""

    delivery_id = serializers.IntegerField(read_only=True)
    document = DocumentRefSerializer(source="delivery.document", read_only=True)
    unit = UnitRefSerializer(read_only=True)

    class Meta(ReturnSerializer.Meta):
        fields = ["delivery_id", "document", "unit", *ReturnSerializer.Meta.fields]
        read_only_fields = fields


class ForwardInputSerializer(RecipientsInputSerializer):
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, help_text=gettext_lazy("紧急程度；不填同所转发的公文。")
    )
    number_prefix = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("发文字号前缀；不填为本单位的默认前缀。"),
    )
    body = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("转发通知正文；不填为标准的转发语。")
    )


class CompleteFeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(max_length=2000, help_text=gettext_lazy("落实情况。"))


class CompleteInputSerializer(CompleteFeedbackSerializer, FilesInputSerializer):
    """办结 as multipart/form-data: the 落实情况 with files (JSON carries the feedback alone)."""


class ReminderSerializer(serializers.Serializer):
    """催办 of one delivery: how many rounds it has had, the last one now."""

    delivery_id = serializers.IntegerField(source="id")
    unit = UnitRefSerializer()
    reminder_count = serializers.IntegerField(help_text=gettext_lazy("催办次数（人工与自动合计），含这一次。"))
    last_reminded_at = serializers.DateTimeField()


class RecallInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("撤回原因（至多 200 字），收文单位看得到。")
    )


class RecallResultSerializer(RecallSerializer):
    """撤回 as the act answers it: the recall (as the outbox shows it) and how many deliveries it took
    away. The view sets the counts on the row (workflow.services.recall's answer)."""

    dispatch_id = serializers.IntegerField(read_only=True)
    delivery_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=gettext_lazy("只撤回一个单位时为其送达；否则为空。")
    )
    withdrawn = serializers.IntegerField(read_only=True, help_text=gettext_lazy("撤回的未签收送达数。"))
    held = serializers.IntegerField(read_only=True, help_text=gettext_lazy("撤回的已签收送达数。"))
    downstream = serializers.IntegerField(read_only=True, help_text=gettext_lazy("由此转发到下级、随之撤回的送达数。"))

    class Meta(RecallSerializer.Meta):
        fields = [*RecallSerializer.Meta.fields, "dispatch_id", "delivery_id", "withdrawn", "held", "downstream"]
        read_only_fields = fields
