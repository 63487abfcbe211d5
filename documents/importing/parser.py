"""Text to document elements.

The text is cut into clean lines (documents.importing.text), then into documents: each document
starts at a header number standing on its own line (or, without one, at its title), and its start
is moved up over the issuer mark and the other header elements above the number. Everything before
the first document is site navigation and is dropped. Each document is then read top down (header,
title, 主送) and bottom up (成文日期, 署名, 附件说明, and after the date 附注 and 版记); what lies
between is the body. Later documents are the ones the first encloses (所附公文), nested by the
numbers the cover letters forward.

Nothing here raises on any text: an element that cannot be found is None, and the conformance check
(documents.importing.conformance) says what is missing.
"""

import re

from documents.importing import patterns
from documents.importing.conformance import count_attachment_headings
from documents.importing.forwarded import find_forwarded, forwards
from documents.importing.labelled import is_labelled, read_labelled
from documents.importing.portal import PageMetadata, apply_metadata, read_page
from documents.importing.result import ParsedDocument
from documents.importing.text import (
    Line,
    is_furniture,
    join_wrapped,
    join_wrapped_lines,
    mongolian_mark,
    source_lines,
    split_glued,
    squeeze,
    wrapped_lines,
)
from documents.models import Classification

_SENTENCE_END = "。！？!?；;"
_TITLE_MAX = 120
_MARK_MAX = 50
_RECIPIENTS_MAX = 300


def parse_lines(text: str) -> list[Line]:
    """The text's lines as the parser sees them: normalised, furniture out, glued elements cut."""
    return _parse_page(text)[0]


def _parse_page(text: str) -> tuple[list[Line], PageMetadata]:
    """parse_lines, and what the page's metadata block says (documents.importing.portal)."""
    page = read_page(source_lines(text))
    lines = split_glued(page.lines)
    return [line for line in lines if line.text and not is_furniture(line.text)], page


def parse_documents(text: str) -> list[ParsedDocument]:
    """Every document found in the text, in order, not yet nested."""
    lines, page = _parse_page(text)
    if not lines:
        return []
    if is_labelled(lines):
        document = read_labelled(lines)
        document.text = text.strip("\n")
        return [document]
    starts = _document_starts(lines)
    ends = [*starts[1:], len(lines)]
    source = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    documents = []
    for start, end in zip(starts, ends, strict=True):
        segment, title_count = lines[start:end], 0
        while segment and len(documents) < 200:
            document = _read_document(segment, title_count=title_count)
            enclosure = _enclosure_start(document, segment)
            if enclosure is not None:
                at, count = enclosure
                document = _read_document(segment[:at], title_count=title_count)
                segment, title_count = segment[at:], count
            else:
                segment = []
            document.text = "\n".join(source[document.first_line - 1 : document.last_line]).strip("\n")
            documents.append(document)
    if documents:
        apply_metadata(documents[0], page)
    return documents


# 印发/转发 covers name what they enclose: 「关于印发《X》的通知」, 「《X》已经…同意，现印发给你们」.
_ENCLOSING_TITLE = re.compile(
    r"(?:印发|转发|批转|发布|印發|轉發)《?(?P<name>[^《》]{2,80}?)》?的(?:通知|通报|决定|函|通告|公告)$"
)
_ENCLOSING_VERB = re.compile(r"印发|转发|批转|发布|印發|轉發")
_QUALIFIER = re.compile(r"^[（(][^（）()]{1,20}[）)]$")


def _enclosure_start(document: ParsedDocument, lines: list[Line]) -> tuple[int, int] | None:
    """Where a document that a cover prints or forwards without a number starts: after the cover's
    成文日期, at the line (or the two or three wrapped lines) that repeat a title the cover names
    (「…现将《太湖县人民政府工作规则》印发给你们… 2019年3月1日 / 太湖县人民政府工作规则 / 第一章 …」),
    a bracketed qualifier after it allowed (「…工作规则(2019年11月修订)」). Returns (index, title lines)."""
    if document.date_line is None:
        return None
    names = {_plain_title(item.title) for item in document.forwarded if item.title}
    enclosing = _ENCLOSING_TITLE.search(squeeze(document.title or ""))
    if enclosing:
        names.add(_plain_title(enclosing["name"]))
    for paragraph in (document.body or "").split("\n"):
        if _ENCLOSING_VERB.search(paragraph):
            names.update(_plain_title(name) for name in re.findall(r"《([^《》]{2,80})》", paragraph))
    # What the 附件说明 lists, and what follows an 附件 heading, is the cover's attachment, not a
    # document it encloses: its 版记 stays with it.
    names -= {_plain_title(name) for name in document.attachments}
    names.discard("")
    if not names:
        return None
    after = next((index for index, line in enumerate(lines) if line.number > document.date_line), None)
    if after is None:
        return None
    for index in range(max(after, 1), len(lines)):
        if re.fullmatch(r"附\s?件\s?\d{0,2}", lines[index].text) or patterns.CC.match(lines[index].text):
            return None
        joined = ""
        for count in range(1, 4):
            if index + count > len(lines) or not _is_title_piece(lines[index + count - 1].text):
                break
            joined += _plain_title(lines[index + count - 1].text)
            for name in names:
                if joined == name or (joined.startswith(name) and _QUALIFIER.match(joined[len(name) :])):
                    return index, count
    return None


def _plain_title(title: str) -> str:
    return re.sub(r"[\s《》〈〉<>“”\"]", "", title)


def nest(documents: list[ParsedDocument]) -> ParsedDocument:
    """The first document, with each later one enclosed by the nearest earlier one that forwards it.

    A later document that no earlier one names is enclosed by the first, with a finding that says so.
    """
    root = documents[0]
    for index, document in enumerate(documents[1:], 1):
        parent = next((earlier for earlier in reversed(documents[:index]) if forwards(earlier, document)), None)
        if parent is None:
            parent = root
            name = document.title or document.number or ""
            root.warn(document.first_line, f"此处起的公文“{name}”未被前文转发，按所附公文处理")
        parent.enclosed.append(document)
    for document in documents:
        _inherit_nested_forwards(document)
    return root


def _inherit_nested_forwards(document: ParsedDocument) -> None:
    """A forwarded document that is itself enclosed in the text gives its own forwards as the nest."""
    for forwarded in document.forwarded:
        if forwarded.forwarded:
            continue
        for enclosed in document.enclosed:
            if forwarded.number and forwarded.number == enclosed.number:
                forwarded.forwarded = list(enclosed.forwarded)


# --- Where documents start ---------------------------------------------------------------------------


def _document_starts(lines: list[Line]) -> list[int]:
    number_lines = [index for index, line in enumerate(lines) if _header_number(line.text)]
    # Consecutive number lines belong to one header (编号 and a second number on a telegram).
    number_lines = [
        index for position, index in enumerate(number_lines) if position == 0 or index - number_lines[position - 1] > 2
    ]
    if not number_lines:
        first = _start_without_number(lines)
        return [first, *(index for index in _enclosed_after_label(lines) if index > first)]
    starts, floor = [], 0
    for index in number_lines:
        start = _header_start(lines, index, floor)
        if starts and start <= starts[-1]:
            continue
        starts.append(start)
        floor = index + 1
    # Before the first number: site navigation, or a document whose number is missing (a cover
    # letter typed without it). A title followed by its 主送 and a paragraph tells them apart.
    title = _addressed_title(lines[: starts[0]])
    if title is not None:
        starts.insert(0, _header_start(lines, title, 0))
    return starts


_ATTACHMENT_LABEL = re.compile(r"附\s?件?\s?\d{0,2}\s?[:：]?")


def _enclosed_after_label(lines: list[Line]) -> list[int]:
    """Documents without numbers reproduced after a bare 「附：」 or 「附件」 label, each at its title
    followed by its own 主送 (flattened 转发 notices: …二○○五年十一月二十一日 附: 关于…的通报 各市州人民政府:)."""
    return [
        index
        for index in range(1, len(lines) - 2)
        if _ATTACHMENT_LABEL.fullmatch(lines[index - 1].text) and _addressed_title(lines[index : index + 3]) == 0
    ]


def _addressed_title(lines: list[Line]) -> int | None:
    """The first title followed by its 主送 and a paragraph (a list of links has no 主送)."""
    for index in range(len(lines) - 2):
        if (
            _looks_like_title(lines[index].text)
            and patterns.kind_of_title(lines[index].text)
            and _is_recipients(lines[index + 1].text)
            and lines[index + 2].text[-1] in _SENTENCE_END
        ):
            return index
    return None


_BRACKETED_NUMBER = re.compile(
    rf"[（(]\s{{0,2}}(?P<inner>[^（）()]{{4,40}}?)\s{{0,2}}(?:{patterns.DATE.pattern})?\s{{0,2}}[）)]"
)


def _header_number(text: str) -> patterns.NumberMatch | None:
    """The number of a header line: the line holds nothing else but urgency words and 签发人.

    公报 and law-database copies print it in brackets on its own line under the title, sometimes
    with the date: 「（劳社厅函〔2007〕120号）」, 「(教基厅[1993]6号 1993年3月15日)」.
    """
    bracketed = _BRACKETED_NUMBER.fullmatch(text)
    if bracketed:
        return _header_number(bracketed["inner"].strip())
    match = patterns.NUMBER.search(text)
    if match is None:
        return None
    number = patterns.read_number(match)
    head = text[: number.start].strip()
    tail = text[number.end :].strip()
    if tail and not patterns.SIGNER.fullmatch(tail):
        return None
    if head and not (number.before or _is_header_element(head)):
        return None
    return number


def _header_start(lines: list[Line], number_index: int, floor: int) -> int:
    """Move up from a number line over the header elements and one issuer mark (or a joint one)."""
    index = number_index - 1
    while index >= floor and _is_header_element(lines[index].text):
        index -= 1
    title_lines = _title_above(lines, index + 1, floor)
    if title_lines:
        # A title above the number: a copy without the 版头, whose line above the title is a site
        # line or a headline, unless it is a mark by its own words (…文件, …明传电报).
        index -= title_lines
        if index >= floor and _is_header_mark(lines[index].text) and _is_printed_mark(lines[index].text):
            index -= 1
    elif index >= floor and _is_header_mark(lines[index].text):
        mark_index = index
        index -= 1
        # A joint mark: several organs, one a line, above the line ending in 文件.
        while (
            index >= floor
            and lines[mark_index].text.endswith("文件")
            and _is_header_mark(lines[index].text)
            and patterns.ORGAN_ENDING.search(lines[index].text)
        ):
            index -= 1
    while index >= floor and _is_header_element(lines[index].text):
        index -= 1
    return index + 1


# The words that open a title after its issuer: …关于…, …转发…, …印发… (traditional forms too).
_TITLE_OPENING = re.compile(r"关于|關於|转发|轉發|印发|印發|批转|批轉")


def _title_above(lines: list[Line], end: int, floor: int) -> int:
    """How many lines just above `end` are a title printed above the number (0 when none).

    Portal, 公报 and law-database copies print the title first and the number under it
    (「国务院办公厅关于部际联席会议 / 审批程序等有关问题的通知 / 国办函〔2003〕49号」): the last line
    ends in a 文种; a line above it belongs to the title only when it holds the title's opening
    words (关于, 转发, 印发) and the lines below do not already start with their issuer, so that a
    mark (…文件) or a site line above a complete title stays out of it.
    """
    last = end - 1
    if last < floor:
        return 0
    text = lines[last].text
    if not (_is_title_piece(text) and patterns.kind_of_title(text)) or patterns.kind_of_mark(text):
        return 0
    taken, title = 1, squeeze(text)
    while taken < 3 and last - taken >= floor:
        above = lines[last - taken].text
        opening = _TITLE_OPENING.search(title)
        if opening and opening.start() > 0:  # the title already names its issuer: it is whole
            break
        if not _is_title_piece(above) or patterns.kind_of_title(above) or not _TITLE_OPENING.search(squeeze(above)):
            break
        taken, title = taken + 1, squeeze(above) + title
    return taken


def _is_title_piece(text: str) -> bool:
    """A line that may be (part of) a title: no sentence or label punctuation, not a heading, a date,
    a number, 「特此通知」, a 主送 or a header element."""
    return (
        _looks_like_title(text)
        and not re.search(r"[。；;！？!?：:]", text)
        and not patterns.HEADING.match(text)
        and not _CLOSING_FORMULA.match(text)
        and patterns.DATE.search(text) is None
        and patterns.CITED_NUMBER.search(text) is None
        and not _is_header_element(text)
    )


def _is_printed_mark(text: str) -> bool:
    """An issuer mark by its own words: …文件, …明传电报 (a site name ends otherwise)."""
    return text.endswith("文件") or patterns.kind_of_mark(text) is not None


# The formula that closes a body (特此通知): it ends in a 文种 but is never a title.
_CLOSING_FORMULA = re.compile(r"^特此(?:通知|通报|函告|函复|批复|公告|通告|报告|请示|函|复函)")


def _start_without_number(lines: list[Line]) -> int:
    """No number: the document starts at its title (or the issuer mark just above it)."""
    for index, line in enumerate(lines[:60]):
        if _looks_like_title(line.text) and patterns.kind_of_title(line.text) and not _CLOSING_FORMULA.match(line.text):
            return _header_start(lines, index, 0)
    return 0


def _is_header_element(text: str) -> bool:
    """A line of the 版头 other than the issuer mark and the number."""
    return bool(
        mongolian_mark(text) is not None
        or patterns.URGENCY.search(text)
        or patterns.URGENCY_ALONE.match(text)
        or patterns.COPY_NUMBER.match(text)
        or patterns.INTERNAL.match(text)
        or (patterns.CLASSIFICATION.search(text) and len(text) <= 20)
        or patterns.SEND_TO.match(text)
        or patterns.APPROVAL.match(text)
        or patterns.SIGNER.match(text)
        or re.fullmatch(r"(?<!第)共\s{0,3}\d{1,4}\s{0,3}页", text)
        or re.fullmatch(r"编\s?号\s?[:：]?", text)
    )


def _is_issuer_mark(text: str) -> bool:
    return (
        0 < len(text) <= _MARK_MAX
        and not re.search(r"[。，,；;：:！？!?《》“”]", text)
        and patterns.DATE.search(text) is None
        and not _is_header_element(text)
    )


def _is_header_mark(text: str) -> bool:
    """An issuer mark in the 版头: never a line holding a title's opening words (关于, 转发, 印发), which
    is the first half of a wrapped title (「关于印发金华市人民政府办理人大代表建议」)."""
    return _is_issuer_mark(text) and not _TITLE_OPENING.search(squeeze(text))


def _looks_like_title(text: str) -> bool:
    return 0 < len(text) <= _TITLE_MAX and text[-1] not in _SENTENCE_END and not _is_recipients(text)


def _is_recipients(text: str) -> bool:
    return (
        text.endswith(("：", ":"))
        and len(text) <= _RECIPIENTS_MAX
        and "。" not in text
        and not re.match(r"(附\s?件|抄\s?送|发\s?往|签\s?批|签\s?发\s?人|编\s?号)", text)
    )


# --- One document --------------------------------------------------------------------------------------


def _read_document(lines: list[Line], *, title_count: int = 0) -> ParsedDocument:
    """One document; `title_count` lines at its top are its title when the cover that encloses it
    named them (an enclosed document without a 版头)."""
    document = ParsedDocument(first_line=lines[0].number, last_line=lines[-1].number)
    if title_count:
        _set_title(document, lines[:title_count])
        position = title_count
    else:
        position = _read_header(document, lines)
        position = _read_title(document, lines, position)
    position = _read_main_recipients(document, lines, position)
    body_end = _read_closing(document, lines, position)
    _read_body(document, lines[position:body_end])
    document.forwarded = find_forwarded(document)
    if document.issuer is None:
        document.issuer = _issuer_without_mark(document)
    elif _is_database_organ_line(document):
        document.issuer = squeeze(document.signature_organ)
    return document


_PROVINCE = re.compile(r"^.{2,8}?(?:省|自治区)")


def _is_database_organ_line(document: ParsedDocument) -> bool:
    """Law databases print their 发布机关 field where a mark stands, the organ with its province and
    without 文件 (「广东省东莞市人民政府」 above 东府办〔2005〕42号): when the 署名 names that organ, or
    an office of it (东莞市人民政府办公室), without the province, the 署名 is the issuer."""
    mark, signature = document.issuer_mark or "", squeeze(document.signature_organ or "")
    if not mark or not signature or _is_printed_mark(mark) or not _is_signature(signature):
        return False
    province = _PROVINCE.match(mark)
    local = mark[province.end() :] if province else ""
    return len(local) >= 4 and signature.startswith(local) and signature != mark


# Endings that close an organ's full name; where two names of one place are glued together
# (中共岳阳市委办公室岳阳市人民政府办公室), the first ends in one of them.
_FULL_ORGAN_END = re.compile(r"委员会|人民政府|办公厅|办公室|人民法院|人民检察院|党委|工委")


def _issuer_without_mark(document: ParsedDocument) -> str | None:
    """The issuer of a copy without its red mark (web pages, 公报, law databases, flattened text).

    First the title's own words: 「国务院办公厅关于…」「…办公厅转发…」「劳动部关于发布…」 name the issuer
    before 关于/转发/印发; of joint issuers (「中共中央、国务院关于…」) the first, who leads. Then the
    发文机关署名 above the date, which names the issuer too. Else none: a site line or a headline is
    never taken for it.
    """
    organs = _organs_of_title(document.title or "")
    if organs:
        return _first_organ(organs, document.signature_organ)
    signature = document.signature_organ
    if signature and _is_signature(signature) and _is_header_mark(signature):
        return _first_organ(signature, None)
    return None


def _organs_of_title(title: str) -> str | None:
    """The organs a title names before 关于/转发/印发 (「国务院办公厅关于…」 → 国务院办公厅), or None."""
    title = squeeze(title)
    opening = _TITLE_OPENING.search(title)
    organs = title[: opening.start()] if opening else ""
    if 2 <= len(organs) <= 60 and patterns.ORGAN_ENDING.search(organs) and not re.search(r"[《》“”\"：:。]", organs):
        return organs
    return None


def _first_organ(organs: str, signature: str | None) -> str:
    """The leading organ of a list: split at 、 or a space, or where a second name of the same place
    starts (鹤岗市人民政府鹤岗市中级人民法院 → 鹤岗市人民政府)."""
    first = re.split(r"[、，,\s]", organs.strip())[0]
    if signature and first.startswith(squeeze(signature)) and first != squeeze(signature):
        return squeeze(signature)
    for match in _FULL_ORGAN_END.finditer(first):
        rest = first[match.end() :]
        if len(rest) >= 4 and patterns.ORGAN_ENDING.search(rest) and rest[:2] in first[: match.end()]:
            return first[: match.end()]
    return first


def _read_header(document: ParsedDocument, lines: list[Line]) -> int:
    """Read the 版头; return the index of its first line after it (where the title starts)."""
    number_index = next((i for i, line in enumerate(lines[:12]) if _header_number(line.text)), None)
    if number_index is None:
        end = _header_end_without_number(lines)
    else:
        end = number_index + 1
        while end < len(lines) and _is_header_element(lines[end].text):
            end += 1
    above = number_index or 0
    while above > 0 and _is_header_element(lines[above - 1].text):
        above -= 1
    title_count = _title_above(lines, above, 0) if number_index is not None else 0
    marks = []
    for index, line in enumerate(lines[:end]):
        if not _read_header_element(document, line) and not above - title_count <= index < above:
            marks.append(line)
    if marks:
        document.issuer_mark = join_wrapped([line.text for line in marks])
    if document.issuer_mark:
        document.issuer = patterns.issuer_of_mark(document.issuer_mark)
        document.kind = patterns.kind_of_mark(document.issuer_mark)
    if title_count:
        _set_title(document, lines[above - title_count : above])
    return end


def _header_end_without_number(lines: list[Line]) -> int:
    """Header elements, and one short line above the title (the issuer mark), in any order."""
    end, mark_taken = 0, False
    while end < min(len(lines), 12):
        text = lines[end].text
        if _is_header_element(text):
            end += 1
        elif not mark_taken and _is_mark_above_title(lines, end):
            mark_taken = True
            end += 1
        else:
            break
    return end


def _is_mark_above_title(lines: list[Line], index: int) -> bool:
    text = lines[index].text
    if not _is_header_mark(text) or (patterns.kind_of_title(text) and not patterns.kind_of_mark(text)):
        return False
    below = next((line.text for line in lines[index + 1 :] if not _is_header_element(line.text)), "")
    if not _looks_like_title(below):
        return False
    if _is_printed_mark(text):
        return True
    # Without a number, a bare line above the title is a mark only if it names an organ, and not
    # another organ than the one the title names (a portal's site name: 「怒江州人民政府」 above
    # 「云南省民政厅办公室关于…」; a section name: 「规章制度」).
    named = _organs_of_title(below)
    return bool(patterns.ORGAN_ENDING.search(text)) and (not named or squeeze(below).startswith(squeeze(text)))


def _read_header_element(document: ParsedDocument, line: Line) -> bool:
    """Store what a header line says; False when it is none of the elements (then: the mark)."""
    text = line.text
    mongolian = mongolian_mark(text)
    if mongolian is not None:
        document.mongolian_mark = document.mongolian_mark or mongolian or None
        return True
    number = _header_number(text)
    recognised = False
    if number is not None and document.number is None:
        document.number, document.number_text, document.number_line = number.normalised, number.text, line.number
        document.number_problems = number.problems
        if number.before:
            document.issuer_mark = document.issuer_mark or number.before
        recognised = True
    urgency = patterns.URGENCY.search(text) or patterns.URGENCY_ALONE.match(text)
    if urgency and document.urgency is None:
        document.urgency = re.sub(r"\s", "", urgency["urgency"])
        recognised = True
    classification = patterns.CLASSIFICATION.search(text)
    if classification and document.classification is None and (number or len(text) <= 20):
        document.classification = re.sub(r"\s", "", classification["level"])
        document.classification_period = classification["period"]
        recognised = True
    if patterns.INTERNAL.match(text):
        document.classification = document.classification or Classification.INTERNAL
        recognised = True
    copy_number = patterns.COPY_NUMBER.match(text)
    if copy_number:
        document.copy_number = copy_number["copy"]
        recognised = True
    signer = patterns.SIGNER.search(text)
    if signer:
        document.signer = " ".join(signer["signer"].split())
        recognised = True
    pages = patterns.PAGE_COUNT.search(text)
    if pages and not text.startswith("第"):
        document.page_count = int(pages["pages"])
        recognised = True
    send_to = patterns.SEND_TO.match(text)
    if send_to:
        document.telegram_send_to = send_to["to"].strip()
        recognised = True
    approval = patterns.APPROVAL.match(text)
    if approval:
        _read_approval(document, approval["approval"])
        recognised = True
    return recognised or bool(re.fullmatch(r"编\s?号\s?[:：]?", text))


def _read_approval(document: ParsedDocument, text: str) -> None:
    """签批盖章 机要三 李玉刚 发电专用章: the office, the person, and the seal (the word ending in 章)."""
    words = text.split()
    seals = [word for word in words if word.endswith("章")]
    others = [word for word in words if not word.endswith("章")]
    document.telegram_seal = " ".join(seals) or None
    document.telegram_approval_office = others[0] if others else None
    document.telegram_approver = " ".join(others[1:]) or None


def _read_title(document: ParsedDocument, lines: list[Line], position: int) -> int:
    """The title: its wrapped lines down to the 主送, or down to the line that ends in a 文种."""
    candidates = []
    for line in lines[position : position + 6]:
        if not _looks_like_title(line.text) or _CLOSING_FORMULA.match(line.text):
            break
        candidates.append(line)
    if not candidates:
        return position
    recipients_at = position + len(candidates)
    taken = None
    if recipients_at < len(lines) and _is_recipients(lines[recipients_at].text):
        taken = candidates
    else:
        for count in range(1, len(candidates) + 1):
            if patterns.kind_of_title(join_wrapped([line.text for line in candidates[:count]])):
                taken = candidates[:count]
                break
    if taken and len(taken) > 1:
        # A site or section line above a title that opens with its own words (「规章制度 /
        # 校务公开领导小组办公室关于…的通知」) is not the title's first half.
        whole = _title_above(taken, len(taken), 0)
        # …unless it names the issuer the title leaves out (「瑞安市人民政府办公室 / 转发…的通知」).
        organ = taken[-whole - 1].text if 0 < whole < len(taken) else ""
        if organ and _TITLE_OPENING.match(squeeze(taken[-whole].text)) and _is_signature(organ):
            whole += 1 if _is_header_mark(organ) else 0
        if 0 < whole < len(taken) and _TITLE_OPENING.search(join_wrapped([line.text for line in taken[-whole:]])):
            position += len(taken) - whole
            taken = taken[-whole:]
    if taken is None or (document.title and not patterns.kind_of_title(join_wrapped([t.text for t in taken]))):
        # No line ending in a 文种: a title above the number stands; else the first line is the
        # title unless it is a body heading (一、…) — a document without a title keeps none.
        if document.title or patterns.HEADING.match(candidates[0].text):
            return position
        taken = candidates[:1]
    _set_title(document, taken)
    return position + len(taken)


def _set_title(document: ParsedDocument, taken: list[Line]) -> None:
    document.title, document.title_breaks = join_wrapped_lines(
        [piece for line in taken for piece in wrapped_lines(line.text)]
    )
    document.title_line = taken[0].number
    document.kind = patterns.kind_of_mark(document.issuer_mark or "") or patterns.kind_of_title(document.title)


def _read_main_recipients(document: ParsedDocument, lines: list[Line], position: int) -> int:
    """主送: one line ending in a colon (or several, when the names wrap after 、 or ，)."""
    end = position
    while end < len(lines) and end - position < 4 and lines[end].text.endswith(("、", "，", ",")):
        end += 1
    if end < len(lines) and _is_recipients(lines[end].text):
        taken = lines[position : end + 1]
    elif document.title and _missing_colon_recipients(lines, position):
        taken = lines[position : position + 1]
    else:
        return position
    document.main_recipients_text = join_wrapped([line.text for line in taken])
    document.main_recipients_line = taken[0].number
    document.main_recipients = split_names(document.main_recipients_text)
    return position + len(taken)


def _missing_colon_recipients(lines: list[Line], position: int) -> bool:
    """「各高等学校党委」 without its colon: short, names an organ, and a paragraph follows."""
    if position + 1 >= len(lines):
        return False
    text = lines[position].text
    return (
        len(text) <= 60
        and not re.search(r"[。；;！？]", text)
        and (text.startswith("各") or "、" in text or bool(patterns.ORGAN_ENDING.search(text)))
        and len(lines[position + 1].text) > 30
    )


def split_names(text: str) -> list[str]:
    """主送 or 抄送 into addressees: split on ，；and spaces, and on 、 only between addressees.

    Never inside brackets (党（工）委 stays whole). A list names its addressees one after another,
    but 、 also joins the parts of one addressee (see _one_addressee): 各省、自治区、直辖市人民政府 and
    市直各委、办、局 are one addressee each, 各学院党委、各部门 are two.
    """
    names, current, depth = [], "", 0
    for char in text.strip().rstrip("：:。.；;，,"):
        if char in "（(〔[［【《〈":
            depth += 1
        elif char in "）)〕]］】》〉" and depth:
            depth -= 1
        if depth == 0 and (char in "、，,；;" or char.isspace()):
            names.append(current)
            current = ""
            if char == "、":
                names.append("、")
        else:
            current += char
    names.append(current)
    return _join_addressees([squeeze(name) for name in names if squeeze(name)])


def _join_addressees(pieces: list[str]) -> list[str]:
    """Pieces and the 、 marks between them (as "、") into addressees."""
    addressees: list[list[str]] = []
    joining = False
    for piece in pieces:
        if piece == "、":
            joining = bool(addressees)
            continue
        if joining and _one_addressee(addressees[-1], piece):
            addressees[-1].append(piece)
        else:
            addressees.append([piece])
        joining = False
    return ["、".join(parts) for parts in addressees]


_DISTRIBUTIVE = re.compile(r"各|有关")
_BARE = re.compile(r"[（(][^（）()]{0,20}[）)]")
# 县级林长制责任单位, 区级协作单位: a rank class is an addressee of its own, never the end of a place.
_RANK_CLASS = re.compile(r"^[省市县区乡镇街][级直属]")


def _one_addressee(parts: list[str], piece: str) -> bool:
    """Whether `piece`, after 、, still belongs to the addressee made of `parts`.

    Two forms of 主送/抄送 share one addressee over 、:
    - places before the organ they share: 各省、自治区、直辖市人民政府, 湖北、湖南省人民政府,
      各县(市)、区人民政府 — a bare place (a short name that is not an organ) is no addressee alone;
    - one 各 or 有关 over several kinds of organ: 市直各委、办、局, 各部门、单位, 各党委、党总支,
      国务院各部委、各直属机构 (国务院 is shared, so 各直属机构 is 国务院's too) — the later kinds are bare
      (short, or 直属…).
    A piece that brings its own 各 after a first piece that starts with 各 (各学院党委、各部门) and a
    full organ name (外交部、财政部) start a new addressee.
    """
    first, previous = parts[0], _BARE.sub("", parts[-1])
    bare = _BARE.sub("", piece)
    own = _DISTRIBUTIVE.match(bare)
    if own and _DISTRIBUTIVE.match(first):
        return False
    place = previous.removeprefix("各")
    if len(place) <= 3 and not patterns.ORGAN_ENDING.search(place) and not _RANK_CLASS.match(bare):
        return True
    shared = _DISTRIBUTIVE.search(first)
    if shared is None:
        return False
    if own:  # 国务院各部委、各直属机构: the prefix before 各 is shared
        rest = bare[own.end() :]
        return rest.startswith("直属") or len(rest) <= 4
    return bare.startswith("直属") or len(bare) <= 5


# --- The closing: 附件说明, 署名, 成文日期, then 附注 and 版记 --------------------------------------------

_CLOSING_DATE = re.compile(rf"^(?P<organ>.{{0,60}}?)\s{{0,8}}(?P<date>{patterns.DATE.pattern})$")
_SEAL = re.compile(r"^[（(]\s{0,2}(?:印章|盖章|公章)\s{0,2}[）)]$")


def _closing_date_index(lines: list[Line], start: int) -> int | None:
    """The 成文日期: the first date line below the body that follows a signature, else the last one."""
    found = []
    for index in range(start, len(lines)):
        match = _CLOSING_DATE.match(lines[index].text)
        if match is None or lines[index].text.endswith("印发"):
            continue
        organ = match["organ"].strip()
        if organ and not (_is_issuer_mark(organ) and patterns.ORGAN_ENDING.search(organ)):
            continue
        found.append(index)
        if organ or (index > start and _is_signature(lines[index - 1].text)):
            return index
    return found[-1] if found else None


# A 署名 may end in brackets: 党委办公室(学院办公室) names the office by both its names; X(代章) says
# whose seal stands in for X's, and is no part of the name.
_SIGNATURE_QUALIFIER = re.compile(r"[（(][^（）()]{1,20}[）)]$")
_STAND_IN_SEAL = re.compile(r"\s{0,2}[（(]\s{0,2}代\s{0,2}章\s{0,2}[）)]$")


def _is_signature(text: str) -> bool:
    organ = _SIGNATURE_QUALIFIER.sub("", text).strip()
    return _is_issuer_mark(text) and bool(organ) and bool(patterns.ORGAN_ENDING.search(organ))


def _read_closing(document: ParsedDocument, lines: list[Line], start: int) -> int:
    """Read the closing elements; return where the body ends."""
    date_index = _closing_date_index(lines, start)
    if date_index is None:
        trailer = _trailer_start(lines, start)
        _read_trailer(document, lines[trailer:])
        return _read_attachment_note(document, lines, start, trailer)
    line = lines[date_index]
    match = _CLOSING_DATE.match(line.text)
    date = patterns.read_date(patterns.DATE.search(match["date"]))
    document.written_on, document.date_text, document.date_line = date.value, date.text, line.number
    document.date_problems = date.problems
    signature_end = date_index
    while signature_end > start and _SEAL.match(lines[signature_end - 1].text):
        signature_end -= 1
    if match["organ"].strip():
        document.signature_organ = squeeze(match["organ"])
    elif signature_end > start and _is_signature(lines[signature_end - 1].text):
        signature_end -= 1
        document.signature_organ = squeeze(_STAND_IN_SEAL.sub("", lines[signature_end].text))
    _read_trailer(document, lines[date_index + 1 :])
    document.attachment_headings = count_attachment_headings([line.text for line in lines[date_index + 1 :]])
    body_end = _read_attachment_note(document, lines, start, signature_end)
    if not document.attachments:
        _read_attachment_note_below(document, lines, date_index + 1)
    return body_end


def _read_attachment_note_below(document: ParsedDocument, lines: list[Line], start: int) -> None:
    """Web copies move the 附件说明 below the date: 「附件:」 right under it (or under the 附注), then the
    attachment itself. Only the names it gives are read: on its own line, or numbered lines below
    it, or else the one line below it (the attachment's heading)."""
    index = start
    while index < min(len(lines), start + 2) and re.fullmatch(r"[（(].{1,200}[）)]", lines[index].text):
        index += 1
    if index >= len(lines):
        return
    label = patterns.ATTACHMENTS.match(lines[index].text)
    if label is None:
        return
    first = label["first"].strip()
    below = [line.text for line in lines[index + 1 : index + 21]]
    if first:
        names = [first] if not patterns.ATTACHMENT_ITEM.match(first) else []
        items = [first, *below] if names == [] else []
    elif below and patterns.ATTACHMENT_ITEM.match(below[0]):
        names, items = [], below
    else:
        names, items = below[:1], []
    for text in items:
        item = patterns.ATTACHMENT_ITEM.match(text)
        if item is None:
            break
        names.append(item["name"])
    document.attachments = [squeeze(name) for name in names if squeeze(name)]
    document.attachments_line = lines[index].number if document.attachments else None


def _trailer_start(lines: list[Line], start: int) -> int:
    """Without a date, the 版记 (抄送, 印发) still closes the document: the body stops above it."""
    for index in range(start, len(lines)):
        if patterns.CC.match(lines[index].text) or patterns.PRINTED.match(lines[index].text):
            return index
    return len(lines)


def _read_attachment_note(document: ParsedDocument, lines: list[Line], start: int, end: int) -> int:
    """附件说明 just above the signature: 「附件：1. …」 and the names below it. Returns the body's end."""
    note_index = next(
        (
            index
            for index in range(end - 1, max(start, end - 20) - 1, -1)
            if patterns.ATTACHMENTS.match(lines[index].text)
        ),
        None,
    )
    if note_index is None:
        return end
    names: list[str] = []
    first = patterns.ATTACHMENTS.match(lines[note_index].text)["first"].strip()
    for text in [first, *(line.text for line in lines[note_index + 1 : end])]:
        if not text:
            continue
        item = patterns.ATTACHMENT_ITEM.match(text)
        if item or not names:
            names.append(squeeze(item["name"] if item else text))
        else:  # a long name wraps onto the next line
            names[-1] = join_wrapped([names[-1], text])
    document.attachments = names
    document.attachment_note = "\n".join(line.text for line in lines[note_index:end])
    document.attachments_line = lines[note_index].number
    return note_index


def _read_trailer(document: ParsedDocument, lines: list[Line]) -> None:
    """After the date: 附注 in brackets right below it; the 版记 (抄送, 印发机关和印发日期) wherever it
    stands, usually after the attachments. Anything else (attachments, page furniture) is not ours."""
    notes, below_date, index = [], True, 0
    while index < len(lines):
        text = lines[index].text
        cc = patterns.CC.match(text)
        printed = patterns.PRINTED.match(text)
        if cc:
            parts = [cc["cc"]]
            while _cc_goes_on(parts[-1], lines, index):
                index += 1
                parts.append(lines[index].text)
            document.cc_text = join_wrapped(parts).rstrip("。.")
            document.cc = split_names(document.cc_text)
        elif printed:
            document.printing_organ = squeeze(printed["organ"]) or None
            document.printed_on = patterns.read_date(patterns.DATE.search(text)).value
        elif below_date and re.fullmatch(r"[（(].{1,200}[）)]", text) and not _SEAL.match(text):
            notes.append(text)
        elif not _SEAL.match(text):
            below_date = False
        index += 1
    if notes:
        document.annotation = "\n".join(notes)
        if any(patterns.PUBLIC_NOTE.search(note) for note in notes) and document.classification is None:
            document.classification = Classification.PUBLIC


def _cc_goes_on(last: str, lines: list[Line], index: int) -> bool:
    """抄送 wraps onto the next line until a name ends in 。."""
    return not last.endswith(("。", ".")) and index + 1 < len(lines) and _continues_cc(lines[index + 1].text)


def _continues_cc(text: str) -> bool:
    return not patterns.PRINTED.match(text) and len(text) <= 120 and not text.startswith(("附件", "（", "("))


# --- The body ---------------------------------------------------------------------------------------------


def _read_body(document: ParsedDocument, lines: list[Line]) -> None:
    """Paragraphs, one a line: a line that stops mid-sentence (a page or line break) joins the next."""
    paragraphs: list[list[str]] = []
    for line in lines:
        text = squeeze(line.text)
        if not text or mongolian_mark(text) is not None:
            continue
        if paragraphs and _runs_on(paragraphs[-1]) and not patterns.HEADING.match(text):
            paragraphs[-1].append(text)
        else:
            paragraphs.append([text])
            document.paragraph_lines.append(line.number)
    if paragraphs:
        document.body = "\n".join(join_wrapped(paragraph) for paragraph in paragraphs)
        document.body_line = document.paragraph_lines[0]


def _runs_on(paragraph: list[str]) -> bool:
    """A paragraph that ends without punctuation, is not a heading and fills a line continues."""
    last = paragraph[-1]
    return (
        last[-1] not in patterns.SENTENCE_END
        and not (len(paragraph) == 1 and patterns.HEADING.match(last))
        and len(last) >= 20
    )
