"""Installing Django REST framework (whose Chinese catalogue ranks above Django's) changes no word of
the pages: the project's zh_Hans catalogue gives Django's own Chinese back where the two differ."""

from pathlib import Path

import django
import polib
import rest_framework
from django.utils import translation


def _catalogue(path: Path) -> dict[str, str]:
    return {entry.msgid: entry.msgstr for entry in polib.mofile(str(path))}


def test_where_drf_and_django_translate_alike_messages_apart_django_wins():
    djangos = _catalogue(Path(django.__file__).parent / "conf/locale/zh_Hans/LC_MESSAGES/django.mo")
    for contrib in sorted((Path(django.__file__).parent / "contrib").glob("*/locale/zh_Hans/LC_MESSAGES/django.mo")):
        for msgid, msgstr in _catalogue(contrib).items():
            djangos.setdefault(msgid, msgstr)
    drfs = _catalogue(Path(rest_framework.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.mo")
    differing = sorted(msgid for msgid, msgstr in drfs.items() if msgid in djangos and djangos[msgid] != msgstr)
    assert "This field is required." in differing
    with translation.override("zh-hans"):
        shown = {msgid: translation.gettext(msgid) for msgid in differing}
        assert shown == {msgid: djangos[msgid] for msgid in differing}
        # DRF's own messages, which Django has not, are still Chinese in the API.
        drfs_own = "A valid integer is required."
        assert translation.gettext(drfs_own) == "请填写合法的整数值。"
