"""End to end in a real browser (Debian's Chromium), against a real Celery worker.

The seed scenario: zzb signs off and issues a 特提 telegram; jygw finds it at the top of the inbox,
signs for it and forwards it to 各高等学校党委; imu signs for the forward while jygw's outbox
updates by itself; auditor opens the chain and sees both levels and the stalled unit.

The deadlines work: jygw returns a document with a reason and completes the telegram with its
feedback; zzb reads the 退文告知单, presses 催办 on the overdue unit and recalls its unsigned
delivery, which leaves that unit's inbox; the chain page shows the feedback and the lateness; zzb
drafts the corrected document from the web and issues it in answer to the return.

Routing and notification are done by a `celery worker` subprocess consuming the real Redis, against
the live test database. Screenshots of every step are saved under test-artifacts/web-e2e/ and
test-artifacts/web-e2e-deadlines/ (printed at the start).
"""

import datetime
import io
import os
import re
import shutil
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from documents.models import Document
from tests.factories import build_world, content, delivery_of, issue
from tests.worker import Worker
from workflow import services
from workflow.models import Completion, Delivery, DeliveryReturn, Dispatch

pytestmark = [pytest.mark.browser, pytest.mark.worker]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
FOLDERS = {"test_seed_scenario_in_the_browser": "web-e2e", "test_deadlines_in_the_browser": "web-e2e-deadlines"}
PASSWORD = "pw"  # the password tests.factories.UserFactory gives everyone
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        message = f"no browser at {CHROMIUM} (install Debian's chromium: `make system`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between
    # browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def artifacts(request):
    folder = ARTIFACTS / FOLDERS[request.node.name]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def worker(live_server, artifacts):
    """A real `celery worker` on every queue, connected to the live test database and Redis."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.fail("the browser test needs REDIS_URL (a real broker for the real worker)")
    celery_app.control.purge()  # messages a crashed earlier run left under this key prefix
    (artifacts / "mail").mkdir()
    worker = Worker(queues="urgent,routine,control", mail_dir=artifacts / "mail", concurrency=1)
    yield worker
    worker.stop()


def _telegram_draft(world) -> Document:
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(
            kind="明传电报",
            urgency="特提",
            title="关于进一步发挥基层党组织战斗堡垒作用的通知",
            body="各盟市委组织部，自治区各直属党（工）委：\n现就有关事项通知如下。",
            issuer_mark="中共内蒙古自治区委员会组织部明传电报",
            page_count=4,
            telegram_send_to="见报头",
            telegram_approval_office="机要三",
            telegram_approver="李玉刚",
            telegram_seal="发电专用章",
        ),
        main_recipients=[world.education],
        number_prefix="内组电明字",
    )
    services.attachment_add(actor=world.zzb, document=draft, name="名单.txt", stream=io.BytesIO("名单\n".encode()))
    return draft


class Steps:
    """Screenshots numbered in the order they are taken, at 1280 px and at phone width."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def shot(self, page, name: str, *, phone: bool = False) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)
        if phone:
            size = page.viewport_size
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}-phone.png"), full_page=True)
            page.set_viewport_size(size)


def _log_in(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    # A stub page (a recalled document) answers 410 Gone, which Chromium reports as a failed load.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" and "status of 410" not in message.text else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # The people of a unit land on the inbox; an auditor without one on the chains; the people of a
    # department (内设机构) only, on their 待办.
    page.wait_for_url(re.compile(rf"^{re.escape(live_server.url)}/(chains/|todo/)?$"))
    page.errors = errors
    return page


def _sign_off_as(browser, live_server, username: str, url: str) -> None:
    """A signer other than the draft's author signs it off (核稿 and 签发 by two people)."""
    leader = _log_in(browser, live_server, username)
    leader.goto(url)
    leader.get_by_role("button", name="签发").click()
    leader.get_by_text("已签发，可以印发。").wait_for()
    assert leader.errors == [], leader.errors
    leader.context.close()


def test_seed_scenario_in_the_browser(browser, live_server, worker, artifacts):
    world = build_world()
    draft = _telegram_draft(world)
    steps = Steps(artifacts)

    # zzb signs off and issues the telegram; the worker routes it.
    zzb = _log_in(browser, live_server, "zzb")
    steps.shot(zzb, "zzb-inbox")
    zzb.get_by_role("link", name="发文", exact=True).click()
    zzb.get_by_role("link", name=draft.title).click()
    steps.shot(zzb, "zzb-draft")
    assert zzb.get_by_role("button", name="签发").count() == 0  # zzb drafted it: another signer signs off
    _sign_off_as(browser, live_server, "zzb_leader", zzb.url)
    zzb.reload()
    zzb.get_by_role("button", name="印发").click()
    zzb.wait_for_url("**/outbox/?unit=*")
    zzb.get_by_text("已签收 0 / 1").wait_for()  # routed by the worker (the page polls)
    steps.shot(zzb, "zzb-outbox-routed")
    telegram = Document.objects.get(pk=draft.pk)
    assert telegram.number == "内组电明字〔2022〕1号"

    # jygw finds the 特提 telegram at the top of the inbox, signs for it, forwards it.
    jygw = _log_in(browser, live_server, "jygw")
    first_row = jygw.locator("table.inbox tbody tr").first
    assert "特提" in first_row.inner_text()
    assert telegram.title in first_row.inner_text()
    assert jygw.locator(".bell-count").inner_text() == "1"  # notified by the worker
    steps.shot(jygw, "jygw-inbox", phone=True)
    jygw.get_by_role("link", name=telegram.title).click()
    jygw.get_by_text("名单.txt").wait_for()
    steps.shot(jygw, "jygw-telegram", phone=True)
    jygw.get_by_role("button", name="签收").click()
    receipt = jygw.locator("#receipt")
    receipt.wait_for()
    assert telegram.digest in receipt.inner_text()
    assert "与公文摘要一致" in receipt.inner_text()
    steps.shot(jygw, "jygw-receipt")
    jygw.get_by_role("link", name="转发").click()
    jygw.get_by_label("查找单位或收文对象组").fill("高等")
    jygw.get_by_label("各高等学校党委（2 个单位）").check()
    jygw.locator("#preview").get_by_text("各高等学校党委：").wait_for()  # the htmx preview
    steps.shot(jygw, "jygw-forward", phone=True)
    jygw.get_by_role("button", name="拟好转发通知").click()
    jygw.wait_for_url("**/documents/*/")
    _sign_off_as(browser, live_server, "jygw_leader", jygw.url)
    jygw.reload()
    jygw.get_by_role("button", name="印发").click()
    jygw.wait_for_url("**/outbox/?unit=*")
    jygw.get_by_text("已签收 0 / 2").wait_for()
    steps.shot(jygw, "jygw-outbox")

    # imu signs for the forward; jygw's outbox shows it without a reload.
    imu = _log_in(browser, live_server, "imu")
    cover = Dispatch.objects.exclude(document=telegram).get().document
    assert cover.title in imu.locator("table.inbox tbody tr").first.inner_text()
    imu.get_by_role("link", name=cover.title).click()
    imu.get_by_role("button", name="签收").click()
    imu.locator("#receipt").wait_for()
    steps.shot(imu, "imu-receipt")
    jygw.get_by_text("已签收 1 / 2").wait_for()  # htmx polling, no reload
    assert jygw.locator(".pending-units").inner_text().replace(" ", "") == "未签收：内蒙古工业大学党委"
    steps.shot(jygw, "jygw-outbox-updated")

    # auditor opens the chain: both levels, the stalled unit, the verified audit trail.
    auditor = _log_in(browser, live_server, "auditor")
    auditor.get_by_role("link", name="流转链", exact=True).click()
    auditor.get_by_role("link", name=telegram.title).click()
    levels = auditor.locator("table.levels tbody tr")
    assert levels.count() == 2
    assert " ".join(levels.nth(0).inner_text().split()).startswith("第1级 1 1 100%")
    assert " ".join(levels.nth(1).inner_text().split()).startswith("第2级 2 1 50%")
    assert "内蒙古工业大学党委" in auditor.locator("ul.stalled").inner_text()
    assert "哈希链校验通过" in auditor.locator(".verify").inner_text()
    steps.shot(auditor, "auditor-chain", phone=True)

    assert Delivery.objects.filter(state="signed").count() == 2
    for page in (zzb, jygw, imu, auditor):
        assert page.errors == [], page.errors  # no script errors, no CSP violations


def _nav(page, name: str):
    return page.get_by_role("navigation", name="主导航").get_by_role("link", name=name, exact=True)


def _is_outbox_poll(response) -> bool:
    return "/outbox/" in response.url and bool(response.request.headers.get("hx-request"))


def _message(page) -> str:
    return " ".join(page.locator(".messages").inner_text().split())


def test_deadlines_in_the_browser(browser, live_server, worker, artifacts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    # Issued two hours ago (a moved clock): the 特提 telegram's 30 minutes to sign are long past.
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=2), tick=True):
        telegram, _ = issue(
            world.zzb,
            world.department,
            main=[world.education, world.other],
            urgency="特提",
            kind="明传电报",
            title="关于做好防汛工作的紧急通知",
            page_count=2,
            telegram_send_to="见报头",
        )
        annual, _ = issue(
            world.zzb, world.department, main=[world.education], urgency="加急", title="关于报送年度总结的通知"
        )
    steps = Steps(artifacts)

    # jygw: the deadlines in the inbox; returns one document, completes the telegram with feedback.
    jygw = _log_in(browser, live_server, "jygw")
    first_row = jygw.locator("table.inbox tbody tr").first
    assert telegram.title in first_row.inner_text()
    assert "签收逾期" in first_row.inner_text()
    assert "overdue" in first_row.get_attribute("class")
    steps.shot(jygw, "jygw-inbox-deadlines", phone=True)
    jygw.get_by_role("link", name=annual.title).click()
    jygw.locator("#return > summary").click()
    jygw.get_by_label("文种格式不符").check()
    jygw.get_by_label("具体说明").fill("年度总结应以函行文。")
    steps.shot(jygw, "jygw-return-form")
    jygw.get_by_role("button", name="确认退文").click()
    jygw.locator("#returned").wait_for()
    assert "已退文" in _message(jygw)
    steps.shot(jygw, "jygw-returned")
    _nav(jygw, "收文").click()
    jygw.get_by_role("link", name=telegram.title).click()
    jygw.get_by_role("button", name="签收").click()
    jygw.locator("#receipt").wait_for()
    jygw.locator("#complete > summary").click()
    jygw.get_by_label("落实情况").fill("已连夜传达到各高校，防汛值班表已排定。")
    jygw.get_by_label("附件").set_input_files(
        files=[{"name": "值班表.txt", "mimeType": "text/plain", "buffer": "值班表\n".encode()}]
    )
    jygw.get_by_role("button", name="确认办结").click()
    jygw.locator("#completion").wait_for()
    assert "值班表.txt" in jygw.locator("#completion").inner_text()
    steps.shot(jygw, "jygw-completed", phone=True)

    # zzb: told of the return; the printable 退文告知单.
    zzb = _log_in(browser, live_server, "zzb")
    zzb.locator("#bell").click()
    assert "退文" in zzb.locator(".notifications").inner_text()
    steps.shot(zzb, "zzb-notifications")
    zzb.get_by_role("link", name="退文告知单").first.click()
    notice = zzb.locator(".return-notice")
    assert "文种格式不符" in notice.inner_text()
    assert "年度总结应以函行文。" in notice.inner_text()
    assert zzb.get_by_role("button", name="打印").is_visible()  # shown by the script, no inline handler
    steps.shot(zzb, "zzb-return-notice", phone=True)

    # other_clerk sees the overdue telegram; zzb presses 催办, then recalls it.
    other = _log_in(browser, live_server, "other_clerk")
    assert "签收逾期" in other.locator("table.inbox tbody tr").first.inner_text()
    _nav(zzb, "发文").click()
    overdue = zzb.locator(".overdue-list")
    assert "自治区直属机关工委" in overdue.inner_text()
    steps.shot(zzb, "zzb-outbox-overdue", phone=True)
    zzb.get_by_role("button", name="向自治区直属机关工委催办").click()
    assert "已向自治区直属机关工委催办（第1次）" in _message(zzb)
    steps.shot(zzb, "zzb-reminded")
    other.reload()
    assert "已催办 1 次" in other.locator("table.inbox tbody tr").first.inner_text()
    steps.shot(other, "other-reminded")
    zzb.locator(".overdue-list summary", has_text="撤回").click()
    zzb.locator(".overdue-list").get_by_label("撤回原因").fill("发送对象有误")
    zzb.locator(".overdue-list").get_by_role("button", name="确认撤回").click()
    assert "未签收的 1 件已从对方收文中撤回" in _message(zzb)
    assert delivery_of(telegram, world.other).state == Delivery.State.RECALLED
    steps.shot(zzb, "zzb-recalled")
    other.reload()
    assert other.get_by_text(telegram.title).count() == 0
    assert "这里没有来文" in other.locator("main").inner_text()
    steps.shot(other, "other-inbox-after-recall", phone=True)
    other.locator("#bell").click()
    kinds = other.locator(".notifications .pill").all_inner_texts()
    assert {"催办", "撤回"} <= set(kinds), kinds
    steps.shot(other, "other-notifications")
    # The notice opens the stub: what was recalled, by whom, when and why; never the text.
    other.locator(".notification-recalled a").click()
    stub = other.locator("main").inner_text()
    assert "已撤回" in stub
    assert "发送对象有误" in stub
    assert telegram.title in stub
    assert telegram.body.splitlines()[-1] not in stub
    steps.shot(other, "other-recalled-stub", phone=True)

    # A reason being typed survives the outbox refreshing itself (hx-preserve).
    recall = zzb.locator(".dispatch", has_text=telegram.number).locator("details", has_text="撤回全部分发")
    recall.locator("summary").click()
    recall.get_by_label("撤回原因").fill("正在输入的原因")
    with zzb.expect_response(_is_outbox_poll):
        pass  # the next poll (every 5 s)
    zzb.wait_for_timeout(300)  # let htmx swap
    assert recall.get_attribute("open") is not None
    assert recall.get_by_label("撤回原因").input_value() == "正在输入的原因"
    recall.locator("summary").click()

    # The chain: the feedback, the lateness.
    zzb.locator(".dispatch", has_text=telegram.number).get_by_role("link", name="流转链").click()
    assert "已连夜传达到各高校" in zzb.locator("#completions").inner_text()
    tree = zzb.locator("ul.tree").inner_text()
    assert "签收晚" in tree
    steps.shot(zzb, "zzb-chain", phone=True)

    # The corrected document, drafted on the web in answer to the return, then signed off and issued.
    _nav(zzb, "发文").click()
    zzb.get_by_role("link", name="拟更正公文").click()
    assert zzb.get_by_label("标题").input_value() == annual.title
    zzb.get_by_label("标题").fill("关于报送年度总结的函")
    zzb.get_by_label("文种").select_option("函")
    zzb.locator("#q-cc").fill("直属")
    zzb.locator("#cc-results").get_by_label("自治区直属机关工委").check()  # htmx search, moved to the chosen
    zzb.locator("#q-cc").fill("大学")
    zzb.locator("#cc-results").get_by_label("内蒙古大学党委").wait_for()
    assert zzb.locator("[data-chosen=cc]").get_by_label("自治区直属机关工委").is_checked()
    zzb.get_by_label("附件").set_input_files(
        files=[{"name": "模板.txt", "mimeType": "text/plain", "buffer": "模板\n".encode()}]
    )
    steps.shot(zzb, "zzb-draft-form", phone=True)
    zzb.get_by_role("button", name="保存草稿", exact=True).last.click()
    zzb.wait_for_url("**/documents/*/?answers=*")
    _sign_off_as(browser, live_server, "zzb_leader", zzb.url)
    zzb.reload()
    assert zzb.get_by_label("答复退文").input_value() == str(DeliveryReturn.objects.get().pk)
    steps.shot(zzb, "zzb-issue-answering-return")
    zzb.get_by_role("button", name="印发").click()
    zzb.wait_for_url("**/outbox/?unit=*")
    zzb.get_by_text("已签收 0 / 2").wait_for()  # routed by the worker
    assert "已更正重发" in zzb.locator("#returns-head").locator("..").inner_text()
    steps.shot(zzb, "zzb-outbox-corrected")

    corrected = Dispatch.objects.get(answers_return__isnull=False)
    assert corrected.document.title == "关于报送年度总结的函"
    assert sorted(corrected.cc_unit_ids) == [world.other.pk]
    assert Completion.objects.get().feedback == "已连夜传达到各高校，防汛值班表已排定。"
    for page in (jygw, zzb, other):
        assert page.errors == [], page.errors  # no script errors, no CSP violations
