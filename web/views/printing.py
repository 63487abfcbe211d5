"""PDF and OFD: a document in the official layout (GB/T 9704), as `manage.py render_document` prints it.

One URL per page family and format, each through that family's door: documents/<id>/pdf/ and
documents/<id>/ofd/ (access_document), deliveries/<id>/pdf/ and deliveries/<id>/ofd/
(access_delivery). The PDF is PDF/A-2b; the OFD (GB/T 33190) holds the same pages. A recalled
document's units get the stub (410), never the file; a document the cover encloses that the person
may no longer see is left out (web.selectors.document_pdf, document_ofd). Reading either writes
nothing: the page its button is on has already recorded the reading.

打印 needs no URL: the browser prints the page itself, and web/static/web/print.css leaves only
the official documents on the paper, in the same layout (documents/official.css).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from documents.models import Document
from documents.rendering import PrintedPdf
from web.selectors import document_ofd, document_pdf
from web.views.common import door
from workflow.access import access_delivery, access_document

# The media type OFD readers and the 电子公文 systems register for GB/T 33190 files.
OFD_CONTENT_TYPE = "application/ofd"


@login_required
@require_GET
@door
@reads_from_replica
def document_pdf_view(request, pk: int):
    document = access_document(request.user, pk)
    return _pdf(document_pdf(request.user, document), document)


@login_required
@require_GET
@door
@reads_from_replica
def delivery_pdf_view(request, pk: int):
    delivery = access_delivery(request.user, pk)
    return _pdf(document_pdf(request.user, delivery.document), delivery.document)


@login_required
@require_GET
@door
@reads_from_replica
def document_ofd_view(request, pk: int):
    document = access_document(request.user, pk)
    return _ofd(document_ofd(request.user, document), document)


@login_required
@require_GET
@door
@reads_from_replica
def delivery_ofd_view(request, pk: int):
    delivery = access_delivery(request.user, pk)
    return _ofd(document_ofd(request.user, delivery.document), delivery.document)


def _pdf(printed: PrintedPdf, document: Document) -> HttpResponse:
    return _download(printed.data, "application/pdf", printed_filename(document, "pdf"))


def _ofd(data: bytes, document: Document) -> HttpResponse:
    return _download(data, OFD_CONTENT_TYPE, printed_filename(document, "ofd"))


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def printed_filename(document: Document, extension: str) -> str:
    """The file is named by the document's number (内教工委函〔2022〕90号.pdf), as a clerk files it; a
    draft, which has no number until it is issued, by its id (草稿-12.pdf)."""
    if document.number:
        return f"{document.number}.{extension}"
    return f"{_('草稿')}-{document.pk}.{extension}"
