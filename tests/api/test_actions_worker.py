"""Two levels of a chain driven through the API alone, routed by a real Celery worker over Redis.

The organisation department's OA drafts and issues (a person signs off); the worker creates the
deliveries; the education committee's system signs for, forwards to a university (its signer signs
the cover off) and issues the cover; the worker routes it; the university completes and the other
committee returns. No eager mode, nothing mocked: the test commits, a `celery worker` process acts.
"""

import pytest

from tests.worker import Worker, wait_until
from workflow.models import Delivery, Dispatch

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    mail_dir = tmp_path_factory.mktemp("api-worker") / "mail"
    mail_dir.mkdir()
    with django_db_blocker.unblock():
        process = Worker(queues="urgent,routine,control", mail_dir=mail_dir)
    yield process
    process.stop()


def _routed(dispatch_id: int) -> bool:
    return Dispatch.objects.filter(pk=dispatch_id, routed_at__isnull=False).exists()


def _ok(response, status: int) -> dict:
    assert response.status_code == status, response.json()
    return response.json()


def test_a_chain_is_drafted_issued_forwarded_and_handled_through_the_api(committed_world, api, make_client, worker):
    world = committed_world
    _oa, oa = make_client(world.department, "draft", "issue", name="组织部OA")
    _edu, edu = make_client(world.education, "sign-for", "handle", "issue", name="教育工委收发系统")
    _univ, univ = make_client(world.university, "sign-for", "handle", name="内大收发系统")
    _other, other = make_client(world.other, "handle", name="直属工委系统")

    draft = {"kind": "通知", "title": "关于做好换届工作的通知", "body": "请做好换届工作。", "urgency": "特急"}
    draft["main_groups"] = [world.groups["各直属党委"].pk]
    document = _ok(api.post("/api/v1/documents", oa, draft), 201)
    _ok(api.post(f"/api/v1/documents/{document['id']}/sign-off", world.zzb_leader), 200)
    dispatch = _ok(api.post(f"/api/v1/documents/{document['id']}/issue", oa, headers={"Idempotency-Key": "i-1"}), 201)
    assert (dispatch["recipient_count"], dispatch["routed_at"]) == (2, None)

    assert wait_until(lambda: _routed(dispatch["id"]), timeout=60)
    to_education = Delivery.objects.get(dispatch_id=dispatch["id"], unit=world.education)
    to_other = Delivery.objects.get(dispatch_id=dispatch["id"], unit=world.other)

    _ok(api.post(f"/api/v1/deliveries/{to_education.pk}/sign-for", edu), 200)
    cover = _ok(
        api.post(f"/api/v1/deliveries/{to_education.pk}/forward", edu, {"main_units": [world.university.pk]}), 201
    )
    assert cover["forward"]["encloses"]["id"] == document["id"]
    _ok(api.post(f"/api/v1/documents/{cover['id']}/sign-off", world.jygw_leader), 200)
    cover_dispatch = _ok(api.post(f"/api/v1/documents/{cover['id']}/issue", edu), 201)
    _ok(api.post(f"/api/v1/deliveries/{to_other.pk}/return", other, {"reason": "not_competent"}), 201)

    assert wait_until(lambda: _routed(cover_dispatch["id"]), timeout=60)
    to_university = Delivery.objects.get(dispatch_id=cover_dispatch["id"], unit=world.university)
    _ok(api.post(f"/api/v1/deliveries/{to_university.pk}/sign-for", univ), 200)
    _ok(api.post(f"/api/v1/deliveries/{to_university.pk}/complete", univ, {"feedback": "已完成换届。"}), 201)

    states = {(d.document_id, d.unit.name): d.state for d in Delivery.objects.select_related("unit")}
    assert states == {
        (document["id"], "自治区教育工委"): "signed",
        (document["id"], "自治区直属机关工委"): "returned",
        (cover["id"], "内蒙古大学党委"): "completed",
    }
