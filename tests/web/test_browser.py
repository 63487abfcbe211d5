"""The seed scenario end to end in a real browser (Debian's Chromium), against a real Celery worker.

zzb signs off and issues a 特提 telegram; jygw finds it at the top of the inbox, signs for it and
forwards it to 各高等学校党委; imu signs for the forward while jygw's outbox updates by itself;
auditor opens the chain and sees both levels and the stalled unit. Routing and notification are
done by a `celery worker` subprocess consuming the real Redis, against the live test database.
Screenshots of every step are saved under test-artifacts/web-e2e/ (printed at the start).
"""

import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app
from documents.models import Document
from tests.factories import build_world, content
from tests.worker import Worker
from workflow import services
from workflow.models import Delivery, Dispatch

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
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "web-e2e"
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
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nscreenshots: {ARTIFACTS}")
    return ARTIFACTS


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
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.errors = errors
    return page


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
    zzb.get_by_role("button", name="签发").click()
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
    jygw.get_by_role("button", name="签发").click()
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
