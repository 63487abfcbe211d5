"""The faces of the official layout (GB/T 9704-2012): each element prints in the face of its role, the
Fandol faces stand in for the licensed ones, and OFFICIAL_FONTS_DIR puts a licensed face in its place."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from fontTools import subset
from fontTools.ttLib import TTFont

from documents.faces import FANDOL_DIR, ROLES, role_file
from documents.models import Urgency
from documents.rendering import render_pdf
from tests.documents.pdf_measure import embedded_fonts, find_line, page_lines
from tests.factories import issue

FANG, XBS, HEI, KAI, SONG = (
    "FandolFang-Regular",
    "FandolSong-Bold",
    "FandolHei-Regular",
    "FandolKai-Regular",
    "FandolSong-Regular",
)
BODY = "各单位要认真做好测试工作。\n一、提高政治站位\n（一）加强组织领导\n要把各项工作落到实处。"


@pytest.fixture
def notice(world):
    """A notice with every element that has a face of its own: marks, 签发人, both heading levels."""
    document, _dispatch = issue(
        world.zzb,
        world.department,
        main=[world.education],
        title="关于做好测试工作的通知",
        body=BODY,
        urgency=Urgency.EXTRA_URGENT,
        signatory="李玉刚",
    )
    return document


def test_each_element_prints_in_the_face_of_its_role(notice):
    lines = page_lines(render_pdf(notice))[0]

    assert find_line(lines, "特急").fonts == {HEI}  # 紧急程度: 黑体
    assert find_line(lines, notice.issuer_mark).fonts == {XBS}  # 发文机关标志: 小标宋, red
    assert find_line(lines, notice.issuer_mark).colors == {(0.902, 0.0, 0.071)}
    number_line = find_line(lines, "签发人")
    assert number_line.fonts == {FANG, KAI}  # 签发人：仿宋, the name 楷体
    assert find_line(lines, "关于做好测试工作的通知").fonts == {XBS}  # 标题: 小标宋
    assert find_line(lines, "各单位要认真做好测试工作").fonts == {FANG}  # 正文: 仿宋
    assert find_line(lines, "一、提高政治站位").fonts == {HEI}
    assert find_line(lines, "（一）加强组织领导").fonts == {KAI}
    assert find_line(lines, "— 1 —").fonts == {SONG}  # 页码: 宋体


def test_a_heading_that_runs_on_into_its_paragraph_takes_its_face_up_to_its_full_stop_only(world):
    body = "一、考核范围\n（一）个人述职。述职人员撰写述职报告。\n二、方法步骤。采取现场述职方式。"
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], body=body)

    lines = page_lines(render_pdf(document))[0]

    assert find_line(lines, "一、考核范围").fonts == {HEI}
    second_level = find_line(lines, "（一）个人述职。述职人员")
    assert second_level.fonts_of("（一）个人述职。") == {KAI}
    assert second_level.fonts_of("述职人员撰写述职报告。") == {FANG}
    first_level = find_line(lines, "二、方法步骤。采取")
    assert first_level.fonts_of("二、方法步骤。") == {HEI}
    assert first_level.fonts_of("采取现场述职方式。") == {FANG}


def test_each_face_prints_at_the_size_the_standard_gives_its_element(notice):
    lines = page_lines(render_pdf(notice))[0]

    assert find_line(lines, "关于做好测试工作的通知").size == 22  # 2号
    assert find_line(lines, "各单位要认真做好测试工作").size == 16  # 3号
    assert find_line(lines, "一、提高政治站位").size == 16
    assert find_line(lines, "— 1 —").size == 14  # 4号


def test_a_character_the_fandol_face_lacks_prints_in_noto_and_the_rest_of_its_line_in_fandol(world):
    # 镕 (朱镕基) is outside GB2312, and outside the Fandol faces.
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], body="学习朱镕基同志的讲话。")

    line = find_line(page_lines(render_pdf(document))[0], "学习朱镕基同志的讲话")

    assert line.fonts == {FANG, "NotoSerifCJKsc-Regular"}


def _licensed_face(path: Path, text: str) -> None:
    """A stand-in for a licensed face: FandolKai cut down to `text`, under a PostScript name of its own."""
    font = TTFont(FANDOL_DIR / "FandolKai-Regular.otf")
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = "LicensedFangSong-Test" if record.nameID == 6 else "Licensed FangSong Test"
    font["CFF "].cff.fontNames = ["LicensedFangSong-Test"]
    font.save(path)


def test_a_licensed_face_in_official_fonts_dir_prints_the_body_in_its_place(world, settings, tmp_path):
    body = "各单位要认真做好测试工作。"
    _licensed_face(tmp_path / "仿宋_GB2312.ttf", body)
    settings.OFFICIAL_FONTS_DIR = str(tmp_path)
    document, _dispatch = issue(world.zzb, world.department, main=[world.education], body=body)

    pdf = render_pdf(document)

    lines = page_lines(pdf)[0]
    assert find_line(lines, body).fonts == {"LicensedFangSong-Test"}
    assert "LicensedFangSong-Test" in embedded_fonts(pdf)
    # No licensed 小标宋 here: the title keeps the stand-in.
    assert find_line(lines, "关于做好测试工作的通知").fonts == {XBS}


def test_a_licensed_face_is_found_by_any_of_its_file_names_in_any_case(tmp_path):
    xbs = next(role for role in ROLES if role.family == "Official XBS")
    (tmp_path / "fzxbsjw.TTF").write_bytes(b"")
    (tmp_path / "notes.txt").write_bytes(b"")

    assert role_file(xbs, tmp_path) == tmp_path / "fzxbsjw.TTF"
    assert role_file(xbs, tmp_path / "missing") == FANDOL_DIR / "FandolSong-Bold.otf"
    assert role_file(xbs, None) == FANDOL_DIR / "FandolSong-Bold.otf"


def test_the_web_page_names_the_fandol_face_then_noto_after_each_role_and_fetches_no_font():
    css = re.sub(r"/\*.*?\*/", "", Path(finders.find("documents/official.css")).read_text(encoding="utf-8"), flags=re.S)

    families = re.findall(r"font(?:-family)?:\s*(?:\d+pt\s+)?([^;]+);", css)
    roles = [family for family in families if "Official" in family]
    assert roles  # every CJK family list starts with a role
    assert all(family.startswith('"Official') for family in families if "Noto Sans Mongolian" not in family)
    fallbacks = {
        '"Official Fang"': 'FandolFang, "Noto Serif CJK SC", serif',
        '"Official XBS"': 'FandolSong, "Noto Serif CJK SC", serif',
        '"Official Hei"': 'FandolHei, "Noto Sans CJK SC", sans-serif',
        '"Official Kai"': 'FandolKai, "Noto Serif CJK SC", serif',
        '"Official Song"': 'FandolSong, "Noto Serif CJK SC", serif',
    }
    assert {family.split(", ", 1)[0]: family.split(", ", 1)[1] for family in roles} == fallbacks
    assert not re.search(r"@font-face|url\(|@import", css)
