"""From raw text to clean lines: normalised characters, page furniture and site navigation taken out,
lines that hold several elements glued together split apart. Each line keeps its source line number.
"""

import re
import unicodedata
from typing import NamedTuple

from documents.importing import patterns


class Line(NamedTuple):
    number: int  # in the source file, 1-based
    text: str


# Characters that carry nothing but break matching: zero-width marks, BOMs, soft hyphens.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Full-width digits and letters read as their ASCII forms (２０２２年 is 2022年); punctuation such as
# （）：〔〕 is left alone, because it is part of what the conformance check looks at.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)} | {
    code: code - 0xFEE0 for code in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


# Web pages list documents with a bullet before each line (•中共中央、国务院关于…); a 公文 never opens a
# line with one.
_BULLET = re.compile(r"^[•●◆■▪◇○·]\s*")


def source_lines(text: str) -> list[Line]:
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_FULL_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [
        Line(index, _BULLET.sub("", _SPACES.sub(" ", _CONTROL.sub(" ", raw)).strip()))
        for index, raw in enumerate(text.split("\n"), 1)
    ]


# --- Page furniture and site navigation ------------------------------------------------------------
# Whole lines that are never part of a document: page numbers, 「(此页无正文)」, and what a web page
# puts around the text it publishes.
_FURNITURE = re.compile(
    "|".join(
        [
            r"[-—–－─]{1,2}\s{0,2}\d{1,4}\s{0,2}[-—–－─]{1,2}",  # - 4 -   — 1 —
            r"第\s{0,2}\d{1,4}\s{0,2}页(?:\s{0,2}[,，/、]?\s{0,2}共\s{0,2}\d{1,4}\s{0,2}页)?",
            r"\d{1,4}\s{0,2}/\s{0,2}\d{1,4}",
            r"[（(]\s{0,2}此\s?页\s?无\s?正\s?文\s{0,2}[）)]",
            r"(?:首页|当前位置|您的位置|您现在的位置|所在位置)\s{0,2}[:：>＞»].*",
            r"(?:发布时间|发布日期|发文日期|更新时间|来源|信息来源|浏览次数|阅读次数|点击数|访问量|责任编辑|编辑)\s{0,2}[:：].*",
            r"(?:上一篇|下一篇|上一条|下一条)\s{0,2}[:：].*",
            r".*(?:版权所有|Copyright|©|ICP备|网站标识码|公网安备|技术支持\s{0,2}[:：]).*",
            r"(?:主办单位|承办单位|网站地图|联系我们|设为首页|加入收藏|无障碍).*",
            r"[【\[]?\s{0,2}(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|分享到|字体|字号)\s{0,2}[】\]]?.{0,40}",
            r"(?:扫一扫|分享到|【\s{0,2}字[体号]).*",
        ]
    )
)
# 「蒙古文：…」: how the seed shows the Mongolian line of a bilingual issuer mark.
_MONGOLIAN_LABEL = re.compile(r"^蒙古文\s{0,2}[:：]\s{0,2}(?P<mark>.*)$")
_MONGOLIAN_SCRIPT = re.compile(r"^[\u1800-\u18af\u202f\s]+$")


def is_furniture(text: str) -> bool:
    return bool(_FURNITURE.fullmatch(text))


def mongolian_mark(text: str) -> str | None:
    """The mark a 「蒙古文：…」 line or a line of Mongolian script gives, else None."""
    label = _MONGOLIAN_LABEL.match(text)
    if label:
        return label["mark"].strip()
    if _MONGOLIAN_SCRIPT.match(text) and text.strip():
        return text.strip()
    return None


# --- Splitting glued lines -------------------------------------------------------------------------
# Texts copied from web pages or PDFs arrive with several elements on one line: the whole document
# as one long line, or a number glued to the title after it. These are the places where a line can
# be cut: the first set in any line (they never occur inside a sentence), the second only in a long
# line (where a sentence never runs on into the next element).
_ALWAYS_CUT = [
    (re.compile(r"[（(]\s?此\s?页\s?无\s?正\s?文\s?[）)]"), "\n\\g<0>\n"),
    (re.compile(r"(?:^|(?<=\s))[-—–]{1,2}\s?\d{1,4}\s?[-—–]{1,2}(?=\s|$)"), "\n\\g<0>\n"),
    (re.compile(r"(?=蒙古文\s?[:：])"), "\n"),
]
_LONG_CUT = [
    (re.compile(r"\s(?=发\s?往(?:\s?地\s?址)?\s)"), "\n"),
    (re.compile(r"\s(?=签\s?批(?:\s?盖\s?章)?\s)"), "\n"),
    (re.compile(r"\s(?=等\s?级\s)"), "\n"),
    (re.compile(r"(?<!第)(共\s?\d{1,4}\s?页)\s"), "\\1\n"),
    (re.compile(r"\s(?=抄\s?送\s?[:：])"), "\n"),
    # Flattened text glues the 成文日期 to what follows it: …二○○五年十一月二十一日 附: …, …日（此件公开发布）.
    (re.compile(rf"({patterns.DATE.pattern})\s?(?=附\s?件?\s?[:：]|[（(]\s?此\s?件)"), "\\1\n"),
    (re.compile(r"\s(?=附\s?件\s?[:：])"), "\n"),
    # A web page's 附件说明 is a link: the file's name ends at its extension (…名单的通知.pdf 中华人民共和国教育部).
    (re.compile(r"(?i)(\.(?:pdf|docx?|xlsx?|wps|ofd|zip|rar))\s"), "\\1\n"),
    (re.compile(r"([。！？；])\s"), "\\1\n"),
    (re.compile(r"([：:])\s"), "\\1\n"),
    (re.compile(r"\s(?=[一二三四五六七八九十]{1,3}、)"), "\n"),
    # A heading glued to its paragraph by a space: the heading ends at the space.
    (re.compile(r"(?m)^([一二三四五六七八九十]{1,3}、[^\s。；]{1,60})\s"), "\\1\n"),
]
# When the whole text is one line, even a sentence end is a line end: the paragraphs are lost
# anyway, and with no space at all the elements can only be told apart at their punctuation.
_SINGLE_LINE_CUT = [
    (re.compile(r"(?=发\s?往\s?地\s?址)|(?=签\s?批\s?盖\s?章)|(?=等\s?级\s?(?:特|加|平))"), "\n"),
    (re.compile(r"(?<!第)(共\s?\d{1,4}\s?页)"), "\\1\n"),
    (re.compile(r"([。！？；])"), "\\1\n"),
    (re.compile(r"(?<!蒙古文)([：:])(?=\S)"), "\\1\n"),
]
_LONG = 120
_SINGLE_LINE = _LONG


def split_glued(lines: list[Line]) -> list[Line]:
    """Cut lines that hold several elements into one line per element, keeping line numbers."""
    texts = [line.text for line in lines if line.text]
    single_line = len(texts) <= 2 and max((len(text) for text in texts), default=0) > _SINGLE_LINE
    result: list[Line] = []
    for line in lines:
        pieces = _cut(line.text, single_line=single_line)
        result.extend(Line(line.number, piece) for piece in pieces) if pieces else result.append(line)
    return result


def _cut(text: str, *, single_line: bool = False) -> list[str]:
    long = len(text) > _LONG
    for pattern, replacement in _ALWAYS_CUT:
        text = pattern.sub(replacement, text)
    pieces = _cut_mongolian([piece.strip() for piece in text.split("\n")])
    pieces = [piece for part in pieces for piece in _cut_numbers(part, long=long)]
    if long:
        text = "\n".join(pieces)
        for pattern, replacement in [*_LONG_CUT, *(_SINGLE_LINE_CUT if single_line else [])]:
            text = pattern.sub(replacement, text)
        pieces = [piece for part in text.split("\n") for piece in _cut_recipients(part)]
    return [piece.strip() for piece in pieces if piece.strip()]


def _cut_mongolian(pieces: list[str]) -> list[str]:
    """Where the text of a 「蒙古文：」 label ends when more follows on its line.

    The seed writes the Mongolian line as 「蒙古文：」 and the Chinese mark again: when the label's text
    starts with the mark just above it, it ends there; otherwise at the first space.
    """
    result: list[str] = []
    for piece in pieces:
        label = _MONGOLIAN_LABEL.match(piece)
        if label is None:
            result.append(piece)
            continue
        mark, start = label["mark"], label.start("mark")
        above = result[-1] if result else ""
        if above and mark.startswith(above) and len(mark) > len(above):
            end = start + len(above)
        elif " " in mark:
            end = start + mark.index(" ")
        else:
            end = len(piece)
        result.extend([piece[:end], piece[end:]])
    return [piece.strip() for piece in result if piece.strip()]


def _cut_numbers(text: str, *, long: bool) -> list[str]:
    """Header numbers on lines of their own: 「…内教工委函〔2022〕90号关于…」 → before, number, after.

    A number counts when it starts the line (after urgency words, or glued to an issuer mark) or,
    in a long line, follows a space: a number cited in a sentence sits after 《》（ and stays put.
    """
    pieces: list[str] = []
    while text:
        match = patterns.NUMBER.search(text)
        if match is None:
            break
        number = patterns.read_number(match)
        head, tail = text[: number.start].strip(), text[number.end :].strip()
        spaced = number.start > 0 and text[number.start - 1].isspace()
        if head and not (number.before or _is_header_words(head) or (long and spaced)):
            break
        signer = patterns.SIGNER.match(tail)
        if signer:  # 「内教工委发〔2022〕5号 签发人：张三」 keeps the signer on the number's line
            pieces.extend(
                piece for piece in (head, f"{text[number.start : number.end].strip()} {signer.group(0)}") if piece
            )
            text = tail[signer.end() :].strip()
            continue
        pieces.extend(piece for piece in (head, text[number.start : number.end].strip()) if piece)
        text = tail
    if text:
        pieces.append(text)
    return pieces


def _is_header_words(text: str) -> bool:
    """What may stand before a number on its line: 等级 特提, 特急, 编号, a classification."""
    return bool(
        re.fullmatch(
            r"(?:等\s?级|紧急程度)?\s?[:：]?\s?(?:特\s?提|特\s?急|加\s?急|平\s?急)?\s?(?:编\s?号\s?[:：]?)?", text
        )
        or patterns.CLASSIFICATION.search(text)
    )


def _cut_recipients(text: str) -> list[str]:
    """「…的通知 各高等学校党委：」 in a long line: the 主送 runs from the last space before the colon,
    or, with no space at all, from the 文种 that ends the title (…的通知各高等学校党委：)."""
    glued = _TITLE_THEN_RECIPIENTS.match(text)
    if glued is not None:
        return [glued["title"], glued["names"]]
    match = re.search(r"(?:^|\s)(?P<names>[^\s：:。，]{2,40}(?:[、，]\s?[^\s：:。，]{2,40}){0,30}[：:])$", text)
    if match is not None and match.start("names") > 0:
        return [text[: match.start("names")], match["names"]]
    return [text]


_TITLE_THEN_RECIPIENTS = re.compile(
    r"^(?P<title>[^。：:]{4,300}?(?:通知|通报|意见|决定|报告|请示|批复|函|纪要|公告|通告))\s?(?P<names>各[^。，：:\s]{1,80}(?:[、，]\s?[^。，：:\s]{2,80}){0,30}[：:])$"
)


# --- Joining wrapped lines --------------------------------------------------------------------------
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f]) +| +(?=[^\x00-\x7f])")


def squeeze(text: str) -> str:
    """Drop spaces next to Chinese characters: they come from wrapped lines, never from the writer."""
    return _CJK_SPACE.sub("", text).strip()


def join_wrapped(pieces: list[str]) -> str:
    """Join the lines of one wrapped element (a title, a paragraph) the way they were printed."""
    return join_wrapped_lines(pieces)[0]


def join_wrapped_lines(pieces: list[str]) -> tuple[str, list[int]]:
    """join_wrapped, and where each piece after the first starts in the joined text (its line breaks)."""
    joined = ""
    breaks = []
    for piece in (squeeze(piece) for piece in pieces):
        if not piece:
            continue
        if joined and joined[-1].isascii() and joined[-1].isalnum() and piece[0].isascii() and piece[0].isalnum():
            joined += " "
        if joined:
            breaks.append(len(joined))
        joined += piece
    return joined, breaks


def wrapped_lines(text: str) -> list[str]:
    """A line's pieces as it was printed: a space next to a Chinese character is a wrapped line's end."""
    return [piece for piece in _CJK_SPACE.split(text) if piece.strip()]
