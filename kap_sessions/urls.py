from django.urls import path  # noqa: F401

app_name = "kap_sessions"

urlpatterns: list = []  # type: ignore[type-arg]
