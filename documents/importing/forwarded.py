"""Which documents a text forwards (转发), as the text names them.

现将内蒙古自治区党委组织部《关于…的通知》（内组电明字〔2022〕11号）转发给你们 forwards; 根据《…》要求 and
按照……（国发〔2021〕1号）精神 only cite. So only the clauses (cut at ，；。 outside brackets) that hold
转发 or 批转 are read, and each 《title》 in them gives one forwarded document: the issuer is what the
clause says just before the 《, the number what it says in brackets just after the 》. A forwarded
title that itself says 转发〈…〉 (关于转发〈…〉的通知) gives the nested document the same way.

A document issued by the text (印发, 发布) counts too, when the text dispatches it now: 现将《…》印发给你们,
现予印发, 现印发你们 (印发的《…》 or 省委印发《…》 only cite). The verb and the 《title》 may stand in
different clauses of one sentence: 《…》已经市政府同意，现印发给你们; or the verb may point back to the
sentence before: 省政府《…》已收悉。现将该文件转发你们. A document issued and listed in the 附件说明 is
that attachment, not a forwarded one.
"""

import re

from documents.importing import patterns
from documents.importing.result import ForwardedDocument, ParsedDocument
from documents.importing.text import squeeze
from documents.models import Kind

_FORWARD_VERB = re.compile(r"转发|批转")
_ISSUE_VERB = re.compile(r"印发|发布")
# The cover letter hands the document over now: 现将…印发给你们, 现予印发, 特转发, 印发给你们.
_DISPATCH = re.compile(
    r"(?:现|特|兹|今)(?:予以?|将|把|正式|一并)?[^，。；]{0,80}?(?:印发|发布|转发|批转)"
    r"|(?:印发|发布|转发|批转)(?:给|至|到)?你们"
)
# 现将该文件转发你们: the verb's object is named in the sentence before.
_BACK_REFERENCE = re.compile(r"(?:该|上述|此|这)(?:份|个|一)?(?:文件|通知|意见|办法|规定|决定|通报|方案|规则|细则)")
# A clause that opens like this cites a document (根据《…》), it does not name the one dispatched.
_CITING = re.compile(r"^(?:根据|按照|依据|依照|遵照|参照|为|贯彻|落实|结合)")
_SENTENCE_END = "。！？!?"
_OPENERS = {"《": "》", "〈": "〉", "<": ">", "（": "）", "(": ")", "“": "”", "「": "」"}
_CLAUSE_END = "，,；;。！？!?"
_LEAD = re.compile(r"^(?:现将|现把|兹将|特将|并将|另将|现|将|把|并)?(?:转发|批转)?(?:[和及与、]|以及)?")
_TAIL = re.compile(r"(?:印发|制定|下发|发布|出台|转发|批转)?的$")
_ISSUER_IN_TITLE = re.compile(r"^(?P<organ>[^《〈<，。]{2,40}?)关于")
_MAX_DEPTH = 4


def find_forwarded(document: ParsedDocument) -> list[ForwardedDocument]:
    """The documents `document` forwards or issues: from its body, else from its title."""
    found: list[ForwardedDocument] = []
    paragraphs = (document.body or "").split("\n")
    lines = document.paragraph_lines or [document.body_line or document.first_line] * len(paragraphs)
    for paragraph, line in zip(paragraphs, lines, strict=False):
        for clause in _clauses(paragraph):
            if _FORWARD_VERB.search(clause):
                found.extend(_references(clause, line, depth=0))
        found.extend(_dispatched(paragraph, line, document.attachments))
    if not found and document.title:
        found.extend(_from_title(document.title, document.title_line or document.first_line))
    if not found and document.title:
        found.extend(_issued_in_title(document.title, document.title_line or document.first_line, document.attachments))
    unique: dict[tuple, ForwardedDocument] = {}
    for forwarded in found:
        unique.setdefault((forwarded.number or forwarded.title,), forwarded)
    return list(unique.values())


def _outside_brackets(text: str) -> str:
    """The text with every 《…》 〈…〉 span taken out: a verb inside a cited title is not the text's."""
    for start, end in reversed(_bracketed(text, "《〈")):
        text = text[:start] + "《》" + text[end:]
    return text


def _dispatched(paragraph: str, line: int, attachments: list[str]) -> list[ForwardedDocument]:
    """Documents a sentence hands over (现…印发/转发给你们) whose 《title》 is not in the verb's clause.

    A verb clause that holds a 《title》 of its own is read for 转发/批转 by find_forwarded; for 印发/发布
    it is read here. Otherwise the title is the one of the nearest earlier clause of the sentence that
    does not cite (《…》已经市政府同意，现印发给你们), or, when the verb says 该文件, of the sentence before.
    """
    found: list[ForwardedDocument] = []
    previous: list[str] = []
    for sentence in _sentences(paragraph):
        clauses = _clauses(sentence)
        for index, clause in enumerate(clauses):
            outside = _outside_brackets(clause)
            dispatch = _DISPATCH.search(outside)
            if dispatch is None:
                continue
            issued = _FORWARD_VERB.search(dispatch.group(0)) is None
            if "《" in outside:
                if issued:
                    found.extend(_not_attached(_references(clause, line, depth=0), attachments))
                continue
            earlier = [c for c in reversed(clauses[:index]) if "《" in _outside_brackets(c) and not _CITING.match(c)]
            if not earlier and _BACK_REFERENCE.search(outside):
                earlier = [c for c in reversed(previous) if "《" in _outside_brackets(c) and not _CITING.match(c)]
            if earlier:
                references = _references(earlier[0], line, depth=0)
                found.extend(_not_attached(references, attachments) if issued else references)
        previous = clauses
    return found


def _not_attached(references: list[ForwardedDocument], attachments: list[str]) -> list[ForwardedDocument]:
    listed = _attachment_names(attachments)
    return [reference for reference in references if _plain(reference.title or "") not in listed]


def _attachment_names(attachments: list[str]) -> set[str]:
    """The 附件说明's names as titles compare: 高校安全工作办法。 names 《高校安全工作办法》."""
    return {_plain(name).rstrip("。.；;，,") for name in attachments}


def _sentences(text: str) -> list[str]:
    """Cut at sentence ends that are outside every bracket."""
    sentences, current, closers = [], "", []
    for char in text:
        if closers and char == closers[-1]:
            closers.pop()
        elif char in _OPENERS and len(closers) < 20:
            closers.append(_OPENERS[char])
        current += char
        if not closers and char in _SENTENCE_END:
            sentences.append(current)
            current = ""
    sentences.append(current)
    return [sentence for sentence in sentences if sentence.strip()]


def _issued_in_title(title: str, line: int, attachments: list[str]) -> list[ForwardedDocument]:
    """关于印发X的通知 (X in 《》 or bare) when the body names nothing: X is the document issued."""
    verb = _ISSUE_VERB.search(_outside_brackets(title))
    if verb is None or re.search(r"[:：]", title) or patterns.kind_of_title(title) is None:
        return []
    before = title[: verb.start()]
    # 关于印发…, 某某办公室印发…: the verb is the title's own, not a word of a page line (发布日期…).
    if not (before.endswith("关于") or before == "" or patterns.ORGAN_ENDING.search(before)):
        return []
    inner = title[verb.end() :]
    spans = _bracketed(inner, "《")
    # 关于印发《X》的通知 names X in brackets; 关于印发X的通知 ends with the cover's own 的通知.
    bare = re.sub(r"的(?:通知|决定|通告|公告|函)$", "", inner)
    inner = inner[spans[0][0] + 1 : spans[0][1] - 1] if spans else bare
    inner = squeeze(inner)
    if len(inner) < 4 or inner in Kind.values or _plain(inner) in _attachment_names(attachments):
        return []
    return [ForwardedDocument(title=inner, number=None, issuer=_issuer_in_title(inner), line=line)]


def forwards(cover: ParsedDocument, document: ParsedDocument) -> bool:
    """Whether `cover` names `document` among what it forwards (by number, else by title)."""
    for forwarded in cover.forwarded:
        if forwarded.number and document.number:
            if forwarded.number == document.number:
                return True
        elif forwarded.title and document.title and _plain(forwarded.title) == _plain(document.title):
            return True
    return False


def _plain(title: str) -> str:
    return re.sub(r"[\s《》〈〉<>“”\"]", "", title)


def _clauses(text: str) -> list[str]:
    """Cut at clause punctuation that is outside every bracket."""
    clauses, current, closers = [], "", []
    for char in text:
        if closers and char == closers[-1]:
            closers.pop()
        elif char in _OPENERS and len(closers) < 20:
            closers.append(_OPENERS[char])
        if not closers and char in _CLAUSE_END:
            clauses.append(current)
            current = ""
        else:
            current += char
    clauses.append(current)
    return [clause for clause in clauses if clause]


def _bracketed(text: str, openers: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each top-level bracketed span opened by one of `openers`, end exclusive."""
    spans, index = [], start
    while index < len(text):
        if text[index] in openers:
            close = _matching(text, index)
            if close is None:
                break
            spans.append((index, close + 1))
            index = close + 1
        else:
            index += 1
    return spans


def _matching(text: str, open_index: int) -> int | None:
    opener = text[open_index]
    closer, depth = _OPENERS[opener], 0
    for index in range(open_index, len(text)):
        if text[index] == opener:
            depth += 1
        elif text[index] == closer:
            depth -= 1
            if depth == 0:
                return index
    return None


def _references(clause: str, line: int, *, depth: int) -> list[ForwardedDocument]:
    references, previous_end = [], 0
    for start, end in _bracketed(clause, "《"):
        title = squeeze(clause[start + 1 : end - 1])
        number, number_end = _number_after(clause, end)
        issuer = _issuer(clause[previous_end:start]) or _issuer_in_title(title)
        previous_end = number_end
        if not title or title in Kind.values or len(title) < 4:  # 《通知》: a back reference, not a title
            continue
        references.append(
            ForwardedDocument(
                title=title, number=number, issuer=issuer, line=line, forwarded=_nested(title, line, depth=depth + 1)
            )
        )
    return references


def _number_after(text: str, end: int) -> tuple[str | None, int]:
    """The number in the brackets right after a title: 》（内组电明字〔2022〕11号）."""
    rest = text[end:]
    opening = re.match(r"\s{0,2}[（(]", rest)
    if opening is None:
        return None, end
    close = _matching(text, end + opening.end() - 1)
    inside = text[end + opening.end() : close if close is not None else len(text)]
    match = patterns.CITED_NUMBER.search(inside)
    if match is None:
        return None, end
    return patterns.read_number(match).normalised, (close + 1 if close is not None else len(text))


def _issuer(zone: str) -> str | None:
    """The organ a clause names just before a title: 现将内蒙古自治区党委组织部《 → 内蒙古自治区党委组织部."""
    zone = _TAIL.sub("", _LEAD.sub("", squeeze(zone))).strip()
    if 2 <= len(zone) <= 60 and not re.search(r"[，。；：《》“”]", zone) and patterns.ORGAN_ENDING.search(zone):
        return zone
    return None


def _issuer_in_title(title: str) -> str | None:
    """中共中央办公厅关于…的通知: the title names its issuer before 关于."""
    match = _ISSUER_IN_TITLE.match(title)
    if match and patterns.ORGAN_ENDING.search(match["organ"]):
        return match["organ"]
    return None


def _nested(title: str, line: int, *, depth: int) -> list[ForwardedDocument]:
    """关于转发〈…〉的通知: the documents a forwarded document forwards, as its title names them."""
    verb = _FORWARD_VERB.search(title)
    if verb is None or depth > _MAX_DEPTH:
        return []
    nested, previous_end = [], verb.end()
    for start, end in _bracketed(title, "〈<《", verb.end()):
        inner = squeeze(title[start + 1 : end - 1])
        number, number_end = _number_after(title, end)
        issuer = _issuer(title[previous_end:start]) or _issuer_in_title(inner)
        previous_end = number_end
        if inner and len(inner) >= 4:
            nested.append(
                ForwardedDocument(
                    title=inner,
                    number=number,
                    issuer=issuer,
                    line=line,
                    forwarded=_nested(inner, line, depth=depth + 1),
                )
            )
    return nested


def _from_title(title: str, line: int) -> list[ForwardedDocument]:
    """XX转发关于…的通知 with a body that names nothing: the title's own words are all there is."""
    if _bracketed(title, "《〈<"):
        return _nested(title, line, depth=0)
    verb = _FORWARD_VERB.search(title)
    if verb is None:
        return []
    inner = title[verb.end() :]
    # A forward of a 通知 is titled …转发…的通知, not …的通知的通知: drop the cover's own 的通知 only
    # when what remains still ends in a 文种.
    if inner.endswith("的通知") and patterns.kind_of_title(inner[:-3]):
        inner = inner[:-3]
    if len(inner) < 4 or patterns.kind_of_title(inner) is None:
        return []
    return [ForwardedDocument(title=inner, number=None, issuer=_issuer_in_title(inner), line=line)]
