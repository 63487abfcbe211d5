"""Chinese first, English available: the English catalogue is complete and compiled."""

import gettext
import subprocess
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale/en/LC_MESSAGES/django.po"
MO = ROOT / "locale/en/LC_MESSAGES/django.mo"


def _live_entries():
    return [entry for entry in polib.pofile(str(PO)) if not entry.obsolete]


def test_every_string_has_an_english_translation():
    untranslated = [entry.msgid for entry in _live_entries() if not entry.translated()]
    fuzzy = [entry.msgid for entry in _live_entries() if "fuzzy" in entry.flags]
    assert (untranslated, fuzzy) == ([], [])


def test_the_compiled_catalogue_matches_the_source():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in _live_entries():
        if entry.msgid_plural and entry.msgctxt:
            found = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 2)
        elif entry.msgid_plural:
            found = compiled.ngettext(entry.msgid, entry.msgid_plural, 2)
        elif entry.msgctxt:
            found = compiled.pgettext(entry.msgctxt, entry.msgid)
        else:
            found = compiled.gettext(entry.msgid)
        assert found == (entry.msgstr_plural[1] if entry.msgid_plural else entry.msgstr), entry.msgid


@pytest.mark.skipif(subprocess.run(["which", "xgettext"], capture_output=True).returncode != 0, reason="no gettext")
def test_the_catalogue_holds_every_string_of_the_code(tmp_path):
    """makemessages into a scratch copy: no string of the code is missing from the catalogue."""
    scratch = tmp_path / "django.pot"
    sources = [
        str(path.relative_to(ROOT))
        for pattern in (
            "units/**/*.py",
            "documents/**/*.py",
            "workflow/**/*.py",
            "web/**/*.py",
            "webhooks/**/*.py",
            "config/*.py",
        )
        for path in ROOT.glob(pattern)
        if "migrations" not in path.parts
    ]
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            "--keyword=_",
            "--keyword=gettext_lazy",
            "--keyword=gettext",
            "--keyword=pgettext:1c,2",
            "-o",
            str(scratch),
            *sources,
        ],
        cwd=ROOT,
        check=True,
    )
    known = {entry.msgid for entry in _live_entries()}
    found = [entry.msgid for entry in polib.pofile(str(scratch)) if entry.msgid]
    assert len(found) > 300  # the scan did read the code
    assert sorted(msgid for msgid in found if msgid not in known) == []
