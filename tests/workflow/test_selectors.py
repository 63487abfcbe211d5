import re

from tests.factories import delivery_of, forward, issue, person, unit
from units.models import Role
from workflow import services
from workflow.selectors import chain_for_document, inbox_for_user

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def test_chain_json_shows_every_level_with_the_digests_it_encloses(world):
    root, _ = issue(
        world.zzb,
        world.department,
        main=[world.education],
        cc=[world.other],
        urgency="特提",
        page_count=4,
        kind="明传电报",
    )
    level1, _ = forward(world.jygw, delivery_of(root, world.education), main=[world.groups["各高校党委"]])
    _level2, _ = forward(
        world.imu, delivery_of(level1, world.university), main=[world.college], signer=world.imu_signer
    )

    tree = chain_for_document(root).as_json()

    assert {k: tree[k] for k in ("number", "issuer", "kind", "urgency", "page_count", "digest", "encloses")} == {
        "number": root.number,
        "issuer": "自治区党委组织部",
        "kind": "明传电报",
        "urgency": "特提",
        "page_count": 4,
        "digest": root.digest,
        "encloses": [],
    }
    assert [(d["unit"], d["role"], d["state"]) for d in tree["deliveries"]] == [
        ("自治区教育工委", "主送", "signed"),
        ("自治区直属机关工委", "抄送", "pending"),
    ]
    education = tree["deliveries"][0]
    assert education["receipt_digest"] == root.digest
    assert ISO.match(education["signed_at"])
    assert ISO.match(education["read_at"])
    assert tree["deliveries"][1]["signed_at"] is None
    (node1,) = education["forwards"]
    assert (node1["number"], node1["digest"]) == (level1.number, level1.digest)
    assert node1["encloses"] == [{"number": root.number, "digest": root.digest}]
    assert [(d["unit"], d["state"]) for d in node1["deliveries"]] == [
        ("内蒙古大学党委", "signed"),
        ("内蒙古工业大学党委", "pending"),
    ]
    (node2,) = node1["deliveries"][0]["forwards"]
    assert node2["encloses"] == [{"number": level1.number, "digest": level1.digest}]
    assert [(d["unit"], d["state"], d["forwards"]) for d in node2["deliveries"]] == [("计算机学院党委", "pending", [])]
    # A chain asked for at a middle level starts there.
    assert chain_for_document(level1).as_json() == node1


def test_a_forward_still_in_draft_is_not_in_the_chain(world):
    root, _ = issue(world.zzb, world.department, main=[world.education])
    delivery = delivery_of(root, world.education)
    services.delivery_sign_for(actor=world.jygw, delivery_id=delivery.pk)
    services.document_forward(actor=world.jygw, delivery=delivery, main_recipients=[world.university])
    assert chain_for_document(root).as_json()["deliveries"][0]["forwards"] == []


def _chain_of(world, width):
    universities = [unit(f"高校{width}-{i}", world.education) for i in range(width)]
    for each in universities:
        person(each, Role.CLERK)
    root, _ = issue(world.zzb, world.department, main=[world.education, *universities[: width // 2]])
    forward(world.jygw, delivery_of(root, world.education), main=universities)
    return root


def test_chain_query_count_does_not_grow_with_the_chain(world, count_queries):
    small, large = _chain_of(world, 4), _chain_of(world, 60)
    small_count, small_tree = count_queries(chain_for_document, small)
    large_count, large_tree = count_queries(chain_for_document, large)
    assert (len(list(small_tree.walk())), len(large_tree.deliveries)) == (2, 31)
    assert small_count == large_count == 5


def test_inbox_puts_the_most_urgent_first_then_the_newest(world):
    routine, _ = issue(world.zzb, world.department, main=[world.education], urgency="普通", title="甲")
    flash, _ = issue(world.zzb, world.department, main=[world.education], urgency="特提", title="乙")
    newer_routine, _ = issue(world.zzb, world.department, main=[world.education], urgency="普通", title="丙")
    assert [d.document.title for d in inbox_for_user(world.jygw)] == ["乙", "丙", "甲"]
    assert [d.document.title for d in inbox_for_user(world.jygw, states=["signed"])] == []
    assert flash.urgency == "特提"
    assert routine.urgency == newer_routine.urgency == "普通"


def test_inbox_query_count_does_not_grow_with_the_inbox(world, count_queries):
    issue(world.zzb, world.department, main=[world.education])
    small_count, small = count_queries(lambda: list(inbox_for_user(world.jygw)))
    for _ in range(30):
        issue(world.zzb, world.department, main=[world.education])
    large_count, large = count_queries(lambda: list(inbox_for_user(world.jygw)))
    assert (len(small), len(large)) == (1, 31)
    assert small_count == large_count == 1
