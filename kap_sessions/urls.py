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
