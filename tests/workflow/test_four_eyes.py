"""核稿 and 签发 by two people (issue 10): whoever wrote or changed a draft may not sign it off, unless
their unit's policy allows it (Unit.allows_self_sign_off, off by default)."""

import io

import pytest
from django.urls import reverse

from tests.factories import content, delivery_of, issue, person
from tests.web.conftest import sign_in
from units.errors import NotAllowed
from units.models import Role
from workflow import services
from workflow.models import AuditEvent, AuditVerb
from workflow.services.rules import DocumentAction, document_actions


def _draft(world, actor=None):
    return services.document_draft(
        actor=actor or world.zzb, unit=world.department, content=content(), main_recipients=[world.education]
    )


def test_the_drafter_may_not_sign_off_their_own_draft(world, nothing_written):
    draft = _draft(world)
    with (
        nothing_written(),
        pytest.raises(
            NotAllowed, match="您起草或修改过“关于做好测试工作的通知”，按自治区党委组织部的规定须由另一位签发人签发。"
        ),
    ):
        services.document_sign_off(actor=world.zzb, document=draft)
    assert DocumentAction.SIGN_OFF not in document_actions(world.zzb, draft)
    signed = services.document_sign_off(actor=world.zzb_leader, document=draft)
    assert (signed.state, signed.signed_off_by_id) == ("signed_off", world.zzb_leader.pk)


def test_a_signer_who_changed_or_attached_to_a_draft_is_an_author_too(world, nothing_written, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    editor = person(world.department, Role.DRAFTER, Role.SIGNER, username="editor")
    changed, attached = _draft(world), _draft(world)
    services.document_update(actor=editor, document=changed, content=content(body="改过的正文。"))
    services.attachment_add(actor=editor, document=attached, name="名单.txt", stream=io.BytesIO(b"x"))
    for draft in (changed, attached):
        for author in (world.zzb, editor):
            with nothing_written(), pytest.raises(NotAllowed, match="须由另一位签发人签发"):
                services.document_sign_off(actor=author, document=draft)
        assert (
            services.document_sign_off(actor=world.zzb_leader, document=draft).signed_off_by_id == world.zzb_leader.pk
        )


def test_the_clerk_who_drafted_a_forward_may_not_sign_it_off(world, nothing_written):
    root, _ = issue(world.zzb, world.department, main=[world.education])
    received = delivery_of(root, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=received.pk)
    cover = services.document_forward(actor=world.jygw, delivery=received, main_recipients=[world.university])
    with nothing_written(), pytest.raises(NotAllowed, match="须由另一位签发人签发"):
        services.document_sign_off(actor=world.jygw, document=cover)
    services.document_sign_off(actor=world.jygw_leader, document=cover)


def test_a_unit_that_allows_it_lets_the_drafter_sign_off_and_the_change_is_audited(world, nothing_written):
    assert services.unit_sign_off_policy_set(actor=None, unit=world.department, allows_self_sign_off=True) is True
    with nothing_written():
        assert services.unit_sign_off_policy_set(actor=None, unit=world.department, allows_self_sign_off=True) is False
    event = AuditEvent.objects.get(verb=AuditVerb.UNIT_SIGN_OFF_POLICY_SET)
    assert (event.unit_id, event.payload) == (world.department.pk, {"allows_self_sign_off": True})
    world.department.refresh_from_db()
    draft = _draft(world)
    assert DocumentAction.SIGN_OFF in document_actions(world.zzb, draft)
    assert services.document_sign_off(actor=world.zzb, document=draft).signed_off_by_id == world.zzb.pk


def test_only_an_administrator_sets_the_policy(world, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed, match="只有系统管理员"):
        services.unit_sign_off_policy_set(actor=world.zzb, unit=world.department, allows_self_sign_off=True)


def test_the_document_page_offers_sign_off_only_to_a_signer_who_did_not_write_it(client, world):
    draft = _draft(world)
    url = reverse("document", args=[draft.pk])
    sign_off = reverse("document-sign-off", args=[draft.pk])
    sign_in(client, world.zzb)
    assert sign_off not in client.get(url).content.decode()
    sign_in(client, world.zzb_leader)
    assert sign_off in client.get(url).content.decode()


def test_the_admin_sets_the_policy_through_the_service(client, world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    sign_in(client, admin)
    response = client.post(
        reverse("admin:units_unit_changelist"),
        {"action": "allow_self_sign_off", "_selected_action": [world.department.pk]},
        follow=True,
    )
    assert "已修改 1 个单位的签发规定。" in response.content.decode()
    world.department.refresh_from_db()
    assert world.department.allows_self_sign_off is True
    assert AuditEvent.objects.get(verb=AuditVerb.UNIT_SIGN_OFF_POLICY_SET).actor_id == admin.pk


def test_refusals_read_as_english_sentences_in_english(world, nothing_written):
    from django.utils import translation

    draft = _draft(world)
    _root, dispatch = issue(world.zzb, world.department, main=[world.education])
    with translation.override("en"), nothing_written():
        with pytest.raises(NotAllowed) as refused:
            services.document_sign_off(actor=world.jygw, document=draft)
        assert refused.value.message == "You are not a signer of 自治区党委组织部: you cannot sign it off."
        with pytest.raises(NotAllowed) as refused:
            services.dispatch_recall(actor=world.jygw, dispatch_id=dispatch.pk)
        assert refused.value.message == "You are not a clerk or a signer of 自治区党委组织部: you cannot recall it."
