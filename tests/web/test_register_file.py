"""登记来文 on the page (issue 12): the clerk uploads what arrived, sees each finding of the importer
beside the field it is about, corrects, and registers; the original file is kept with the
registration, behind its own door."""

import datetime
import hashlib
import re

import pytest
import time_machine
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Document, ImportedSource
from tests.documents.importing_helpers import seed_bytes
from tests.web.conftest import sign_in
from workflow.models import AuditEvent, AuditVerb, Delivery

COVER_NUMBER = "内教工委函〔2022〕90号"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(client, unit, data: bytes | None = None, name: str = "来文.txt"):
    return client.post(
        reverse("register-file") + f"?unit={unit.pk}",
        {"unit": unit.pk, "file": SimpleUploadedFile(name, seed_bytes() if data is None else data)},
    )


def _as_read(review, **changes) -> dict:
    """The review form posted as the importer read it, with `changes`."""
    form = review.context["form"]
    data = {}
    for name in ("token", *form.FIELDS):
        value = form[name].value()
        if isinstance(value, list):
            value = "\n".join(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = "" if value is None else value
    data.update(changes)
    return data


def _kept_files(media) -> list[str]:
    return sorted(path.name for path in media.rglob("*") if path.is_file())


def test_the_review_shows_what_was_read_and_each_finding_beside_its_field(client, world, media, nothing_written):
    sign_in(client, world.imu)

    with nothing_written():
        review = _upload(client, world.university)

    assert review.status_code == 200
    html = review.content.decode()
    form = review.context["form"]
    assert (form["number"].value(), form["urgency"].value()) == (COVER_NUMBER, None)
    assert form["title"].value().startswith("中共内蒙古自治区教育工作委员会转发关于进一步发挥")
    assert form["main_recipients"].value() == "各高等学校党委"
    # The cover letter printed no date: the finding stands beside 成文日期, and the field says so.
    warnings = re.search(r'<ul class="findings" id="review-date-warnings">(.*?)</ul>', html, re.DOTALL).group(1)
    assert re.findall(r'<li class="finding">.*?</span> (.*?)</li>', warnings) == ["第15行：未找到成文日期"]
    assert 'aria-describedby="review-date-warnings"' in html
    assert form.warnings == {"date": ["第15行：未找到成文日期"]}
    # The enclosed telegram is announced; the file waits in storage under its digest.
    assert "文中另附 1 份公文" in html
    assert "内组电明字〔2022〕11号" in html
    assert _kept_files(media) == [hashlib.sha256(seed_bytes()).hexdigest()]


def test_registering_keeps_the_corrections_and_the_original(client, world, media):
    sign_in(client, world.imu)
    review = _upload(client, world.university, name="教育工委转发通知.txt")

    response = client.post(reverse("register-file-confirm"), _as_read(review, date="2022-10-13"))

    cover = Document.objects.get(number_prefix="内教工委函")
    delivery = Delivery.objects.get(document=cover, unit=world.university)
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery", args=[delivery.pk])
    assert (cover.written_on, cover.state, delivery.state) == (datetime.date(2022, 10, 13), "issued", "pending")
    source = ImportedSource.objects.get(document=cover)
    correction = {"date": {"read": None, "entered": "2022-10-13"}}
    assert (source.corrections, source.imported_by, source.file_name) == (correction, world.imu, "教育工委转发通知.txt")
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_REGISTERED, object_type="Document", object_id=cover.pk)
    assert event.payload["corrected"] == correction
    assert event.actor == world.imu
    # The enclosed telegram was registered as read, and no correction is recorded for it.
    telegram = Document.objects.get(number_prefix="内组电明字")
    assert ImportedSource.objects.get(document=telegram).corrections == {}

    page = client.get(response["Location"]).content.decode()
    original = reverse("imported-original", args=[source.pk])
    assert f'href="{original}"' in page
    assert "成文日期：— → 2022-10-13" in page
    download = client.get(original)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == seed_bytes()
    assert download["Content-Disposition"].endswith(
        "filename*=utf-8''%E6%95%99%E8%82%B2%E5%B7%A5%E5%A7%94%E8%BD%AC%E5%8F%91%E9%80%9A%E7%9F%A5.txt"
    )


def test_a_corrected_title_and_number_are_what_is_registered(client, world, media):
    sign_in(client, world.imu)
    review = _upload(client, world.university)
    title = "中共内蒙古自治区教育工作委员会关于转发疫情防控文件的通知"

    client.post(reverse("register-file-confirm"), _as_read(review, title=title, number="内教工委函[2022]91号"))

    cover = Document.objects.get(number_prefix="内教工委函")
    assert (cover.number, cover.title, cover.kind, cover.title_breaks) == ("内教工委函〔2022〕91号", title, "通知", [])
    assert set(ImportedSource.objects.get(document=cover).corrections) == {"title", "number"}


def test_a_form_that_does_not_fit_comes_back_with_the_reason_and_nothing_is_written(
    client, world, media, nothing_written
):
    sign_in(client, world.imu)
    review = _upload(client, world.university)

    with nothing_written():
        response = client.post(reverse("register-file-confirm"), _as_read(review, number="九十号", title="转发文件"))

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {
        "number": ["发文字号应为“机关代字〔年份〕序号号”，例如 内教工委函〔2022〕90号。"],
        "title": ["标题应以文种结尾（如 …的通知、…的函），请按来文填写。"],
    }
    assert form.warnings["date"] == ["第15行：未找到成文日期"]  # the findings stay beside their fields


def test_an_issuer_not_in_the_directory_is_refused_by_name_and_nothing_is_written(
    client, world, media, nothing_written
):
    sign_in(client, world.imu)
    review = _upload(client, world.university)

    with nothing_written():
        response = client.post(reverse("register-file-confirm"), _as_read(review, number="京教函〔2022〕9号"))

    assert response.status_code == 400
    (error,) = response.context["form"].non_field_errors()
    assert "不在单位目录中" in error
    assert "京教函" in error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "所提交的是空文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "旧版 Word（.doc）格式"),
        (b"%PDF-1.7 not really", "不是可读的 PDF"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_by_name_and_nothing_is_kept(
    client, world, media, nothing_written, data, message
):
    sign_in(client, world.imu)

    with nothing_written():
        response = _upload(client, world.university, data=data, name="来文.doc")

    assert response.status_code == 400
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1
    assert message in errors[0], errors
    assert _kept_files(media) == []


def test_a_forged_or_borrowed_token_is_a_404_and_nothing_is_written(client, world, media, nothing_written):
    sign_in(client, world.imu)
    review = _upload(client, world.university)
    data = _as_read(review)
    forged = dict(data, token=data["token"][:-2] + "xx")
    other_file = dict(
        data,
        token=signing.dumps(
            {**signing.loads(data["token"], salt="web.receiving.file"), "sha256": "0" * 64}, salt="web.receiving.file"
        ),
    )

    with nothing_written():
        assert client.post(reverse("register-file-confirm"), forged).status_code == 404
        assert client.post(reverse("register-file-confirm"), other_file).status_code == 404
        sign_in(client, world.univ_b_clerk)  # another clerk, with the first one's form
        assert client.post(reverse("register-file-confirm"), data).status_code == 404


def test_an_old_review_form_asks_for_the_file_again_and_nothing_is_written(client, world, media, nothing_written):
    sign_in(client, world.imu)
    with time_machine.travel(datetime.datetime(2026, 11, 30, 9, tzinfo=datetime.UTC), tick=False):
        review = _upload(client, world.university)

    with time_machine.travel(datetime.datetime(2026, 11, 30, 22, tzinfo=datetime.UTC), tick=False), nothing_written():
        response = client.post(reverse("register-file-confirm"), _as_read(review), follow=True)

    assert response.redirect_chain == [(reverse("register-file"), 302)]
    assert "登记表已过期，请重新上传来文文件。" in response.content.decode()


def test_only_a_clerk_registers_and_only_for_their_own_unit(client, world, media, nothing_written):
    sign_in(client, world.imu_signer)  # a signer of the university, not its clerk
    assert client.get(reverse("register-file")).status_code == 404
    assert 'href="/register/"' not in client.get(reverse("inbox")).content.decode()
    sign_in(client, world.imu)
    assert 'href="/register/"' in client.get(reverse("inbox")).content.decode()
    with nothing_written():
        response = _upload(client, world.education)  # the parent unit's register
    assert response.status_code == 404
    assert _kept_files(media) == []
    client.logout()
    response = client.get(reverse("register-file"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.fixture
def registered(client, world, media):
    sign_in(client, world.imu)
    client.post(reverse("register-file-confirm"), _as_read(_upload(client, world.university), date="2022-10-13"))
    client.logout()
    return ImportedSource.objects.get(document__number_prefix="内教工委函")


@pytest.mark.parametrize(
    ("who", "reaches"),
    [
        ("imu", True),  # the registering unit's clerk
        ("imu_signer", True),  # and its other people
        ("auditor", True),  # an auditor whose scope holds the university
        ("jygw", False),  # the issuer of the cover letter: not the university's file
        ("univ_b_clerk", False),  # another university
        ("college_clerk", False),  # a unit under the university
        ("other_auditor", False),  # an auditor of another subtree
        ("other_clerk", False),
    ],
)
def test_the_original_is_for_the_registering_unit_and_its_auditors(client, world, registered, who, reaches):
    sign_in(client, getattr(world, who))
    response = client.get(reverse("imported-original", args=[registered.pk]))
    assert response.status_code == (200 if reaches else 404), who


def test_the_original_is_not_for_anonymous(client, registered):
    response = client.get(reverse("imported-original", args=[registered.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
