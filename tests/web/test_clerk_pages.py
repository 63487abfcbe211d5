"""What a clerk notices (issue 11): the pages say what happened, on whose side, and where to look."""

import datetime
import io
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from documents.attachments import check_attachment
from tests.factories import content, delivery_of, forward, issue, unit
from tests.web.conftest import sign_in
from tests.workflow.test_deadlines import at
from units.display import display_alternatives, display_list
from units.errors import InvalidInput, NotAllowed
from units.models import Role
from web.selectors import overdue_list_for_unit
from workflow import services


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def _between(html: str, start: str, end: str) -> str:
    assert start in html, start
    return html.split(start, 1)[1].split(end, 1)[0]


# --- the chain chart's legend (item 15) -------------------------------------------------------------


def test_the_chain_charts_legend_colours_its_dots_by_level_as_the_chart_does(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    sign_in(client, world.auditor)
    html = client.get(reverse("chain", args=[document.pk])).content.decode()

    chart = _between(html, 'aria-labelledby="chart1-title chart1-desc"', "</svg>")
    dot_colours = set(re.findall(r'<circle cx="[\d.]+" cy="[\d.]+" r="3" fill="(#[0-9a-f]{6})"', chart))
    assert dot_colours == {"#b91c1c", "#1d4ed8"}  # level 1 red, level 2 blue: coloured by level

    legend = _between(html, '<figcaption class="legends">', "</figcaption>")
    dot = r'<circle cx="6" cy="6" r="4" fill="(#[0-9a-f]{6})" fill-opacity="0.6"/></svg> (第\d级)'
    levels = re.findall(dot, legend)
    assert levels == [("#b91c1c", "第1级"), ("#1d4ed8", "第2级")]
    text = " ".join(re.sub(r"<[^>]+>", " ", legend).split())
    assert text == (
        "各级签收用时（对数刻度）与签收时限 点：一个单位的签收用时，颜色表示层级 第1级 第2级 "
        "空心红圈：超过签收时限才签收 方框：中间一半单位的用时，粗竖线为中位数 细横线：最快到最慢 红色虚线：签收时限"
    )
    assert "按时签收" not in html


def test_the_chain_charts_legend_in_english(client, world, settings):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    sign_in(client, world.auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("chain", args=[document.pk])).content.decode()
    legend = _between(html, '<figcaption class="legends">', "</figcaption>")
    assert " ".join(re.sub(r"<[^>]+>", " ", legend).split()) == (
        "Time to sign for per level (log scale) and the deadline "
        "Dots: one unit's time to sign for, coloured by level Level 1 "
        "Hollow red ring: signed for after the deadline "
        "Box: the middle half of the units, the thick line their median "
        "Thin line: fastest to slowest "
        "Red dashed line: the deadline to sign for"
    )


# --- where a person lands (item 14) ----------------------------------------------------------------


def _nav_links(response) -> list[str]:
    nav = _between(response.content.decode(), '<nav class="mainnav"', "</nav>")
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def test_an_auditor_without_a_unit_lands_on_the_chains_after_login_and_at_the_root(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    landed = client.post(reverse("login"), {"username": "auditor", "password": "pw"}, follow=True)
    assert [url for url, _status in landed.redirect_chain] == [reverse("inbox"), reverse("chains")]
    assert _nav_links(landed) == ["待办", "流转链"]  # no 收文, no 发文: the auditor belongs to no unit
    assert document.title in _text(landed)
    assert 'class="brand" href="/chains/"' in landed.content.decode()

    root = client.get(reverse("inbox"))
    assert (root.status_code, root["Location"]) == (302, reverse("chains"))
    assert _nav_links(client.get(reverse("notifications"))) == ["待办", "流转链"]


def test_a_person_of_a_unit_keeps_landing_on_the_inbox_with_all_three_tabs(client, world):
    landed = client.post(reverse("login"), {"username": "jygw", "password": "pw"}, follow=True)
    assert [url for url, _status in landed.redirect_chain] == [reverse("inbox")]
    assert _nav_links(landed) == ["收文", "发文", "待办", "流转链"]
    assert 'class="brand" href="/"' in landed.content.decode()
    # An auditor who also belongs to a unit (other_auditor audits 直属机关工委; make them its clerk).
    services.role_grant(actor=None, unit=world.other, role=Role.CLERK, user=world.other_auditor)
    sign_in(client, world.other_auditor)
    assert client.get(reverse("inbox")).status_code == 200


# --- the way back follows the person's side (item 9) ------------------------------------------------


def _crumbs(client, url) -> tuple[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    crumbs = _between(response.content.decode(), '<p class="crumbs', "</p>")
    return " ".join(re.sub(r"<[^>]+>", " ", crumbs.split(">", 1)[1]).split()), re.findall(r'href="([^"]+)"', crumbs)


def test_the_breadcrumb_of_a_delivery_follows_the_side_of_the_person_opening_it(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education], urgency="特提")
    received = delivery_of(document, world.education)
    cover, _ = forward(world.jygw, received, main=[world.groups["各高校党委"]])
    at_university = delivery_of(cover, world.university)
    url = reverse("delivery", args=[received.pk])

    sign_in(client, world.jygw)  # the recipient's people came from 收文
    assert _crumbs(client, url) == (f"收文 › {document.number}", [reverse("inbox")])
    sign_in(client, world.zzb)  # the issuer opening its own outgoing delivery came from 发文
    assert _crumbs(client, url) == (
        f"发文 › {document.number} › 自治区教育工委",
        [f"{reverse('outbox')}?unit={world.department.pk}", reverse("document", args=[document.pk])],
    )
    sign_in(client, world.auditor)  # an auditor came from the chain
    assert _crumbs(client, url) == (
        f"流转链 › {document.number} › 自治区教育工委",
        [reverse("chains"), reverse("chain", args=[document.pk])],
    )
    # A forward's delivery: the auditor's way back is the whole chain, from its root.
    assert _crumbs(client, reverse("delivery", args=[at_university.pk])) == (
        f"流转链 › {document.number} › {cover.number} › 内蒙古大学党委",
        [reverse("chains"), reverse("chain", args=[document.pk])],
    )
    sign_in(client, world.imu)
    assert _crumbs(client, reverse("delivery", args=[at_university.pk])) == (
        f"收文 › {cover.number}",
        [reverse("inbox")],
    )


def test_the_breadcrumb_of_a_document_and_of_a_return_notice_follows_the_side_too(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    returned = services.delivery_return(
        actor=world.jygw, delivery_id=delivery_of(document, world.education).pk, reason="other", text="份数不对。"
    )
    sign_in(client, world.zzb)
    assert _crumbs(client, reverse("document", args=[document.pk])) == (
        f"发文 › {document.number}",
        [f"{reverse('outbox')}?unit={world.department.pk}"],
    )
    sign_in(client, world.auditor)
    assert _crumbs(client, reverse("document", args=[document.pk])) == (
        f"流转链 › {document.number}",
        [reverse("chains"), reverse("chain", args=[document.pk])],
    )
    notice = reverse("return_notice", args=[returned.pk])
    delivery_url = reverse("delivery", args=[returned.delivery_id])
    assert _crumbs(client, notice) == (f"流转链 › {document.number} › 退文告知单", [reverse("chains"), delivery_url])
    sign_in(client, world.jygw)  # the unit that returned it
    assert _crumbs(client, notice) == (f"收文 › {document.number} › 退文告知单", [reverse("inbox"), delivery_url])
    sign_in(client, world.zzb)
    assert _crumbs(client, notice) == (
        f"发文 › {document.number} › 退文告知单",
        [f"{reverse('outbox')}?unit={world.department.pk}", delivery_url],
    )


# --- the inbox: what became of each delivery, and a list that refreshes itself (item 8) -------------


def _inbox_states(client, **query) -> dict[str, str]:
    """Each row's title and its 状态 cell, as read."""
    html = client.get(reverse("inbox"), query).content.decode()
    rows = re.findall(r"<tr class=.*?</tr>", html, flags=re.S)
    states = {}
    for row in rows:
        title = re.search(r'<a href="/deliveries/\d+/">([^<]+)</a>', row).group(1)
        cell = row.split('data-label="状态">', 1)[1]
        states[title] = " ".join(re.sub(r"<[^>]+>", " ", cell).split())
    return states


def test_the_inbox_shows_what_became_of_each_delivery_after_it_was_signed_for(client, world):
    def received(title: str):
        document, _ = issue(world.zzb, world.department, main=[world.education], title=title)
        return delivery_of(document, world.education)

    forwarded, drafted, completed, returned, recalled, _waiting = (
        received(title) for title in ("已转发的", "转发待印发的", "已办结的", "退回的", "撤回的", "待签收的")
    )
    cover, _ = forward(world.jygw, forwarded, main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.jygw, delivery_id=drafted.pk)
    services.document_forward(actor=world.jygw, delivery=drafted, main_recipients=[world.university])
    services.delivery_sign_for(actor=world.jygw, delivery_id=completed.pk)
    services.delivery_complete(actor=world.jygw, delivery_id=completed.pk, feedback="已传达。", attachments=[])
    services.delivery_return(actor=world.jygw, delivery_id=returned.pk, reason="other", text="份数不对。")
    services.delivery_sign_for(actor=world.jygw, delivery_id=recalled.pk)
    services.delivery_recall(actor=world.zzb, delivery_id=recalled.pk, reason="发错了。")

    sign_in(client, world.jygw)
    assert _inbox_states(client, tab="all") == {
        "待签收的": "待签收",
        "撤回的": "签收后撤回",
        "退回的": "已退文",
        "已办结的": "已办结",
        "转发待印发的": "已签收 转发通知待印发",
        "已转发的": f"已签收 已转发 {cover.number}",
    }
    assert re.fullmatch(r"内教工委函〔\d{4}〕1号", cover.number)


def test_the_inbox_list_refreshes_itself_in_the_background_with_the_tabs_counts(client, world):
    issue(world.zzb, world.department, main=[world.education], title="先到的通知")
    sign_in(client, world.jygw)
    page = client.get(reverse("inbox")).content.decode()
    assert (
        '<div id="inbox-list" hx-get="/" hx-trigger="every 10s" '
        'hx-headers=\'{"X-Background-Refresh": "1"}\' hx-swap="outerHTML" data-background-refresh>'
    ) in page
    assert "hx-swap-oob" not in page

    issue(world.zzb, world.department, main=[world.education], title="后到的通知")
    refresh = client.get(reverse("inbox"), headers={"HX-Request": "true", "X-Background-Refresh": "1"})
    html = refresh.content.decode()
    assert html.startswith('\n<div id="inbox-list" hx-get="/"')  # the list alone, not the page
    assert 'class="topbar"' not in html
    assert "查找来文" not in html  # the search form stays as the person left it
    assert re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', html) == ["后到的通知", "先到的通知"]
    tabs = _between(html, '<nav class="tabs" id="inbox-tabs"', "</nav>")
    assert tabs.startswith(' aria-label="收文状态" hx-swap-oob="true">')
    counts = " ".join(re.sub(r"<[^>]+>", " ", tabs.split(">", 1)[1]).split())
    assert counts == "待签收 2 已签收 0 已办结 0 已撤回 0 全部 2"
    assert '<span id="inbox-unread" hx-swap-oob="true"><span class="pill pill-red">2 件未读</span></span>' in html


# --- the outbox's overdue units, grouped by document (item 10) --------------------------------------


def _overdue_world(world):
    """At 10:00: telegram A (09:00) overdue at six banners, B (09:05) at education and other, C
    (09:10) at other; 特提, 30 minutes to sign for."""
    banners = [unit(f"第{index}旗委", world.region) for index in range(1, 7)]
    documents = []
    for minute, title, recipients in (
        ("09:00", "关于甲事项的紧急通知", banners),
        ("09:05", "关于乙事项的紧急通知", [world.education, world.other]),
        ("09:10", "关于丙事项的紧急通知", [world.other]),
    ):
        with time_machine.travel(at(f"2022-10-13 {minute}"), tick=False):
            documents.append(issue(world.zzb, world.department, main=recipients, urgency="特提", title=title)[0])
    return documents


def test_the_outbox_groups_the_overdue_units_by_document_and_folds_all_but_a_few(client, world):
    first, second, third = _overdue_world(world)
    sign_in(client, world.zzb)
    with time_machine.travel(at("2022-10-13 10:00"), tick=False):
        html = client.get(reverse("outbox")).content.decode()
    panel = _between(html, '<section class="panel overdue-panel" aria-labelledby="overdue-head">', "</section>")
    text = " ".join(re.sub(r"<[^>]+>", " ", panel).split())
    for document in (first, second, third):
        assert text.count(document.title) == 1  # a title once, however many of its units are late
    assert text.startswith(
        "逾期未办 9 已过签收时限仍未签收，或已过办结时限仍未办结的收文单位，按公文归在一起，最逾期的在前。 "
        f"特提 {first.number} {first.title} 6 个单位逾期 · 流转链 "
        "第1旗委 未签收 逾期 30分钟 时限 2022-10-13 09:30 催办 撤回 撤回原因 确认撤回 "
        "第2旗委 未签收 逾期 30分钟 时限 2022-10-13 09:30 催办 撤回 撤回原因 确认撤回 "
        "第3旗委 未签收 逾期 30分钟 时限 2022-10-13 09:30 催办 撤回 撤回原因 确认撤回 "
        "其余 3 个单位 第4旗委 未签收"
    )
    assert (
        f"特提 {second.number} {second.title} 2 个单位逾期 · 流转链 "
        "自治区教育工委 未签收 逾期 25分钟 时限 2022-10-13 09:35"
    ) in text
    # Folded: the fourth banner on, and every document after the first two.
    folded_units = _between(panel, '<details class="overdue-more">', "</ul>")
    assert re.findall(r'class="overdue-unit-name">([^<]+)</a>', folded_units) == ["第4旗委", "第5旗委", "第6旗委"]
    folded_documents = panel.rsplit('<details class="overdue-more">\n            <summary>', 1)[1]
    assert folded_documents.startswith("其余 1 件公文</summary>")
    assert third.title in folded_documents
    assert first.title not in folded_documents


def test_the_overdue_list_names_the_most_overdue_units_and_counts_them_all(world):
    first, second, _third = _overdue_world(world)
    overdue = overdue_list_for_unit(world.department, now=at("2022-10-13 10:00"), limit=4)
    assert (overdue.total, overdue.shown) == (9, 4)
    assert [(group.document, group.total, len(group.units)) for group in overdue.documents] == [(first, 6, 4)]
    assert [clock.lateness for _delivery, clock in overdue.documents[0].units] == [datetime.timedelta(minutes=30)] * 4
    overdue = overdue_list_for_unit(world.department, now=at("2022-10-13 10:00"), limit=50)
    assert [(group.document, group.total, len(group.units)) for group in overdue.documents][:2] == [
        (first, 6, 6),
        (second, 2, 2),
    ]


# --- a refused 退文 is seen at once (item 11) -------------------------------------------------------


def test_a_return_refused_for_its_missing_text_opens_at_the_top_with_its_error_first(client, world, nothing_written):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    sign_in(client, world.jygw)
    client.get(reverse("delivery", args=[delivery.pk]))  # opened: its read time is recorded
    with nothing_written():
        response = client.post(reverse("delivery-return", args=[delivery.pk]), {"reason": "other", "text": " "})
    assert response.status_code == 400
    html = response.content.decode()
    main = html.split('<main id="main" tabindex="-1">', 1)[1]
    # The form comes before the two columns (the sidebar sits below the fold), its error summary first.
    retry = _between(main, '<section class="panel form-retry" id="return" aria-labelledby="return-head">', "</section>")
    assert main.index("form-retry") < main.index('class="layout-2"')
    assert retry.split("<div", 1)[1].startswith(' class="error-summary" role="alert" tabindex="-1" autofocus>')
    summary = _between(retry, '<div class="error-summary"', "</div>")
    assert " ".join(re.sub(r"<[^>]+>", " ", summary.split(">", 1)[1]).split()) == (
        "退文未完成，请改正以下内容： 具体说明：退文理由为“其他”时，请写明具体理由。"
    )
    assert '<a href="#id_text">' in summary
    assert '<input type="radio" name="reason" value="other" id="id_reason_4" required checked>' in retry
    assert main.count('id="return"') == 1  # not a second time in the sidebar
    assert main.count('id="id_text"') == 1

    # Without a reason at all, the summary links to the first choice.
    response = client.post(reverse("delivery-return", args=[delivery.pk]), {"text": "份数不对。"})
    summary = _between(response.content.decode(), '<div class="error-summary"', "</div>")
    assert '<a href="#id_reason_0">退文理由：这个字段是必填项。</a>' in summary


def test_a_completion_refused_for_its_missing_feedback_opens_at_the_top_too(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    sign_in(client, world.jygw)
    response = client.post(reverse("delivery-complete", args=[delivery.pk]), {"feedback": ""})
    assert response.status_code == 400
    main = response.content.decode().split('<main id="main" tabindex="-1">', 1)[1]
    assert main.index('<section class="panel form-retry" id="complete"') < main.index('class="layout-2"')
    summary = _between(main, '<div class="error-summary"', "</div>")
    assert '<a href="#id_feedback">落实情况：这个字段是必填项。</a>' in summary
    assert main.count('id="complete"') == 1


# --- English (item 12) -----------------------------------------------------------------------------


def _in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_drafting_is_an_action_in_english_and_a_drafted_document_an_event(client, world, settings):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(document, world.education).pk)
    sign_in(client, world.zzb)
    _in_english(client, settings)
    outbox = client.get(reverse("outbox")).content.decode()
    assert f'<a class="button primary" href="/documents/new/?unit={world.department.pk}">Draft</a>' in outbox
    draft = client.get(reverse("document-new")).content.decode()
    assert "<title>Draft · Document Flow</title>" in draft
    assert "Drafted" not in draft

    chain = client.get(reverse("chain", args=[document.pk])).content.decode()
    events = re.findall(r'<td data-label="Event">([^<]+)</td>', chain)
    assert events == ["Signed for", "Routed", "Deliveries created", "Issued", "Signed off", "Drafted"]  # newest first
    # The same words on buttons are the actions.
    sign_in(client, world.zzb_leader)
    draft_document = services.document_draft(
        actor=world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )
    page = client.get(reverse("document", args=[draft_document.pk])).content.decode()
    assert '<button type="submit" class="primary big">Sign off</button>' in page


def test_a_refusal_names_the_roles_and_the_action_in_english(world):
    with translation.override("en"), pytest.raises(NotAllowed) as refused:
        services.document_draft(actor=world.imu, unit=world.department, content=content(), main_recipients=[])
    assert refused.value.message == "You are not a drafter or a clerk of 自治区党委组织部: you cannot draft for it."
    with pytest.raises(NotAllowed) as refused:
        services.document_draft(actor=world.imu, unit=world.department, content=content(), main_recipients=[])
    assert refused.value.message == "您不是自治区党委组织部的拟稿人或收发员，不能拟稿。"


def test_lists_are_joined_with_a_comma_in_english_and_with_the_enumeration_comma_in_chinese(client, world, settings):
    assert display_list(["甲", "乙", "丙"]) == "甲、乙、丙"
    with translation.override("en"):
        assert display_list(["A", "B"]) == "A, B"
        assert display_alternatives(["Drafter", "Clerk"]) == "Drafter or Clerk"
        with pytest.raises(InvalidInput) as refused:
            check_attachment(name="x.exe", stream=io.BytesIO(b"MZ"))
        assert refused.value.message.endswith(": pdf, ofd, docx, xlsx, txt, png, jpg, jpeg.")
    issue(world.zzb, world.department, main=[world.education, world.other, world.university])
    sign_in(client, world.zzb)

    def pending_units() -> str:
        html = client.get(reverse("outbox")).content.decode()
        return re.sub(r"<[^>]+>", "", _between(html, '<p class="pending-units">', "</p>"))

    assert pending_units() == "未签收：自治区教育工委、内蒙古大学党委、自治区直属机关工委"
    _in_english(client, settings)
    assert pending_units() == "Not signed for: 自治区教育工委, 内蒙古大学党委, 自治区直属机关工委"


def test_the_breadcrumb_of_a_chain_follows_the_side_too(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education])
    url = reverse("chain", args=[document.pk])
    sign_in(client, world.zzb)
    assert _crumbs(client, url) == (
        f"发文 › {document.number} › 流转链",
        [f"{reverse('outbox')}?unit={world.department.pk}", reverse("document", args=[document.pk])],
    )
    sign_in(client, world.auditor)
    assert _crumbs(client, url) == (
        f"流转链 › {document.number}",
        [reverse("chains"), reverse("document", args=[document.pk])],
    )


def test_the_overdue_count_stops_at_its_cap_and_says_more(client, world, monkeypatch):
    # Counted up to web.selectors.OVERDUE_COUNTED (a national notice can have 10^5 units overdue):
    # past it the page says "5+", while each listed document keeps its exact total.
    first, _second, _third = _overdue_world(world)
    monkeypatch.setattr("web.selectors.OVERDUE_COUNTED", 5)
    overdue = overdue_list_for_unit(world.department, now=at("2022-10-13 10:00"), limit=4)
    assert (overdue.total, overdue.counted_all, overdue.shown) == (5, False, 4)
    assert [(group.document, group.total) for group in overdue.documents] == [(first, 6)]
    monkeypatch.setattr("web.selectors.OVERDUE_COUNTED", 9)
    overdue = overdue_list_for_unit(world.department, now=at("2022-10-13 10:00"), limit=4)
    assert (overdue.total, overdue.counted_all) == (9, True)
    monkeypatch.setattr("web.selectors.OVERDUE_COUNTED", 8)
    sign_in(client, world.zzb)
    with time_machine.travel(at("2022-10-13 10:00"), tick=False):
        html = client.get(reverse("outbox")).content.decode()
    assert '逾期未办 <span class="count">8+</span>' in html
