from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("consultation/", views.book, name="book"),
    path("consultation/slots.json", views.slots_json, name="slots"),
    path("consultation/booked/", views.booked, name="booked"),
    path("consultation/manage/<str:token>/", views.manage, name="manage"),
    path("consultation/waitlist/", views.waitlist, name="waitlist"),
]
