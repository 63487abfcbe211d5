"""Scans: a PDF of page images and an image file, read by OCR (Tesseract, chi_sim) with their layout;
each page's reading and its confidence go with the registration; every limit refuses by name.

The scans are our own pages drawn at 200 dpi with no text layer, as a scanner makes them."""

import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from documents.importing import import_bytes
from documents.importing.evaluation import score
from documents.models import ImportedSource
from documents.rendering import render_pdf
from tests.documents import specimens
from tests.documents.test_import_pdf_ofd import EXPECTED
from units.errors import InvalidInput
from workflow import services


def _pages(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-", f"{folder}/page"], input=pdf, check=True)
        return [Image.open(path).convert("RGB") for path in sorted(Path(folder).glob("page-*.png"))]


def _scanned_pdf(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=200)
    return out.getvalue()


def _png(page: Image.Image) -> bytes:
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def telegram_scan(world) -> bytes:
    telegram = specimens.documents("cover", world)["telegram"]
    return _scanned_pdf(_pages(render_pdf(telegram, enclosures=[])))


def test_a_scanned_pdf_is_read_by_ocr_with_a_finding_for_each_page(telegram_scan):
    parsed = import_bytes(telegram_scan, name="电报.pdf").as_json()

    verdicts = {item.field: item.verdict for item in score("telegram", EXPECTED["telegram"], parsed)}
    # The number, the mark, the 主送, the 署名 and the date are read right; the title's 2号 bold lines
    # are where this model errs (堡垒 read as 像艰): the finding tells the clerk to check.
    assert {field: verdict for field, verdict in verdicts.items() if field != "title"} == dict.fromkeys(
        [field for field in verdicts if field != "title"], "right"
    )
    pages = [warning for warning in parsed["warnings"] if "扫描件" in warning]
    assert [warning.split("（")[0] for warning in pages] == [f"第{n}页是扫描件，文字由 OCR 识别" for n in (1, 2, 3, 4)]
    assert all(warning.endswith("%），请对照原件核对。") for warning in pages)


def test_the_reading_and_its_confidence_are_kept_with_the_registration(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    notice = specimens.notice(world)
    scan = _scanned_pdf(_pages(render_pdf(notice, enclosures=[])))

    registration = services.document_register_received(
        actor=None,
        unit=world.education,
        parsed=import_bytes(scan, name="通知.pdf"),
        source=services.SourceFile.of("通知.pdf", scan),
    )

    (document,) = registration.created
    source = ImportedSource.objects.get(document=document)
    assert (document.number, source.file_name) == ("内组字〔2022〕35号", "通知.pdf")
    assert "内组字〔2022〕35号" in source.text.replace(" ", "")
    assert [warning["message"].split("（")[0] for warning in source.warnings if "扫描件" in warning["message"]] == [
        f"第{n}页是扫描件，文字由 OCR 识别" for n in (1, 2)
    ]
    # Each page's reading and confidence, and the scan itself as it arrived.
    assert [page["page"] for page in source.scanned_pages] == [1, 2]
    assert all(50 < page["confidence"] <= 100 for page in source.scanned_pages)
    assert "内组字〔2022〕35号" in source.scanned_pages[0]["text"].replace(" ", "")
    assert (source.content_type, source.size) == ("application/pdf", len(scan))
    with source.original.open("rb") as kept:
        assert kept.read() == scan


def test_an_image_file_is_read_by_ocr(world):
    notice = specimens.notice(world)
    page = _pages(render_pdf(notice, enclosures=[]))[0]

    parsed = import_bytes(_png(page), name="通知.png").as_json()

    assert (parsed["number"], parsed["issuer"], parsed["date"]) == (
        "内组字〔2022〕35号",
        "中共内蒙古自治区委员会组织部",
        None,
    )
    assert parsed["warnings"][0].startswith("第1页是扫描件，文字由 OCR 识别（平均置信度 ")


def test_limits_refuse_a_scan_by_name(world, settings):
    page = Image.new("RGB", (400, 300), "white")
    settings.IMPORT_MAX_PIXELS = 100_000
    with pytest.raises(InvalidInput, match="文件“大图.png”的页面有 120000 像素，超过导入上限 100000 像素。"):
        import_bytes(_png(page), name="大图.png")

    settings.IMPORT_MAX_PIXELS = 40_000_000
    settings.IMPORT_OCR_SECONDS = 0
    with pytest.raises(InvalidInput, match="文件“慢.png”的文字识别超过 0 秒的上限，未导入。"):
        import_bytes(_png(page), name="慢.png")

    settings.IMPORT_MAX_PAGES = 1
    with pytest.raises(InvalidInput, match="文件“两页.pdf”有 2 页，超过导入上限 1 页。"):
        import_bytes(_scanned_pdf([page, page]), name="两页.pdf")


def test_a_damaged_image_is_refused_by_name():
    with pytest.raises(InvalidInput, match="文件“坏图.png”不是可读的图像"):
        import_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="坏图.png")
