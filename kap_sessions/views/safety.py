"""The calm page of who she can reach right now: /portal/support/.

Shown at once after an answer that raises a safety flag (the intake's
"thoughts of ending your life now", PHQ-9 item 9, EPDS item 10), and open to
her at any time. It names the 988 Suicide & Crisis Lifeline, the Postpartum
Support International HelpLine and 911, with links a phone can call or text.
It says the therapist has been told only when that is true: while one of
her safety flags is open (its alert is on its way through the outbox).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ..models import Intake, SafetyFlag, SafetyFlagStatus
from .access import PortalRequest, portal_client_required

# The portal's home, as the URL contract names it.
PORTAL_HOME = "/portal/"


@portal_client_required
@require_http_methods(["GET"])
def crisis(request: PortalRequest) -> HttpResponse:
    told = SafetyFlag.objects.filter(client=request.client, status=SafetyFlagStatus.OPEN).exists()
    intake_open = Intake.objects.filter(client=request.client, submitted_at__isnull=True).exists()
    return render(
        request,
        "kap_sessions/portal/safety.html",
        {
            "therapist_told": told,
            "home": PORTAL_HOME,
            "intake_url": reverse("kap_sessions:portal_intake") if intake_open else "",
        },
    )
