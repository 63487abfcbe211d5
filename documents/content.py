"""What a drafter writes: the elements of a document, checked and normalised before they are stored.

DocumentContent has one field per element of documents.elements, with its default; the checks that
follow from an element's definition (required, choices, length, range) are made for every element,
the few that are particular to one element are written out below them.
"""

import dataclasses
import datetime
import re

from django.conf import settings
from django.utils.translation import gettext as _

from documents.digest import normalise_text
from documents.elements import ELEMENTS, Classification, Element, Value
from units.display import display_list
from units.errors import InvalidInput

_CLASSIFIED = {Classification.SECRET, Classification.CONFIDENTIAL, Classification.TOP_SECRET}

_PYTHON_TYPES = {
    Value.LINE: str,
    Value.TEXT: str,
    Value.CHOICE: str,
    Value.DATE: datetime.date | None,
    Value.COUNT: int | None,
}


def _field(element: Element) -> tuple[str, object, dataclasses.Field]:
    if element.required and element.default is None and element.fallback is None:
        return element.name, _PYTHON_TYPES[element.value], dataclasses.field()  # must be given
    default = element.empty if element.default is None else element.default
    return element.name, _PYTHON_TYPES[element.value], dataclasses.field(default=default)


def _cleaned(self) -> "DocumentContent":
    """Return a normalised copy, or raise InvalidInput naming the first bad element."""
    values = {}
    for element in ELEMENTS:
        value = getattr(self, element.name)
        if isinstance(value, str):
            value = normalise_text(value)
            if element.value is Value.LINE:
                value = " ".join(value.split())
        values[element.name] = value
    content = type(self)(**values)
    content._check()
    return content


def _check_element(element: Element, value: object) -> None:
    if value in ("", None):
        # An element with a fallback is filled from the draft's unit or recipients when stored.
        if element.required and element.fallback is None:
            raise InvalidInput(_("%(what)s不能为空。") % {"what": element.label})
        return
    if element.choices is not None and value not in element.choices.values:
        raise InvalidInput(
            _("%(what)s“%(value)s”不存在，可选：%(values)s。")
            % {"what": element.label, "value": value, "values": display_list(element.choices.values)}
        )
    if element.max_length is not None and len(value) > element.max_length:
        raise InvalidInput(
            _("%(what)s过长（%(length)d 字，上限 %(limit)d 字）。")
            % {"what": element.label, "length": len(value), "limit": element.max_length}
        )
    if element.max_value is not None and not 1 <= value <= element.max_value:
        raise InvalidInput(
            _("%(what)s %(value)s 不合理（1 至 %(limit)d）。")
            % {"what": element.label, "value": value, "limit": element.max_value}
        )


def _check(self) -> None:
    for element in ELEMENTS:
        _check_element(element, getattr(self, element.name))
    if self.classification in _CLASSIFIED and not settings.CLASSIFIED_ALLOWED:
        raise InvalidInput(_("本系统不是涉密信息系统，不能处理%(level)s公文。") % {"level": self.classification})
    if self.copy_number and not re.fullmatch(r"\d{6}", self.copy_number):
        raise InvalidInput(_("份号“%(value)s”应为 6 位阿拉伯数字。") % {"value": self.copy_number})
    if self.printed_on and self.written_on and self.printed_on < self.written_on:
        raise InvalidInput(_("印发日期不能早于成文日期。"))


DocumentContent = dataclasses.make_dataclass(
    "DocumentContent",
    [_field(element) for element in ELEMENTS],
    namespace={
        "__module__": __name__,
        "__doc__": "The elements of 条例 第九条 a drafter supplies, by keyword. The number is not here: it is "
        "allocated at issue. Those with a fallback (documents.elements.Fallback) may be left empty.",
        "cleaned": _cleaned,
        "_check": _check,
    },
    frozen=True,
    kw_only=True,
)
