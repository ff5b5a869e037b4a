"""URLs of the KAP app, included at the root (``settings.PRACTICE_APP_URLCONFS``).

Courses are managed in the admin, so the app serves no page of its own.
"""

from django.urls import URLPattern, URLResolver

app_name = "kap_sessions"

urlpatterns: list[URLPattern | URLResolver] = []
