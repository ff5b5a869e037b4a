"""The visitor's address, the same for audit lines, rate limits and consent records.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy's address (gunicorn does
not rewrite it), so every visitor would share one rate limit. The number of
proxies the practice runs is ``TRUSTED_PROXY_COUNT`` (or a header the proxy
sets, ``TRUSTED_CLIENT_IP_HEADER``); allauth reads the same two settings for
its own limits, and this asks allauth, so both always agree. With neither set,
``X-Forwarded-For`` is ignored: anyone can write it.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the nearest trusted proxy saw, or the socket's peer; ``None`` if neither."""
    try:
        return str(get_adapter(request).get_client_ip(request))
    except (PermissionDenied, ImproperlyConfigured):
        # No usable address (a request that did not pass the proxies it
        # should have): the socket's peer, which groups such requests together.
        return request.META.get("REMOTE_ADDR") or None
