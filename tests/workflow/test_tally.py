"""The dispatch figures (workflow.tally) the big chain page reads: kept by the services that create
and move deliveries, in their transactions, equal at every step to a recount of the deliveries."""

import datetime

from django.db.models import Sum
from django.utils import timezone

from tests.factories import delivery_of, forward, issue
from workflow import services
from workflow.models import Delivery, Dispatch, DispatchTally, ReturnReason
from workflow.selectors import dispatch_list_with_progress
from workflow.tally import COUNTS, DISPATCH_FIGURES, TALLY_SLOTS, tally_figures, tally_rebuild


def _figures() -> dict[int, dict[str, int]]:
    rows = DispatchTally.objects.values("dispatch_id").annotate(**{c: Sum(c) for c in COUNTS}).order_by("dispatch_id")
    return {row.pop("dispatch_id"): row for row in rows}


def _recounted() -> dict[int, dict[str, int]]:
    kept = _figures()
    tally_rebuild()
    recounted = _figures()
    return kept, recounted


def test_every_service_keeps_the_figures_equal_to_a_recount(world):
    root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    assert _figures() == {dispatch.pk: dict.fromkeys(COUNTS, 0) | {"total": 2, "pending": 2}}
    cover, cover_dispatch = forward(world.jygw, delivery_of(root, world.education), main=[world.groups["各高校党委"]])
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    services.delivery_complete(
        actor=world.imu, delivery_id=delivery_of(cover, world.university).pk, feedback="已办结。"
    )
    services.delivery_return(
        actor=world.univ_b_clerk,
        delivery_id=delivery_of(cover, world.university_b).pk,
        reason=ReturnReason.OTHER,
        text="不属本单位",
    )
    kept, recounted = _recounted()
    assert kept == recounted
    assert kept[dispatch.pk] == dict.fromkeys(COUNTS, 0) | {"total": 2, "pending": 1, "signed": 1, "signed_ever": 1}
    assert kept[cover_dispatch.pk] == dict.fromkeys(COUNTS, 0) | {
        "total": 2,
        "completed": 1,
        "returned": 1,
        "signed_ever": 1,
    }

    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容需要修改")

    kept, recounted = _recounted()
    assert kept == recounted
    assert kept[dispatch.pk] == dict.fromkeys(COUNTS, 0) | {"total": 2, "withdrawn": 2, "signed_ever": 1}
    # The completed one is withdrawn with the chain; the returned one is nobody's business any more.
    assert kept[cover_dispatch.pk] == dict.fromkeys(COUNTS, 0) | {
        "total": 2,
        "withdrawn": 1,
        "returned": 1,
        "signed_ever": 1,
    }


def test_a_sign_for_after_its_deadline_counts_as_late_in_the_slot_of_its_delivery(world):
    root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    late = delivery_of(root, world.other)
    Delivery.objects.filter(pk=late.pk).update(deadline_sign_for=timezone.now() - datetime.timedelta(hours=1))

    services.delivery_sign_for(actor=world.other_clerk, delivery_id=late.pk)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery_of(root, world.education).pk)

    assert _figures()[dispatch.pk] == dict.fromkeys(COUNTS, 0) | {
        "total": 2,
        "signed": 2,
        "signed_ever": 2,
        "signed_late": 1,
    }
    # The late one's slot holds its lateness (the other may share it: 16 slots).
    assert DispatchTally.objects.get(dispatch=dispatch, slot=late.pk % TALLY_SLOTS).signed_late == 1


def _counted_from_deliveries(dispatch_id: int) -> dict[str, int]:
    """The issuer's figures as the outbox counted them from the deliveries before the tally kept them."""
    deliveries = Delivery.objects.filter(dispatch_id=dispatch_id)
    recallable = [s for s, targets in Delivery.TRANSITIONS.items() if targets & set(Delivery.WITHDRAWN_STATES)]
    return {
        "delivered": deliveries.count(),
        "signed": deliveries.filter(signed_at__isnull=False).count(),
        "pending": deliveries.filter(state=Delivery.State.PENDING).count(),
        "completed": deliveries.filter(state=Delivery.State.COMPLETED).count(),
        "returned": deliveries.filter(state=Delivery.State.RETURNED).count(),
        "recalled": deliveries.filter(state__in=Delivery.WITHDRAWN_STATES).count(),
        "recallable": deliveries.filter(state__in=recallable).count(),
    }


def test_the_issuers_figures_equal_a_count_of_the_deliveries_on_the_page_and_in_the_api(world):
    root, dispatch = issue(world.zzb, world.department, main=[world.education, world.other])
    cover, cover_dispatch = forward(world.jygw, delivery_of(root, world.education), main=[world.groups["各高校党委"]])
    _document, unrouted = issue(world.zzb, world.department, main=[world.other], route=False)
    ids = [dispatch.pk, cover_dispatch.pk, unrouted.pk]

    def check():
        expected = {pk: _counted_from_deliveries(pk) for pk in ids}
        assert tally_figures(ids) == expected
        annotated = dispatch_list_with_progress(Dispatch.objects.filter(pk__in=ids))
        assert {d.pk: {name: getattr(d, name) for name in DISPATCH_FIGURES} for d in annotated} == expected

    check()
    assert tally_figures([unrouted.pk]) == {unrouted.pk: dict.fromkeys(DISPATCH_FIGURES, 0)}
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery_of(cover, world.university).pk)
    services.delivery_complete(
        actor=world.imu, delivery_id=delivery_of(cover, world.university).pk, feedback="已办结。"
    )
    services.delivery_return(
        actor=world.univ_b_clerk,
        delivery_id=delivery_of(cover, world.university_b).pk,
        reason=ReturnReason.OTHER,
        text="不属本单位",
    )
    check()
    assert tally_figures([cover_dispatch.pk])[cover_dispatch.pk] == {
        "delivered": 2,
        "signed": 1,
        "pending": 0,
        "completed": 1,
        "returned": 1,
        "recalled": 0,
        "recallable": 1,
    }
    services.dispatch_recall(actor=world.zzb, dispatch_id=dispatch.pk, reason="内容需要修改")
    check()


def test_a_rebuild_of_more_dispatches_than_a_statement_takes_parameters_recounts_them_all(world):
    # 70,000 ids (PostgreSQL takes at most 65,535 parameters a statement): recounted in chunks.
    _root, first = issue(world.zzb, world.department, main=[world.education, world.other])
    _root, last = issue(world.zzb, world.department, main=[world.education])
    kept = _figures()
    DispatchTally.objects.all().delete()
    ids = [first.pk, *range(last.pk + 1, last.pk + 70_000), last.pk]
    tally_rebuild(ids)
    assert _figures() == kept
    assert set(kept) == {first.pk, last.pk}
