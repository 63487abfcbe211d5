"""Every page runs the same number of queries whatever the size of what it shows.

Each test measures a page at a small and a large size and asserts both counts, exactly. The counts
include the session and user lookups of every authenticated request (2).
"""

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import delivery_of, forward, issue, unit
from tests.web.conftest import attach, issue_with_attachments, sign_in
from tests.workflow.test_deadlines import at
from workflow import services

NOW = at("2022-10-13 15:00")


def _queries(client, url, *, status: int = 200, **kwargs) -> int:
    client.get(url, **kwargs)  # the first opening records the read time; measure the steady state
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == status, url
    return len(queries)


def test_inbox_queries_do_not_grow_with_the_deliveries(client, world):
    sign_in(client, world.jygw)
    issue(world.zzb, world.department, main=[world.education])
    small = _queries(client, reverse("inbox"))
    for _ in range(11):
        issue(world.zzb, world.department, main=[world.education], urgency="特提")
    for _ in range(3):  # what became of them after the sign-for: forwarded (issued or not), completed
        document, _ = issue(world.zzb, world.department, main=[world.education])
        forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
        document, _ = issue(world.zzb, world.department, main=[world.education])
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(document, world.education).pk)
        services.document_forward(
            actor=world.jygw, delivery=delivery_of(document, world.education), main_recipients=[world.university]
        )
    large = _queries(client, reverse("inbox", query={"tab": "all"}))
    # 7, one for the cover letters forwarded from the page's deliveries (已转发 and their numbers), and
    # whether the person keeps a unit's register (the 登记来文 button).
    assert small == large == 9


def test_delivery_page_queries_do_not_grow_with_attachments_enclosures_and_history(client, world):
    sign_in(client, world.imu)
    small_document = issue_with_attachments(world, attachments=1, main=[world.university])
    small_delivery = delivery_of(small_document, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=small_delivery.pk)
    small = _queries(client, reverse("delivery", args=[small_delivery.pk]))

    document = issue_with_attachments(world, attachments=4, main=[world.education], title="关于大件的通知")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    received = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=received.pk)
    services.document_forward(actor=world.imu, delivery=received, main_recipients=[world.college])
    large = _queries(client, reverse("delivery", args=[received.pk]))
    # The door, the receipt, the parts (which enclosed documents the person may still see, the
    # enclosures, their attachments), the history (events, forwards), what the person may do (their
    # roles on both units in one query; whether it was forwarded and, for 办结, which 主办 have not
    # finished, in another), the read-tracking UPDATE, the bell and the header: 18; and four for the 办理单
    # (issue 14): its record, and what the person may do on it (the record, their roles on the unit
    # and the assigned departments, their delegations there); and the file it was registered from, if any.
    assert small == large == 23


def test_document_page_queries_do_not_grow_with_attachments(client, world):
    sign_in(client, world.zzb)
    small_document = issue_with_attachments(world, attachments=1)
    small = _queries(client, reverse("document", args=[small_document.pk]))
    large_document = issue_with_attachments(world, attachments=6)
    large = _queries(client, reverse("document", args=[large_document.pk]))
    # 9, and which enclosed documents the person may still see (a recall takes them away).
    assert small == large == 10


def test_forward_page_queries_do_not_grow_with_groups_and_child_units(client, world):
    sign_in(client, world.jygw)
    document = issue_with_attachments(world)
    received = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    small = _queries(client, reverse("delivery-forward", args=[received.pk]))
    more = [unit(f"新建学院{i}", world.education) for i in range(10)]
    services.recipient_group_save(actor=None, owner=world.education, name="新建学院", members=more)
    large = _queries(client, reverse("delivery-forward", args=[received.pk]))
    assert small == large == 12


def test_outbox_queries_do_not_grow_with_dispatches_recipients_and_forwards(client, world):
    sign_in(client, world.zzb)
    issue(world.zzb, world.department, main=[world.education])
    small = _queries(client, reverse("outbox"))
    for _ in range(4):
        document, _ = issue(world.zzb, world.department, main=[world.groups["各直属党委"]], urgency="特急")
        forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.document_draft(actor=world.zzb, unit=world.department, content=_content(), main_recipients=[world.other])
    large = _queries(client, reverse("outbox"))
    # 10, and five for the deadlines work: the person's roles (催办, 撤回), the overdue list and its
    # count, the returns received and their count; and two since issue 18: the page is read as ids,
    # then as rows (web.pagination.lean_page), and its delivery figures in a query of their own
    # (web.selectors.outbox_figures), instead of one GROUP BY over every dispatch of the unit.
    # Nothing is overdue here: the overdue list is its one query, which finds no unit (with units
    # overdue, two more: test_outbox_queries_do_not_grow_with_overdue_units_and_returns). And the
    # list is no longer counted (第 N 页): one less.
    assert small == large == 15


def test_chain_page_and_exports_queries_do_not_grow_with_the_tree(client, world):
    sign_in(client, world.auditor)
    small_document, _ = issue(world.zzb, world.department, main=[world.education])
    pages = ("chain", "chain-json", "chain-csv")
    small = [_queries(client, reverse(page, args=[small_document.pk])) for page in pages]

    document, _ = issue(world.zzb, world.department, main=[world.groups["各直属党委"]], urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    forward(world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer)
    large = [_queries(client, reverse(page, args=[document.pk])) for page in pages]
    # The page: 13, two for the 办结 feedback (the list, its count), one for each unit's handling
    # state inside (issue 14), and the figures per level that choose the big chain's page or this
    # one (issue 18); the door once. The exports: the figures per level too, which choose between
    # the tree in memory and the streamed export of a big chain.
    assert small == large == [17, 9, 9]


def test_big_chain_pages_and_stalled_csv_queries_do_not_grow_with_the_tree(client, world, settings):
    """Issue 18: the chain page above CHAIN_TREE_LIMIT (with a level's branches), a branch's page
    (stalled filter on) and the stalled CSV, at two sizes."""
    settings.CHAIN_TREE_LIMIT = 0
    sign_in(client, world.auditor)

    def pages(document, dispatch):
        return [
            reverse("chain", args=[document.pk]) + "?level=1",
            reverse("chain", args=[document.pk]) + "?level=2&stalled=1",
            reverse("chain-branch", args=[document.pk, dispatch.pk]) + "?stalled=1",
            reverse("chain-branch", args=[document.pk, dispatch.pk]),
        ]

    def csv_queries(document) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("chain-stalled-csv", args=[document.pk]))
            b"".join(response.streaming_content)
        return len(queries)

    small_document, small_dispatch = issue(world.zzb, world.department, main=[world.education])
    later = timezone.now() + datetime.timedelta(days=30)  # every deadline passed: stalled rows to show
    with time_machine.travel(later):
        small = [_queries(client, url) for url in pages(small_document, small_dispatch)]
        small.append(csv_queries(small_document))

    document, dispatch = issue(world.zzb, world.department, main=[world.groups["各直属党委"]], urgency="特提")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    forward(world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer)
    with time_machine.travel(later):
        large = [_queries(client, url) for url in pages(document, dispatch)] + [csv_queries(document)]
    # Session and user, and the header (4); the page: the door, the figures per level, the slowest
    # and the longest waiting (their ids, then their rows), a level's branches = 10. A branch: 4, the
    # door, the branch with its figures, its deliveries, the branches below them = 8. The CSV
    # (no header): 2, the door, the levels of its dispatches, the cursor = 5.
    assert small == large == [10, 10, 8, 8, 5]


def test_notifications_page_queries_do_not_grow_with_notifications(client, world):
    sign_in(client, world.jygw)
    _document, dispatch = issue(world.zzb, world.department, main=[world.education])
    services.dispatch_notify(dispatch_id=dispatch.pk)
    small = _queries(client, reverse("notifications"))
    for _ in range(6):
        _document, dispatch = issue(world.zzb, world.department, main=[world.education])
        services.dispatch_notify(dispatch_id=dispatch.pk)
    large = _queries(client, reverse("notifications"))
    assert small == large == 6


def test_attachment_download_is_a_constant_number_of_queries(client, world):
    sign_in(client, world.jygw)
    document = issue_with_attachments(world, attachments=1)
    small = _queries(client, reverse("attachment", args=[document.attachments.get().pk]))
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=_content())
    attach(world.zzb, draft)
    assert small == 3


def _content():
    from tests.factories import content

    return content()


def test_chain_list_queries_do_not_grow_with_chains(client, world):
    sign_in(client, world.auditor)
    issue(world.zzb, world.department, main=[world.education])
    small = _queries(client, reverse("chains"))
    for _ in range(5):
        document, _ = issue(world.zzb, world.department, main=[world.groups["各直属党委"]])
        forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    large = _queries(client, reverse("chains"))
    assert small == large == 6


# --- the deadlines work: the same at two sizes ------------------------------------------------------


def _overdue_telegrams(world, count: int, *, at):
    """`count` 特提 telegrams to education and other, issued at `at` (30 minutes to sign)."""
    with time_machine.travel(at, tick=False):
        return [
            issue(world.zzb, world.department, main=[world.education, world.other], urgency="特提")[0]
            for _ in range(count)
        ]


def _return(world, document, text="请会签。"):
    return services.delivery_return(
        actor=world.jygw, delivery_id=delivery_of(document, world.education).pk, reason="not_consulted", text=text
    )


def _complete(world, document, files: int):
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    return services.delivery_complete(
        actor=world.jygw,
        delivery_id=delivery.pk,
        feedback="已落实。",
        attachments=[(f"落实{i}.txt", io.BytesIO(f"第{i}条".encode())) for i in range(files)],
    )


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_inbox_queries_do_not_grow_with_overdue_and_reminded_rows(client, world):
    sign_in(client, world.other_clerk)
    _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=2))
    with time_machine.travel(NOW, tick=False):
        small = _queries(client, reverse("inbox"))
    _overdue_telegrams(world, 8, at=NOW - datetime.timedelta(hours=1))
    with time_machine.travel(NOW, tick=False):
        services.delivery_remind_overdue()
        large = _queries(client, reverse("inbox"))
    assert small == large == 9  # as test_inbox_queries_do_not_grow_with_the_deliveries


@pytest.mark.usefixtures("_media")
def test_delivery_page_queries_do_not_grow_with_feedback_files_reminders_and_recalls(client, world):
    (small_document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=2))
    _complete(world, small_document, files=1)
    (large_document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=9))
    for hours in (8, 4, 0):
        with time_machine.travel(NOW - datetime.timedelta(hours=hours), tick=False):
            services.delivery_remind_overdue()
    _complete(world, large_document, files=4)
    for document in (small_document, large_document):
        services.dispatch_recall(actor=world.zzb, dispatch_id=document.dispatches.get().pk, reason="重发")
    # The recipient gets the stub (410): the door's two queries, and the recall it shows. The issuer
    # sees everything: the page, the 办结 with its files, and who recalled it and why; and the four
    # of the 办理单 (test_delivery_page_queries_do_not_grow_with_attachments_enclosures_and_history).
    for user, status, expected in ((world.jygw, 410, 6), (world.zzb, 200, 22)):
        sign_in(client, user)
        small = _queries(
            client, reverse("delivery", args=[delivery_of(small_document, world.education).pk]), status=status
        )
        large = _queries(
            client, reverse("delivery", args=[delivery_of(large_document, world.education).pk]), status=status
        )
        assert small == large == expected, user


def test_returned_delivery_page_queries_are_constant(client, world):
    small_document, _ = issue(world.zzb, world.department, main=[world.education])
    _return(world, small_document, text="短。")
    large_document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
    _return(world, large_document, text="长" * 500)
    sign_in(client, world.zzb)
    small = _queries(client, reverse("delivery", args=[delivery_of(small_document, world.education).pk]))
    large = _queries(client, reverse("delivery", args=[delivery_of(large_document, world.education).pk]))
    assert small == large == 20  # 15 for the issuer's people, the 退文 record, the 办理单's four


def test_outbox_queries_do_not_grow_with_overdue_units_and_returns(client, world):
    sign_in(client, world.zzb)
    (returned,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=2))
    _return(world, returned)
    with time_machine.travel(NOW, tick=False):
        small = _queries(client, reverse("outbox"))
    for document in _overdue_telegrams(world, 6, at=NOW - datetime.timedelta(hours=1)):
        _return(world, document)
    with time_machine.travel(NOW, tick=False):
        services.delivery_remind_overdue()
        large = _queries(client, reverse("outbox"))
    # 15 (test_outbox_queries_do_not_grow_with_dispatches_recipients_and_forwards), and two since
    # issue 18 for the overdue units found: their count over the two indexes (up to its cap), their
    # documents' totals from the dispatches' figures (web.selectors.overdue_list_for_unit).
    assert small == large == 17


@pytest.mark.usefixtures("_media")
def test_chain_page_queries_do_not_grow_with_feedback_and_lateness(client, world):
    sign_in(client, world.auditor)
    (small_document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=2))
    _complete(world, small_document, files=1)
    with time_machine.travel(NOW, tick=False):
        small = _queries(client, reverse("chain", args=[small_document.pk]))

    (document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=3))
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    _complete(world, document, files=3)
    for university, clerk in ((world.university, world.imu), (world.university_b, world.univ_b_clerk)):
        received = delivery_of(cover, university)
        services.delivery_sign_for(actor=clerk, delivery_id=received.pk)
        services.delivery_complete(actor=clerk, delivery_id=received.pk, feedback=f"{university.name}已落实。")
    with time_machine.travel(NOW, tick=False):
        large = _queries(client, reverse("chain", args=[document.pk]))
    # 15, the files of the 办结 feedback listed (one query for all of them), each unit's handling
    # state inside (issue 14: one query for the tree), and the figures per level (issue 18).
    assert small == large == 18


# --- the chain as of a moment (issue 15): replayed from the events, the same at two sizes ------------


@pytest.mark.usefixtures("_media")
def test_chain_page_and_exports_as_of_a_moment_do_not_grow_with_the_tree(client, world):
    sign_in(client, world.auditor)
    (small_document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=2))
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        _complete(world, small_document, files=1)
    pages = ("chain", "chain-json", "chain-csv")
    as_of = {"as_of": "2022-10-13T14:30"}
    with time_machine.travel(NOW, tick=False):
        small = [_queries(client, reverse(page, args=[small_document.pk]), data=as_of) for page in pages]

    (document,) = _overdue_telegrams(world, 1, at=NOW - datetime.timedelta(hours=3))
    with time_machine.travel(NOW - datetime.timedelta(hours=2), tick=False):
        cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
        _complete(world, document, files=3)
        for university, clerk in ((world.university, world.imu), (world.university_b, world.univ_b_clerk)):
            received = delivery_of(cover, university)
            services.delivery_sign_for(actor=clerk, delivery_id=received.pk)
            services.delivery_complete(actor=clerk, delivery_id=received.pk, feedback=f"{university.name}已落实。")
        forward(world.imu, delivery_of(cover, world.university), main=[world.college], signer=world.imu_signer)
        services.delivery_recall(actor=world.zzb, delivery_id=delivery_of(document, world.other).pk, reason="重发")
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        services.delivery_remind_overdue()
    with time_machine.travel(NOW, tick=False):
        large = [_queries(client, reverse(page, args=[document.pk]), data=as_of) for page in pages]
        # Before the issue: the replay finds nothing, and the page stops there.
        before = _queries(client, reverse("chain", args=[document.pk]), data={"as_of": "2022-10-13T11:00"})
    # The page: the replay's six queries (the chain's position, its cover letters, their enclosures,
    # its documents, its deliveries, its events up to the moment: one indexed query), the audit trail's
    # three, the 办结 feedback of the replay and its files; the session, the door and the header; the
    # figures per level that choose this page over the big chain's (issue 18). The exports: the
    # replay, the door and the figures per level (a big chain's export refuses a moment).
    assert small == large == [17, 10, 10]
    assert before == 12  # the replay, the session, the door, the header and the figures: nothing else


def test_notifications_page_queries_do_not_grow_with_returns_and_reminders(client, world):
    sign_in(client, world.zzb)
    small_document, _ = issue(world.zzb, world.department, main=[world.education])
    _return(world, small_document)
    small = _queries(client, reverse("notifications"))
    for document in _overdue_telegrams(world, 5, at=NOW - datetime.timedelta(hours=1)):
        _return(world, document)
    large = _queries(client, reverse("notifications"))
    assert small == large == 6


@pytest.mark.usefixtures("_media")
def test_return_notice_and_feedback_file_are_a_constant_number_of_queries(client, world):
    sign_in(client, world.zzb)
    small_document, _ = issue(world.zzb, world.department, main=[world.education])
    large_document, _ = issue(world.zzb, world.department, main=[world.education, world.other])
    notices = [
        _queries(client, reverse("return_notice", args=[_return(world, document, text=text).pk]))
        for document, text in ((small_document, "短。"), (large_document, "长" * 500))
    ]
    completions = [_complete(world, _issued(world), files) for files in (1, 5)]
    files = [
        _queries(client, reverse("completion-attachment", args=[completion.attachments.last().pk]))
        for completion in completions
    ]
    assert notices == [5, 5]  # session, user, the return through its door, the bell, the header's units
    assert files == [3, 3]


def _issued(world):
    return issue(world.zzb, world.department, main=[world.education])[0]


def test_document_page_queries_do_not_grow_with_the_returns_it_may_answer(client, world):
    sign_in(client, world.zzb)

    def signed_off_draft():
        draft = services.document_draft(
            actor=world.zzb, unit=world.department, content=_content(), main_recipients=[world.education]
        )
        return services.document_sign_off(actor=world.zzb_leader, document=draft)

    _return(world, _issued(world))
    small = _queries(client, reverse("document", args=[signed_off_draft().pk]))
    for _ in range(5):
        _return(world, _issued(world))
    large = _queries(client, reverse("document", args=[signed_off_draft().pk]))
    # 12 for a signed-off draft (its forward, the delivery it forwards if any, its chain door, which
    # enclosed documents are visible), and the returns it may answer.
    assert small == large == 13


def test_draft_page_and_unit_search_queries_do_not_grow_with_groups_and_matches(client, world):
    sign_in(client, world.jygw)
    small = [
        _queries(client, reverse("document-new")),
        _queries(client, reverse("unit-search"), data={"role": "main", "q_main": "计算机"}),
    ]
    more = [unit(f"新建学院{i}", world.education) for i in range(12)]
    for i in range(6):
        services.recipient_group_save(actor=None, owner=world.education, name=f"新建组{i}", members=more)
    large = [
        _queries(client, reverse("document-new")),
        _queries(client, reverse("unit-search"), data={"role": "main", "q_main": "学院"}),
    ]
    assert small == large == [7, 3]


def test_draft_page_from_a_return_is_a_constant_number_of_queries(client, world):
    sign_in(client, world.zzb)
    small_return = _return(world, _issued(world))
    document, _ = issue(world.zzb, world.department, main=[world.education, world.other], title="很长的标题" * 20)
    large_return = _return(world, document)
    url = reverse("document-new")
    small = _queries(client, url, data={"unit": world.department.pk, "answers": small_return.pk})
    large = _queries(client, url, data={"unit": world.department.pk, "answers": large_return.pk})
    assert small == large == 9


# --- the number search (issue 11): the same counts with a search on ----------------------------------


def test_inbox_outbox_and_chain_list_searched_by_number_do_not_grow(client, world):
    def counts() -> list[int]:
        sign_in(client, world.jygw)  # education: its inbox, and its chains list of forwards
        inbox = _queries(client, reverse("inbox"), data={"tab": "all", "number": "〔2022〕"})
        chains = _queries(client, reverse("chains"), data={"q": "(2022)"})
        sign_in(client, world.zzb)
        outbox = _queries(client, reverse("outbox"), data={"q": "电明字[2022]"})
        return [inbox, chains, outbox]

    def telegram_forwarded(**overrides) -> None:
        document, _ = issue(world.zzb, world.department, main=[world.education], number_year=2022, **overrides)
        forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])

    telegram_forwarded()
    small = counts()
    for _ in range(5):
        telegram_forwarded(urgency="特急")
    large = counts()
    # The search is one more condition in the list's query (and its count): no query of its own.
    # The inbox: 8, and what became of each row (已转发…); and one more since issue 18, as a searched
    # inbox is counted (the tab's count is not its count), then its page read as ids, then as rows
    # (web.pagination.lean_page). The chains list: not counted, its page read as ids, then as rows.
    # The outbox: 15 (test_outbox_queries_do_not_grow_with_dispatches_recipients_and_forwards).
    assert small == large == [10, 6, 15]


# --- inside a recipient unit (issue 14) ---------------------------------------------------------------


def _all_rounder(world):
    """Someone who is the university's clerk, leader and reader, and its 组织部's handler: every kind
    of 待办 is theirs."""
    from tests.factories import person
    from tests.web.inunit import build_inside
    from units.models import Role

    everyone = person(world.university, Role.CLERK, Role.LEADER, Role.READER, username="everyone")
    inside = build_inside(world.university, everyone, prefix="imu_")
    services.role_grant(actor=None, unit=inside.organisation, role=Role.HANDLER, user=everyone)
    return everyone, inside


def _work(world, everyone, inside, count: int, *, files: int = 0) -> list:
    """`count` notices at each step for `everyone`: signed (待登记), registered (待拟办, 待批办), and
    instructed to 组织部 and 宣传部 with `everyone` reading (待承办, 待阅), the 宣传部 reporting."""
    from tests.web.inunit import received_by

    deliveries = []
    for index in range(count):
        received_by(world, world.university, world.imu, title=f"待登记{index}")
        registered = received_by(world, world.university, world.imu, title=f"待拟办{index}")
        services.delivery_register(actor=everyone, delivery_id=registered.pk)
        delivery = received_by(world, world.university, world.imu, title=f"待承办{index}")
        record = services.delivery_register(actor=everyone, delivery_id=delivery.pk)
        services.handling_propose(
            actor=everyone, record_id=record.pk, text="拟办。", department_ids=[inside.organisation.pk]
        )
        services.handling_instruct(
            actor=everyone,
            record_id=record.pk,
            text="同意。",
            lead_department_ids=[inside.organisation.pk],
            assist_department_ids=[inside.publicity.pk],
            reader_ids=[everyone.pk, inside.reader_a.pk],
            reading_mode="parallel",
        )
        # The 组织部 has taken it up (everyone accepts), the 宣传部 has finished.
        services.assignment_accept(actor=everyone, assignment_id=record.assignments.get(part="lead").pk)
        assist = record.assignments.get(department=inside.publicity)
        services.assignment_report(
            actor=inside.pub_handler,
            assignment_id=assist.pk,
            text="已配合。",
            files=[(f"材料{n}.txt", io.BytesIO(f"材料{n}".encode())) for n in range(files)],
            finish=True,
        )
        deliveries.append(delivery)
    return deliveries


def test_todo_and_done_queries_do_not_grow_with_the_work(client, world):
    everyone, inside = _all_rounder(world)
    sign_in(client, everyone)
    _work(world, everyone, inside, 1)
    small = [_queries(client, reverse("todo")), _queries(client, reverse("todo", query={"tab": "done"}))]
    _work(world, everyone, inside, 4)
    large = [_queries(client, reverse("todo")), _queries(client, reverse("todo", query={"tab": "done"}))]
    # 待办: the session and user, one query for each of the five kinds, the bell and the header's
    # units. 已办: the session and user, the count and the page of the UNION, the bell, the header.
    assert small == large == [9, 6]


def test_delivery_page_with_its_handling_sheet_does_not_grow_with_the_steps(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    everyone, inside = _all_rounder(world)
    sign_in(client, everyone)
    [small_delivery] = _work(world, everyone, inside, 1)
    small = [
        _queries(client, reverse("delivery", args=[small_delivery.pk])),
        _queries(client, reverse("handling-sheet", args=[small_delivery.pk])),
    ]
    [delivery] = _work(world, everyone, inside, 1, files=3)
    record = delivery.handling_record
    # Another proposal, two more reports (files on one), a slip read.
    services.handling_propose(actor=everyone, record_id=record.pk, text="再拟办。", department_ids=[])
    lead = record.assignments.get(department=inside.organisation)
    services.assignment_report(actor=everyone, assignment_id=lead.pk, text="进展一。")
    services.assignment_report(
        actor=everyone, assignment_id=lead.pk, text="进展二。", files=[("附件.txt", io.BytesIO(b"x"))]
    )
    services.reading_done(actor=inside.reader_a, slip_id=record.reading_slips.get(reader=inside.reader_a).pk)
    large = [
        _queries(client, reverse("delivery", args=[delivery.pk])),
        _queries(client, reverse("handling-sheet", args=[delivery.pk])),
    ]
    # The delivery page: 23 (test_delivery_page_queries_do_not_grow_with_attachments_enclosures_and_
    # history), the 办理单's seven other queries (proposals, their departments, instructions,
    # assignments, reports, files, slips, replies: eight, one of them counted there), the choices
    # of the four form fields (departments for 拟办, 主办 and 协办, readers for 批办),
    # and the choices of 转阅 (none: not allowed here).
    # The printable 办理单: the session and user, the door, the 办理单 (eight), the bell, the header.
    assert small == large == [37, 14]


def test_delegations_page_queries_do_not_grow_with_the_delegations(client, world):
    from tests.factories import person
    from units.models import Role

    sign_in(client, world.imu)
    now = timezone.now()

    def grant(index):
        deputy = person(world.university, Role.DRAFTER, username=f"deputy{index}")
        services.delegation_grant(
            actor=world.imu,
            unit_id=world.university.pk,
            principal_id=world.imu.pk,
            deputy_id=deputy.pk,
            starts_at=now + datetime.timedelta(days=index),
            ends_at=now + datetime.timedelta(days=index + 1),
        )

    grant(0)
    small = _queries(client, reverse("delegations"))
    for index in range(1, 6):
        grant(index)
    large = _queries(client, reverse("delegations"))
    # The session and user, the delegations (with their units and people), the form's two choices
    # (the person's units, the deputies), the bell and the header.
    assert small == large == 7


def test_delivery_page_queries_do_not_grow_with_the_departments_assigned(client, world):
    from tests.web.inunit import received_by

    everyone, inside = _all_rounder(world)
    sign_in(client, everyone)

    def assigned(departments):
        delivery = received_by(world, world.university, world.imu)
        record = services.delivery_register(actor=everyone, delivery_id=delivery.pk)
        services.handling_instruct(
            actor=everyone, record_id=record.pk, text="同意。", lead_department_ids=[d.pk for d in departments]
        )
        handlers = {inside.organisation.pk: everyone, inside.publicity.pk: inside.pub_handler}
        handlers[inside.united_front.pk] = inside.idle_handler
        for assignment in record.assignments.all():  # finished: no longer to accept or report on
            services.assignment_report(
                actor=handlers[assignment.department_id], assignment_id=assignment.pk, text="办毕。", finish=True
            )
        return delivery

    small = _queries(client, reverse("delivery", args=[assigned([inside.organisation]).pk]))
    large = _queries(
        client, reverse("delivery", args=[assigned([inside.organisation, inside.publicity, inside.united_front]).pk])
    )
    assert small == large
