"""Import official documents from text and .docx files: the elements of each document in the text,
the documents it encloses, and the findings of the conformance check.

    from documents.importing import import_bytes, parse_text
    parsed = parse_text(text)          # never raises
    parsed = import_bytes(data, name=path.name)   # raises InvalidInput for unreadable bytes only
    data = read_file(path)              # a file's bytes, refused (InvalidInput) past IMPORT_MAX_BYTES
    parsed.as_json()                    # the import_document --json shape

Nothing here writes to the database: registering what was parsed is workflow.services.registration.
"""

from documents.importing.conformance import check
from documents.importing.decoding import read_file, read_source
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
    """Read a file's bytes (UTF-8, GB18030 or .docx) and parse them. Raises InvalidInput naming the file."""
    return parse_text(read_source(data, name=name))
