"""The rule every fuzzed submission is held to (stated in ``tests.fuzz.strategies``).

- :func:`assert_answered_calmly`: no 500, and a page (or JSON) with a body.
- :func:`row_counts` and :func:`changes`: the tables an endpoint writes,
  counted before and after, so a test asserts "nothing" or "exactly this".
- :func:`assert_shows_what_she_typed`: the form on the page that came back
  holds her values, as a browser shows them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.db import models
from django.http import HttpResponse
from hypothesis import currently_in_test_context, event

from .strategies import Post, as_a_browser_shows, last

NOT_COMPARED = {"csrfmiddlewaretoken", "website", "password", "password1", "password2"}


def assert_answered_calmly(response: HttpResponse) -> None:
    """No server error; a redirect has somewhere to go, a refused method names the
    allowed ones, and anything else has a body."""
    assert response.status_code < 500, response.status_code
    if currently_in_test_context():
        event(f"answered {response.status_code}")
    if response.status_code in (301, 302, 303):
        assert response["Location"]
        return
    if response.status_code == 405:
        assert response["Allow"]
        return
    content_type = response.get("Content-Type", "")
    body = response.content if not response.streaming else b"streamed"
    assert body, f"an empty {response.status_code} answer"
    if "application/json" in content_type:
        json.loads(response.content)


def assert_json(response: HttpResponse, *, may_report_down: bool = False) -> dict:  # type: ignore[type-arg]
    """The answer of a JSON endpoint: JSON, labelled as such, an object.

    ``may_report_down``: a health check answers 503 when a part it checks is
    down (no Celery worker runs in these tests); that is its answer, not a failure.
    """
    allowed = response.status_code < 500 or (may_report_down and response.status_code == 503)
    assert allowed, response.status_code
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert isinstance(body, dict)
    return body


def row_counts(tables: Iterable[type[models.Model]]) -> dict[str, int]:
    return {table._meta.label: table._default_manager.count() for table in tables}


def changes(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Only the tables whose count changed, by how much."""
    return {
        label: after[label] - before[label] for label in before if after[label] != before[label]
    }


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html") and not response.streaming


# --- Forms on a page -------------------------------------------------------------


@dataclass
class Control:
    name: str
    kind: str  # "text", "email", "textarea", "radio", "checkbox", "select", "hidden", ...
    value: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # a select's (value, selected)


@dataclass
class Form:
    action: str
    controls: list[Control] = field(default_factory=list)

    def named(self, name: str) -> list[Control]:
        return [control for control in self.controls if control.name == name]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: Control | None = None
        self._select: Control | None = None
        self._option: list[str] | None = None  # value, selected flag, text so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=found.get("action", ""))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = found.get("name")
        if tag == "input" and name:
            self._form.controls.append(
                Control(
                    name=name,
                    kind=found.get("type", "text").lower(),
                    value=found.get("value", ""),
                    checked="checked" in found,
                )
            )
        elif tag == "textarea" and name:
            self._textarea = Control(name=name, kind="textarea")
            self._form.controls.append(self._textarea)
        elif tag == "select" and name:
            self._select = Control(name=name, kind="select")
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [found.get("value", "\x00no value"), "selected" in found, ""]
            self._select.options.append(("", False))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the line break that opens a textarea's content.
            if self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None
        elif tag == "option":
            self._close_option()
        elif tag == "select":
            self._close_option()
            self._select = None

    def _close_option(self) -> None:
        if self._option is None or self._select is None:
            return
        value, selected, text = self._option
        self._select.options[-1] = (text.strip() if value == "\x00no value" else value, selected)
        self._option = None


def page_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def _posted_form(html: str, path: str, post: Post) -> Form | None:
    """The form on the page that posts to ``path`` and shares the most fields with ``post``."""
    candidates = [form for form in page_forms(html) if urlsplit(form.action).path in ("", path)]
    if not candidates:
        return None
    return max(
        candidates, key=lambda form: len({control.name for control in form.controls} & set(post))
    )


def assert_shows_what_she_typed(
    response: HttpResponse, path: str, post: Post, *, not_compared: Collection[str] = ()
) -> None:
    """The form that came back holds what she sent (the rule in ``tests.fuzz.strategies``).

    A page without the form she posted (a confirmation, a redirect) is not
    held to it.
    """
    if not is_html(response):
        return
    form = _posted_form(response.content.decode(), path, post)
    if form is None:
        return
    if currently_in_test_context():
        event("the form came back")
    for name, sent in post.items():
        value = last(sent)
        if value is None or name in NOT_COMPARED or name in not_compared:
            continue
        controls = form.named(name)
        if not controls:
            continue
        kind = controls[0].kind
        if kind in ("hidden", "password", "submit", "button", "file"):
            continue
        if kind == "radio":
            offered = [control.value for control in controls]
            if value in offered:
                chosen = [control.value for control in controls if control.checked]
                assert chosen == [value], f"{name}: she chose {value!r}, the page has {chosen!r}"
        elif kind == "checkbox":
            if value == "on":
                assert controls[0].checked, f"{name}: she ticked it, the page has it unticked"
        elif kind == "select":
            offered = [option for option, _ in controls[0].options]
            if value in offered:
                chosen = [option for option, selected in controls[0].options if selected]
                assert chosen == [value], f"{name}: she chose {value!r}, the page has {chosen!r}"
        else:
            expected = as_a_browser_shows(value, kind)
            shown = as_a_browser_shows(controls[0].value, kind)
            assert shown == expected, (
                f"{name} ({kind}): she sent {value[:200]!r}, the page shows {shown[:200]!r}"
            )
