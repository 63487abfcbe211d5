"""Fifty concurrent sign-fors of one delivery over HTTP, through gunicorn: one receipt."""

import http.client
import json
import threading

import pytest

from tests.factories import delivery_of, issue
from tests.fault.conftest import REPORT
from tests.worker import Gunicorn
from workflow.api import api_token_for
from workflow.models import AuditEvent, AuditVerb, Receipt

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

CLIENTS = 50


@pytest.fixture
def gunicorn(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        server = Gunicorn(log_dir=tmp_path, workers=4, extra_env={"SECURE_SSL_REDIRECT": "0"})
    yield server
    server.stop()


def test_fifty_concurrent_sign_fors_over_http_make_one_receipt(committed_world, gunicorn):
    world = committed_world
    document, _dispatch = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(document, world.education)
    token = api_token_for(world.jygw)
    barrier = threading.Barrier(CLIENTS)
    answers, errors = [], []

    def sign():
        try:
            client = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=30)
            barrier.wait()
            client.request(
                "POST", f"/api/deliveries/{delivery.pk}/sign-for", headers={"Authorization": f"Bearer {token}"}
            )
            response = client.getresponse()
            answers.append((response.status, json.loads(response.read())["receipt"]["id"]))
            client.close()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=sign) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    receipt = Receipt.objects.get(delivery=delivery)
    assert answers == [(200, receipt.pk)] * CLIENTS
    assert AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_SIGNED).count() == 1
    REPORT.append(f"{CLIENTS} concurrent sign-fors over HTTP (gunicorn, 4 workers): 1 receipt, 1 audit event")
