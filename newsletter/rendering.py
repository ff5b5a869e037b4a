"""Markdown to safe HTML for articles and campaign bodies."""

from __future__ import annotations

from html import unescape

import markdown  # type: ignore[import-untyped]  # (no stubs are published)
import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "img",
    "li", "ol", "p", "pre", "strong", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}}


def markdown_to_html(source: str) -> SafeString:
    """Render the therapist's Markdown, keeping only plain, inert HTML.

    Raw HTML in the source is dropped by nh3, so neither an article nor an
    email can carry a script, a style or an event handler.
    """
    html = markdown.markdown(source, extensions=["extra", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308  (sanitised by nh3 just above)


def markdown_to_text(source: str) -> str:
    """A plain-text version for the text part of emails ("&", not "&amp;")."""
    return unescape(strip_tags(markdown_to_html(source))).strip()
