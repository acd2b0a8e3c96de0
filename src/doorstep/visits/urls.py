from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("c/<int:center_id>/visit", views.scan, name="scan"),
    path("visits/<int:visit_id>/leave", views.leave, name="leave"),
    path("s/<int:site_id>/<str:code>", views.site_scan, name="site_scan"),
    path("staff/visits/sites/<int:site_id>/poster", views.site_poster, name="site_poster"),
    path("routes/", views.route_list, name="routes"),
    path("routes/<int:route_id>/", views.route_detail, name="route"),
    path("staff/visits/", views.staff_home, name="staff_home"),
    path("staff/visits/centers/<int:center_id>/poster.svg", views.poster, name="poster"),
    path("staff/visits/centers/<int:center_id>/door", views.door, name="door"),
    path("staff/visits/centers/<int:center_id>/tally", views.tally, name="tally"),
    path("staff/visits/centers/<int:center_id>/tally/undo", views.tally_undo, name="tally_undo"),
    path("staff/visits/centers/<int:center_id>/services", views.ledger, name="ledger"),
    path(
        "staff/visits/centers/<int:center_id>/services/<int:record_id>/undo",
        views.ledger_undo,
        name="ledger_undo",
    ),
    path("staff/visits/services/import", views.ledger_import, name="ledger_import"),
    path("staff/visits/routes/new", views.route_new, name="route_new"),
    path("staff/visits/routes/<int:route_id>/edit", views.route_edit, name="route_edit"),
]
