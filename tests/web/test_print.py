"""打印, PDF and OFD on the delivery and document pages (issue 11, item 3; issue 13).

PDF: one URL per page family, each through its door, serving the layout `render_document` prints
(documents.rendering): the cover, then each enclosed document the person may still see, each from
a new page. OFD: the same pages as OFD (documents.ofd), through the same doors. The page itself
prints through print.css (tests/web/test_browser_print.py prints it in Chromium and measures the
paper).
"""

import io
import re
from urllib.parse import quote

import ofdkit
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from documents.rendering import render_pdf
from tests.documents.test_pdfa import assert_pdfa_2b
from tests.factories import content, delivery_of, forward
from tests.web.conftest import issue_with_attachments, sign_in
from workflow import services

TELEGRAM_BODY = "各单位要认真做好测试工作"  # tests.factories.content's body, the telegram's text
# What the pages show around the documents, and what a PDF of the documents must never hold.
PAGE_WORDS = [
    "办理",
    "收文单位",
    "送达时间",
    "签收时限",
    "办理记录",
    "转发通知",
    "所附公文",
    "打印",
    "下载",
    "摘要",
    "流转链",
]


def _pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s", "", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _disposition(filename: str) -> str:
    return f"attachment; filename*=utf-8''{quote(filename)}"


@pytest.fixture
def chain(world):
    """The department's telegram to education, forwarded by education (内教工委函, a letter) to the
    universities; the university's delivery of the cover letter waits to be signed for."""
    telegram = issue_with_attachments(world)
    received = delivery_of(telegram, world.education)
    cover, _ = forward(world.jygw, received, main=[world.groups["各高校党委"]])
    return {
        "telegram": telegram,
        "received": received,
        "cover": cover,
        "university": delivery_of(cover, world.university),
    }


def test_the_document_pdf_is_the_cover_then_the_enclosed_telegram_as_render_document_prints_them(
    client, world, chain, nothing_written
):
    cover, telegram = chain["cover"], chain["telegram"]
    sign_in(client, world.jygw)

    with nothing_written():
        response = client.get(reverse("document-pdf", args=[cover.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert re.fullmatch(r"内教工委函〔20\d\d〕1号", cover.number)
    assert response["Content-Disposition"] == _disposition(f"{cover.number}.pdf")
    pages = _pages(response.content)
    assert pages == _pages(render_pdf(cover))  # the layout of render_document, page for page
    assert_pdfa_2b(response.content)
    assert len(pages) == 2
    first, second = pages
    # the letter's mark, 紧急程度 (the forward of a 特提 telegram goes out 特急) and number
    assert first.startswith(f"自治区教育工委特急{cover.number}")
    assert cover.title in first
    assert telegram.issuer_mark not in first  # the telegram is not on the letter's page
    assert second.startswith(telegram.issuer_mark)  # the enclosed telegram from a new page
    assert telegram.number in second
    assert telegram.title in second
    assert TELEGRAM_BODY in second
    for word in PAGE_WORDS:
        assert word not in "".join(pages), word


def test_the_delivery_pdf_is_the_delivered_document_named_by_its_number(client, world, chain, nothing_written):
    telegram = chain["telegram"]
    sign_in(client, world.jygw)

    with nothing_written():
        response = client.get(reverse("delivery-pdf", args=[chain["received"].pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert re.fullmatch(r"内组电明字〔20\d\d〕1号", telegram.number)
    assert response["Content-Disposition"] == _disposition(f"{telegram.number}.pdf")
    pages = _pages(response.content)
    assert pages == _pages(render_pdf(telegram))
    assert pages[0].startswith(telegram.issuer_mark)
    assert telegram.number in pages[0]
    assert telegram.title in pages[0]
    for word in PAGE_WORDS:
        assert word not in "".join(pages), word


def test_the_receiving_university_prints_the_cover_and_what_it_encloses(client, world, chain):
    sign_in(client, world.imu)

    response = client.get(reverse("delivery-pdf", args=[chain["university"].pk]))

    assert response.status_code == 200
    assert _pages(response.content) == _pages(render_pdf(chain["cover"]))


def test_an_auditor_in_scope_prints_what_the_pages_show_them(client, world, chain):
    sign_in(client, world.auditor)

    for url in (
        reverse("document-pdf", args=[chain["cover"].pk]),
        reverse("delivery-pdf", args=[chain["university"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _pages(response.content) == _pages(render_pdf(chain["cover"]))


def test_a_draft_is_printed_too_and_named_as_a_draft(client, world):
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title="关于起草测试的通知"),
        main_recipients=[world.education],
    )
    sign_in(client, world.zzb_leader)  # who signs it off reads it first

    response = client.get(reverse("document-pdf", args=[draft.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == _disposition(f"草稿-{draft.pk}.pdf")
    assert "关于起草测试的通知" in _pages(response.content)[0]


def test_the_recalled_document_pdf_gives_its_units_the_stub(client, world, chain, nothing_written):
    """Recalled from education: education and the universities below get the stub (410), never the
    PDF; the department and the auditor still print it."""
    telegram, cover = chain["telegram"], chain["cover"]
    services.delivery_recall(actor=world.zzb, delivery_id=chain["received"].pk, reason="附件有误，另行印发")
    refused = {
        "jygw": [reverse("delivery-pdf", args=[chain["received"].pk]), reverse("document-pdf", args=[telegram.pk])],
        "imu": [
            reverse("delivery-pdf", args=[chain["university"].pk]),
            reverse("document-pdf", args=[cover.pk]),
            reverse("document-pdf", args=[telegram.pk]),
        ],
    }
    for who, urls in refused.items():
        sign_in(client, getattr(world, who))
        for url in urls:
            with nothing_written():
                response = client.get(url)
            assert response.status_code == 410, (who, url)
            assert response["Content-Type"] == "text/html; charset=utf-8"
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
            assert "已撤回" in text
            assert "撤回原因 附件有误，另行印发" in text
            assert TELEGRAM_BODY not in text
    for who in ("zzb", "auditor"):
        sign_in(client, getattr(world, who))
        response = client.get(reverse("document-pdf", args=[telegram.pk]))
        assert response.status_code == 200, who
        assert response["Content-Type"] == "application/pdf"


def test_the_forwarding_unit_prints_its_letter_without_the_document_recalled_from_it(client, world, chain):
    cover, telegram = chain["cover"], chain["telegram"]
    services.delivery_recall(actor=world.zzb, delivery_id=chain["received"].pk, reason="附件有误，另行印发")
    sign_in(client, world.jygw)

    response = client.get(reverse("document-pdf", args=[cover.pk]))

    assert response.status_code == 200
    pages = _pages(response.content)
    assert pages == _pages(render_pdf(cover, enclosures=[]))
    assert len(pages) == 1
    assert cover.title in pages[0]
    assert TELEGRAM_BODY not in pages[0]
    assert not pages[0].startswith(telegram.issuer_mark)


def test_both_pages_offer_print_and_pdf_through_their_own_door(client, world, chain):
    sign_in(client, world.jygw)
    for name, pk in (("delivery", chain["received"].pk), ("document", chain["cover"].pk)):
        page = client.get(reverse(name, args=[pk])).content.decode()
        group = re.search(r'<div class="print-actions document-print"[^>]*>.*?</div>', page, re.DOTALL).group(0)
        assert 'role="group" aria-label="打印或下载公文"' in group
        assert '<button type="button" data-print hidden>打印</button>' in group  # shown by app.js
        assert f'<a class="button" href="{reverse(f"{name}-pdf", args=[pk])}">下载 PDF</a>' in group
        assert f'<a class="button" href="{reverse(f"{name}-ofd", args=[pk])}">下载 OFD</a>' in group


def test_the_pdf_buttons_speak_english_when_it_is_chosen(client, world, chain):
    sign_in(client, world.jygw)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("document", args=[chain["cover"].pk])).content.decode()
    assert 'aria-label="Print or download the document"' in page
    assert ">Print</button>" in page
    assert ">Download PDF</a>" in page
    assert ">Download OFD</a>" in page


def test_the_pdf_queries_do_not_grow_with_the_enclosures(client, world, chain):
    """Both routes, for a cover enclosing one document and for a cover enclosing two (a forward of a
    forward): the same number of queries, whatever the depth of the chain."""

    def queries(url) -> int:
        client.get(url)  # the first request of a session also updates it: measure the steady state
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    sign_in(client, world.imu)
    small = [
        queries(reverse("document-pdf", args=[chain["cover"].pk])),
        queries(reverse("delivery-pdf", args=[chain["university"].pk])),
    ]
    to_college, _ = forward(world.imu, chain["university"], main=[world.college])
    sign_in(client, world.college_clerk)
    deeper = delivery_of(to_college, world.college)
    large = [
        queries(reverse("document-pdf", args=[to_college.pk])),
        queries(reverse("delivery-pdf", args=[deeper.pk])),
    ]
    # The session and the user (2), the door (1), the enclosed documents' visibility (1), the
    # closure rows and the documents in print order (2).
    assert small == large == [6, 6]


def _ofd_pages(ofd: bytes) -> list[str]:
    """Each page's text as an OFD reader (ofdkit) reads it, spaces aside."""
    with ofdkit.open(ofd) as document:
        return [re.sub(r"\s", "", page.text()) for page in document.pages]


def test_the_document_ofd_is_the_pdfs_pages_through_the_same_door(client, world, chain, nothing_written):
    cover = chain["cover"]
    sign_in(client, world.jygw)

    with nothing_written():
        response = client.get(reverse("document-ofd", args=[cover.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ofd"
    assert response["Content-Disposition"] == _disposition(f"{cover.number}.ofd")
    assert _ofd_pages(response.content) == _pages(render_pdf(cover))
    with ofdkit.open(response.content) as document:
        assert document.info.title == cover.title


def test_the_delivery_ofd_is_the_delivered_document_and_a_draft_is_named_as_one(client, world, chain):
    telegram = chain["telegram"]
    sign_in(client, world.jygw)

    response = client.get(reverse("delivery-ofd", args=[chain["received"].pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == _disposition(f"{telegram.number}.ofd")
    assert _ofd_pages(response.content) == _pages(render_pdf(telegram))
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title="关于起草测试的通知"),
        main_recipients=[world.education],
    )
    sign_in(client, world.zzb_leader)
    response = client.get(reverse("document-ofd", args=[draft.pk]))
    assert response["Content-Disposition"] == _disposition(f"草稿-{draft.pk}.ofd")


def test_the_recalled_document_ofd_gives_its_units_the_stub_and_leaves_out_what_they_may_not_see(
    client, world, chain, nothing_written
):
    telegram, cover = chain["telegram"], chain["cover"]
    services.delivery_recall(actor=world.zzb, delivery_id=chain["received"].pk, reason="附件有误，另行印发")
    sign_in(client, world.jygw)

    with nothing_written():
        refused = client.get(reverse("document-ofd", args=[telegram.pk]))
        letter = client.get(reverse("document-ofd", args=[cover.pk]))

    assert refused.status_code == 410
    assert "已撤回" in refused.content.decode()
    assert letter.status_code == 200
    assert _ofd_pages(letter.content) == _pages(render_pdf(cover, enclosures=[]))
