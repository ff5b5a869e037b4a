"""The one list of words a glance must never catch, and how it finds them."""

from __future__ import annotations

import pytest

from practice.discretion import (
    DISCRETION_WORDS,
    HEALTH_WORDS,
    TREATMENT_WORDS,
    discretion_words_in,
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("What KAP can do", ["kap"]),
        ("KAP's three phases", ["kap"]),
        ("Ketamine-assisted psychotherapy", ["ketamine"]),
        ("Feeling depressed after birth", ["depress"]),
        ("Postpartum depression, gently", ["depress", "postpartum"]),
        ("When you were pregnant", ["pregnan"]),
        ("Two doses, not one", ["dose"]),
        ("Your next medicine  session", ["medicine session"]),
        ("Before the medicine\nsession", ["medicine session"]),
        ("Newly diagnosed", ["diagnos"]),
    ],
)
def test_listed_words_are_found_at_the_start_of_a_word_whatever_their_case(
    text: str, found: list[str]
) -> None:
    assert discretion_words_in(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "The market went kaput",
        "A note from Dr Kaplan",
        "Kapok cushions for the waiting room",
        "Rest and repair for mothers",
        "A kapellmeister's baton",
        "Dosimetry for radiographers",
        "",
    ],
)
def test_harmless_words_that_merely_contain_a_listed_one_are_not_found(text: str) -> None:
    assert discretion_words_in(text) == []


def test_a_word_inside_a_longer_listed_word_is_named_once_as_the_reader_sees_it() -> None:
    assert discretion_words_in("Micro-dosing for moms") == ["micro-dosing"]
    assert discretion_words_in("Micro-dosing, and what dosing means") == [
        "dosing",
        "micro-dosing",
    ]


def test_the_search_can_be_limited_to_the_treatment_words() -> None:
    text = "Postpartum anxiety and ketamine"

    assert discretion_words_in(text, words=TREATMENT_WORDS) == ["ketamine"]
    assert discretion_words_in(text) == ["ketamine", "anxiety", "postpartum"]


def test_the_list_is_the_treatment_words_then_the_health_words_each_once() -> None:
    assert DISCRETION_WORDS == TREATMENT_WORDS + HEALTH_WORDS
    assert len(set(DISCRETION_WORDS)) == len(DISCRETION_WORDS)
    assert all(word == word.lower().strip() for word in DISCRETION_WORDS)
