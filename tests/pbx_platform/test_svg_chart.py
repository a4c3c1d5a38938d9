"""The server-drawn SVG chart (R6's storage page): empty, one point, gaps, large values."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from pbx_platform.svg_chart import line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"
DAY = date(2026, 11, 20)


def chart(points, **extra):
    svg = line_chart(
        points,
        title=extra.pop("title", "Storage"),
        description=extra.pop("description", "Stored bytes per day"),
        value_label=lambda v: f"{v / 1e9:g} GB",
        date_label=lambda d: f"{d.month}月{d.day}日",
        **extra,
    )
    return svg, ET.fromstring(str(svg))  # noqa: S314  (our own output)


def days(values):
    first = DAY - timedelta(days=len(values) - 1)
    return [(first + timedelta(days=n), v) for n, v in enumerate(values)]


def test_nice_ceiling():
    assert nice_ceiling(0) == 1
    assert nice_ceiling(7) == 10
    assert nice_ceiling(1_500_000) == 2_000_000
    assert nice_ceiling(2_100_000_000) == 2_500_000_000
    assert nice_ceiling(100_000_000_000) == 100_000_000_000


def test_title_description_and_role_for_assistive_technology():
    svg, root = chart(days([1, 2]), title="保存容量 <90日>", description="説明 & 数値")
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "保存容量 <90日>"
    assert root.find(f"{SVG}desc").text == "説明 & 数値"
    assert "&lt;90日&gt;" in str(svg)  # escaped, never markup


def test_empty_chart_draws_axes_and_the_empty_label():
    _, root = chart([], empty_label="まだデータがありません")
    assert root.find(f"{SVG}polyline") is None
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "まだデータがありません" in labels
    assert "0 GB" in labels


def test_one_point_is_a_dot_with_its_day():
    _, root = chart([(DAY, 5_000_000_000)])
    assert root.find(f"{SVG}polyline") is None
    assert len(root.findall(f"{SVG}circle")) == 1
    assert "11月20日" in [t.text for t in root.iter(f"{SVG}text")]


def test_gaps_split_the_line():
    _, root = chart(days([1e9, 2e9, None, None, 3e9, 4e9]))
    assert len(root.findall(f"{SVG}polyline")) == 2
    first, second = (p.get("points").split() for p in root.findall(f"{SVG}polyline"))
    assert len(first) == 2 and len(second) == 2


def test_days_along_the_bottom_in_japanese():
    _, root = chart(days([0] * 89 + [1]))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    first = DAY - timedelta(days=89)
    middle = first + timedelta(days=44)
    assert [f"{d.month}月{d.day}日" for d in (first, middle, DAY)] == labels[-3:]


def test_large_values_stay_inside_the_drawing():
    values = [n * 1_200_000_000 for n in range(90)]  # up to 106.8 GB
    _svg, root = chart(days(values), limit=100_000_000_000, limit_label="上限 100 GB")
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "200 GB" in labels  # the scale's top is a round number above the maximum
    coordinates = [
        float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", root.find(f"{SVG}polyline").get("points"))
    ]
    assert min(coordinates) >= 0 and max(coordinates) <= 320
    limit = root.find(f"{SVG}line[@class='chart-limit']")
    assert limit is not None
    assert "上限 100 GB" in labels


def test_a_limit_far_above_the_values_is_not_drawn():
    _, root = chart(days([1_000_000, 2_000_000]), limit=100_000_000_000)
    assert root.find(f"{SVG}line[@class='chart-limit']") is None
