"""URLs of the KAP app, included at the root (``settings.PRACTICE_APP_URLCONFS``).

Courses are managed in the admin; the app serves the client portal's pages (/portal/...).
"""

from django.urls import URLPattern, URLResolver, path

from .views import consents, documents, intake, portal, questionnaires, safety

app_name = "kap_sessions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/", portal.portal_home, name="portal_home"),
    path("portal/profile/", portal.portal_profile, name="portal_profile"),
    path(
        "portal/appointments/<int:appointment_id>.ics",
        portal.portal_appointment_ics,
        name="portal_appointment_ics",
    ),
    path("portal/intake/", intake.intake, name="portal_intake"),
    path("portal/support/", safety.crisis, name="portal_safety"),
    path("portal/consents/<int:pk>/", consents.consent_detail, name="portal_consent"),
    path("portal/documents/<int:pk>/", documents.document_download, name="portal_document"),
    path(
        "portal/questionnaires/<slug:slug>/",
        questionnaires.questionnaire,
        name="portal_questionnaire",
    ),
    path(
        "portal/questionnaires/<slug:slug>/thanks/",
        questionnaires.questionnaire_thanks,
        name="portal_questionnaire_thanks",
    ),
]

# Issue 11: the course's paperwork (kap_sessions/views/paperwork.py). Her
# portal's downloads, and the therapist's (staff only, behind the admin's gate;
# outside /admin/, whose catch-all answers every path there).
from .views import paperwork  # noqa: E402

urlpatterns += [
    path(
        "portal/paperwork/course-summary/<int:pk>/",
        paperwork.portal_course_summary,
        name="portal_course_summary",
    ),
    path(
        "portal/paperwork/superbills/<int:pk>/",
        paperwork.portal_superbill,
        name="portal_superbill",
    ),
    path(
        "portal/paperwork/estimates/<int:pk>/",
        paperwork.portal_estimate,
        name="portal_estimate",
    ),
    path(
        "portal/paperwork/estimates/<int:pk>/pdf/",
        paperwork.portal_estimate_pdf,
        name="portal_estimate_pdf",
    ),
    path(
        "workspace/documents/course-summary/<int:pk>/",
        paperwork.admin_course_summary_pdf,
        name="admin_course_summary_pdf",
    ),
    path(
        "workspace/documents/session-record/<int:pk>/",
        paperwork.admin_dosing_record_pdf,
        name="admin_dosing_record_pdf",
    ),
    path(
        "workspace/documents/superbill/<int:pk>/",
        paperwork.admin_superbill_pdf,
        name="admin_superbill_pdf",
    ),
    path(
        "workspace/documents/estimate/<int:pk>/",
        paperwork.admin_estimate_pdf,
        name="admin_estimate_pdf",
    ),
]

# Issue 12: "Download my data", her whole record as a ZIP (kap_sessions/views/export.py).
from .views import export  # noqa: E402

urlpatterns += [path("portal/export/", export.portal_export, name="portal_export")]
