"""How a unit prints, set by the administrator: its Mongolian name and its seal image
(unit_letterhead_set), in the service, through the admin's unit page, and on a sealed document's PDF."""

import hashlib
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from tests.documents.pdf_measure import page_images
from tests.factories import UserFactory, issue
from tests.web.conftest import sign_in
from units.errors import InvalidInput, NotAllowed
from units.models import Unit
from workflow import services
from workflow.models import AuditEvent, AuditVerb

MONGOLIAN = "ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ"
SEAL_NOTE = "内蒙古自治区党委组织部印"


def seal_png(size=(300, 300), *, mode="RGBA", ground=(0, 0, 0, 0), image_format="PNG") -> bytes:
    """A red ring on `ground` (transparent unless given), as an office scans its seal."""
    image = Image.new("RGBA", size, ground)
    ImageDraw.Draw(image).ellipse((4, 4, size[0] - 4, size[1] - 4), outline=(230, 0, 18, 255), width=8)
    data = io.BytesIO()
    image.convert(mode).save(data, format=image_format)
    return data.getvalue()


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: random RGBA pixels, some of them transparent."""
    data = io.BytesIO()
    Image.frombytes("RGBA", (side, side), random.Random(13).randbytes(side * side * 4)).save(data, format="PNG")
    return data.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def admin_user(world):
    return UserFactory(username="root-admin", is_staff=True, is_superuser=True)


def _stored_files(media) -> list[str]:
    return sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file())


def _event() -> AuditEvent:
    return AuditEvent.objects.get(verb=AuditVerb.UNIT_LETTERHEAD_SET)


def _set(actor, unit, **changes) -> bool:
    return services.unit_letterhead_set(actor=actor, unit=unit, **{"mongolian_name": unit.mongolian_name, **changes})


# The service ---------------------------------------------------------------------------------------


def test_the_name_and_the_seal_are_set_and_audited_without_the_image(world, media, admin_user):
    png = seal_png()
    sha256 = hashlib.sha256(png).hexdigest()

    assert _set(admin_user, world.department, mongolian_name=MONGOLIAN, seal_png=png) is True

    unit = Unit.objects.get(pk=world.department.pk)
    assert unit.mongolian_name == MONGOLIAN
    assert unit.seal_image.name == f"seals/{unit.pk}-{sha256[:12]}.png"
    assert (media / unit.seal_image.name).read_bytes() == png
    assert world.department.seal_image.name == unit.seal_image.name  # the caller's unit follows
    event = _event()
    assert (event.actor_id, event.unit_id, event.object_id) == (admin_user.pk, unit.pk, str(unit.pk))
    assert event.payload == {
        "mongolian_name": MONGOLIAN,
        "seal": {"sha256": sha256, "size": len(png), "width": 300, "height": 300},
    }


def test_a_new_seal_replaces_the_old_whose_file_goes_once_committed(
    world, media, admin_user, django_capture_on_commit_callbacks
):
    old, new = seal_png(), seal_png((320, 320))
    _set(admin_user, world.department, seal_png=old)
    old_name = Unit.objects.get(pk=world.department.pk).seal_image.name

    with django_capture_on_commit_callbacks(execute=True):
        assert _set(admin_user, world.department, seal_png=new) is True

    unit = Unit.objects.get(pk=world.department.pk)
    assert unit.seal_image.name == f"seals/{unit.pk}-{hashlib.sha256(new).hexdigest()[:12]}.png"
    assert _stored_files(media) == [unit.seal_image.name] != [old_name]
    assert AuditEvent.objects.filter(verb=AuditVerb.UNIT_LETTERHEAD_SET).latest("seq").payload["seal"]["width"] == 320


def test_removing_the_seal_clears_it_and_its_file(world, media, admin_user, django_capture_on_commit_callbacks):
    _set(admin_user, world.department, seal_png=seal_png())

    with django_capture_on_commit_callbacks(execute=True):
        assert _set(admin_user, world.department, remove_seal=True) is True

    assert not Unit.objects.get(pk=world.department.pk).seal_image
    assert _stored_files(media) == []
    assert AuditEvent.objects.filter(verb=AuditVerb.UNIT_LETTERHEAD_SET).latest("seq").payload == {
        "mongolian_name": "",
        "seal": "removed",
    }


def test_nothing_changes_nothing_is_written(world, media, admin_user, nothing_written):
    png = seal_png()
    _set(admin_user, world.department, mongolian_name=MONGOLIAN, seal_png=png)
    files = _stored_files(media)

    with nothing_written():
        assert _set(admin_user, world.department, mongolian_name=MONGOLIAN) is False
        assert _set(admin_user, world.department, mongolian_name=f" {MONGOLIAN} ", seal_png=png) is False
        assert _set(admin_user, world.education, remove_seal=True) is False  # it has none
    assert _stored_files(media) == files


@pytest.mark.parametrize(
    ("png", "message"),
    [
        (b"not an image at all", "印章图像不是图片文件，请上传 PNG 图像。"),
        (seal_png(mode="RGB", image_format="JPEG"), "印章图像须为 PNG 格式（此文件是 JPEG）。"),
        (seal_png(mode="RGB"), "印章图像须为透明底（带透明通道的 PNG），此图没有透明部分。"),
        (seal_png(ground=(255, 255, 255, 255)), "印章图像须为透明底（带透明通道的 PNG），此图没有透明部分。"),
        (noise_png(800), "印章图像不能超过 2 MB（此文件 2.4 MB）。"),
        (seal_png((150, 150)), "印章图像的边长须在 200 至 4000 像素之间（此图 150×150）。"),
        (seal_png((4200, 4200)), "印章图像的边长须在 200 至 4000 像素之间（此图 4200×4200）。"),
        (seal_png((300, 400)), "印章图像须接近正方形（按 42 毫米见方印出；此图 300×400）。"),
    ],
    ids=["not-an-image", "jpeg-named-png", "rgb", "opaque-ground", "too-large", "too-small", "too-big", "oblong"],
)
def test_a_bad_seal_is_refused_by_name_and_nothing_is_written(world, media, admin_user, nothing_written, png, message):
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        _set(admin_user, world.department, mongolian_name=MONGOLIAN, seal_png=png)
    assert refused.value.message == message
    assert _stored_files(media) == []


def test_a_seal_with_a_transparent_palette_colour_is_taken(world, media, admin_user):
    assert _set(admin_user, world.department, seal_png=seal_png(mode="P")) is True  # tRNS, no alpha channel


def test_a_name_in_another_script_or_a_seal_both_given_and_removed_is_refused(
    world, media, admin_user, nothing_written
):
    with nothing_written():
        with pytest.raises(InvalidInput, match="蒙古文名称只能包含蒙古文字符"):
            _set(admin_user, world.department, mongolian_name="Mongol Ulus")
        with pytest.raises(InvalidInput, match="不能同时上传新印章图像和删除印章图像"):
            _set(admin_user, world.department, seal_png=seal_png(), remove_seal=True)
    assert _stored_files(media) == []


@pytest.mark.parametrize("person", ["zzb", "zzb_leader", "auditor"])
def test_only_an_administrator_sets_a_letterhead(world, media, nothing_written, person):
    with nothing_written(), pytest.raises(NotAllowed, match="只有系统管理员"):
        _set(world.people[person], world.department, mongolian_name=MONGOLIAN, seal_png=seal_png())
    assert _stored_files(media) == []


def test_a_failed_audit_leaves_no_file_behind(world, media, admin_user, monkeypatch):
    from workflow.services import directory

    def refuse(**_kwargs):
        raise RuntimeError("audit refused")

    monkeypatch.setattr(directory, "audit_record", refuse)
    with pytest.raises(RuntimeError):
        _set(admin_user, world.department, seal_png=seal_png())
    assert _stored_files(media) == []
    assert not Unit.objects.get(pk=world.department.pk).seal_image


# The admin -----------------------------------------------------------------------------------------


def _change_url(unit: Unit) -> str:
    return reverse("admin:units_unit_change", args=[unit.pk])


def change_form(client, unit: Unit, **fields) -> dict:
    """A unit's change page as a browser posts it: its Mongolian name, with the management forms of
    the read-only inlines (number prefixes, roles) the page holds, and `fields`."""
    inlines = client.get(_change_url(unit)).context["inline_admin_formsets"]
    data = {"mongolian_name": unit.mongolian_name, **fields}
    for inline in inlines:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    return data


def test_the_admin_sets_the_name_and_the_seal_through_the_service_and_shows_the_seal(client, world, media, admin_user):
    sign_in(client, admin_user)
    url = _change_url(world.department)
    page = client.get(url).content.decode()
    assert "未上传（加盖印章的公文不印印章）" in page
    assert 'enctype="multipart/form-data"' in page

    png = seal_png()
    response = client.post(
        url,
        change_form(client, world.department, mongolian_name=MONGOLIAN, seal_png=SimpleUploadedFile("印章.png", png)),
    )

    assert response.status_code == 302
    unit = Unit.objects.get(pk=world.department.pk)
    assert (unit.mongolian_name, (media / unit.seal_image.name).read_bytes()) == (MONGOLIAN, png)
    assert _event().actor_id == admin_user.pk
    shown = client.get(url).content.decode()
    assert '<img src="data:image/png;base64,' in shown
    assert MONGOLIAN in shown


def test_the_admin_removes_the_seal(client, world, media, admin_user):
    _set(admin_user, world.department, seal_png=seal_png())
    sign_in(client, admin_user)

    response = client.post(_change_url(world.department), change_form(client, world.department, remove_seal="on"))

    assert response.status_code == 302
    assert not Unit.objects.get(pk=world.department.pk).seal_image


def test_the_admin_shows_a_refusal_on_the_form_and_writes_nothing(client, world, media, admin_user, nothing_written):
    sign_in(client, admin_user)
    jpeg = SimpleUploadedFile("印章.png", seal_png(mode="RGB", image_format="JPEG"))

    with nothing_written():
        response = client.post(_change_url(world.department), change_form(client, world.department, seal_png=jpeg))

    assert response.status_code == 200
    assert "印章图像须为 PNG 格式（此文件是 JPEG）。" in response.content.decode()
    assert _stored_files(media) == []


def test_the_admin_keeps_the_units_identity_read_only(client, world, media, admin_user):
    sign_in(client, admin_user)
    posted = change_form(client, world.department, name="改名", short_name="改名", mongolian_name=MONGOLIAN)
    assert client.post(_change_url(world.department), posted).status_code == 302
    assert Unit.objects.filter(pk=world.department.pk).values_list("name", "short_name", "mongolian_name").get() == (
        "自治区党委组织部",
        world.department.short_name,
        MONGOLIAN,
    )


@pytest.mark.parametrize("person", [None, "zzb", "zzb_leader", "auditor", "staff"])
def test_nobody_but_an_administrator_reaches_the_letterhead(client, world, media, nothing_written, person):
    if person == "staff":  # staff, but no administrator
        sign_in(client, UserFactory(username="staff", is_staff=True))
    elif person:
        sign_in(client, world.people[person])
    url = _change_url(world.department)
    upload = SimpleUploadedFile("印章.png", seal_png())

    with nothing_written():
        shown = client.get(url)
        posted = client.post(url, {"mongolian_name": MONGOLIAN, "seal_png": upload})

    for response in (shown, posted):
        if person == "staff":
            assert response.status_code == 403
        else:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
    assert _stored_files(media) == []


# In print ------------------------------------------------------------------------------------------


def test_the_seal_set_in_the_admin_prints_on_a_sealed_documents_pdf(client, world, media, admin_user):
    sealed, _dispatch = issue(world.zzb, world.department, main=[world.education], seal_note=SEAL_NOTE)
    unsealed, _dispatch = issue(world.zzb, world.department, main=[world.education])
    sign_in(client, admin_user)
    client.post(
        _change_url(world.department),
        change_form(client, world.department, seal_png=SimpleUploadedFile("s.png", seal_png())),
    )

    sign_in(client, world.zzb)
    pdfs = [client.get(reverse("document-pdf", args=[document.pk])).content for document in (sealed, unsealed)]

    [[seal]] = page_images(pdfs[0])
    assert (seal.right - seal.left, seal.bottom - seal.top) == (pytest.approx(42, abs=0.1), pytest.approx(42, abs=0.1))
    assert page_images(pdfs[1]) == [[]]
