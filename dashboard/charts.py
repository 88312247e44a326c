"""A server-rendered bar chart: geometry and words only, the template draws the SVG."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 480
HEIGHT = 120
GAP = 2
# At most this many gridline intervals: 8rem of chart holds five labels without crowding.
MAX_INTERVALS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Tick:
    """A gridline of the y scale: its value, its height in the SVG and its label."""

    value: int
    y: float
    label: str


@dataclass(frozen=True)
class ActivityChart:
    bars: list[Bar]
    ticks: list[Tick]  # bottom (0) to top
    top: int  # the value of the top gridline; bars are scaled to it
    total: int

    @property
    def description(self) -> str:
        """The scale in words, for screen readers (the SVG's <desc>)."""
        step = self.ticks[1].value if len(self.ticks) > 1 else self.top
        return f"Scale from 0 to {plural(self.top, 'user')}, a gridline every {step:,}."


def plural(count: int, word: str) -> str:
    """'1 user', '0 users', '1,234 users'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def y_scale(tallest: int, max_intervals: int = MAX_INTERVALS) -> list[int]:
    """Tick values from 0 up to the first multiple of a round step (1, 2 or 5 times a power
    of ten) at or above `tallest`, in at most `max_intervals` steps: 7 -> 0 2 4 6 8."""
    if tallest <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            intervals = -(-tallest // step)  # ceiling, in integers: counts can be huge
            if intervals <= max_intervals:
                return [i * step for i in range(intervals + 1)]
        magnitude *= 10


def activity_bars(newest_first: list[int], bucket_hours: int = 1, top: int = 0) -> list[Bar]:
    """Bars for users by last activity, oldest on the left; heights scaled to `top` (by
    default the tallest bar)."""
    counts = list(reversed(newest_first))
    n = len(counts) or 1
    top = top or max(counts, default=0) or 1
    width = WIDTH / n
    bars = []
    for i, count in enumerate(counts):
        hours_ago = (n - i) * bucket_hours
        height = HEIGHT * count / top
        label = f"{plural(count, 'user')} last active {hours_ago - bucket_hours}-{hours_ago} h ago"
        bars.append(Bar(i * width, HEIGHT - height, max(width - GAP, 1), height, count, label))
    return bars


def activity_chart(newest_first: list[int], bucket_hours: int = 1) -> ActivityChart:
    """The bars on a y scale of round numbers whose top gridline is at or above the tallest."""
    values = y_scale(max(newest_first, default=0))
    top = values[-1]
    ticks = [Tick(v, HEIGHT - HEIGHT * v / top, f"{v:,}") for v in values]
    bars = activity_bars(newest_first, bucket_hours, top)
    return ActivityChart(bars=bars, ticks=ticks, top=top, total=sum(newest_first))
