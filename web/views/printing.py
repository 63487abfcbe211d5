"""PDF: a document in the official layout (GB/T 9704), as `manage.py render_document` prints it.

One URL per page family, each through that family's door: documents/<id>/pdf/ (access_document)
and deliveries/<id>/pdf/ (access_delivery). A recalled document's units get the stub (410), never
the PDF; a document the cover encloses that the person may no longer see is left out
(web.selectors.document_pdf). Reading the PDF writes nothing: the page its button is on has
already recorded the reading.

打印 needs no URL: the browser prints the page itself, and web/static/web/print.css leaves only
the official documents on the paper, in the same layout (documents/official.css).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from documents.models import Document
from documents.rendering import PrintedPdf
from web.selectors import document_pdf
from web.views.common import door
from workflow.access import access_delivery, access_document


@login_required
@require_GET
@door
def document_pdf_view(request, pk: int):
    document = access_document(request.user, pk)
    return _pdf(document_pdf(request.user, document), document)


@login_required
@require_GET
@door
def delivery_pdf_view(request, pk: int):
    delivery = access_delivery(request.user, pk)
    return _pdf(document_pdf(request.user, delivery.document), delivery.document)


def _pdf(printed: PrintedPdf, document: Document) -> HttpResponse:
    response = HttpResponse(printed.data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, pdf_filename(document))
    return response


def pdf_filename(document: Document) -> str:
    """The file is named by the document's number (内教工委函〔2022〕90号.pdf), as a clerk files it; a
    draft, which has no number until it is issued, by its id (草稿-12.pdf)."""
    if document.number:
        return f"{document.number}.pdf"
    return f"{_('草稿')}-{document.pk}.pdf"
