"""What a web page puts around the document it publishes: page chrome and metadata blocks.

Government portals, law databases, wikis and university sites publish a document inside a page:
breadcrumbs (「当前位置：首页 > 政务公开 > …」), site lines (「中央政府门户网站 www.gov.cn」), widgets
(「字号：大 中 小」「打印本页」「扫一扫」「分享到」), a publishing line (「发布时间：… 浏览次数：…」) and, on
信息公开 pages, a metadata block naming the document (索引号 / 发布机构 / 文号 / 成文日期 / 主题分类 …)
as `label：value` lines, `label | value |` table rows, a label on one line and its value on the
next, or 【label】value lines. The page often prints the document's title once more as its heading.

`read_page` takes these out of the lines before the parser looks for documents, and keeps what the
metadata block says of the document (PageMetadata). `apply_metadata` then fills, from it, only the
elements the document itself does not print: its 文号 and 成文日期 (never the 发布日期, which is when
the page went up), its title, and — weakest of all, since a portal republishes other organs'
documents under its own name — the 发布机构 as the issuer when the document names none at all.
Each value so taken is reported with a warning, for the clerk to check.
"""

import re
from dataclasses import dataclass, field

from documents.importing import patterns
from documents.importing.text import Line, squeeze

# --- Metadata labels -------------------------------------------------------------------------------
# The labels of a metadata block, by what their value is. Only these three kinds are used; the rest
# are read so that their line is known to be metadata, then dropped.
_NUMBER_LABELS = ["文号", "发文字号", "文件编号", "发文号", "备注/文号", "文件字号"]
_WRITTEN_LABELS = ["成文日期", "成文时间"]
_PUBLISHER_LABELS = ["发布机构", "发布机关", "发文机关", "发文机构", "制定机关", "颁布单位", "发布部门", "发文单位"]
_TITLE_LABELS = ["名称", "标题", "文件名称"]
_OTHER_LABELS = [
    "索引号",
    "主题分类",
    "组配分类",
    "信息分类",
    "体裁分类",
    "公文种类",
    "有效性",
    "公开日期",
    "公开方式",
    "公开时限",
    "公开范围",
    "公开目录",
    "生成日期",
    "公文生成日期",
    "发文日期",
    "发布日期",
    "生效时间",
    "生效日期",
    "废止时间",
    "失效时间",
    "关键词",
    "主题词",
    "内容概述",
    "效力级别",
    "效力等级",
    "公布日期",
    "施行日期",
    "颁布时间",
    "颁布日期",
    "时效性",
    "主题类别",
    "法规来源",
    "法规全文",
    "正文",
    "所属机构",
    "信息来源",
    "服务对象",
    "统一编号",
    "登记号",
]
_LABELS = sorted(
    {*_NUMBER_LABELS, *_WRITTEN_LABELS, *_PUBLISHER_LABELS, *_TITLE_LABELS, *_OTHER_LABELS}, key=lambda x: -len(x)
)


def _spaced(label: str) -> str:
    """A label as portals print it: 「索 引 号」「文      号」 (letter-spaced to fill a table cell)."""
    return r"\s{0,6}".join(re.escape(char) for char in label)


_LABEL = "|".join(_spaced(label) for label in _LABELS)
# A label followed by its colon, where a cell starts: at the line start, after a bullet, a space or |.
_LABEL_COLON = re.compile(rf"(?:^|(?<=[\s|｜]))(?:【\s?)?(?P<label>{_LABEL})\s{{0,3}}(?:[:：]|】)")
_BULLET = re.compile(r"^(?:[-•·*]\s{0,3}|\d{1,2}\s?[.．、]\s{0,3})")
_BARE_LABEL = re.compile(rf"^(?:{_LABEL})\s{{0,3}}[:：]?$")
# A label glued to its value with no colon (「文号国办发明电[1994]38号」「制定机关国务院办公厅」), as old
# law databases print their records: only in a block of such lines, never in the document.
_GLUED_LABEL = re.compile(rf"^(?P<label>{_LABEL})(?P<value>\S.{{0,60}})$")


def _label_name(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- Page chrome -------------------------------------------------------------------------------------
# Whole lines that a page adds anywhere: widgets, publishing lines, breadcrumbs, table-cell rules.
_CHROME = re.compile(
    "|".join(
        [
            r"[|｜\s]{1,20}",  # what is left of a layout table's cells
            # Breadcrumbs: 「您的当前位置：」「當前位置:首頁>>」, or a path of links from the home page.
            r"(?:您的当前位置|您目前的位置|您当前的位置|您当前位置|当前位置|您的位置|您现在的位置|所在位置|當前位置|現在位置)\s{0,2}[:：].*",
            r".{0,20}首[页頁]\s{0,2}(?:>|»|＞|›|→|\\).*",
            # Publishing lines: who put the page up, when, how often it was read.
            r"[-•·]?\s{0,2}(?:发布人|发布者|发布时间|发布日期|浏览次数|阅读次数|访问次数|点击数|点击次数|浏览量|"
            r"稿件来源|文章来源|归档时间|视力保护色)\s{0,2}[:：].*",
            r".*语音阅读正文.*",
            r"(?:【[^】]{1,8}】\s{0,3}){1,6}[|｜]?",  # 【打印本页】【关闭窗口】
            r"(?:扫一扫|分享到|信息公开选项|打印本页|关闭窗口|下载地址\s{0,2}[:：]).*",
            # A wiki's own lines: its menu, its motto, the collection a text belongs to.
            r"外观|.{0,10}(?:维基文库|中华文库)[，,\s].{0,12}|本作品收[录錄][于於].*",
        ]
    )
)
# Lines that never hold a Chinese character (「EN」「Share」「https://www.gov.cn/」「200」): above the
# document they are the page's, never the document's (a 份号 of six digits excepted).
_NO_CHINESE = re.compile(r"[^\u3400-\u9fff]*")
_URL = re.compile(r"(?:https?://|www\.)\S+")


# Above the document only: labels that a body may use too (「时间：」「地点：」 in a meeting notice).
_HEAD_CHROME = re.compile(
    "|".join(
        [
            r"[-•·]?\s{0,2}(?:浏览|来源|來源|作者|日期|时间|字号|字体)\s{0,2}[:：].*",
            r"(?:字号|字体)\s{0,2}(?:[【\[].*|大\s?中\s?小.*)?",
            r"(?:>|»|＞|›)\s{0,2}\S.*",  # the rest of a breadcrumb wrapped onto its own line
            # The site's name: 「法搜网--中国法律信息搜索网」「法律资料网」 (an organ never ends in 网; 电网 does).
            r"[^\s，。：:]{1,20}(?<!电)(?:网|网站|網|網站)(?:\s{0,2}[-—–_|]{1,2}\s{0,2}[^\s，。]{1,30})?",
        ]
    )
)


def is_chrome(text: str, *, head: bool = False) -> bool:
    return bool(_CHROME.fullmatch(text) or (head and _HEAD_CHROME.fullmatch(text)))


@dataclass
class PageMetadata:
    """What a page's metadata block says of the document, each with the source line it is on."""

    number: tuple[str, int] | None = None
    written_on: tuple[str, int] | None = None
    publisher: tuple[str, int] | None = None
    title: tuple[str, int] | None = None
    written_from: str = "网页的成文日期栏"
    lines: list[Line] = field(default_factory=list)  # the page's lines, chrome and metadata out

    def take(self, label: str, value: str, line: int) -> None:
        value = value.strip().strip("|｜").strip()
        if not value:
            return
        name = _label_name(label)
        if name in _NUMBER_LABELS and self.number is None:
            self.number = (value, line)
        elif name in _WRITTEN_LABELS and self.written_on is None:
            self.written_on = (value, line)
        elif name in _PUBLISHER_LABELS and self.publisher is None:
            self.publisher = (value, line)
        elif name in _TITLE_LABELS and self.title is None:
            self.title = (value, line)


def read_page(lines: list[Line]) -> PageMetadata:
    """The lines without the page's chrome and metadata, and what the metadata says."""
    page = PageMetadata()
    lines = [line for line in lines if line.text]
    head_end = _head_end(lines)
    # Above the breadcrumb: the site's banner and menus (「法规库」「通知公告」「共收录 303235 条法规」).
    crumb = next((index for index in range(head_end) if _BREADCRUMB.fullmatch(lines[index].text)), None)
    index = crumb + 1 if crumb is not None else 0
    kept: list[Line] = []
    headings: list[int] = []  # kept lines standing right above a publishing line: page headings
    while index < len(lines):
        line = lines[index]
        head = index < head_end
        text = _BULLET.sub("", line.text) if head else line.text
        if is_chrome(line.text, head=head) or is_chrome(text, head=head):
            if head and kept and _PUBLISHING.fullmatch(text) and _looks_like_heading(kept[-1].text):
                headings.append(len(kept) - 1)
            index += 1
            continue
        if head:
            consumed = _read_metadata(page, lines, index, head_end)
            if consumed:
                _drop_block_values(kept, lines[index + consumed :])
                index += consumed
                continue
            if _NO_CHINESE.fullmatch(text) and not patterns.COPY_NUMBER.match(text):
                if kept and _TIMESTAMP.fullmatch(text) and _looks_like_heading(kept[-1].text):
                    headings.append(len(kept) - 1)
                index += 1
                continue
            if _URL.search(text):  # a site line: 「中央政府门户网站 www.gov.cn 2005年08月25日 来源：…」
                index += 1
                continue
            dated = _NUMBER_AND_DATE.fullmatch(text)
            if dated:  # 「（甬政发[2001]159号 2001年12月5日）」 under a database's title
                if page.written_on is None:
                    page.written_on, page.written_from = (dated["date"], line.number), "数据库标题下的日期"
                kept.append(Line(line.number, f"（{dated['number']}）"))
                index += 1
                continue
            repost = _REPOST.match(text)
            if repost and patterns.kind_of_title(text[repost.end() :]):
                line = Line(line.number, text[repost.end() :].strip())
            pieces = _split_heading_line(line)
            if pieces:
                kept.extend(pieces)
                index += 1
                continue
        kept.append(line)
        index += 1
    kept = _drop_page_headings(kept, headings, _head_end(kept))
    page.lines = _drop_repeated_headings(kept, _head_end(kept), page)
    return page


_NUMBER_AND_DATE = re.compile(
    rf"[（(]\s{{0,2}}(?P<number>{patterns.CITED_NUMBER.pattern})\s{{1,3}}(?P<date>{patterns.DATE.pattern})\s{{0,2}}[）)]"
)
# 「转发医学部：关于…的通知」「转载：…」: a site's note that it reposts another office's notice; the
# colon shows it is no 转发 title (a title never holds one).
_REPOST = re.compile(r"^(?:转发|转载|轉發|轉載)[^：:\s]{0,12}[：:]\s{0,2}(?=\S)")
_BREADCRUMB = re.compile(
    r"(?:您的当前位置|您目前的位置|您当前的位置|您当前位置|当前位置|您的位置|您现在的位置|所在位置|當前位置|現在位置)\s{0,2}[:：].*"
    r"|.{0,20}首[页頁]\s{0,2}(?:>|»|＞|›|→).*"
)
_PUBLISHING = re.compile(
    r"(?:发布人|发布者|发布时间|发布日期|浏览次数|阅读次数|访问次数|点击数|点击次数|浏览量|浏览|来源|日期|时间)\s{0,2}[:：].*"
)
_TIMESTAMP = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:\s{1,3}\d{1,2}:\d{2}(?::\d{2})?)?")


def _looks_like_heading(text: str) -> bool:
    return 4 <= len(text) <= 120 and text[-1] not in "。；;：:，,"


def _drop_page_headings(lines: list[Line], headings: list[int], head_end: int) -> list[Line]:
    """A page heading above its publishing line (「发布时间：…」, a bare timestamp) that is not the
    document's title: the document prints a title of its own further down (with its 文种)."""
    drop = set()
    for index in headings:
        text = squeeze(lines[index].text)
        later = [squeeze(line.text) for line in lines[index + 1 : head_end]]
        if any(patterns.kind_of_title(other) and other != text for other in later):
            drop.add(index)
    return [line for index, line in enumerate(lines) if index not in drop]


def _drop_block_values(kept: list[Line], rest: list[Line]) -> None:
    """A wiki prints its metadata as lines: the title, the number, the date, then 「发布机关：…」.
    Right above a metadata line, a bare date is the page's, and so is a number the document prints
    again below."""
    below = {squeeze(line.text) for line in rest[:40]}
    while kept:
        text = kept[-1].text
        if patterns.DATE.fullmatch(text) or (patterns.NUMBER.fullmatch(text) and squeeze(text) in below):
            kept.pop()
        else:
            break


def _split_heading_line(line: Line) -> list[Line] | None:
    """「国务院办公厅关于…的函 国办函〔2001〕72号 2001年12月18日 |」: a wiki runs its heading together —
    the title, the number and the date on one line. The title and the number go on lines of their
    own; the date is the page's (the document prints its own)."""
    text = line.text.rstrip("|｜ ").strip()
    pieces = text.split()
    if len(pieces) < 2 or not patterns.kind_of_title(pieces[0]) or not _is_page_heading(" ".join(pieces[1:])):
        return None
    numbers = [piece for piece in pieces[1:] if patterns.NUMBER.fullmatch(piece)]
    return [Line(line.number, pieces[0]), *(Line(line.number, number) for number in numbers)]


def _head_end(lines: list[Line]) -> int:
    """Where the page's head ends: at the 主送 or the first paragraph (a sentence of some length)."""
    for index, line in enumerate(lines):
        text = line.text
        if _LABEL_COLON.search(text) or _BARE_LABEL.match(_BULLET.sub("", text)) or is_chrome(text, head=True):
            continue
        if text.endswith(("：", ":")) and len(text) <= 300:
            return index
        if len(text) > 40 and re.search(r"[。，；]", text):
            return index
    return len(lines)


def _read_metadata(page: PageMetadata, lines: list[Line], index: int, head_end: int) -> int:
    """Read the metadata at lines[index]; return how many lines it took (0: not metadata)."""
    text = _BULLET.sub("", lines[index].text)
    if _BARE_LABEL.match(text):  # the label alone: its value is the next line, unless that is a label
        label = re.sub(r"[:：]$", "", text).strip()
        following = lines[index + 1].text if index + 1 < head_end else ""
        if following and not _starts_with_label(following) and not is_chrome(following, head=True):
            page.take(label, following, lines[index + 1].number)
            return 2
        return 1
    if "|" in text or "｜" in text:
        cells = [cell.strip() for cell in re.split(r"[|｜]", text)]
        if any(_BARE_LABEL.match(cell) for cell in cells if cell):
            for position, cell in enumerate(cells):
                if cell and _BARE_LABEL.match(cell):
                    value = cells[position + 1] if position + 1 < len(cells) else ""
                    if not _BARE_LABEL.match(value):
                        page.take(re.sub(r"[:：]$", "", cell), value, lines[index].number)
            return 1
    if _BRACKET_LABEL.match(text):  # 【法规层次】… — a database record's field, whatever its label
        for match in _LABEL_COLON.finditer(text):
            following = _BRACKET_LABEL.search(text, match.end())
            page.take(
                match["label"], text[match.end() : following.start() if following else len(text)], lines[index].number
            )
        return 1
    matches = list(_LABEL_COLON.finditer(text))
    if matches:
        head = text[: matches[0].start()].strip()
        if head and not _is_page_heading(head):
            return 0
        for position, match in enumerate(matches):
            end = matches[position + 1].start() if position + 1 < len(matches) else len(text)
            page.take(match["label"], text[match.end() : end], lines[index].number)
        return 1
    spaced = _read_spaced_pairs(page, text, lines[index].number)
    if spaced:
        return 1
    if _in_glued_block(lines, index, head_end):
        glued = _GLUED_LABEL.match(text)
        page.take(glued["label"], glued["value"], lines[index].number)
        return 1
    return 0


_BRACKET_LABEL = re.compile(r"(?:^|(?<=\s))【[^】]{1,8}】")


def _starts_with_label(text: str) -> bool:
    text = _BULLET.sub("", text)
    return bool(_BARE_LABEL.match(text) or _LABEL_COLON.match(text))


def _is_page_heading(text: str) -> bool:
    """What a wiki's metadata line starts with before its labels: the title, number and date."""
    pieces = text.split()
    return all(
        patterns.NUMBER.fullmatch(piece) or patterns.DATE.fullmatch(piece) or patterns.kind_of_title(piece)
        for piece in pieces
    )


_SPACED_PAIR = re.compile(rf"(?:^|(?<=\s))(?P<label>{'|'.join(re.escape(label) for label in _LABELS)})\s{{1,6}}")


def _read_spaced_pairs(page: PageMetadata, text: str, number: int) -> bool:
    """「索引号 0010…/2011-204477 主题分类 综合类」: labels and values separated by spaces only. Taken
    when the line starts with a label and holds at least two (one pair alone could be a sentence)."""
    matches = list(_SPACED_PAIR.finditer(text))
    if len(matches) < 2 or matches[0].start() != 0:
        return False
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(text)
        page.take(match["label"], text[match.end() : end], number)
    return True


def _in_glued_block(lines: list[Line], index: int, head_end: int) -> bool:
    """A line 「文号国办发明电[1994]38号」 counts as a label glued to its value only inside a block of at
    least three such lines, the way a law database's record prints them."""
    if not _GLUED_LABEL.match(lines[index].text):
        return False
    start = index
    while start > 0 and _GLUED_LABEL.match(lines[start - 1].text):
        start -= 1
    end = index
    while end + 1 < head_end and _GLUED_LABEL.match(lines[end + 1].text):
        end += 1
    return end - start >= 2


def _drop_repeated_headings(lines: list[Line], head_end: int, page: PageMetadata) -> list[Line]:
    """The page prints the document's title as its heading, then the document prints it again
    (wrapped over lines, or followed by its number in brackets): the earlier copy is the page's. The
    heading also tells that the wrapped lines are one title: they are joined into one line.

    Law databases print the title, their 发布机关 field on a line alone, then the title again: an
    organ's name between two copies of the title is that field (a weak hint of the issuer), not the
    issuer mark."""
    result = list(lines)
    index = 0
    while index < min(head_end, len(result)):
        text = _compact(result[index].text)
        if patterns.kind_of_title(text):
            for later in range(index + 1, min(head_end, len(result))):
                joined, count = "", 0
                for piece in result[later : min(later + 4, head_end)]:
                    joined += _compact(piece.text)
                    count += 1
                    if len(joined) >= len(text):
                        break
                if joined == text or (joined.startswith(text) and _is_bracketed_number(joined[len(text) :])):
                    merged = [Line(result[later].number, text)]
                    if joined != text:  # 「…的通知 (国办发明电〔2001〕1号)」: the number on a line of its own
                        merged.append(Line(result[later + count - 1].number, joined[len(text) :]))
                    result[later : later + count] = merged
                    between = result[index + 1 : later]
                    if len(between) == 1 and _is_organ(between[0].text):
                        if page.publisher is None:
                            page.publisher = (squeeze(between[0].text), between[0].number)
                        del result[index + 1]
                        head_end -= 1
                    del result[index]
                    head_end -= count - len(merged)
                    index -= 1
                    break
        index += 1
    return result


def _is_organ(text: str) -> bool:
    return (
        len(text) <= 40 and not re.search(r"[，。；：:,;！？《》]", text) and bool(patterns.ORGAN_ENDING.search(text))
    )


def _compact(text: str) -> str:
    return re.sub(r"\s", "", text)


def _is_bracketed_number(text: str) -> bool:
    return bool(re.fullmatch(r"[（(]\s?" + patterns.CITED_NUMBER.pattern + r"\s?[）)]", text))


# --- Using the metadata -------------------------------------------------------------------------------


def apply_metadata(document, page: PageMetadata) -> None:
    """Fill from the page's metadata the elements the document does not print, each with a warning."""
    if document.number is None and page.number is not None:
        value, line = page.number
        match = patterns.CITED_NUMBER.fullmatch(value.replace(" ", ""))
        if match is not None:
            number = patterns.read_number(match)
            document.number, document.number_text, document.number_line = number.normalised, number.text, line
            document.warn(line, f"文中未印发文字号，取自网页的文号栏：“{value}”，请核对", field="number")
    if document.written_on is None and page.written_on is not None:
        value, line = page.written_on
        match = patterns.DATE.fullmatch(value.split()[0]) if value.split() else None
        if match is not None:
            date = patterns.read_date(match)
            if date.value is not None:
                document.written_on, document.date_text, document.date_line = date.value, date.text, line
                document.warn(line, f"文中未找到成文日期，取自{page.written_from}：“{value}”，请核对", field="date")
    if document.title is None and page.title is not None:
        value, line = page.title
        if patterns.kind_of_title(value):
            document.title, document.title_line = squeeze(value), line
            document.kind = document.kind or patterns.kind_of_title(value)
            document.warn(line, f"文中未找到标题，取自网页的名称栏：“{value}”，请核对", field="title")
    if (
        document.issuer is None
        and document.signature_organ is None
        and page.publisher is not None
        and patterns.kind_of_title(document.title or "")
        and not _title_names_issuer(document.title)
        and not _signed(document)
    ):
        value, line = page.publisher
        organ = squeeze(value)
        if patterns.ORGAN_ENDING.search(organ) and len(organ) <= 40 and not re.search(r"[，。；：:]", organ):
            document.issuer = organ
            document.warn(
                line,
                f"文中未写明发文机关，暂取网页的发布机构“{organ}”（网页可能转载他机关的公文），请核对",
                field="issuer",
            )


def _signed(document) -> bool:
    """A short line right above the date: a 署名 the parser did not take (「浙江教育报刊总社」), which
    still says the document names its issuer."""
    if not document.date_text:
        return False
    lines = [line.strip() for line in document.text.split("\n") if line.strip()]
    at = next((index for index in range(len(lines) - 1, -1, -1) if document.date_text in lines[index]), None)
    if not at:
        return False
    above = lines[at - 1]
    return len(above) <= 40 and not re.search(r"[。，；：:,;！？]", above)


def _title_names_issuer(title: str | None) -> bool:
    """「X关于…」「X转发…」「X印发…」: the title names its issuer, and the page's 发布机构 may not."""
    return bool(title and re.search(r"^.{2,}?(?:关于|關於|转发|轉發|印发|印發)", title))
