"""The labelled form of 公文程式條例 (the 函 that Taiwan's 公文系統 prints): every element after the
issuer line stands behind a printed label, in a fixed order —

    檔號：  保存年限：
    新竹縣政府 函
    地址：…  承辦人：…  電話：…  傳真：…  電子信箱：…
    受文者：新竹縣立東興國民中學
    發文日期：中華民國110年9月30日
    發文字號：府教學字第1103718733號
    速別：普通件  密等及解密條件或保密期限：  附件：…
    主旨：…  說明：一、…
    正本：…、…  副本：…（含附件）

The form has no title (主旨 is the subject) and its date is in years of the Republic (民國 110 is
2021). 正本 is what GB/T 9704 calls 主送 and 副本 is 抄送; 受文者 only names the addressee of one
copy. A PDF's text layer glues the labelled pieces of a column into one line and adds the binding
margin (裝 / 訂 / 線, |) down the left edge, so the labels are found anywhere in the text, not at
line starts.
"""

import datetime
import re

from documents.importing.result import ParsedDocument
from documents.importing.text import Line, squeeze

# Labels of the form, the head's and the body's. 「附件」 is the head's only when 「主旨」 follows it.
_LABELS = (
    "檔號",
    "保存年限",
    "地址",
    "聯絡地址",
    "承辦人",
    "聯絡人",
    "電話",
    "聯絡電話",
    "傳真",
    "電子信箱",
    "電子郵件",
    "受文者",
    "發文日期",
    "發文字號",
    "速別",
    "密等及解密條件或保密期限",
    "附件",
    "主旨",
    "說明",
    "辦法",
    "正本",
    "副本",
)
# A text layer glues a column's labelled pieces together (「…27357653發文日期：」), so a label is
# found wherever it stands; only its colon tells it from the same word in a sentence (「如附件」).
_LABEL = re.compile("(" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\s?[:：]")
_ISSUER_LINE = re.compile(r"^(?P<organ>[^\s：:]{2,40}?)\s{0,8}(?P<kind>函|書函|開會通知單)$")
_MARGIN = re.compile(r"^(?:[|｜]\s*|[裝訂線]\s+)+")
_ROC_DATE = re.compile(
    r"(?:中華)?民國\s{0,2}(?P<y>\d{2,3})\s{0,2}年\s{0,2}(?P<m>\d{1,2})\s{0,2}月\s{0,2}(?P<d>\d{1,2})\s{0,2}日"
)
_WITH_ATTACHMENT = re.compile(r"[（(]\s{0,2}(?:含|附|不含)附件\s{0,2}[）)]$")
_NO_ATTACHMENT = re.compile(r"^(?:無|无|如文|如主旨|詳如說明)?$")
_PAGE_FOOTER = re.compile(r"第\s?\d+\s?頁\s?[（(]?\s?共\s?\d+\s?頁\s?[）)]?")


def is_labelled(lines: list[Line]) -> bool:
    """Whether the text is a 函 of the labelled form: an issuer line 「機關 函」 and, below it, the
    labels 發文字號 and 主旨."""
    text = "\n".join(line.text for line in lines[:60])
    return "發文字號" in text and "主旨" in text and _issuer_line(lines) is not None


def _issuer_line(lines: list[Line]) -> tuple[int, re.Match] | None:
    for index, line in enumerate(lines[:12]):
        match = _ISSUER_LINE.match(_MARGIN.sub("", line.text).strip())
        if match and not _LABEL.search(line.text):
            return index, match
    return None


def _fields(lines: list[Line]) -> dict[str, tuple[str, int]]:
    """Each label's text (to the next label) and the source line it starts on; the first of each."""
    pieces: list[tuple[str, int]] = []
    for line in lines:
        text = _MARGIN.sub("", line.text)
        # The first page's footer ends the letter's text: what follows is page 2's or an attachment's.
        text = _PAGE_FOOTER.sub("\n\n", text)
        if text.strip() in {"裝", "訂", "線"}:
            continue
        pieces.append((text, line.number))
    joined, starts, offset = "", [], 0
    for text, number in pieces:
        starts.append((offset, number))
        joined += text + "\n"
        offset = len(joined)
    fields: dict[str, tuple[str, int]] = {}
    matches = list(_LABEL.finditer(joined))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        label = match.group(1)
        end = following.start() if following else len(joined)
        value = joined[match.end() : end]
        if label in {"正本", "副本"}:
            value = value.split("\n\n")[0]
        line = max((number for start, number in starts if start <= match.start()), default=lines[0].number)
        fields.setdefault(label, (value, line))
    return fields


def _names(value: str) -> list[str]:
    """The organs of a 正本 / 副本 line: parted by 、 or ，, each without its 「（含附件）」 note."""
    names = []
    for piece in re.split(r"[、，,]", squeeze(value)):
        name = _WITH_ATTACHMENT.sub("", piece.strip().strip("|｜")).strip()
        if name:
            names.append(name)
    return names


def read_labelled(lines: list[Line]) -> ParsedDocument:
    """The elements of a 函 of the labelled form (see the module's docstring)."""
    document = ParsedDocument(first_line=lines[0].number, last_line=lines[-1].number)
    found = _issuer_line(lines)
    if found is not None:
        _index, match = found
        document.issuer = document.issuer_mark = match["organ"]
        document.kind = match["kind"]
    fields = _fields(lines)
    if "發文字號" in fields:
        value, line = fields["發文字號"]
        number = squeeze(value)
        if number:
            document.number = document.number_text = number
            document.number_line = line
    if "發文日期" in fields:
        value, line = fields["發文日期"]
        date = _ROC_DATE.search(squeeze(value))
        if date:
            try:
                document.written_on = datetime.date(int(date["y"]) + 1911, int(date["m"]), int(date["d"]))
            except ValueError:
                document.warn(line, f"發文日期「{date.group(0)}」不是有效日期")
            document.date_text, document.date_line = date.group(0), line
    if "附件" in fields:
        value, line = fields["附件"]
        attachment = squeeze(value)
        if not _NO_ATTACHMENT.match(attachment):
            document.attachments, document.attachments_line = [attachment], line
    for label, attribute in (("正本", "main_recipients"), ("副本", "cc")):
        if label in fields:
            value, line = fields[label]
            setattr(document, attribute, _names(value))
            setattr(document, f"{attribute}_text", squeeze(value))
            setattr(document, f"{attribute}_line", line)
    if "主旨" in fields:
        value, line = fields["主旨"]
        document.body, document.body_line = squeeze(value), line
        document.warn(line, "此件为公文程式条例的函式样（受文者、主旨、说明、正本、副本），无标题：主旨不是标题")
    return document
