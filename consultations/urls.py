from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("consultation/", views.book, name="book"),
    path("consultation/slots.json", views.slots_json, name="slots"),
    path("consultation/booked/", views.booked, name="booked"),
    path("consultation/manage/<str:token>/", views.manage, name="manage"),
    path(
        "consultation/manage/<str:token>/reschedule/",
        views.manage_reschedule,
        name="manage_reschedule",
    ),
    path("consultation/manage/<str:token>/cancel/", views.manage_cancel, name="manage_cancel"),
    path("consultation/waitlist/", views.waitlist, name="waitlist"),
]
