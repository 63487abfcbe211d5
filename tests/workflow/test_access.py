"""Who sees what (DESIGN invariant 6): the other unit, the parent unit, a child unit, an out-of-scope
auditor and the anonymous user, through every door."""

import pytest
from django.contrib.auth.models import AnonymousUser
from guardian.shortcuts import assign_perm

from tests.factories import content, delivery_of, forward, issue
from units.errors import NotAllowed, NotFound
from web.selectors import outbox_for_unit
from workflow import services
from workflow.access import (
    access_chain,
    access_delivery,
    access_document,
    access_unit_as_member,
    delivery_list_visible,
    document_list_visible,
)
from workflow.models import AuditEvent, AuditVerb
from workflow.selectors import inbox_for_user


@pytest.fixture
def chain(world):
    """department → education (signed, forwarded) → university; college has received nothing yet."""
    root, _ = issue(world.zzb, world.department, main=[world.education])
    cover, _ = forward(world.jygw, delivery_of(root, world.education), main=[world.university])
    return root, cover


def _visible(user):
    return set(document_list_visible(user).values_list("pk", flat=True))


def test_issuer_sees_its_document_and_its_drafts(world, chain):
    root, _cover = chain
    draft = services.document_draft(actor=world.zzb, unit=world.department, content=content())
    assert _visible(world.zzb) == {root.pk, draft.pk}


def test_recipient_sees_what_it_received_and_what_it_issued(world, chain):
    root, cover = chain
    assert _visible(world.jygw) == {root.pk, cover.pk}


def test_a_forward_recipient_sees_the_cover_and_the_document_it_encloses(world, chain):
    root, cover = chain
    assert _visible(world.imu) == {root.pk, cover.pk}
    assert access_document(world.imu, root.pk) == root


@pytest.mark.parametrize(
    "outsider",
    [
        "other_clerk",  # another unit
        "college_clerk",  # a child unit of the recipient, before anything was forwarded to it
        "univ_b_clerk",  # a sibling that was not addressed
        "other_auditor",  # an auditor whose scope holds none of the chain
    ],
)
def test_outsiders_see_nothing_of_the_chain(world, chain, outsider):
    root, cover = chain
    user = world.people[outsider]
    assert _visible(user) == set()
    for document in (root, cover):
        with pytest.raises(NotFound):
            access_document(user, document.pk)
        with pytest.raises(NotFound):
            access_chain(user, document.pk)
    for delivery in (delivery_of(root, world.education), delivery_of(cover, world.university)):
        with pytest.raises(NotFound):
            access_delivery(user, delivery.pk)
    assert list(inbox_for_user(user)) == []


def test_the_parent_unit_does_not_see_what_only_its_child_received(world):
    document, _ = issue(world.zzb, world.department, main=[world.university])
    assert document.pk not in _visible(world.jygw)  # education is the university's parent
    with pytest.raises(NotFound):
        access_delivery(world.jygw, delivery_of(document, world.university).pk)


def test_the_anonymous_user_sees_nothing(world, chain):
    root, _cover = chain
    anonymous = AnonymousUser()
    assert _visible(anonymous) == set()
    assert not delivery_list_visible(anonymous).exists()
    with pytest.raises(NotFound):
        access_document(anonymous, root.pk)
    with pytest.raises(NotFound):
        access_chain(anonymous, root.pk)


def test_an_inactive_person_sees_nothing(world, chain):
    world.jygw.is_active = False
    world.jygw.save()
    assert _visible(world.jygw) == set()


def test_the_region_auditor_sees_every_issued_document_of_the_chain_but_no_draft(world, chain):
    root, cover = chain
    services.document_draft(actor=world.zzb, unit=world.department, content=content())
    assert _visible(world.auditor) == {root.pk, cover.pk}
    assert access_chain(world.auditor, root.pk) == root


def test_an_auditor_of_a_recipient_subtree_sees_what_reached_it(world, chain):
    root, cover = chain
    services.role_grant(actor=None, unit=world.university, role="auditor", user=world.other_auditor)
    assert _visible(world.other_auditor) == {root.pk, cover.pk}


def test_a_chain_is_for_its_issuer_and_auditors_not_its_recipients(world, chain):
    root, cover = chain
    assert access_chain(world.zzb, root.pk) == root
    assert access_chain(world.jygw, cover.pk) == cover
    with pytest.raises(NotFound):
        access_chain(world.jygw, root.pk)  # a recipient of the root, not its issuer
    with pytest.raises(NotFound):
        access_chain(world.imu, cover.pk)


def test_a_document_shared_by_object_permission_is_visible_to_that_person_only(world, chain):
    root, _cover = chain
    assert services.document_share(actor=world.zzb, document=root, user=world.other_clerk) is True
    assert services.document_share(actor=world.zzb, document=root, user=world.other_clerk) is False
    assert _visible(world.other_clerk) == {root.pk}
    assert _visible(world.univ_b_clerk) == set()
    event = AuditEvent.objects.get(verb=AuditVerb.DOCUMENT_SHARED)
    assert (event.actor_id, event.payload["user_id"]) == (world.zzb.pk, world.other_clerk.pk)


def test_a_group_share_is_honoured(world, chain):
    root, _cover = chain
    assign_perm("documents.view_document", world.other.group, root)
    assert _visible(world.other_clerk) == {root.pk}


def test_only_a_signer_of_the_issuing_unit_may_share(world, chain, nothing_written):
    root, _cover = chain
    with nothing_written(), pytest.raises(NotAllowed, match="不能分享公文"):
        services.document_share(actor=world.jygw, document=root, user=world.other_clerk)


def test_a_superuser_has_no_bypass(world, chain):
    _root, _cover = chain
    world.other_clerk.is_superuser = True
    world.other_clerk.save()
    assert _visible(world.other_clerk) == set()


def test_the_outbox_is_for_members_of_the_issuing_unit(world, chain):
    root, _cover = chain
    department = access_unit_as_member(world.zzb, world.department.pk)
    assert [d.document_id for d in outbox_for_unit(department)] == [root.pk]
    for outsider in (world.jygw, world.auditor, AnonymousUser(), None):
        with pytest.raises(NotFound):
            access_unit_as_member(outsider, world.department.pk)


def test_a_missing_id_and_a_forbidden_id_give_the_same_error(world, chain):
    root, _cover = chain
    with pytest.raises(NotFound) as missing:
        access_document(world.other_clerk, 10**9)
    with pytest.raises(NotFound) as forbidden:
        access_document(world.other_clerk, root.pk)
    assert str(missing.value) == str(forbidden.value)
