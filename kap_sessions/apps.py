from django.apps import AppConfig


class KapSessionsConfig(AppConfig):
    name = "kap_sessions"
    verbose_name = "KAP courses"
