"""The demo: a directory of real Inner Mongolia units, and the seed's forwarding chain replayed.

内蒙古自治区党委组织部 issues the telegram 内组电明字〔2022〕11号 (特提) to 各盟市委组织部 and
自治区各直属党（工）委; the education work committee signs for it and forwards it under
内教工委函〔2022〕90号 to 各高等学校党委; several universities sign; 内蒙古大学党委 forwards it on to
its colleges. Everything goes through the real services, at the seed's own dates in October 2022
(workflow.demo.history); routing and notification are called directly, so the database is complete
when the command returns whether or not a worker runs. A 特提 drill telegram, issued today, waits
for the person trying the demo.

The data was copied from shared/seed when the demo was written; nothing reads shared/ at run time.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.content import DocumentContent
from documents.models import Document, Kind, Urgency
from units.models import RecipientGroup, Role, Unit
from workflow import services
from workflow.demo.history import DIRECTORY_BUILT, TELEGRAM_NUMBER, TELEGRAM_TITLE, History

__all__ = [
    "DRILL_TITLE",
    "LOGINS",
    "PASSWORD",
    "TELEGRAM_NUMBER",
    "TELEGRAM_TITLE",
    "DemoRefused",
    "demo_is_loaded",
    "demo_load",
]

DATA = Path(__file__).resolve().parent
PASSWORD = "demo-password"  # noqa: S105 (demo logins, printed by the demo command)


@dataclass(frozen=True)
class Login:
    username: str
    unit: str
    roles: str


LOGINS = [
    Login("zzb", "中共内蒙古自治区委员会组织部", "收发员、签发人、拟稿人"),
    Login("zzb-leader", "中共内蒙古自治区委员会组织部", "签发人（签发 zzb 起草的公文）"),
    Login("jygw", "中共内蒙古自治区教育工作委员会", "收发员、签发人、拟稿人"),
    Login("jygw-leader", "中共内蒙古自治区教育工作委员会", "签发人（签发 jygw 起草的转发通知）"),
    Login("imu", "中共内蒙古大学委员会", "收发员"),
    # Inside 内蒙古大学党委 (办理单, issue 14): its office, its secretary, two departments, two readers.
    Login("imu-office", "中共内蒙古大学委员会党委办公室", "收发员：签收、收文登记、拟办、答复"),
    Login("imu-leader", "中共内蒙古大学委员会", "领导（党委书记）：批办"),
    Login("imu-zzb", "中共内蒙古大学委员会组织部", "承办人：主办"),
    Login("imu-xcb", "中共内蒙古大学委员会宣传部", "承办人：协办"),
    Login("imu-reader1", "中共内蒙古大学委员会", "阅文人（党委委员）：传阅"),
    Login("imu-reader2", "中共内蒙古大学委员会", "阅文人（党委委员）：传阅"),
    Login("auditor", "中共内蒙古自治区委员会", "审计（全区）"),
    Login("admin", "/admin/", "管理员：办理时限、节假日与调休、单位和人员；不代任何单位办文"),
]


class DemoRefused(RuntimeError):
    """The demo cannot be loaded here; the message says why and what to do."""


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


class _Directory:
    """Builds the units, recipient groups and people, through the directory services."""

    def __init__(self) -> None:
        self.units: dict[str, Unit] = {}
        self.User = get_user_model()
        self.password = make_password(PASSWORD)  # hashed once: the hash is slow on purpose

    def unit(self, name: str, short_name: str, kind: str, parent: Unit | None, *, prefixes=(), illustrative=False):
        unit = services.unit_create(
            actor=None,
            name=name,
            short_name=short_name,
            kind=kind,
            parent=parent,
            number_prefixes=prefixes,
            is_illustrative=illustrative,
        )
        self.units[name] = unit
        return unit

    def person(self, username: str, unit: Unit, roles: list[Role], *, can_log_in: bool, full_name: str = ""):
        user = self.User(username=username, first_name=full_name)
        if can_log_in:
            user.password = self.password
        else:
            user.set_unusable_password()
        user.save()
        for role in roles:
            services.role_grant(actor=None, unit=unit, role=role, user=user)
        return user

    def build(self) -> dict:
        data = json.loads(_read("units.json"))
        region = self.unit(data["region"]["name"], data["region"]["short_name"], Unit.Kind.PARTY_COMMITTEE, None)
        department = data["organization_department"]
        zzb_unit = self.unit(
            department["name"], department["short_name"], Unit.Kind.DEPARTMENT, region, prefixes=department["prefixes"]
        )
        league_departments = []
        for league in data["leagues"]:
            committee = self.unit(
                league["committee"], league["committee_short"], Unit.Kind.PARTY_COMMITTEE, region, illustrative=True
            )
            league_departments.append(
                self.unit(
                    league["department"], league["department_short"], Unit.Kind.DEPARTMENT, committee, illustrative=True
                )
            )
        work_committees = [
            self.unit(
                wc["name"],
                wc["short_name"],
                Unit.Kind.WORK_COMMITTEE,
                region,
                prefixes=wc["prefixes"],
                illustrative=wc["illustrative"],
            )
            for wc in data["work_committees"]
        ]
        education = self.units["中共内蒙古自治区教育工作委员会"]
        universities = [
            self.unit(
                u["committee"],
                u["committee_short"],
                Unit.Kind.UNIVERSITY_COMMITTEE,
                education,
                prefixes=data["imu_prefixes"] if u["school"] == "内蒙古大学" else (),
                illustrative=True,
            )
            for u in data["universities"]
        ]
        imu_unit = self.units["中共内蒙古大学委员会"]
        colleges = [
            self.unit(c["name"], c["short_name"], Unit.Kind.COLLEGE_COMMITTEE, imu_unit, illustrative=True)
            for c in data["colleges_of_imu"]
        ]
        groups = {
            "各盟市委组织部": services.recipient_group_save(
                actor=None, owner=zzb_unit, name="各盟市委组织部", members=league_departments
            ),
            "自治区各直属党（工）委": services.recipient_group_save(
                actor=None, owner=zzb_unit, name="自治区各直属党（工）委", members=work_committees
            ),
            "各高等学校党委": services.recipient_group_save(
                actor=None, owner=education, name="各高等学校党委", members=universities
            ),
            "各学院党委": services.recipient_group_save(
                actor=None, owner=imu_unit, name="各学院党委", members=colleges
            ),
        }
        people = {
            "zzb": self.person("zzb", zzb_unit, [Role.CLERK, Role.SIGNER, Role.DRAFTER], can_log_in=True),
            # 核稿 and 签发 by two people: a draft is signed off by a signer who did not write it.
            "zzb-leader": self.person("zzb-leader", zzb_unit, [Role.SIGNER], can_log_in=True),
            "jygw": self.person("jygw", education, [Role.CLERK, Role.SIGNER, Role.DRAFTER], can_log_in=True),
            "jygw-leader": self.person("jygw-leader", education, [Role.SIGNER], can_log_in=True),
            "imu": self.person("imu", imu_unit, [Role.CLERK], can_log_in=True),
            "imu-signer": self.person("imu-signer", imu_unit, [Role.SIGNER], can_log_in=False),
            "auditor": self.person("auditor", region, [], can_log_in=True),
        }
        # The administrator of the demo: the admin site (办理时限, 节假日与调休, units and people). A
        # superuser acts for no unit: it has no role, as everywhere (README, Decisions).
        admin = self.User(username="admin", is_staff=True, is_superuser=True, password=self.password)
        admin.save()
        people["admin"] = admin
        services.role_grant(actor=None, unit=region, role=Role.AUDITOR, user=people["auditor"])
        # Every other recipient unit gets a clerk, so that it can sign (they cannot log in).
        for index, unit in enumerate([*league_departments, *work_committees, *universities, *colleges]):
            if unit.pk not in (education.pk, imu_unit.pk):
                people[f"clerk-{unit.pk}"] = self.person(f"clerk{index + 1:03d}", unit, [Role.CLERK], can_log_in=False)
        inside = self.imu_inside(imu_unit, people)
        for name, prefix_year_serial in (("内组电明字", 10), ("内教工委函", 89)):
            services.number_series_set(actor=None, prefix=name, year=2022, last_serial=prefix_year_serial)
        return {
            "groups": groups,
            "people": people,
            "zzb_unit": zzb_unit,
            "education": education,
            "imu_unit": imu_unit,
            "imu_inside": inside,
        }

    def imu_inside(self, imu_unit: Unit, people: dict) -> dict[str, Unit]:
        """内蒙古大学党委's departments (created by its clerk) and the people of its 办理单."""
        departments = {
            short: services.department_create(people["imu"], imu_unit.pk, name=name, short_name=short)
            for name, short in (("党委办公室", "党委办公室"), ("组织部", "组织部"), ("宣传部", "宣传部"))
        }
        office = self.person("imu-office", imu_unit, [Role.CLERK], can_log_in=True, full_name="党委办公室收发员")
        services.unit_add_member(actor=None, unit=departments["党委办公室"], user=office)
        people["imu-office"] = office
        people["imu-leader"] = self.person("imu-leader", imu_unit, [Role.LEADER], can_log_in=True, full_name="党委书记")
        people["imu-zzb"] = self.person(
            "imu-zzb", departments["组织部"], [Role.HANDLER], can_log_in=True, full_name="组织部承办人"
        )
        people["imu-xcb"] = self.person(
            "imu-xcb", departments["宣传部"], [Role.HANDLER], can_log_in=True, full_name="宣传部承办人"
        )
        for index in (1, 2):
            people[f"imu-reader{index}"] = self.person(
                f"imu-reader{index}", imu_unit, [Role.READER], can_log_in=True, full_name=f"党委委员{index}"
            )
        return departments


def demo_is_loaded() -> bool:
    return Document.objects.filter(number_prefix="内组电明字", number_year=2022, number_serial=11).exists()


def _clock():
    """time-machine's travel: the history is replayed at its own dates (workflow.demo.history)."""
    try:
        import time_machine  # a development dependency, needed by the demo only
    except ImportError:
        raise DemoRefused(
            _(
                "演示数据需要 time-machine 才能按原日期（2022年10月）重放历史，但当前环境没有安装。"
                "请先运行 make run（它会安装 requirements-dev.txt），"
                "或运行 .venv/bin/pip install -r requirements-dev.txt。"
            )
        ) from None
    return time_machine.travel


@transaction.atomic
def demo_load() -> None:
    """Build the directory and replay the seed, all or nothing. Refuses a database that has units."""
    travel = _clock()
    if Unit.objects.exists():
        raise DemoRefused(_("演示数据只能载入空数据库（数据库里已经有单位）。"))
    with travel(DIRECTORY_BUILT, tick=False):
        directory = _Directory().build()
    History(directory, _read).replay(travel)
    people, groups = directory["people"], directory["groups"]
    _issue_drill(people["zzb"], people["zzb-leader"], directory["zzb_unit"], groups["自治区各直属党（工）委"])
    _live_handling(directory)


DRILL_TITLE = "关于开展公文流转系统签收转发演练的通知"


def _issue_drill(zzb, leader, unit: Unit, recipients: RecipientGroup) -> None:
    """A 特提 drill telegram, left unsigned, for a clerk trying the system (`jygw` finds it on top).

    The seed chain above is history, already signed and forwarded; this one is for practice, and
    says so in its text.
    """
    drill = services.document_draft(
        actor=zzb,
        unit=unit,
        content=DocumentContent(
            kind=Kind.TELEGRAM,
            title=DRILL_TITLE,
            body=_read("drill_body.txt"),
            urgency=Urgency.FLASH,
            issuer_mark="中共内蒙古自治区委员会组织部明传电报",
            signature_organ="内蒙古自治区党委组织部",
            written_on=timezone.localdate(),
            page_count=1,
            telegram_send_to="见报头",
        ),
        main_recipients=[recipients],
        number_prefix="内组电明字",
    )
    services.document_sign_off(actor=leader, document=drill)
    dispatch = services.document_issue(actor=zzb, document=drill)
    services.dispatch_route(dispatch_id=dispatch.pk)
    services.dispatch_notify(dispatch_id=dispatch.pk)


LIVE_TITLE = "关于报送{year}年度基层党组织建设工作情况的通知"
LIVE_BODY = (
    "内蒙古大学党委：\n"
    "请认真总结本年度基层党组织建设工作，于办结时限前报送工作情况报告。\n"
    "（演示数据：内蒙古大学党委的办理单正在办理中。）"
)


def _live_handling(directory: dict) -> None:
    """A notice of the organisation department to 内蒙古大学党委, issued today, whose 办理单 is under
    way: registered, proposed, instructed (组织部 主办, 宣传部 协办, two readers in turn), 组织部 has
    taken it up, and the first reader has read it; the second reader's slip is open (issue 14)."""
    people, zzb_unit, imu_unit = directory["people"], directory["zzb_unit"], directory["imu_unit"]
    inside = directory["imu_inside"]
    notice = services.document_draft(
        actor=people["zzb"],
        unit=zzb_unit,
        content=DocumentContent(
            kind=Kind.NOTICE,
            title=LIVE_TITLE.format(year=timezone.localdate().year),
            body=LIVE_BODY,
            urgency=Urgency.ROUTINE,
            written_on=timezone.localdate(),
        ),
        main_recipients=[imu_unit],
        number_prefix="内组字",
    )
    services.document_sign_off(actor=people["zzb-leader"], document=notice)
    dispatch = services.document_issue(actor=people["zzb"], document=notice)
    services.dispatch_route(dispatch_id=dispatch.pk)
    services.dispatch_notify(dispatch_id=dispatch.pk)
    delivery = dispatch.deliveries.get()
    office = people["imu-office"]
    services.delivery_sign_for(actor=office, delivery_id=delivery.pk)
    record = services.delivery_register(office, delivery.pk)
    services.handling_propose(
        office,
        record.pk,
        text="请组织部牵头总结报送，宣传部配合提供宣传思想工作情况。",
        department_ids=[inside["组织部"].pk, inside["宣传部"].pk],
    )
    services.handling_instruct(
        people["imu-leader"],
        record.pk,
        text="同意。请组织部牵头，按时报送。",
        lead_department_ids=[inside["组织部"].pk],
        assist_department_ids=[inside["宣传部"].pk],
        reader_ids=[people["imu-reader1"].pk, people["imu-reader2"].pk],
        deadline=delivery.deadline_complete,
    )
    services.assignment_accept(people["imu-zzb"], record.assignments.get(department=inside["组织部"]).pk)
    first = record.reading_slips.order_by("position").first()
    services.reading_done(people["imu-reader1"], first.pk)
    # The unit's clerk has seen it arrive; what waits for the people trying the demo is in their 待办.
    services.notification_mark_read(actor=people["imu"])
