"""Small helpers the KAP admin modules share."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html


def her_preparation_link(client_id: int) -> str:
    return format_html(
        '<a href="{}">Eligibility and safety</a>',
        reverse("admin:kap_sessions_client_eligibility", args=[client_id]),
    )
