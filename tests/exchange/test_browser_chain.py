"""The chain page on A with the tree B reported (公文交换), in a real browser (Debian's Chromium).

The department's clerk opens the chain of a document sent to education, which B hosts: below
education's delivery stands B's forward, its deliveries at B and at C, and C's forward below one of
them, each marked with its installation, in Chinese and in English; by keyboard the tree is reached
from the page's links; at 390 px and 1280 px nothing scrolls sideways. Screenshots under
test-artifacts/exchange/.
"""

import shutil

import pytest
from django.test import Client
from django.urls import reverse

from exchange.directory import peer_save, unit_host
from exchange.models import OutgoingConsignment
from tests.exchange.test_reports import _post, _report, _tree
from tests.factories import build_world, issue
from tests.web.test_browser import ARTIFACTS
from tests.web.test_browser_asof import _fits, browser  # noqa: F401 (a fixture)
from tests.web.test_browser_widths import DESK_HEIGHT, PHONE_HEIGHT, WIDTHS, _context
from workflow.checkpoints import key_generate, public_key_pem_of

pytestmark = [pytest.mark.browser]


@pytest.fixture
def folder():
    folder = ARTIFACTS / "exchange"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def test_the_tree_a_peer_reported_on_the_chain_page_at_both_widths_and_in_english(
    browser,  # noqa: F811
    live_server,
    folder,
    settings,
    tmp_path,
):
    settings.EXCHANGE_INSTALLATION = "A"
    settings.EXCHANGE_SIGNING_KEY_FILE = str(tmp_path / "A.pem")
    key_generate(settings.EXCHANGE_SIGNING_KEY_FILE)
    world = build_world()
    b_key = key_generate(tmp_path / "B.pem")
    peer = peer_save(
        actor=None, name="B", base_url="http://b.example/exchange/", public_key=public_key_pem_of(b_key.public_key())
    )
    unit_host(actor=None, unit=world.education, peer=peer)
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.university])
    outgoing = OutgoingConsignment.objects.get(dispatch=dispatch)
    assert _post(Client(), b_key, _report(outgoing, world.education, _tree(document, deliveries=3))).status_code == 201

    page = _context(browser, live_server, "zzb")
    page.goto(f"{live_server.url}{reverse('chain', args=[document.pk])}")
    tree = page.locator("#tree-head + ul.tree")
    text = tree.inner_text()
    assert "内教工委函〔2026〕7号 自治区教育工委 （在B系统，据其报告）" in text
    assert "内工大党发〔2026〕3号 内蒙古工业大学党委 （在C系统，据其报告）" in text
    assert "已签收 高校0 （在C系统）" in text
    assert "待签收 计算机学院党委（C） （在C系统）" in text
    levels = page.locator("table.levels tbody tr").all_inner_texts()
    assert [row.split("\t")[:3] for row in levels] == [["第1级", "2", "0"], ["第2级", "3", "1"], ["第3级", "1", "0"]]
    # By keyboard: the tree's export links and the page's links are reached with Tab, none skipped.
    page.get_by_role("link", name="导出 JSON").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "asof-as_of"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT if width < 600 else DESK_HEIGHT})
        page.wait_for_timeout(100)
        _fits(page, width)
        tree.screenshot(path=str(folder / f"chain-reported-tree-{width}.png"))
        page.screenshot(path=str(folder / f"chain-reported-{width}.png"), full_page=True)
    assert page.errors == [], page.errors

    english = _context(browser, live_server, "zzb", english=True)
    english.goto(f"{live_server.url}{reverse('chain', args=[document.pk])}")
    assert "(at installation B, as it reported)" in english.locator("#tree-head + ul.tree").inner_text()
    english.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    _fits(english, 390)
    english.locator("#tree-head + ul.tree").screenshot(path=str(folder / "chain-reported-tree-english-390.png"))
