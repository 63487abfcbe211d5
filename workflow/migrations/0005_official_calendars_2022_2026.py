"""The official working-day calendars for 2022 (the demo's year) and 2026, as the State Council's
holiday notices give them: each day of each holiday (放假), and each weekend day made a working day
(调休上班). Every other Monday to Friday is a working day; every other weekend day is not.

Sources (the notices' text, as published):

- 国务院办公厅关于2022年部分节假日安排的通知, 国办发明电〔2021〕11号, 2021年10月25日.
  Full text on the 首都之窗 policy page http://www.beijing.gov.cn/zhengce/zhengcefagui/202110/t20211026_2520500.html
  (发文字号 国办发明电〔2021〕11号, 成文日期 2021-10-25), and as reprinted from 中国政府网 on 2021-10-26.
- 国务院办公厅关于2026年部分节假日安排的通知, 2025年11月4日, released by 新华社 (北京11月4日电),
  full text e.g. at https://politics.gmw.cn/2025-11/04/content_38391083.htm (光明网, 来源 新华网).
  The reprints give no 发文字号, so none is cited here. The notice names the weekday of each date;
  every one was checked against the calendar (tests/workflow/test_calendar.py does it again).

A later year is added in the admin (节假日与调休) or by a new migration when its notice is published;
a year without entries counts Monday to Friday as working days.
"""

import datetime

from django.db import migrations

NOTICE_2022 = "国务院办公厅关于2022年部分节假日安排的通知（国办发明电〔2021〕11号）"
NOTICE_2026 = "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）"

# (name, first day off, last day off, weekend days worked instead)
CALENDARS = {
    NOTICE_2022: [
        ("元旦", "2022-01-01", "2022-01-03", []),
        ("春节", "2022-01-31", "2022-02-06", ["2022-01-29", "2022-01-30"]),
        ("清明节", "2022-04-03", "2022-04-05", ["2022-04-02"]),
        ("劳动节", "2022-04-30", "2022-05-04", ["2022-04-24", "2022-05-07"]),
        ("端午节", "2022-06-03", "2022-06-05", []),
        ("中秋节", "2022-09-10", "2022-09-12", []),
        ("国庆节", "2022-10-01", "2022-10-07", ["2022-10-08", "2022-10-09"]),
    ],
    NOTICE_2026: [
        ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
        ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
        ("清明节", "2026-04-04", "2026-04-06", []),
        ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
        ("端午节", "2026-06-19", "2026-06-21", []),
        ("中秋节", "2026-09-25", "2026-09-27", []),
        ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
    ],
}


def calendar_rows():
    """(date, is_working_day, name, source) for every day the notices name."""
    for source, holidays in CALENDARS.items():
        for name, first, last, worked in holidays:
            day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
            while day <= end:
                yield day, False, name, source
                day += datetime.timedelta(days=1)
            for text in worked:
                yield datetime.date.fromisoformat(text), True, f"{name}调休上班", source


def load(apps, schema_editor):
    CalendarDay = apps.get_model("workflow", "CalendarDay")
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=day, is_working_day=working, name=name, source=source)
            for day, working, name, source in calendar_rows()
        ],
        ignore_conflicts=True,
    )


def unload(apps, schema_editor):
    apps.get_model("workflow", "CalendarDay").objects.filter(source__in=list(CALENDARS)).delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0004_deadline_policy_defaults")]
    operations = [migrations.RunPython(load, unload)]
