"""PHQ-9, GAD-7 and EPDS are scored as published: worked examples, every band edge."""

from __future__ import annotations

import pytest

from kap_sessions.instruments import (
    EPDS,
    GAD_7,
    PHQ_9,
    EPDSCutoffs,
    Instrument,
    InstrumentAnswerError,
    instrument_for,
    score,
)


def frequency_answers(instrument: Instrument, total: int) -> dict[int, int]:
    """Answers to a PHQ-9 or GAD-7 (options scored 0..3 in order) adding up to ``total``."""
    answers = {}
    left = total
    for item in instrument.scored_items:
        answers[item.number] = min(3, left)
        left -= answers[item.number]
    assert left == 0
    return answers


def epds_answers_scoring(values: list[int]) -> dict[int, int]:
    """The option positions that give each EPDS item the wanted score (1-based order)."""
    answers = {}
    for item, value in zip(EPDS.items, values, strict=True):
        answers[item.number] = [s for _, s in item.options].index(value)
    return answers


def test_phq9_worked_example():
    # Kroenke 2001's layout: several days (1) on items 1-4, more than half the
    # days (2) on 5-6, nearly every day (3) on 7, not at all on 8-9.
    answers = {1: 1, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3, 8: 0, 9: 0, 10: 2}
    result = score(PHQ_9, answers)
    assert (result.total, result.band, result.safety) == (11, "Moderate", False)
    # The difficulty question is kept but never counted.
    assert 10 not in result.item_scores
    assert result.version == PHQ_9.version


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Moderately severe"),
        (19, "Moderately severe"),
        (20, "Severe"),
        (27, "Severe"),
    ],
)
def test_phq9_band_edges(total, band):
    # Item 9 stays at zero unless the total needs it (25+), so the band is
    # tested on its own.
    answers = frequency_answers(PHQ_9, total)
    assert score(PHQ_9, answers).band == band
    assert score(PHQ_9, answers).total == total


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Minimal"),
        (4, "Minimal"),
        (5, "Mild"),
        (9, "Mild"),
        (10, "Moderate"),
        (14, "Moderate"),
        (15, "Severe"),
        (21, "Severe"),
    ],
)
def test_gad7_band_edges(total, band):
    result = score(GAD_7, frequency_answers(GAD_7, total))
    assert (result.total, result.band, result.safety) == (total, band, False)


@pytest.mark.parametrize(("position", "safety"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item9_above_zero_is_a_safety_flag(position, safety):
    answers = dict.fromkeys(range(1, 10), 0) | {9: position}
    result = score(PHQ_9, answers)
    assert result.safety is safety
    assert result.total == position


def test_epds_reverse_scored_items_count_from_the_top():
    # The first option of every starred item (3, 5-10) is worth 3; of items
    # 1, 2 and 4 it is worth 0. Choosing the first option everywhere:
    result = score(EPDS, dict.fromkeys(range(1, 11), 0))
    assert result.item_scores == {1: 0, 2: 0, 3: 3, 4: 0, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3, 10: 3}
    assert result.total == 21
    # and the last option everywhere:
    result = score(EPDS, dict.fromkeys(range(1, 11), 3))
    assert result.item_scores == {1: 3, 2: 3, 3: 0, 4: 3, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0}
    assert result.total == 9


def test_epds_worked_example():
    # "Not quite so much now", "Rather less than I used to", "Yes, some of the
    # time", "Yes, sometimes", "No, not much", "Yes, sometimes I haven't been
    # coping...", "Not very often", "Yes, quite often", "Only occasionally",
    # "Never": 1+1+2+2+1+2+1+2+1+0 = 13.
    answers = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 1, 7: 2, 8: 1, 9: 2, 10: 3}
    result = score(EPDS, answers)
    assert (result.total, result.band, result.safety) == (13, "Probable depression", False)


@pytest.mark.parametrize(
    ("label", "value", "safety"),
    [
        ("Yes, quite often", 3, True),
        ("Sometimes", 2, True),
        ("Hardly ever", 1, True),
        ("Never", 0, False),
    ],
)
def test_epds_item10_any_answer_but_never_is_a_safety_flag(label, value, safety):
    item = EPDS.item(10)
    position = [text for text, _ in item.options].index(label)
    answers = epds_answers_scoring([0] * 9 + [0]) | {10: position}
    result = score(EPDS, answers)
    assert result.item_scores[10] == value
    assert result.safety is safety


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Below the cut-off"),
        (9, "Below the cut-off"),
        (10, "Possible depression"),
        (12, "Possible depression"),
        (13, "Probable depression"),
        (30, "Probable depression"),
    ],
)
def test_epds_cutoff_edges(total, band):
    values = []
    left = total
    for _ in range(10):
        values.append(min(3, left))
        left -= values[-1]
    result = score(EPDS, epds_answers_scoring(values))
    assert (result.total, result.band) == (total, band)


def test_epds_cutoffs_the_practice_changed():
    answers = epds_answers_scoring([2, 2, 2, 2, 1, 0, 0, 0, 0, 0])  # 9
    assert score(EPDS, answers).band == "Below the cut-off"
    lowered = EPDSCutoffs(possible=9, probable=12)
    assert score(EPDS, answers, epds_cutoffs=lowered).band == "Possible depression"


def test_epds_cutoffs_must_be_in_order():
    with pytest.raises(ValueError, match="cut-offs"):
        EPDSCutoffs(possible=14, probable=13)
    with pytest.raises(ValueError, match="cut-offs"):
        EPDSCutoffs(possible=0, probable=13)


def test_an_unanswered_item_names_the_question():
    answers = dict.fromkeys(range(1, 8), 0)
    del answers[4]
    with pytest.raises(InstrumentAnswerError, match="question 4") as error:
        score(GAD_7, answers)
    assert error.value.item == 4


def test_the_difficulty_question_may_be_left_out():
    assert score(GAD_7, dict.fromkeys(range(1, 8), 1)).total == 7


@pytest.mark.parametrize("answers", [{1: 4}, {1: -1}, {11: 0}])
def test_an_unknown_option_or_item_is_refused(answers):
    with pytest.raises(InstrumentAnswerError):
        score(PHQ_9, dict.fromkeys(range(1, 10), 0) | answers)


def test_instruments_by_slug():
    assert [instrument_for(slug).name for slug in ("phq-9", "gad-7", "epds")] == [
        "PHQ-9",
        "GAD-7",
        "Edinburgh Postnatal Depression Scale",
    ]
    assert [len(i.scored_items) for i in (PHQ_9, GAD_7, EPDS)] == [9, 7, 10]
