"""Template tags of the official layout (documents/official_layout.html)."""

from django import template

from documents import rendering
from documents.models import Document

register = template.Library()


@register.simple_tag
def printed_document(document: Document) -> rendering.PrintedDocument:
    """{% printed_document document as doc %}: what the layout shows of one document."""
    return rendering.printed(document)


@register.simple_tag
def enclosures_of(document: Document) -> list[Document]:
    """{% enclosures_of document as enclosures %}: what follows the document in print."""
    return rendering.enclosed_documents(document)
