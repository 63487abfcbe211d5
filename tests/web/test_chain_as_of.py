"""The chain page and its exports as of a chosen moment (?as_of=YYYY-MM-DDTHH:MM, Beijing time).

The history is tests/workflow/test_chain_as_of.py's: a telegram issued at 09:00 on 2022-10-13,
forwarded by education at 09:40, returned by university_b at 10:20, education's delivery recalled
at 11:00, other's completed at 12:00.
"""

import csv
import html
import io
import json
import re

import pytest
import time_machine
from django.urls import reverse

from tests.web.conftest import sign_in
from tests.workflow.test_chain_as_of import T1, T3, deleted_delivery, history, triggers_off
from tests.workflow.test_deadlines import at
from workflow.models import AuditEvent, Delivery, Receipt
from workflow.selectors import chain_as_of

LATER = at("2022-10-14 08:00")  # the clock while the pages are read: the history is over


@pytest.fixture
def made(world, client):
    made = history(world)
    sign_in(client, world.auditor)
    with time_machine.travel(LATER, tick=False):
        yield made


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))).strip()


def _levels(response) -> list[list[str]]:
    """The 各级签收情况 table, a list of cells per level."""
    table = re.search(r'<table class="list levels">(.*?)</table>', response.content.decode(), re.S).group(1)
    body = table.split("<tbody>")[1]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _chain(made, **query):
    return reverse("chain", args=[made["telegram"].pk], query=query or None)


def test_the_page_as_of_1000_shows_the_chain_as_it_stood_and_says_so(client, made):
    response = client.get(_chain(made, as_of="2022-10-13T10:00"))

    assert response.status_code == 200
    text, page = _text(response), response.content.decode()
    assert "本页显示的是 2022-10-13 10:00（北京时间）时的流转链。" in text
    chain_url = reverse("chain", args=[made["telegram"].pk])
    assert page.count(f'<a href="{chain_url}">回到现在</a>') == 2  # beside the form and in the notice
    assert f'href="{reverse("chain-csv", args=[made["telegram"].pk])}?as_of=2022-10-13T10:00"' in page
    assert f'href="{reverse("chain-json", args=[made["telegram"].pk])}?as_of=2022-10-13T10:00"' in page
    assert re.search(r'<input type="datetime-local" name="as_of" value="2022-10-13T10:00"[^>]*>', page)
    # Level, received, signed, share, median, slowest, allowance, signed late, unsigned, overdue,
    # completed, completion overdue: at 10:00 other was 30 minutes late, university_b not yet.
    assert _levels(response) == [
        ["第1级", "2", "1", "50%", "20分钟", "20分钟", "30分钟", "0", "1", "1", "0", "0"],
        ["第2级", "2", "1", "50%", "10分钟", "10分钟", "30分钟", "0", "1", "0", "0", "0"],
    ]
    assert "未签收单位 2" in text
    assert "自治区直属机关工委 内组电明字〔2022〕1号，已等待 1小时 逾期" in text
    assert "内蒙古工业大学党委 内教工委函〔2022〕1号，已等待 20分钟 未阅" in text
    assert "还没有单位办结。" in text
    shown = AuditEvent.objects.filter(
        document__in=[made["telegram"], made["cover"]], occurred_at__lte=at("2022-10-13 10:00")
    ).count()
    assert f"已逐条重算本链最近 {shown} 条事件（共 {shown} 条）" in text
    assert "审计记录 截至 2022-10-13 10:00" in text
    # The tree: what each unit had done by then, not what it did later (the recall, the return).
    assert ("签收后撤回" in text, "已退文" in text) == (False, False)


def test_the_page_as_of_a_moment_before_the_issue_shows_nothing_yet(client, made):
    response = client.get(_chain(made, as_of="2022-10-13T08:59"))

    assert response.status_code == 200
    text = _text(response)
    number = made["telegram"].number
    assert (
        f"2022-10-13 08:59 时，{number} 还没有印发（它印发于 2022-10-13 09:00）：没有单位收到，流转链还是空的。" in text
    )
    assert "本页显示的是 2022-10-13 08:59（北京时间）时的流转链。" in text
    page = response.content.decode()
    for section in ("levels-head", "stalled-head", "completions-head", "tree-head", "audit-head"):
        assert f'id="{section}"' not in page
    assert "<svg viewBox" not in page
    assert "自治区教育工委" not in text


def test_a_moment_to_come_is_refused_and_the_page_shows_the_present(client, made):
    response = client.get(_chain(made, as_of="2022-10-14T08:01"))

    assert response.status_code == 400
    text = _text(response)
    assert (
        "无法按所选时刻查看流转链，下面是现在的情况： 查看时刻：2022-10-14 08:01 还没有到："
        "流转链只能查看已经过去的时刻（现在是 2022-10-14 08:00）。"
    ) in text
    assert 'role="alert"' in response.content.decode()
    assert "本页显示的是" not in text
    assert ("签收后撤回" in text, "已退文" in text) == (True, True)  # the chain as it stands


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2022-13-40T25:00", "时刻的格式不对：请写成“年-月-日T时:分”，例如 2022-10-13T09:30。"),
        ("yesterday", "时刻的格式不对：请写成“年-月-日T时:分”，例如 2022-10-13T09:30。"),
        ("0001-01-01T00:00", "请选择 1949年10月1日 以后的时刻。"),
    ],
)
def test_a_malformed_moment_is_refused_naming_the_problem(client, made, value, message):
    response = client.get(_chain(made, as_of=value))
    assert response.status_code == 400
    assert f"查看时刻：{message}" in _text(response)


def test_an_empty_moment_is_the_present(client, made):
    response = client.get(_chain(made, as_of=""))
    assert response.status_code == 200
    assert "本页显示的是" not in _text(response)


def test_the_json_export_as_of_a_moment_is_the_replay(client, made):
    url = reverse("chain-json", args=[made["telegram"].pk])

    response = client.get(url, {"as_of": "2022-10-13T09:10"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="chain-{made["telegram"].pk}-as-of-20221013T0910.json"'
    )
    data = json.loads(response.content)
    assert data == {
        "as_of": "2022-10-13T09:10:00+08:00",
        "issued": True,
        **chain_as_of(made["telegram"], moment=T1).as_json(),
    }
    assert [(d["unit"], d["state"], d["read_at"], d["signed_at"]) for d in data["deliveries"]] == [
        ("自治区教育工委", "pending", "2022-10-13T01:05:00+00:00", None),
        ("自治区直属机关工委", "pending", None, None),
    ]
    before = json.loads(client.get(url, {"as_of": "2022-10-13T08:00"}).content)
    assert before == {
        "as_of": "2022-10-13T08:00:00+08:00",
        "issued": False,
        "number": made["telegram"].number,
        "title": made["telegram"].title,
        "deliveries": [],
    }
    refused = client.get(url, {"as_of": "2022-10-15T00:00"})
    assert refused.status_code == 400
    assert json.loads(refused.content) == {
        "error": "2022-10-15 00:00 还没有到：流转链只能查看已经过去的时刻（现在是 2022-10-14 08:00）。"
    }


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_export_as_of_a_moment_is_the_replay(client, made):
    url = reverse("chain-csv", args=[made["telegram"].pk])

    response = client.get(url, {"as_of": "2022-10-13T11:30"})

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'chain-{made["telegram"].pk}-as-of-20221013T1130.csv"')
    header, *lines = _csv_rows(response)
    assert header[:6] == ["层级", "发文字号", "发文机关", "收文单位", "主送/抄送", "状态"]
    assert [(line[0], line[3], line[5], line[7], line[12], line[13]) for line in lines] == [
        ("1", "自治区教育工委", "签收后撤回", "2022-10-13 09:20:00", "0", ""),
        ("1", "自治区直属机关工委", "待签收", "", "1", ""),
        ("2", "内蒙古大学党委", "签收后撤回", "2022-10-13 09:50:00", "0", ""),
        ("2", "内蒙古工业大学党委", "已退文", "", "0", ""),
    ]
    assert _csv_rows(client.get(url, {"as_of": "2022-10-13T08:00"})) == [header]
    refused = client.get(url, {"as_of": "2022-10-15T00:00"})
    assert (refused.status_code, refused.content.decode()) == (
        400,
        "2022-10-15 00:00 还没有到：流转链只能查看已经过去的时刻（现在是 2022-10-14 08:00）。",
    )


def test_the_page_and_exports_as_of_a_moment_ignore_rows_changed_behind_the_services_back(client, made):
    exports = [reverse(name, args=[made["telegram"].pk]) for name in ("chain-json", "chain-csv")]
    kept = [client.get(url, {"as_of": "2022-10-13T11:30"}).content for url in exports]
    recall_id = Delivery.objects.get(pk=made["received"].pk).recall_id
    with triggers_off():
        # Education never lost it and completed it; other, never urged, lost it in the same recall.
        Delivery.objects.filter(pk=made["received"].pk).update(state="completed", recall=None, completed_at=T3)
        Receipt.objects.filter(delivery=made["received"]).update(content_digest="0" * 64)
        Delivery.objects.filter(pk=made["at_other"].pk).update(
            reminder_count=0, state="recalled", recall=recall_id, signed_at=None, read_at=None, completed_at=None
        )
    now = json.loads(client.get(exports[0]).content)
    assert [d["state"] for d in now["deliveries"]] == ["completed", "recalled"]  # the rows were changed

    assert [client.get(url, {"as_of": "2022-10-13T11:30"}).content for url in exports] == kept
    response = client.get(_chain(made, as_of="2022-10-13T11:30"))
    assert _levels(response)[0] == ["第1级", "2", "1", "50%", "20分钟", "20分钟", "30分钟", "0", "1", "1", "0", "0"]
    assert "自治区直属机关工委 内组电明字〔2022〕1号，已等待 2小时30分 逾期" in _text(response)


def test_an_outsider_gets_the_same_404_with_or_without_a_moment(client, made, world):
    sign_in(client, world.college_clerk)  # the college has no part in this chain
    for query in ({}, {"as_of": "2022-10-13T10:00"}, {"as_of": "2030-01-01T00:00"}, {"as_of": "nonsense"}):
        for name in ("chain", "chain-json", "chain-csv"):
            assert client.get(reverse(name, args=[made["telegram"].pk]), query).status_code == 404, (name, query)


def test_the_page_as_of_a_moment_in_english(client, made, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = _text(client.get(_chain(made, as_of="2022-10-13T10:00")))
    assert "This page shows the chain as it stood at 2022-10-13 10:00 (Beijing time)." in text
    assert "Back to now" in text
    refused = _text(client.get(_chain(made, as_of="2022-10-14T09:00")))
    assert (
        "2022-10-14 09:00 has not come yet: the chain can be shown only as of a moment past "
        "(it is now 2022-10-14 08:00)."
    ) in refused


def test_the_page_as_of_a_moment_names_a_delivery_whose_row_was_deleted(client, made, world):
    telegram = deleted_delivery(world)
    text = _text(client.get(reverse("chain", args=[telegram.pk], query={"as_of": "2022-10-13T09:10"})))
    assert (
        f"送达记录缺失 审计事件记载送达了 1 个单位，数据库里却没有它的送达记录（单位编号 {world.other.pk}）："
        "记录被删除或改动过。"
    ) in text
