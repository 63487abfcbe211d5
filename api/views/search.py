"""全文检索 in the API: the same selector as the page (workflow.search.document_search)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.models import Scope
from api.serializers import DocumentSummarySerializer
from api.views.base import ApiView
from documents.models import Kind, Urgency
from workflow.search import MAX_PAGE_SIZE, PAGE_SIZE, SearchFilters, SearchState, document_search


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text=_("检索内容：多个词以空格分开，须全部出现。"))
    kind = serializers.ChoiceField(choices=Kind.choices, required=False, help_text=_("文种。"))
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, help_text=_("紧急程度。"))
    issuer = serializers.IntegerField(required=False, min_value=1, help_text=_("发文机关（单位编号）。"))
    date_from = serializers.DateField(required=False, help_text=_("印发（草稿为拟稿）日期自，北京时间。"))
    date_to = serializers.DateField(required=False, help_text=_("至（含当日）。"))
    state = serializers.ChoiceField(
        choices=[
            (SearchState.DRAFT, _("草稿")),
            (SearchState.ISSUED, _("已印发")),
            (SearchState.RECALLED, _("已撤回")),
        ],
        required=False,
    )
    cursor = serializers.CharField(required=False, max_length=200, help_text=_("上一页返回的 next_cursor。"))
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": _("起始日期晚于截止日期。")})
        return attrs


class SearchHitSerializer(serializers.Serializer):
    document = DocumentSummarySerializer()
    state = serializers.ChoiceField(choices=list(SearchState.ALL))
    heading_matched = serializers.BooleanField(help_text=_("标题、文号或发文机关命中（排在前面）。"))
    title_html = serializers.CharField(help_text=_("标题，已转义的 HTML，命中处以 <mark> 标出。"))
    snippet_html = serializers.CharField(help_text=_("正文摘录，已转义的 HTML，命中处以 <mark> 标出。"))


class SearchPageSerializer(serializers.Serializer):
    query = serializers.CharField()
    next_cursor = serializers.CharField(allow_null=True, help_text=_("下一页的游标；最后一页为 null。"))
    results = SearchHitSerializer(many=True, source="hits")


class DocumentSearch(ApiView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema(
        operation_id="search",
        summary=_("全文检索"),
        description=_(
            "在调用方有权查看的公文中检索标题、正文、发文字号、发文机关和附件名称；"
            "标题、文号或发文机关命中的在前，其余按日期由新到旧；游标翻页。"
        ),
        parameters=[SearchQuery],
        responses=SearchPageSerializer,
        tags=["search"],
    )
    def get(self, request):
        query = SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = SearchFilters(
            kind=data.get("kind", ""),
            urgency=data.get("urgency", ""),
            issuer_id=data.get("issuer"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            state=data.get("state", ""),
        )
        page = document_search(request.user, data["q"], filters, cursor=data.get("cursor"), limit=data["page_size"])
        return Response(SearchPageSerializer(page).data)
