"""Every page runs the same number of queries whatever the size of what it shows.

Each test measures a page at a small and a large size and asserts both counts, exactly. The counts
include the session and user lookups of every authenticated request (2).
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import delivery_of, forward, issue, unit
from tests.web.conftest import attach, issue_with_attachments, sign_in
from workflow import services


def _queries(client, url, **kwargs) -> int:
    client.get(url, **kwargs)  # the first opening records the read time; measure the steady state
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return len(queries)


def test_inbox_queries_do_not_grow_with_the_deliveries(client, world):
    sign_in(client, world.jygw)
    issue(world.zzb, world.department, main=[world.education])
    small = _queries(client, reverse("inbox"))
    for _ in range(11):
        issue(world.zzb, world.department, main=[world.education], urgency="特提")
    large = _queries(client, reverse("inbox"))
    assert small == large == 7


def test_delivery_page_queries_do_not_grow_with_attachments_enclosures_and_history(client, world):
    sign_in(client, world.imu)
    small_document = issue_with_attachments(world, attachments=1, main=[world.university])
    small = _queries(client, reverse("delivery", args=[delivery_of(small_document, world.university).pk]))

    document = issue_with_attachments(world, attachments=4, main=[world.education], title="关于大件的通知")
    cover, _ = forward(world.jygw, delivery_of(document, world.education), main=[world.groups["各高校党委"]])
    received = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=received.pk)
    services.document_forward(actor=world.imu, delivery=received, main_recipients=[world.college])
    large = _queries(client, reverse("delivery", args=[received.pk]))
    # 17, and two for the deadlines work: the issuer's roles (催办, 撤回) and the recall notices.
    assert small == large == 19


def test_document_page_queries_do_not_grow_with_attachments(client, world):
    sign_in(client, world.zzb)
    small_document = issue_with_attachments(world, attachments=1)
    small = _queries(client, reverse("document", args=[small_document.pk]))
    large_document = issue_with_attachments(world, attachments=6)
    large = _queries(client, reverse("document", args=[large_document.pk]))
    assert small == large == 9


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
    # count, the returns received and their count.
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
    # The page: 13, and three for the 办结 feedback (its door, the list, its count).
    assert small == large == [16, 8, 8]


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
