"""公文交换 (issue 17), the sending side: a document issued to units another installation hosts
makes one signed consignment per peer in the issue's transaction; tasks post it on the queue of its
urgency, at least once, with back-off, until the peer answers or the window closes, and the sending
clerks are told when it cannot be delivered."""

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from exchange import keys
from exchange.envelope import canonical
from exchange.models import OutgoingConsignment, Peer
from exchange.outgoing import consignment_send, messages_sweep
from tests.factories import content, delivery_of, issue, unit
from units.errors import InvalidInput
from units.models import RecipientGroup, Unit
from workflow import services
from workflow.checkpoints import public_key_pem_of
from workflow.models import AuditEvent, AuditVerb, Delivery, Notification


@pytest.fixture
def peer(world, peer_server):
    """B, at the test's server, hosting the university (and a unit of its own)."""
    peer = Peer.objects.create(
        name="B", base_url=peer_server.url, public_key=public_key_pem_of(peer_server.key.public_key())
    )
    Unit.objects.filter(pk=world.university.pk).update(peer=peer)
    world.university.refresh_from_db()
    return peer


def _issue_to_b(world, **overrides):
    return issue(world.zzb, world.department, main=[world.education, world.university], **overrides)


def test_issuing_to_a_unit_of_a_peer_makes_one_signed_consignment_sent_on_the_queue_of_its_urgency(
    world, peer, peer_server, installation_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        document, dispatch = _issue_to_b(world, urgency="特提", route=False)
    outgoing = OutgoingConsignment.objects.get()
    assert (outgoing.peer, outgoing.dispatch, outgoing.queue, outgoing.state) == (peer, dispatch, "urgent", "pending")
    envelope = json.loads(bytes(outgoing.envelope))
    assert bytes(outgoing.envelope) == canonical(envelope)
    assert keys.verifies(installation_a.public_key(), outgoing.signature, bytes(outgoing.envelope))
    assert envelope["from"] == {"installation": "A", "unit": world.department.name}
    assert envelope["to"] == [{"unit": world.university.name, "role": "主送"}]
    assert envelope["document"] == document.digest
    assert envelope["id"] == str(outgoing.consignment_id)
    # The routing and the send, both on the urgent queue (the callbacks run the real send_task).
    assert len(callbacks) == 2
    # The local routing makes a delivery for the external unit too: the sender's record of it.
    services.dispatch_route(dispatch_id=dispatch.pk)
    assert delivery_of(document, world.university).state == Delivery.State.PENDING

    assert consignment_send(outgoing_id=outgoing.pk) == "accepted"
    (request,) = peer_server.received
    assert request["path"] == "/exchange/v1/consignments"
    assert (request["installation"], request["verified"]) == ("A", True)
    assert request["message"]["envelope"] == envelope
    assert request["message"]["signature"] == outgoing.signature
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts, outgoing.last_code) == ("accepted", 1, "accepted")
    event = AuditEvent.objects.get(verb=AuditVerb.CONSIGNMENT_SENT)
    assert event.payload == {"peer": "B", "consignment": envelope["id"], "code": "accepted", "attempts": 1}
    # Sent: not sent again.
    assert consignment_send(outgoing_id=outgoing.pk) is None
    assert len(peer_server.received) == 1


def test_a_document_to_local_units_only_makes_no_consignment(world, peer):
    issue(world.zzb, world.department, main=[world.education])
    assert not OutgoingConsignment.objects.exists()


def test_attachments_travel_as_files_the_envelope_names(world, peer, peer_server, settings, tmp_path):
    from tests.web.conftest import issue_with_attachments

    settings.MEDIA_ROOT = tmp_path
    document = issue_with_attachments(world, attachments=2, main=[world.university])
    outgoing = OutgoingConsignment.objects.get()
    assert consignment_send(outgoing_id=outgoing.pk) == "accepted"
    message = peer_server.received[0]["message"]
    attachments = message["envelope"]["documents"][-1]["attachments"]
    assert [a["sha256"] for a in attachments] == list(
        document.attachments.order_by("position").values_list("sha256", flat=True)
    )
    assert sorted(message["files"]) == sorted(a["sha256"] for a in attachments)


def test_no_answer_is_tried_again_with_back_off_and_jitter_until_the_peer_answers(world, peer, peer_server, settings):
    settings.EXCHANGE_RETRY_SECONDS = 30
    _issue_to_b(world)
    outgoing = OutgoingConsignment.objects.get()
    # Unreachable, then a server error, then an answer not signed by B, then accepted.
    peer_server.answers = [(503, None, True), (201, "accepted", False), (201, "accepted", True)]
    Peer.objects.filter(pk=peer.pk).update(base_url="http://127.0.0.1:9/exchange/")
    start = timezone.now()
    assert consignment_send(outgoing_id=outgoing.pk) == "pending"
    outgoing.refresh_from_db()
    assert outgoing.last_error.startswith("连接失败：")
    # The first retry after 15 to 30 seconds (half to all of EXCHANGE_RETRY_SECONDS).
    assert start + datetime.timedelta(seconds=15) <= outgoing.next_attempt_at
    assert outgoing.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=30)
    assert consignment_send(outgoing_id=outgoing.pk) is None  # not due yet
    Peer.objects.filter(pk=peer.pk).update(base_url=peer_server.url)
    delays = []
    for expected in ("pending", "pending", "accepted"):
        previous = outgoing.next_attempt_at
        with time_machine.travel(outgoing.next_attempt_at, tick=False):
            assert consignment_send(outgoing_id=outgoing.pk) == expected
        outgoing.refresh_from_db()
        delays.append((outgoing.next_attempt_at - previous).total_seconds())
    assert outgoing.attempts == 4
    assert 30 <= delays[0] <= 60
    assert 60 <= delays[1] <= 120
    assert not Notification.objects.filter(kind=Notification.Kind.EXCHANGE).exists()


def test_a_refusal_the_peer_would_repeat_ends_the_consignment_and_the_sending_clerks_are_told(world, peer, peer_server):
    document, _dispatch = _issue_to_b(world)
    outgoing = OutgoingConsignment.objects.get()
    peer_server.answers = [(404, "unknown_recipient", True)]
    assert consignment_send(outgoing_id=outgoing.pk) == "refused"
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.last_code, outgoing.last_error) == (
        "refused",
        "unknown_recipient",
        "scripted unknown_recipient",
    )
    told = Notification.objects.filter(kind=Notification.Kind.EXCHANGE)
    assert sorted(told.values_list("user__username", "delivery__unit")) == [("zzb", world.university.pk)]
    assert told.get().text == "发往B的公文被对方拒收：scripted unknown_recipient"
    event = AuditEvent.objects.get(verb=AuditVerb.CONSIGNMENT_FAILED)
    assert (event.payload["code"], event.document_id, event.unit_id) == (
        "unknown_recipient",
        document.pk,
        world.department.pk,
    )


def test_the_window_closes_on_a_peer_down_for_days(world, peer, peer_server, settings):
    settings.EXCHANGE_RETRY_SECONDS = 3600
    settings.EXCHANGE_RETRY_WINDOW_SECONDS = 3 * 24 * 3600
    _issue_to_b(world)
    outgoing = OutgoingConsignment.objects.get()
    peer_server.answers = [(502, None, True)]
    states = []
    for _ in range(20):
        with time_machine.travel(max(outgoing.next_attempt_at, timezone.now()), tick=False):
            states.append(consignment_send(outgoing_id=outgoing.pk))
        outgoing.refresh_from_db()
        if outgoing.state != "pending":
            break
    assert states[-1] == "failed"
    assert set(states[:-1]) == {"pending"}
    assert outgoing.next_attempt_at <= outgoing.created_at + datetime.timedelta(days=3)
    assert Notification.objects.get(kind=Notification.Kind.EXCHANGE).text.startswith(
        "发往B的公文在重试期限内未能送达："
    )


def test_without_a_name_or_a_key_a_unit_elsewhere_cannot_be_sent_to_and_nothing_is_written(
    world, peer, settings, nothing_written
):
    draft = services.document_draft(
        actor=world.zzb,
        unit=world.department,
        content=content(),
        main_recipients=[world.university],
    )
    services.document_sign_off(actor=world.zzb_leader, document=draft)
    settings.EXCHANGE_INSTALLATION = ""
    with nothing_written(), pytest.raises(InvalidInput, match="本系统未启用公文交换"):
        services.document_issue(actor=world.zzb, document=draft)
    settings.EXCHANGE_INSTALLATION = "A"
    key_file, settings.EXCHANGE_SIGNING_KEY_FILE = settings.EXCHANGE_SIGNING_KEY_FILE, ""
    with nothing_written(), pytest.raises(InvalidInput, match="未配置公文交换签名密钥"):
        services.document_issue(actor=world.zzb, document=draft)
    settings.EXCHANGE_SIGNING_KEY_FILE = key_file
    Peer.objects.filter(pk=peer.pk).update(revoked_at=timezone.now())
    with nothing_written(), pytest.raises(InvalidInput, match="对端系统“B”已被吊销，不能发往其单位。"):
        services.document_issue(actor=world.zzb, document=draft)
    assert not OutgoingConsignment.objects.exists()


def test_the_sweep_enqueues_what_is_due_most_urgent_first(world, peer, monkeypatch):
    _issue_to_b(world, title="关于普通事项的通知")
    _issue_to_b(world, urgency="特提", title="关于特提事项的电报")
    sent = []
    monkeypatch.setattr(
        "exchange.outgoing.app.send_task", lambda name, args, queue: sent.append((name, args[0], queue))
    )
    assert messages_sweep() == 2
    assert sent == [("exchange.send", "consignment", "urgent"), ("exchange.send", "consignment", "routine")]


def test_issue_queries_do_not_grow_with_external_recipients(world, peer, count_queries):
    many = [unit(f"B系统单位{i}", world.region) for i in range(30)]
    Unit.objects.filter(pk__in=[u.pk for u in many]).update(peer=peer)
    counts = []
    for members in (many[:3], many):
        draft = services.document_draft(
            actor=world.zzb,
            unit=world.department,
            content=content(title=f"关于{len(members)}个单位的通知"),
            main_recipients=members,
        )
        services.document_sign_off(actor=world.zzb_leader, document=draft)
        count, _dispatch = count_queries(services.document_issue, actor=world.zzb, document=draft)
        counts.append(count)
    assert counts[0] == counts[1]


def test_the_chain_shows_a_unit_of_a_peer_with_its_installation(client, world, peer):
    from django.urls import reverse

    from tests.web.conftest import sign_in
    from workflow.selectors import chain_for_document

    document, _dispatch = _issue_to_b(world)
    tree = chain_for_document(document)
    assert {d.unit: d.installation for d in tree.deliveries} == {world.education.name: None, world.university.name: "B"}
    assert {d["unit"]: d["installation"] for d in tree.as_json()["deliveries"]} == {
        world.education.name: None,
        world.university.name: "B",
    }
    sign_in(client, world.zzb)
    page = client.get(reverse("chain", args=[document.pk])).content.decode()
    assert f'{world.university.name} <small class="muted">（在B系统）</small>' in page
    assert f'{world.education.name} <small class="muted">（在' not in page


def test_the_admin_lists_a_refused_consignment_with_its_answer_and_never_its_text(client, world, peer, peer_server):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    _issue_to_b(world, body="此件正文不应出现在管理页面。")
    peer_server.answers = [(404, "unknown_recipient", True)]
    consignment_send(outgoing_id=OutgoingConsignment.objects.get().pk)
    admin = get_user_model().objects.create_superuser("root", "root@example.gov.cn", "x")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("admin:exchange_outgoingconsignment_changelist")).content.decode()
    assert "unknown_recipient" in page
    assert "scripted unknown_recipient" in page
    assert "此件正文" not in page
    change = client.get(
        reverse("admin:exchange_outgoingconsignment_change", args=[OutgoingConsignment.objects.get().pk])
    ).content.decode()
    assert "此件正文" not in change


def test_a_recipient_group_may_mix_local_units_and_units_of_peers(world, peer, installation_a):
    """A group (两校党委) holds a university here and one B hosts: one dispatch, both routed here, one
    consignment to B naming only B's."""
    services.recipient_group_save(
        actor=None,
        owner=world.department,
        name="两校党委",
        members=[world.university, world.university_b],
    )
    group = RecipientGroup.objects.get(name="两校党委")
    document, dispatch = issue(world.zzb, world.department, main=[group])
    assert sorted(dispatch.main_unit_ids) == sorted([world.university.pk, world.university_b.pk])
    (outgoing,) = OutgoingConsignment.objects.all()
    assert json.loads(bytes(outgoing.envelope))["to"] == [{"unit": world.university.name, "role": "主送"}]
    assert set(Delivery.objects.filter(document=document).values_list("unit__name", flat=True)) == {
        world.university.name,
        world.university_b.name,
    }
