"""Durations as offices write them: 2分42秒, 1小时5分, 3天4小时 (issue 11, item 7)."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from web.charts import duration_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "不到1秒"),
        (0.4, "不到1秒"),
        (1, "1秒"),
        (59.6, "59秒"),  # never rounded up: 59.6 seconds late is not a minute late
        (60, "1分钟"),
        (162, "2分42秒"),  # was "2.7分钟"
        (78, "1分18秒"),  # was "1.3分钟"
        (30 * 60, "30分钟"),
        (3599, "59分59秒"),
        (3600, "1小时"),
        (3900, "1小时5分"),
        (3930, "1小时5分"),  # the seconds of an hour-long wait are left out
        (2 * 86400 - 60, "1天23小时"),
        (86400, "1天"),
        (3 * 86400 + 4 * 3600 + 59 * 60, "3天4小时"),
        (30 * 86400, "30天"),
        (-5, "不到1秒"),
    ],
)
def test_a_duration_reads_as_offices_write_it(seconds, text):
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "under 1 s"),
        (42, "42 s"),
        (162, "2 min 42 s"),
        (300, "5 min"),
        (3900, "1 h 5 min"),
        (7200, "2 h"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
        (86400, "1 d"),
    ],
)
def test_a_duration_in_english(seconds, text):
    with translation.override("en"):
        assert duration_text(seconds) == text


def test_the_template_filters_write_durations_and_lateness_alike():
    deadline = datetime.datetime(2022, 10, 13, 9, 30, tzinfo=datetime.UTC)
    template = Template(
        "{% load web_tags %}{{ taken|duration }}|{{ missing|duration }}|{{ deadline|late_by:signed }}|"
        "{{ deadline|late_by:early }}"
    )
    text = template.render(
        Context(
            {
                "taken": datetime.timedelta(minutes=2, seconds=42),
                "missing": None,
                "deadline": deadline,
                "signed": deadline + datetime.timedelta(hours=1, minutes=5, seconds=12),
                "early": deadline - datetime.timedelta(minutes=1),
            }
        )
    )
    assert text == "2分42秒|—|1小时5分|"
