from django.urls import path

from . import views
from .feeds import ArticlesFeed

app_name = "newsletter"

urlpatterns = [
    path("newsletter/", views.signup, name="signup"),
    path("newsletter/thanks/", views.thanks, name="thanks"),
    path("newsletter/confirm/<str:token>/", views.confirm, name="confirm"),
    path("newsletter/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("newsletter/preferences/<str:token>/", views.preferences, name="preferences"),
    path(
        "newsletter/preferences/<str:token>/data.json",
        views.preferences_data,
        name="preferences_data",
    ),
    path(
        "newsletter/preferences/<str:token>/delete/",
        views.preferences_delete,
        name="preferences_delete",
    ),
    path("articles/", views.article_list, name="article_list"),
    path("articles/feed/", ArticlesFeed(), name="article_feed"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
]
