"""Issue 11, items 1 and 2: the number search on the inbox, the outbox and the chains list, and a
chains list that holds what a unit issued, forwards included."""

import datetime
import io
import itertools
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from documents.models import Document
from tests.factories import content, delivery_of, forward, issue, person, second_signer
from tests.web.conftest import sign_in
from units.models import NumberPrefix, Role
from workflow import services
from workflow.selectors import number_fragment, number_matches, words_match

TELEGRAM = "关于进一步发挥基层党组织战斗堡垒作用的通知"
OTHER = "关于做好年度考核工作的通知"

# The issue's own fragments of 内组电明字〔2022〕11号, in the bracket forms clerks type.
FRAGMENTS = [
    "内组电明字〔2022〕11号",
    "〔2022〕11号",
    "电明字〔2022〕",
    "11号",
    "11",
    "2022",
    "组电明",
    "2022]11",
    "(2022)11号",
    "（2022）11号",
    "[2022]11号",
    "［2022］11号",
    "【2022】11号",
    "内组电明字【2022】11号",
    "〔２０２２〕１１号",  # full-width digits
]
# Fragments of the other document's number, 内组字〔2021〕5号, or of neither.
MISSES = {
    "〔2021〕": [OTHER],
    "(2021)5号": [OTHER],
    "内组字": [OTHER],
    "12号": [],
    "2023": [],
    "〔2022〕1号": [],
    "%": [],  # typed, not a wildcard
    "_": [],
}


@pytest.fixture
def numbered(world):
    """内组电明字〔2022〕11号 (特提) and 内组字〔2021〕5号, both from the department to education."""
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
    services.document_sign_off(actor=second_signer(world.department, world.zzb), document=draft)
    dispatch = services.document_issue(actor=world.zzb, document=draft, number_year=2021)
    services.dispatch_route(dispatch_id=dispatch.pk)
    other = Document.objects.get(pk=draft.pk)
    assert (telegram.number, other.number) == ("内组电明字〔2022〕11号", "内组字〔2021〕5号")
    return telegram, other


def _inbox(client, number: str) -> list[str]:
    html = client.get(reverse("inbox"), {"tab": "all", "number": number}).content.decode()
    return re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', html)


def _outbox(client, q: str, **headers) -> list[str]:
    html = client.get(reverse("outbox"), {"q": q}, headers=headers).content.decode()
    return re.findall(r'<h2 id="dispatch-\d+"><a href="/documents/\d+/">[^<]+</a> ([^<]+)</h2>', html)


def _chains(client, q: str = "") -> list[str]:
    html = client.get(reverse("chains"), {"q": q} if q else {}).content.decode()
    return re.findall(r'<a href="/documents/\d+/chain/">([^<]+)</a>', html)


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_inbox_finds_the_telegram_by_any_fragment_of_its_number(client, world, numbered, fragment):
    sign_in(client, world.jygw)
    assert _inbox(client, fragment) == [TELEGRAM]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_outbox_finds_the_telegram_by_any_fragment_of_its_number(client, world, numbered, fragment):
    sign_in(client, world.zzb)
    assert _outbox(client, fragment) == [TELEGRAM]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_chain_list_finds_the_telegram_by_any_fragment_of_its_number(client, world, numbered, fragment):
    sign_in(client, world.auditor)
    assert _chains(client, fragment) == [TELEGRAM]


@pytest.mark.parametrize(("fragment", "titles"), MISSES.items())
def test_the_three_pages_find_only_what_the_fragment_is_part_of(client, world, numbered, fragment, titles):
    sign_in(client, world.jygw)
    assert _inbox(client, fragment) == titles
    sign_in(client, world.zzb)
    assert _outbox(client, fragment) == titles
    assert _chains(client, fragment) == titles


def test_titles_and_issuers_stay_searchable(client, world, numbered):
    sign_in(client, world.jygw)
    html = client.get(reverse("inbox"), {"tab": "all", "words": "考核", "issuer": "组织部"}).content.decode()
    assert re.findall(r'<a href="/deliveries/\d+/">([^<]+)</a>', html) == [OTHER]
    sign_in(client, world.zzb)
    assert _outbox(client, "考核") == [OTHER]
    assert _outbox(client, "考核 〔2021〕") == [OTHER]
    assert _outbox(client, "考核 〔2022〕") == []
    assert _chains(client, "战斗堡垒") == [TELEGRAM]
    assert _outbox(client, "") == [OTHER, TELEGRAM]


def test_outbox_refresh_keeps_the_search(client, world, numbered):
    sign_in(client, world.zzb)
    response = client.get(reverse("outbox"), {"unit": world.department.pk, "q": "11号"})
    html = response.content.decode()
    (refresh,) = re.findall(r'<div id="outbox-list" hx-get="([^"]+)"', html)
    assert refresh == f"/outbox/?unit={world.department.pk}&amp;q=11%E5%8F%B7"
    assert 'value="11号"' in html  # the box shows what was searched
    # The list's own refresh (htmx) asks the same URL and gets the same rows.
    assert _outbox(client, "11号", HX_Request="true") == [TELEGRAM]
    partial = client.get(reverse("outbox"), {"q": "11号"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('\n<div id="outbox-list"') or partial.lstrip().startswith('<div id="outbox-list"')


def test_an_over_long_search_is_refused_with_a_message(client, world, numbered):
    sign_in(client, world.zzb)
    for name in ("outbox", "chains"):
        html = client.get(reverse(name), {"q": "号" * 101}).content.decode()
        assert "查找内容最多 100 个字符（现有 101 个）。" in html, name


# --- the property: any fragment, any bracket form ------------------------------------------------

BRACKETS = ["〔〕", "[]", "()", "【】", "（）", "［］", "〖〗", "﹝﹞"]
PREFIXES = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=8)
# Issue refuses a year after the current one: the numbers of 2099 are issued on the last day of 2099.
LAST_DAY = datetime.datetime(2099, 12, 31, 10, tzinfo=datetime.UTC)


def _fragments(prefix: str, year: int, serial: int) -> dict[str, str]:
    """Every contiguous piece of the number printed in every bracket style, each with the same piece
    of the number as printed (〔〕)."""
    printed = f"{prefix}〔{year}〕{serial}号"
    pieces = {}
    for opening, closing in BRACKETS:
        styled = printed.replace("〔", opening).replace("〕", closing)
        for start, end in itertools.combinations(range(len(printed) + 1), 2):
            pieces[styled[start:end]] = printed[start:end]
    return pieces


@given(prefix=PREFIXES, year=st.integers(1949, 2099), serial=st.integers(1, 9999))
def test_every_fragment_in_every_bracket_style_reads_as_the_same_piece_of_the_printed_number(prefix, year, serial):
    pieces = _fragments(prefix, year, serial)
    assert {fragment: number_fragment(fragment) for fragment in pieces} == pieces


def _unfound(document: Document, fragments: list[str]) -> list[str]:
    """The fragments whose search misses the document, by the number search of the inbox and the
    one box of the outbox and the chains list: one query for the lot."""
    counts = Document.objects.filter(pk=document.pk).aggregate(
        **{f"n{i}": Count("pk", filter=number_matches(fragment)) for i, fragment in enumerate(fragments)},
        **{f"w{i}": Count("pk", filter=words_match(fragment)) for i, fragment in enumerate(fragments)},
    )
    return [fragment for i, fragment in enumerate(fragments) if (counts[f"n{i}"], counts[f"w{i}"]) != (1, 1)]


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=PREFIXES, year=st.integers(1949, 2099), serial=st.integers(1, 9999))
def test_every_fragment_of_a_number_in_every_bracket_style_finds_the_document(world, prefix, year, serial):
    # The search reads a fragment only through number_fragment (the property above), so one
    # fragment per piece of the printed number, its bracket style taken in turn, stands for all.
    # A prefix the world's units hold already (内组字 came up once) would be refused by unit_create.
    assume(not NumberPrefix.objects.filter(prefix=prefix).exists())
    pieces = _fragments(prefix, year, serial)
    fragments = sorted({piece: fragment for fragment, piece in pieces.items()}.values())
    with time_machine.travel(LAST_DAY, tick=False), transaction.atomic():
        unit = services.unit_create(
            actor=None, name="生成的发文机关", short_name="生成机关", parent=world.region, number_prefixes=[prefix]
        )
        clerk = person(unit, Role.CLERK, Role.DRAFTER)
        person(unit, Role.SIGNER)
        services.number_series_set(actor=None, prefix=prefix, year=year, last_serial=serial - 1)
        document, _ = issue(clerk, unit, main=[world.education], number_year=year, route=False)
        assert document.number == f"{prefix}〔{year}〕{serial}号"
        unfound = _unfound(document, fragments)
        transaction.set_rollback(True)
    assert unfound == []


# --- item 2: the chains list of a unit whose documents are all forwards ---------------------------


def _chain_rows(client) -> list[tuple[str, str]]:
    """(title, what it forwards) of each row of the chains list; '' for a document at the top."""
    html = client.get(reverse("chains")).content.decode()
    return re.findall(
        r'<a href="/documents/\d+/chain/">([^<]+)</a>(?:<br><small class="forwarded">转发 ([^<]+)</small>)?', html
    )


def _chain_links(client) -> list[str]:
    return re.findall(r'<a href="(/documents/\d+/chain/)">', client.get(reverse("chains")).content.decode())


@pytest.fixture
def forwarded(world):
    """The department's telegram, forwarded by education to its universities, and by the
    university to its college."""
    telegram, _ = issue(world.zzb, world.department, main=[world.education], title=TELEGRAM, urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(telegram, world.education), main=[world.groups["各高校党委"]])
    imu_cover, _ = forward(
        world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer
    )
    return telegram, cover, imu_cover


def test_chain_list_of_forwarding_units_holds_their_forwards(client, world, forwarded):
    telegram, cover, imu_cover = forwarded
    sign_in(client, world.jygw)
    assert _chain_rows(client) == [(cover.title, telegram.number)]
    sign_in(client, world.imu)
    assert _chain_rows(client) == [(imu_cover.title, cover.number)]
    sign_in(client, world.college_clerk)
    assert _chain_rows(client) == []


def test_chain_list_of_the_issuer_and_the_auditor_holds_the_top_only(client, world, forwarded):
    telegram, _cover, _imu_cover = forwarded
    for user in (world.zzb, world.auditor):
        sign_in(client, user)
        assert _chain_rows(client) == [(telegram.title, "")]


def test_every_chain_listed_opens(client, world, forwarded):
    for user in (world.zzb, world.jygw, world.imu, world.auditor):
        sign_in(client, user)
        links = _chain_links(client)
        assert len(links) == 1
        assert [client.get(link).status_code for link in links] == [200]


def test_chain_list_finds_a_forward_by_the_number_it_forwards(client, world, forwarded):
    telegram, cover, imu_cover = forwarded
    sign_in(client, world.jygw)
    assert _chains(client, telegram.number) == [cover.title]
    assert _chains(client, cover.number) == [cover.title]
    sign_in(client, world.imu)
    assert _chains(client, "内教工委函") == [imu_cover.title]
    assert _chains(client, "内组电明字") == []  # two levels up: not what the university forwarded


@pytest.mark.parametrize("login", ["jygw", "imu"])
def test_demo_chain_list_holds_every_document_the_unit_issued(client, db, login):
    call_command("demo", stdout=io.StringIO())
    user = get_user_model().objects.get(username=login)
    sign_in(client, user)
    issued = Document.objects.filter(state="issued", issuing_unit__group__user=user).select_related(
        "forward__source_delivery__document"
    )
    expected = sorted((document.title, document.forward.source_delivery.document.number) for document in issued)
    assert expected  # the demo's unit forwarded the seed
    assert sorted(_chain_rows(client)) == expected
    assert {client.get(link).status_code for link in _chain_links(client)} == {200}


def test_the_search_and_the_forwards_read_in_english_when_chosen(client, world, forwarded, settings):
    telegram, cover, _imu_cover = forwarded
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sign_in(client, world.jygw)
    html = client.get(reverse("chains")).content.decode()
    assert f'<small class="forwarded">Forwards {telegram.number}</small>' in html
    assert 'placeholder="e.g. 11号, 电明字〔2022〕, 防汛"' in html
    assert "No chain matches the search." in client.get(reverse("chains"), {"q": "〔2023〕"}).content.decode()
    refused = client.get(reverse("outbox"), {"q": "号" * 101}).content.decode()
    assert "Search for at most 100 characters (this has 101)." in refused
    assert cover.title in refused  # a refused search filters nothing
    assert "No dispatch matches the search." in client.get(reverse("outbox"), {"q": "〔2023〕"}).content.decode()
    html = client.get(reverse("inbox")).content.decode()
    assert 'placeholder="any part, e.g. 〔2022〕11号"' in html
