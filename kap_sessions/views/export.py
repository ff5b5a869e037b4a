"""Her portal's "Download my data": her whole record as a ZIP (``practice.privacy``).

GET shows what the download holds; the POST answers with the ZIP and writes
one ``export`` audit line. Only her own record (``request.client``), and never
psychotherapy notes, which are kept apart from her record.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from practice.privacy import client_export_response

from .access import PortalRequest, audits_itself, portal_client_required

__all__ = ["portal_export"]


@require_http_methods(["GET", "POST"])
@portal_client_required
@audits_itself
def portal_export(request: PortalRequest) -> HttpResponse:
    if request.method == "POST":
        return client_export_response(request, request.client, include_psychotherapy=False)
    return render(request, "kap_sessions/portal/export.html", {"client": request.client})
