"""Printed lines (a PDF's or an OFD's, with their places, sizes and colours) to the text the parser
reads: one line for each element, paragraphs whole, blank lines between blocks.

A printed page wraps what the parser wants whole, and prints what it does not want at all; the
layout tells which is which, where the characters alone could not (GB/T 9704's layout, read back):

- colour: the red lines of the 版头 are the issuer mark (the mark is printed red, 7.2.4);
- size: consecutive lines larger than the body's are the title (2号 over a 3号 body), one line;
- width: a body line that runs to the right edge of the text goes on in the next line (the text is
  justified, a paragraph ends short), so the two are one paragraph, unless the next is indented;
- position: the page numbers under the text (— 1 —) are not text of the document; a line that
  stands alone at the right (署名, 成文日期) is a line of its own;
- pages: a paragraph may run on from one page to the next.

Lines come in reading order: top to bottom on each page, pages in order.
"""

import re
from dataclasses import dataclass
from statistics import median

# Characters of a line further apart than this many of their size are in different cells or columns
# (the telegram header's 等级 | 特提 | 编号 | number): the text puts a space between them.
GAP = 0.6
_PAGE_NUMBER = re.compile(r"^[-—－–]\s*\d{1,4}\s*[-—－–]$")


@dataclass(frozen=True)
class PrintedLine:
    """One printed line, in millimetres from its page's top-left corner."""

    page: int
    text: str
    left: float
    right: float
    top: float
    size: float  # points
    red: bool  # most of its characters are printed red


def _body_size(lines: list[PrintedLine]) -> float:
    """The size most characters are printed in: the body's."""
    sizes: dict[float, int] = {}
    for line in lines:
        sizes[round(line.size)] = sizes.get(round(line.size), 0) + len(line.text)
    return max(sizes, key=sizes.get) if sizes else 0.0


def _same_size(one: float, other: float) -> bool:
    """Sizes within a tenth of each other are one size: a scan measures each line's a little apart."""
    return abs(one - other) <= 0.1 * max(one, other)


def layout_text(lines: list[PrintedLine]) -> str:
    """The parser's text of a document printed in these lines."""
    lines = [line for line in lines if line.text.strip() and not _PAGE_NUMBER.match(line.text.strip())]
    if not lines:
        return ""
    body = _body_size(lines)
    body_lines = [line for line in lines if _same_size(line.size, body)]
    left = median(line.left for line in body_lines) if body_lines else min(line.left for line in lines)
    right = max(line.right for line in body_lines) if body_lines else max(line.right for line in lines)
    character = body * 25.4 / 72  # one character of body text, in mm
    blocks: list[str] = []
    previous: PrintedLine | None = None
    for line in lines:
        text = line.text.strip()
        if previous is not None and _continues(previous, line, body=body, left=left, right=right, em=character):
            blocks[-1] += text
        else:
            blocks.append(text)
        previous = line
    return "\n\n".join(blocks) + "\n"


def _continues(previous: PrintedLine, line: PrintedLine, *, body: float, left: float, right: float, em: float) -> bool:
    """Whether `line` goes on with what `previous` printed (the same title, the same paragraph)."""
    if previous.red or line.red:
        return previous.red and line.red and previous.page == line.page  # a mark wrapped over two lines
    if not _same_size(previous.size, line.size):
        return False
    if not _same_size(line.size, body) and line.size > body:  # the title's lines: larger, one after another
        return previous.page == line.page and line.top - previous.top < 2 * line.size * 25.4 / 72
    runs_to_the_edge = previous.right >= right - em and previous.left <= left + 2.5 * em
    indented = line.left > left + 1.5 * em
    return runs_to_the_edge and not indented
