"""The number search and the chains list in a real browser (issue 11, items 1 and 2).

A clerk types the issue's fragments of 内组电明字〔2022〕11号 into the search boxes of the inbox, the
outbox and the chains list; the outbox keeps its search while it refreshes itself; the chains lists
of 教育工委 and 内蒙古大学党委, whose documents are all forwards, hold them. Routing runs in-process
(no worker needed). Screenshots at 1280 and 390 px are saved under test-artifacts/search/.
"""

import shutil

import pytest

from tests.factories import build_world, content, delivery_of, forward, issue
from tests.web.test_browser import ARTIFACTS, _is_outbox_poll, _log_in
from tests.web.test_browser import browser as browser  # the fixture, shared
from workflow import services

pytestmark = [pytest.mark.browser]

TELEGRAM = "关于进一步发挥基层党组织战斗堡垒作用的通知"
OTHER = "关于做好年度考核工作的通知"


class Shots:
    """Screenshots numbered in the order taken, each at 1280 px and at 390 px."""

    def __init__(self) -> None:
        self.folder = ARTIFACTS / "search"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0
        print(f"\nscreenshots: {self.folder}")

    def take(self, page, name: str) -> None:
        self.count += 1
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900 if width == 1280 else 844})
            page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def _world():
    """内组电明字〔2022〕11号 and 内组字〔2021〕5号 to education; education forwards the telegram to its
    universities, the university to its college."""
    world = build_world()
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=10)
    telegram, _ = issue(
        world.zzb, world.department, main=[world.education], title=TELEGRAM, urgency="特提", number_year=2022
    )
    services.number_series_set(actor=None, prefix="内组字", year=2021, last_serial=4)
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title=OTHER),
        main_recipients=[world.education],
        number_prefix="内组字",
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    services.dispatch_route(dispatch_id=services.document_issue(actor=world.zzb, document=draft, number_year=2021).pk)
    cover, _ = forward(world.jygw, delivery_of(telegram, world.education), main=[world.groups["各高校党委"]])
    imu_cover, _ = forward(
        world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer
    )
    return world, telegram, cover, imu_cover


def _titles(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def _search(page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="查找", exact=True).click()


def test_number_search_and_chain_lists_in_the_browser(browser, live_server):
    _world_built, telegram, cover, imu_cover = _world()
    assert telegram.number == "内组电明字〔2022〕11号"
    shots = Shots()

    # 收文: the number field takes any part of the number, in any bracket form.
    jygw = _log_in(browser, live_server, "jygw")
    jygw.goto(f"{live_server.url}/?tab=all")
    jygw.get_by_text("查找来文").click()
    for fragment in ("〔2022〕11号", "电明字〔2022〕", "(2022)11号"):
        _search(jygw, "发文字号", fragment)
        assert _titles(jygw, "table.inbox tbody td[data-label='标题'] a") == [TELEGRAM], fragment
        if fragment == "〔2022〕11号":
            shots.take(jygw, "inbox-2022-11")
    _search(jygw, "发文字号", "〔2021〕")
    assert _titles(jygw, "table.inbox tbody td[data-label='标题'] a") == [OTHER]

    # 流转链 of a unit that only forwards: its forward, saying what it forwards; found by that number.
    jygw.get_by_role("navigation", name="主导航").get_by_role("link", name="流转链", exact=True).click()
    rows = jygw.locator("table.chains tbody tr")
    assert rows.count() == 1
    assert cover.title in rows.first.inner_text()
    assert "转发 内组电明字〔2022〕11号" in rows.first.inner_text()
    shots.take(jygw, "chains-jygw")
    _search(jygw, "标题或发文字号", "11号")
    assert _titles(jygw, "table.chains tbody td[data-label='标题'] a") == [cover.title]
    jygw.get_by_role("link", name=cover.title).click()
    jygw.get_by_role("heading", name="流转链", exact=False).first.wait_for()
    assert jygw.url.endswith(f"/documents/{cover.pk}/chain/")

    imu = _log_in(browser, live_server, "imu")
    imu.get_by_role("navigation", name="主导航").get_by_role("link", name="流转链", exact=True).click()
    assert _titles(imu, "table.chains tbody td[data-label='标题'] a") == [imu_cover.title]
    assert f"转发 {cover.number}" in imu.locator("table.chains tbody tr").first.inner_text()
    shots.take(imu, "chains-imu")

    # 发文: one box for title or number; the list refreshes itself and keeps the search.
    zzb = _log_in(browser, live_server, "zzb")
    zzb.get_by_role("navigation", name="主导航").get_by_role("link", name="发文", exact=True).click()
    dispatches = "article.dispatch h2"
    assert len(_titles(zzb, dispatches)) == 2
    _search(zzb, "标题或发文字号", "(2022)11号")
    assert _titles(zzb, dispatches) == [f"{telegram.number} {TELEGRAM}"]
    zzb.wait_for_event("response", _is_outbox_poll)  # the list's own refresh, every 5 s
    zzb.wait_for_timeout(300)  # let htmx swap it in
    assert _titles(zzb, dispatches) == [f"{telegram.number} {TELEGRAM}"]
    assert zzb.get_by_label("标题或发文字号", exact=True).input_value() == "(2022)11号"
    shots.take(zzb, "outbox-2022-11")
    _search(zzb, "标题或发文字号", "2022]11")
    assert _titles(zzb, dispatches) == [f"{telegram.number} {TELEGRAM}"]
    _search(zzb, "标题或发文字号", "12号")
    assert _titles(zzb, dispatches) == []
    assert "没有符合条件的发文。" in zzb.locator("#outbox-list").inner_text()

    # 流转链 of the issuer and of the auditor: the issue's own fragments.
    auditor = _log_in(browser, live_server, "auditor")
    auditor.get_by_role("navigation", name="主导航").get_by_role("link", name="流转链", exact=True).click()
    for fragment in ("内组电明字〔2022〕11号", "11号", "11", "2022", "组电明", "2022]11"):
        _search(auditor, "标题或发文字号", fragment)
        assert _titles(auditor, "table.chains tbody td[data-label='标题'] a") == [TELEGRAM], fragment
        if fragment == "内组电明字〔2022〕11号":
            shots.take(auditor, "chains-auditor-full-number")
    _search(auditor, "标题或发文字号", "〔2023〕")
    assert "没有符合条件的流转链。" in auditor.locator("main").inner_text()
    shots.take(auditor, "chains-auditor-nothing")

    for page in (jygw, imu, zzb, auditor):
        assert page.errors == [], page.errors  # no script errors, no CSP violations
