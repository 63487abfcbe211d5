"""Every page family at a phone's width (390 px) and a desk's (1280 px), in a real browser.

At both widths: the page never scrolls sideways (document.documentElement.scrollWidth is at most
the viewport's width; a wide table scrolls inside its own box or becomes cards), and no link of the
main navigation wraps inside a word. A full-page screenshot of each page at each width is saved
under test-artifacts/widths/ (printed at the start): look at them.

The data is built through the services and routed in-process: no worker is needed.
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
from django.urls import reverse
from django.utils import timezone

from tests.factories import build_world, content, delivery_of, forward, issue
from tests.web.inunit import build_inside
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, WAIT_MS
from workflow import services

pytestmark = [pytest.mark.browser]

WIDTHS = (390, 1280)
PHONE_HEIGHT, DESK_HEIGHT = 844, 900

# What a page's layout is measured by, in the page itself: how wide it is, what sticks out on the
# right, and how many lines each link of the main navigation takes (a link on two lines has wrapped
# inside its word: 收文 as 收/文).
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (element) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll("body *")]
    .filter((element) => element.getBoundingClientRect().right > width + 0.5 && !clipped(element))
    .map((element) => {
      const right = Math.round(element.getBoundingClientRect().right);
      return `${element.tagName.toLowerCase()}.${element.className} ${right}`;
    });
  // Lines of text an element takes: its text's boxes, a new line wherever one starts below the last.
  const lines = (element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    // Text in a 1 px box (.visually-hidden, for screen readers) takes no line.
    const boxes = [...range.getClientRects()]
      .filter((box) => box.width > 1 && box.height > 1)
      .sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const box of boxes) {
      if (box.top >= bottom - 2) { count += 1; bottom = box.bottom; } else { bottom = Math.max(bottom, box.bottom); }
    }
    return count;
  };
  // Labels, not sentences: a short heading, tab, badge or button stays on one line (a title may wrap).
  const wrapped = (selector) => [...document.querySelectorAll(selector)]
    .filter((element) => element.getClientRects().length && element.textContent.trim().length <= 12)
    .filter((element) => lines(element) > 1)
    .map((element) => element.textContent.trim());
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    wide: wide.slice(0, 12),
    navWrapped: wrapped(".mainnav a"),
    headsWrapped: wrapped(
      ".brand, .usermenu summary, .tabs a, h1, h2, h3, caption, table.list thead th, .badge, .pill, .state, " +
      "button, .button, summary"
    ),
    navLinks: [...document.querySelectorAll(".mainnav a")].map((element) => element.textContent.trim()),
  };
}"""


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


@pytest.fixture(scope="module")
def folder():
    folder = ARTIFACTS / "widths"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _scenario(world) -> dict[str, object]:
    """Every page family's data: a chain two levels deep, overdue units, a return, a recall, a draft."""
    # Issued two hours ago: the 特提 telegram's 30 minutes to sign are past (the outbox's overdue list).
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=2), tick=True):
        telegram = services.document_draft(
            actor=world.zzb,
            unit=world.department,
            content=content(
                kind="明传电报",
                urgency="特提",
                title="关于进一步发挥基层党组织战斗堡垒作用切实做好疫情防控工作的通知",
                body="各盟市委组织部，自治区各直属党（工）委：\n现就有关事项通知如下。\n一、提高政治站位。各级党组织要把疫情防控作为当前最重要的政治任务。",
                issuer_mark="中共内蒙古自治区委员会组织部明传电报",
                page_count=4,
                telegram_send_to="见报头",
                telegram_approval_office="机要三",
                telegram_approver="李玉刚",
                telegram_seal="发电专用章",
            ),
            main_recipients=[world.education, world.other, world.university_b],
            number_prefix="内组电明字",
        )
        services.attachment_add(
            actor=world.zzb,
            document=telegram,
            name="各盟市委组织部和自治区各直属党（工）委联系人名单.txt",
            stream=io.BytesIO("名单\n".encode()),
        )
        services.document_sign_off(actor=world.zzb_leader, document=telegram)
        dispatch = services.document_issue(actor=world.zzb, document=telegram)
        services.dispatch_route(dispatch_id=dispatch.pk)
        services.dispatch_notify(dispatch_id=dispatch.pk)
        telegram.refresh_from_db()
        for title, recipients in (
            ("关于做好防汛抗旱工作的紧急通知", [world.education, world.other, world.university, world.university_b]),
            ("关于开展安全生产大检查的紧急通知", [world.college]),
        ):
            issue(world.zzb, world.department, main=recipients, urgency="特提", title=title)
        returned_document, _ = issue(
            world.zzb, world.department, main=[world.other], urgency="加急", title="关于报送年度总结的通知"
        )
    cover, cover_dispatch = forward(
        world.jygw, delivery_of(telegram, world.education), main=[world.groups["各高校党委"]]
    )
    services.dispatch_notify(dispatch_id=cover_dispatch.pk)
    at_university = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=at_university.pk)
    # Inside the university (办理单): registered, proposed, instructed; 组织部 to handle it.
    inside = build_inside(world.university, world.imu, prefix="imu_")
    record = services.delivery_register(world.imu, at_university.pk, copies=2)
    services.handling_propose(
        world.imu, record.pk, text="请组织部牵头落实，宣传部配合。", department_ids=[inside.organisation.pk]
    )
    services.handling_instruct(
        inside.secretary,
        record.pk,
        text="同意。请组织部抓好落实。",
        lead_department_ids=[inside.organisation.pk],
        assist_department_ids=[inside.publicity.pk],
        reader_ids=[inside.reader_a.pk, inside.reader_b.pk],
    )
    returned = services.delivery_return(
        actor=world.other_clerk,
        delivery_id=delivery_of(returned_document, world.other).pk,
        reason="other",
        text="年度总结应以函行文，请按规定格式重新印发。",
    )
    recalled, _ = issue(world.zzb, world.department, main=[world.university_b], title="关于召开座谈会的通知")
    services.delivery_recall(
        actor=world.zzb, delivery_id=delivery_of(recalled, world.university_b).pk, reason="会议延期"
    )
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(
            title="关于做好2023年度党员教育培训工作的通知", body="各盟市委组织部：\n现将有关事项通知如下。"
        ),
        main_recipients=[world.groups["各直属党委"]],
    )
    return {
        "telegram": telegram,
        "cover": cover,
        "at_university": at_university,
        "returned": returned,
        "recalled": delivery_of(recalled, world.university_b),
        "draft": draft,
    }


def _pages(data) -> list[tuple[str, str | None, str]]:
    """(name, who, path) of every page family; who None: not signed in."""
    return [
        ("login", None, reverse("login")),
        ("inbox", "other_clerk", reverse("inbox")),
        ("inbox-forwarded", "jygw", reverse("inbox", query={"tab": "all"})),
        ("inbox-all", "imu", reverse("inbox", query={"tab": "all"})),
        ("delivery-cover-letter", "imu", reverse("delivery", args=[data["at_university"].pk])),
        ("forward", "imu", reverse("delivery-forward", args=[data["at_university"].pk])),
        ("draft-form", "zzb", reverse("document-new")),
        ("document", "zzb", reverse("document", args=[data["telegram"].pk])),
        ("document-draft", "zzb", reverse("document", args=[data["draft"].pk])),
        ("outbox", "zzb", reverse("outbox")),
        ("chain", "auditor", reverse("chain", args=[data["telegram"].pk])),
        ("chains", "auditor", reverse("chains")),
        ("notifications", "jygw", reverse("notifications")),
        ("return-notice", "zzb", reverse("return_notice", args=[data["returned"].pk])),
        ("recalled-stub", "univ_b_clerk", reverse("delivery", args=[data["recalled"].pk])),
        ("todo-handler", "imu_org_handler", reverse("todo")),
        ("done-clerk", "imu", reverse("todo", query={"tab": "done"})),
        ("delivery-department", "imu_org_handler", reverse("delivery", args=[data["at_university"].pk])),
        ("handling-sheet", "imu", reverse("handling-sheet", args=[data["at_university"].pk])),
        ("delegations", "imu", reverse("delegations")),
        ("inbox-english", "jygw", reverse("inbox")),
        ("delivery-english", "imu", reverse("delivery", args=[data["at_university"].pk])),
    ]


def _context(browser, live_server, username: str | None, *, english: bool = False):
    context = browser.new_context(viewport={"width": 1280, "height": DESK_HEIGHT}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.errors = []
    # The stub of a recalled document answers 410 and a refused form 400: Chromium logs them as
    # failed loads, which they are not.
    page.on(
        "console",
        lambda message: (
            page.errors.append(message.text)
            if message.type == "error" and not re.search(r"status of 4(00|10)\b", message.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    if username is not None:
        page.goto(f"{live_server.url}{reverse('login')}")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(rf"^{re.escape(live_server.url)}/(chains/|todo/)?$"))
    if english:
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    return page


def test_every_page_family_fits_a_phone_and_a_desk(browser, live_server, folder):
    world = build_world()
    data = _scenario(world)
    pages: dict[tuple[str | None, bool], object] = {}
    problems = []
    for name, who, path in _pages(data):
        english = name.endswith("-english")
        page = pages.get((who, english))
        if page is None:
            page = pages[(who, english)] = _context(browser, live_server, who, english=english)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": PHONE_HEIGHT if width < 600 else DESK_HEIGHT})
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            measured = page.evaluate(MEASURE)
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            if measured["scrollWidth"] > width:
                problems.append(f"{name} at {width}: {measured['scrollWidth']} px wide: {measured['wide']}")
            if measured["navWrapped"] or measured["headsWrapped"]:
                problems.append(f"{name} at {width}: wrapped inside a word: {measured}")
            if who is not None and not measured["navLinks"]:
                problems.append(f"{name} at {width}: no navigation")
    (folder / "problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == []
    for page in pages.values():
        assert page.errors == [], page.errors  # no script errors, no CSP violations


def _scroll_and_focus(page) -> dict:
    return page.evaluate(
        """() => {
          const active = document.activeElement;
          const box = active.getBoundingClientRect();
          return {
            className: active.className,
            role: active.getAttribute("role"),
            text: active.innerText.replace(/\\s+/g, " ").trim(),
            visible: box.top >= 0 && box.bottom <= window.innerHeight,
          };
        }"""
    )


def test_a_refused_return_shows_its_error_at_once_and_focused_at_both_widths(browser, live_server, folder):
    world = build_world()
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于报送年度总结的通知")
    delivery = delivery_of(document, world.education)
    page = _context(browser, live_server, "jygw")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT if width < 600 else DESK_HEIGHT})
        page.goto(f"{live_server.url}{reverse('delivery', args=[delivery.pk])}")
        page.locator("#return > summary").click()
        page.get_by_label("其他").check()
        page.get_by_role("button", name="确认退文").click()
        page.wait_for_load_state()
        page.screenshot(path=str(folder / f"return-refused-{width}.png"), full_page=False)
        assert _scroll_and_focus(page) == {
            "className": "error-summary",
            "role": "alert",
            "text": "退文未完成，请改正以下内容： 具体说明：退文理由为“其他”时，请写明具体理由。",
            "visible": True,
        }
        # By keyboard: the error's link leads to the field, which is then in view.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_text"
        page.keyboard.press("Enter")
        top, bottom, height = page.evaluate(
            "(() => { const box = document.querySelector('#id_text').getBoundingClientRect();"
            " return [box.top, box.bottom, window.innerHeight]; })()"
        )
        assert -1 <= top < bottom <= height
    page.get_by_label("具体说明").fill("年度总结应以函行文。")
    page.get_by_role("button", name="确认退文").click()
    page.locator("#returned").wait_for()
    assert page.errors == [], page.errors


def test_the_inbox_refreshes_itself_in_the_background_and_waits_while_the_focus_is_in_it(browser, live_server, folder):
    world = build_world()
    issue(world.zzb, world.department, main=[world.education], title="先到的通知")
    page = _context(browser, live_server, "jygw")
    with page.expect_request(lambda request: bool(request.headers.get("hx-request"))) as polled:
        page.get_by_text("先到的通知").wait_for()
    assert polled.value.headers.get("x-background-refresh") == "1"  # not the person's activity

    issue(world.zzb, world.department, main=[world.education], title="后到的通知")
    page.get_by_role("link", name="后到的通知").wait_for(timeout=15_000)  # no reload
    counts = page.locator("#inbox-tabs").inner_text().split()
    assert counts == ["待签收", "2", "已签收", "0", "已办结", "0", "已撤回", "0", "全部", "2"]
    page.screenshot(path=str(folder / "inbox-refreshed-1280.png"), full_page=True)

    # A person moving through the list by keyboard keeps their place: the list waits for them.
    page.get_by_role("link", name="先到的通知").focus()
    issue(world.zzb, world.department, main=[world.education], title="第三份通知")
    page.wait_for_timeout(12_000)  # longer than a refresh
    assert page.get_by_role("link", name="第三份通知").count() == 0
    assert page.evaluate("document.activeElement.textContent") == "先到的通知"
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.get_by_role("link", name="第三份通知").wait_for(timeout=15_000)
    assert page.errors == [], page.errors


def test_english_pages_set_apostrophes_in_a_latin_font(browser, live_server):
    build_world()
    measure = """() => {
      const context = document.createElement("canvas").getContext("2d");
      context.font = getComputedStyle(document.body).font;
      return context.measureText("’").width / parseFloat(getComputedStyle(document.body).fontSize);
    }"""
    chinese = _context(browser, live_server, "jygw")
    english = _context(browser, live_server, "jygw", english=True)
    english.goto(f"{live_server.url}{reverse('inbox')}")
    assert english.locator("html").get_attribute("lang") == "en"
    assert english.evaluate(measure) < 0.4  # "unit’s", not "unit’ s"
    # Chinese pages keep their full-width quotation marks (“其他”): a CJK font comes first.
    assert chinese.evaluate(measure) > 0.9
