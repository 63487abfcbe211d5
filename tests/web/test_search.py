"""全文检索 (issue 18): recall on the corpus, found as soon as issued, only what the person may see,
filters, highlighting that escapes, the page and its query counts."""

import datetime
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents.models import DocumentSearch, Kind, SearchPeriod
from documents.search import query_literal, tokens, vector_literal
from tests.factories import content, delivery_of, issue, person, second_signer
from tests.web.conftest import attach, sign_in
from units.models import Role
from workflow import services
from workflow.search import SearchFilters, document_search, highlight

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "tests" / "documents" / "corpus"
QUERIES = json.loads((Path(__file__).parent / "search_queries.json").read_text(encoding="utf-8"))["queries"]


def _ids(page) -> list[int]:
    return [hit.document.pk for hit in page.hits]


# --- the tokens -----------------------------------------------------------------------------------


def test_a_text_is_cut_into_overlapping_pairs_and_words():
    assert tokens("内组电明字〔２０２２〕11号") == ["内组", "组电", "电明", "明字", "2022", "11", "号"]
    assert vector_literal("党委通知") == "'党委':1 '委通':2 '通知':3 '知':3"
    assert query_literal("(2022)11号  党") == "('2022' <-> '11' <-> '号') & '党':*"
    assert query_literal(" ，。 ") == ""


# --- recall on the corpus -------------------------------------------------------------------------


@pytest.fixture
def corpus(world):
    """The 65 texts of tests/documents/corpus and the seed telegram, each issued by 自治区直属机关工委
    to 自治区教育工委 through the services: {source name: document id}."""
    sources = {folder.name: (folder / "source.txt").read_text(encoding="utf-8") for folder in sorted(CORPUS.iterdir())}
    sources["seed-telegram"] = (ROOT / "workflow" / "demo" / "telegram_body.txt").read_text(encoding="utf-8")
    signer = second_signer(world.other, world.other_clerk)
    documents = {}
    for name, text in sources.items():
        title = next(line.strip() for line in text.splitlines() if line.strip())[:200]
        if name == "seed-telegram":
            title = "关于进一步发挥基层党组织战斗堡垒作用的通知"
        draft = services.document_draft(
            actor=world.other_clerk,
            unit=world.other,
            content=content(title=title, body=text, kind=Kind.NOTICE),
            main_recipients=[world.education],
        )
        services.document_sign_off(actor=signer, document=draft)
        dispatch = services.document_issue(actor=world.other_clerk, document=draft)
        services.dispatch_route(dispatch_id=dispatch.pk)
        documents[name] = draft.pk
    return documents


def test_recall_on_hand_written_queries_over_the_corpus_is_95_percent_or_more(world, corpus):
    assert len(corpus) >= 60
    assert len(QUERIES) >= 30
    expected_total = found_total = 0
    misses = {}
    by_id = {pk: name for name, pk in corpus.items()}
    for query, expected in QUERIES.items():
        found = {by_id[pk] for pk in _ids(document_search(world.jygw, query, limit=100))}
        expected_total += len(expected)
        found_total += len(found & set(expected))
        if set(expected) - found:
            misses[query] = sorted(set(expected) - found)
    recall = found_total / expected_total
    assert recall >= 0.95, misses
    # And no query drowns its hits in others: what is found beyond the expected is rare.
    assert recall == 1.0, misses


def test_two_character_queries_and_one_character(world, corpus):
    assert _ids(document_search(world.jygw, "疫情")) == [corpus["seed-telegram"]]
    # A heading match ranks first: the telegram's title holds 战斗堡垒, the handbook's body only.
    assert _ids(document_search(world.jygw, "战斗堡垒")) == [
        corpus["seed-telegram"],
        corpus["051-taian-gjj-dangzhibu-shouce-2015"],
    ]
    one = set(_ids(document_search(world.jygw, "疫", limit=100)))
    assert corpus["seed-telegram"] in one


# --- found once issued, without a rebuild ----------------------------------------------------------


def test_a_document_is_found_right_after_it_is_issued_by_its_number(world):
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title="关于做好冬季疫情防控工作的通知", body="各单位要压实责任。"),
        main_recipients=[world.education],
        number_prefix="内组字",
    )
    # A draft: its unit finds it (as a draft), the recipient does not.
    assert [hit.state for hit in document_search(world.zzb, "冬季疫情").hits] == ["draft"]
    assert document_search(world.jygw, "冬季疫情").hits == []
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    dispatch = services.document_issue(actor=world.zzb, document=draft)
    services.dispatch_route(dispatch_id=dispatch.pk)
    draft.refresh_from_db()
    assert draft.number == "内组字〔2022〕1号"
    for query in ("内组字〔2022〕1号", "(2022)1号", "冬季疫情", "压实责任", "自治区党委组织部"):
        page = document_search(world.jygw, query)
        assert _ids(page) == [draft.pk], query
        assert page.hits[0].state == "issued"


def test_attachment_names_are_searched(world):
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title="关于报送材料的通知"),
        main_recipients=[world.education],
    )
    attach(world.zzb, draft, name="基层党组织书记名册.txt")
    assert _ids(document_search(world.zzb, "书记名册")) == [draft.pk]
    assert document_search(world.zzb, "书记名册").hits[0].heading_matched is False


def test_registered_documents_are_found(world):
    text = (ROOT / "tests" / "documents" / "data" / "seed_000_cdb95329a9a2d0e5.txt").read_text(encoding="utf-8")
    from documents.importing import parse_text

    parsed = parse_text(text)
    source = services.SourceFile.of("seed.txt", text.encode())
    registration = services.document_register_received(
        actor=world.imu, unit=world.university, parsed=parsed, source=source
    )
    # The cover letter and the telegram it encloses, registered together, are both found at once.
    assert len(registration.created) == 2
    found = set(_ids(document_search(world.imu, "战斗堡垒", limit=100)))
    assert found == {document.pk for document in registration.created}


# --- only what the person may see -------------------------------------------------------------------


def test_outsiders_find_nothing_of_what_they_may_not_see(world):
    region_clerk = person(world.region, Role.CLERK, username="region_clerk")
    document, dispatch = issue(
        world.jygw,
        world.education,
        main=[world.university],
        title="关于开展专项督查的通知",
        body="督查组将于下月进驻。",
    )
    # The recipient and the issuer find it.
    assert _ids(document_search(world.imu, "专项督查")) == [document.pk]
    assert _ids(document_search(world.jygw, "专项督查")) == [document.pk]
    # Another unit, the parent unit (not an auditor), a child unit, anonymous: nothing.
    for outsider in (world.other_clerk, region_clerk, world.college_clerk, None):
        assert document_search(outsider, "专项督查").hits == [], outsider
        assert document_search(outsider, "督查").hits == [], outsider
    from django.contrib.auth.models import AnonymousUser

    assert document_search(AnonymousUser(), "督查").hits == []
    # Recalled from the university: it finds it no more; the issuer still does, as recalled.
    services.dispatch_recall(actor=world.jygw, dispatch_id=dispatch.pk, reason="有误")
    assert document_search(world.imu, "专项督查").hits == []
    assert [hit.state for hit in document_search(world.jygw, "专项督查").hits] == ["recalled"]


def test_an_auditor_finds_what_is_in_scope_and_a_forward_reaches_the_enclosed(world):
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于换届选举的通知")
    assert _ids(document_search(world.auditor, "换届选举")) == [document.pk]
    assert document_search(world.other_auditor, "换届选举").hits == []
    from tests.factories import forward

    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.university])
    # The university received the cover letter, which encloses the document: it finds both.
    assert set(_ids(document_search(world.imu, "换届选举"))) == {document.pk, cover.pk}


# --- filters ----------------------------------------------------------------------------------------


def test_filters_kind_urgency_issuer_date_and_state(world):
    notice, _ = issue(world.zzb, world.department, main=[world.education], title="关于防汛工作的通知")
    telegram, _ = issue(
        world.zzb, world.department, main=[world.education], title="关于防汛值班的紧急通知", urgency="特提"
    )
    letter, _ = issue(world.jygw, world.education, main=[world.university], title="关于防汛物资的函", kind=Kind.LETTER)
    draft = services.document_draft(
        actor=world.jygw,
        unit=world.education,
        content=content(title="关于防汛演练的通知"),
        main_recipients=[world.university],
    )
    search = lambda **filters: set(_ids(document_search(world.jygw, "防汛", SearchFilters(**filters))))  # noqa: E731
    assert search() == {notice.pk, telegram.pk, letter.pk, draft.pk}
    assert search(kind=Kind.LETTER) == {letter.pk}
    assert search(kind=Kind.TELEGRAM) == {telegram.pk}
    assert search(urgency="特提") == {telegram.pk}
    assert search(issuer_id=world.education.pk) == {letter.pk, draft.pk}
    assert search(state="draft") == {draft.pk}
    assert search(state="issued") == {notice.pk, telegram.pk, letter.pk}
    assert search(state="recalled") == set()
    today = notice.issued_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    assert search(date_from=today, date_to=today) == {notice.pk, telegram.pk, letter.pk, draft.pk}
    assert search(date_to=today - datetime.timedelta(days=1)) == set()
    with pytest.raises(ValueError, match="unknown state 'deleted'"):
        SearchFilters(state="deleted")


def test_pages_follow_each_other_by_cursor_without_overlap(world):
    made = [
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}批防汛工作的通知")[0].pk
        for n in range(5)
    ]
    first = document_search(world.jygw, "防汛", limit=2)
    second = document_search(world.jygw, "防汛", cursor=first.next_cursor, limit=2)
    third = document_search(world.jygw, "防汛", cursor=second.next_cursor, limit=2)
    assert _ids(first) + _ids(second) + _ids(third) == made[::-1]
    assert third.next_cursor is None
    # A cursor that is not one is the first page.
    assert _ids(document_search(world.jygw, "防汛", cursor="not-a-cursor", limit=2)) == _ids(first)


@pytest.mark.parametrize("decoys", [3, 8, 30])
def test_a_phrase_whose_pairs_are_present_out_of_order_is_no_hit_and_pages_read_on_past_it(world, decoys):
    """防汛抗洪、抗旱 holds every pair of 防汛抗旱 (防汛, 汛抗, 抗旱), not in that order: a candidate from
    the index, no hit. The decoys are newer than the hits. A page asks for the hits and one more
    and PHRASE_SPARE (2 + 1 + 4 = 7 candidates, here); with 8 decoys a second round reads on past
    them (two more queries), and with 30 the pages that come up short carry a cursor until the
    hits."""
    hits = [
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}批防汛抗旱工作的通知")[0].pk
        for n in range(3)
    ]
    for n in range(decoys):
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}批防汛抗洪、抗旱物资的通知")
    found, cursor, pages = [], None, 0
    with CaptureQueriesContext(connection) as first_page:
        page = document_search(world.jygw, "防汛抗旱", limit=2)
    while True:
        found += _ids(page)
        pages += 1
        if (cursor := page.next_cursor) is None:
            break
        assert pages < 20
        page = document_search(world.jygw, "防汛抗旱", cursor=cursor, limit=2)
    assert found == hits[::-1]
    # 3 decoys: one round of 7 candidates holds the page's 2 hits and one more. 8: a second round (of
    # 3 × 3) finds them. 30: the first page reads 7 + 9 decoys and is empty, with a cursor; the second
    # reads the last 7 decoys and 2 hits; the third the last hit.
    assert len(first_page) == {3: 3, 8: 5, 30: 5}[decoys]
    assert pages == {3: 2, 8: 2, 30: 3}[decoys]


def _issued_at(moment: datetime.datetime, world, unit, clerk, title: str) -> int:
    with time_machine.travel(moment, tick=False):
        return issue(clerk, unit, main=[world.education], title=title)[0].pk


def test_pages_walk_the_months_newest_first_across_their_boundaries(world, monkeypatch):
    """The search walks months (documents.search.search_period, Asia/Shanghai) newest first: pages
    cross months, skip months without a match, and the date filters stop at the local day, whatever
    month UTC says it is."""
    utc = datetime.UTC
    moments = [
        datetime.datetime(2024, 3, 10, 2, tzinfo=utc),
        datetime.datetime(2025, 1, 31, 15, 30, tzinfo=utc),  # 2025-01-31 23:30 in Beijing
        datetime.datetime(2025, 1, 31, 16, 30, tzinfo=utc),  # 2025-02-01 00:30 in Beijing
        datetime.datetime(2025, 2, 1, 3, tzinfo=utc),
        datetime.datetime(2025, 6, 30, 1, tzinfo=utc),
    ]
    made = [
        _issued_at(at, world, world.department, world.zzb, f"关于第{n}批防汛工作的通知") for n, at in enumerate(moments)
    ]
    # A month with documents but no match: walked, and nothing found there.
    _issued_at(datetime.datetime(2025, 4, 2, 2, tzinfo=utc), world, world.department, world.zzb, "关于抗旱的通知")
    assert sorted(SearchPeriod.objects.values_list("period", flat=True)) == [
        2024 * 12 + 2,
        2025 * 12 + 0,
        2025 * 12 + 1,
        2025 * 12 + 3,
        2025 * 12 + 5,
    ]
    newest_first = made[::-1]
    for user in (world.jygw, world.auditor):  # a set door, and a door per candidate
        for limit in (1, 2, 3):
            found, cursor = [], None
            for _ in range(10):
                page = document_search(user, "防汛", cursor=cursor, limit=limit)
                found += _ids(page)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert found == newest_first, (user, limit)
    monkeypatch.setattr("workflow.search.DOOR_WINDOW", 2)
    found, cursor = [], None
    for _ in range(10):
        page = document_search(world.auditor, "防汛", cursor=cursor, limit=2)
        found += _ids(page)
        if (cursor := page.next_cursor) is None:
            break
    assert found == newest_first
    search = lambda **filters: _ids(document_search(world.jygw, "防汛", SearchFilters(**filters)))  # noqa: E731
    assert search(date_to=datetime.date(2025, 1, 31)) == [made[1], made[0]]
    assert search(date_from=datetime.date(2025, 2, 1)) == [made[4], made[3], made[2]]
    assert search(date_from=datetime.date(2025, 2, 1), date_to=datetime.date(2025, 2, 1)) == [made[3], made[2]]
    assert search(date_from=datetime.date(2025, 2, 2), date_to=datetime.date(2025, 6, 29)) == []


# --- highlighting -------------------------------------------------------------------------------------


def test_highlighting_escapes_the_documents_text(world):
    document, _ = issue(
        world.zzb,
        world.department,
        main=[world.education],
        title="关于<script>alert(1)</script>疫情的通知",
        body="请<b onclick=x>注意</b>疫情防控&安全。",
    )
    hit = document_search(world.jygw, "疫情").hits[0]
    assert hit.document.pk == document.pk
    assert str(hit.title_html) == "关于&lt;script&gt;alert(1)&lt;/script&gt;<mark>疫情</mark>的通知"
    assert str(hit.snippet_html) == "请&lt;b onclick=x&gt;注意&lt;/b&gt;<mark>疫情</mark>防控&amp;安全。"
    assert str(highlight("a<mark>b", "b")) == "a&lt;mark&gt;<mark>b</mark>"


def test_highlighting_finds_folded_characters_at_the_texts_own_offsets():
    # Full-width digits and Latin capitals match as their folded forms, and the marks fall on the
    # text's own characters; a text with nothing to fold is marked as it stands.
    assert str(highlight("内组电明字〔２０２２〕11号", "2022")) == "内组电明字〔<mark>２０２２</mark>〕11号"
    assert str(highlight("关于ＡＢＣ和Abc的通知", "abc")) == "关于<mark>ＡＢＣ</mark>和<mark>Abc</mark>的通知"
    assert str(highlight("关于疫情防控的通知", "疫情")) == "关于<mark>疫情</mark>防控的通知"


# --- the page -------------------------------------------------------------------------------------------


def test_the_search_page_lists_hits_linking_to_the_document(client, world):
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于<i>防汛</i>的通知")
    sign_in(client, world.jygw)
    response = client.get(reverse("search"), {"q": "防汛"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("document", args=[document.pk])}"' in html
    assert "关于&lt;i&gt;<mark>防汛</mark>&lt;/i&gt;的通知" in html
    assert 'role="search"' in html
    empty = client.get(reverse("search"), {"q": "并不存在的词"}).content.decode()
    assert "没有找到与“并不存在的词”相符的公文。" in empty
    unknown = client.get(reverse("search"), {"q": "防汛", "issuer": "没有这个单位"}).content.decode()
    assert "没有名为“没有这个单位”的单位。" in unknown


def test_the_search_page_is_for_people_signed_in(client, world):
    response = client.get(reverse("search"), {"q": "防汛"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _page_queries(client, params) -> int:
    client.get(reverse("search"), params)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("search"), params).status_code == 200
    return len(queries)


def test_search_queries_do_not_grow_with_the_hits(client, world):
    sign_in(client, world.jygw)
    issue(world.zzb, world.department, main=[world.education], title="关于防汛工作的通知", body="做好防汛抗旱。")
    small = _page_queries(client, {"q": "防汛抗旱"})
    with CaptureQueriesContext(connection) as selector_small:
        document_search(world.jygw, "防汛抗旱")
    for n in range(12):
        issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}次防汛抗旱的通知", urgency="特急")
    large = _page_queries(client, {"q": "防汛抗旱", "kind": "通知"})
    with CaptureQueriesContext(connection) as selector_large:
        document_search(world.jygw, "防汛抗旱")
    # The session and the user (2), the navigation's units (2), then the selector: which branches of
    # the door hold, the candidates, their documents (3).
    assert len(selector_small) == len(selector_large) == 3
    assert small == large


def test_the_index_is_written_in_the_issuing_transaction(world):
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于做好统计工作的通知")
    row = DocumentSearch.objects.get(document=document)
    assert row.dated_at == document.issued_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT vector::text FROM documents_documentsearch WHERE document_id = %s", [document.pk])
        vector = cursor.fetchone()[0]
    assert re.search(r"'内组电明字'|'内组'", vector)
    assert "'统计'" in vector


def test_a_door_tested_per_candidate_reads_a_window_and_pages_on_past_it(world, monkeypatch):
    # other_auditor audits 自治区直属机关工委 only: of the matches, the door lets few through.
    monkeypatch.setattr("workflow.search.DOOR_WINDOW", 2)
    mine = []
    for n in range(7):
        if n in (1, 5):
            mine.append(
                issue(world.other_clerk, world.other, main=[world.education], title=f"关于第{n}次防汛的通知")[0].pk
            )
        else:
            issue(world.zzb, world.department, main=[world.education], title=f"关于第{n}次防汛的通知")
    found, cursor, pages = [], None, 0
    while True:
        page = document_search(world.other_auditor, "防汛", cursor=cursor, limit=1)
        found += _ids(page)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages < 10
    assert found == mine[::-1]


def test_the_migrations_fill_the_index_of_documents_issued_before_them(world):
    """0007 writes the rows, 0009 their months: together, what the services write now."""
    import importlib

    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    migrations = {
        name: (importlib.import_module(f"documents.migrations.{name}").fill, loader.project_state(("documents", name)))
        for name in ("0007_document_search", "0009_search_periods")
    }
    document, _ = issue(world.zzb, world.department, main=[world.education], title="关于做好统计工作的通知")
    attach_draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(title="关于报送名册的通知"),
        main_recipients=[world.education],
    )
    attach(world.zzb, attach_draft, name="书记名册.txt")
    rows = "SELECT document_id, dated_at, period, vector::text, heading::text FROM documents_documentsearch ORDER BY 1"
    with connection.cursor() as cursor:
        cursor.execute(rows)
        written = cursor.fetchall()
        assert {row[2] for row in written} == set(SearchPeriod.objects.values_list("period", flat=True))
        DocumentSearch.objects.all().delete()
        SearchPeriod.objects.all().delete()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks, before the DDL
        # As before 0009: the columns it fills were not there.
        cursor.execute(
            "ALTER TABLE documents_documentsearch ALTER period DROP NOT NULL, ALTER issuing_unit_id DROP NOT NULL"
        )
        for fill, state in migrations.values():
            with connection.schema_editor(atomic=False) as schema_editor:
                fill(state.apps, schema_editor)
        cursor.execute(
            "ALTER TABLE documents_documentsearch ALTER period SET NOT NULL, ALTER issuing_unit_id SET NOT NULL"
        )
        cursor.execute(rows)
        assert cursor.fetchall() == written
    assert {row[2] for row in written} == set(SearchPeriod.objects.values_list("period", flat=True))
    assert _ids(document_search(world.jygw, "统计工作")) == [document.pk]
