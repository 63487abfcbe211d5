"""How the API's answers are shaped. Serializers shape data the doors and selectors have already
restricted; they never decide who may see or do what (workflow.access, workflow.services.rules)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from units.models import RecipientGroup, Unit

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
