"""The files of one request together are capped (UPLOAD_MAX_REQUEST_BYTES): past it, a 413 page that
names the limit, and nothing written, neither rows nor temporary files."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import reverse

from documents.models import Document
from tests.factories import delivery_of, issue
from tests.web.conftest import sign_in
from workflow import services
from workflow.models import Completion

KiB = 1024
REFUSAL = "本次提交的文件合计超过上限 10 KB（每个文件不超过 20 MB），没有保存任何内容。请减少或压缩附件后重新提交。"


@pytest.fixture(autouse=True)
def _limits(settings, tmp_path):
    settings.UPLOAD_MAX_REQUEST_BYTES = 10 * KiB
    settings.MEDIA_ROOT = tmp_path / "media"
    # Every file to a temporary file of its own, in a folder the tests can look into.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()


def _files(*sizes: int) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"附件{index}.txt", b"a" * size) for index, size in enumerate(sizes, 1)]


def _draft(files) -> dict:
    return {
        "kind": "通知",
        "urgency": "普通",
        "classification": "公开",
        "number_prefix": "内组字",
        "written_on": "2022-10-13",
        "title": "关于报送材料的通知",
        "body": "请按附件报送。",
        "main_units": [],
        "attachments": files,
    }


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_draft_whose_files_together_pass_the_limit_is_refused_and_nothing_is_kept(
    client, world, settings, nothing_written
):
    sign_in(client, world.zzb)
    data = _draft(_files(4 * KiB, 4 * KiB, 4 * KiB))  # each under every limit, together 12 KiB
    data["main_units"] = [world.education.pk]
    new = reverse("document-new")

    with nothing_written():
        response = client.post(new, data, headers={"referer": f"http://testserver{new}"})

    assert response.status_code == 413
    assert REFUSAL in _text(response)
    assert "<title>上传的文件过大 · 公文流转</title>" in response.content.decode()
    assert f'<a href="http://testserver{new}">返回上一页</a>' in response.content.decode()
    assert list(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == []  # the file being received was removed too


def test_a_completion_whose_files_together_pass_the_limit_is_refused_and_nothing_is_kept(
    client, world, settings, nothing_written
):
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    sign_in(client, world.jygw)

    with nothing_written():
        response = client.post(
            reverse("delivery-complete", args=[delivery.pk]),
            {"feedback": "已传达到各高校。", "attachments": _files(6 * KiB, 6 * KiB)},
        )

    assert response.status_code == 413
    assert REFUSAL in _text(response)
    assert f'<a href="{reverse("inbox")}">返回上一页</a>' in response.content.decode()  # no referer: the inbox
    assert Completion.objects.filter(delivery=delivery).exists() is False
    assert list(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == []


def test_the_refusal_is_in_english_for_who_chose_english(client, world, settings, nothing_written):
    sign_in(client, world.zzb)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = _draft(_files(4 * KiB, 4 * KiB, 4 * KiB))
    data["main_units"] = [world.education.pk]

    with nothing_written():
        response = client.post(reverse("document-new"), data)

    assert response.status_code == 413
    assert (
        "The files of this submission together exceed the limit of 10 KB (each file at most 20 MB); nothing was "
        "saved. Attach fewer or smaller files and submit again."
    ) in _text(response)


def test_a_request_whose_length_already_says_too_much_is_refused_before_its_body_is_read(
    client, world, settings, nothing_written
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the most the form's fields may add to the files
    sign_in(client, world.zzb)
    data = _draft(_files(100))
    data["main_units"] = [world.education.pk]
    body = encode_multipart(BOUNDARY, data)
    payload = FakePayload(body)  # a body of a few hundred bytes, whose length is declared as more

    with nothing_written():
        response = client.generic(
            "POST",
            reverse("document-new"),
            body,
            content_type=MULTIPART_CONTENT,
            **{"wsgi.input": payload, "CONTENT_LENGTH": str(10 * KiB + 1000 + 1)},
        )

    assert response.status_code == 413
    assert REFUSAL in _text(response)
    assert payload.read_started is False


def test_files_up_to_the_limit_together_go_through_unchanged(client, world):
    sign_in(client, world.zzb)
    files = [SimpleUploadedFile(f"名单{index}.txt", bytes([48 + index]) * 5 * KiB) for index in (1, 2)]
    data = _draft(files)  # together exactly the limit
    data["main_units"] = [world.education.pk]

    response = client.post(reverse("document-new"), data)

    document = Document.objects.get(title="关于报送材料的通知")
    assert response.status_code == 302
    assert [(a.name, a.size, a.sha256) for a in document.attachments.order_by("position")] == [
        ("名单1.txt", 5 * KiB, hashlib.sha256(b"1" * 5 * KiB).hexdigest()),
        ("名单2.txt", 5 * KiB, hashlib.sha256(b"2" * 5 * KiB).hexdigest()),
    ]


def test_without_the_middleware_a_view_still_never_sees_a_form_cut_short(client, world, settings, nothing_written):
    """Django's StopUpload would hand the view the fields and files read so far, and the draft would
    be saved without its last files: the handler's refusal leaves the form unreadable instead."""
    settings.MIDDLEWARE = [entry for entry in settings.MIDDLEWARE if entry != "web.uploads.UploadLimitMiddleware"]
    sign_in(client, world.zzb)
    data = _draft(_files(4 * KiB, 4 * KiB, 4 * KiB))
    data["main_units"] = [world.education.pk]

    with nothing_written():
        response = client.post(reverse("document-new"), data)

    assert response.status_code == 400


def test_the_forms_say_the_limit_of_one_submission(client, world):
    sign_in(client, world.zzb)

    page = _text(client.get(reverse("document-new")))

    assert "每个文件不超过 20 MB，一次合计不超过 10 KB，类型：" in page
