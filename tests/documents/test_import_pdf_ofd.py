"""PDF with a text layer and OFD: read with their layout (documents.importing.layout), the documents
we print read back field by field; what cannot be read is refused by name."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command

from documents.importing import import_bytes
from documents.importing.evaluation import score
from documents.ofd import write_ofd
from documents.rendering import render_pdf
from tests.documents import specimens
from units.errors import InvalidInput

TELEGRAM_TITLE = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"
# What each specimen prints, read off the page by hand.
EXPECTED = {
    "cover": {
        "issuer": "中共内蒙古自治区教育工作委员会",
        "number": "内教工委函〔2022〕90号",
        "title": f"中共内蒙古自治区教育工作委员会转发{TELEGRAM_TITLE}",
        "main_recipients": ["各高等学校党委"],
        "forwarded": [{"title": TELEGRAM_TITLE, "number": "内组电明字〔2022〕11号"}],
    },
    "telegram": {
        "issuer": "中共内蒙古自治区委员会组织部",
        "number": "内组电明字〔2022〕11号",
        "title": TELEGRAM_TITLE,
        "main_recipients": ["各盟市委组织部", "自治区各直属党（工）委"],
        "signatory": "内蒙古自治区党委组织部",
        "date": "2022-10-13",
    },
    "letter": {
        "issuer": "中共内蒙古自治区教育工作委员会",
        "number": "内教工委函〔2022〕96号",
        "title": "关于商请协助做好高校毕业生党员组织关系转接工作的函",
        "main_recipients": ["内蒙古大学党委"],
        "signatory": "中共内蒙古自治区教育工作委员会",
        "date": "2022-10-13",
    },
    "notice": {
        "issuer": "中共内蒙古自治区委员会组织部",
        "number": "内组字〔2022〕35号",
        "title": "关于开展2022年度基层党组织书记抓基层党建工作述职评议考核的通知",
        "main_recipients": ["各盟市委组织部", "自治区各直属党（工）委"],
        "cc": ["中央组织部组织二局", "自治区党委办公厅"],
        "signatory": "中共内蒙古自治区委员会组织部",
        "date": "2022-10-13",
        "attachments": ["述职评议考核工作方案", "述职评议考核评价表"],
    },
    "forward": {
        "issuer": "中共内蒙古大学委员会",
        "number": "内大党发〔2022〕1号",
        "title": "中共内蒙古大学委员会转发关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用的通知",
        "main_recipients": ["各学院党委", "机关各部门"],
        "cc": ["自治区教育工委"],
        "signatory": "中共内蒙古大学委员会",
        "date": "2022-10-14",
        "forwarded": [{"title": TELEGRAM_TITLE, "number": "内组电明字〔2022〕11号"}],
    },
}


def _specimen(name: str, world):
    if name in ("cover", "telegram"):
        return specimens.documents("cover", world)[name]
    return specimens.BUILDERS[name](world)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("form", ["pdf", "ofd"])
def test_what_we_print_reads_back_field_by_field(world, name, form):
    document = _specimen(name, world)
    data = render_pdf(document, enclosures=[]) if form == "pdf" else write_ofd(document, enclosures=[])

    parsed = import_bytes(data, name=f"{name}.{form}").as_json()

    misses = [item for item in score(name, EXPECTED[name], parsed) if item.verdict != "right"]
    assert misses == []


def test_import_document_reads_a_pdf_and_an_ofd_into_the_same_json(world, tmp_path, capsys):
    document = specimens.notice(world)
    (tmp_path / "notice.pdf").write_bytes(render_pdf(document, enclosures=[]))
    (tmp_path / "notice.ofd").write_bytes(write_ofd(document, enclosures=[]))

    call_command("import_document", str(tmp_path / "notice.pdf"), str(tmp_path / "notice.ofd"), "--dry-run", "--json")

    from_pdf, from_ofd = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert from_pdf == from_ofd
    assert from_pdf["body"].startswith("按照中央组织部有关要求，经自治区党委同意，现就开展2022年度")


def _blank_pdf(pages: int) -> bytes:
    """A PDF of empty pages, as a scanner without OCR makes them (no text layer)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _ofd(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


OFD_ROOT = '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_blank_pdf(3), "文件“x”有 3 页，超过导入上限 2 页。"),
        (b"%PDF-1.7\nnot a pdf at all", "文件“x”不是可读的 PDF"),
        (
            _ofd({"OFD.xml": "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>"}),
            "文件“x”不是有效的 OFD 文件（no DocRoot）。",
        ),
        (
            _ofd({"OFD.xml": '<!DOCTYPE x [<!ENTITY a "b">]><OFD/>'}),
            "文件“x”不是有效的 OFD 文件（DOCTYPE）。",
        ),
        (_ofd({"OFD.xml": OFD_ROOT}), "文件“x”不是有效的 OFD 文件（no Doc_0/Document.xml）。"),
        (
            _ofd({"OFD.xml": OFD_ROOT, "Doc_0/Document.xml": "<Document><Pages/></Document>"}),
            "文件“x”的页面上没有文字（可能是扫描件），不能按文字导入。",
        ),
    ],
)
def test_what_cannot_be_read_is_refused_by_name(settings, data, message):
    settings.IMPORT_MAX_PAGES = 2
    with pytest.raises(InvalidInput) as refused:
        import_bytes(data, name="x")
    assert str(refused.value).startswith(message)


def test_a_pdf_without_a_text_layer_is_read_as_a_scan_and_an_empty_one_says_so():
    parsed = import_bytes(_blank_pdf(1), name="空白.pdf").as_json()

    assert parsed["warnings"] == [
        "第1页是扫描件，文字由 OCR 识别（平均置信度 0%），请对照原件核对。",
        "第1行：文件中没有找到任何文字",
    ]


def test_an_ofd_of_more_pages_than_the_limit_is_refused_before_any_page_is_read(settings):
    settings.IMPORT_MAX_PAGES = 1
    pages = "".join(f'<Page ID="{n}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(2))
    data = _ofd({"OFD.xml": OFD_ROOT, "Doc_0/Document.xml": f"<Document><Pages>{pages}</Pages></Document>"})
    with pytest.raises(InvalidInput, match="有 2 页，超过导入上限 1 页"):
        import_bytes(data, name="x")
