from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("activities/", views.activity_list, name="list"),
    path("activities/<int:activity_id>/", views.activity_detail, name="detail"),
    path("activities/<int:activity_id>/register", views.register, name="register"),
    path("me/registrations/", views.my_registrations, name="mine"),
    path("me/registrations/<int:registration_id>/cancel", views.cancel, name="cancel"),
    path("me/registrations/<int:registration_id>/accept", views.accept_offer, name="accept"),
    path("me/registrations/<int:registration_id>/ticket/", views.ticket, name="ticket"),
    path("t/<str:token>", views.ticket_link, name="ticket_link"),
    path(
        "me/registrations/<int:registration_id>.ics",
        views.registration_ics,
        name="registration_ics",
    ),
    path("centers/<int:center_id>/schedule.ics", views.center_schedule_ics, name="center_ics"),
    path("centers/<int:center_id>/lobby/", views.lobby, name="lobby"),
]
