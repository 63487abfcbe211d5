"""The text of a scan (a PDF of page images, or a PNG/JPEG/TIFF image) by OCR, read with its layout.

Tesseract with its Simplified Chinese model (Debian's tesseract-ocr-chi-sim) runs offline on this
machine, a page at a time, as a child process with a time limit. Its TSV output places each word;
the words of a line become a PrintedLine (documents.importing.layout) whose size comes from the
height of its characters and whose colour from the page's pixels under it (the red mark). Pages are
read in the green channel, in which red type is as dark as black type (red #e60012 has no green), so
that the mark is read as well as the body.

What a scan gives is a reading, not the document: each page's mean word confidence goes with the
text, and the importer adds a finding per page saying so, for the clerk to check against the paper.

Bounds: at most IMPORT_MAX_PAGES pages and IMPORT_MAX_PIXELS pixels a page (an image or a PDF page at
the OCR resolution), and IMPORT_OCR_SECONDS of OCR for the whole file; past any of them the file is
refused by name.
"""

import io
import itertools
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageSequence, UnidentifiedImageError

from documents.importing.layout import PrintedLine, layout_text
from units.errors import InvalidInput

DPI = 200
MM_PER_PIXEL = 25.4 / DPI
# A Chinese character's ink fills about 0.88 of its em: a line's height in ink is its size.
INK_PER_EM = 0.88
# Tesseract cuts a line of Chinese into "words" wherever justification widened the gaps: only a gap
# wider than a character and a half parts cells or columns (the telegram header's).
_WORD_GAP = 1.5
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


@dataclass(frozen=True)
class ScannedPage:
    number: int
    confidence: float  # the mean of Tesseract's word confidences, 0 to 100
    text: str


@dataclass(frozen=True)
class Scan:
    text: str  # the parser's text (layout_text)
    pages: list[ScannedPage]


def is_image(data: bytes) -> bool:
    return data.startswith(IMAGE_MAGIC)


def scan_images(data: bytes, *, name: str) -> Scan:
    """OCR of an image file (every frame of a TIFF is a page)."""
    Image.MAX_IMAGE_PIXELS = settings.IMPORT_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = ImageSequence.Iterator(image)
            pages = []
            for number, frame in enumerate(frames, 1):
                _check_pages(number, name)
                _check_pixels(frame.size, name)
                pages.append(frame.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise InvalidInput(
            _("文件“%(name)s”不是可读的图像（%(reason)s）。") % {"name": name, "reason": type(error).__name__}
        ) from None
    return _read(pages, name=name)


def scan_pdf(document, *, name: str) -> Scan:
    """OCR of a PDF's pages (a pypdfium2 document), each drawn at the OCR resolution."""
    pages = []
    for number, page in enumerate(document, 1):
        _check_pages(number, name)
        width, height = (round(side / 72 * DPI) for side in page.get_size())
        _check_pixels((width, height), name)
        pages.append(page.render(scale=DPI / 72).to_pil().convert("RGB"))
    return _read(pages, name=name)


def _check_pages(number: int, name: str) -> None:
    if number > settings.IMPORT_MAX_PAGES:
        raise InvalidInput(
            _("文件“%(name)s”超过 %(limit)d 页的导入上限。") % {"name": name, "limit": settings.IMPORT_MAX_PAGES}
        )


def _check_pixels(size: tuple[int, int], name: str) -> None:
    if size[0] * size[1] > settings.IMPORT_MAX_PIXELS:
        raise InvalidInput(
            _("文件“%(name)s”的页面有 %(pixels)d 像素，超过导入上限 %(limit)d 像素。")
            % {"name": name, "pixels": size[0] * size[1], "limit": settings.IMPORT_MAX_PIXELS}
        )


def _read(images: list[Image.Image], *, name: str) -> Scan:
    deadline = time.monotonic() + settings.IMPORT_OCR_SECONDS
    lines: list[PrintedLine] = []
    pages: list[ScannedPage] = []
    for number, image in enumerate(images, 1):
        page_lines, confidence = _ocr(image, number, deadline=deadline, name=name)
        lines += page_lines
        pages.append(ScannedPage(number, confidence, "\n".join(line.text for line in page_lines)))
    return Scan(layout_text(lines), pages)


def _ocr(image: Image.Image, number: int, *, deadline: float, name: str) -> tuple[list[PrintedLine], float]:
    left_seconds = deadline - time.monotonic()
    png = io.BytesIO()
    image.getchannel("G").save(png, format="PNG")
    try:
        if left_seconds <= 0:
            raise subprocess.TimeoutExpired("tesseract", settings.IMPORT_OCR_SECONDS)
        tesseract = shutil.which("tesseract")
        if tesseract is None:
            raise OSError("tesseract")
        result = subprocess.run(  # noqa: S603 - our arguments only; the page comes on stdin
            [tesseract, "-", "-", "-l", "chi_sim", "--psm", "4", "--dpi", str(DPI), "tsv"],
            input=png.getvalue(),
            capture_output=True,
            timeout=left_seconds,
            check=True,
        )
    except subprocess.TimeoutExpired:
        raise InvalidInput(
            _("文件“%(name)s”的文字识别超过 %(seconds)d 秒的上限，未导入。")
            % {"name": name, "seconds": settings.IMPORT_OCR_SECONDS}
        ) from None
    except (OSError, subprocess.CalledProcessError) as error:
        raise InvalidInput(
            _("文件“%(name)s”无法进行文字识别（%(reason)s）：请确认已安装 tesseract-ocr-chi-sim。")
            % {"name": name, "reason": type(error).__name__}
        ) from None
    return _lines(result.stdout.decode("utf-8", "replace"), image, number)


# Tesseract's Chinese model answers ASCII punctuation for the full-width marks of Chinese text (and
# 0 and O for 〇 in dates): between Chinese characters they are the full-width ones.
_HALF_TO_FULL = str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；", "?": "？", "!": "！"})


# …and any of [ ] 〔 〕 for the brackets of a number's year: 〔2022]: the year's brackets are 〔〕.
_YEAR_BRACKETS = re.compile(r"[\[［〔【(（]\s*(\d{4})\s*[\]］〕】)）](?=\s*\d{1,5}\s*号)")


def _full_width(text: str) -> str:
    """ASCII punctuation next to a Chinese character made full-width (（工）委, 党委：); a number's
    year between 〔〕."""
    text = _YEAR_BRACKETS.sub(r"〔\1〕", text)
    out = []
    for index, character in enumerate(text):
        neighbours = text[max(0, index - 1) : index] + text[index + 1 : index + 2]
        chinese = any("\u4e00" <= neighbour <= "\u9fff" for neighbour in neighbours)
        out.append(character.translate(_HALF_TO_FULL) if chinese else character)
    return "".join(out)


def _lines(tsv: str, image: Image.Image, number: int) -> tuple[list[PrintedLine], float]:
    """Tesseract's words, by its (block, paragraph, line), as printed lines; and the mean confidence."""
    rows: dict[tuple[str, str, str], list[tuple[int, int, int, int, str]]] = {}
    confidences = []
    for record in tsv.splitlines()[1:]:
        fields = record.split("\t")
        if len(fields) != 12 or fields[0] != "5" or not fields[11].strip():
            continue
        left, top, width, height = (int(value) for value in fields[6:10])
        rows.setdefault((fields[2], fields[3], fields[4]), []).append((left, top, width, height, fields[11].strip()))
        confidences.append(float(fields[10]))
    lines = []
    for words in rows.values():
        words.sort()
        text = words[0][4]
        for before, word in itertools.pairwise(words):
            gap = word[0] - (before[0] + before[2])
            text += (" " if gap > _WORD_GAP * max(word[3], before[3]) else "") + word[4]
        left = min(word[0] for word in words)
        right = max(word[0] + word[2] for word in words)
        top = min(word[1] for word in words)
        bottom = max(word[1] + word[3] for word in words)
        heights = sorted(word[3] for word in words)
        size = heights[len(heights) // 2] * MM_PER_PIXEL / INK_PER_EM * 72 / 25.4
        lines.append(
            PrintedLine(
                page=number,
                text=_full_width(text),
                left=left * MM_PER_PIXEL,
                right=right * MM_PER_PIXEL,
                top=top * MM_PER_PIXEL,
                size=size,
                red=_is_red(image.crop((left, top, right, bottom))),
            )
        )
    lines.sort(key=lambda line: (line.top, line.left))
    return lines, (sum(confidences) / len(confidences) if confidences else 0.0)


def _is_red(area: Image.Image) -> bool:
    """Most of the ink in the area is red (the mark), not black."""
    pixels = area.tobytes()
    red = ink = 0
    for r, g, b in zip(pixels[0::3], pixels[1::3], pixels[2::3], strict=True):
        if g < 128:
            ink += 1
            red += r > 150 and b < 128
    return ink > 0 and red * 2 > ink
