"""The importer on real PDFs and real scans (tests/documents/corpus-pdf/, issue 12): each document's
fields were written down by hand from the page, and its source.json cites the file's GitHub blob.

A ratchet like test_import_corpus.py: the figures may rise, never fall. When a change reads more fields
right, raise the floors to the new figures (`python manage.py import_eval tests/documents/corpus-pdf`,
and for the scans `python -m tests.documents.scan_corpus` then `import_eval` on the folder it prints)
in the same commit.

The scan set is every real PDF's first page as a scanner gives it back (tests/documents/scan_corpus.py:
200 dpi grey, a small turn, light noise, JPEG in an image-only PDF), made at run time and cached in
/tmp, with the real scans as they are. OCR costs about 3 s a page: the set is four pages.
"""

import json
from pathlib import Path

import pytest

from documents.importing.evaluation import SCORED_FIELDS, corpus_documents, evaluate
from tests.documents.scan_corpus import scan_corpus

CORPUS = Path(__file__).parent / "corpus-pdf"
# Fields read right, of 3 each (two 函 with a text layer, one real scan).
FLOORS = {
    "issuer": 2,
    "number": 3,
    "title": 2,
    "main_recipients": 2,
    "cc": 3,
    "forwarded_titles": 3,
    "forwarded_numbers": 3,
    "date": 2,
    "signatory": 2,
    "attachments": 2,
}
WRONG_CEILING = 2
# The same three as scans. Far below the 90 % issue 12 asks: the two 函 are printed in traditional
# characters, which the chi_sim model reads as simplified ones (新竹县政府 for 新竹縣政府).
SCAN_FLOORS = {
    "issuer": 0,
    "number": 1,
    "title": 0,
    "main_recipients": 0,
    "cc": 1,
    "forwarded_titles": 3,
    "forwarded_numbers": 3,
    "date": 0,
    "signatory": 2,
    "attachments": 1,
}
SCAN_WRONG_CEILING = 5


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(CORPUS)


@pytest.fixture(scope="module")
def scan_evaluation():
    return evaluate(scan_corpus())


def test_the_corpus_holds_real_pdfs_and_scans_each_citing_its_file():
    documents = corpus_documents(CORPUS)
    assert len(documents) >= 3
    forms = set()
    for name, source, _expected in documents:
        cited = json.loads((source.parent / "source.json").read_text(encoding="utf-8"))
        assert cited["url"].startswith("https://github.com/"), name
        assert "/blob/" in cited["url"], name
        assert source.suffix.lower() in {".pdf", ".png", ".jpg", ".jpeg"}, name
        forms.add(cited["form"])
    assert forms == {"pdf", "scan"}


@pytest.mark.parametrize("field", SCORED_FIELDS)
def test_no_field_of_a_real_pdf_is_read_right_less_often_than_before(evaluation, field):
    assert evaluation.by_field()[field].right >= FLOORS[field]


def test_no_more_fields_of_real_pdfs_are_filled_wrong_than_before(evaluation):
    assert evaluation.overall().wrong <= WRONG_CEILING


@pytest.mark.parametrize("field", SCORED_FIELDS)
def test_no_field_of_a_scan_is_read_right_less_often_than_before(scan_evaluation, field):
    assert scan_evaluation.by_field()[field].right >= SCAN_FLOORS[field]


def test_no_more_fields_of_scans_are_filled_wrong_than_before(scan_evaluation):
    assert scan_evaluation.overall().wrong <= SCAN_WRONG_CEILING
