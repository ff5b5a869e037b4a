"""Where things are on a page in the browser, for the layout checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOXES = """elements => elements.map(element => {
  const r = element.getBoundingClientRect();
  const y = window.scrollY;
  return {left: r.left, top: r.top + y, right: r.right, bottom: r.bottom + y};
})"""

# The box inside an element's border. A fieldset's own box also holds its
# legend where the legend is drawn across the top border.
INNER_BOX = """element => {
  const r = element.getBoundingClientRect();
  const s = getComputedStyle(element);
  const width = name => parseFloat(s[name]);
  return {
    left: r.left + width("borderLeftWidth"),
    top: r.top + window.scrollY + width("borderTopWidth"),
    right: r.right - width("borderRightWidth"),
    bottom: r.bottom + window.scrollY - width("borderBottomWidth"),
  };
}"""

ONE_LINE = """element => {
  const style = getComputedStyle(element);
  const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
  const frame = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"]
    .reduce((sum, name) => sum + parseFloat(style[name]), 0);
  return element.getBoundingClientRect().height < 1.5 * lineHeight + frame;
}"""


@dataclass(frozen=True)
class Box:
    """An element's border box in page coordinates (CSS pixels)."""

    left: float
    top: float
    right: float
    bottom: float

    def contains(self, other: Box) -> bool:
        return (
            self.left <= other.left + 0.5
            and self.top <= other.top + 0.5
            and other.right <= self.right + 0.5
            and other.bottom <= self.bottom + 0.5
        )


def boxes(page: Any, selector: str) -> list[Box]:
    return [Box(**box) for box in page.locator(selector).evaluate_all(BOXES)]


def box(page: Any, selector: str) -> Box:
    found = boxes(page, selector)
    assert len(found) == 1, f"{selector}: {len(found)} elements"
    return found[0]


def inside_border(page: Any, selector: str) -> Box:
    """The box inside the border of the one element ``selector`` finds."""
    return Box(**page.locator(selector).evaluate(INNER_BOX))


def sits_above(label: Box, field: Box) -> bool:
    """The label is right above the field, starting at the same left edge."""
    return label.bottom <= field.top + 0.5 and abs(label.left - field.left) <= 1


def sideways_overflow(page: Any) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def on_one_line(page: Any, selector: str) -> bool:
    return bool(page.locator(selector).evaluate(ONE_LINE))


def padding(page: Any, selector: str) -> list[float]:
    """Top, right, bottom and left padding in CSS pixels."""
    return [
        float(value)
        for value in page.locator(selector).evaluate(
            "e => { const s = getComputedStyle(e); return [s.paddingTop, s.paddingRight, "
            "s.paddingBottom, s.paddingLeft].map(parseFloat); }"
        )
    ]
