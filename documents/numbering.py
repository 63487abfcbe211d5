"""发文字号: parse and print document numbers (GB/T 9704: full year in 〔〕, serial without leading 0)."""

import re
from typing import NamedTuple

from django.utils.translation import gettext as _

from units.errors import InvalidInput

# 〔〕 is the standard; [] ［］ （） () and 【】 are common in texts typed by hand.
_NUMBER = re.compile(
    r"^\s*(?P<prefix>[^\s〔\[［（(【]+?)\s*[〔\[［（(【]\s*(?P<year>\d{4})\s*[〕\]］）)】]\s*"
    r"(?P<serial>\d+)\s*号?\s*$"
)


class DocumentNumber(NamedTuple):
    prefix: str
    year: int
    serial: int

    def __str__(self) -> str:
        return format_number(self.prefix, self.year, self.serial)


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}〔{year}〕{serial}号"


def parse_number(text: str) -> DocumentNumber:
    """内教工委函〔2022〕90号 -> DocumentNumber("内教工委函", 2022, 90). Raises InvalidInput."""
    match = _NUMBER.match(text or "")
    if match is None:
        raise InvalidInput(
            _("发文字号“%(text)s”格式不正确，应为“机关代字〔年份〕序号号”，例如 内教工委函〔2022〕90号。")
            % {"text": text}
        )
    year, serial = int(match["year"]), int(match["serial"])
    if not 1949 <= year <= 2999:
        raise InvalidInput(_("发文字号“%(text)s”的年份 %(year)d 不合理。") % {"text": text, "year": year})
    if serial < 1:
        raise InvalidInput(_("发文字号“%(text)s”的序号必须从 1 开始。") % {"text": text})
    return DocumentNumber(match["prefix"], year, serial)
