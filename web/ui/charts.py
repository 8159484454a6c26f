"""Small server-rendered SVG charts: no JavaScript, readable by screen readers through <title> and <desc>.

Colours and fonts come from classes in callvault.css (the CSP refuses inline styles); geometry uses
SVG attributes, which the CSP does not restrict.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 36
MAX_X_LABELS = 12


def describe(points: Sequence[tuple[str, float | None]], *, no_data: str) -> str:
    """The chart's data as one sentence, for its <desc>: 'W47: 75.0; W48: no data'."""
    return "; ".join(f"{label}: {no_data if value is None else f'{value:.1f}'}" for label, value in points)


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

    parts = [
        Markup(
            '<svg class="chart" id="{id}" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc" '
            'xmlns="http://www.w3.org/2000/svg">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(id=chart_id, w=WIDTH, h=HEIGHT, title=title, desc=description)
    ]
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
                ).format(x=f"{x(index):.1f}", y=f"{y(value):.1f}", label=label, value=f"{value:.1f}")
            )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


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
