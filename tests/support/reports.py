"""What Django's error report would say about a request that failed."""

from __future__ import annotations

import sys
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpResponse
from django.test import Client
from django.views.debug import ExceptionReporter


def post_and_report(client: Client, path: str, data: dict[str, Any]) -> tuple[HttpResponse, str]:
    """POST ``data`` to ``path`` (whose view is made to fail) and return the response
    and the text of the report an admin email or an error tracker would carry."""
    caught: dict[str, Any] = {}

    def keep(sender: object, request: object, **kwargs: object) -> None:
        caught.update(request=request, exc_info=sys.exc_info())

    got_request_exception.connect(keep)
    raised_before, client.raise_request_exception = client.raise_request_exception, False
    try:
        response = client.post(path, data)
    finally:
        got_request_exception.disconnect(keep)
        client.raise_request_exception = raised_before
    assert caught, f"{path} did not fail"
    report = ExceptionReporter(caught["request"], *caught["exc_info"]).get_traceback_text()
    return response, report
