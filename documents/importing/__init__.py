"""Import official documents from text, .docx, PDF, OFD and scanned files: the elements of each document in the text,
the documents it encloses, and the findings of the conformance check.

    from documents.importing import import_bytes, parse_text
    parsed = parse_text(text)          # never raises
    parsed = import_bytes(data, name=path.name)   # raises InvalidInput for unreadable bytes only
    data = read_file(path)              # a file's bytes, refused (InvalidInput) past IMPORT_MAX_BYTES
    parsed.as_json()                    # the import_document --json shape

Nothing here writes to the database: registering what was parsed is workflow.services.registration.
"""

from django.utils.translation import gettext as _

from documents.importing.conformance import check
from documents.importing.decoding import read_document, read_file
from documents.importing.parser import nest, parse_documents
from documents.importing.result import Finding, ForwardedDocument, ParsedDocument

__all__ = ["Finding", "ForwardedDocument", "ParsedDocument", "import_bytes", "parse_text", "read_file"]


def parse_text(text: str) -> ParsedDocument:
    """The first document of the text with the documents it encloses, each checked. Never raises."""
    documents = parse_documents(text)
    if not documents:
        empty = ParsedDocument()
        empty.warn(1, "文件中没有找到任何文字")
        return empty
    root = nest(documents)
    for document in root.walk():
        check(document)
    return root


def import_bytes(data: bytes, *, name: str) -> ParsedDocument:
    """Read a file's bytes (text in UTF-8 or GB18030, .docx, PDF, OFD, a scan) and parse them. Raises
    InvalidInput naming the file. A scan's pages were read by OCR: a finding for each says how surely,
    for the clerk to check the reading against the paper."""
    text, scanned = read_document(data, name=name)
    document = parse_text(text)
    document.scanned_pages = [
        {"page": page.number, "confidence": round(page.confidence, 1), "text": page.text} for page in scanned
    ]
    for page in scanned:
        document.findings.append(
            Finding(
                None,
                _("第%(page)d页是扫描件，文字由 OCR 识别（平均置信度 %(confidence)d%%），请对照原件核对。")
                % {"page": page.number, "confidence": round(page.confidence)},
            )
        )
    return document
