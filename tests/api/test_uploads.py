"""A body past the upload limit is a 413 problem in JSON, never the pages' HTML, and nothing is kept."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import IdempotencyKey
from tests.api.conftest import bearer
from tests.factories import delivery_of, issue

pytestmark = pytest.mark.django_db


def test_files_past_the_request_limit_are_refused_with_413(world, client, settings, nothing_written):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1024
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    url = f"/api/v1/deliveries/{delivery.pk}/sign-for"

    with nothing_written():
        response = client.post(
            url,
            {"file": SimpleUploadedFile("big.pdf", b"x" * 4096, content_type="application/pdf")},
            headers={**bearer(world.jygw), "Idempotency-Key": "upload-1"},
        )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "/api/v1/problems/too-large",
        "title": "请求体过大",
        "status": 413,
        "detail": "本次提交的文件合计超过上限 1 KB（每个文件不超过 20 MB），没有保存任何内容。",
        "instance": url,
    }
    assert not IdempotencyKey.objects.exists()


def test_a_json_body_past_djangos_limit_is_refused_with_413(world, client, settings, nothing_written):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with nothing_written():
        response = client.post(
            "/api/v1/deliveries/1/sign-for",
            '{"padding": "' + "x" * 200 + '"}',
            content_type="application/json",
            headers={**bearer(world.jygw), "Idempotency-Key": "json-1"},
        )
    assert response.status_code == 413
    assert response.json()["type"] == "/api/v1/problems/too-large"
