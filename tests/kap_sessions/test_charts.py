"""The course's measures as charts: the series (baseline, response, remission at their exact
thresholds) and the SVG drawn from them (points, marks, labels), with its text beside it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string

from kap_sessions.charts import (
    MeasureSeries,
    course_measure_series,
    is_remission,
    is_response,
    measure_chart_svg,
)
from practice.identity import practice_profile
from tests.factories import CourseFactory
from tests.kap_sessions.factories import ScreeningResponseFactory
from tests.kap_sessions.factories_notes import course_answer

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2027, 3, 2, 18, tzinfo=UTC)  # 10:00 in Los Angeles


@pytest.fixture(autouse=True)
def _profile(practice_profile):  # type: ignore[no-untyped-def]
    return practice_profile


def answers(course, instrument: str, *scores: tuple[str, int]):  # type: ignore[no-untyped-def]
    """(occasion, total) answered a week apart, in that order."""
    return [
        course_answer(
            course=course,
            instrument=instrument,
            occasion=occasion,
            total=total,
            completed_at=START + timedelta(weeks=week),
        )
        for week, (occasion, total) in enumerate(scores)
    ]


def series_of(course, instrument: str) -> MeasureSeries:  # type: ignore[no-untyped-def]
    (found,) = [s for s in course_measure_series(course=course) if s.instrument == instrument]
    return found


def marks(series: MeasureSeries) -> list[tuple[int, bool, bool, bool]]:
    return [(p.total, p.is_baseline, p.response, p.remission) for p in series.points]


def parsed(series: MeasureSeries) -> ET.Element:
    # Our own markup, parsed to check it is well-formed XML.
    return ET.fromstring(str(measure_chart_svg(series)))  # noqa: S314


def drawn_points(root: ET.Element) -> list[tuple[str, str]]:
    return [
        (g.get("data-total"), g.get("data-marks"))
        for g in root.iter(f"{SVG}g")
        if g.get("data-point")
    ]


# --- Response and remission at their thresholds ----------------------------------


@pytest.mark.parametrize(
    ("baseline", "total", "expected"),
    [
        (10, 5, True),  # exactly half
        (10, 6, False),
        (11, 5, True),  # 54.5% down
        (11, 6, False),  # 45.5% down
        (20, 10, True),
        (20, 11, False),
        (1, 0, True),
        (0, 0, False),  # nothing to drop from
    ],
)
def test_response_is_a_drop_of_at_least_half(baseline, total, expected):
    assert is_response(baseline=baseline, total=total) is expected


@pytest.mark.parametrize(
    ("instrument", "total", "expected"),
    [
        ("phq-9", 4, True),
        ("phq-9", 5, False),
        ("gad-7", 4, True),
        ("gad-7", 5, False),
        ("epds", 9, True),
        ("epds", 10, False),
    ],
)
def test_remission_is_under_each_questionnaire_s_threshold(instrument, total, expected):
    assert is_remission(instrument=instrument, total=total) is expected


def test_each_point_is_marked_against_the_baseline():
    course = CourseFactory()
    answers(
        course,
        "phq-9",
        ("baseline", 18),
        ("before_dosing_1", 10),
        ("before_dosing_2", 9),
        ("after_integration", 5),
        ("one_month", 4),
    )

    series = series_of(course, "phq-9")

    assert marks(series) == [
        (18, True, False, False),
        (10, False, False, False),
        (9, False, True, False),  # exactly half of 18
        (5, False, True, False),  # PHQ-9 remission is under 5
        (4, False, True, True),
    ]
    assert (series.reached_response, series.reached_remission) == (True, True)


def test_epds_remission_is_under_ten():
    course = CourseFactory()
    answers(course, "epds", ("baseline", 16), ("after_integration", 10), ("one_month", 9))

    assert marks(series_of(course, "epds")) == [
        (16, True, False, False),
        (10, False, False, False),
        (9, False, False, True),  # under 10, but not half of 16
    ]


def test_the_baseline_itself_carries_no_mark_even_when_low():
    course = CourseFactory()
    answers(course, "gad-7", ("baseline", 3), ("after_integration", 1))

    assert marks(series_of(course, "gad-7")) == [(3, True, False, False), (1, False, True, True)]


def test_the_baseline_is_the_baseline_occasion_even_when_answered_later():
    course = CourseFactory()
    answers(course, "phq-9", ("before_dosing_1", 20), ("baseline", 16), ("after_integration", 8))

    series = series_of(course, "phq-9")

    assert series.baseline is not None
    assert (series.baseline.total, series.baseline.occasion) == (16, "baseline")
    assert marks(series) == [
        (20, False, False, False),
        (16, True, False, False),
        (8, False, True, False),
    ]


def test_without_a_baseline_answer_the_first_answer_is_the_baseline():
    course = CourseFactory()
    answers(course, "phq-9", ("before_dosing_1", 12), ("after_integration", 6))

    assert marks(series_of(course, "phq-9")) == [(12, True, False, False), (6, False, True, False)]


# --- The series --------------------------------------------------------------------


def test_there_is_one_series_per_questionnaire_even_with_no_answers():
    course = CourseFactory()
    answers(course, "gad-7", ("baseline", 12))

    series = course_measure_series(course=course)

    assert [(s.instrument, s.name, len(s.points)) for s in series] == [
        ("phq-9", "PHQ-9", 0),
        ("gad-7", "GAD-7", 1),
        ("epds", "EPDS", 0),
    ]
    assert series[0].baseline is None


def test_points_are_in_the_order_she_answered():
    course = CourseFactory()
    later, earlier = (
        course_answer(course=course, instrument="phq-9", occasion=o, total=t, completed_at=at)
        for o, t, at in [
            ("after_integration", 6, START + timedelta(days=40)),
            ("baseline", 15, START),
        ]
    )

    series = series_of(course, "phq-9")

    assert [p.response_id for p in series.points] == [earlier.pk, later.pk]
    # 10:00 in Los Angeles on 2 March, the practice's day.
    assert [p.day.isoformat() for p in series.points] == ["2027-03-02", "2027-04-11"]


def test_answers_outside_the_course_s_plan_are_left_out():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 15))
    ScreeningResponseFactory(
        assignment__client=course.client, client=course.client, total=2
    )  # by hand
    answers(
        CourseFactory(client=course.client, phase="withdrawn", closed_on=START.date()),
        "phq-9",
        ("baseline", 27),
    )

    assert [p.total for p in series_of(course, "phq-9").points] == [15]


@pytest.mark.parametrize("per_instrument", [1, 6])
def test_the_series_cost_one_query_however_many_answers(per_instrument, django_assert_num_queries):
    course = CourseFactory()
    for slug in ("phq-9", "gad-7", "epds"):
        answers(
            course,
            slug,
            *[("baseline" if n == 0 else f"before_dosing_{n}", 10) for n in range(per_instrument)],
        )
    practice_profile()  # cached, as on any admin page

    with django_assert_num_queries(1):
        series = course_measure_series(course=course)
        drawn = [measure_chart_svg(s) for s in series]

    assert [len(s.points) for s in series] == [per_instrument] * 3
    assert all(str(svg).startswith("<svg") for svg in drawn)


def test_the_summary_says_it_in_words():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 18), ("after_integration", 7))

    assert series_of(course, "phq-9").summary == (
        "PHQ-9: Baseline 18 of 27 on Mar 2, 2027. Latest 7 on Mar 9, 2027, 61% below baseline. "
        "2 answers in all. Response (a drop of 50% or more) reached. "
        "No remission (under 5) yet."
    )


def test_the_summary_of_no_answers():
    assert series_of(CourseFactory(), "epds").summary == "EPDS: no answers yet."


# --- The SVG ---------------------------------------------------------------------


def test_the_chart_is_a_titled_described_image():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 18), ("after_integration", 7))
    series = series_of(course, "phq-9")

    root = parsed(series)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "PHQ-9 scores over the course"
    assert desc.text == series.summary


def test_the_chart_has_both_axes_labelled():
    course = CourseFactory()
    answers(course, "gad-7", ("baseline", 12), ("after_integration", 5))

    root = parsed(series_of(course, "gad-7"))

    axes = {t.get("data-axis"): t.text for t in root.iter(f"{SVG}text") if t.get("data-axis")}
    assert axes == {"y": "Score (0 to 21)", "x": "Date answered"}
    # Every 5; the top (21) would crowd 20 and is named by the axis title instead.
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("data-tick")]
    assert ticks == ["0", "5", "10", "15", "20"]
    assert [
        (t.get("data-date"), t.text) for t in root.iter(f"{SVG}text") if t.get("data-date")
    ] == [
        ("2027-03-02", "Mar 2"),
        ("2027-03-09", "Mar 9"),
    ]


def test_the_chart_draws_one_point_per_answer_in_order_with_its_marks():
    course = CourseFactory()
    answers(
        course,
        "phq-9",
        ("baseline", 18),
        ("before_dosing_1", 10),
        ("after_integration", 9),
        ("one_month", 4),
    )

    root = parsed(series_of(course, "phq-9"))

    assert drawn_points(root) == [
        ("18", "baseline"),
        ("10", ""),
        ("9", "response"),
        ("4", "response remission"),
    ]
    groups = [g for g in root.iter(f"{SVG}g") if g.get("data-point")]
    xs = [float(g.find(f"{SVG}text").get("x")) for g in groups]  # type: ignore[union-attr]
    assert xs == sorted(xs) and len(set(xs)) == 4
    # A response is ringed; a remission is a square; the others are dots.
    shapes = [
        ([c.get("r") for c in g.findall(f"{SVG}circle")], len(g.findall(f"{SVG}rect")))
        for g in groups
    ]
    assert shapes == [(["4.5"], 0), (["4.5"], 0), (["4.5", "9"], 0), (["9"], 1)]
    titles = [g.find(f"{SVG}title").text for g in groups]  # type: ignore[union-attr]
    assert titles[0] == "Mar 2, 2027, Baseline: 18 of 27 (baseline)"
    assert titles[3] == "Mar 23, 2027, One month after completion: 4 of 27 (response, remission)"


@pytest.mark.parametrize(
    ("instrument", "ticks"),
    [
        ("phq-9", [0, 5, 10, 15, 20, 25]),
        ("gad-7", [0, 5, 10, 15, 20]),
        ("epds", [0, 5, 10, 15, 20, 25, 30]),
    ],
)
def test_each_scale_is_ticked_every_five(instrument, ticks):
    root = parsed(series_of(CourseFactory(), instrument))

    assert [int(t.text or "") for t in root.iter(f"{SVG}text") if t.get("data-tick")] == ticks


def test_the_chart_places_each_score_on_its_scale():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 27), ("after_integration", 0))

    root = parsed(series_of(course, "phq-9"))

    dots = [c for c in root.iter(f"{SVG}circle") if c.get("r") == "4.5"]
    # The plot runs from y=16 (the top of the scale) to y=216 (zero).
    assert [dots[0].get("cy")] == ["16"]
    squares = [
        r for g in root.iter(f"{SVG}g") if g.get("data-point") for r in g.findall(f"{SVG}rect")
    ]
    assert float(squares[0].get("y")) + 5 == 216  # type: ignore[arg-type]
    polyline = root.find(f"{SVG}polyline")
    assert polyline is not None and polyline.get("points", "").count(",") == 2


def test_the_chart_marks_the_baseline_and_the_remission_zone():
    course = CourseFactory()
    answers(course, "epds", ("baseline", 20), ("after_integration", 12))

    root = parsed(series_of(course, "epds"))

    baseline = [e for e in root.iter(f"{SVG}line") if e.get("data-mark") == "baseline"]
    assert len(baseline) == 1
    assert (
        baseline[0].get("y1")
        == baseline[0].get("y2")
        == f"{16 + 200 - 200 * 20 / 30:.1f}".removesuffix(".0")
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Baseline 20" in texts
    assert "Remission: under 10" in texts
    zone = [e for e in root.iter(f"{SVG}rect") if e.get("data-mark") == "remission-zone"]
    assert [(z.get("y"), z.get("height")) for z in zone] == [
        (_n(216 - 200 * 10 / 30), _n(200 * 10 / 30))
    ]
    assert "Response: 50% or more below baseline" in texts


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def test_a_chart_with_no_answers_says_so():
    root = parsed(series_of(CourseFactory(), "gad-7"))

    assert drawn_points(root) == []
    assert "No answers yet" in [t.text for t in root.iter(f"{SVG}text")]
    assert not [e for e in root.iter(f"{SVG}line") if e.get("data-mark") == "baseline"]


def test_a_single_answer_is_drawn_without_a_line():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 14))

    root = parsed(series_of(course, "phq-9"))

    assert drawn_points(root) == [("14", "baseline")]
    assert root.find(f"{SVG}polyline") is None


def test_the_chart_uses_no_script_and_no_inline_style():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 14), ("after_integration", 3))

    svg = str(measure_chart_svg(series_of(course, "phq-9")))

    assert "<script" not in svg
    assert "style=" not in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


# --- The course page's partial ---------------------------------------------------


def test_the_partial_shows_each_chart_with_its_words_and_table_beside_it():
    course = CourseFactory()
    answers(course, "phq-9", ("baseline", 18), ("after_integration", 9), ("one_month", 4))

    html = render_to_string(
        "kap_sessions/admin/_course_measures.html", {"series": course_measure_series(course=course)}
    )

    assert html.count("<svg") == 3
    assert "PHQ-9: Baseline 18 of 27 on Mar 2, 2027." in html
    assert "EPDS: no answers yet." in html
    rows = html.split("<tbody>")[1].split("</tbody>")[0]
    points = series_of(course, "phq-9").points
    expected_marks = ["Baseline", "Response", "Response, Remission"]
    assert [" ".join(row.split()) for row in rows.split("<tr")[1:]] == [
        f'data-point="{p.response_id}"> <td>{p.day_label}</td> <td>{p.occasion_label}</td> '
        f"<td>{p.total} of 27</td> <td>{m}</td> </tr>"
        for p, m in zip(points, expected_marks, strict=True)
    ]
    assert "css/course-measures" in html
