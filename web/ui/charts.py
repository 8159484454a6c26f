"""Small server-rendered SVG charts: no JavaScript, readable by screen readers through <title> and <desc>.

Colours and fonts come from classes in callvault.css (the CSP refuses inline styles); geometry uses
SVG attributes, which the CSP does not restrict. Every chart has a table beside it with the same numbers.
Weeks are ISO weeks in the organisation's time zone, labelled "Week 48, 2026" in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import has_request_context
from flask_babel import gettext
from markupsafe import Markup

from recordings_service.db import utcnow
from recordings_service.decimals import one_decimal
from recordings_service.evaluations import trends
from web.database import db
from web.i18n import decimal, form_text, organisation_zone, week_label

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 36
MAX_X_LABELS = 12


BAR_HEIGHT, BAR_GAP, BAR_LEFT = 22, 8, 220
TREND_WEEKS = 12


def number(value: float | None, *, no_data: str = "—") -> str:
    """A value with one decimal in the reader's language (76.5 / 76,5)."""
    if value is None:
        return no_data
    return decimal(value) if has_request_context() else f"{one_decimal(value):.1f}"


def describe(points: Sequence[tuple[str, float | None]], *, no_data: str) -> str:
    """The chart's data as one sentence, for its <desc>: 'W47: 75.0; W48: no data'."""
    return "; ".join(f"{label}: {no_data if value is None else number(value)}" for label, value in points)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[tuple[str, float | None]],
    y_max: float = 100.0,
    y_ticks: Sequence[float] = (0, 25, 50, 75, 100),
) -> Markup:
    """A line chart of labelled values, `None` leaving a gap; `chart_id` keeps ids unique on the page."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step if len(points) > 1 else LEFT + plot_w / 2

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(max(value, 0.0), y_max) / y_max)

    parts = [_svg_open(chart_id, title, description, height=HEIGHT)]
    for tick in y_ticks:
        parts.append(
            Markup(
                '<line class="chart-grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
                '<text class="chart-label" x="{tx}" y="{ty}" text-anchor="end">{label}</text>'
            ).format(
                x1=LEFT, x2=WIDTH - RIGHT, y=f"{y(tick):.1f}", tx=LEFT - 6, ty=f"{y(tick) + 4:.1f}", label=f"{tick:g}"
            )
        )
    every = -(-len(points) // MAX_X_LABELS)  # ceiling: at most MAX_X_LABELS labels under the axis
    for index, (label, _value) in enumerate(points):
        if index % every == 0 or index == len(points) - 1:
            parts.append(
                Markup('<text class="chart-label" x="{x}" y="{y}" text-anchor="middle">{label}</text>').format(
                    x=f"{x(index):.1f}", y=HEIGHT - BOTTOM + 18, label=label
                )
            )
    for run in _runs(points):
        coordinates = " ".join(f"{x(index):.1f},{y(value):.1f}" for index, value in run)
        parts.append(Markup('<polyline class="chart-line" fill="none" points="{}"/>').format(coordinates))
    for index, (label, value) in enumerate(points):
        if value is not None:
            parts.append(
                Markup(
                    '<circle class="chart-point" cx="{x}" cy="{y}" r="3.5"><title>{label}: {value}</title></circle>'
                ).format(x=f"{x(index):.1f}", y=f"{y(value):.1f}", label=label, value=number(value))
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _svg_open(chart_id: str, title: str, description: str, *, height: int) -> Markup:
    """The <svg> start tag with its accessible name (<title>) and description (<desc>)."""
    return Markup(
        '<svg class="chart" id="{id}" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(id=chart_id, w=WIDTH, h=height, title=title, desc=description)


def _runs(points: Sequence[tuple[str, float | None]]) -> list[list[tuple[int, float]]]:
    """Consecutive points with values: a missing week breaks the line rather than bridging it."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, (_label, value) in enumerate(points):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if run]


def bar_chart(
    *, chart_id: str, title: str, description: str, bars: Sequence[tuple[str, float | None]], x_max: float = 100.0
) -> Markup:
    """Horizontal bars, one per labelled value (0 to `x_max`); a bar without a value is left empty."""
    height = TOP + len(bars) * (BAR_HEIGHT + BAR_GAP) + BOTTOM
    plot_w = WIDTH - BAR_LEFT - RIGHT - 40
    parts = [_svg_open(chart_id, title, description, height=height)]
    for index, (label, value) in enumerate(bars):
        top = TOP + index * (BAR_HEIGHT + BAR_GAP)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            Markup('<text class="chart-label" x="{x}" y="{y}" text-anchor="end">{label}</text>').format(
                x=BAR_LEFT - 6, y=top + BAR_HEIGHT - 6, label=short
            )
        )
        if value is not None:
            width = plot_w * min(max(value, 0.0), x_max) / x_max
            parts.append(
                Markup(
                    '<rect class="chart-bar" x="{x}" y="{y}" width="{w}" height="{h}">'
                    "<title>{label}: {value}</title></rect>"
                    '<text class="chart-label" x="{tx}" y="{ty}">{value}</text>'
                ).format(
                    x=BAR_LEFT,
                    y=top,
                    w=f"{width:.1f}",
                    h=BAR_HEIGHT,
                    label=label,
                    value=number(value),
                    tx=f"{BAR_LEFT + width + 4:.1f}",
                    ty=top + BAR_HEIGHT - 6,
                )
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Breakdown:
    """The evaluation pages' charts (per question, per agent, critical-failure rate) with their tables' rows."""

    questions: list[trends.QuestionScore]
    question_chart: Markup
    agents: list[trends.AgentScore]
    agent_chart: Markup | None
    failures: list[trends.WeekRate]
    failure_chart: Markup


def breakdown(*, agent_ref: str | None = None, queue: str | None = None, weeks: int = TREND_WEEKS) -> Breakdown:
    """The charts of the last `weeks` ISO weeks (in CALLVAULT_TIMEZONE), for one agent, one queue or all."""
    tz = organisation_zone()
    since = trends.week_began(utcnow(), tz) - timedelta(weeks=weeks - 1)
    questions = trends.question_scores(db(), since=since, agent_ref=agent_ref, queue=queue)
    no_data = gettext("no answers")
    question_bars = [(form_text(item.question), item.average) for item in questions]
    question_chart = bar_chart(
        chart_id="per-question",
        title=gettext("Average per question, last %(count)s weeks", count=weeks),
        description=describe(question_bars, no_data=no_data),
        bars=question_bars,
    )
    agents = trends.agent_scores(db(), since=since, queue=queue) if agent_ref is None else []
    agent_bars = [(item.agent_ref, item.average) for item in agents]
    agent_chart = (
        bar_chart(
            chart_id="per-agent",
            title=gettext("Average score per agent, last %(count)s weeks", count=weeks),
            description=describe(agent_bars, no_data=no_data),
            bars=agent_bars,
        )
        if agents
        else None
    )
    failures = trends.weekly_critical_failures(db(), weeks=weeks, agent_ref=agent_ref, queue=queue, tz=tz)
    failure_points = [(week_label(item.week_start), item.rate) for item in failures]
    failure_chart = line_chart(
        chart_id="critical-failures",
        title=gettext("Share of evaluations failing a critical question, per week (%)"),
        description=describe(failure_points, no_data=gettext("no evaluations")),
        points=failure_points,
    )
    return Breakdown(questions, question_chart, agents, agent_chart, failures, failure_chart)
