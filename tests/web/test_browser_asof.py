"""The chain page as of a past moment, in a real browser (Debian's Chromium), by keyboard.

The history of tests/workflow/test_chain_as_of.py (2022-10-13): an auditor opens the chain as it
stands, types 10:00 of that day into the 查看时刻 field with the keyboard and presses Enter; the
page says it shows the chain as of then, and shows education signed and forwarded, other overdue,
nothing of the return or the recall; at 390 px and 1280 px it never scrolls sideways. 回到现在, by
keyboard, brings the present back. Screenshots of the page as of 10:00, as of a moment before the
issue and with a moment to come refused, at both widths, are saved under test-artifacts/asof/.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from tests.factories import build_world
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.web.test_browser_widths import DESK_HEIGHT, MEASURE, PHONE_HEIGHT, WIDTHS, _context
from tests.workflow.test_chain_as_of import history

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, as tests/web/test_browser.py starts it."""
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        message = f"no browser at {CHROMIUM} (install Debian's chromium: `make system`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM calls between browser steps (test_browser.py)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def folder():
    folder = ARTIFACTS / "asof"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots: {folder}")
    return folder


# The parts of a datetime-local field in the order the browser's own locale lays them out, each
# typed whole (the field moves on by itself): Chromium's headless shell keeps en-US's month/day/year
# and a 12-hour clock whatever the page's language; a Chinese one has year/month/day and 24 hours.
FIELD_ORDERS = (("10", "13", "2022", "10", "00", "A"), ("2022", "10", "13", "10", "00"))


def _type_moment(page, value: str) -> None:
    """Reach the 查看时刻 field with Tab from the last export link and type 2022-10-13 10:00 into it."""
    assert value == "2022-10-13T10:00"  # FIELD_ORDERS spell this moment
    for keys in FIELD_ORDERS:
        page.evaluate("document.querySelector('#asof-as_of').value = ''")
        page.get_by_role("link", name="导出 JSON").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "asof-as_of"
        for part in keys:
            page.keyboard.type(part)
        if page.evaluate("document.activeElement.value") == value:
            return
    raise AssertionError("the date field takes its parts in an order FIELD_ORDERS does not know")


def _fits(page, width: int) -> None:
    measured = page.evaluate(MEASURE)
    assert measured["scrollWidth"] <= width, measured["wide"]
    assert measured["headsWrapped"] == [], measured


def test_the_chain_as_of_a_past_moment_by_keyboard_at_both_widths(browser, live_server, folder):
    world = build_world()
    made = history(world)
    telegram = made["telegram"]
    chain_url = f"{live_server.url}{reverse('chain', args=[telegram.pk])}"
    page = _context(browser, live_server, "auditor")
    page.goto(chain_url)
    assert "签收后撤回" in page.locator("#tree-head + ul.tree").inner_text()  # the present: recalled

    # By keyboard: Tab into the field from the export links, type the moment, Enter.
    _type_moment(page, "2022-10-13T10:00")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"as_of="))
    assert parse_qs(urlparse(page.url).query) == {"as_of": ["2022-10-13T10:00"]}

    notice = page.locator(".notice-asof")
    assert notice.get_attribute("role") == "status"
    assert notice.inner_text().startswith("本页显示的是 2022-10-13 10:00（北京时间）时的流转链。")
    tree = page.locator("#tree-head + ul.tree").inner_text()
    assert "已签收 自治区教育工委" in tree
    assert "签收后撤回" not in tree
    assert "已退文" not in tree
    assert page.locator("ul.stalled > li").all_inner_texts() == [
        "自治区直属机关工委 内组电明字〔2022〕1号，已等待 1小时 逾期",
        "内蒙古工业大学党委 内教工委函〔2022〕1号，已等待 20分钟 未阅",
    ]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT if width < 600 else DESK_HEIGHT})
        page.wait_for_timeout(100)
        _fits(page, width)
        page.screenshot(path=str(folder / f"chain-as-of-1000-{width}.png"), full_page=True)
        page.screenshot(path=str(folder / f"chain-as-of-1000-top-{width}.png"), full_page=False)

    # 回到现在, by keyboard as well.
    page.locator(".notice-asof a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(chain_url)
    assert page.locator(".notice-asof").count() == 0

    for name, query in (("before-the-issue", "2022-10-13T08:30"), ("to-come-refused", "2099-01-01T00:00")):
        page.goto(f"{chain_url}?as_of={query}")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": PHONE_HEIGHT if width < 600 else DESK_HEIGHT})
            page.wait_for_timeout(100)
            _fits(page, width)
            page.screenshot(path=str(folder / f"chain-{name}-{width}.png"), full_page=False)
    # The refused moment: its error summary has the focus, and its link leads to the field.
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert page.locator(".error-summary").inner_text().startswith("无法按所选时刻查看流转链，下面是现在的情况：")
    assert page.errors == [], page.errors
