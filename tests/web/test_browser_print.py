"""打印 in a real browser (Debian's Chromium): the paper carries the official documents alone.

jygw's delivery page (the department's telegram, signed for and forwarded) and the page of its
cover letter (内教工委函, a letter enclosing the telegram) are printed as the browser prints them:
print media, A4, the page's own @page rules (page.pdf with prefer_css_page_size). Measured from
the PDF that comes out, not from the HTML: the text on each page (pypdf), the red rules and the red
mark where pdftoppm paints them. The rules are as wide as the layout draws them (GB/T 9704: the
separator across the 156 mm type area, 28 mm from the left edge; a letter's double lines 170 mm)
and stand where render_document's PDF has them; no word of the nav bar, the 办理 sidebar, the
buttons or the history is on the paper; each document starts a page of its own and numbers its
pages from 1. Then a college's delivery of a forward of that forward prints its three documents.

Where the browser's print differs from render_document's PDF: the PDF lays out each
document alone, so each starts on an odd page; the printout is one run of pages, so a document
that starts on the back of a sheet has its first number at the left (the outer edge of that side).
A letter enclosed by another document keeps its letter pages but, not being the printout's first
page, neither its 30 mm top nor its bottom double line (Chromium has no :first for a named page).

The printed pages (rasterised), the downloaded PDFs and screenshots of both pages with their
buttons at 1280 and 390 px are saved under test-artifacts/print/.
"""

import functools
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from documents.rendering import render_pdf
from tests.factories import build_world, delivery_of, forward
from tests.web.conftest import issue_with_attachments
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _log_in

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "print"
A4_MM = (210, 297)
DPI = 200
MM_PER_PX = 25.4 / DPI
# What the page shows around the documents: none of it may reach the paper.
PAGE_WORDS = [
    "公文流转",  # the nav bar's brand
    "收文",
    "发文",
    "流转链",
    "jygw",
    "办理",
    "收文单位",
    "送达时间",
    "首次阅读",
    "签收时限",
    "回执",
    "签收人",
    "办理记录",
    "打印",
    "下载",
    "PDF",
    "转发通知",  # the part headings
    "所附公文",
    "附件1.txt",  # the attachment list
    "摘要",
    "SHA-256",
]


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        message = f"no browser at {CHROMIUM} (install Debian's chromium: `make system`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nprinted pages and screenshots: {ARTIFACTS}")
    return ARTIFACTS


# --- reading the PDF ------------------------------------------------------------------------------


@functools.cache
def _ideographs() -> dict[int, str]:
    """Chromium names some ideographs in a PDF's text by a radical that has the same glyph (⾃ for
    自, ⻅ for 见: the font maps both to one glyph): each such code point, mapped back to the
    ideograph, from the cmap of the fonts the layout uses."""
    from fontTools.ttLib import TTFont

    table: dict[int, str] = {}
    for family in ("FandolFang", "FandolSong", "FandolHei", "FandolKai", "Noto Serif CJK SC", "Noto Sans CJK SC"):
        found = subprocess.run(["fc-match", "-f", "%{file}|%{index}", family], capture_output=True, text=True).stdout
        path, index = found.split("|")
        cmap = TTFont(path, fontNumber=int(index), lazy=True).getBestCmap()
        ideograph_of: dict[str, str] = {}
        for code, glyph in cmap.items():
            if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
                ideograph_of.setdefault(glyph, chr(code))
        for code, glyph in cmap.items():
            if (0x2E80 <= code <= 0x2FDF or 0xF900 <= code <= 0xFAFF) and glyph in ideograph_of:
                table.setdefault(code, ideograph_of[glyph])
    return table


def _texts(pdf: bytes) -> list[str]:
    """Each page's text without white space or page numbers (— 1 —), its ideographs as written.

    Chromium writes a space of the Fandol faces as U+0001 (a glyph it maps to no character)."""
    pages = (page.extract_text().translate(_ideographs()) for page in PdfReader(io.BytesIO(pdf)).pages)
    return [re.sub(r"—\d+—", "", re.sub(r"[\s\x01]", "", text)) for text in pages]


def _page_numbers(pdf: bytes) -> list[tuple[str, str] | None]:
    """Each page's number (— 1 —) and the side of the page it stands on, None where it has none.

    The runs of text are put together into lines by their baseline: Chromium writes a run a glyph
    or a few, WeasyPrint a line."""
    numbers: list[tuple[str, str] | None] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        lines: dict[float, list[tuple[float, str]]] = {}

        def visit(text, cm, tm, font, size, lines=lines):
            if text.strip():
                x = (tm[4] * cm[0] + tm[5] * cm[2] + cm[4]) * 25.4 / 72
                y = (tm[4] * cm[1] + tm[5] * cm[3] + cm[5]) * 25.4 / 72
                lines.setdefault(round(y), []).append((x, text))

        page.extract_text(visitor_text=visit)
        found = []
        for runs in lines.values():
            text = re.sub(r"[\s\x01]", "", "".join(text for _x, text in sorted(runs)))
            if re.fullmatch(r"—\d+—", text):
                found.append((text, "right" if min(runs)[0] > A4_MM[0] / 2 else "left"))
        assert len(found) <= 1, found
        numbers.append(found[0] if found else None)
    return numbers


def _page_sizes_mm(pdf: bytes) -> set[tuple[float, float]]:
    return {
        (round(float(page.mediabox.width) * 25.4 / 72), round(float(page.mediabox.height) * 25.4 / 72))
        for page in PdfReader(io.BytesIO(pdf)).pages
    }


def _pixels(pdf: bytes, page: int) -> tuple[int, int, bytes]:
    """One page as RGB pixels (pdftoppm's PPM, read here: no imaging library needed)."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    return int(header[1]), int(header[2]), ppm[header.end() :]


@dataclass(frozen=True)
class Red:
    """Red ink on a page, in mm from the page's top left: the rules (rows red across 150 mm or
    more, top to bottom) and how far the red reaches above the first rule (the issuer mark)."""

    rules: list[tuple[float, float, float, float]]  # top, bottom, left, right
    mark: tuple[float, float, float, float] | None  # top, bottom, left, right


def _red(pdf: bytes, page: int) -> Red:
    width, height, pixels = _pixels(pdf, page)
    rules: list[list[int]] = []  # top, bottom, left, right in pixels
    mark: list[int] = []
    for y in range(height):
        row = pixels[3 * width * y : 3 * width * (y + 1)]
        red = [x for x, (r, g) in enumerate(zip(row[0::3], row[1::3], strict=True)) if r > 180 and g < 100]
        if not red:
            continue
        if len(red) * MM_PER_PX >= 150:
            if rules and rules[-1][1] == y - 1:
                rules[-1][1] = y
            else:
                rules.append([y, y, red[0], red[-1]])
        elif not rules:
            mark = [mark[0], y, min(mark[2], red[0]), max(mark[3], red[-1])] if mark else [y, y, red[0], red[-1]]
    return Red([_mm(box) for box in rules], _mm(mark) if mark else None)


def _mm(box: list[int]) -> tuple[float, float, float, float]:
    top, bottom, left, right = box
    return top * MM_PER_PX, (bottom + 1) * MM_PER_PX, left * MM_PER_PX, (right + 1) * MM_PER_PX


def _rasterise(pdf: bytes, stem: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-", str(stem)], input=pdf, check=True)
    return sorted(stem.parent.glob(f"{stem.name}-*.png"))


# --- the pages ------------------------------------------------------------------------------------


def _screenshots(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}-1280.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(size)


def _print(page, name: str) -> bytes:
    """The page as the browser prints it: print media, A4, the page's own @page rules."""
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    page.emulate_media(media="screen")
    (ARTIFACTS / f"{name}-printed.pdf").write_bytes(pdf)
    _rasterise(pdf, ARTIFACTS / f"{name}-printed")
    return pdf


def _press_print_and_download_pdf(page, name: str, number: str) -> bytes:
    """打印 calls window.print() (counted by an init script: headless Chromium prints nothing);
    下载 PDF downloads the server's PDF, named by the document's number."""
    assert page.evaluate("window.printed") == 0
    page.get_by_role("button", name="打印", exact=True).click()
    assert page.evaluate("window.printed") == 1
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    path = ARTIFACTS / f"{name}-download.pdf"
    download.value.save_as(path)
    _rasterise(path.read_bytes(), ARTIFACTS / f"{name}-download")
    return path.read_bytes()


def test_printing_the_delivery_and_document_pages_puts_only_the_documents_on_a4(browser, live_server, artifacts):
    world = build_world()
    telegram = issue_with_attachments(world)
    received = delivery_of(telegram, world.education)
    cover, _ = forward(world.jygw, received, main=[world.groups["各高校党委"]])

    page = _log_in(browser, live_server, "jygw")
    page.context.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")

    # The delivery page: the telegram alone.
    page.goto(f"{live_server.url}/deliveries/{received.pk}/")
    page.locator("#receipt").wait_for()
    _screenshots(page, "delivery")
    printed = _print(page, "delivery")
    downloaded = _press_print_and_download_pdf(page, "delivery", telegram.number)

    texts = _texts(printed)
    assert _page_sizes_mm(printed) == {A4_MM}
    assert len(texts) == 1
    assert texts[0].startswith(telegram.issuer_mark)
    assert telegram.number in texts[0]
    assert telegram.title in texts[0]
    _assert_no_page_words(texts)
    reference = render_pdf(telegram)
    assert _texts(downloaded) == _texts(reference)
    assert _page_numbers(printed) == _page_numbers(reference) == [("—1—", "right")]
    # The separator, 0.5 mm, across the type area (28 mm from the left edge, 156 mm wide).
    _assert_same_red_header(printed, 1, reference, 1, rules=[(28, 184)])
    assert _red(printed, 1).rules[0][1] - _red(printed, 1).rules[0][0] == pytest.approx(0.5, abs=0.1)

    # The cover letter's page: the letter, then the telegram it encloses from a new page.
    page.goto(f"{live_server.url}/documents/{cover.pk}/")
    _screenshots(page, "document")
    printed = _print(page, "document")
    downloaded = _press_print_and_download_pdf(page, "document", cover.number)

    texts = _texts(printed)
    assert _page_sizes_mm(printed) == {A4_MM}
    assert len(texts) == 2
    letter, enclosed = texts
    # the cover of a 特提 telegram goes out 特急 (a 通知 carries no 特提: documents.elements.Urgency.carried_by)
    assert letter.startswith(f"{world.education.name}特急{cover.number}")
    assert cover.title in letter
    assert telegram.issuer_mark not in letter
    assert enclosed.startswith(telegram.issuer_mark)
    assert telegram.title in enclosed
    _assert_no_page_words(texts)
    reference = render_pdf(cover)
    assert _texts(downloaded) == _texts(reference)
    # A letter's first page has no number; the telegram numbers its own pages from 1, at the outer
    # edge of the side of the sheet it falls on (the back of the letter's: the left).
    assert _page_numbers(printed) == [None, ("—1—", "left")]
    assert _page_numbers(reference) == [None, ("—1—", "right")]  # each document laid out alone
    # The letter's double lines (GB/T 9704 10.1): 170 mm, from 7 mm left of the type area, below
    # the mark and 20 mm above the bottom edge of the page.
    _assert_same_red_header(printed, 1, reference, 1, rules=[(21, 191)] * 4)
    _assert_same_red_header(printed, 2, reference, 2, rules=[(28, 184)])
    assert page.errors == [], page.errors
    page.context.close()

    # Three documents: the college's delivery of the university's forward (文件 format), which
    # encloses the education commission's letter, which encloses the telegram.
    to_college, _ = forward(world.imu, delivery_of(cover, world.university), main=[world.college])
    page = _log_in(browser, live_server, "college_clerk")
    page.goto(f"{live_server.url}/deliveries/{delivery_of(to_college, world.college).pk}/")
    printed = _print(page, "college")
    texts = _texts(printed)
    marks = [world.university.name, world.education.name, telegram.issuer_mark]
    # Each from a new page: the first mark on each page is the next document's.
    assert [min((mark for mark in marks if mark in text), key=text.index) for text in texts] == marks
    assert texts[0].startswith(f"特急{world.university.name}{to_college.number}")  # 文件 format
    assert texts[1].startswith(f"{world.education.name}特急{cover.number}")  # the enclosed letter
    _assert_no_page_words(texts)
    assert _page_numbers(printed)[0] == ("—1—", "right")
    assert _page_numbers(printed)[2] == ("—1—", "right")  # the telegram, the third document, from 1
    _assert_same_red_header(printed, 3, reference, 2, rules=[(28, 184)])
    assert page.errors == [], page.errors


def _assert_no_page_words(texts: list[str]) -> None:
    for word in PAGE_WORDS:
        assert word not in "".join(texts), word


def _assert_same_red_header(printed: bytes, page: int, reference: bytes, reference_page: int, *, rules) -> None:
    """The red rules of the printed page span the layout's width (left and right edge, to the mm)
    and stand where render_document's PDF has them, as thick; the red mark above them is as wide
    and as high as render_document's, at the same place."""
    got, want = _red(printed, page), _red(reference, reference_page)
    assert [(round(left), round(right)) for _top, _bottom, left, right in got.rules] == rules
    for (top, bottom, left, right), (want_top, want_bottom, want_left, want_right) in zip(
        got.rules, want.rules, strict=True
    ):
        assert left == pytest.approx(want_left, abs=0.3)
        assert right == pytest.approx(want_right, abs=0.3)
        assert top == pytest.approx(want_top, abs=0.5)
        assert bottom - top == pytest.approx(want_bottom - want_top, abs=0.1)
    assert got.mark is not None
    assert want.mark is not None
    top, bottom, left, right = got.mark
    want_top, want_bottom, want_left, want_right = want.mark
    assert right - left == pytest.approx(want_right - want_left, abs=0.5)
    assert bottom - top == pytest.approx(want_bottom - want_top, abs=0.5)
    assert left == pytest.approx(want_left, abs=0.5)
    # Chromium and Pango read the Fandol faces' vertical metrics apart by 0.05 em: a 27 pt mark
    # stands 0.5 mm higher in the browser's print.
    assert top == pytest.approx(want_top, abs=0.6)
