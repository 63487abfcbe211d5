"""Factories and builders. Workflow state is always built with the real services."""

import datetime
from dataclasses import dataclass, field

import factory
from django.contrib.auth import get_user_model

from documents.content import DocumentContent
from documents.models import Document, Kind, Urgency
from units.models import RecipientGroup, Role, Unit
from units.selectors import user_list_with_role_in_units
from workflow import services
from workflow.models import Delivery, Dispatch


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("pw")


def person(unit: Unit, *roles: Role, username: str | None = None, email: str | None = None):
    """A person holding these roles on the unit (and, for operational roles, a member of it)."""
    user = UserFactory(
        **({"username": username} if username else {}), **({"email": email} if email is not None else {})
    )
    for role in roles:
        services.role_grant(actor=None, unit=unit, role=role, user=user)
    return user


def unit(name: str, parent: Unit | None = None, *, prefixes=(), kind=Unit.Kind.OTHER) -> Unit:
    return services.unit_create(
        actor=None, name=name, short_name=name, kind=kind, parent=parent, number_prefixes=prefixes
    )


def content(**overrides) -> DocumentContent:
    """A 通知, or a 明传电报 when the urgency is a telegram's own (特提, 平急) and no kind is given."""
    urgency = overrides.get("urgency", Urgency.ROUTINE)
    values = {
        "kind": Kind.NOTICE if Urgency.carried_by(Kind.NOTICE, urgency) == urgency else Kind.TELEGRAM,
        "title": "关于做好测试工作的通知",
        "body": "各单位要认真做好测试工作。",
        "urgency": Urgency.ROUTINE,
        "written_on": datetime.date(2022, 10, 13),
    }
    values.update(overrides)
    return DocumentContent(**values)


@dataclass
class World:
    """A small region:

    region (auditor: `auditor`)
    ├── department       issuer, prefix 内组电明字; `zzb` clerk+signer+drafter, `zzb_leader` signer
    ├── education        prefix 内教工委函; `jygw` clerk+signer+drafter, `jygw_leader` signer
    │   ├── university   prefix 内大党发; `imu` clerk, `imu_signer` signer
    │   │   └── college  `college_clerk`, `college_leader` signer
    │   └── university_b `univ_b_clerk`
    ├── other            unrelated unit; `other_clerk`, `other_leader` signer; audited by `other_auditor`
    recipient groups: department's 各直属党委 = {education, other}; education's 各高校党委 = {university, university_b}
    """

    region: Unit
    department: Unit
    education: Unit
    university: Unit
    university_b: Unit
    college: Unit
    other: Unit
    groups: dict[str, RecipientGroup]
    people: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def build_world() -> World:
    region = unit("自治区党委", kind=Unit.Kind.PARTY_COMMITTEE)
    department = unit("自治区党委组织部", region, prefixes=["内组电明字", "内组字"])
    education = unit("自治区教育工委", region, prefixes=["内教工委函"])
    university = unit("内蒙古大学党委", education, prefixes=["内大党发"])
    university_b = unit("内蒙古工业大学党委", education, prefixes=["内工大党发"])
    college = unit("计算机学院党委", university, prefixes=["计院党发"])
    other = unit("自治区直属机关工委", region, prefixes=["内直工委发"])
    groups = {
        "各直属党委": services.recipient_group_save(
            actor=None, owner=department, name="各直属党委", members=[education, other]
        ),
        "各高校党委": services.recipient_group_save(
            actor=None, owner=education, name="各高等学校党委", members=[university, university_b]
        ),
        "各学院党委": services.recipient_group_save(actor=None, owner=university, name="各学院党委", members=[college]),
    }
    world = World(region, department, education, university, university_b, college, other, groups)
    world.people = {
        "zzb": person(department, Role.CLERK, Role.SIGNER, Role.DRAFTER, username="zzb"),
        "zzb_leader": person(department, Role.SIGNER, username="zzb_leader"),
        "jygw": person(education, Role.CLERK, Role.SIGNER, Role.DRAFTER, username="jygw"),
        "jygw_leader": person(education, Role.SIGNER, username="jygw_leader"),
        "imu": person(university, Role.CLERK, username="imu"),
        "imu_signer": person(university, Role.SIGNER, username="imu_signer"),
        "univ_b_clerk": person(university_b, Role.CLERK, username="univ_b_clerk"),
        "college_clerk": person(college, Role.CLERK, Role.SIGNER, username="college_clerk"),
        "college_leader": person(college, Role.SIGNER, username="college_leader"),
        "other_clerk": person(other, Role.CLERK, Role.SIGNER, Role.DRAFTER, username="other_clerk"),
        "other_leader": person(other, Role.SIGNER, username="other_leader"),
        "auditor": person(region, Role.AUDITOR, username="auditor"),
        "other_auditor": person(other, Role.AUDITOR, username="other_auditor"),
    }
    return world


def second_signer(unit: Unit, author):
    """A signer of the unit other than the draft's author (核稿 and 签发 by two people)."""
    signers = user_list_with_role_in_units(Unit.objects.filter(pk=unit.pk), Role.SIGNER)
    user_id = min((user_id for user_id, _unit in signers if user_id != author.pk), default=author.pk)
    return get_user_model().objects.get(pk=user_id)


def issue(
    actor, issuing_unit: Unit, *, main=(), cc=(), signer=None, route: bool = True, number_year=None, **overrides
) -> tuple[Document, Dispatch]:
    """Draft, sign off (by another signer of the unit) and issue a document; route it in-process
    unless route=False."""
    document = services.document_draft(
        actor=actor, unit=issuing_unit, content=content(**overrides), main_recipients=main, cc_recipients=cc
    )
    services.document_sign_off(actor=signer or second_signer(issuing_unit, actor), document=document)
    dispatch = services.document_issue(actor=actor, document=document, number_year=number_year)
    if route:
        services.dispatch_route(dispatch_id=dispatch.pk)
    document.refresh_from_db()
    return document, dispatch


def delivery_of(document: Document, unit: Unit) -> Delivery:
    return Delivery.objects.select_related("document", "unit").get(document=document, unit=unit)


def forward(actor, delivery: Delivery, *, main=(), signer=None, route: bool = True) -> tuple[Document, Dispatch]:
    """Sign for (if needed), forward, sign off and issue: the next level of a chain."""
    services.delivery_sign_for(actor=actor, delivery_id=delivery.pk)
    cover = services.document_forward(actor=actor, delivery=delivery, main_recipients=main)
    services.document_sign_off(actor=signer or second_signer(delivery.unit, actor), document=cover)
    dispatch = services.document_issue(actor=actor, document=cover)
    if route:
        services.dispatch_route(dispatch_id=dispatch.pk)
    cover.refresh_from_db()
    return cover, dispatch


@dataclass
class InnerUnit:
    """内蒙古大学党委 (world.university) inside, as issue 14 tells it:

    university           `imu` clerk (signs for it); `office_clerk` clerk too, in 党委办公室 (登记, 拟办);
                         `secretary` leader (批办); `reader_a`, `reader_b` readers (传阅; not members:
                         they see what is passed to them)
    ├── office           党委办公室: `office_staff`, a member without a role (a deputy, 代理)
    ├── organization     组织部: `org_handler` handler (承办)
    └── publicity        宣传部: `pub_handler` handler (协办)
    """

    unit: Unit
    office: Unit
    organization: Unit
    publicity: Unit
    people: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def build_inner_unit(world: World) -> InnerUnit:
    university = world.university
    office = services.department_create(world.imu, university.pk, name="党委办公室", short_name="党办")
    organization = services.department_create(world.imu, university.pk, name="组织部")
    publicity = services.department_create(world.imu, university.pk, name="宣传部")
    office_clerk = person(university, Role.CLERK, username="office_clerk")
    services.unit_add_member(actor=None, unit=office, user=office_clerk)
    office_staff = UserFactory(username="office_staff")
    services.unit_add_member(actor=None, unit=office, user=office_staff)
    people = {
        "office_clerk": office_clerk,
        "office_staff": office_staff,
        "secretary": person(university, Role.LEADER, username="secretary"),
        "org_handler": person(organization, Role.HANDLER, username="org_handler"),
        "pub_handler": person(publicity, Role.HANDLER, username="pub_handler"),
        "reader_a": person(university, Role.READER, username="reader_a"),
        "reader_b": person(university, Role.READER, username="reader_b"),
    }
    return InnerUnit(university, office, organization, publicity, people)


def received(world: World, **overrides) -> Delivery:
    """A notice of the education work committee to world.university, signed for by `imu`."""
    document, _dispatch = issue(world.jygw, world.education, main=[world.university], **overrides)
    delivery = delivery_of(document, world.university)
    services.delivery_sign_for(actor=world.imu, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery
