"""流转链: the forwarding tree below a document, for its issuer's people and its auditors."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.models import Scope
from api.serializers import ChainSerializer
from api.views.base import ApiView
from workflow.access import access_chain
from workflow.selectors import chain_for_document, chain_levels


class ChainPage:
    def __init__(self, tree, levels):
        self.tree, self.levels = tree, levels


class DocumentChain(ApiView):
    # The issuing unit's people read it (read); the auditors of its units audit it (audit).
    required_scopes = {"GET": (Scope.READ, Scope.AUDIT)}

    @extend_schema(
        operation_id="documents_chain",
        summary=_("流转链"),
        description=_(
            "公文的转发树，与 manage.py chain --json 的输出相同，另附每一层的件数（收到、签收、办结、未签收、逾期）"
            "和签收用时。发文单位的人及审计范围包含它的审计可见。"
        ),
        responses=ChainSerializer,
        tags=["chains"],
    )
    def get(self, request, pk: int):
        document = access_chain(request.user, pk)
        tree = chain_for_document(document)
        return Response(ChainSerializer(ChainPage(tree, chain_levels(tree, now=timezone.now()))).data)
