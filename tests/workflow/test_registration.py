"""收文登记 and drafts from files, through workflow.services.registration."""

import datetime

import pytest

from documents.digest import document_content_digest
from documents.importing import parse_text
from documents.models import Document, Enclosure, ImportedSource, Kind, NumberSeries, Urgency
from tests.documents.importing_helpers import seed_bytes, seed_text
from tests.factories import delivery_of, issue, person
from units.errors import Conflict, InvalidInput, NotAllowed
from units.models import Role
from workflow import services
from workflow.access import document_list_visible
from workflow.deadlines import deadlines_for
from workflow.models import AuditEvent, AuditVerb, Delivery, Dispatch, Forward, Queue
from workflow.services import SourceFile

TITLE = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"
COVER_TITLE = "中共内蒙古自治区教育工作委员会转发" + TITLE
SEED = SourceFile.of("seed.txt", seed_bytes())


def _register_seed(world, *, actor="imu", unit="university", text=None, source=SEED):
    return services.document_register_received(
        actor=world.people[actor] if actor else None,
        unit=getattr(world, unit),
        parsed=parse_text(text if text is not None else seed_text()),
        source=source,
    )


def _number(document: Document) -> tuple:
    return (document.number_prefix, document.number_year, document.number_serial)


def test_registering_the_seed_creates_both_documents_issued_under_their_printed_numbers(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        registration = _register_seed(world)

    cover = Document.objects.get(pk=registration.document.pk)
    telegram = Document.objects.get(number_prefix="内组电明字")
    assert [created.pk for created in registration.created] == [telegram.pk, cover.pk]
    assert registration.linked == []
    assert not registration.already_registered
    # Each issuing unit is found by the prefix of its number in the directory.
    assert (cover.issuing_unit, cover.number, cover.title) == (world.education, "内教工委函〔2022〕90号", COVER_TITLE)
    assert (telegram.issuing_unit, telegram.number, telegram.title) == (
        world.department,
        "内组电明字〔2022〕11号",
        TITLE,
    )
    assert {cover.state, telegram.state} == {Document.State.ISSUED}
    assert cover.digest == document_content_digest(cover)
    assert telegram.digest == document_content_digest(telegram)
    assert list(Enclosure.objects.filter(cover=cover).values_list("enclosed_id", "depth")) == [
        (cover.pk, 0),
        (telegram.pk, 1),
    ]
    assert len(callbacks) == 1  # the receiving unit's clerks are notified
    # The delivery carries the cover's urgency, as routing's do (收文 待签收 sorts by it).
    assert list(Delivery.objects.filter(document=cover).values_list("urgency", flat=True)) == [cover.urgency]
    # And its issuing unit (发文's overdue list reads it).
    assert list(Delivery.objects.filter(document=cover).values_list("issuing_unit", flat=True)) == [
        cover.issuing_unit_id
    ]
    assert list(Dispatch.objects.filter(document=cover).values_list("issuing_unit", flat=True)) == [
        cover.issuing_unit_id
    ]
    # And that it is a cover letter: the search door reads what the unit sees through it from there.
    assert list(Delivery.objects.filter(document=cover).values_list("is_cover", flat=True)) == [True]


def test_the_registered_telegram_keeps_every_element_of_the_text(world):
    _register_seed(world)

    telegram = Document.objects.get(number_prefix="内组电明字")
    assert (telegram.kind, telegram.urgency, telegram.page_count) == (Kind.TELEGRAM, Urgency.FLASH, 4)
    assert telegram.issuer_mark == "中共内蒙古自治区委员会组织部明传电报"
    assert telegram.main_recipients_text == "各盟市委组织部、自治区各直属党（工）委："
    assert (telegram.signature_organ, telegram.written_on) == ("内蒙古自治区党委组织部", datetime.date(2022, 10, 13))
    assert (telegram.telegram_send_to, telegram.telegram_approval_office) == ("见报头", "机要三")
    assert (telegram.telegram_approver, telegram.telegram_seal) == ("李玉刚", "发电专用章")
    assert telegram.body.count("\n") == 6
    assert telegram.classification == "公开"


def test_the_receiving_unit_gets_a_pending_delivery_through_a_routed_dispatch(world):
    registration = _register_seed(world)

    delivery = Delivery.objects.get()
    assert registration.delivery == delivery
    assert (delivery.document_id, delivery.unit, delivery.role) == (registration.document.pk, world.university, "主送")
    assert delivery.state == Delivery.State.PENDING
    dispatch = Dispatch.objects.get()
    assert (dispatch.issued_by, dispatch.main_unit_ids, dispatch.recipient_count) == (
        world.imu,
        [world.university.pk],
        1,
    )
    assert dispatch.routed_at is not None
    assert dispatch.queue == Queue.ROUTINE  # the cover letter itself carries no urgency
    # Its handling deadlines are the policy's for its urgency, counted from the registration.
    policy = deadlines_for("普通", delivery.created_at)
    assert (delivery.deadline_sign_for, delivery.deadline_complete) == (policy.sign_for, policy.complete)
    assert (dispatch.deadline_sign_for, dispatch.deadline_complete) == (policy.sign_for, policy.complete)
    assert delivery.deadline_complete is not None


def test_registration_writes_one_audit_event_per_created_document_and_one_for_the_delivery(world):
    before = AuditEvent.objects.count()

    registration = _register_seed(world)

    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [(event.verb, event.object_type, event.actor_id) for event in events] == [
        (AuditVerb.DOCUMENT_REGISTERED, "Document", world.imu.pk),
        (AuditVerb.DOCUMENT_REGISTERED, "Document", world.imu.pk),
        (AuditVerb.DOCUMENT_REGISTERED, "Delivery", world.imu.pk),
    ]
    telegram, _cover = registration.created
    assert events[0].payload == {
        "number": "内组电明字〔2022〕11号",
        "digest": telegram.digest,
        "issuing_unit_id": world.department.pk,
        "encloses": [],
        "file": "seed.txt",
        "sha256": SEED.sha256,
    }
    assert events[1].payload["encloses"] == ["内组电明字〔2022〕11号"]
    delivery = Delivery.objects.get()
    payload = dict(events[2].payload)
    deadlines = [
        datetime.datetime.fromisoformat(payload.pop(key)) for key in ("deadline_sign_for", "deadline_complete")
    ]
    assert payload == {
        "dispatch_id": Dispatch.objects.get().pk,
        "number": "内教工委函〔2022〕90号",
        "file": "seed.txt",
        "sha256": SEED.sha256,
    }
    assert deadlines == [delivery.deadline_sign_for, delivery.deadline_complete]
    assert {event.unit_id for event in events} == {world.university.pk}


def test_the_imported_text_and_its_findings_are_kept_for_each_created_document(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    registration = _register_seed(world)

    telegram, cover = registration.created
    cover_source = ImportedSource.objects.get(document=cover)
    assert (cover_source.file_name, cover_source.sha256, cover_source.unit) == (
        "seed.txt",
        SEED.sha256,
        world.university,
    )
    assert cover_source.warnings == [{"line": 15, "message": "未找到成文日期", "field": "date"}]
    assert cover_source.first_line == 3
    assert cover_source.text.startswith("中共内蒙古自治区教育工作委员会")
    telegram_source = ImportedSource.objects.get(document=telegram)
    assert (telegram_source.warnings, telegram_source.first_line) == ([], 21)
    assert telegram_source.imported_by == world.imu
    # The file itself, byte for byte, once (named by its digest), for both documents it holds.
    for source in (cover_source, telegram_source):
        assert (source.size, source.content_type, source.scanned_pages) == (len(seed_bytes()), "text/plain", [])
        assert source.original.name == f"imported/{SEED.sha256[:2]}/{SEED.sha256}"
        with source.original.open("rb") as kept:
            assert kept.read() == seed_bytes()
    assert [path.name for path in (tmp_path / "imported").rglob("*") if path.is_file()] == [SEED.sha256]


def test_registering_the_same_file_again_changes_nothing(world, nothing_written):
    first = _register_seed(world)

    with nothing_written():
        again = _register_seed(world)

    assert again.already_registered
    assert (again.document, again.delivery, again.created) == (first.document, first.delivery, [])


def test_a_number_already_in_the_system_is_linked_and_never_duplicated(world):
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=10)
    telegram, _dispatch = issue(
        world.zzb,
        world.department,
        main=[world.education],
        title=TITLE,
        kind=Kind.TELEGRAM,
        urgency=Urgency.FLASH,
    )

    registration = _register_seed(world)

    assert registration.linked == [telegram]
    assert [created.number for created in registration.created] == ["内教工委函〔2022〕90号"]
    assert Document.objects.filter(number_prefix="内组电明字", number_year=2022, number_serial=11).count() == 1
    assert Enclosure.objects.get(cover=registration.document, depth=1).enclosed == telegram
    telegram.refresh_from_db()
    assert telegram.digest == document_content_digest(telegram)  # the linked document is untouched


def test_a_registered_number_is_never_handed_out_again_by_its_series(world):
    # 内组电明字 is at 50 already (the series never moves back); 内教工委函 has not been used in 2022.
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=50)

    _register_seed(world)  # 内组电明字〔2022〕11号 and 内教工委函〔2022〕90号, issued on paper

    assert dict(NumberSeries.objects.filter(year=2022).values_list("prefix__prefix", "last_serial")) == {
        "内组电明字": 50,
        "内教工委函": 90,
    }
    telegram, _dispatch = issue(world.zzb, world.department, main=[world.education], number_year=2022)
    letter, _dispatch = issue(world.jygw, world.education, main=[world.university], number_year=2022)
    assert (telegram.number, letter.number) == ("内组电明字〔2022〕51号", "内教工委函〔2022〕91号")


def test_a_cover_letter_already_in_the_system_is_delivered_as_it_is(world):
    first = _register_seed(world)

    second = _register_seed(world, actor="univ_b_clerk", unit="university_b")

    assert second.created == []
    assert second.linked == [first.document]
    assert second.delivery.unit == world.university_b
    assert Delivery.objects.filter(document=first.document).count() == 2


def test_a_number_in_the_system_with_another_title_is_refused(world, nothing_written):
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=10)
    issue(world.zzb, world.department, main=[world.education], title="关于另一件事情的通知")

    with (
        nothing_written(),
        pytest.raises(Conflict, match=r"发文字号内组电明字〔2022〕11号在系统中是《关于另一件事情的通知》"),
    ):
        _register_seed(world)


def test_an_issuing_unit_missing_from_the_directory_is_refused_naming_the_file_and_the_organ(world, nothing_written):
    text = seed_text().replace("内组电明字〔2022〕11号", "外省电〔2022〕11号")

    with (
        nothing_written(),
        pytest.raises(
            InvalidInput,
            match=r"文件“seed\.txt”：发文机关“中共内蒙古自治区委员会组织部”（发文字号前缀外省电）不在单位目录中",
        ),
    ):
        _register_seed(world, text=text)


def test_an_issuing_unit_is_found_by_its_name_when_its_prefix_is_unknown(world):
    text = seed_text().replace("内组电明字〔2022〕11号", "自治区党委组织部电〔2022〕11号")
    text = text.replace("中共内蒙古自治区委员会组织部明传电报", "自治区党委组织部明传电报")

    registration = _register_seed(world, text=text)

    assert registration.created[0].issuing_unit == world.department


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("内教工委函〔2022〕90号", ""), r"文件“seed\.txt”：第3行起的公文没有找到发文字号，无法登记。"),
        (
            ("内教工委函〔2022〕90号", "内教工委函[22]90号"),
            r"文件“seed\.txt”：发文字号“内教工委函\[22\]90号”格式不正确",
        ),
        (("特 提", "特 急\n机密★1年"), r"文件“seed\.txt”：本系统不是涉密信息系统，不能处理机密公文。"),
    ],
)
def test_a_text_that_cannot_be_registered_is_refused_and_nothing_is_written(world, nothing_written, change, message):
    text = seed_text().replace(*change)

    with nothing_written(), pytest.raises(InvalidInput, match=message):
        _register_seed(world, text=text)


def test_a_clerk_of_another_unit_may_not_register_for_the_unit(world, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed, match="您不是内蒙古大学党委的收发员"):
        _register_seed(world, actor="other_clerk")


def test_a_unit_cannot_register_its_own_document_as_received(world, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput, match="内教工委函〔2022〕90号是自治区教育工委自己印发的公文"):
        _register_seed(world, actor="jygw", unit="education")


def test_the_system_registers_without_a_person(world):
    registration = _register_seed(world, actor=None)

    assert Dispatch.objects.get().issued_by is None
    assert registration.document.issued_by is None
    assert AuditEvent.objects.filter(verb=AuditVerb.DOCUMENT_REGISTERED, actor__isnull=True).count() == 3


def test_a_registered_document_is_seen_by_the_receiving_unit_signed_for_and_forwarded(world):
    registration = _register_seed(world)
    telegram = registration.created[0]

    visible = document_list_visible(world.imu)
    assert set(visible.filter(pk__in=[registration.document.pk, telegram.pk]).values_list("pk", flat=True)) == {
        registration.document.pk,
        telegram.pk,
    }
    assert not document_list_visible(world.other_clerk).filter(pk=telegram.pk).exists()
    receipt = services.delivery_sign_for(actor=world.imu, delivery_id=registration.delivery.pk)
    assert receipt.content_digest == registration.document.digest
    cover = services.document_forward(
        actor=world.imu, delivery=registration.delivery, main_recipients=[world.groups["各学院党委"]]
    )
    assert Enclosure.objects.filter(cover=cover, enclosed=telegram, depth=2).exists()


# --- Drafts from a file -------------------------------------------------------------------------------


def _telegram_received_by_education(world, *, sign: bool = True) -> Document:
    services.number_series_set(actor=None, prefix="内组电明字", year=2022, last_serial=10)
    telegram, _dispatch = issue(
        world.zzb, world.department, main=[world.groups["各直属党委"]], title=TITLE, kind=Kind.TELEGRAM, urgency="特提"
    )
    if sign:
        services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(telegram, world.education).pk)
    return telegram


def _draft_seed(world, *, actor="jygw", unit="education"):
    return services.document_register_draft(
        actor=world.people[actor], unit=getattr(world, unit), parsed=parse_text(seed_text()), source=SEED
    )


def test_a_forwarding_text_becomes_a_draft_that_encloses_the_received_document(world):
    telegram = _telegram_received_by_education(world)

    registration = _draft_seed(world)

    draft = registration.document
    assert (draft.state, draft.issuing_unit, draft.title) == (Document.State.DRAFT, world.education, COVER_TITLE)
    assert (draft.number_prefix, draft.number_serial) == ("内教工委函", None)  # numbered at issue
    assert registration.linked == [telegram]
    assert list(Enclosure.objects.filter(cover=draft).values_list("enclosed_id", "depth")) == [
        (draft.pk, 0),
        (telegram.pk, 1),
    ]
    forward = Forward.objects.get(cover=draft)
    assert (forward.source_delivery, forward.chain_root, forward.depth) == (
        delivery_of(telegram, world.education),
        telegram,
        1,
    )
    # 各高等学校党委 is the name of the education committee's own recipient group.
    assert list(draft.recipients.values_list("role", "group__name")) == [("主送", "各高等学校党委")]
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.verb, event.document_id, event.payload["encloses"]) == (
        AuditVerb.DOCUMENT_DRAFTED,
        draft.pk,
        ["内组电明字〔2022〕11号"],
    )


def test_a_draft_from_a_file_goes_through_sign_off_and_issue_like_any_draft(world):
    _telegram_received_by_education(world)
    services.number_series_set(actor=None, prefix="内教工委函", year=2022, last_serial=89)
    draft = _draft_seed(world).document

    services.document_sign_off(actor=world.jygw_leader, document=draft)
    dispatch = services.document_issue(actor=world.jygw, document=draft, number_year=2022)

    draft.refresh_from_db()
    assert draft.number == "内教工委函〔2022〕90号"
    assert sorted(dispatch.main_unit_ids) == sorted([world.university.pk, world.university_b.pk])


def test_a_draft_may_not_forward_what_was_never_delivered_to_the_unit(world, nothing_written):
    _telegram_received_by_education(world)

    stranger = person(world.university, Role.DRAFTER)

    with nothing_written(), pytest.raises(InvalidInput, match="内组电明字〔2022〕11号没有送达内蒙古大学党委，不能转发"):
        services.document_register_draft(
            actor=stranger, unit=world.university, parsed=parse_text(seed_text()), source=SEED
        )


def test_a_draft_may_not_forward_what_was_not_signed_for(world, nothing_written):
    _telegram_received_by_education(world, sign=False)

    with nothing_written(), pytest.raises(Conflict, match="内组电明字〔2022〕11号尚未签收"):
        _draft_seed(world)


def test_a_forwarded_document_missing_from_the_system_is_reported_not_invented(world):
    registration = _draft_seed(world)

    assert registration.not_found == ["内组电明字〔2022〕11号"]
    assert Enclosure.objects.filter(cover=registration.document).count() == 1  # itself only
    assert not Forward.objects.filter(cover=registration.document).exists()


def test_a_drafter_of_another_unit_may_not_draft_for_the_unit(world, nothing_written):
    stranger = person(world.university, Role.DRAFTER)

    with nothing_written(), pytest.raises(NotAllowed, match="您不是自治区教育工委的拟稿人或收发员"):
        services.document_register_draft(
            actor=stranger, unit=world.education, parsed=parse_text(seed_text()), source=SEED
        )


def test_recipient_names_that_match_nothing_are_reported(world):
    parsed = parse_text(seed_text().replace("各高等学校党委：", "各高等学校党委、内蒙古大学党委、各盟市教育局："))

    registration = services.document_register_draft(actor=world.jygw, unit=world.education, parsed=parsed, source=SEED)

    assert registration.unresolved_recipients == ["各盟市教育局"]
    assert list(registration.document.recipients.values_list("group__name", "unit__name")) == [
        ("各高等学校党委", None),
        (None, "内蒙古大学党委"),
    ]
