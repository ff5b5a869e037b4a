"""No dead links: every page a visitor can reach from the home page answers."""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]+)"')
# Pages that act or belong to someone: the crawl looks at what is public.
NOT_CRAWLED = ("/admin/", "/accounts/logout/", "/consultation/manage/")


def _internal(page: str, href: str) -> str | None:
    href = urldefrag(href.replace("&amp;", "&"))[0]
    if not href or urlsplit(href).scheme or urlsplit(href).netloc:
        return None
    href = urljoin(page, href)
    if href.startswith(NOT_CRAWLED):
        return None
    return href


def test_every_link_on_the_public_site_answers(client):
    call_command("seed_demo", stdout=io.StringIO())
    seen: dict[str, int] = {}
    queue = deque(["/"])
    while queue and len(seen) < 200:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            target = _internal(path, href)
            if target and target not in seen and not target.startswith("/static/"):
                queue.append(target)

    dead = {path: status for path, status in seen.items() if status >= 400}
    assert dead == {}
    # The crawl reached the whole public site, not just the home page.
    for page in ("/about/", "/how-it-works/", "/consultation/", "/articles/", "/terms/"):
        assert seen.get(page) == 200, page
    assert any(path.startswith("/articles/") and path.count("/") == 3 for path in seen)
    assert any(path.startswith("/consultation/?") and "from=" in path for path in seen)
