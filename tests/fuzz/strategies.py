"""What the fuzz tests send, and the rule for what must come back.

What is sent
------------
A submission starts as a valid post of the form and has a few of its fields
changed (:func:`submissions`): left out, repeated (a list is posted as the
same key several times), replaced by a value of the field's own kind that
the form must judge (:func:`starts`, :func:`emails`, :func:`numbers`, ...),
or by anything at all (:func:`any_value`): very long strings, Unicode
(right-to-left text and direction marks, emoji and their joiners, combining
marks), control characters, NUL bytes (PostgreSQL refuses NUL in text, so
the app must refuse it first), text where a number, a date, a choice or a
box is expected, and markup. An unknown extra field may come along. With no
field changed the post is valid, and Hypothesis shrinks a failure towards
that: the smallest change that breaks the page.

Signed and secret tokens in an address are altered by :func:`altered_tokens`
(a character changed, cut short, lengthened, its signature swapped, NUL or
a slash put in), and ids by :func:`ids` (her own, another client's, ids
that exist nowhere, and numbers past the database's integer range).

The rule for every example (``tests.fuzz.checks``)
--------------------------------------------------
1. **No 500**, and no exception escapes the view (Django's test client
   raises them).
2. **No partial rows**: the counts of the tables the endpoint writes are
   unchanged, or show exactly the one valid change when the page says the
   submission succeeded (each test states that change, and when a valid post
   makes none: a bot's honeypot, an address already on the list, a second
   copy of the same form).
3. **What she typed comes back**: when the page comes back with the form (an
   error, whatever its status), every text control she filled shows her
   value, whether the form accepted it or refused it (a refused value is
   the one she most needs to see), as she sent it rather than as cleaning
   would change it (spaces trimmed), and as a browser would show it
   (:func:`as_a_browser_shows`): line
   breaks are normalised to LF (the HTML parser does so); NUL becomes U+FFFD
   (the parser's replacement); a single-line input loses its line breaks and
   an email input its surrounding spaces too (the browser's value
   sanitisation), and a number input that is not a number shows empty. Her
   choice among radio buttons or a list stays chosen when it is one of the
   choices offered, and a box she ticked ("on", what a browser sends) stays
   ticked. Not compared: passwords (never shown again, on purpose), hidden
   fields (she did not type them; the app repairs some), the honeypot (left
   empty for people), and fields the page does not show.

How many
--------
``FUZZ_EXAMPLES`` (default 60) is the number of submissions of a test with a
share of 1; each test takes a share of it (:func:`examples`): more for the
forms with the most fields and paths (booking, intake, questionnaires), less
for a link with one token or a slow page. At the default the package sends
about 2,800 submissions (within its 90-second budget on a quiet 2-core
machine); ``FUZZ_EXAMPLES=600`` sends ten times as many for a long run.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

Post = dict[str, str | list[str]]

NUL = "\x00"


def examples(share: float = 1.0) -> int:
    """How many submissions a test sends: ``share`` of ``FUZZ_EXAMPLES`` (default 60)."""
    return max(10, round(int(os.environ.get("FUZZ_EXAMPLES", "60")) * share))


# --- Text ----------------------------------------------------------------------

RIGHT_TO_LEFT = [
    "مريم الحسيني",
    "שָׁלוֹם עֲלֵיכֶם",
    "\u202eevil.exe\u202c",
    "\u200f\u200e\u2067x\u2069",
    "اسمي ليلى 42",
]
EMOJI = ["👩‍👧‍👦", "🇺🇸", "🤱🏽", "❤️‍🩹", "🏳️‍⚧️", "\U0001f600" * 3]
COMBINING = ["Zoe\u0308", "e\u0301\u0301\u0301", "\u0300", "Z̴̡̪͚̈́a̸̢̛l̶̙͝g̷͎̿o̵̰͑", "\u0e01\u0e34\u0e4a"]
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><b>bold</b>",
    "{{ form }}{% csrf_token %}",
    "&amp;&lt;&#0;&nbsp;",
    "' OR '1'='1' --",
    "%s%n%x",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "\\N\\0\\x00",
]
WHITESPACE = [" ", "  \t ", "\n", "\r\n", "\r", "\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff"]
ODD = ["\ufffe", "\uffff", "\U0010ffff", "\u2028", "\u2029", "\x7f", "\x85", "\x1b[31m"]

# Lone surrogates cannot be encoded as UTF-8 by any browser or by the test
# client (a browser replaces them with U+FFFD before sending).
_characters = st.characters(exclude_categories=["Cs"])

_pieces = st.one_of(
    st.text(_characters, min_size=1, max_size=20),
    st.sampled_from(RIGHT_TO_LEFT + EMOJI + COMBINING + MARKUP + WHITESPACE + ODD),
    st.characters(categories=["Cc"]),
    st.just(NUL),
)


def _repeat_to(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


def nasty_text() -> st.SearchStrategy[str]:
    """Short or very long text of every kind of character, markup, NUL and blank."""
    return st.one_of(
        st.lists(_pieces, max_size=6).map("".join),
        st.builds(_repeat_to, _pieces, st.integers(min_value=150, max_value=20_000)),
        st.sampled_from(WHITESPACE),
    )


# Values of the wrong type where a number, a date, a choice or a box is expected.
WRONG_TYPES = [
    "0",
    "-1",
    "1.5",
    "1e309",
    "-0",
    "NaN",
    "Infinity",
    "٣",
    "३",
    "99999999999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "0x1F",
    "1_000",
    " 7 ",
    "true",
    "false",
    "on",
    "off",
    "None",
    "null",
    "[]",
    "{}",
    '{"a": 1}',
    "2027-02-30",
    "2027-01-05",
    "2027-01-05T17:00:00",
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59+14:00",
]


def wrong_types() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(WRONG_TYPES),
        st.integers().map(str),
        st.floats().map(str),
        st.dates().map(str),
        st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat),
    )


def any_value() -> st.SearchStrategy[str]:
    """Anything a field can receive: nasty text or a value of another type."""
    return st.one_of(nasty_text(), wrong_types())


# --- Values of a field's own kind ----------------------------------------------


def free_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(_characters.filter(lambda c: c != NUL), max_size=40),
        st.sampled_from(RIGHT_TO_LEFT + EMOJI + COMBINING + MARKUP),
        nasty_text(),
    )


def emails() -> st.SearchStrategy[str]:
    return st.one_of(
        st.emails().map(str),
        st.sampled_from(
            [
                "a@b",
                "a@b..com",
                "@example.com",
                "nora@",
                "nora@@example.com",
                "ünïcødé@例え.jp",
                "nora@xn--fsq.example",
                "nora+tag@example.com",
                '"quoted name"@example.com',
                " nora@example.com ",
                "NORA@EXAMPLE.COM",
                "nora@example.com\x00",
                "nora@example.com\nBcc: x@example.com",
                "x" * 250 + "@example.com",
                "nora@" + "a" * 64 + ".example.com",
            ]
        ),
        any_value(),
    )


def phones() -> st.SearchStrategy[str]:
    return st.one_of(
        st.from_regex(r"\A\+?[0-9 ().\-]{0,24}\Z"),
        st.sampled_from(
            ["+1 (510) 555-0100", "555", "+" + "1" * 40, "tel:5105550100", "٥١٠٥٥٥٠١٠٠"]
        ),
        any_value(),
    )


def numbers(low: int = -5, high: int = 60) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(low, high).map(str), wrong_types(), nasty_text())


def choices(options: Sequence[str]) -> st.SearchStrategy[str]:
    """One of the options, one spelled a little differently, or anything else."""
    return st.one_of(
        st.sampled_from(list(options)),
        st.sampled_from(list(options)).map(str.upper),
        st.sampled_from(list(options)).map(lambda option: f" {option}"),
        st.sampled_from(list(options)).map(lambda option: option + NUL),
        any_value(),
    )


BOXES = ["on", "", "off", "true", "false", "0", "1", "yes", "no", "False"]


def boxes() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(BOXES), any_value())


def uuids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda value: "{" + str(value).upper() + "}"),
        st.uuids().map(lambda value: value.hex),
        st.uuids().map(lambda value: f"urn:uuid:{value}"),
        st.uuids().map(lambda value: str(value) + NUL),
        any_value(),
    )


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
    "Etc/GMT+12",
    "EST5EDT",
    "Mars/Olympus",
    "america/new_york",
    "../../../../etc/passwd",
    "/etc/localtime",
    "posix/Europe/Paris",
    "America/New_York\x00",
    "America/New_York ",
]


def zones() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ZONES), st.timezone_keys(), any_value())


def dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.dates().map(date.isoformat),
        st.dates().map(lambda day: day.strftime("%m/%d/%Y")),
        st.sampled_from(["2027-02-30", "2027-13-01", "0000-01-01", "2027-1-5", "20270105"]),
        any_value(),
    )


def starts(offered: Sequence[datetime]) -> st.SearchStrategy[str]:
    """Start times as a slot picker posts them, and as a tampered page might."""
    moments = st.sampled_from(list(offered))
    elsewhere = st.sampled_from([ZoneInfo(name) for name in ZONES[:7]])
    return st.one_of(
        moments.map(datetime.isoformat),
        # The same moment written in another offset: still the slot offered.
        st.builds(lambda moment, zone: moment.astimezone(zone).isoformat(), moments, elsewhere),
        st.builds(
            lambda moment, minutes: (moment + timedelta(minutes=minutes)).isoformat(),
            moments,
            st.integers(min_value=-60 * 24 * 400, max_value=60 * 24 * 400),
        ),
        moments.map(lambda moment: moment.replace(tzinfo=None).isoformat()),
        moments.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
        moments.map(lambda moment: f"  {moment.isoformat()}\n"),
        moments.map(lambda moment: moment.isoformat().replace("+00:00", "+23:59")),
        moments.map(lambda moment: moment.date().isoformat()),
        moments.map(lambda moment: str(int(moment.timestamp()))),
        st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
        # The ends of the calendar, where a change of offset leaves it.
        st.sampled_from(["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]),
        any_value(),
    )


# --- Submissions ---------------------------------------------------------------

_HOW = ("own kind", "own kind", "anything", "left out", "repeated")


@st.composite
def submissions(
    draw: st.DrawFn,
    valid: Mapping[str, str],
    own: Mapping[str, st.SearchStrategy[str]],
    *,
    most_changed: int = 4,
) -> Post:
    """``valid`` with up to ``most_changed`` of the fields in ``own`` changed (see above).

    ``own`` maps a field to values of its own kind; a field that is in
    ``own`` but not in ``valid`` is one a valid post leaves out.
    """
    post: Post = dict(valid)
    changed = draw(st.lists(st.sampled_from(sorted(own)), unique=True, max_size=most_changed))
    for name in changed:
        how = draw(st.sampled_from(_HOW))
        if how == "left out":
            post.pop(name, None)
        elif how == "own kind":
            post[name] = draw(own[name])
        elif how == "anything":
            post[name] = draw(any_value())
        else:
            post[name] = draw(
                st.lists(
                    st.one_of(st.just(valid.get(name, "")), own[name], any_value()),
                    min_size=2,
                    max_size=4,
                )
            )
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        unknown = draw(st.text(_characters, min_size=1, max_size=12))
        post.setdefault(unknown, draw(any_value()))
    return post


@st.composite
def query_strings(draw: st.DrawFn, own: Mapping[str, st.SearchStrategy[str]]) -> Post:
    """A query string: each parameter in ``own`` left out, given once, or repeated; maybe more."""
    query: Post = {}
    for name in sorted(own):
        how = draw(st.sampled_from(("left out", "own kind", "own kind", "anything", "repeated")))
        if how == "own kind":
            query[name] = draw(own[name])
        elif how == "anything":
            query[name] = draw(any_value())
        elif how == "repeated":
            query[name] = draw(st.lists(st.one_of(own[name], any_value()), min_size=2, max_size=4))
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        query.setdefault(draw(st.text(_characters, min_size=1, max_size=12)), draw(any_value()))
    return query


def last(value: str | list[str] | None) -> str | None:
    """What Django reads for a key posted once or several times (the last value)."""
    if isinstance(value, list):
        return value[-1] if value else None
    return value


# --- Tokens and ids ------------------------------------------------------------

_TOKEN_CHARACTERS = string.ascii_letters + string.digits + "-_:."


@st.composite
def altered_tokens(draw: st.DrawFn, token: str, *, others: Sequence[str] = ()) -> str:
    """``token`` changed the way a damaged or forged link would be."""
    position = draw(st.integers(min_value=0, max_value=max(0, len(token) - 1)))
    how = draw(
        st.sampled_from(
            [
                "one character changed",
                "cut short",
                "lengthened",
                "signature swapped",
                "case changed",
                "NUL",
                "slash",
                "percent",
                "anything",
                "another",
            ]
        )
    )
    if how == "one character changed":
        replacement = draw(
            st.sampled_from(_TOKEN_CHARACTERS).filter(lambda c: c != token[position])
        )
        return token[:position] + replacement + token[position + 1 :]
    if how == "cut short":
        return token[:position]
    if how == "lengthened":
        return token + draw(st.text(st.sampled_from(_TOKEN_CHARACTERS), min_size=1, max_size=400))
    if how == "signature swapped":
        value, _, signature = token.rpartition(":")
        forged = draw(st.text(st.sampled_from(_TOKEN_CHARACTERS[:-2]), min_size=1, max_size=60))
        return f"{value}:{forged}" if value else forged
    if how == "case changed":
        return token.swapcase()
    if how == "NUL":
        return token[:position] + NUL + token[position:]
    if how == "slash":
        return token[:position] + "/" + token[position:]
    if how == "percent":
        return token[:position] + "%" + token[position:]
    if how == "another" and others:
        return draw(st.sampled_from(list(others)))
    return draw(any_value())


def ids(*, hers: Sequence[int] = (), others: Sequence[int] = ()) -> st.SearchStrategy[int]:
    """Ids for an address: hers, another client's, ones that exist nowhere, and huge ones."""
    return st.one_of(
        *(st.sampled_from(list(group)) for group in (hers, others) if group),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
        st.integers(min_value=2**63 - 2, max_value=2**70),
    )


# --- The browser's view of a value ---------------------------------------------

_SINGLE_LINE = {"text", "search", "tel", "password", "url", "email"}
_VALID_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_ASCII_WHITESPACE = "\t\n\f\r "


def as_a_browser_shows(value: str, control: str) -> str:
    """``value`` as a browser shows it in a control of type ``control`` ("textarea", "text", ...).

    Applied alike to what she sent and to what the page holds, so two values
    that look the same to her compare equal.
    """
    shown = value.replace("\r\n", "\n").replace("\r", "\n").replace(NUL, "\ufffd")
    if control in _SINGLE_LINE:
        shown = shown.replace("\n", "")
    if control in ("email", "url"):
        shown = shown.strip(_ASCII_WHITESPACE)
    if control == "number" and not _VALID_FLOAT.fullmatch(shown):
        shown = ""
    return shown
