"""登记来文 in a real browser (issue 12): a clerk registers a file from the keyboard alone, and each
finding of the importer stands beside its field (to its right at a desk, under it on a phone).
Screenshots under test-artifacts/register/: look at them."""

import shutil

import pytest
from django.urls import reverse

from tests.documents.importing_helpers import DATA, SEED_NAME
from tests.factories import build_world
from tests.web.test_browser import ARTIFACTS
from tests.web.test_browser_widths import _context, browser  # noqa: F401 (the module's Chromium)
from workflow.models import Delivery

pytestmark = [pytest.mark.browser]


@pytest.fixture
def folder():
    folder = ARTIFACTS / "register"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def test_a_clerk_registers_a_received_file_from_the_keyboard(browser, live_server, folder, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    page = _context(browser, live_server, "imu")

    # From the inbox: the 登记来文 button, then the file, then Enter.
    page.get_by_role("link", name="登记来文").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{reverse('register-file')}")
    page.get_by_label("来文文件").set_input_files(str(DATA / SEED_NAME))
    page.screenshot(path=str(folder / "01-upload.png"), full_page=True)
    page.get_by_role("button", name="读取并核对").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="核对来文").wait_for()

    # The cover letter printed no date: the finding stands to the right of 成文日期, on its row.
    date, warning = _box(page, "#id_date"), _box(page, "#review-date-warnings")
    assert page.locator("#review-date-warnings").inner_text() == "⚠ 第15行：未找到成文日期"
    assert warning["x"] > date["x"] + date["width"]
    assert abs(warning["y"] - date["y"]) < 20
    assert page.get_by_label("发文字号").input_value() == "内教工委函〔2022〕90号"
    page.screenshot(path=str(folder / "02-review-desk.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    date, warning = _box(page, "#id_date"), _box(page, "#review-date-warnings")
    assert warning["y"] >= date["y"] + date["height"]  # under the field on a phone
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, scroll_width
    page.screenshot(path=str(folder / "03-review-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The clerk types the date from the paper and registers with Enter on the button.
    page.get_by_label("成文日期").focus()
    page.keyboard.type("10132022")  # the date input's own order in this locale: mm dd yyyy
    page.get_by_role("button", name="登记为收文").focus()
    page.keyboard.press("Enter")
    page.get_by_text("已登记收文 内教工委函〔2022〕90号").wait_for()
    delivery = Delivery.objects.get(unit=world.university, document__number_prefix="内教工委函")
    assert page.url == f"{live_server.url}{reverse('delivery', args=[delivery.pk])}"
    assert str(delivery.document.written_on) == "2022-10-13"
    assert page.get_by_role("link", name="下载原件").is_visible()
    assert page.get_by_text("成文日期：— → 2022-10-13").is_visible()
    page.screenshot(path=str(folder / "04-delivery.png"), full_page=True)
    assert page.errors == [], page.errors
    page.context.close()
