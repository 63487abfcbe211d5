"""PDF/A-2b (归档): what the archive format asks that can be checked here without veraPDF (a Java
tool that no package source of this machine carries): the XMP identification, an output intent
with its ICC profile, every font embedded, no encryption, a file identifier, and the document
information agreeing with the XMP."""

import io
import re

from django.core.management import call_command
from pypdf import PdfReader

from documents.rendering import render_pdf
from tests.documents import test_rendering

seed_documents = test_rendering.seed_documents  # the seed registered as received: (cover, telegram)


def assert_pdfa_2b(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert reader.pdf_header == "%PDF-1.7"
    assert "/Encrypt" not in reader.trailer
    assert len(reader.trailer["/ID"]) == 2
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    (intent,) = [intent.get_object() for intent in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    assert profile.get_data()[36:40] == b"acsp"  # an ICC profile's signature
    info = reader.trailer["/Info"].get_object()
    title = re.search(r"<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">([^<]*)</rdf:li>", xmp)
    assert title.group(1) == info["/Title"]
    assert f'pdf:Producer="{info["/Producer"]}"' in xmp
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)[
                "/FontDescriptor"
            ].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]


def test_the_printed_pdf_is_pdfa_2b(seed_documents):
    cover, _telegram = seed_documents

    assert_pdfa_2b(render_pdf(cover))


def test_render_document_writes_pdfa_2b(seed_documents, tmp_path):
    call_command("render_document", "内教工委函[2022]90号", "--pdf", str(tmp_path / "out.pdf"), stdout=io.StringIO())

    assert_pdfa_2b((tmp_path / "out.pdf").read_bytes())
