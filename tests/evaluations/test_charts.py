"""The server-side SVG chart: well-formed, accessible, escaped, gaps left open."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from web.ui.charts import describe, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def test_chart_is_an_accessible_image_with_title_and_description() -> None:
    points = [("2026-W46", 50.0), ("2026-W47", None), ("2026-W48", 75.0)]
    svg = parse(
        line_chart(chart_id="t", title="Weekly score", description=describe(points, no_data="none"), points=points)
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "t-title t-desc"
    assert svg.find(f"{SVG}title").text == "Weekly score"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").text == "2026-W46: 50.0; 2026-W47: none; 2026-W48: 75.0"  # type: ignore[union-attr]


def test_a_missing_value_breaks_the_line() -> None:
    points = [("a", 10.0), ("b", 20.0), ("c", None), ("d", 40.0), ("e", 50.0)]
    svg = parse(line_chart(chart_id="g", title="t", description="d", points=points))
    lines = svg.findall(f"{SVG}polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]
    assert len(svg.findall(f"{SVG}circle")) == 4


def test_values_map_onto_the_plot_and_are_clamped() -> None:
    svg = parse(
        line_chart(chart_id="v", title="t", description="d", points=[("lo", 0.0), ("hi", 100.0), ("over", 250.0)])
    )
    ys = [float(circle.get("cy", "")) for circle in svg.findall(f"{SVG}circle")]
    assert ys[0] > ys[1] and ys[1] == ys[2]  # 0 is at the bottom; above y_max is drawn at the top


def test_text_is_escaped() -> None:
    markup = line_chart(chart_id="e", title="<script>", description="a & b", points=[("<W1>", 1.0)])
    assert "<script>" not in markup
    svg = parse(markup)
    assert svg.find(f"{SVG}title").text == "<script>"  # type: ignore[union-attr]


def test_many_weeks_get_at_most_a_dozen_labels_and_one_point_is_centred() -> None:
    points = [(f"W{n}", float(n)) for n in range(52)]
    svg = parse(line_chart(chart_id="m", title="t", description="d", points=points))
    labels = [t.text for t in svg.findall(f"{SVG}text") if t.text and t.text.startswith("W")]
    assert len(labels) <= 13 and labels[-1] == "W51"
    single = parse(line_chart(chart_id="s", title="t", description="d", points=[("only", 50.0)]))
    assert single.find(f"{SVG}circle") is not None
