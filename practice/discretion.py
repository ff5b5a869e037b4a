"""The words a glance must never catch, and the one function that finds them.

A client's treatment stays between her and the practice. An email subject,
the first line of a message, a calendar entry and a log line are read by
whoever glances at a shared inbox, a lock screen or a partner's laptop, so
none of them may name the treatment or her health. This module is the single
list of those words; tests of every email, calendar file and log line check
against it, and the newsletter warns the therapist when a campaign's subject
or preview text holds one.

Matching is case-insensitive and starts at the beginning of a word. Most
entries also match longer words that begin with them ("depress" finds
"depression", "ketamine" finds "Ketamine-assisted"); entries in
:data:`WHOLE_WORDS_ONLY` are short enough to begin harmless words ("kap" in
"kaput" or "Kaplan") and match only on their own. A multi-word entry matches
whatever whitespace separates its words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# What she is treated with, and how: a glance at any of these tells.
TREATMENT_WORDS: tuple[str, ...] = (
    "ketamine",
    "esketamine",
    "kap",
    "dosing",
    "dose",
    "dosage",
    "psychedelic",
    "micro-dosing",
    "microdosing",
    "medicine session",
    "sertraline",
    "medication",
)

# What she lives with. Forbidden wherever a client is the subject; an article
# for every reader may name them (see ``newsletter``), since it says nothing
# about the person who receives it.
HEALTH_WORDS: tuple[str, ...] = (
    "diagnos",
    "depress",
    "anxiety",
    "postpartum",
    "pregnan",
    "exhausted",
)

DISCRETION_WORDS: tuple[str, ...] = TREATMENT_WORDS + HEALTH_WORDS

WHOLE_WORDS_ONLY: frozenset[str] = frozenset({"kap"})


@cache
def _pattern(word: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in word.split())
    end = r"\b" if word in WHOLE_WORDS_ONLY else ""
    return re.compile(rf"\b{body}{end}", re.IGNORECASE)


def discretion_words_in(text: str, *, words: Iterable[str] = DISCRETION_WORDS) -> list[str]:
    """The listed ``words`` that ``text`` holds, in list order, each once.

    A word found only inside another one found ("dosing" within
    "micro-dosing") is not listed again, so a warning names what the reader
    sees.
    """
    spans: list[tuple[str, list[tuple[int, int]]]] = []
    for word in words:
        found = [match.span() for match in _pattern(word).finditer(text)]
        if found:
            spans.append((word, found))
    every = [span for _, found in spans for span in found]

    def inside_another(span: tuple[int, int]) -> bool:
        start, end = span
        return any(other != span and other[0] <= start and end <= other[1] for other in every)

    return [word for word, found in spans if not all(inside_another(span) for span in found)]
