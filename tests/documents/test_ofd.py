"""OFD (GB/T 33190): the printed pages as OFD, read back by an independent reader (ofdkit) and
measured against the PDF's own positions (tests/documents/pdf_measure.py)."""

import base64
import datetime
import io
import re
import zipfile
from pathlib import Path

import ofdkit
import pytest
from django.core.management import call_command
from fontTools.ttLib import TTFont
from PIL import Image

from documents.faces import FANDOL_DIR
from documents.ofd import font_file, ofd_from_pdf, write_ofd
from documents.rendering import render_pdf
from tests.documents import test_rendering
from tests.documents.pdf_measure import (
    MM,
    OFD_NAMESPACE,
    PAGE_HEIGHT_MM,
    PAGE_WIDTH_MM,
    TYPE_AREA_LEFT_MM,
    TYPE_AREA_RIGHT_MM,
    ofd_page_contents,
    ofd_page_lines,
    ofd_page_rules,
    ofd_xml,
    page_lines,
    page_rules,
)
from tests.factories import issue

seed_documents = test_rendering.seed_documents  # the seed registered as received: (cover, telegram)

RED = (230, 0, 18)
TOLERANCE_MM = 0.2


@pytest.fixture
def notice(issued_notice):
    return issued_notice


def _assert_same_lines(pdf: bytes, ofd: bytes) -> None:
    pdf_pages, ofd_pages = page_lines(pdf), ofd_page_lines(ofd)
    assert len(ofd_pages) == len(pdf_pages)
    for number, (printed, read) in enumerate(zip(pdf_pages, ofd_pages, strict=True), start=1):
        assert [line.text for line in read] == [line.text for line in printed], number
        for pdf_line, ofd_line in zip(printed, read, strict=True):
            assert ofd_line.left == pytest.approx(pdf_line.left, abs=TOLERANCE_MM), (number, pdf_line.text)
            assert ofd_line.top == pytest.approx(pdf_line.top, abs=TOLERANCE_MM), (number, pdf_line.text)
            assert ofd_line.baseline == pytest.approx(pdf_line.baseline, abs=TOLERANCE_MM), (number, pdf_line.text)
            assert ofd_line.size == pdf_line.size, (number, pdf_line.text)


def test_the_seeds_ofd_has_the_pdfs_pages_lines_and_positions(seed_documents):
    cover, _telegram = seed_documents

    _assert_same_lines(render_pdf(cover), write_ofd(cover))


def test_a_notice_with_attachments_and_cc_has_the_pdfs_lines_and_positions(notice):
    _assert_same_lines(render_pdf(notice), write_ofd(notice))


def test_the_reader_reads_the_pages_text_and_the_document_info(notice):
    ofd = write_ofd(notice)

    with ofdkit.open(ofd) as document:
        assert document.warnings == []
        assert [page.box for page in document.pages] == [(0.0, 0.0, PAGE_WIDTH_MM, PAGE_HEIGHT_MM)] * 2
        text = re.sub(r"\s", "", document.text())
        info = document.info
    assert text.startswith(f"{notice.issuer_mark}{notice.number}{notice.title}")
    assert "附件：1.疫情防控工作方案2.应急处置预案" in text
    assert text.endswith("抄送：自治区党委办公厅，自治区人民政府办公厅。自治区党委组织部办公室2022年10月14日印发—2—")
    assert re.fullmatch(r"[0-9a-f]{32}", info.doc_id)
    assert (info.title, info.creator) == (notice.title, "公文流转")
    assert datetime.date.fromisoformat(info.creation_date)
    document = ofd_xml(ofd, "Doc_0/Document.xml")
    assert document.findtext("ofd:CommonData/ofd:PageArea/ofd:PhysicalBox", namespaces=OFD_NAMESPACE) == "0 0 210 297"
    ids = [int(element.get("ID")) for page in ofd_page_contents(ofd) for element in page.iter() if element.get("ID")]
    assert len(ids) == len(set(ids))
    assert int(document.findtext("ofd:CommonData/ofd:MaxUnitID", namespaces=OFD_NAMESPACE)) >= max(ids)


def test_every_font_is_embedded_loads_and_maps_every_character_it_sets(seed_documents):
    cover, _telegram = seed_documents
    ofd = write_ofd(cover)

    resources = ofd_xml(ofd, "Doc_0/PublicRes.xml")
    fonts = {font.get("ID"): font for font in resources.iterfind(".//ofd:Font", OFD_NAMESPACE)}
    characters: dict[str, set[str]] = {}
    for page in ofd_page_contents(ofd):
        for text in page.iterfind(".//ofd:TextObject", OFD_NAMESPACE):
            characters.setdefault(text.get("Font"), set()).update(
                text.findtext("ofd:TextCode", namespaces=OFD_NAMESPACE).replace(" ", "")
            )
    assert set(characters) == set(fonts)
    with zipfile.ZipFile(io.BytesIO(ofd)) as archive:
        for font_id, font in fonts.items():
            data = archive.read(f"Doc_0/Res/{font.findtext('ofd:FontFile', namespaces=OFD_NAMESPACE)}")
            loaded = TTFont(io.BytesIO(data))
            assert loaded["name"].getDebugName(6) == font.get("FontName")
            assert characters[font_id] <= {chr(code) for code in loaded.getBestCmap()}, font.get("FontName")


def test_a_run_is_one_text_object_with_an_advance_per_glyph(notice):
    ofd = write_ofd(notice)

    texts = list(ofd_page_contents(ofd)[0].iterfind(".//ofd:TextObject", OFD_NAMESPACE))
    mark = next(text for text in texts if text.findtext("ofd:TextCode", namespaces=OFD_NAMESPACE) == notice.issuer_mark)
    code = mark.find("ofd:TextCode", OFD_NAMESPACE)
    deltas = [float(delta) for delta in code.get("DeltaX").split()]
    assert len(deltas) == len(notice.issuer_mark) - 1
    assert mark.find("ofd:FillColor", OFD_NAMESPACE).get("Value") == " ".join(map(str, RED))
    _left, _top, width, height = (float(part) for part in mark.get("Boundary").split())
    assert float(code.get("X")) == 0  # the first glyph's origin is the box's left edge
    assert 0 < float(code.get("Y")) < height  # the baseline, down from the box's top
    assert width == pytest.approx(sum(deltas) + float(mark.get("Size")), abs=0.01)
    assert mark.get("CTM") is None


def test_the_red_rule_and_the_colophons_rules_are_filled_paths(notice):
    pdf, ofd = render_pdf(notice), write_ofd(notice)

    first, last = ofd_page_rules(ofd)
    (red,) = first  # the separator below the number, as the PDF paints it
    (painted,) = page_rules(pdf)[0]
    assert red.color == tuple(round(part / 255, 3) for part in RED)
    for measured, expected in zip(
        (red.left, red.right, red.top, red.bottom),
        (painted.left, painted.right, painted.top, painted.bottom),
        strict=True,
    ):
        assert measured == pytest.approx(expected, abs=0.01)
    assert len(last) == 3  # the 版记: above 抄送, between 抄送 and 印发机关, below 印发日期
    for rule in last:
        assert rule.color == (0.0, 0.0, 0.0)
        assert (rule.left, rule.right) == (
            pytest.approx(TYPE_AREA_LEFT_MM, abs=0.01),
            pytest.approx(TYPE_AREA_RIGHT_MM, abs=0.01),
        )
        assert 0.1 < rule.thickness < 0.5
    lines = ofd_page_lines(ofd)[1]
    cc = next(line for line in lines if line.text.startswith("抄送"))
    printing = next(line for line in lines if line.text.endswith("印发"))
    assert last[0].bottom <= cc.top < cc.bottom <= last[1].top <= printing.top < printing.bottom <= last[2].top
    paths = [path for page in ofd_page_contents(ofd) for path in page.iterfind(".//ofd:PathObject", OFD_NAMESPACE)]
    assert {(path.get("Stroke"), path.get("Fill")) for path in paths} == {("false", "true")}
    assert all(path.findtext("ofd:AbbreviatedData", namespaces=OFD_NAMESPACE).startswith("M 0 0 L") for path in paths)


def test_a_letters_double_lines_are_two_rules_each_thick_over_thin_above_and_thin_over_thick_below(seed_documents):
    """GB/T 9704 10.1: 170 mm, centred; the upper pair below the mark, the lower pair ending 20 mm
    above the bottom edge. WeasyPrint paints each pair as one double border: two rectangles filled
    even-odd, which the OFD writes as the two bands that show."""
    cover, _telegram = seed_documents

    rules = ofd_page_rules(write_ofd(cover))[0]

    # pdfplumber lists each pair's two rectangles: the outer box, and the inner one that is not painted.
    frames = page_rules(render_pdf(cover))[0]
    upper_inner, upper_outer = sorted((rule for rule in frames if rule.top < 100), key=lambda rule: rule.thickness)
    lower_inner, lower_outer = sorted((rule for rule in frames if rule.top > 100), key=lambda rule: rule.thickness)
    assert len(rules) == 4
    assert {rule.color for rule in rules} == {tuple(round(part / 255, 3) for part in RED)}
    for rule in rules:
        assert (rule.left, rule.width) == (pytest.approx(upper_outer.left, abs=0.01), pytest.approx(170, abs=0.01))
    upper_thick, upper_thin, lower_thin, lower_thick = rules
    edges = [(rule.top, rule.bottom) for rule in rules]
    expected = [
        (upper_outer.top, upper_inner.top),
        (upper_inner.bottom, upper_outer.bottom),
        (lower_outer.top, lower_inner.top),
        (lower_inner.bottom, lower_outer.bottom),
    ]
    assert edges == [(pytest.approx(top, abs=0.01), pytest.approx(bottom, abs=0.01)) for top, bottom in expected]
    assert upper_thick.thickness > upper_thin.thickness
    assert lower_thick.thickness > lower_thin.thickness
    assert lower_thick.bottom == pytest.approx(PAGE_HEIGHT_MM - 20, abs=0.01)


def test_a_picture_is_an_image_object_over_its_own_box_with_its_file_as_a_resource():
    """A seal image, as a PDF with one picture 40 mm square, 30 mm from the left and 50 mm down."""
    png = io.BytesIO()
    Image.new("RGBA", (80, 80), (230, 0, 18, 255)).save(png, format="PNG")
    from weasyprint import HTML

    source = base64.b64encode(png.getvalue()).decode()
    pdf = HTML(
        string=(
            "<style>@page { size: A4; margin: 0 } img { position: absolute; left: 30mm; top: 50mm;"
            f" width: 40mm; height: 40mm }}</style><img src='data:image/png;base64,{source}'>"
        )
    ).write_pdf()

    ofd = ofd_from_pdf(pdf, title="印章")

    (image,) = ofd_page_contents(ofd)[0].iterfind(".//ofd:ImageObject", OFD_NAMESPACE)
    left, top, width, height = (float(part) for part in image.get("Boundary").split())
    assert (left, top, width, height) == pytest.approx((30, 50, 40, 40), abs=0.05)
    assert width < PAGE_WIDTH_MM / 2  # never a picture of a page
    assert height < PAGE_HEIGHT_MM / 2
    assert image.get("CTM") == f"{width:g} 0 0 {height:g} 0 0"
    (media,) = ofd_xml(ofd, "Doc_0/DocumentRes.xml").iterfind(".//ofd:MultiMedia", OFD_NAMESPACE)
    assert (media.get("ID"), media.get("Type")) == (image.get("ResourceID"), "Image")
    with zipfile.ZipFile(io.BytesIO(ofd)) as archive:
        picture = Image.open(
            io.BytesIO(archive.read(f"Doc_0/Res/{media.findtext('ofd:MediaFile', namespaces=OFD_NAMESPACE)}"))
        )
        assert picture.getpixel((picture.width // 2, picture.height // 2))[:3] == RED


def test_no_page_is_a_picture(seed_documents, notice):
    cover, _telegram = seed_documents

    for ofd in (write_ofd(cover), write_ofd(notice)):
        for page in ofd_page_contents(ofd):
            assert page.findall(".//ofd:ImageObject", OFD_NAMESPACE) == []
            assert page.findall(".//ofd:TextObject", OFD_NAMESPACE) != []  # its text is text


def test_font_file_finds_a_face_by_its_postscript_name_and_by_the_name_the_pdf_gives_it():
    regular = font_file("NotoSerifCJKsc-Regular")

    assert regular == font_file("Noto-Serif-CJK-SC") == Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
    assert font_file("Noto-Serif-CJK-SC-Bold").name == "NotoSerifCJK-Bold.ttc"


def test_font_file_finds_a_role_of_the_layout_by_its_font_face_family(settings, tmp_path):
    assert font_file("Official-XBS-Bold") == FANDOL_DIR / "FandolSong-Bold.otf"
    assert font_file("Official-Fang") == FANDOL_DIR / "FandolFang-Regular.otf"
    licensed = tmp_path / "仿宋_GB2312.ttf"
    licensed.write_bytes((FANDOL_DIR / "FandolFang-Regular.otf").read_bytes())
    settings.OFFICIAL_FONTS_DIR = str(tmp_path)
    assert font_file("Official-Fang") == licensed


def test_render_document_writes_the_ofd(seed_documents, tmp_path):
    out = io.StringIO()

    call_command("render_document", "内教工委函[2022]90号", "--ofd", str(tmp_path / "out.ofd"), stdout=out)

    with ofdkit.open(tmp_path / "out.ofd") as document:
        assert len(document.pages) == 5
    assert f"{tmp_path / 'out.ofd'}" in out.getvalue()


def test_a_units_mongolian_name_has_the_pdfs_line_and_position(world):
    from workflow import services

    unit = services.unit_create(
        actor=None,
        name="内蒙古自治区教育厅",
        short_name="自治区教育厅",
        mongolian_name=test_rendering.MONGOLIAN,
        number_prefixes=["内教发"],
        allows_self_sign_off=True,
    )
    clerk = world.people["zzb"]
    for role in ("clerk", "drafter", "signer"):
        services.role_grant(actor=None, unit=unit, role=role, user=clerk)
    document, _dispatch = issue(clerk, unit, main=[world.university])

    pdf, ofd = render_pdf(document), write_ofd(document)

    _assert_same_lines(pdf, ofd)
    assert "".join(test_rendering.MONGOLIAN.split()) in [line.text for line in ofd_page_lines(ofd)[0]]


def test_turned_text_is_a_text_object_turned_by_its_ctm_from_the_pdfs_glyph_origin():
    """Text set a quarter turn clockwise (as a vertical column would be): the object turns alike,
    its glyphs running down the page."""
    import pdfplumber
    from weasyprint import HTML

    pdf = HTML(
        string=(
            "<style>@page { size: A4; margin: 0 } p { position: absolute; left: 100mm; top: 60mm; margin: 0;"
            " font: 16pt 'Noto Serif CJK SC'; transform-origin: 0 0; transform: rotate(90deg) }</style>"
            "<p>公文流转</p>"
        )
    ).write_pdf()

    ofd = ofd_from_pdf(pdf, title="竖排")

    with ofdkit.open(ofd) as read:
        (run,) = read.pages[0].runs
    (text,) = ofd_page_contents(ofd)[0].iterfind(".//ofd:TextObject", OFD_NAMESPACE)
    assert run.text == "公文流转"
    assert text.get("CTM") == "0 1 -1 0 0 0"
    assert round(run.size * MM, 1) == 16.0
    left, top, width, height = (float(part) for part in text.get("Boundary").split())
    assert width < height  # a column: taller than wide
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        origin = (page.chars[0]["matrix"][4] / MM, (page.height - page.chars[0]["matrix"][5]) / MM)
    assert (run.x, run.y) == pytest.approx(origin, abs=0.01)
    assert left <= run.x <= left + width
    assert top <= run.y <= top + height
