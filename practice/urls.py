from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import invitation_views, views
from .calendar import feed as calendar_feed

# The admin's own login form is replaced by allauth's, so staff logins get the
# same rate limits and second factor as every other login.
# (admin.site is the workspace: practice/admin_site.py.)
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("how-it-works/", views.how_it_works, name="how_it_works"),
    path("terms/", views.terms, name="terms"),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    # A portal invitation's link, beside allauth's pages (practice/invitation_views.py).
    path("accounts/welcome/", invitation_views.invitation_welcome, name="invitation_welcome"),
    path(
        "accounts/welcome/<str:token>/",
        invitation_views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "accounts/welcome/<str:token>/new/",
        invitation_views.invitation_renew,
        name="invitation_renew",
    ),
    # The therapist's calendar subscription (practice/calendar/feed.py).
    path("calendar/feed/<str:token>.ics", calendar_feed.calendar_feed, name="calendar_feed"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    *[path("", include(module)) for module in settings.PRACTICE_APP_URLCONFS],
]

if settings.DEBUG:
    # Uploaded files (article images) in the quick start; production serves
    # MEDIA_ROOT from the web server or object storage in front of Django.
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "practice.views.bad_request"
handler403 = "practice.views.permission_denied"
handler404 = "practice.views.page_not_found"
handler500 = "practice.views.server_error"
