"""A server-rendered bar chart: geometry only, the template draws the SVG."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 480
HEIGHT = 120
GAP = 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


def activity_bars(newest_first: list[int], bucket_hours: int = 1) -> list[Bar]:
    """Bars for users by last activity, oldest on the left; heights scaled to the tallest."""
    counts = list(reversed(newest_first))
    n = len(counts) or 1
    tallest = max(counts, default=0) or 1
    width = WIDTH / n
    bars = []
    for i, count in enumerate(counts):
        hours_ago = (n - i) * bucket_hours
        height = HEIGHT * count / tallest
        label = f"{count} users last active {hours_ago - bucket_hours}-{hours_ago} h ago"
        bars.append(Bar(i * width, HEIGHT - height, max(width - GAP, 1), height, count, label))
    return bars
