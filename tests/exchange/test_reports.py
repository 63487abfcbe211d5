"""公文交换 (issue 17): reports (转发情况) travel back. At the installation that received a
consignment, the chain below it (forwards, their deliveries here and at further peers, and what
those peers reported) becomes a signed report whenever it changes, derived from the audit log; at
the installation that sent it, the newest report shows below the consignment's deliveries, so that
an auditor there sees the whole tree as far as receipts and reports have flowed back."""

import copy
import csv
import datetime
import io
import json
import time
import uuid

import pytest
import time_machine
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from exchange import keys
from exchange.derive import exchange_derive
from exchange.directory import peer_save, unit_host
from exchange.envelope import canonical
from exchange.models import OutgoingConsignment, OutgoingReport, ReceivedConsignment, ReceivedReport
from tests.conftest import _state
from tests.factories import delivery_of, forward, issue
from workflow import services
from workflow.checkpoints import key_generate, public_key_pem_of
from workflow.models import AuditEvent, AuditVerb, Delivery
from workflow.selectors import chain_as_of, chain_for_document

# --- at the installation that received the consignment (B) ---------------------------------------------


@pytest.fixture
def forwarded(world, received, tmp_path):
    """B took in A's document for education, which forwarded it to the university (here) and to
    the other university, which C hosts."""
    sender, envelope, delivery = received
    c_key = key_generate(tmp_path / "C.pem")
    peer_c = peer_save(
        actor=None, name="C", base_url="http://c.example/exchange/", public_key=public_key_pem_of(c_key.public_key())
    )
    unit_host(actor=None, unit=world.university_b, peer=peer_c)
    cover, _dispatch = forward(world.jygw, delivery, main=[world.university, world.university_b])
    return sender, envelope, delivery, cover


def _newest_seq(document) -> int:
    return AuditEvent.objects.filter(document=document).aggregate(seq=Max("seq"))["seq"]


def test_the_chain_below_a_consignment_becomes_one_signed_report_whenever_it_changes(
    world, forwarded, receiver, django_capture_on_commit_callbacks
):
    sender, envelope, _delivery_of_education, cover = forwarded
    with django_capture_on_commit_callbacks() as callbacks:
        assert exchange_derive() == 2  # education's sign-for (a receipt) and the forward (a report)
    assert len(callbacks) == 2  # each sent by a task, on commit
    report = OutgoingReport.objects.get()
    message = json.loads(bytes(report.envelope))
    assert bytes(report.envelope) == canonical(message)
    assert keys.verifies(receiver.public_key(), report.signature, bytes(report.envelope))
    assert (report.peer, report.queue, report.state) == (sender.peer, "urgent", "pending")
    assert message["version"] == report.version == _newest_seq(cover)
    assert (message["type"], message["consignment"], message["from"]) == (
        "report",
        envelope["id"],
        {"installation": "B"},
    )
    [unit] = message["units"]
    assert unit["unit"] == world.education.name
    [node] = unit["forwards"]
    assert (node["number"], node["digest"], node["issuer"], node["installation"]) == (
        cover.number,
        cover.digest,
        world.education.name,
        "B",
    )
    assert node["encloses"] == [{"number": envelope["documents"][-1]["number"], "digest": envelope["document"]}]
    assert [(d["unit"], d["installation"], d["state"], d["forwards"]) for d in node["deliveries"]] == [
        (world.university.name, "B", "pending", []),
        (world.university_b.name, "C", "pending", []),
    ]
    assert exchange_derive() == 0  # the cursor moved on: nothing twice

    # The university signs for it: a report is owed, but not due until EXCHANGE_REPORT_SECONDS
    # (30) after the first, however many events come meanwhile; then one new version, and the
    # first, never sent, is superseded.
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    assert exchange_derive() == 0
    owed = ReceivedConsignment.objects.get()
    assert (owed.report_version, owed.report_due_at) == (
        _newest_seq(cover),
        report.created_at + datetime.timedelta(seconds=30),
    )
    with time_machine.travel(report.created_at + datetime.timedelta(seconds=31)):
        assert exchange_derive() == 1
    first, second = OutgoingReport.objects.order_by("version")
    assert (first.state, second.state, second.version) == ("superseded", "pending", _newest_seq(cover))
    node = json.loads(bytes(second.envelope))["units"][0]["forwards"][0]
    assert [d["state"] for d in node["deliveries"]] == ["signed", "pending"]
    assert node["deliveries"][0]["signed_at"] is not None
    owed.refresh_from_db()
    assert (owed.report_version, owed.report_due_at) == (None, None)

    # An event of the chain that changes nothing a report says (收文登记 inside the university)
    # makes none once due, and settles what was owed.
    services.delivery_register(world.imu, delivery_of(cover, world.university).pk)
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_LOGGED).count() == 1
    with time_machine.travel(second.created_at + datetime.timedelta(seconds=31)):
        assert exchange_derive() == 0
    assert OutgoingReport.objects.count() == 2
    assert ReceivedConsignment.objects.get().report_due_at is None


def test_a_chain_of_this_installations_own_makes_no_report(world, received, receiver):
    exchange_derive()
    document, _dispatch = issue(world.jygw, world.education, main=[world.university])
    forward(world.imu, delivery_of(document, world.university), main=[world.college], signer=world.imu_signer)
    assert exchange_derive() == 0
    assert not OutgoingReport.objects.exists()


# --- at the installation that sent it (A) --------------------------------------------------------------


@pytest.fixture
def sent_to_b(world, installation_a, tmp_path, settings):
    """A (this installation) issued to education, which B hosts, and to the university (here)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    b_key = key_generate(tmp_path / "B-own.pem")
    peer = peer_save(
        actor=None, name="B", base_url="http://b.example/exchange/", public_key=public_key_pem_of(b_key.public_key())
    )
    unit_host(actor=None, unit=world.education, peer=peer)
    document, dispatch = issue(world.zzb, world.department, main=[world.education, world.university])
    return peer, b_key, document, OutgoingConsignment.objects.get(dispatch=dispatch)


def _at(minutes: int) -> str:
    return f"2026-12-01T08:{minutes:02d}:00+00:00"


def _delivery(unit: str, installation: str, state: str = "pending", forwards=(), signed: int | None = None) -> dict:
    return {
        "unit": unit,
        "installation": installation,
        "role": "主送",
        "state": state,
        "read_at": _at(signed) if signed is not None else None,
        "signed_at": _at(signed) if signed is not None else None,
        "completed_at": None,
        "receipt_digest": None,
        "deadline_sign_for": _at(59),
        "deadline_complete": None,
        "reminders": 0,
        "forwards": list(forwards),
    }


def _node(
    number: str, digest: str, encloses: list[tuple[str, str]], deliveries, issuer="自治区教育工委", at="B"
) -> dict:
    return {
        "number": number,
        "title": "转发关于做好防汛工作的通知",
        "issuer": issuer,
        "installation": at,
        "kind": "通知",
        "urgency": "特提",
        "page_count": 1,
        "date": "2026-12-01",
        "signature_organ": issuer,
        "main_recipients_text": "各高等学校党委",
        "digest": digest,
        "issued_at": _at(5),
        "encloses": [{"number": n, "digest": d} for n, d in encloses],
        "deliveries": list(deliveries),
    }


COVER, DEEPER = "a" * 64, "b" * 64


def _tree(document, *, deliveries: int = 2, signed: int = 1) -> list[dict]:
    """education's forward (B), to `deliveries` universities (the first at C), of which the first
    `signed` signed, and one of them (at C) forwarded again to a college at C."""
    college = _node(
        "内工大党发〔2026〕3号",
        DEEPER,
        [("内教工委函〔2026〕7号", COVER)],
        [_delivery("计算机学院党委（C）", "C")],
        issuer="内蒙古工业大学党委",
        at="C",
    )
    units = [
        _delivery(
            f"高校{n}",
            "C" if n == 0 else "B",
            "signed" if n < signed else "pending",
            forwards=[college] if n == 0 else [],
            signed=10 + n if n < signed else None,
        )
        for n in range(deliveries)
    ]
    return [_node("内教工委函〔2026〕7号", COVER, [(document.number, document.digest)], units)]


def _report(outgoing, unit, forwards, *, version: int = 10) -> dict:
    return {
        "protocol": "gongwen-exchange/1",
        "type": "report",
        "id": str(uuid.uuid4()),
        "consignment": str(outgoing.consignment_id),
        "from": {"installation": "B"},
        "version": version,
        "at": _at(30),
        "units": [{"unit": unit.name, "forwards": forwards}],
    }


def _post(client, key, report: dict, *, signature_key=None):
    body = json.dumps(
        {
            "envelope": report,
            "signature": keys.envelope_signature(signature_key or key, canonical(report)),
            "files": {},
        },
        ensure_ascii=False,
    ).encode()
    stamp = str(int(time.time()))
    return client.post(
        reverse("exchange-reports"),
        data=body,
        content_type="application/json",
        HTTP_GONGWEN_INSTALLATION="B",
        HTTP_GONGWEN_TIMESTAMP=stamp,
        HTTP_GONGWEN_SIGNATURE=keys.message_signature(key, stamp, body),
    )


def _shape(node) -> list:
    """A tree as (depth, number, installation, [(unit, installation, state, [forwards…])…])."""
    return [
        node.depth,
        node.number,
        node.installation,
        [(d.unit, d.installation, d.state, [_shape(f) for f in d.forwards]) for d in node.deliveries],
    ]


def test_a_report_shows_the_tree_grown_at_the_peers_below_the_consignments_delivery(client, world, sent_to_b):
    peer, b_key, document, outgoing = sent_to_b
    report = _report(outgoing, world.education, _tree(document))
    response = _post(client, b_key, report)
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["code"] == "accepted"
    kept = ReceivedReport.objects.get()
    assert (kept.peer, kept.consignment, kept.version, bytes(kept.envelope)) == (peer, outgoing, 10, canonical(report))
    event = AuditEvent.objects.get(verb=AuditVerb.REPORT_ACCEPTED)
    assert (event.object_type, event.object_id, event.document_id) == (
        "Dispatch",
        str(outgoing.dispatch_id),
        document.pk,
    )
    assert event.payload == {
        "peer": "B",
        "report": report["id"],
        "consignment": str(outgoing.consignment_id),
        "version": 10,
        "newest": True,
        "forwards": 2,
    }
    tree = chain_for_document(document)
    assert _shape(tree) == [
        0,
        document.number,
        None,
        [
            (
                world.education.name,
                "B",
                "pending",
                [
                    [
                        1,
                        "内教工委函〔2026〕7号",
                        "B",
                        [
                            (
                                "高校0",
                                "C",
                                "signed",
                                [[2, "内工大党发〔2026〕3号", "C", [("计算机学院党委（C）", "C", "pending", [])]]],
                            ),
                            ("高校1", "B", "pending", []),
                        ],
                    ]
                ],
            ),
            (world.university.name, None, "pending", []),
        ],
    ]
    remote = tree.deliveries[0].forwards[0]
    assert remote.deliveries[0].signed_at == datetime.datetime(2026, 12, 1, 8, 10, tzinfo=datetime.UTC)
    assert remote.encloses == [(document.number, document.digest)]
    # The JSON export writes it as it came.
    assert tree.as_json()["deliveries"][0]["forwards"] == report["units"][0]["forwards"]

    # The same report again: duplicate, nothing written. An older version, arriving late, is kept
    # (it is the peer's signed statement) but the newest is what the chain shows.
    before = _state()
    again = _post(client, b_key, report)
    assert (again.status_code, json.loads(again.content)["code"]) == (200, "duplicate")
    assert _state() == before
    older = _report(outgoing, world.education, _tree(document, signed=0), version=9)
    assert _post(client, b_key, older).status_code == 201
    assert AuditEvent.objects.filter(verb=AuditVerb.REPORT_ACCEPTED).order_by("-seq")[0].payload["newest"] is False
    assert chain_for_document(document).deliveries[0].forwards[0].deliveries[0].state == "signed"
    newer = _report(outgoing, world.education, _tree(document, signed=2), version=11)
    assert _post(client, b_key, newer).status_code == 201
    assert [d.state for d in chain_for_document(document).deliveries[0].forwards[0].deliveries] == ["signed"] * 2


def test_the_chain_as_it_stood_shows_the_reports_received_by_then(client, world, sent_to_b):
    _peer, b_key, document, outgoing = sent_to_b
    before = timezone.now()
    assert _post(client, b_key, _report(outgoing, world.education, _tree(document))).status_code == 201
    assert chain_as_of(document, moment=before).deliveries[0].forwards == []
    tree = chain_as_of(document, moment=timezone.now())
    assert tree.deliveries[0].installation == "B"
    assert [f.number for f in tree.deliveries[0].forwards] == ["内教工委函〔2026〕7号"]


@pytest.mark.parametrize("size", [2, 30])
def test_the_chain_with_reports_is_read_in_the_same_queries_at_any_size(
    client, world, sent_to_b, size, django_assert_num_queries
):
    _peer, b_key, document, outgoing = sent_to_b
    assert _post(client, b_key, _report(outgoing, world.education, _tree(document, deliveries=size))).status_code == 201
    with django_assert_num_queries(6):  # five for the chain here, one for the peers' reports
        tree = chain_for_document(document)
    assert len(tree.deliveries[0].forwards[0].deliveries) == size


def _refused(client, b_key, report, status: int, code: str, message: str) -> None:
    before = (ReceivedReport.objects.count(), AuditEvent.objects.filter(verb=AuditVerb.REPORT_ACCEPTED).count())
    response = _post(client, b_key, report)
    answer = json.loads(response.content)
    assert (response.status_code, answer["code"]) == (status, code), answer
    assert message in answer["message"]
    assert (ReceivedReport.objects.count(), AuditEvent.objects.filter(verb=AuditVerb.REPORT_ACCEPTED).count()) == before
    assert AuditEvent.objects.filter(verb=AuditVerb.REPORT_REFUSED).order_by("-seq")[0].payload["code"] == code


def test_a_forward_that_does_not_enclose_what_it_forwards_is_refused_at_every_hop(client, world, sent_to_b):
    _peer, b_key, document, outgoing = sent_to_b
    top = _tree(document)
    top[0]["encloses"] = [{"number": document.number, "digest": "c" * 64}]
    _refused(client, b_key, _report(outgoing, world.education, top), 422, "digest_mismatch", "内教工委函〔2026〕7号")
    deep = _tree(document)
    deep[0]["deliveries"][0]["forwards"][0]["encloses"] = [{"number": document.number, "digest": document.digest}]
    _refused(client, b_key, _report(outgoing, world.education, deep), 422, "digest_mismatch", "内工大党发〔2026〕3号")
    assert chain_for_document(document).deliveries[0].forwards == []


def test_a_report_of_a_unit_that_is_no_recipient_there_or_of_another_consignment_is_refused(client, world, sent_to_b):
    _peer, b_key, document, outgoing = sent_to_b
    local = _report(outgoing, world.university, _tree(document))  # a unit of this installation
    _refused(client, b_key, local, 403, "not_accepted", world.university.name)
    unknown = _report(outgoing, world.education, _tree(document))
    unknown["consignment"] = str(uuid.uuid4())
    _refused(client, b_key, unknown, 403, "not_accepted", "本系统没有发给对端系统的这件公文")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("version"), "envelope"),
        (lambda r: r.update(version=0), "版本号"),
        (lambda r: r.update(version=True), "版本号"),
        (lambda r: r["units"][0]["forwards"][0].pop("issued_at"), "转发公文"),
        (lambda r: r["units"][0]["forwards"][0].update(digest="XYZ"), "转发公文"),
        (lambda r: r["units"][0]["forwards"][0]["deliveries"][0].update(state="lost"), "的送达"),
        (lambda r: r["units"][0]["forwards"][0]["deliveries"][0].update(signed_at="yesterday"), "的送达"),
        (lambda r: r["units"][0]["forwards"][0]["deliveries"][0].update(reminders=-1), "的送达"),
        (lambda r: r["units"].append(copy.deepcopy(r["units"][0])), "收文单位重复"),
    ],
)
def test_a_report_that_is_not_of_the_protocols_shape_is_malformed(client, world, sent_to_b, change, message):
    _peer, b_key, document, outgoing = sent_to_b
    report = _report(outgoing, world.education, _tree(document))
    change(report)
    _refused(client, b_key, report, 400, "malformed", message)


def test_a_report_nested_past_any_real_chain_is_malformed(client, world, sent_to_b):
    _peer, b_key, _document, outgoing = sent_to_b
    node = _node("最深", DEEPER, [], [])
    for _ in range(45):
        node = _node("更浅", DEEPER, [], [_delivery("某单位", "B", forwards=[node])])
    _refused(client, b_key, _report(outgoing, world.education, [node]), 400, "malformed", "转发层级过深")


def test_a_report_signed_with_another_key_is_refused(client, world, sent_to_b, tmp_path):
    _peer, b_key, document, outgoing = sent_to_b
    stranger = key_generate(tmp_path / "stranger.pem")
    response = _post(client, b_key, _report(outgoing, world.education, _tree(document)), signature_key=stranger)
    assert (response.status_code, json.loads(response.content)["code"]) == (401, "bad_signature")
    assert not ReceivedReport.objects.exists()
    assert Delivery.objects.filter(document=document).count() == 2


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


@pytest.mark.parametrize("big", [False, True], ids=["whole", "streamed"])
def test_the_chain_page_and_its_exports_show_the_reported_tree_with_each_installation(
    client, world, sent_to_b, settings, big
):
    _peer, b_key, document, outgoing = sent_to_b
    assert _post(client, b_key, _report(outgoing, world.education, _tree(document))).status_code == 201
    client.force_login(world.zzb)
    expected = chain_for_document(document).as_json()
    if big:  # above the limit the exports stream, a cursor per node
        settings.CHAIN_TREE_LIMIT = 1
    exported = client.get(reverse("chain-json", args=[document.pk]))
    text = b"".join(exported.streaming_content) if big else exported.content
    assert json.loads(text) == expected
    header, *rows = _csv(client.get(reverse("chain-csv", args=[document.pk])))
    assert header[-2:] == ["发文所在系统", "收文所在系统"]
    assert [(row[0], row[1], row[3], row[5], row[-2], row[-1]) for row in rows] == [
        ("1", document.number, world.education.name, "待签收", "A", "B"),
        ("1", document.number, world.university.name, "待签收", "A", "A"),
        ("2", "内教工委函〔2026〕7号", "高校0", "已签收", "B", "C"),
        ("2", "内教工委函〔2026〕7号", "高校1", "待签收", "B", "B"),
        ("3", "内工大党发〔2026〕3号", "计算机学院党委（C）", "待签收", "C", "C"),
    ]
    if not big:
        page = client.get(reverse("chain", args=[document.pk])).content.decode()
        assert (
            '内教工委函〔2026〕7号</strong> 自治区教育工委 <small class="muted installation">（在B系统，据其报告）'
            in page
        )
        assert '计算机学院党委（C） <small class="muted">（在C系统）</small>' in page
