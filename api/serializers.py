"""How the API's answers are shaped. Serializers shape data the doors and selectors have already
restricted; they never decide who may see or do what (workflow.access, workflow.services.rules)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from documents.digest import CONTENT_FIELDS
from documents.models import Attachment, Document
from units.models import RecipientGroup, Unit
from workflow.models import (
    Completion,
    CompletionAttachment,
    Delivery,
    DeliveryReturn,
    Dispatch,
    Notification,
    Recall,
)
from workflow.services.rules import DeliveryAction


class QueryBoolean(serializers.BooleanField):
    """A yes/no filter of a query string (true/false); absent, the filter is off (not in the data).
    DRF reads an absent boolean of a form as false (an unticked box): a query is not a form."""

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


# --- problems (api.problems): for the schema; the handler writes the bodies -----------------------


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text=_("出错的字段（嵌套字段以点分隔）；null 表示整个请求。"))
    detail = serializers.CharField()


class RecalledDocumentSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()


class WithdrawnStubSerializer(serializers.Serializer):
    """What a unit still sees of a document recalled from it (workflow.access.WithdrawnStub)."""

    number = serializers.CharField()
    title = serializers.CharField()
    issuer = serializers.CharField()
    state = serializers.ChoiceField(choices=["recalled"])
    recalled_by = serializers.CharField()
    recalled_at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    recalled_document = RecalledDocumentSerializer(allow_null=True)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text=_("错误类型（稳定的 URI 引用，见 /api/v1/problems）。"))
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(allow_null=True)
    errors = FieldErrorSerializer(many=True, required=False)
    stub = WithdrawnStubSerializer(required=False, allow_null=True)
    required_scope = serializers.CharField(required=False, allow_null=True)


class ProblemTypeSerializer(serializers.Serializer):
    type = serializers.CharField(source="uri")
    slug = serializers.CharField()
    status = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()


# --- the directory --------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(source="parent_id", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "mongolian_name", "kind", "parent"]
        read_only_fields = fields


class UnitNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name"]
        read_only_fields = fields


class RecipientGroupSerializer(serializers.ModelSerializer):
    owner = UnitNameSerializer(read_only=True)
    members = UnitNameSerializer(many=True, read_only=True)

    class Meta:
        model = RecipientGroup
        fields = ["id", "name", "owner", "members"]
        read_only_fields = fields


# --- deliveries -----------------------------------------------------------------------------------


class DocumentNumberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text=_("发文字号，如 内组电明字〔2022〕11号。"))


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReceiptSerializer(serializers.Serializer):
    """回执: who signed for the delivery, when, and the digest of exactly what they signed for."""

    id = serializers.IntegerField()
    delivery_id = serializers.IntegerField()
    document = DocumentNumberSerializer(source="delivery.document")
    unit = UnitRefSerializer()
    signed_by_id = serializers.IntegerField()
    signed_at = serializers.DateTimeField()
    content_digest = serializers.CharField(help_text=_("签收时公文内容的 SHA-256 摘要。"))


# --- documents ------------------------------------------------------------------------------------


class DocumentSummarySerializer(serializers.ModelSerializer):
    """A document in a list: what the inbox and the outbox show of it (a recalled one's stub shows
    as much: number, title, issuer)."""

    number = serializers.CharField(read_only=True, help_text=_("发文字号（印发前为空）。"))
    issuer = UnitRefSerializer(source="issuing_unit", read_only=True)

    class Meta:
        model = Document
        fields = ["id", "number", "title", "kind", "urgency", "issuer"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    """A document with every element (documents.elements.ELEMENTS, the digest's fields), the digest
    fixed at issue, and where it stands."""

    number = serializers.CharField(read_only=True, help_text=_("发文字号（印发前为空）。"))
    issuer = UnitRefSerializer(source="issuing_unit", read_only=True)
    digest = serializers.CharField(
        read_only=True, help_text=_("印发时固定的内容摘要：要素、附件和所附公文的规范序列化的 SHA-256。")
    )

    class Meta:
        model = Document
        fields = ["id", "number", "state", "issuer", "issued_at", "digest", *CONTENT_FIELDS]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text=_("下载地址（经同一访问控制）。"))

    class Meta:
        model = Attachment
        fields = ["id", "position", "name", "content_type", "size", "sha256", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return reverse("api:attachment-content", args=[attachment.pk])


class DocumentPartSerializer(serializers.Serializer):
    """A document the delivered one encloses (所附公文), at its depth. One recalled from the unit that
    forwarded it shows its number and title only (`is_withdrawn`), as the page's stub does."""

    id = serializers.IntegerField(source="document.pk")
    depth = serializers.IntegerField()
    number = serializers.CharField(source="document.number")
    title = serializers.CharField(source="document.title")
    is_withdrawn = serializers.BooleanField()
    document = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True)

    @extend_schema_field(DocumentSerializer(allow_null=True))
    def get_document(self, part) -> dict | None:
        return None if part.is_withdrawn else DocumentSerializer(part.document).data


# --- deliveries -----------------------------------------------------------------------------------


class InboxDeliverySerializer(serializers.ModelSerializer):
    """A row of the inbox (收文)."""

    unit = UnitRefSerializer(read_only=True)
    document = DocumentSummarySerializer(read_only=True)
    delivered_at = serializers.DateTimeField(source="created_at", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text=_("已过签收或办结时限。"))

    class Meta:
        model = Delivery
        fields = [
            "id",
            "state",
            "role",
            "unit",
            "document",
            "delivered_at",
            "read_at",
            "signed_at",
            "completed_at",
            "returned_at",
            "deadline_sign_for",
            "deadline_complete",
            "is_overdue",
            "reminder_count",
        ]
        read_only_fields = fields


class ClockSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["sign_for", "complete", ""], help_text=_("计时的是签收还是办结；空：不再计时。")
    )
    deadline = serializers.DateTimeField(allow_null=True)
    overdue_seconds = serializers.SerializerMethodField(help_text=_("已超时限的秒数；未超时为 null。"))

    def get_overdue_seconds(self, clock) -> int | None:
        return int(clock.lateness.total_seconds()) if clock.lateness is not None else None


class ReturnSerializer(serializers.ModelSerializer):
    returned_by = serializers.CharField(source="returned_by.get_username")

    class Meta:
        model = DeliveryReturn
        fields = ["id", "reason", "text", "returned_by", "returned_at"]
        read_only_fields = fields


class CompletionAttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = CompletionAttachment
        fields = ["id", "position", "name", "content_type", "size", "sha256", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return reverse("api:completion-attachment-content", args=[attachment.pk])


class CompletionSerializer(serializers.ModelSerializer):
    completed_by = serializers.CharField(source="completed_by.get_username")
    attachments = CompletionAttachmentSerializer(many=True)

    class Meta:
        model = Completion
        fields = ["id", "feedback", "completed_by", "completed_at", "attachments"]
        read_only_fields = fields


class RecallSerializer(serializers.ModelSerializer):
    recalled_by = serializers.CharField(source="recalled_by.get_username")

    class Meta:
        model = Recall
        fields = ["id", "recalled_by", "recalled_at", "reason"]
        read_only_fields = fields


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    what = serializers.CharField(help_text=_("审计事件类型（如 DELIVERY_SIGNED），或 DELIVERED、FORWARDED。"))
    actor = serializers.CharField(allow_blank=True)
    detail = serializers.CharField(allow_blank=True)
    payload = serializers.DictField()


class DeliveryDetailSerializer(InboxDeliverySerializer):
    """One delivery, as its page shows it: the document with every element, what it encloses, its
    files, the receipt, the clock, the 退文 / 办结 / 撤回 recorded on it, its history, and what the
    caller may do with it now (the services' answer)."""

    document = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField(help_text=_("已过签收或办结时限。"))
    enclosures = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    receipt = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()
    returned = serializers.SerializerMethodField()
    completion = serializers.SerializerMethodField()
    recall = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text=_("调用方现在可以对它做的操作（服务的判断；接口客户端另受权限范围限制）。")
    )

    class Meta(InboxDeliverySerializer.Meta):
        fields = [
            *InboxDeliverySerializer.Meta.fields,
            "dispatch_id",
            "enclosures",
            "attachments",
            "receipt",
            "clock",
            "returned",
            "completion",
            "recall",
            "history",
            "actions",
        ]
        read_only_fields = fields

    @property
    def _page(self):
        return self.context["page"]

    def get_is_overdue(self, delivery) -> bool:
        return self._page.handling.clock.is_overdue

    @extend_schema_field(DocumentSerializer)
    def get_document(self, delivery) -> dict:
        return DocumentSerializer(delivery.document).data

    @extend_schema_field(DocumentPartSerializer(many=True))
    def get_enclosures(self, delivery) -> list:
        return DocumentPartSerializer([part for part in self._page.parts if part.depth > 0], many=True).data

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, delivery) -> list:
        own = next((part for part in self._page.parts if part.depth == 0), None)
        return AttachmentSerializer(own.attachments if own else [], many=True).data

    @extend_schema_field(ReceiptSerializer(allow_null=True))
    def get_receipt(self, delivery) -> dict | None:
        receipt = self._page.receipt
        if receipt is None:
            return None
        receipt.delivery, receipt.unit = delivery, delivery.unit
        return ReceiptSerializer(receipt).data

    @extend_schema_field(ClockSerializer)
    def get_clock(self, delivery) -> dict:
        return ClockSerializer(self._page.handling.clock).data

    @extend_schema_field(ReturnSerializer(allow_null=True))
    def get_returned(self, delivery) -> dict | None:
        returned = self._page.handling.returned
        return ReturnSerializer(returned).data if returned else None

    @extend_schema_field(CompletionSerializer(allow_null=True))
    def get_completion(self, delivery) -> dict | None:
        completion = self._page.handling.completion
        return CompletionSerializer(completion).data if completion else None

    @extend_schema_field(RecallSerializer(allow_null=True))
    def get_recall(self, delivery) -> dict | None:
        recall = self._page.handling.recall
        return RecallSerializer(recall).data if recall else None

    @extend_schema_field(HistoryEntrySerializer(many=True))
    def get_history(self, delivery) -> list:
        return HistoryEntrySerializer(self._page.history, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(DeliveryAction))))
    def get_actions(self, delivery) -> list[str]:
        return sorted(self.context["actions"])


# --- the outbox -----------------------------------------------------------------------------------


class DispatchFiguresSerializer(serializers.Serializer):
    delivered = serializers.IntegerField(help_text=_("已送达的单位数。"))
    signed = serializers.IntegerField(help_text=_("已签收的（其后办结、撤回的也算）。"))
    pending = serializers.IntegerField()
    completed = serializers.IntegerField()
    returned = serializers.IntegerField()
    recalled = serializers.IntegerField()
    recallable = serializers.IntegerField(help_text=_("整体撤回时仍会撤回的件数。"))
    forwards = serializers.IntegerField(source="forward_count", help_text=_("由此转发的次数。"))


class DispatchSerializer(serializers.ModelSerializer):
    """发文: one issue of a document to its recipients, and how far it has got."""

    document = DocumentSummarySerializer(read_only=True)
    figures = DispatchFiguresSerializer(source="*", read_only=True)
    recall = RecallSerializer(read_only=True, allow_null=True)
    is_routed = serializers.BooleanField(read_only=True, help_text=_("送达记录已全部生成。"))

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "document",
            "created_at",
            "queue",
            "recipient_count",
            "is_routed",
            "routed_at",
            "notified_at",
            "deadline_sign_for",
            "deadline_complete",
            "recall",
            "figures",
        ]
        read_only_fields = fields


class DispatchDeliverySerializer(serializers.ModelSerializer):
    """A recipient of a dispatch, as its issuer follows it."""

    unit = UnitRefSerializer(read_only=True)
    delivered_at = serializers.DateTimeField(source="created_at", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "unit",
            "role",
            "state",
            "delivered_at",
            "read_at",
            "signed_at",
            "completed_at",
            "returned_at",
            "deadline_sign_for",
            "deadline_complete",
            "is_overdue",
            "reminder_count",
        ]
        read_only_fields = fields


# --- chains ---------------------------------------------------------------------------------------


class ChainLevelSerializer(serializers.Serializer):
    """One level of a chain (1: the root's recipients; 2: the recipients of its forwards; …)."""

    depth = serializers.IntegerField()
    total = serializers.IntegerField(help_text=_("收到的单位数。"))
    signed = serializers.IntegerField()
    completed = serializers.IntegerField()
    stalled = serializers.SerializerMethodField(help_text=_("未签收的件数。"))
    overdue = serializers.IntegerField(help_text=_("签收已超时限的件数。"))
    late_signs = serializers.IntegerField(help_text=_("超时限后才签收的件数。"))
    completion_overdue = serializers.IntegerField(help_text=_("办结已超时限的件数。"))
    median_sign_seconds = serializers.SerializerMethodField()
    slowest_sign_seconds = serializers.SerializerMethodField()

    def get_stalled(self, level) -> int:
        return len(level.stalled)

    def get_median_sign_seconds(self, level) -> int | None:
        return int(level.median.total_seconds()) if level.median is not None else None

    def get_slowest_sign_seconds(self, level) -> int | None:
        return int(level.slowest.total_seconds()) if level.slowest is not None else None


class ChainSerializer(serializers.Serializer):
    """The forwarding tree as `manage.py chain --json` prints it, and its per-level figures."""

    chain = serializers.SerializerMethodField()
    levels = ChainLevelSerializer(many=True)

    @extend_schema_field(
        {
            "type": "object",
            "description": "manage.py chain --json: number, title, issuer, kind, urgency, page_count, date "
            "(成文日期, null when none), signature_organ (署名), main_recipients_text (主送), digest, encloses, "
            "deliveries (each with its forwards, nested the same way).",
            "additionalProperties": True,
        }
    )
    def get_chain(self, page) -> dict:
        return page.tree.as_json()


# --- notifications --------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "round", "text", "delivery_id", "created_at", "read_at"]
        read_only_fields = fields


class NotificationsReadSerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("只标记关于这份送达的通知；不填：全部标为已读。")
    )


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("这次标为已读的条数。"))
