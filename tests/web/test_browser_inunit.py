"""Inside a recipient unit, in a real browser (Debian's Chromium), by six people (issue 14).

内蒙古大学党委 receives the 教育工委's notice. The 办公室 clerk (imu) signs for it, registers it and
proposes (拟办); the 党委书记 instructs (批办: 组织部 主办, 宣传部 协办, two readers in turn); the 组织部's
handler accepts, reports with a file and finishes; the 宣传部's handler finishes; the readers read in
turn, the second by keyboard alone; the clerk reports the unit's 办结. Each finds the work on their 待办
page. The 办理单 is printed as the browser prints it (A4) and measured from the PDF: one page, the
customary rows in their order, and its ruled table (black lines across the type area).

Screenshots at 1280 px of the 待办 page, the delivery page with the 办理单 and the printed 办理单 are
saved under test-artifacts/inunit/.
"""

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from tests.factories import build_world, delivery_of, issue
from tests.web.inunit import build_inside
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _log_in
from tests.web.test_browser_print import A4_MM, MM_PER_PX, _page_sizes_mm, _pixels, _rasterise, _texts
from workflow.models import Assignment, Delivery, HandlingRecord, ReadingSlip

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "inunit"
TITLE = "关于进一步发挥基层党组织战斗堡垒作用的通知"


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        message = f"no browser at {CHROMIUM} (install Debian's chromium: `make system`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nscreenshots: {ARTIFACTS}")
    return ARTIFACTS


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _todo(page, live_server, heading: str):
    """The person's 待办 page, and the first item under `heading`."""
    page.goto(f"{live_server.url}/todo/")
    group = page.get_by_role("region", name=re.compile(heading))
    return group.get_by_role("link").first


def _ruled_lines(pdf: bytes) -> list[float]:
    """The table's horizontal rules on page 1, in mm from the top: rows dark across 140 mm or more."""
    width, height, pixels = _pixels(pdf, 1)
    rules: list[float] = []
    previous = -2
    for y in range(height):
        row = pixels[3 * width * y : 3 * width * (y + 1)]
        dark = sum(1 for r, g, b in zip(row[0::3], row[1::3], row[2::3], strict=True) if r < 90 and g < 90 and b < 90)
        if dark * MM_PER_PX >= 140:
            if y != previous + 1:
                rules.append(y * MM_PER_PX)
            previous = y
    return rules


def test_a_notice_handled_inside_the_university_by_six_people(browser, live_server, artifacts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    inside = build_inside(world.university, world.imu, prefix="imu_")
    document, _ = issue(world.jygw, world.education, main=[world.university], title=TITLE, urgency="特急")
    delivery = delivery_of(document, world.university)
    url = f"{live_server.url}/deliveries/{delivery.pk}/"

    # The 办公室 clerk signs for it, registers it and proposes.
    clerk = _log_in(browser, live_server, "imu")
    clerk.get_by_role("link", name=TITLE).click()
    clerk.get_by_role("button", name="签收").click()
    clerk.locator("#receipt").wait_for()
    _todo(clerk, live_server, "待登记").click()
    clerk.get_by_label("份数").fill("2")
    clerk.get_by_role("button", name="登记", exact=True).click()
    clerk.get_by_text(re.compile(r"已登记，收文编号收〔\d{4}〕1号。")).wait_for()
    clerk.get_by_label("拟办意见").fill("请组织部牵头落实，宣传部配合。")
    proposal = clerk.locator("#propose-form")
    proposal.get_by_label("组织部").check()
    proposal.get_by_label("宣传部").check()
    clerk.get_by_role("button", name="提交拟办意见").click()
    clerk.get_by_text("拟办意见已提交。").wait_for()

    # The 党委书记 finds it on the 待办 page and instructs.
    secretary = _log_in(browser, live_server, "imu_secretary")
    link = _todo(secretary, live_server, "待批办")
    _shot(secretary, "00-todo-secretary")
    link.click()
    form = secretary.locator("#instruct-form")
    form.get_by_label("批示").fill("同意。请组织部抓好落实。")
    form.get_by_role("group", name="主办部门").get_by_label("组织部").check()
    form.get_by_role("group", name="协办部门").get_by_label("宣传部").check()
    form.get_by_role("group", name="传阅人").get_by_label("imu_reader_a").check()
    form.get_by_role("group", name="传阅人").get_by_label("imu_reader_b").check()
    form.get_by_label("依次传阅").check()
    _shot(secretary, "00-delivery-instruct-form")
    secretary.get_by_role("button", name="提交批示").click()
    secretary.get_by_text("批示已提交，已交办承办部门和传阅人。").wait_for()
    assert secretary.locator("#handling").get_by_text("承办中 0/2").count() == 2  # the head, 办理结果

    # The 组织部's handler accepts, reports with a file and finishes.
    org = _log_in(browser, live_server, "imu_org_handler")
    link = _todo(org, live_server, "待承办")
    _shot(org, "01-todo-org-handler")
    link.click()
    org.get_by_role("button", name="接办").click()
    org.get_by_text(f"{inside.organisation.name}已接办。").wait_for()
    org.get_by_role("textbox", name="承办情况").fill("已召开专题会议部署，各基层党组织逐项落实。")
    org.get_by_label("附件").set_input_files(
        {"name": "落实情况.txt", "mimeType": "text/plain", "buffer": "各支部已完成学习。\n".encode()}
    )
    org.get_by_label("本部门已办毕").check()
    org.get_by_role("button", name="报送承办情况").click()
    org.get_by_text("承办情况已报送，本部门已办毕。").wait_for()

    # The 宣传部's handler reports and finishes at once (a report takes the work up).
    pub = _log_in(browser, live_server, "imu_pub_handler")
    _todo(pub, live_server, "待承办").click()
    pub.get_by_role("textbox", name="承办情况").fill("已在校园网刊发学习专栏。")
    pub.get_by_label("本部门已办毕").check()
    pub.get_by_role("button", name="报送承办情况").click()
    pub.get_by_text("承办情况已报送，本部门已办毕。").wait_for()

    # The readers in turn: the first with the mouse, the second by keyboard alone.
    reader_a = _log_in(browser, live_server, "imu_reader_a")
    _todo(reader_a, live_server, "待阅").click()
    reader_a.get_by_label("阅文意见").fill("已阅，同意。")
    reader_a.get_by_role("button", name="已阅", exact=True).click()
    reader_a.get_by_text("已阅。", exact=True).wait_for()
    reader_b = _log_in(browser, live_server, "imu_reader_b")
    reader_b.goto(url)
    for _press in range(200):  # Tab from the top of the page to the remark field
        reader_b.keyboard.press("Tab")
        if reader_b.evaluate("document.activeElement.id") == "read-remark":
            break
    else:
        raise AssertionError("the remark field is not reached by Tab")
    reader_b.keyboard.type("请各部门抓紧落实。")
    reader_b.keyboard.press("Tab")
    assert reader_b.evaluate("document.activeElement.textContent.trim()") == "已阅"
    reader_b.keyboard.press("Enter")
    reader_b.get_by_text("已阅。", exact=True).wait_for()
    assert list(ReadingSlip.objects.order_by("position").values_list("state", "remark")) == [
        ("read", "已阅，同意。"),
        ("read", "请各部门抓紧落实。"),
    ]

    # The clerk reports the unit's 办结; the 办理单 is complete.
    clerk.goto(url)
    clerk.get_by_text("办结", exact=True).click()  # the <summary> that opens the form
    clerk.get_by_label("落实情况").fill("已按要求落实，组织部牵头、宣传部配合完成。")
    clerk.get_by_role("button", name="确认办结").click()
    clerk.get_by_text(re.compile("已办结")).first.wait_for()
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.COMPLETED
    assert set(Assignment.objects.values_list("state", flat=True)) == {"finished"}
    clerk.goto(url)
    sheet = clerk.locator("#handling")
    for text in ("同意。请组织部抓好落实。", "已召开专题会议部署", "落实情况.txt", "请各部门抓紧落实。", "已办结"):
        assert sheet.get_by_text(text).count() >= 1, text
    _shot(clerk, "02-delivery-with-handling-sheet")
    clerk.goto(f"{live_server.url}/todo/?tab=done")
    _shot(clerk, "03-done-clerk")

    # The printed 办理单: A4, one page, the customary rows in order, a ruled table.
    clerk.goto(f"{live_server.url}/deliveries/{delivery.pk}/handling-sheet/")
    _shot(clerk, "04-handling-sheet-page")
    clerk.emulate_media(media="print")
    pdf = clerk.pdf(format="A4", prefer_css_page_size=True)
    clerk.emulate_media(media="screen")
    (ARTIFACTS / "05-handling-sheet-printed.pdf").write_bytes(pdf)
    _rasterise(pdf, ARTIFACTS / "05-handling-sheet-printed")
    assert _page_sizes_mm(pdf) == {A4_MM}
    [text] = _texts(pdf)  # one sheet
    assert "—" not in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()  # a form: no page number
    record = HandlingRecord.objects.get()
    assert text.startswith(f"{world.university.name}收文办理单")
    labels = [
        "来文单位",
        "收文编号",
        "文号",
        "收文日期",
        "紧急程度",
        "标题",
        "拟办意见",
        "领导批示",
        "承办情况",
        "传阅情况",
    ]
    positions = [text.index(label) for label in [*labels, "办理结果"]]
    assert positions == sorted(positions)
    assert str(record) in text
    assert TITLE in text
    for word in ("办理单按公文用语", "待办", "流转链", "退出登录"):  # nothing of the page around the sheet
        assert word not in text, word
    rules = _ruled_lines(pdf)
    assert len(rules) >= 10, rules  # a rule above and below each of the rows
    # The issuer's clerk sees on the chain page how far the university got inside.
    issuer = _log_in(browser, live_server, "jygw")
    issuer.goto(f"{live_server.url}/documents/{document.pk}/chain/")
    _shot(issuer, "06-chain-issuer")
    audit = issuer.locator("table", has_text="操作人").last.inner_text()
    for label in ("收文登记", "拟办", "批办", "接办", "报送承办情况", "承办办毕", "传阅送达", "已阅", "办结"):
        assert f"\t{label}\t" in audit, label
    assert "READING_DONE" not in audit
    assert "HANDLING_INSTRUCTED" not in audit
    for page in (clerk, secretary, org, pub, reader_a, reader_b, issuer):
        assert page.errors == [], page.errors
