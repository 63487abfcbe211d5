"""Lists joined for display, in the language of the person reading them.

Chinese joins a list with 、 (甲、乙、丙) and alternatives with 或; English with ", " and " or ".
Every list a page, a message or the admin shows is joined here. The text of a document itself (its
主送, written in Chinese whatever the reader's language) is content, not display: it keeps 、.
"""

from collections.abc import Iterable

from django.utils.translation import get_language


def _is_english() -> bool:
    return (get_language() or "").startswith("en")


def list_separator() -> str:
    """What goes between two items of a list: 、 or ", "."""
    return ", " if _is_english() else "、"


def display_list(items: Iterable[object]) -> str:
    """甲、乙、丙 / A, B, C."""
    return list_separator().join(str(item) for item in items)


def display_alternatives(items: Iterable[object]) -> str:
    """甲或乙 / A or B."""
    return (" or " if _is_english() else "或").join(str(item) for item in items)
