"""A title broken into lines as GB/T 9704-2012 7.3.1 asks: between words, in a 梯形 or 菱形 shape.

    title_lines(title, source_breaks=None) -> list[str]

The title is set at 2号 (22 pt) across the type area (156 mm): LINE_WIDTH ideographs fit a line. It is
cut into words by jieba, with a user dictionary of 公文 terms and unit names (documents/data/
title_words.txt) so that 战斗堡垒 or 中共内蒙古自治区教育工作委员会 is one word. A line then ends only
between words, never before a closing mark (、，》）”) nor after an opening one, and not inside
《…》 while another way exists. Of the breaks into the fewest lines that keep the shape (each line no
shorter than the one above, or no longer, or longer up to a longest line and shorter after it: the
line lengths rise, then fall) and leave no line of one or two characters, the most even wins.

An imported title keeps the lines its source printed (source_breaks: where each new line starts)
when each of them fits a line.
"""

import logging
import unicodedata
from functools import cache
from itertools import pairwise
from pathlib import Path

TITLE_SIZE_PT = 22.0  # 2号
TITLE_LETTER_SPACING_PT = 0.0  # official.css: .title
_TYPE_AREA_WIDTH_PT = 156 / 25.4 * 72
# Ideographs of a line: 20 (a half-width letter or digit counts half).
LINE_WIDTH = int((_TYPE_AREA_WIDTH_PT + TITLE_LETTER_SPACING_PT) // (TITLE_SIZE_PT + TITLE_LETTER_SPACING_PT))
_SHORTEST_LINE = 3  # characters
_OPENING = set("《〈（(“‘「『【〔[")
_CLOSING = set("》〉）)”’」』】〕]、，。：；！？,.:;!?")
_WORDS = Path(__file__).resolve().parent / "data" / "title_words.txt"


@cache
def _tokenizer():
    import jieba  # here: its dictionary takes a second to load, and only titles need it

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(_WORDS))
    return tokenizer


def _width(text: str) -> float:
    """In ideographs: a full-width character is one, a half-width letter or digit half."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.5 for char in text)


def _pieces(title: str) -> tuple[list[str], set[int]]:
    """The title as pieces a line may end after, and the indexes of the breaks inside 《…》.

    A piece is a word with the marks that cling to it: a closing mark to the word before it, an
    opening mark to the word after it."""
    pieces: list[str] = []
    glue = False  # the next word joins the last piece (after an opening mark)
    for word in _tokenizer().cut(title):
        if pieces and (glue or set(word) <= _CLOSING):
            pieces[-1] += word
        else:
            pieces.append(word)
        glue = set(word) <= _OPENING
    inside = set()
    depth = 0
    for index, piece in enumerate(pieces[:-1]):
        depth += piece.count("《") - piece.count("》")
        if depth > 0:
            inside.add(index + 1)  # a break before piece index + 1
    return pieces, inside


def _is_shaped(widths: list[float]) -> bool:
    """梯形 or 菱形: the lengths rise (or stay), then fall (or stay); never fall and rise again."""
    falling = False
    for above, below in pairwise(widths):
        if below > above:
            if falling:
                return False
        elif below < above:
            falling = True
    return True


def _splits(pieces: list[str], count: int, allowed: set[int]):
    """Every way to cut the pieces into `count` lines that fit, at allowed breaks (piece indexes)."""

    def extend(start: int, left: int):
        if left == 1:
            line = "".join(pieces[start:])
            if _width(line) <= LINE_WIDTH:
                yield [line]
            return
        for end in range(start + 1, len(pieces) - left + 2):
            if end not in allowed:
                continue
            line = "".join(pieces[start:end])
            if _width(line) > LINE_WIDTH:
                break
            for rest in extend(end, left - 1):
                yield [line, *rest]

    yield from extend(0, count)


def _best(pieces: list[str], allowed: set[int], avoided: set[int], *, shaped: bool) -> list[str] | None:
    """The best break into the fewest lines that keeps the rules: the fewest breaks among `avoided`
    (inside 《…》), then the most even. None when there is none."""
    fewest = max(1, int(-(-_width("".join(pieces)) // LINE_WIDTH)))
    for count in range(fewest, fewest + 3):
        candidates = [
            lines
            for lines in _splits(pieces, count, allowed)
            if all(len(line) >= _SHORTEST_LINE for line in lines) or count == 1
            if not shaped or _is_shaped([_width(line) for line in lines])
        ]
        if candidates:
            return min(candidates, key=lambda lines: (_breaks_among(lines, pieces, avoided), _unevenness(lines)))
    return None


def _breaks_among(lines: list[str], pieces: list[str], avoided: set[int]) -> int:
    ends = {sum(len(line) for line in lines[: index + 1]) for index in range(len(lines) - 1)}
    starts = {sum(len(piece) for piece in pieces[:index]) for index in avoided}
    return len(ends & starts)


def _unevenness(lines: list[str]) -> tuple[float, list[float]]:
    """How far the lines are from even (the sum of squares); on a tie the longer lines first."""
    widths = [_width(line) for line in lines]
    mean = sum(widths) / len(widths)
    return sum((width - mean) ** 2 for width in widths), [-width for width in widths]


def _source_lines(title: str, source_breaks: list[int] | None) -> list[str] | None:
    if not source_breaks:
        return None
    edges = [0, *sorted(source_breaks), len(title)]
    lines = [title[start:end] for start, end in pairwise(edges)]
    if all(line and _width(line) <= LINE_WIDTH for line in lines):
        return lines
    return None


def title_lines(title: str, source_breaks: list[int] | None = None) -> list[str]:
    """The title's lines: the source's when each fits, else the best break between words."""
    if not title:
        return []
    if (lines := _source_lines(title, source_breaks)) is not None:
        return lines
    if _width(title) <= LINE_WIDTH:
        return [title]
    pieces, inside_brackets = _pieces(title)
    between_words = set(range(1, len(pieces)))
    characters = list(title)
    return (
        _best(pieces, between_words, inside_brackets, shaped=True)
        or _best(pieces, between_words, inside_brackets, shaped=False)
        # A word longer than a line (a unit's name of 21 characters): between characters.
        or _best(characters, set(range(1, len(characters))), set(), shaped=False)
        or [title]
    )
