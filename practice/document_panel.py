"""The core's panel on a client's page (``practice.client_panels``): her documents.

Her newest private files (signed consents, referral letters, uploads), each
with its download through the audited view (``practice_clientdocument_download``),
whether her portal lists it, and the way to upload one for her. The list of
all documents is out of the sidebar (``workspace_section = None``): this
panel is the way in, filtered to her. Registered by ``PracticeConfig.ready()``;
one query however many documents she has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from .calendar.display import in_practice_time
from .client_panels import client_panel
from .models import Client, ClientDocument

SHOWN = 10


@client_panel(
    "practice.documents",
    title="Documents",
    order=70,
    template="practice/admin/client_panel_documents.html",
    permission="practice.view_clientdocument",
)
def documents(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    newest = list(
        ClientDocument.objects.filter(client=client).order_by("-created_at", "-id")[: SHOWN + 1]
    )
    return {
        "documents": [
            {
                "document": document,
                "added": in_practice_time(document.created_at, now=now),
                "url": reverse("admin:practice_clientdocument_change", args=[document.pk]),
                "download_url": reverse(
                    "admin:practice_clientdocument_download", args=[document.pk]
                ),
            }
            for document in newest[:SHOWN]
        ],
        "more": len(newest) > SHOWN,
        "upload_url": f"{reverse('admin:practice_clientdocument_add')}?client={client.pk}"
        if request.user.has_perm("practice.add_clientdocument")
        else "",
        "list_url": f"{reverse('admin:practice_clientdocument_changelist')}"
        f"?client__id__exact={client.pk}",
    }
