"""撤回 takes the document away (issue 10): every door answers the recipient with the stub.

The department's telegram (with an attachment) reached education, which signed for it and forwarded
it to the universities; university signed for the forward. Then the department recalled its
delivery to education. Education and the universities below it keep only the stub — number, title,
已撤回, who recalled it, when and why — on every page, download, list and API answer, and nothing
they do is recorded as a reading. The department and the auditor still see everything.
"""

import re

import pytest
from django.urls import reverse

from tests.factories import delivery_of, forward
from tests.web.conftest import issue_with_attachments, sign_in
from workflow import services
from workflow.access import delivery_list_visible, document_list_visible
from workflow.api import api_token_for
from workflow.models import AuditEvent, AuditVerb, Delivery, Notification

REASON = "附件有误，另行印发"


@pytest.fixture
def recalled(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    telegram = issue_with_attachments(world, main=[world.education, world.other])
    education = delivery_of(telegram, world.education)
    cover, _ = forward(world.jygw, education, main=[world.groups["各高校党委"]])
    university = delivery_of(cover, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=university.pk)
    services.delivery_recall(actor=world.zzb, delivery_id=education.pk, reason=REASON)
    return {
        "telegram": telegram,
        "attachment": telegram.attachments.get(),
        "education": Delivery.objects.get(pk=education.pk),
        "cover": cover,
        "university": Delivery.objects.get(pk=university.pk),
        "university_b": delivery_of(cover, world.university_b),
        "other": delivery_of(telegram, world.other),
    }


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _assert_stub(response, *, number: str, title: str):
    """The stub: 410, the number and title, 已撤回, who recalled it and why; no body, no file."""
    assert response.status_code == 410
    text = _text(response)
    assert number in text
    assert title in text
    assert "已撤回" in text
    assert "撤回人 zzb" in text
    assert f"撤回原因 {REASON}" in text
    assert "各单位要认真做好测试工作" not in text  # the telegram's body
    assert "附件1.txt" not in text
    assert 'href="/attachments/' not in response.content.decode()


@pytest.mark.parametrize("who", ["jygw", "imu", "univ_b_clerk"])
def test_every_route_of_the_recalled_document_gives_its_units_the_stub(client, world, recalled, who):
    sign_in(client, getattr(world, who))
    telegram = recalled["telegram"]
    own = {"jygw": "education", "imu": "university", "univ_b_clerk": "university_b"}[who]
    delivery = recalled[own]
    number, title = delivery.document.number, delivery.document.title
    _assert_stub(client.get(reverse("delivery", args=[delivery.pk])), number=number, title=title)
    _assert_stub(client.get(reverse("document", args=[telegram.pk])), number=telegram.number, title=telegram.title)
    _assert_stub(client.get(reverse("attachment", args=[recalled["attachment"].pk])), number=telegram.number, title="")
    # 打印 / PDF: the stub, never the PDF.
    _assert_stub(client.get(reverse("delivery-pdf", args=[delivery.pk])), number=number, title=title)
    _assert_stub(client.get(reverse("document-pdf", args=[telegram.pk])), number=telegram.number, title=telegram.title)
    if who != "jygw":  # the forward's own recipients lose the cover letter too
        cover = recalled["cover"]
        _assert_stub(client.get(reverse("document", args=[cover.pk])), number=cover.number, title=cover.title)
        _assert_stub(client.get(reverse("document-pdf", args=[cover.pk])), number=cover.number, title=cover.title)


def test_the_forwarding_unit_keeps_its_own_letter_but_not_what_it_enclosed(client, world, recalled):
    sign_in(client, world.jygw)
    page = client.get(reverse("document", args=[recalled["cover"].pk]))
    assert page.status_code == 200
    text = _text(page)
    assert recalled["cover"].title in text
    assert f"{recalled['telegram'].number}《{recalled['telegram'].title}》已由发文机关撤回" in text
    assert "各单位要认真做好测试工作" not in text
    assert 'href="/attachments/' not in page.content.decode()


def test_the_stub_says_which_document_was_recalled_when_a_forward_goes_with_it(client, world, recalled):
    sign_in(client, world.imu)
    text = _text(client.get(reverse("delivery", args=[recalled["university"].pk])))
    assert f"撤回的公文 {recalled['telegram'].number}《{recalled['telegram'].title}》" in text


def test_actions_on_a_recalled_delivery_answer_the_stub_and_write_nothing(client, world, recalled, nothing_written):
    sign_in(client, world.jygw)
    education = recalled["education"]
    for name, form in (
        ("delivery-sign", {}),
        ("delivery-forward", {"groups": [world.groups["各高校党委"].pk], "urgency": "特提", "body": "转发"}),
        ("delivery-forward-preview", {"body": "转发"}),
        ("delivery-return", {"reason": "other", "text": "退回"}),
        ("delivery-complete", {"feedback": "已办"}),
    ):
        with nothing_written():
            response = client.post(reverse(name, args=[education.pk]), form)
        assert response.status_code == 410, name


def test_opening_a_recalled_delivery_records_no_reading(client, world, recalled, nothing_written):
    other = recalled["other"]  # pending when the whole dispatch is recalled below; never opened
    services.dispatch_recall(actor=world.zzb, dispatch_id=other.dispatch_id, reason=REASON)
    sign_in(client, world.other_clerk)
    with nothing_written():
        response = client.get(reverse("delivery", args=[other.pk]))
    assert response.status_code == 410
    assert Delivery.objects.get(pk=other.pk).read_at is None
    assert not AuditEvent.objects.filter(verb=AuditVerb.DELIVERY_READ, object_id=str(other.pk)).exists()


def test_the_recall_notice_links_to_the_stub(client, world, recalled):
    sign_in(client, world.imu)
    notice = Notification.objects.get(user=world.imu, kind=Notification.Kind.RECALLED)
    page = client.get(reverse("notifications")).content.decode()
    link = reverse("delivery", args=[notice.delivery_id])
    assert f'href="{link}"' in page
    _assert_stub(client.get(link), number=recalled["university"].document.number, title=recalled["cover"].title)


def test_lists_show_the_stub_and_count_nothing_withdrawn_as_visible(client, world, recalled):
    telegram, education = recalled["telegram"], recalled["education"]
    assert not document_list_visible(world.jygw).filter(pk=telegram.pk).exists()
    assert not delivery_list_visible(world.jygw).filter(pk=education.pk).exists()
    assert not document_list_visible(world.imu).filter(pk__in=[telegram.pk, recalled["cover"].pk]).exists()
    sign_in(client, world.jygw)
    inbox = client.get(reverse("inbox"), {"tab": "recalled"})
    assert telegram.title in _text(inbox)
    assert "各单位要认真做好测试工作" not in _text(inbox)
    assert telegram.title not in _text(client.get(reverse("inbox")))  # not among what waits to be signed


def test_the_issuer_and_the_auditor_still_see_everything(client, world, recalled):
    telegram = recalled["telegram"]
    for user in (world.zzb, world.auditor):
        sign_in(client, user)
        page = client.get(reverse("delivery", args=[recalled["education"].pk]))
        assert page.status_code == 200, user
        text = _text(page)
        assert "各单位要认真做好测试工作" in text
        assert f"撤回原因：{REASON}" in text
        assert client.get(reverse("attachment", args=[recalled["attachment"].pk])).status_code == 200
        assert client.get(reverse("chain", args=[telegram.pk])).status_code == 200
    assert document_list_visible(world.auditor).filter(pk=recalled["cover"].pk).exists()


def test_the_api_answers_a_sign_for_of_a_recalled_delivery_with_the_stub(client, world, recalled, nothing_written):
    university = recalled["university"]  # signed for before the recall: even a repeat is refused
    with nothing_written():
        response = client.post(
            f"/api/deliveries/{university.pk}/sign-for", headers={"Authorization": f"Bearer {api_token_for(world.imu)}"}
        )
    assert response.status_code == 410
    body = response.json()
    assert body["error"]["code"] == "withdrawn"
    assert body["stub"] == {
        "number": recalled["cover"].number,
        "title": recalled["cover"].title,
        "issuer": "自治区教育工委",
        "state": "recalled",
        "recalled_by": "zzb",
        "recalled_at": body["stub"]["recalled_at"],
        "reason": REASON,
        "recalled_document": {"number": recalled["telegram"].number, "title": recalled["telegram"].title},
    }
