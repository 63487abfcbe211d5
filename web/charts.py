"""Geometry of the chain page's two charts, drawn as SVG by the template (no script, no library).

- Sign-for times per level against the deadlines: a log time axis (seconds to days fit on one
  chart), per level a box from the first to the third quartile, the median, whiskers to the fastest
  and slowest, the individual times as dots (a sample when there are many; hollow when that unit
  signed after its own deadline) and the time the level's units were given to sign, read from the
  deadlines fixed on their deliveries (the shortest and the longest when they differ: documents of
  several urgencies, or working days counted from different days).
- Units signed over time: per level, the share of its units that had signed, as a step curve over
  the time since the root document was issued.

The number of SVG elements is bounded whatever the size of the chain.
"""

import datetime
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from workflow.selectors import ChainNode

if TYPE_CHECKING:  # web.selectors draws its chain page with these charts
    from workflow.selectors import ChainLevel

# Colour and dash pattern per level, told apart without colour too (readable when printed in grey).
LEVEL_STYLES = [
    ("#b91c1c", ""),
    ("#1d4ed8", "6 3"),
    ("#047857", "2 3"),
    ("#7c3aed", "8 3 2 3"),
    ("#b45309", "1 2"),
]
MAX_DOTS = 60
MAX_CURVE_POINTS = 300
WIDTH = 720
LEFT, RIGHT = 90, 24


def duration_text(seconds: float) -> str:
    """A time taken as offices write it: 2分42秒, 1小时5分, 3天4小时. The two largest units; the
    smaller one is left out when it is zero (5分钟, 2小时, 3天) and never rounded up (a unit 59.6
    seconds late is 59秒 late, not 1分钟). For axis ticks, labels and the tables."""
    whole = max(int(seconds), 0)
    if seconds < 1:
        return _("不到1秒")
    if whole < 60:
        return _("%(seconds)d秒") % {"seconds": whole}
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        if rest:
            return _("%(minutes)d分%(seconds)d秒") % {"minutes": minutes, "seconds": rest}
        return _("%(minutes)d分钟") % {"minutes": minutes}
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        if minutes:
            return _("%(hours)d小时%(minutes)d分") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d小时") % {"hours": hours}
    days, hours = divmod(whole // 3600, 24)
    if hours:
        return _("%(days)d天%(hours)d小时") % {"days": days, "hours": hours}
    return _("%(days)d天") % {"days": days}


def _style(index: int) -> tuple[str, str]:
    return LEVEL_STYLES[index % len(LEVEL_STYLES)]


def _sample(values: list, limit: int) -> list:
    if len(values) <= limit:
        return values
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]


def _quantile(sorted_values: list[float], q: float) -> float:
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class SignTimeRow:
    label: str
    y: float
    color: str
    signed: int
    total: int
    dots: list[float] = field(default_factory=list)
    late_dots: list[float] = field(default_factory=list)
    box: tuple[float, float] | None = None
    median: float | None = None
    whiskers: tuple[float, float] | None = None
    deadlines: list["DeadlineMark"] = field(default_factory=list)
    late: int = 0
    overdue: int = 0
    pending: int = 0


@dataclass
class DeadlineMark:
    x: float
    label: str


@dataclass
class SignTimeChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: float
    ticks: list[Tick]
    rows: list[SignTimeRow]


_TICK_SECONDS = [1, 10, 60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 10 * 86400, 30 * 86400]
ROW_HEIGHT = 48


def sign_time_chart(levels: "list[ChainLevel]") -> SignTimeChart:
    seconds = [d.total_seconds() for level in levels for d in level.durations]
    deadlines = [allowance.total_seconds() for level in levels for allowance in level.allowances]
    top = max([*seconds, *deadlines, 60.0]) * 1.3
    low, high = math.log10(1.0), math.log10(top)
    plot_right = WIDTH - RIGHT

    def x(value: float) -> float:
        return round(LEFT + (math.log10(max(value, 1.0)) - low) / (high - low) * (plot_right - LEFT), 1)

    rows = []
    for index, level in enumerate(levels):
        color, _dash = _style(index)
        timed = sorted((d.total_seconds(), late) for d, late in zip(level.durations, level.signed_late, strict=True))
        values = [value for value, _late in timed]
        row = SignTimeRow(
            label=_("第%(depth)d级") % {"depth": level.depth},
            y=24 + index * ROW_HEIGHT + ROW_HEIGHT / 2,
            color=color,
            signed=level.signed,
            total=level.total,
            late=level.late_signs,
            overdue=level.overdue,
            pending=len(level.stalled),
        )
        if values:
            for value, late in _sample(timed, MAX_DOTS):
                (row.late_dots if late else row.dots).append(x(value))
            row.box = (x(_quantile(values, 0.25)), x(_quantile(values, 0.75)))
            row.median = x(_quantile(values, 0.5))
            row.whiskers = (x(values[0]), x(values[-1]))
        shown = {level.shortest_allowance, level.longest_allowance} - {None}
        row.deadlines = [
            DeadlineMark(x(allowance.total_seconds()), duration_text(allowance.total_seconds()))
            for allowance in sorted(shown)
        ]
        rows.append(row)
    axis_y = 24 + len(levels) * ROW_HEIGHT + 4
    ticks = [Tick(x(s), duration_text(s)) for s in _TICK_SECONDS if s <= top]
    return SignTimeChart(WIDTH, int(axis_y + 36), LEFT, plot_right, axis_y, ticks, rows)


@dataclass
class Curve:
    label: str
    color: str
    dash: str
    points: str  # SVG polyline points
    signed: int
    total: int


@dataclass
class CurveChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    x_ticks: list[Tick]
    y_ticks: list[tuple[float, str]]
    curves: list[Curve]
    is_empty: bool


def signed_curve_chart(tree: ChainNode) -> CurveChart:
    start = tree.issued_at
    by_level: dict[int, list[datetime.datetime]] = {}
    totals: dict[int, int] = {}
    for node in tree.walk():
        depth = node.depth + 1
        totals[depth] = totals.get(depth, 0) + len(node.deliveries)
        by_level.setdefault(depth, []).extend(d.signed_at for d in node.deliveries if d.signed_at)
    plot_top, plot_bottom, plot_right = 16, 196, WIDTH - RIGHT
    times = [t for values in by_level.values() for t in values]
    span = max(((max(times) - start).total_seconds() if times and start else 0.0), 1.0) * 1.05

    def x(moment: datetime.datetime) -> float:
        return round(LEFT + max((moment - start).total_seconds(), 0.0) / span * (plot_right - LEFT), 1)

    def y(share: float) -> float:
        return round(plot_bottom - share * (plot_bottom - plot_top), 1)

    curves = []
    for index, depth in enumerate(sorted(totals)):
        color, dash = _style(index)
        total, signed = totals[depth], sorted(by_level.get(depth, []))
        points = [(LEFT, y(0))]
        for count, moment in _sample(list(enumerate(signed, 1)), MAX_CURVE_POINTS):
            points += [(x(moment), points[-1][1]), (x(moment), y(count / total))]
        points.append((plot_right, points[-1][1]))
        curves.append(
            Curve(
                label=_("第%(depth)d级") % {"depth": depth},
                color=color,
                dash=dash,
                points=" ".join(f"{px},{py}" for px, py in points),
                signed=len(signed),
                total=total,
            )
        )
    x_ticks = [
        Tick(round(LEFT + i / 4 * (plot_right - LEFT), 1), duration_text(span * i / 4) if i else "0") for i in range(5)
    ]
    y_ticks = [(y(share), f"{share:.0%}") for share in (0, 0.25, 0.5, 0.75, 1)]
    return CurveChart(
        WIDTH, plot_bottom + 40, LEFT, plot_right, plot_top, plot_bottom, x_ticks, y_ticks, curves, not times
    )
