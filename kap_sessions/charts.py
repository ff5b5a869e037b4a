"""The course's measures as charts: one series per questionnaire, drawn as inline SVG.

:func:`course_measure_series` reads every answered measure of a course in
one query and marks each point against the course's baseline:

- **response**: the score is at least 50% below the baseline's
  (``2 * score <= baseline``; a baseline of 0 cannot drop);
- **remission**: the score is under the questionnaire's threshold
  (PHQ-9 under 5, GAD-7 under 5, EPDS under 10).

The baseline itself is the measure of the course's ``baseline`` occasion
(the first answer of the course when that one is missing) and carries
neither mark: they say what changed after it.

:func:`measure_chart_svg` draws a series on the server: no script, no
library, presentation attributes only (the Content-Security-Policy allows no
inline style), so the same markup shows in the admin and in the course
summary PDF. The points are evenly spaced in date order, labelled with
their dates, so that close answers never overlap. The chart is a titled,
described image; the same facts are written out beside it in text
(``templates/kap_sessions/admin/_course_measures.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from practice.identity import practice_profile

from .instruments import INSTRUMENTS
from .models import Course, ScreeningResponse
from .services.measures import BASELINE, MEASURE_INSTRUMENTS, occasion_label

# Remission: a score under this, per questionnaire.
REMISSION_BELOW: dict[str, int] = {"phq-9": 5, "gad-7": 5, "epds": 10}
# Short names for the chart titles (the EPDS's full name is long).
SHORT_NAMES: dict[str, str] = {"phq-9": "PHQ-9", "gad-7": "GAD-7", "epds": "EPDS"}


def is_response(*, baseline: int, total: int) -> bool:
    """A drop of at least 50% from ``baseline``."""
    return baseline > 0 and 2 * total <= baseline


def is_remission(*, instrument: str, total: int) -> bool:
    return total < REMISSION_BELOW[instrument]


@dataclass(frozen=True)
class MeasurePoint:
    """One answered questionnaire of the course."""

    response_id: int
    completed_at: datetime
    day: date  # in the practice's time zone
    total: int
    occasion: str
    is_baseline: bool = False
    response: bool = False
    remission: bool = False

    @property
    def occasion_label(self) -> str:
        return occasion_label(self.occasion)

    @property
    def day_label(self) -> str:
        return date_format(self.day, "M j, Y")


@dataclass(frozen=True)
class MeasureSeries:
    """One questionnaire's answers over a course, with its baseline and marks."""

    course_id: int
    instrument: str
    points: tuple[MeasurePoint, ...]
    baseline: MeasurePoint | None

    @property
    def name(self) -> str:
        return SHORT_NAMES[self.instrument]

    @property
    def max_total(self) -> int:
        return INSTRUMENTS[self.instrument].max_total

    @property
    def remission_below(self) -> int:
        return REMISSION_BELOW[self.instrument]

    @property
    def dom_id(self) -> str:
        return f"course-{self.course_id}-{self.instrument}"

    @property
    def latest(self) -> MeasurePoint | None:
        return self.points[-1] if self.points else None

    @property
    def reached_response(self) -> bool:
        return any(point.response for point in self.points)

    @property
    def reached_remission(self) -> bool:
        return any(point.remission for point in self.points)

    @property
    def summary(self) -> str:
        """The chart in one paragraph of plain words (its description, and the text beside it)."""
        if not self.points:
            return f"{self.name}: no answers yet."
        parts = []
        if self.baseline is not None:
            parts.append(
                f"Baseline {self.baseline.total} of {self.max_total} on {self.baseline.day_label}."
            )
        latest = self.latest
        assert latest is not None  # noqa: S101 (points is not empty)
        if latest is not self.baseline:
            change = ""
            if self.baseline is not None and self.baseline.total > 0:
                percent = round(100 * (self.baseline.total - latest.total) / self.baseline.total)
                if percent > 0:
                    change = f", {percent}% below baseline"
                elif percent < 0:
                    change = f", {-percent}% above baseline"
                else:
                    change = ", the same as baseline"
            parts.append(f"Latest {latest.total} on {latest.day_label}{change}.")
        answered = len(self.points)
        parts.append(f"{answered} answer{'s' if answered != 1 else ''} in all.")
        parts.append(
            "Response (a drop of 50% or more) reached."
            if self.reached_response
            else "No response (a drop of 50% or more) yet."
        )
        parts.append(
            f"Remission (under {self.remission_below}) reached."
            if self.reached_remission
            else f"No remission (under {self.remission_below}) yet."
        )
        return f"{self.name}: " + " ".join(parts)

    @property
    def svg(self) -> SafeString:
        """The chart (for templates, which cannot pass an argument)."""
        return measure_chart_svg(self)


def course_measure_series(*, course: Course) -> list[MeasureSeries]:
    """The course's answered measures, one series per questionnaire (PHQ-9, GAD-7, EPDS).

    One query, whatever the number of answers; a questionnaire with none
    still has its (empty) series. Responses to questionnaires assigned by
    hand, outside the course's plan, are not part of it.
    """
    rows = (
        ScreeningResponse.objects.filter(assignment__course=course)
        .order_by("completed_at", "id")
        .values_list("id", "instrument", "total", "completed_at", "assignment__occasion")
    )
    zone = practice_profile().zone
    by_instrument: dict[str, list[tuple[int, int, datetime, str]]] = {
        slug: [] for slug in MEASURE_INSTRUMENTS
    }
    for pk, instrument, total, completed_at, occasion in rows:
        by_instrument.setdefault(instrument, []).append((pk, total, completed_at, occasion))
    series = []
    for instrument, answers in by_instrument.items():
        baseline_index = next(
            (index for index, answer in enumerate(answers) if answer[3] == BASELINE), 0
        )
        baseline_total = answers[baseline_index][1] if answers else 0
        points = tuple(
            MeasurePoint(
                response_id=pk,
                completed_at=completed_at,
                day=timezone.localdate(completed_at, timezone=zone),
                total=total,
                occasion=occasion,
                is_baseline=index == baseline_index,
                response=index != baseline_index
                and is_response(baseline=baseline_total, total=total),
                remission=index != baseline_index
                and is_remission(instrument=instrument, total=total),
            )
            for index, (pk, total, completed_at, occasion) in enumerate(answers)
        )
        series.append(
            MeasureSeries(
                course_id=course.pk,
                instrument=instrument,
                points=points,
                baseline=points[baseline_index] if points else None,
            )
        )
    return series


# --- Drawing ---------------------------------------------------------------------

WIDTH, HEIGHT = 560, 300
# The right margin holds the baseline's label; the bottom the dates, axis title and legend.
LEFT, RIGHT, TOP, BOTTOM = 52, 76, 16, 84
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
INK, GRID, LINE = "#2b2b2b", "#d5d5d5", "#3d3d3d"
BASELINE_INK, RESPONSE_INK = "#8a4b00", "#1a4f9c"
REMISSION_INK, REMISSION_ZONE = "#1d6b3f", "#e4f2e9"


def _y(total: float, max_total: int) -> float:
    return TOP + PLOT_H - PLOT_H * total / max_total


def _x(index: int, count: int) -> float:
    if count <= 1:
        return LEFT + PLOT_W / 2
    inset = 24  # keeps the first and last point off the axes
    return LEFT + inset + (PLOT_W - 2 * inset) * index / (count - 1)


def _ticks(max_total: int) -> list[int]:
    """Every 5, and the top of the scale unless it would crowd the last one (27 after 25)."""
    step = 5
    ticks = list(range(0, max_total + 1, step))
    if max_total - ticks[-1] >= 3:
        ticks.append(max_total)
    return ticks


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def measure_chart_svg(series: MeasureSeries) -> SafeString:
    """``series`` as an accessible inline SVG: axes, baseline, points, response and remission marks.

    Every text in it is escaped; the caller may place it in a page as is.
    """
    max_total = series.max_total
    title_id, desc_id = f"{series.dom_id}-title", f"{series.dom_id}-desc"
    parts: list[str] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="measure-chart-svg" '
            'viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-labelledby="{} {}" '
            'font-family="sans-serif" font-size="11" data-instrument="{}">',
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT,
            title_id,
            desc_id,
            series.instrument,
        ),
        format_html('<title id="{}">{} scores over the course</title>', title_id, series.name),
        format_html('<desc id="{}">{}</desc>', desc_id, series.summary),
    ]
    bottom = TOP + PLOT_H
    # The remission zone, under its threshold.
    zone_top = _y(series.remission_below, max_total)
    parts.append(
        format_html(
            '<rect data-mark="remission-zone" x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
            LEFT,
            _n(zone_top),
            PLOT_W,
            _n(bottom - zone_top),
            REMISSION_ZONE,
        )
    )
    # The score axis, its grid and its title.
    for tick in _ticks(max_total):
        tick_y = _n(_y(tick, max_total))
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}" data-tick="{}">{}</text>',
                LEFT,
                tick_y,
                LEFT + PLOT_W,
                tick_y,
                GRID,
                LEFT - 6,
                _n(float(tick_y) + 4),
                INK,
                tick,
                tick,
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>',
            LEFT,
            TOP,
            LEFT,
            bottom,
            INK,
            LEFT,
            bottom,
            LEFT + PLOT_W,
            bottom,
            INK,
        )
    )
    parts.append(
        format_html(
            '<text x="14" y="{}" text-anchor="middle" fill="{}" transform="rotate(-90 14 {})" '
            'data-axis="y">Score (0 to {})</text>',
            _n(TOP + PLOT_H / 2),
            INK,
            _n(TOP + PLOT_H / 2),
            max_total,
        )
    )
    parts.append(
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" fill="{}" data-axis="x">Date answered</text>',
            _n(LEFT + PLOT_W / 2),
            bottom + 34,
            INK,
        )
    )
    points = series.points
    if not points:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">No answers yet</text>',
                _n(LEFT + PLOT_W / 2),
                _n(TOP + PLOT_H / 2),
                INK,
            )
        )
    if series.baseline is not None:
        baseline_y = _n(_y(series.baseline.total, max_total))
        parts.append(
            format_html(
                '<line data-mark="baseline" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                'stroke-width="1.5" stroke-dasharray="6 4"/>'
                '<text x="{}" y="{}" fill="{}">Baseline {}</text>',
                LEFT,
                baseline_y,
                LEFT + PLOT_W,
                baseline_y,
                BASELINE_INK,
                LEFT + PLOT_W + 6,
                _n(float(baseline_y) + 4),
                BASELINE_INK,
                series.baseline.total,
            )
        )
    coordinates = [
        (_x(index, len(points)), _y(point.total, max_total)) for index, point in enumerate(points)
    ]
    if len(points) > 1:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates),
                LINE,
            )
        )
    for point, (x, y) in zip(points, coordinates, strict=True):
        parts.append(_point_svg(series, point, x, y))
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}" data-date="{}">{}</text>',
                _n(x),
                bottom + 16,
                INK,
                point.day.isoformat(),
                date_format(point.day, "M j"),
            )
        )
    parts.append(_legend(series))
    parts.append("</svg>")
    # Every part above is format_html's output (its values escaped) or a constant.
    return mark_safe("".join(parts))  # noqa: S308


def _point_svg(series: MeasureSeries, point: MeasurePoint, x: float, y: float) -> str:
    marks = [
        words
        for flag, words in (
            (point.is_baseline, "baseline"),
            (point.response, "response"),
            (point.remission, "remission"),
        )
        if flag
    ]
    label = f"{point.day_label}, {point.occasion_label}: {point.total} of {series.max_total}"
    if marks:
        label += f" ({', '.join(marks)})"
    if point.remission:
        shape = format_html(
            '<rect x="{}" y="{}" width="10" height="10" fill="{}" stroke="{}"/>',
            _n(x - 5),
            _n(y - 5),
            REMISSION_INK,
            REMISSION_INK,
        )
    else:
        shape = format_html('<circle cx="{}" cy="{}" r="4.5" fill="{}"/>', _n(x), _n(y), LINE)
    ring = ""
    if point.response:
        ring = format_html(
            '<circle cx="{}" cy="{}" r="9" fill="none" stroke="{}" stroke-width="2"/>',
            _n(x),
            _n(y),
            RESPONSE_INK,
        )
    return format_html(
        '<g data-point="{}" data-total="{}" data-marks="{}"><title>{}</title>{}{}'
        '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text></g>',
        point.response_id,
        point.total,
        " ".join(marks),
        label,
        shape,
        ring,
        _n(x),
        _n(y - 12),
        INK,
        point.total,
    )


def _legend(series: MeasureSeries) -> str:
    y = HEIGHT - 12
    return format_html(
        '<g data-legend="">'
        '<circle cx="{}" cy="{}" r="7" fill="none" stroke="{}" stroke-width="2"/>'
        '<text x="{}" y="{}" fill="{}">Response: 50% or more below baseline</text>'
        '<rect x="{}" y="{}" width="20" height="16" fill="{}"/>'
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
        '<text x="{}" y="{}" fill="{}">Remission: under {}</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5" '
        'stroke-dasharray="6 4"/>'
        '<text x="{}" y="{}" fill="{}">Baseline</text>'
        "</g>",
        LEFT + 6,
        y - 4,
        RESPONSE_INK,
        LEFT + 18,
        y,
        INK,
        LEFT + 245,
        y - 12,
        REMISSION_ZONE,
        LEFT + 250,
        y - 9,
        REMISSION_INK,
        LEFT + 270,
        y,
        INK,
        series.remission_below,
        LEFT + 390,
        y - 4,
        LEFT + 414,
        y - 4,
        BASELINE_INK,
        LEFT + 420,
        y,
        INK,
    )
