"""Every page of the specimens (tests/documents/specimens.py), rasterised, against a reviewed picture
kept in tests/documents/references/.

A layout that changes on purpose changes its pictures: `make references` writes them again, and the
change is looked at (git shows the PNGs side by side) before it is committed. A failure writes what
was printed and where it differs to var/reference-pictures/, to be looked at.
"""

import datetime
import io
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from documents.rendering import render_pdf
from tests.documents import specimens

REFERENCES = Path(__file__).parent / "references"
FAILURES = Path(__file__).resolve().parents[2] / "var" / "reference-pictures"
DPI = 50  # an A4 page is 413 × 585 pixels: a character of 3号 type is 11 pixels tall
# A pixel differs when its grey differs by more than GREY_STEP. The same layout prints the same
# pixels (0 differ); one character changed (13日 → 14日) makes about 20 differ, so a handful is
# allowed for rasteriser noise and no more.
GREY_STEP = 48
PIXELS_ALLOWED = 8


def _pages(pdf: bytes) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-", f"{folder}/page"], input=pdf, check=True)
        return [Image.open(io.BytesIO(path.read_bytes())) for path in sorted(Path(folder).glob("page-*.png"))]


def _differing_pixels(printed: Image.Image, reference: Image.Image) -> tuple[int, Image.Image]:
    difference = ImageChops.difference(printed.convert("L"), reference.convert("L"))
    marked = difference.point(lambda grey: 255 if grey > GREY_STEP else 0)
    return marked.histogram()[255], marked


@pytest.mark.parametrize("name", specimens.NAMES)
def test_every_page_looks_as_reviewed(name, world):
    document = specimens.documents(name, world)[name]
    pages = _pages(render_pdf(document, enclosures=[]))
    if os.environ.get("UPDATE_REFERENCES") == "1":
        for old in REFERENCES.glob(f"{name}-*.png"):
            old.unlink()
        REFERENCES.mkdir(exist_ok=True)
        for number, page in enumerate(pages, 1):
            page.save(REFERENCES / f"{name}-{number}.png", optimize=True)
        pytest.skip("references written: look at them before committing")
    references = sorted(REFERENCES.glob(f"{name}-*.png"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
    assert len(pages) == len(references), f"{name}: {len(pages)} pages printed, {len(references)} reviewed"
    for number, (page, reference_path) in enumerate(zip(pages, references, strict=True), 1):
        reference = Image.open(reference_path)
        assert page.size == reference.size
        differing, marked = _differing_pixels(page, reference)
        if differing > PIXELS_ALLOWED:
            FAILURES.mkdir(parents=True, exist_ok=True)
            page.save(FAILURES / f"{name}-{number}.printed.png")
            marked.save(FAILURES / f"{name}-{number}.differs.png")
        assert differing <= PIXELS_ALLOWED, (
            f"{name} page {number}: {differing} pixels differ from {reference_path.name} "
            f"(see {FAILURES}); if the change is meant, run `make references` and look at the pictures"
        )


def test_one_character_changed_is_caught(world):
    """The comparison is not blind: the 函 dated a day later (13日 → 14日) differs from its picture."""
    reference = Image.open(REFERENCES / "letter-1.png")
    document = specimens.letter(world)
    document.written_on = datetime.date(2022, 10, 14)
    (page,) = _pages(render_pdf(document, enclosures=[]))
    differing, _marked = _differing_pixels(page, reference)
    assert differing > PIXELS_ALLOWED
