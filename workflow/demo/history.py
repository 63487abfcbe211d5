"""The seed's chain replayed at its own dates, as history (October 2022).

The seed gives one date: the telegram 内组电明字〔2022〕11号 is dated 2022-10-13 (a Thursday). The
rest is the demo's, and plausible for a 特提 telegram: the organisation department issues it that
morning; the units' clerks sign for it within minutes, a few after the 30 minutes a 特提 telegram
gives them, some never; the education work committee forwards it the next working day under
内教工委函〔2022〕90号 (成文日期 2022-10-14, the day it is signed off), and 内蒙古大学党委 forwards
that the same afternoon (内大党发〔2022〕1号). Every unit that signed reports 办结 with its 落实情况
by its deadline, a few on the next working day. The times come from a fixed seed: every load is the
same history.

The services take the time from django.utils.timezone.now() (and auto_now_add); they have no "as
of" argument, and should not get one: no caller in the product may choose the moment of a receipt
or an audit event. So the demo, and only the demo, moves the clock (time-machine, a development
dependency that `make run` installs) around each step, and the steps go through the same services
as a clerk's clicks, the beat's 催办 sweep included. The deadlines (workflow.deadlines, with the
2022 holiday calendar of migration 0005) fall in October 2022 too.

History is history: the chain is closed by the end of it, so that the beat of a demo started today
has nothing of 2022 to urge, and no clerk finds three-year-old reminders in their bell. The product
urges an open overdue delivery every REMINDER_INTERVAL_MINUTES, for ever; a 2022 delivery left open
would be urged the moment the demo starts. Hence every unit that signed also completed (办结), and
the deliveries of the units that never signed were withdrawn by their issuer once the beat's 催办
had gone unanswered (that evening; the telegram's the next morning), with the reason an office
would give (the paper copy went by the confidential courier, 机要交通). The people trying the demo
have read their 2022 notifications. The live drill (`_issue_drill`) is today's, and everything the
clerks do with it is urged and escalated as usual.
"""

import datetime
import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from documents.content import DocumentContent
from documents.models import Document, Kind, Urgency
from units.models import RecipientGroup, Unit
from workflow import services
from workflow.models import Delivery

ZONE = ZoneInfo("Asia/Shanghai")
TELEGRAM_NUMBER = "内组电明字〔2022〕11号"
TELEGRAM_TITLE = "关于进一步发挥基层党组织战斗堡垒和党员先锋模范作用在打赢疫情防控攻坚战中切实担当作为的通知"
SEED = 20221013  # the history's random numbers: the same history on every load
# The beat's 催办 sweep, replayed every half hour (the real one looks every minute; a round is due
# only every REMINDER_INTERVAL_MINUTES, 4 hours, anyway).
SWEEP_EVERY = datetime.timedelta(minutes=30)
COURIER_REASON = "逾期未在系统中签收，已改由机要交通送达纸质文件。"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2022, month, day, hour, minute, tzinfo=ZONE)


# The moments of the story (Asia/Shanghai). 2022-10-13 is a Thursday; 10-15 and 10-16 a weekend.
DIRECTORY_BUILT = at(10, 10, 9)
TELEGRAM_DRAFTED = at(10, 13, 8, 40)
TELEGRAM_SIGNED_OFF = at(10, 13, 9, 10)
TELEGRAM_ISSUED = at(10, 13, 9, 25)
COVER_DRAFTED = at(10, 13, 15, 20)
COVER_SIGNED_OFF = at(10, 14, 8, 50)
COVER_ISSUED = at(10, 14, 9, 5)
IMU_COVER_DRAFTED = at(10, 14, 10, 10)
IMU_COVER_SIGNED_OFF = at(10, 14, 14, 10)
IMU_COVER_ISSUED = at(10, 14, 14, 30)
HISTORY_ENDS = at(10, 17, 18, 0)  # the last 办结 is in by then
ROUTED_AFTER = datetime.timedelta(seconds=3)  # the worker routes and notifies within seconds


@dataclass(frozen=True)
class LevelPlan:
    """How the units of one level of the chain behave: their sign-for times (minutes, log-normal:
    most within the 30 minutes of a 特提 document, a few later, up to hours), how many never sign, and
    on which days (working days after they signed) they report 办结; when the issuer withdraws the
    deliveries nobody signed for, after the beat's 催办 (and sends the paper copy)."""

    median_minutes: float
    spread: float
    never: int
    completion_days: tuple[int, ...]
    withdrawn: datetime.datetime


# 特提: 30 minutes to sign for it, one working day to complete it, and a forward gives its units no
# more time than its own unit had (workflow.services.documents): so the universities and the colleges
# have until the end of 2022-10-14 too, and complete that day, a few on the Monday after.
LEVELS = {
    1: LevelPlan(
        median_minutes=8, spread=0.75, never=1, completion_days=(0, 0, 1, 1, 1, 1, 1, 2), withdrawn=at(10, 14, 9, 30)
    ),
    2: LevelPlan(
        median_minutes=12, spread=0.8, never=5, completion_days=(0, 0, 0, 0, 0, 0, 0, 1), withdrawn=at(10, 14, 17, 45)
    ),
    3: LevelPlan(median_minutes=25, spread=0.5, never=1, completion_days=(0, 0, 0, 1), withdrawn=at(10, 14, 17, 45)),
}

FEEDBACK = {
    1: [
        "已第一时间传达至各旗县（市、区）委组织部，组织党员干部下沉社区参与疫情防控。",
        "已召开部务会专题学习，印发通知部署落实，在疫情防控一线考察识别干部。",
        "已转发所属基层党组织认真学习贯彻，设立党员先锋岗和党员志愿服务队。",
    ],
    2: [
        "已召开党委常委会传达学习，组织师生党员参与校园疫情防控志愿服务。",
        "已传达至各基层党组织，党员教师带头做好线上教学和学生服务保障。",
        "已印发通知部署落实，成立党员突击队参与校园封控管理和物资保障。",
    ],
    3: ["已组织学院党员学习，师生党员参与楼宇值守和物资配送志愿服务。"],
}
# The people inside 内蒙古大学党委 (workflow.demo._Directory.imu_inside) and what its departments report.
INSIDE_IMU = ("imu-office", "imu-leader", "imu-zzb", "imu-xcb", "imu-reader1", "imu-reader2")
ORGANIZATION_REPORT = "已召开组织部部务会传达学习，印发通知部署各基层党组织落实，设立党员先锋岗。"
PUBLICITY_REPORT = "已在校园网和官方微信公众号刊发学习贯彻情况，营造担当作为的良好氛围。"
EDUCATION_FEEDBACK = "已以内教工委函〔2022〕90号转发各高等学校党委，要求认真组织学习并抓好贯彻落实。"
IMU_FEEDBACK = "已以内大党发〔2022〕1号转发各学院党委，并在全校党员干部中传达学习。"


@dataclass(order=True)
class _Step:
    moment: datetime.datetime
    rank: int  # at one moment, the people act before the beat's sweep
    seq: int
    action: Callable[[], object] = field(compare=False)


class Timeline:
    """Steps at moments, run in order of time, each with the clock moved to its moment."""

    def __init__(self) -> None:
        self._steps: list[_Step] = []
        self._seq = itertools.count()

    def at(self, moment: datetime.datetime, action: Callable[[], object], *, rank: int = 0) -> None:
        heapq.heappush(self._steps, _Step(moment, rank, next(self._seq), action))

    def sweeps(self, start: datetime.datetime, end: datetime.datetime) -> None:
        moment = start
        while moment <= end:
            self.at(moment, services.delivery_remind_overdue, rank=1)
            moment += SWEEP_EVERY

    def run(self, travel) -> None:
        while self._steps:
            step = heapq.heappop(self._steps)
            with travel(step.moment, tick=False):
                step.action()


def sign_delays(rng: random.Random, plan: LevelPlan, count: int) -> list[datetime.timedelta]:
    """`count` sign-for times for a level: whole minutes (2 to 480), log-normal around its median."""
    delays = []
    for _unit in range(count):
        minutes = math.exp(rng.gauss(math.log(plan.median_minutes), plan.spread))
        delays.append(datetime.timedelta(minutes=min(max(round(minutes), 2), 480)))
    return delays


def office_moment(rng: random.Random, after: datetime.datetime, working_days: int) -> datetime.datetime:
    """A moment in office hours (09:00–17:30) on the `working_days`-th working day after `after`'s day
    (0: that day, at least 40 minutes after `after`), Monday to Friday (October 2022 after the
    National Day holiday has no other exception)."""
    day = after.date()
    for _day in range(working_days):
        day += datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(9), ZONE) + datetime.timedelta(minutes=rng.randrange(510))
    earliest = after + datetime.timedelta(minutes=40 + rng.randrange(80))
    return max(moment, earliest)


class History:
    """The replay of the seed's chain over the directory the demo built (`_Directory.build`)."""

    def __init__(self, directory: dict, read) -> None:
        self.directory = directory
        self.people = directory["people"]
        self.groups = directory["groups"]
        self.read = read  # the demo's text files
        self.timeline = Timeline()
        self.rng = random.Random(SEED)  # noqa: S311 (a reproducible history, not a secret)
        self.documents: dict[str, Document] = {}

    def replay(self, travel) -> None:
        """Schedule the whole story, then run it with the clock at each step's moment."""
        people, groups, step = self.people, self.groups, self.timeline.at
        education, imu_unit = self.directory["education"], self.directory["imu_unit"]

        step(TELEGRAM_DRAFTED, self._draft_telegram)
        step(TELEGRAM_SIGNED_OFF, self._sign_off("telegram", people["zzb-leader"]))
        step(TELEGRAM_ISSUED, self._issue("telegram", people["zzb"]))
        step(TELEGRAM_ISSUED + ROUTED_AFTER, self._deliver("telegram"))
        level_one = members(groups["各盟市委组织部"]) + members(groups["自治区各直属党（工）委"])
        self.level("telegram", 1, level_one, TELEGRAM_ISSUED, keep={education.pk: datetime.timedelta(minutes=8)})

        step(COVER_DRAFTED, self._forward_telegram)
        step(COVER_SIGNED_OFF, self._sign_off("cover", people["jygw-leader"]))
        step(COVER_ISSUED, self._issue("cover", people["jygw"]))
        step(COVER_ISSUED + ROUTED_AFTER, self._deliver("cover"))
        step(at(10, 14, 10, 20), self._complete("telegram", education, EDUCATION_FEEDBACK))
        universities = members(groups["各高等学校党委"])
        self.level("cover", 2, universities, COVER_ISSUED, keep={imu_unit.pk: datetime.timedelta(minutes=11)})

        step(IMU_COVER_DRAFTED, self._forward_cover)
        step(IMU_COVER_SIGNED_OFF, self._sign_off("imu_cover", people["imu-signer"]))
        step(IMU_COVER_ISSUED, self._issue("imu_cover", people["imu"]))
        step(IMU_COVER_ISSUED + ROUTED_AFTER, self._deliver("imu_cover"))
        self.handle_inside(imu_unit)
        step(at(10, 14, 16, 0), self._complete("cover", imu_unit, IMU_FEEDBACK))
        self.level("imu_cover", 3, members(groups["各学院党委"]), IMU_COVER_ISSUED, keep={})

        self.timeline.sweeps(TELEGRAM_ISSUED, HISTORY_ENDS)
        step(HISTORY_ENDS, self._read_notifications)
        self.timeline.run(travel)

    # --- the documents ----------------------------------------------------------------------------

    def _draft_telegram(self) -> None:
        self.documents["telegram"] = services.document_draft(
            actor=self.people["zzb"],
            unit=self.directory["zzb_unit"],
            content=DocumentContent(
                kind=Kind.TELEGRAM,
                title=TELEGRAM_TITLE,
                body=self.read("telegram_body.txt"),
                urgency=Urgency.FLASH,
                issuer_mark="中共内蒙古自治区委员会组织部明传电报",
                signature_organ="内蒙古自治区党委组织部",
                written_on=datetime.date(2022, 10, 13),
                page_count=4,
                telegram_send_to="见报头",
                telegram_approval_office="机要三",
                telegram_approver="李玉刚",
                telegram_seal="发电专用章",
            ),
            main_recipients=[self.groups["各盟市委组织部"], self.groups["自治区各直属党（工）委"]],
            number_prefix="内组电明字",
        )

    def _forward_telegram(self) -> None:
        jygw = self.people["jygw"]
        cover = services.document_forward(
            actor=jygw,
            delivery=self.delivery("telegram", self.directory["education"]),
            main_recipients=[self.groups["各高等学校党委"]],
            number_prefix="内教工委函",
        )
        self.documents["cover"] = services.document_update(
            actor=jygw,
            document=cover,
            content=DocumentContent(
                kind=Kind.NOTICE,
                title=cover.title,
                body=self.read("cover_body.txt"),
                urgency=cover.urgency,
                issuer_mark="中共内蒙古自治区教育工作委员会",
            ),
        )

    def _forward_cover(self) -> None:
        self.documents["imu_cover"] = services.document_forward(
            actor=self.people["imu"],
            delivery=self.delivery("cover", self.directory["imu_unit"]),
            main_recipients=[self.groups["各学院党委"]],
        )

    def _sign_off(self, key: str, signer):
        # The seed's cover letter shows no 成文日期 (its page 2 holds only "(此页无正文)"): it stays undated.
        dated = key != "cover"
        return lambda: services.document_sign_off(actor=signer, document=self.documents[key], dated=dated)

    def _issue(self, key: str, clerk):
        def issue() -> None:
            self.documents[key] = services.document_issue(actor=clerk, document=self.documents[key]).document

        return issue

    def _deliver(self, key: str):
        def deliver() -> None:
            dispatch = self.documents[key].dispatches.get()
            services.dispatch_route(dispatch_id=dispatch.pk)
            services.dispatch_notify(dispatch_id=dispatch.pk)

        return deliver

    def _read_notifications(self) -> None:
        for username in ("zzb", "jygw", "imu", *INSIDE_IMU):
            services.notification_mark_read(actor=self.people[username])

    # --- inside 内蒙古大学党委: the cover letter's 办理单 (issue 14) ------------------------------------

    def handle_inside(self, imu_unit: Unit) -> None:
        """内蒙古大学党委 handles 内教工委函〔2022〕90号 inside the unit, between signing for it (09:16)
        and its 办结 (16:00): the 党委办公室 registers it and proposes, the secretary instructs, the
        组织部 handles it with the 宣传部 assisting, two members of the 党委 read it in turn."""
        people, step = self.people, self.timeline.at
        inside = self.directory["imu_inside"]
        organization, publicity = inside["组织部"], inside["宣传部"]
        state: dict = {}

        def delivery() -> Delivery:
            return self.delivery("cover", imu_unit)

        def register() -> None:
            state["record"] = services.delivery_register(people["imu-office"], delivery().pk)

        def propose() -> None:
            services.handling_propose(
                people["imu-office"],
                state["record"].pk,
                text="请组织部牵头落实，宣传部配合。",
                department_ids=[organization.pk, publicity.pk],
            )

        def instruct() -> None:
            services.handling_instruct(
                people["imu-leader"],
                state["record"].pk,
                text="同意。请组织部抓好落实。",
                lead_department_ids=[organization.pk],
                assist_department_ids=[publicity.pk],
                reader_ids=[people["imu-reader1"].pk, people["imu-reader2"].pk],
                deadline=at(10, 14, 15, 30),
            )

        def assignment(department: Unit):
            return state["record"].assignments.get(department=department).pk

        def slip(username: str):
            return state["record"].reading_slips.get(reader=people[username]).pk

        step(at(10, 14, 9, 30), register)
        step(at(10, 14, 9, 40), propose)
        step(at(10, 14, 10, 0), instruct)
        step(at(10, 14, 10, 20), lambda: services.assignment_accept(people["imu-zzb"], assignment(organization)))
        step(at(10, 14, 10, 35), lambda: services.assignment_accept(people["imu-xcb"], assignment(publicity)))
        step(at(10, 14, 11, 5), lambda: services.reading_done(people["imu-reader1"], slip("imu-reader1")))
        step(
            at(10, 14, 11, 40),
            lambda: services.reading_done(
                people["imu-reader2"], slip("imu-reader2"), remark="同意，请组织部抓好落实。"
            ),
        )
        step(
            at(10, 14, 13, 30),
            lambda: services.assignment_report(
                people["imu-xcb"], assignment(publicity), text=PUBLICITY_REPORT, finish=True
            ),
        )
        step(
            at(10, 14, 15, 0),
            lambda: services.assignment_report(
                people["imu-zzb"], assignment(organization), text=ORGANIZATION_REPORT, finish=True
            ),
        )

    # --- one level: sign for and 办结, or never ------------------------------------------------------

    def level(self, key: str, depth: int, units: list[Unit], issued: datetime.datetime, keep: dict) -> None:
        """Schedule what the units of one level do with the document `key` issued at `issued`.

        `keep` gives the sign-for time of the units whose story is told by hand (the demo logins'
        units, which then forward it); the others draw theirs, and `plan.never` of them never sign.
        """
        plan = LEVELS[depth]
        others = [unit for unit in units if unit.pk not in keep]
        never = set(self.rng.sample([unit.pk for unit in others], plan.never))
        delays = iter(sign_delays(self.rng, plan, len(others) - len(never)))
        for unit in units:
            if unit.pk in never:
                # Some opened it and let it lie; the others never opened it at all.
                if self.rng.random() < 0.4:
                    opened = issued + datetime.timedelta(minutes=5 + self.rng.randrange(120))
                    self.timeline.at(opened, self._open(key, unit))
                self.timeline.at(plan.withdrawn, self._withdraw(key, unit))
                continue
            signed = issued + (keep[unit.pk] if unit.pk in keep else next(delays))
            opened = max(
                issued + datetime.timedelta(minutes=1), signed - datetime.timedelta(minutes=1 + self.rng.randrange(3))
            )
            self.timeline.at(opened, self._open(key, unit))
            self.timeline.at(signed, self._sign(key, unit))
            if unit.pk not in keep:
                completed = office_moment(self.rng, signed, self.rng.choice(plan.completion_days))
                self.timeline.at(completed, self._complete(key, unit, self.rng.choice(FEEDBACK[depth])))

    def clerk_of(self, unit: Unit):
        by_unit = {
            self.directory["zzb_unit"].pk: "zzb",
            self.directory["education"].pk: "jygw",
            self.directory["imu_unit"].pk: "imu",
        }
        return self.people[by_unit.get(unit.pk, f"clerk-{unit.pk}")]

    def delivery(self, key: str, unit: Unit) -> Delivery:
        return Delivery.objects.get(document=self.documents[key], unit=unit)

    def _open(self, key: str, unit: Unit):
        return lambda: services.delivery_open(actor=self.clerk_of(unit), delivery=self.delivery(key, unit))

    def _sign(self, key: str, unit: Unit):
        return lambda: services.delivery_sign_for(actor=self.clerk_of(unit), delivery_id=self.delivery(key, unit).pk)

    def _complete(self, key: str, unit: Unit, feedback: str):
        return lambda: services.delivery_complete(
            actor=self.clerk_of(unit), delivery_id=self.delivery(key, unit).pk, feedback=feedback
        )

    def _withdraw(self, key: str, unit: Unit):
        def withdraw() -> None:
            issuer = self.clerk_of(self.documents[key].issuing_unit)
            services.delivery_recall(actor=issuer, delivery_id=self.delivery(key, unit).pk, reason=COURIER_REASON)

        return withdraw


def members(group: RecipientGroup) -> list[Unit]:
    return list(group.members.order_by("pk"))
