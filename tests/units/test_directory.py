import pytest

from tests.factories import UserFactory
from units.errors import InvalidInput, NotAllowed
from units.models import Role, Unit
from units.selectors import (
    recipient_list_from_names,
    unit_has_role,
    unit_list_for_member,
    unit_list_in_audit_scope,
    unit_list_with_role,
)
from workflow import services
from workflow.models import AuditEvent, AuditVerb


def test_a_unit_gets_a_path_a_group_and_its_prefixes(world):
    unit = services.unit_create(
        actor=None,
        name="中共赤峰学院委员会",
        short_name="赤峰学院党委",
        parent=world.education,
        number_prefixes=["赤院党发", "赤院党函"],
    )
    assert unit.path == f"/{world.region.pk}/{world.education.pk}/{unit.pk}/"
    assert unit.depth == 2
    assert unit.group.name == "unit:中共赤峰学院委员会"
    assert list(unit.number_prefixes.values_list("prefix", "is_default")) == [("赤院党发", True), ("赤院党函", False)]
    event = AuditEvent.objects.get(verb=AuditVerb.UNIT_CREATED, object_id=str(unit.pk))
    assert event.payload == {
        "name": "中共赤峰学院委员会",
        "parent_id": world.education.pk,
        "number_prefixes": ["赤院党发", "赤院党函"],
        "allows_self_sign_off": False,
    }


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"name": "  "}, "单位全称不能为空"),
        ({"name": "自治区教育工委"}, "单位“自治区教育工委”已经存在"),
        ({"number_prefixes": ["内组字"]}, "发文字号前缀“内组字”已被其他单位使用"),
        ({"number_prefixes": ["内 组"]}, "不能包含空格"),
        ({"kind": "club"}, "单位类别“club”不存在"),
        ({"mongolian_name": "Mongol"}, "蒙古文名称只能包含蒙古文字符"),
    ],
)
def test_bad_units_are_refused_with_nothing_written(world, nothing_written, arguments, problem):
    values = {"name": "新单位", "short_name": "新单位", "parent": world.region, **arguments}
    with nothing_written(), pytest.raises(InvalidInput, match=problem):
        services.unit_create(actor=None, **values)


def test_a_mongolian_name_in_mongolian_script_is_accepted(world):
    unit = services.unit_create(actor=None, name="测试单位", short_name="测试", mongolian_name="ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ")
    assert unit.mongolian_name == "ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ"


def test_only_an_administrator_changes_the_directory(world, nothing_written):
    with nothing_written(), pytest.raises(NotAllowed, match="只有系统管理员"):
        services.role_grant(actor=world.zzb, unit=world.department, role=Role.SIGNER, user=world.other_clerk)
    with nothing_written(), pytest.raises(NotAllowed):
        services.unit_create(actor=world.auditor, name="X", short_name="X")


def test_granting_a_role_is_audited_makes_a_member_and_is_idempotent(world):
    newcomer = UserFactory(username="newcomer")
    admin = UserFactory(username="admin", is_superuser=True)
    assert services.role_grant(actor=admin, unit=world.other, role=Role.DRAFTER, user=newcomer) is True
    assert services.role_grant(actor=admin, unit=world.other, role=Role.DRAFTER, user=newcomer) is False
    assert unit_has_role(newcomer, world.other.pk, Role.DRAFTER)
    assert list(unit_list_for_member(newcomer)) == [world.other]
    verbs = list(AuditEvent.objects.filter(object_id=str(newcomer.pk)).values_list("verb", "actor_id"))
    assert verbs == [(AuditVerb.MEMBER_ADDED, admin.pk), (AuditVerb.ROLE_GRANTED, admin.pk)]


def test_revoking_a_role_takes_it_away_and_is_audited(world):
    assert services.role_revoke(actor=None, unit=world.education, role=Role.SIGNER, user=world.jygw) is True
    assert not unit_has_role(world.jygw, world.education.pk, Role.SIGNER)
    assert unit_has_role(world.jygw, world.education.pk, Role.CLERK)
    assert services.role_revoke(actor=None, unit=world.education, role=Role.SIGNER, user=world.jygw) is False
    assert AuditEvent.objects.filter(verb=AuditVerb.ROLE_REVOKED).count() == 1


def test_an_auditor_is_not_made_a_member(world):
    assert list(unit_list_for_member(world.auditor)) == []


def test_audit_scope_is_the_audited_units_subtree(world):
    assert set(unit_list_in_audit_scope(world.auditor)) == set(Unit.objects.all())
    assert set(unit_list_in_audit_scope(world.other_auditor)) == {world.other}
    services.role_grant(actor=None, unit=world.education, role=Role.AUDITOR, user=world.other_auditor)
    assert set(unit_list_in_audit_scope(world.other_auditor)) == {
        world.other,
        world.education,
        world.university,
        world.university_b,
        world.college,
    }
    assert list(unit_list_in_audit_scope(world.jygw)) == []


def test_a_unit_whose_id_prefixes_anothers_is_not_in_its_subtree(world):
    # /1/2/ must not match /1/23/: the path keeps the trailing slash.
    units = [
        services.unit_create(actor=None, name=f"兄弟单位{i}", short_name=f"兄弟{i}", parent=world.region)
        for i in range(12)
    ]
    services.role_grant(actor=None, unit=units[0], role=Role.AUDITOR, user=world.other_auditor)
    scope = set(unit_list_in_audit_scope(world.other_auditor))
    assert scope == {world.other, units[0]}


def test_roles_granted_to_a_units_group_count_for_its_members(world):
    member = UserFactory(username="member")
    world.other.group.user_set.add(member)
    services.role_grant(actor=None, unit=world.other, role=Role.CLERK, group=world.other.group)
    assert list(unit_list_with_role(member, Role.CLERK)) == [world.other]


def test_recipients_are_read_from_names_as_written(world):
    assert recipient_list_from_names(world.education, ["各高等学校党委", "自治区直属机关工委", "计算机学院党委"]) == [
        world.groups["各高校党委"],
        world.other,
        world.college,
    ]


def test_an_unknown_recipient_name_is_named_in_the_error(world):
    with pytest.raises(InvalidInput, match="未知的收文单位或收文对象组：各盟市委组织部、火星党委"):
        recipient_list_from_names(world.education, ["各盟市委组织部", "火星党委", "计算机学院党委"])


def test_recipient_groups_are_saved_whole_and_audited(world, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput, match="没有成员单位"):
        services.recipient_group_save(actor=None, owner=world.education, name="空组", members=[])
    group = services.recipient_group_save(
        actor=None, owner=world.education, name="各高等学校党委", members=[world.university]
    )
    assert list(group.members.all()) == [world.university]
