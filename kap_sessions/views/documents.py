"""Her documents in the portal: /portal/documents/<id>/ downloads one.

Only her own documents that are shown to her (``ClientDocument.objects.shown_to``)
are found, so another client's id, or a file the therapist keeps to
herself, is a 404 (audited as ``not_found``). The bytes go out through ``private_file_response``,
which checks their hash and writes the audit line.
"""

from __future__ import annotations

from django.http import FileResponse
from django.views.decorators.http import require_GET

from practice.models import ClientDocument
from practice.private_files import private_file_response

from .access import PortalRequest, audits_itself, her_object_or_404, portal_client_required


@portal_client_required
@audits_itself
@require_GET
def document_download(request: PortalRequest, pk: int) -> FileResponse:
    document = her_object_or_404(request, ClientDocument.objects.shown_to(request.client), pk=pk)
    document.client = request.client  # the audit line names her without a query
    return private_file_response(request, document)
