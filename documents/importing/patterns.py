"""The shapes of the elements as real texts write them, and small functions that read one element.

Every pattern is bounded ({m,n}, never an open-ended repeat of a group that can itself repeat), so
no text, however long or strange, makes a match take more than linear time.
"""

import datetime
import re
from typing import NamedTuple

from documents.models import Kind

# --- 发文字号 -------------------------------------------------------------------------------------
# 〔〕 is the standard; texts typed by hand use [] ［］ （） () 【】 too, web pages the small form ﹝﹞,
# a two-digit year, 第, or a serial padded with zeros. Each deviation is read, then reported by the
# conformance check. Copies in traditional characters (Big5 公报 pages) end the number in 號.
_OPEN, _CLOSE = "〔\\[［（(【﹝", "〕\\]］）)】﹞"
_NUMBER_TAIL = (
    rf"\s{{0,3}}(?P<open>[{_OPEN}])\s{{0,3}}(?P<year>\d{{2,4}})\s{{0,3}}(?P<close>[{_CLOSE}])"
    r"\s{0,3}(?P<di>第)?\s{0,3}(?P<serial>\d{1,6})\s{0,3}(?P<hao>[号號])"
)
# A number standing on its own: its prefix starts at the line start, after a space or after an
# urgency word (等级 特提 内组电明字…); a number cited in a sentence follows 《》（ and is not matched.
# A sentence that opens with a citation (根据教党〔2009〕20号和…) is not a number line.
NUMBER = re.compile(
    r"(?:^|(?<=[\s：:])|(?<=特提|特急|加急|平急|编号))(?!根据|依据|按照|参照|遵照|依照)"
    r"(?P<prefix>[\u4e00-\u9fffA-Za-z]{1,40}?)" + _NUMBER_TAIL
)
# A number anywhere, for citations: （内组电明字〔2022〕11号）.
CITED_NUMBER = re.compile(r"(?P<prefix>[\u4e00-\u9fffA-Za-z]{1,20}?)" + _NUMBER_TAIL)
# Where an issuer mark glued to its number ends (中共…委员会内教工委函〔2022〕90号): the longest
# organ endings only, so that a prefix such as 内教工委函 is never cut inside.
_MARK_END = re.compile(r".*(?:委员会|人民政府|办公厅|办公室|文件|明传电报|电报)")
_PREFIX_MAX = 12


class NumberMatch(NamedTuple):
    text: str  # as printed
    normalised: str  # 内教工委函〔2022〕90号, or the printed text when the year is not a full year
    prefix: str
    year: int | None
    serial: int
    start: int
    end: int
    before: str  # what the prefix swallowed before the real prefix (an issuer mark glued to it)
    problems: tuple[str, ...]


def read_number(match: re.Match) -> NumberMatch:
    prefix, before = match["prefix"], ""
    if len(prefix) > _PREFIX_MAX:
        glued = _MARK_END.match(prefix)
        if glued and glued.end() < len(prefix):
            before, prefix = prefix[: glued.end()], prefix[glued.end() :]
    problems = []
    if match["open"] != "〔" or match["close"] != "〕":
        problems.append(f"年份应使用六角括号“〔〕”，不应使用“{match['open']}{match['close']}”")
    if len(match["year"]) != 4:
        problems.append("年份应标全称（四位数字）")
    if match["di"]:
        problems.append("序号前不加“第”字")
    if len(match["serial"]) > 1 and match["serial"].startswith("0"):
        problems.append("序号不编虚位（前面不加 0）")
    serial = int(match["serial"])
    year = int(match["year"]) if len(match["year"]) == 4 else None
    text = match.group(0)[len(before) :]
    normalised = f"{prefix}〔{year}〕{serial}{match['hao']}" if year else re.sub(r"\s", "", text)
    return NumberMatch(
        text, normalised, prefix, year, serial, match.start() + len(before), match.end(), before, tuple(problems)
    )


# --- 成文日期 -------------------------------------------------------------------------------------
_ZERO = "〇○OoΟ０0零"
_CN_DIGITS = {**dict.fromkeys(_ZERO, 0), **{c: i for i, c in enumerate("一二三四五六七八九", 1)}}
_ARABIC_DATE = r"(?P<y>\d{4})\s{0,2}年\s{0,2}(?P<m>\d{1,2})\s{0,2}月\s{0,2}(?P<d>\d{1,2})\s{0,2}日"
_CHINESE_DATE = (
    rf"(?P<cy>[{_ZERO}一二三四五六七八九]{{4}})\s{{0,2}}年\s{{0,2}}(?P<cm>[一二三四五六七八九十]{{1,2}})\s{{0,2}}月"
    r"\s{0,2}(?P<cd>[一二三四五六七八九十]{1,3})\s{0,2}日"
)
_ISO_DATE = r"(?P<iy>\d{4})(?P<sep>[-./])(?P<im>\d{1,2})(?P=sep)(?P<id>\d{1,2})"
DATE = re.compile(f"{_ARABIC_DATE}|{_CHINESE_DATE}|{_ISO_DATE}")


class DateMatch(NamedTuple):
    text: str
    value: datetime.date | None
    problems: tuple[str, ...]


def _chinese_number(text: str) -> int | None:
    """十 → 10, 十三 → 13, 二十 → 20, 三十一 → 31, 一 → 1; None for anything else."""
    if "十" not in text:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    tens_value = _CN_DIGITS.get(tens, 0) if tens else 1
    units_value = _CN_DIGITS.get(units, 0) if units else 0
    return tens_value * 10 + units_value


def read_date(match: re.Match) -> DateMatch:
    """The date a match names, and how it departs from GB/T 9704's 2022年10月13日."""
    problems = []
    if match["y"]:
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        if match["m"].startswith("0") or match["d"].startswith("0"):
            problems.append("月、日不编虚位（不在前面加 0）")
    elif match["cy"]:
        year = int("".join(str(_CN_DIGITS[c]) for c in match["cy"]))
        month, day = _chinese_number(match["cm"]) or 0, _chinese_number(match["cd"]) or 0
        problems.append("成文日期应使用阿拉伯数字（如 2022年10月13日）")
    else:
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
        problems.append("成文日期应写作“2022年10月13日”的形式")
    try:
        value = datetime.date(year, month, day)
    except ValueError:
        value = None
        problems.append(f"日期“{match.group(0)}”不存在")
    return DateMatch(match.group(0), value, tuple(problems))


# --- 文种, 紧急程度, 密级 ------------------------------------------------------------------------
# Longest first, so that 明传电报 wins over 电报 and 通报 is not read as 报.
_KIND_ENDINGS: list[tuple[str, str]] = sorted(
    [(value, value) for value in Kind.values]
    + [("令", Kind.ORDER), ("命令（令）", Kind.ORDER), ("会议纪要", Kind.MINUTES), ("电报", Kind.TELEGRAM)],
    key=lambda pair: -len(pair[0]),
)
_TRAILING = "。.，,；;：:\"“”'’）)》 "


def kind_of_title(title: str) -> str | None:
    """The 文种 a title ends with (…的通知 → 通知), or None."""
    stripped = title.rstrip(_TRAILING)
    # A trailing qualifier in brackets does not hide the kind: …的通知（试行）.
    stripped = re.sub(r"[（(][^（）()]{1,6}[）)]$", "", stripped)
    for ending, kind in _KIND_ENDINGS:
        if stripped.endswith(ending):
            return kind
    return None


def kind_of_mark(mark: str) -> str | None:
    """明传电报 and 电报 are kinds named by the issuer mark; 文件 is not a kind."""
    return Kind.TELEGRAM if re.search(r"(明传)?电报$", mark) else None


def issuer_of_mark(mark: str) -> str:
    """The organ named by an issuer mark: 中共…组织部明传电报 → 中共…组织部; …委员会文件 → …委员会."""
    organ = re.sub(r"\s*(明传电报|电报|文件)$", "", mark).strip()
    return organ or mark


_URGENCY_WORD = r"(?P<urgency>特\s?提|特\s?急|加\s?急|平\s?急)"
URGENCY = re.compile(rf"(?:等\s{{0,3}}级|紧\s?急\s?程\s?度)\s{{0,3}}[:：]?\s{{0,3}}{_URGENCY_WORD}")
URGENCY_ALONE = re.compile(rf"^{_URGENCY_WORD}(?:\s?件)?$")
CLASSIFICATION = re.compile(
    r"(?:^|(?<=\s))(?P<level>绝\s?密|机\s?密|秘\s?密)(?:\s{0,2}★\s{0,2}(?P<period>[^\s]{1,12}))?(?=\s|$)"
)
INTERNAL = re.compile(r"^(?:内部|内部资料|内部文件|内部明电)$")
PUBLIC_NOTE = re.compile(r"此件公开发布|公开发布")
COPY_NUMBER = re.compile(r"^(?:份号\s{0,2}[:：]?\s{0,2})?(?P<copy>\d{6})$")
SIGNER = re.compile(r"签\s?发\s?人\s{0,3}[:：]\s{0,3}(?P<signer>[\u4e00-\u9fff·\s]{2,20})")
PAGE_COUNT = re.compile(r"(?<!第)共\s{0,3}(?P<pages>\d{1,4})\s{0,3}页")

# --- The telegram header (明传电报) --------------------------------------------------------------
SEND_TO = re.compile(r"发\s?往(?:\s?地\s?址)?\s{0,3}[:：]?\s{0,3}(?P<to>.{1,100})$")
APPROVAL = re.compile(r"签\s?批(?:\s?盖\s?章)?\s{0,3}[:：]?\s{0,3}(?P<approval>.{1,100})$")

# --- 主送, 抄送, 附件, 印发 -----------------------------------------------------------------------
CC = re.compile(r"^抄\s?送(?:\s?机\s?关)?\s{0,3}[:：]\s{0,3}(?P<cc>.*)$")
ATTACHMENTS = re.compile(r"^附\s?件\s{0,3}[:：]\s{0,3}(?P<first>.*)$")
ATTACHMENT_ITEM = re.compile(r"^(?P<n>\d{1,2})\s{0,2}[.．、]\s{0,2}(?P<name>.+)$")
PRINTED = re.compile(rf"^(?P<organ>.{{0,60}}?)\s{{0,6}}(?:{_ARABIC_DATE})\s{{0,3}}印\s?发$")
# Organs end like this; used to tell a signature or an issuer mark from a line of text.
ORGAN_ENDING = re.compile(
    r"(?:委员会|党委|工委|政府|办公厅|办公室|组织部|宣传部|统战部|部|厅|局|委|院|署|会|办|处|室|中心|学校|大学|学院|公司|文件|电报"
    # Traditional characters (Big5 copies of 公报: 國務院辦公廳).
    r"|廳|會|辦|處)$"
)
# Headings of a body (一、 （一） 1. 第一条): they end without punctuation but are not wrapped lines.
HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.．、]|第[一二三四五六七八九十百\d]{1,4}[章节条])"
)
SENTENCE_END = "。！？!?；;…”’」』）)：:"
