"""The screening questionnaires: their items, answers and scoring, in plain Python.

PHQ-9, GAD-7 and the Edinburgh Postnatal Depression Scale, worded and scored
as published. No Django here: the portal shows these items, the answers are
stored item by item with the instrument's ``version``, and the therapist sees
the score and band computed by :func:`score`.

An answer is stored as the position of the option she chose (0 for the
first one shown), not as its score: what she saw and picked is the record,
and the score is derived from it. This matters for the EPDS, where most
items list their options from the worst (3) to the best (0).

Safety items (PHQ-9 item 9, EPDS item 10) raise ``Result.safety`` when their
scored value is above zero; what to do about it is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "EPDS",
    "GAD_7",
    "INSTRUMENTS",
    "PHQ_9",
    "Band",
    "EPDSCutoffs",
    "Instrument",
    "InstrumentAnswerError",
    "Item",
    "Result",
    "instrument_for",
    "score",
]


class InstrumentAnswerError(ValueError):
    """The answers do not fit the instrument: an item unanswered or an unknown option."""

    def __init__(self, message: str, *, item: int | None = None) -> None:
        super().__init__(message)
        self.item = item


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    # (label, score) in the order the options are shown.
    options: tuple[tuple[str, int], ...]
    # PHQ-9 and GAD-7 end with a question on how hard the problems made life:
    # asked, kept, never added to the total.
    scored: bool = True
    required: bool = True

    def score_of(self, position: int) -> int:
        if not 0 <= position < len(self.options):
            raise InstrumentAnswerError(
                f"Item {self.number} has no option {position}.", item=self.number
            )
        return self.options[position][1]


@dataclass(frozen=True)
class Band:
    """A named range of totals, ``low`` to ``high`` inclusive."""

    low: int
    high: int
    label: str

    def holds(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Instrument:
    slug: str
    name: str
    version: str
    stem: str
    items: tuple[Item, ...]
    max_total: int
    bands: tuple[Band, ...] = ()
    safety_item: int | None = None
    source: str = ""

    def item(self, number: int) -> Item:
        return self.items[number - 1]

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)


@dataclass(frozen=True)
class EPDSCutoffs:
    """The EPDS totals at which a screen counts as positive; the practice may change them."""

    possible: int = 10
    probable: int = 13

    def __post_init__(self) -> None:
        if not 0 < self.possible <= self.probable <= EPDS.max_total:
            raise ValueError("EPDS cut-offs must satisfy 0 < possible <= probable <= 30.")


@dataclass(frozen=True)
class Result:
    instrument: str
    version: str
    total: int
    band: str
    # The scored value of each scored item, by item number.
    item_scores: Mapping[int, int] = field(default_factory=dict)
    safety: bool = False


_FREQUENCY = (
    ("Not at all", 0),
    ("Several days", 1),
    ("More than half the days", 2),
    ("Nearly every day", 3),
)
_DIFFICULTY = (
    ("Not difficult at all", 0),
    ("Somewhat difficult", 1),
    ("Very difficult", 2),
    ("Extremely difficult", 3),
)
_DIFFICULTY_TEXT = (
    "If you checked off any problems, how difficult have these problems made it for you "
    "to do your work, take care of things at home, or get along with other people?"
)
_TWO_WEEKS = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)


def _frequency_items(texts: tuple[str, ...]) -> tuple[Item, ...]:
    items = tuple(Item(number, text, _FREQUENCY) for number, text in enumerate(texts, start=1))
    difficulty = Item(len(texts) + 1, _DIFFICULTY_TEXT, _DIFFICULTY, scored=False, required=False)
    return (*items, difficulty)


PHQ_9 = Instrument(
    slug="phq-9",
    name="PHQ-9",
    version="PHQ-9 (Kroenke, Spitzer & Williams, 2001)",
    stem=_TWO_WEEKS,
    items=_frequency_items(
        (
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself, or that you are a failure or have let yourself "
            "or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite: being so fidgety or restless that you have been moving around a lot "
            "more than usual",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
        )
    ),
    max_total=27,
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 19, "Moderately severe"),
        Band(20, 27, "Severe"),
    ),
    safety_item=9,
    source="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med. 2001;16(9):606-613.",
)

GAD_7 = Instrument(
    slug="gad-7",
    name="GAD-7",
    version="GAD-7 (Spitzer, Kroenke, Williams & Löwe, 2006)",
    stem=_TWO_WEEKS,
    items=_frequency_items(
        (
            "Feeling nervous, anxious, or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid, as if something awful might happen",
        )
    ),
    max_total=21,
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 21, "Severe"),
    ),
    source="Spitzer RL, Kroenke K, Williams JB, Löwe B. Arch Intern Med. 2006;166(10):1092-1097.",
)

# Items 1, 2 and 4 list their options from 0 to 3; the others (marked * on
# the published form) from 3 down to 0.
EPDS = Instrument(
    slug="epds",
    name="Edinburgh Postnatal Depression Scale",
    version="EPDS (Cox, Holden & Sagovsky, 1987)",
    stem="In the past 7 days:",
    items=(
        Item(
            1,
            "I have been able to laugh and see the funny side of things",
            (
                ("As much as I always could", 0),
                ("Not quite so much now", 1),
                ("Definitely not so much now", 2),
                ("Not at all", 3),
            ),
        ),
        Item(
            2,
            "I have looked forward with enjoyment to things",
            (
                ("As much as I ever did", 0),
                ("Rather less than I used to", 1),
                ("Definitely less than I used to", 2),
                ("Hardly at all", 3),
            ),
        ),
        Item(
            3,
            "I have blamed myself unnecessarily when things went wrong",
            (
                ("Yes, most of the time", 3),
                ("Yes, some of the time", 2),
                ("Not very often", 1),
                ("No, never", 0),
            ),
        ),
        Item(
            4,
            "I have been anxious or worried for no good reason",
            (
                ("No, not at all", 0),
                ("Hardly ever", 1),
                ("Yes, sometimes", 2),
                ("Yes, very often", 3),
            ),
        ),
        Item(
            5,
            "I have felt scared or panicky for no very good reason",
            (
                ("Yes, quite a lot", 3),
                ("Yes, sometimes", 2),
                ("No, not much", 1),
                ("No, not at all", 0),
            ),
        ),
        Item(
            6,
            "Things have been getting on top of me",
            (
                ("Yes, most of the time I haven't been able to cope at all", 3),
                ("Yes, sometimes I haven't been coping as well as usual", 2),
                ("No, most of the time I have coped quite well", 1),
                ("No, I have been coping as well as ever", 0),
            ),
        ),
        Item(
            7,
            "I have been so unhappy that I have had difficulty sleeping",
            (
                ("Yes, most of the time", 3),
                ("Yes, sometimes", 2),
                ("Not very often", 1),
                ("No, not at all", 0),
            ),
        ),
        Item(
            8,
            "I have felt sad or miserable",
            (
                ("Yes, most of the time", 3),
                ("Yes, quite often", 2),
                ("Not very often", 1),
                ("No, not at all", 0),
            ),
        ),
        Item(
            9,
            "I have been so unhappy that I have been crying",
            (
                ("Yes, most of the time", 3),
                ("Yes, quite often", 2),
                ("Only occasionally", 1),
                ("No, never", 0),
            ),
        ),
        Item(
            10,
            "The thought of harming myself has occurred to me",
            (
                ("Yes, quite often", 3),
                ("Sometimes", 2),
                ("Hardly ever", 1),
                ("Never", 0),
            ),
        ),
    ),
    max_total=30,
    safety_item=10,
    source="Cox JL, Holden JM, Sagovsky R. Br J Psychiatry. 1987;150:782-786.",
)

INSTRUMENTS: dict[str, Instrument] = {i.slug: i for i in (PHQ_9, GAD_7, EPDS)}


def instrument_for(slug: str) -> Instrument:
    """The instrument named by its URL slug (``phq-9``, ``gad-7``, ``epds``); KeyError if none."""
    return INSTRUMENTS[slug]


def score(
    instrument: Instrument,
    answers: Mapping[int, int],
    *,
    epds_cutoffs: EPDSCutoffs | None = None,
) -> Result:
    """Score ``answers`` (item number → position of the chosen option) as published.

    Raises :class:`InstrumentAnswerError` when a required item is unanswered,
    an item number is unknown or a position is out of range. The EPDS has no
    published bands, only cut-offs: its band names the screen's result under
    ``epds_cutoffs`` (10 and 13 unless the practice changed them).
    """
    known = {item.number for item in instrument.items}
    for number in answers:
        if number not in known:
            raise InstrumentAnswerError(f"{instrument.name} has no item {number}.", item=number)
    item_scores: dict[int, int] = {}
    for item in instrument.items:
        position = answers.get(item.number)
        if position is None:
            if item.required:
                raise InstrumentAnswerError(
                    f"Please answer question {item.number}.", item=item.number
                )
            continue
        value = item.score_of(position)
        if item.scored:
            item_scores[item.number] = value
    total = sum(item_scores.values())
    safety = instrument.safety_item is not None and item_scores[instrument.safety_item] > 0
    return Result(
        instrument=instrument.slug,
        version=instrument.version,
        total=total,
        band=_band(instrument, total, epds_cutoffs or EPDSCutoffs()),
        item_scores=item_scores,
        safety=safety,
    )


def _band(instrument: Instrument, total: int, cutoffs: EPDSCutoffs) -> str:
    if instrument is EPDS:
        if total >= cutoffs.probable:
            return "Probable depression"
        if total >= cutoffs.possible:
            return "Possible depression"
        return "Below the cut-off"
    for band in instrument.bands:
        if band.holds(total):
            return band.label
    raise AssertionError(f"{instrument.name}: no band holds {total}")  # the bands cover 0..max
