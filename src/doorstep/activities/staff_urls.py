from django.urls import path

from . import staff_places
from . import staff_views as views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("activities/new", views.activity_new, name="activity_new"),
    path("activities/<int:activity_id>", views.activity_detail, name="activity"),
    path("activities/<int:activity_id>/edit", views.activity_edit, name="activity_edit"),
    path("activities/<int:activity_id>/publish", views.activity_publish, name="publish"),
    path("activities/<int:activity_id>/cancel", views.activity_cancel, name="cancel"),
    path("activities/<int:activity_id>/message", views.activity_message, name="message"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("centers/<int:center_id>/location", staff_places.center_location, name="center_location"),
    path("checkin-sw.js", views.checkin_service_worker, name="checkin_sw"),
    path("activities/<int:activity_id>/desk", views.desk, name="desk"),
    path(
        "activities/<int:activity_id>/desk/household",
        views.desk_household_new,
        name="desk_household",
    ),
    path("activities/<int:activity_id>/desk/register", views.desk_register, name="desk_register"),
    path("activities/<int:activity_id>/desk/slip", views.desk_slip, name="desk_slip"),
    path("activities/<int:activity_id>/roster", views.roster, name="roster"),
    path("activities/<int:activity_id>/roster.csv", views.roster_csv, name="roster_csv"),
    path("activities/<int:activity_id>/roster.xlsx", views.roster_xlsx, name="roster_xlsx"),
    path(
        "activities/<int:activity_id>/registrations/<int:registration_id>/cancel",
        views.registration_cancel,
        name="registration_cancel",
    ),
    path("activities/<int:activity_id>/checkin", views.checkin_page, name="checkin"),
    path(
        "activities/<int:activity_id>/checkin/counts",
        views.checkin_counts_view,
        name="checkin_counts",
    ),
    path("activities/<int:activity_id>/checkin/sync", views.checkin_sync, name="checkin_sync"),
    path("activities/<int:activity_id>/walk-ins", views.walk_ins, name="walk_ins"),
    path("activities/<int:activity_id>/draw", views.draw_report, name="draw"),
    path("series/new", views.series_new, name="series_new"),
]
